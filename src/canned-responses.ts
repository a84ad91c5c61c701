/**
 * The listener's own responses, for requests no callback answers: a status
 * line, a plain-text one-line body and `Connection: close` (contract section 2).
 * Built once per status and reused.
 */
import { STATUS_CODES } from "node:http";

const cache = new Map<number, Buffer>();

/** The complete response the listener writes itself for `status`. */
export function cannedResponse(status: number): Buffer {
  let bytes = cache.get(status);
  if (bytes === undefined) {
    const reason = STATUS_CODES[status] ?? "Error";
    const body = `${status} ${reason}\n`;
    bytes = Buffer.from(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      "latin1",
    );
    cache.set(status, bytes);
  }
  return bytes;
}

/** RFC 9110 15.2.1: the interim answer to `Expect: 100-continue`. */
export const CONTINUE_RESPONSE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
