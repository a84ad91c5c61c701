/**
 * llhttp as an oracle: a `node:http` server on 127.0.0.1, port 0, with Node's
 * own parser in its strict mode (insecureHTTPParser: false) and default limits.
 * `ask(bytes)` writes the bytes over one fresh `net` socket, half-closes it and
 * reports what Node made of them: each request it delivered (method, url,
 * version, raw headers, the body bytes it read, raw trailers, whether the
 * message completed), a CONNECT or Upgrade it handed over (with the bytes after
 * the head, which Node no longer parses), and the parser error Node's
 * 'clientError' event gave, if any.
 *
 * Choices that keep this about framing, not about Node's server policy:
 * - requireHostHeader: false. With it, Node (not llhttp) answers a Host-less
 *   HTTP/1.1 request with its own 400 and no event; our framer refuses it too,
 *   so the comparison names that rule instead (see compare.ts).
 * - No response is written while input comes: a response with
 *   `Connection: close` (HTTP/1.0, or asked for) would make Node close before it
 *   read the rest. The connection ends when the client's FIN has been parsed
 *   (Node's parser.finish() runs first: an unfinished message is then a
 *   clientError HPE_INVALID_EOF_STATE) or at the first clientError.
 * - 'checkContinue' and 'checkExpectation' are handled like 'request', so that
 *   `Expect:` does not hide a request (Node answers 417 and drops it otherwise).
 * - 'connect' and 'upgrade' have listeners: without an 'upgrade' listener Node
 *   silently drops whatever follows an upgrade request, which would look like a
 *   framing difference. Both end the exchange; compare.ts compares up to them.
 */
import http, { type IncomingMessage } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";

export type LlhttpEventKind = "request" | "connect" | "upgrade";

export interface LlhttpRequest {
  kind: LlhttpEventKind;
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  /** The body bytes Node delivered (decoded from chunks); for connect/upgrade, what Node 26 reads of an upgrade's body. */
  body: Buffer;
  /** The message was complete (always true for connect/upgrade, whose head is complete). */
  complete: boolean;
  rawTrailers: string[];
  /** For connect/upgrade: the bytes after the head, which Node hands over unparsed. */
  head: Buffer | null;
}

export interface LlhttpVerdict {
  events: LlhttpRequest[];
  /** err.code of the server's 'clientError' (HPE_...), or null. */
  error: string | null;
  /** err.reason / message. */
  reason: string;
  /** The exchange did not end in time (should not happen; counted apart). */
  timeout: boolean;
}

interface ConnRecord {
  events: { req: IncomingMessage; kind: LlhttpEventKind; body: Buffer[]; head: Buffer | null }[];
  error: string | null;
  reason: string;
  closed: boolean;
  onClosed: (() => void) | null;
}

export interface LlhttpOracle {
  ask(bytes: Uint8Array): Promise<LlhttpVerdict>;
  /** process.versions.llhttp */
  readonly version: string;
  close(): Promise<void>;
}

const newRecord = (): ConnRecord => ({ events: [], error: null, reason: "", closed: false, onClosed: null });

export async function startOracle(options: { timeoutMs?: number } = {}): Promise<LlhttpOracle> {
  const timeoutMs = options.timeoutMs ?? 3000;
  // Keyed by the client's local port (the server socket's remotePort): either side may see the connection first.
  const conns = new Map<number, ConnRecord>();
  const record = (port: number | undefined): ConnRecord => {
    const key = port ?? -1;
    let rec = conns.get(key);
    if (rec === undefined) {
      rec = newRecord();
      conns.set(key, rec);
    }
    return rec;
  };
  const serverSockets = new Set<Socket>();

  const server = http.createServer({ insecureHTTPParser: false, requireHostHeader: false });
  // Timers that could fire during a run are off; the exchange is bounded by timeoutMs instead.
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 0;

  const onRequest = (req: IncomingMessage, res: http.ServerResponse): void => {
    const body: Buffer[] = [];
    record(req.socket.remotePort).events.push({ req, kind: "request", body, head: null });
    req.on("data", (d: Buffer) => body.push(Buffer.from(d)));
    req.on("error", () => {});
    res.on("error", () => {});
  };
  server.on("request", onRequest);
  server.on("checkContinue", onRequest);
  server.on("checkExpectation", onRequest);
  const onTunnel =
    (kind: LlhttpEventKind) =>
    (req: IncomingMessage, socket: Socket, head: Buffer): void => {
      // Node 26 hands an upgrade with a body over as a stream of its own, without remotePort: key by req.socket.
      const body: Buffer[] = [];
      record(req.socket.remotePort ?? socket.remotePort).events.push({ req, kind, body, head: Buffer.from(head) });
      req.on("data", (d: Buffer) => body.push(Buffer.from(d)));
      req.on("error", () => {});
      socket.on("error", () => {});
      socket.destroy();
    };
  server.on("connect", onTunnel("connect"));
  server.on("upgrade", onTunnel("upgrade"));
  server.on("clientError", (err: Error & { code?: string; reason?: string }, socket: Socket) => {
    const rec = record(socket.remotePort);
    if (rec.error === null) {
      rec.error = err.code ?? "ERR";
      rec.reason = err.reason ?? err.message;
    }
    socket.destroy();
  });
  server.on("connection", (socket: Socket) => {
    serverSockets.add(socket);
    const rec = record(socket.remotePort);
    socket.on("error", () => {});
    // Node's own 'end' listener (parser.finish()) runs before this one.
    socket.on("end", () => setImmediate(() => socket.destroy()));
    socket.on("close", () => {
      serverSockets.delete(socket);
      setImmediate(() => {
        rec.closed = true;
        rec.onClosed?.();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const ask = async (bytes: Uint8Array): Promise<LlhttpVerdict> => {
    const client = net.connect({ port, host: "127.0.0.1" });
    client.on("error", () => {});
    client.on("data", () => {});
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("error", reject);
    });
    const localPort = client.localPort!;
    const rec = record(localPort);
    let timedOut = false;
    await new Promise<void>((resolve) => {
      if (rec.closed) return resolve();
      const timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, timeoutMs);
      rec.onClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      client.end(Buffer.from(bytes));
    });
    client.destroy();
    conns.delete(localPort);
    return {
      events: rec.events.map(({ req, kind, body, head }) => ({
        kind,
        method: req.method ?? "",
        url: req.url ?? "",
        httpVersion: req.httpVersion,
        rawHeaders: [...req.rawHeaders],
        body: Buffer.concat(body),
        complete: kind !== "request" || req.complete,
        rawTrailers: [...req.rawTrailers],
        head,
      })),
      error: rec.error,
      reason: rec.reason,
      timeout: timedOut,
    };
  };

  return {
    ask,
    version: process.versions.llhttp ?? "unknown",
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of serverSockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
