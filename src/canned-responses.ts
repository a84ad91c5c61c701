/**
 * The listener's own responses, for requests no callback answers: a status
 * line, a plain-text one-line body and `Connection: close`. Built once per
 * status and reused.
 */
import { STATUS_CODES } from "node:http";

const cache = new Map<number, Buffer>();

/**
 * The complete response the listener writes itself for `status`. Without
 * `close`, it leaves out `Connection: close`: for Close's 503s to pipelined
 * requests, all but the last of which keep the connection for the next answer.
 * To a HEAD request it is the head alone (its Content-Length is the body's a
 * GET would get): a client reads no body after a HEAD answer.
 */
export function cannedResponse(status: number, close = true, head = false): Buffer {
  const key = status * 4 + (close ? 2 : 0) + (head ? 1 : 0);
  let bytes = cache.get(key);
  if (bytes === undefined) {
    const reason = STATUS_CODES[status] ?? "Error";
    const body = `${status} ${reason}\n`;
    bytes = Buffer.from(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? "Connection: close\r\n" : ""}\r\n${head ? "" : body}`,
      "latin1",
    );
    cache.set(key, bytes);
  }
  return bytes;
}

/** RFC 9110 15.2.1: the interim answer to `Expect: 100-continue`. */
export const CONTINUE_RESPONSE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
