/**
 * `responseKeepsAlive` (src/response-head.ts) against the clients that read
 * the responses: Node's own `http` client (llhttp's response parser) and,
 * optionally, curl.
 *
 * When the listener keeps a connection open after a response R, the client
 * must (a) read R as exactly its bytes: the final status, the interim 1xx
 * heads, the body that R carries (Content-Length bytes, or the decoded chunks),
 * ending where R ends; and (b) then read the next response S on the same
 * connection as a response of its own. Anything else is a response desync, or
 * at least a response a strict client refuses while we keep its connection
 * open. When we close after R nothing can go wrong, and those inputs are only
 * counted.
 *
 * The server (`startResponseOracle`) is a raw `net` server on 127.0.0.1, port
 * 0. Request paths name a registered case: `/r/<key>/1` is answered with R's
 * bytes, unchanged, and the connection stays open; `/r/<key>/2` is answered
 * with S on whichever connection it comes. That is what the listener writes
 * for a client that waits for each response before it sends the next request,
 * as Node's client and curl do.
 *
 * Node's client is driven through an `http.Agent` with `keepAlive: true` and
 * `maxSockets: 1`, one agent per exchange: the second request waits for the
 * first one's socket and goes out on it if, and only if, Node decided that
 * socket may be reused. `agent: false` could not show (b) at all.
 *
 * The same exchange with R and S in one write (oracle `node-b2b`, as the
 * listener writes them to a client that pipelined its second request) checks
 * what the first mode cannot see: Node frees its parser after a complete
 * response, so bytes after R's end in the same read that are only the start
 * of a response (or CR LF) are dropped without an error. Back to back, they
 * run into S's bytes and fail the parser. Node's client treats a well-formed
 * response it did not ask for as a "double response" and destroys the socket
 * without an error, so in that mode (b) is "no parser error on S's bytes".
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REQUEST_FLAGS } from "../../src/framer.js";
import { responseKeepsAlive } from "../../src/response-head.js";
import { escapeBytes } from "../fixtures/requests/load.js";
import type { ResponseInput } from "./response-keepalive-inputs.js";

/** The next response, well-formed, which the client must read cleanly after R. */
export const NEXT = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext", "latin1");
const NEXT_HEAD = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "latin1");

export type FlagSetName = "GET" | "HEAD" | "HTTP10";

/** The requests R answers: a plain HTTP/1.1 GET, a HEAD, and an HTTP/1.0 GET with `Connection: keep-alive`. */
export const FLAG_SETS: readonly { name: FlagSetName; flags: number; method: "GET" | "HEAD" }[] = [
  { name: "GET", flags: 0, method: "GET" },
  { name: "HEAD", flags: REQUEST_FLAGS.HEAD, method: "HEAD" },
  // Node's client sends only HTTP/1.1; it reads R the same whatever the request's version, and our HTTP/1.0 rule
  // keeps alive after a subset of what it keeps alive after for HTTP/1.1. curl --http1.0 sends a real one.
  { name: "HTTP10", flags: REQUEST_FLAGS.HTTP10 | REQUEST_FLAGS.KEEP_ALIVE, method: "GET" },
];

/** `node-b2b`: Node's client with R and S written back to back (see above). */
export type OracleName = "node" | "node-b2b" | "curl";

/**
 * - `agree`: we keep alive; the client read R exactly and S cleanly on the same connection.
 * - `client-closes`: we keep alive; the client read R exactly, then chose to close (it read a close signal we do not
 *   read) and fetched S over a new connection. Harmless.
 * - `client-rejects`: we keep alive; the client refused R (a parser error). A strict client closes; a lenient one may
 *   read R differently: we should close.
 * - `client-waits`: we keep alive; the client waited for more of R than R has (it would read S as part of R).
 * - `reads-differently`: we keep alive; the client read another status, 1xx list or body than R carries.
 * - `ends-early`: we keep alive; the client read R, then refused (or silently dropped the connection over) bytes of
 *   R it did not count as part of it.
 * - `next-broken`: we keep alive; R was read exactly, but S did not come out cleanly on the same connection.
 * - `we-close`: we close after R: nothing can go wrong.
 */
export type ResponseClass =
  | "agree"
  | "client-closes"
  | "client-rejects"
  | "client-waits"
  | "reads-differently"
  | "ends-early"
  | "next-broken"
  | "we-close";

export const CLASS_ORDER: readonly ResponseClass[] = [
  "agree",
  "client-closes",
  "we-close",
  "client-rejects",
  "client-waits",
  "reads-differently",
  "ends-early",
  "next-broken",
];

/** The classes where we keep a connection open that we should not. */
export const FINDINGS: ReadonlySet<ResponseClass> = new Set([
  "client-rejects",
  "client-waits",
  "reads-differently",
  "ends-early",
  "next-broken",
]);

/** Desync proper: the client accepted R but read it, or what follows, differently. */
export const DESYNC: ReadonlySet<ResponseClass> = new Set([
  "client-waits",
  "reads-differently",
  "ends-early",
  "next-broken",
]);

// ---- what R carries, read the way the listener frames it ---------------------

export interface ExpectedReading {
  informational: number[];
  status: number;
  /** The body: the decoded chunks, or the bytes after the head. */
  body: Buffer;
  /** Where the final head ends in R. */
  bodyStart: number;
}

/**
 * R as a client should read it if the listener is right to keep the connection
 * open: interim 1xx heads, then the final head, then the body by the last
 * Transfer-Encoding coding (chunked) or else by the rest of the bytes. Written
 * apart from src/response-head.ts, and only asked about responses it keeps
 * alive after; null when even that reading fails.
 */
export function expectedReading(r: Buffer, head: boolean): ExpectedReading | null {
  const s = r.toString("latin1");
  const informational: number[] = [];
  let at = 0;
  for (;;) {
    const end = s.indexOf("\r\n\r\n", at);
    if (end < 0) return null;
    const lines = s.slice(at, end).split("\r\n");
    const status = Number(lines[0]!.slice(9, 12));
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      informational.push(status);
      at = bodyStart;
      continue;
    }
    if (head || status === 204 || status === 304) return { informational, status, body: Buffer.alloc(0), bodyStart };
    let lastCoding = "";
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (line.slice(0, colon).toLowerCase() !== "transfer-encoding") continue;
      lastCoding = line
        .slice(colon + 1)
        .split(",")
        .at(-1)!
        .replace(/^[ \t]+|[ \t]+$/g, "")
        .toLowerCase();
    }
    if (lastCoding !== "chunked") return { informational, status, body: r.subarray(bodyStart), bodyStart };
    const body = decodeChunked(s, bodyStart);
    return body === null ? null : { informational, status, body, bodyStart };
  }
}

/** A Transfer-Encoding line names a coding other than chunked. */
export function otherCoding(r: Buffer): boolean {
  return [...r.toString("latin1").matchAll(/\r\ntransfer-encoding:([^\r\n]*)/gi)].some((m) =>
    m[1]!.split(",").some((c) => !/^[ \t]*(chunked)?[ \t]*$/i.test(c)),
  );
}

function decodeChunked(s: string, at: number): Buffer | null {
  const parts: Buffer[] = [];
  let i = at;
  for (;;) {
    const m = /^[0-9a-fA-F]+/.exec(s.slice(i, i + 32));
    if (m === null) return null;
    const size = Number.parseInt(m[0], 16);
    const eol = s.indexOf("\r\n", i);
    if (eol < 0) return null;
    i = eol + 2;
    if (size === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(s.slice(i, i + size), "latin1"));
    i += size + 2;
  }
}

// ---- the server ---------------------------------------------------------------

interface Registered {
  r: Buffer;
  keepOpen: boolean;
  backToBack: boolean;
  /** Server connection number that carried request 1 and request 2 (index 1, 2). */
  conns: (number | null)[];
}

export interface ResponseOracle {
  readonly port: number;
  /** Node's http client: one exchange, or two when we keep alive (and not back to back). */
  node(r: Buffer, method: "GET" | "HEAD", keepOpen: boolean, backToBack?: boolean): Promise<NodeVerdict>;
  /** curl with two URLs on one connection (it reuses the connection when it may). */
  curl(r: Buffer, set: FlagSetName, keepOpen: boolean): Promise<CurlVerdict>;
  close(): Promise<void>;
}

export interface OracleOptions {
  /** Bound on each request of an exchange. */
  timeoutMs?: number;
}

export async function startResponseOracle(options: OracleOptions = {}): Promise<ResponseOracle> {
  const timeoutMs = options.timeoutMs ?? 1500;
  const cases = new Map<string, Registered>();
  const sockets = new Set<Socket>();
  let nextKey = 0;
  let nextConn = 0;

  const server = net.createServer((socket) => {
    const conn = ++nextConn;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const line = buf.subarray(0, buf.indexOf("\r\n")).toString("latin1");
        buf = buf.subarray(end + 4);
        const [method, path] = line.split(" ");
        const m = /^\/r\/(\d+)\/([12])$/.exec(path ?? "");
        const reg = m === null ? undefined : cases.get(m[1]!);
        if (m === null || reg === undefined) {
          socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          return;
        }
        const n = Number(m[2]);
        reg.conns[n] = conn;
        if (n === 1) {
          socket.write(reg.backToBack ? Buffer.concat([reg.r, NEXT]) : reg.r);
          if (!reg.keepOpen) socket.end();
        } else {
          socket.write(method === "HEAD" ? NEXT_HEAD : NEXT);
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), "response-keepalive-"));

  const register = (r: Buffer, keepOpen: boolean, backToBack: boolean): [string, Registered] => {
    const key = String(nextKey++);
    const reg: Registered = { r, keepOpen, backToBack: backToBack && keepOpen, conns: [null, null, null] };
    cases.set(key, reg);
    return [key, reg];
  };

  const node = async (
    r: Buffer,
    method: "GET" | "HEAD",
    keepOpen: boolean,
    backToBack = false,
  ): Promise<NodeVerdict> => {
    const [key, reg] = register(r, keepOpen, backToBack);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await nodeRequest(port, agent, method, `/r/${key}/1`, timeoutMs);
      let second: NodeReading | null = null;
      if (keepOpen && !reg.backToBack && first.ended && first.error === null) {
        second = await nodeRequest(port, agent, "GET", `/r/${key}/2`, timeoutMs);
      }
      return { first, second, conn1: reg.conns[1] ?? null, conn2: reg.conns[2] ?? null, backToBack: reg.backToBack };
    } finally {
      agent.destroy();
      cases.delete(key);
    }
  };

  const curl = async (r: Buffer, set: FlagSetName, keepOpen: boolean): Promise<CurlVerdict> => {
    const [key, reg] = register(r, keepOpen, false);
    const f1 = join(dir, `${key}-1`);
    const f2 = join(dir, `${key}-2`);
    const args = [
      "-s",
      "-v",
      "--noproxy",
      "*",
      set === "HTTP10" ? "--http1.0" : "--http1.1",
      "-m",
      String(timeoutMs / 1000),
      "-w",
      "%{exitcode} %{http_code} %{size_download} %{num_connects} %{errormsg}\\n",
    ];
    // curl decodes a gzip transfer coding itself (and fails on bytes that are not gzip): --raw turns decoding off
    // where R has a coding other than chunked; curl then writes the body bytes as they came, chunk lines included.
    if (otherCoding(r)) args.push("--raw");
    if (set === "HEAD") args.push("-I");
    if (set === "HTTP10") args.push("-H", "Connection: keep-alive");
    args.push("-o", f1, `http://127.0.0.1:${port}/r/${key}/1`, "-o", f2, `http://127.0.0.1:${port}/r/${key}/2`);
    try {
      const { stdout, stderr } = await run("curl", args, timeoutMs * 3);
      const transfers = stdout
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => {
          const [exit, code, size, connects, ...msg] = l.split(" ");
          return {
            exit: Number(exit),
            code: Number(code),
            size: Number(size),
            connects: Number(connects),
            errormsg: msg.join(" "),
          };
        });
      const read = (f: string): Buffer => {
        try {
          return readFileSync(f);
        } catch {
          return Buffer.alloc(0);
        }
      };
      const notes = stderr
        .split("\n")
        .filter((l) =>
          /Excess|Leftovers|Closing connection|Re-using|left intact|weird|Invalid|Illegal|Bad|Failed/i.test(l),
        )
        .map((l) =>
          l
            .replace(/^\* /, "")
            .replace(/#\d+/, "#")
            .replace(/port \d+/, "port")
            .trim(),
        );
      return {
        transfers,
        bodies: [read(f1), read(f2)],
        conn1: reg.conns[1] ?? null,
        conn2: reg.conns[2] ?? null,
        notes,
      };
    } finally {
      rmSync(f1, { force: true });
      rmSync(f2, { force: true });
      cases.delete(key);
    }
  };

  return {
    port,
    node,
    curl,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        rmSync(dir, { recursive: true, force: true });
        server.close(() => resolve());
      }),
  };
}

function run(cmd: string, args: string[], killAfterMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, http_proxy: "", HTTP_PROXY: "", all_proxy: "", ALL_PROXY: "", no_proxy: "*" };
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("latin1").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", () => {});
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

// ---- Node's client -------------------------------------------------------------

export interface NodeReading {
  /** Status codes of the 1xx heads Node reported ('information'). */
  informational: number[];
  status: number | null;
  httpVersion: string | null;
  rawHeaders: string[];
  body: Buffer;
  /** The response's 'end' came. */
  ended: boolean;
  /** `code: reason` of an error on the request or response (HPE_... from llhttp), or null. */
  error: string | null;
  /** The error came after 'end': bytes after what Node read as the response. */
  errorAfterEnd: boolean;
  /**
   * For an llhttp error: where in the bytes of that read it stopped (`bytesParsed`), and how many bytes the read
   * had (`rawPacket`); -1 otherwise.
   */
  errorAt: number;
  errorPacket: number;
  timeout: boolean;
  /** `req.shouldKeepAlive` at 'end': Node's own decision to reuse the socket. */
  clientKeepsAlive: boolean | null;
}

export interface NodeVerdict {
  first: NodeReading;
  /** The second request's reading, when one was sent. */
  second: NodeReading | null;
  /** Server connections that carried the first and the second request. */
  conn1: number | null;
  conn2: number | null;
  backToBack: boolean;
}

/** Errors that arrive after 'end' (bytes past the response in the same read) are waited for this long. */
const SETTLE_MS = 15;

function nodeRequest(
  port: number,
  agent: http.Agent,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<NodeReading> {
  return new Promise((resolve) => {
    const out: NodeReading = {
      informational: [],
      status: null,
      httpVersion: null,
      rawHeaders: [],
      body: Buffer.alloc(0),
      ended: false,
      error: null,
      errorAfterEnd: false,
      errorAt: -1,
      errorPacket: -1,
      timeout: false,
      clientKeepsAlive: null,
    };
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.body = Buffer.concat(chunks);
      resolve(out);
    };
    const fail = (e: Error & { code?: string; reason?: string; bytesParsed?: number; rawPacket?: Buffer }): void => {
      if (out.error === null) {
        out.error = `${e.code ?? "ERR"}: ${e.reason ?? e.message}`;
        out.errorAt = e.bytesParsed ?? -1;
        out.errorPacket = e.rawPacket?.length ?? -1;
      }
      if (out.ended) out.errorAfterEnd = true;
      else finish();
    };
    const req = http.request({ host: "127.0.0.1", port, path, method, agent });
    const timer = setTimeout(() => {
      out.timeout = true;
      finish();
      req.destroy();
    }, timeoutMs);
    req.on("information", (info: { statusCode: number }) => out.informational.push(info.statusCode));
    req.on("response", (res: http.IncomingMessage) => {
      out.status = res.statusCode ?? null;
      out.httpVersion = res.httpVersion;
      out.rawHeaders = [...res.rawHeaders];
      res.on("data", (d: Buffer) => chunks.push(Buffer.from(d)));
      res.on("error", fail);
      res.on("end", () => {
        out.ended = true;
        out.clientKeepsAlive = req.shouldKeepAlive;
        setTimeout(finish, SETTLE_MS);
      });
    });
    req.on("error", fail);
    // A 101 (we never keep alive after one): Node hands the socket over instead of a response.
    req.on("upgrade", (res: http.IncomingMessage, socket: Socket) => {
      out.status = res.statusCode ?? null;
      out.error = "UPGRADE: Node took the response for a protocol switch";
      socket.destroy();
      finish();
    });
    req.end();
  });
}

// ---- curl ---------------------------------------------------------------------

export interface CurlVerdict {
  /** Per URL: curl's exit code for it, the status, the body size, new connections made for it, the error message. */
  transfers: { exit: number; code: number; size: number; connects: number; errormsg: string }[];
  bodies: Buffer[];
  conn1: number | null;
  conn2: number | null;
  /** curl's -v lines about the connection and about what it refused. */
  notes: string[];
}

// ---- classification -------------------------------------------------------------

export interface Judgement {
  cls: ResponseClass;
  /** What kind of difference, for grouping: an HPE code and reason, or the field that differs. */
  cause: string;
  /** What the client did, in a line. */
  detail: string;
}

const nextClean = (n: NodeReading | null): boolean =>
  n?.ended === true && n.error === null && n.status === 200 && n.body.equals(Buffer.from("next"));

function describeNode(v: NodeVerdict): string {
  const f = v.first;
  const parts = [
    f.informational.length > 0 ? `1xx ${f.informational.join(",")}` : "",
    f.status === null ? "no response" : `status ${f.status} HTTP/${f.httpVersion}`,
    `body ${f.body.length} bytes${f.ended ? ", end" : ""}`,
    f.error === null ? "" : `error ${f.error}${f.errorAfterEnd ? " (after end)" : ""}`,
    f.timeout ? `timed out` : "",
    f.clientKeepsAlive === null ? "" : `shouldKeepAlive ${f.clientKeepsAlive}`,
  ];
  if (v.second !== null) {
    const s = v.second;
    parts.push(
      `second: ${v.conn2 === v.conn1 ? "same connection" : v.conn2 === null ? "never arrived" : "new connection"}, ` +
        `${s.status ?? "no response"} ${JSON.stringify(s.body.toString("latin1").slice(0, 40))}` +
        `${s.error === null ? "" : ` error ${s.error}`}${s.timeout ? " timed out" : ""}`,
    );
  }
  return parts.filter((p) => p !== "").join("; ");
}

/** Classify Node's reading of R, which we keep (or do not keep) the connection open after. */
export function judgeNode(r: Buffer, method: "GET" | "HEAD", keep: boolean, v: NodeVerdict): Judgement {
  const detail = describeNode(v);
  const f = v.first;
  if (!keep) {
    const cause = f.error !== null ? `client error ${f.error.split(":")[0]}` : f.ended ? "client read it" : "timed out";
    return { cls: "we-close", cause, detail };
  }
  if (!f.ended) {
    // Back to back, R and S usually come in one read: an error past R's bytes means Node read R into S.
    if (v.backToBack && f.error !== null && f.errorPacket === r.length + NEXT.length && f.errorAt >= r.length)
      return { cls: "client-waits", cause: "read past R into S (back to back)", detail };
    if (f.error !== null) return { cls: "client-rejects", cause: f.error, detail };
    return { cls: "client-waits", cause: f.status === null ? "waits for the head" : "waits for more body", detail };
  }
  if (v.backToBack && f.clientKeepsAlive === false && f.error?.startsWith("HPE_CLOSED_CONNECTION"))
    // Node read R as the last response of the connection; S's bytes then fail its parser and R's body is dropped.
    return { cls: "client-closes", cause: "Node chose to close; S failed its parser (back to back)", detail };
  const want = expectedReading(r, method === "HEAD");
  if (want === null)
    return { cls: "reads-differently", cause: "we keep alive on what our own reading cannot frame", detail };
  if (f.status !== want.status)
    return { cls: "reads-differently", cause: "status", detail: `${detail}; expected ${want.status}` };
  if (f.informational.join() !== want.informational.join())
    return {
      cls: "reads-differently",
      cause: "1xx heads",
      detail: `${detail}; expected ${want.informational.join(",")}`,
    };
  if (!f.body.equals(want.body))
    return {
      cls: "reads-differently",
      cause:
        f.body.length < want.body.length
          ? "shorter body"
          : f.body.length > want.body.length
            ? "longer body"
            : "other body",
      detail: `${detail}; expected ${want.body.length} bytes`,
    };
  if (f.error !== null) return { cls: "ends-early", cause: `error after the response: ${f.error}`, detail };
  if (v.backToBack) {
    // Node drops the socket over the unasked-for S ("double response"): S parsed as a head, no error, is all we can see.
    return { cls: "agree", cause: "", detail };
  }
  if (v.conn2 === v.conn1 && nextClean(v.second)) return { cls: "agree", cause: "", detail };
  if (v.conn2 !== v.conn1 && v.conn2 !== null && nextClean(v.second) && f.clientKeepsAlive === false)
    return { cls: "client-closes", cause: "Node chose not to reuse the connection", detail };
  if (v.conn2 !== v.conn1 && nextClean(v.second))
    return { cls: "ends-early", cause: "Node dropped the connection after R without an error", detail };
  return {
    cls: "next-broken",
    cause: v.second?.error ?? (v.second?.timeout ? "timed out" : "next response differs"),
    detail,
  };
}

function describeCurl(v: CurlVerdict): string {
  const t = v.transfers
    .map((x, n) => `#${n + 1} exit ${x.exit} status ${x.code} ${x.size} bytes${x.errormsg ? ` (${x.errormsg})` : ""}`)
    .join("; ");
  const conn = v.conn2 === null ? "second never arrived" : v.conn2 === v.conn1 ? "same connection" : "new connection";
  return `${t}; ${conn}${v.notes.length > 0 ? `; ${[...new Set(v.notes)].join(" | ")}` : ""}`;
}

export function judgeCurl(r: Buffer, set: FlagSetName, keep: boolean, v: CurlVerdict): Judgement {
  const detail = describeCurl(v);
  const t1 = v.transfers[0];
  const t2 = v.transfers[1];
  if (!keep) return { cls: "we-close", cause: t1 === undefined ? "no output" : `curl exit ${t1.exit}`, detail };
  if (t1 === undefined) return { cls: "client-rejects", cause: "curl gave no result", detail };
  if (t1.exit === 28) return { cls: "client-waits", cause: "curl timed out", detail };
  if (t1.exit !== 0)
    return { cls: "client-rejects", cause: `curl exit ${t1.exit}: ${t1.errormsg.replace(/\d+/g, "N")}`, detail };
  const want = expectedReading(r, set === "HEAD");
  if (want === null)
    return { cls: "reads-differently", cause: "we keep alive on what our own reading cannot frame", detail };
  if (t1.code !== want.status) return { cls: "reads-differently", cause: "status", detail };
  // With --raw curl writes the body bytes as they came, chunk lines included: all of R after the final head.
  const body = otherCoding(r) ? r.subarray(want.bodyStart) : want.body;
  if (set !== "HEAD" && !v.bodies[0]!.equals(body))
    return {
      cls: "reads-differently",
      cause: v.bodies[0]!.length < body.length ? "shorter body" : "other body",
      detail,
    };
  const excess = v.notes.some((n) => /Excess|Leftovers/i.test(n));
  const t2ok =
    t2 !== undefined &&
    t2.exit === 0 &&
    t2.code === 200 &&
    (set === "HEAD" || v.bodies[1]!.equals(Buffer.from("next")));
  if (excess) return { cls: "ends-early", cause: "curl found bytes after the response", detail };
  if (t2ok && v.conn2 === v.conn1) return { cls: "agree", cause: "", detail };
  if (t2ok && v.conn2 !== null)
    return { cls: "client-closes", cause: "curl chose not to reuse the connection", detail };
  return {
    cls: "next-broken",
    cause: t2 === undefined ? "no second transfer" : `second: curl exit ${t2.exit}`,
    detail,
  };
}

// ---- the run --------------------------------------------------------------------

export interface Outcome {
  input: ResponseInput;
  set: FlagSetName;
  oracle: OracleName;
  keep: boolean;
  judgement: Judgement;
}

export interface ResponseReport {
  /** counts[oracle][set][class] */
  counts: Record<OracleName, Record<FlagSetName, Record<ResponseClass, number>>>;
  /** Every outcome but `agree` and `we-close` (and those too with `keepAll`). */
  outcomes: Outcome[];
  inputs: number;
  exchanges: number;
  elapsedMs: number;
}

export interface RunOptions {
  /** The clients to ask; by default Node's, in both modes. */
  oracles?: OracleName[];
  /** Also ask the clients about responses we close after (the server then closes after R, as the listener does). */
  askClosed?: boolean;
  /** Keep every outcome in the report, `agree` included. */
  keepAll?: boolean;
  concurrency?: number;
}

const emptyCounts = (): Record<ResponseClass, number> =>
  Object.fromEntries(CLASS_ORDER.map((c) => [c, 0])) as Record<ResponseClass, number>;

export async function runResponseDifferential(
  oracle: ResponseOracle,
  inputs: readonly ResponseInput[],
  options: RunOptions = {},
): Promise<ResponseReport> {
  const started = Date.now();
  const oracles = options.oracles ?? ["node", "node-b2b"];
  const counts = Object.fromEntries(
    oracles.map((o) => [o, Object.fromEntries(FLAG_SETS.map((s) => [s.name, emptyCounts()]))]),
  ) as ResponseReport["counts"];
  const outcomes: Outcome[] = [];
  const tasks: (() => Promise<void>)[] = [];
  let exchanges = 0;
  for (const input of inputs) {
    for (const set of FLAG_SETS) {
      const keep = responseKeepsAlive(input.bytes, set.flags);
      for (const o of oracles) {
        const add = (judgement: Judgement): void => {
          counts[o][set.name][judgement.cls]++;
          if (options.keepAll || (judgement.cls !== "agree" && judgement.cls !== "we-close"))
            outcomes.push({ input, set: set.name, oracle: o, keep, judgement });
        };
        if (!keep && !options.askClosed) {
          add({ cls: "we-close", cause: "not asked", detail: "" });
          continue;
        }
        tasks.push(async () => {
          exchanges++;
          add(await ask(oracle, o, input.bytes, set, keep));
        });
      }
    }
  }
  await pool(tasks, options.concurrency ?? 16);
  return { counts, outcomes, inputs: inputs.length, exchanges, elapsedMs: Date.now() - started };
}

async function ask(
  oracle: ResponseOracle,
  o: OracleName,
  r: Buffer,
  set: (typeof FLAG_SETS)[number],
  keep: boolean,
): Promise<Judgement> {
  if (o === "curl") return judgeCurl(r, set.name, keep, await oracle.curl(r, set.name, keep));
  return judgeNode(r, set.method, keep, await oracle.node(r, set.method, keep, o === "node-b2b"));
}

async function pool(tasks: readonly (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
}

/** Outcomes grouped by oracle, request, class and cause, each group's shortest input first. */
export function groupOutcomes(outcomes: readonly Outcome[]): Map<string, Outcome[]> {
  const groups = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const key = `${o.oracle} ${o.set} ${o.judgement.cls}: ${o.judgement.cause}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(o);
  }
  for (const g of groups.values()) g.sort((x, y) => x.input.bytes.length - y.input.bytes.length);
  return groups;
}

export function describeOutcome(o: Outcome): string {
  return `  [${o.input.name}] R = "${escapeBytes(o.input.bytes, 300)}"\n  responseKeepsAlive: ${o.keep}\n  ${o.oracle}: ${o.judgement.detail}`;
}

/**
 * A smaller R with the same outcome: drops whole lines, then single bytes, as
 * long as we still keep alive after it and the client still lands in the same
 * class for the same cause.
 */
export async function minimize(oracle: ResponseOracle, o: Outcome, budget = 400): Promise<Outcome> {
  const set = FLAG_SETS.find((s) => s.name === o.set)!;
  let best = o;
  const same = async (bytes: Buffer): Promise<Outcome | null> => {
    if (budget-- <= 0) return null;
    const keep = responseKeepsAlive(bytes, set.flags);
    if (keep !== o.keep) return null;
    const judgement = await ask(oracle, o.oracle, bytes, set, keep);
    if (judgement.cls !== o.judgement.cls || judgement.cause !== o.judgement.cause) return null;
    return { ...o, input: { name: `${o.input.name} (minimized)`, bytes }, judgement };
  };
  let progress = true;
  while (progress && budget > 0) {
    progress = false;
    const s = best.input.bytes.toString("latin1");
    const cuts: [number, number][] = [];
    for (let i = s.indexOf("\r\n"); i >= 0; i = s.indexOf("\r\n", i + 2)) {
      const next = s.indexOf("\r\n", i + 2);
      if (next > i + 2) cuts.push([i + 2, next + 2]);
    }
    for (let i = 0; i < s.length; i++) cuts.push([i, i + 1]);
    for (const [a, z] of cuts) {
      const smaller = await same(Buffer.from(s.slice(0, a) + s.slice(z), "latin1"));
      if (smaller !== null) {
        best = smaller;
        progress = true;
        break;
      }
      if (budget <= 0) break;
    }
  }
  return best;
}
