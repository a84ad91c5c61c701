/**
 * Test support: talk raw bytes to a listener over TCP on 127.0.0.1 and collect
 * everything it sends back until it closes the connection or a time limit.
 */
import { connect, type Socket } from "node:net";

export interface RawReply {
  /** Every byte received. */
  data: Buffer;
  /** The server closed the connection (end or reset) before the time limit. */
  closed: boolean;
}

export interface RawOptions {
  /** Pause between written pieces, ms. @default 0 */
  gapMs?: number;
  /** Stop waiting after this long, ms. @default 3000 */
  timeoutMs?: number;
  /** Half-close (send FIN) after the last piece. @default false */
  end?: boolean;
}

/** Connect, write `pieces` in order, and collect the reply. */
export function sendRaw(port: number, pieces: Array<string | Uint8Array>, options: RawOptions = {}): Promise<RawReply> {
  const { gapMs = 0, timeoutMs = 3000, end = false } = options;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: "127.0.0.1" });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(received), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (d) => received.push(d));
    socket.on("close", () => finish(true));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNRESET" || err.code === "EPIPE") return;
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on("connect", async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(typeof piece === "string" ? Buffer.from(piece, "latin1") : piece);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (end) socket.end();
    });
  });
}

/**
 * The status codes of the responses in `data`, in order, read one after the
 * other by their Content-Length (1xx, 204 and 304 have no body; a response
 * without Content-Length runs to the end).
 */
export function statuses(data: Buffer): number[] {
  const text = data.toString("latin1");
  const found: number[] = [];
  let at = 0;
  while (at < text.length) {
    const m = /^HTTP\/1\.[01] (\d{3})[ \r]/.exec(text.slice(at, at + 16));
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (!m || headEnd < 0) break;
    const status = Number(m[1]);
    found.push(status);
    const head = text.slice(at, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const noBody = status < 200 || status === 204 || status === 304;
    at = headEnd + 4 + (noBody ? 0 : length ? Number(length[1]) : text.length);
  }
  return found;
}

/**
 * Each response in `text` (one after another, their bodies on one line, as the response helpers write
 * short text answers), as its body and whether its head says `Connection: close`.
 */
export function bodiesAndClose(text: string): Array<[string, boolean]> {
  return text
    .split(/(?=HTTP\/1\.1 )/)
    .map((a) => [a.slice(a.lastIndexOf("\n") + 1), /\r\nConnection: close\r\n/.test(a)]);
}
