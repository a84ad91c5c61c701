/**
 * Our framer against llhttp on the same bytes: what each made of them, and
 * which class of (dis)agreement that is.
 *
 * Our side is `frame([bytes])` with the listener's default limits (16384 head
 * bytes, as Node's default maxHeaderSize; 1 MiB of body, which Node does not
 * limit). Each request it delivers is read back here (request line, fields,
 * body decoded from its Content-Length or chunks, trailers) so that it can be
 * set against what Node's server delivered.
 */
import { METHODS } from "node:http";
import { REQUEST_FLAGS } from "../../src/framer.js";
import { escapeBytes } from "../fixtures/requests/load.js";
import { frame, framerLimits, type Trace } from "../fixtures/requests/replay.js";
import type { LlhttpRequest, LlhttpVerdict } from "./llhttp-oracle.js";

/** One of our requests, read back from its exact bytes. */
export interface ParsedRequest {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  body: Buffer;
  rawTrailers: string[];
  flags: number;
}

export type DiffClass =
  /** Both refuse the input (after the same requests). */
  | "both-reject"
  /** Both deliver the same requests and end alike (all used, or waiting for more). */
  | "both-accept-same"
  /** Both deliver the same requests; llhttp then refuses the bytes after a request that closes the connection, which our listener does not read either. */
  | "same-until-close"
  /** llhttp hands the connection over (CONNECT or Upgrade) after the same requests; what follows is not HTTP to it. */
  | "same-until-tunnel"
  /** We refuse what llhttp accepts: expected, we are meant to be stricter. */
  | "we-reject-llhttp-accepts"
  /** We accept what llhttp refuses: against the claim. */
  | "we-accept-llhttp-rejects"
  /** llhttp ends the connection after a request (and refuses what follows) where our listener would read on: not framing. */
  | "keep-alive-differs"
  /** The input ends inside a request for us, while llhttp already refused it (we would decide at the line's end). */
  | "we-wait-llhttp-rejects"
  /** Both deliver a request whose head reads differently (method, target, version, fields or trailers). */
  | "head-differs"
  /** Different request boundaries or body bytes: the smuggling class. */
  | "boundary-desync"
  /** Over a size limit on one side (header bytes, chunk extensions): not framing. */
  | "limit"
  /** The oracle did not answer in time. */
  | "oracle-timeout";

export const CLASS_ORDER: readonly DiffClass[] = [
  "boundary-desync",
  "we-accept-llhttp-rejects",
  "head-differs",
  "keep-alive-differs",
  "we-wait-llhttp-rejects",
  "we-reject-llhttp-accepts",
  "both-reject",
  "both-accept-same",
  "same-until-close",
  "same-until-tunnel",
  "limit",
  "oracle-timeout",
];

export interface Comparison {
  cls: DiffClass;
  /** Groups inputs of a class by cause: our reason and llhttp's error code, and a detail. */
  key: string;
  detail: string;
  ours: Trace;
  theirs: LlhttpVerdict;
}

const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

function fieldPairs(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    out.push(line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ""));
  }
  return out;
}

/** Read back one request our framer delivered (it is well-formed by then: CRLF lines, a valid framing). */
export function parseOurRequest(bytes: Buffer, flags: number): ParsedRequest {
  const headEnd = bytes.indexOf(HEAD_END);
  const lines = bytes.toString("latin1", 0, headEnd).split("\r\n");
  const [method = "", url = "", version = ""] = lines[0]!.split(" ");
  const rawHeaders = fieldPairs(lines.slice(1));
  const chunked = rawHeaders.some((v, i) => i % 2 === 0 && v.toLowerCase() === "transfer-encoding");
  let at = headEnd + 4;
  if (!chunked) {
    return {
      method,
      url,
      httpVersion: version.slice(5),
      rawHeaders,
      body: bytes.subarray(at),
      rawTrailers: [],
      flags,
    };
  }
  const parts: Buffer[] = [];
  for (;;) {
    const lf = bytes.indexOf(0x0a, at);
    const line = bytes.toString("latin1", at, lf - 1);
    at = lf + 1;
    const size = Number.parseInt(/^[0-9a-fA-F]+/.exec(line)![0], 16);
    if (size === 0) break;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
  const trailerText = bytes.toString("latin1", at, bytes.length - 2);
  const trailerLines = trailerText === "" ? [] : trailerText.slice(0, -2).split("\r\n");
  return {
    method,
    url,
    httpVersion: version.slice(5),
    rawHeaders,
    body: Buffer.concat(parts),
    rawTrailers: fieldPairs(trailerLines),
    flags,
  };
}

/** After this request our listener reads no more (Connection: close, or HTTP/1.0 without keep-alive, or CONNECT). */
export function ourRequestCloses(flags: number): boolean {
  if (flags & REQUEST_FLAGS.CLOSE) return true;
  if (flags & REQUEST_FLAGS.CONNECT) return true;
  return (flags & REQUEST_FLAGS.HTTP10) !== 0 && (flags & REQUEST_FLAGS.KEEP_ALIVE) === 0;
}

const show = (s: string): string => escapeBytes(Buffer.from(s, "latin1"), 120);

/** What differs between the head of our request and llhttp's, or null. */
function headDifference(ours: ParsedRequest, theirs: LlhttpRequest): string | null {
  if (ours.method !== theirs.method) return `method ${show(ours.method)} vs ${show(theirs.method)}`;
  if (ours.url !== theirs.url) return `target ${show(ours.url)} vs ${show(theirs.url)}`;
  if (ours.httpVersion !== theirs.httpVersion) return `version ${ours.httpVersion} vs ${theirs.httpVersion}`;
  const a = ours.rawHeaders.join("\u0000");
  const b = theirs.rawHeaders.join("\u0000");
  if (a !== b) return `fields ${show(ours.rawHeaders.join("|"))} vs ${show(theirs.rawHeaders.join("|"))}`;
  if (theirs.kind === "request") {
    const ta = ours.rawTrailers.join("\u0000");
    const tb = theirs.rawTrailers.join("\u0000");
    if (ta !== tb) return `trailers ${show(ours.rawTrailers.join("|"))} vs ${show(theirs.rawTrailers.join("|"))}`;
  }
  return null;
}

const CRLF = Buffer.from("\r\n", "latin1");
const LLHTTP_METHODS: ReadonlySet<string> = new Set(METHODS);

/** A note on a request we delivered and llhttp refused: a method llhttp does not know explains it. */
function tag(request: Buffer | undefined): string {
  if (request === undefined) return "";
  const method = request.toString("latin1", 0, request.indexOf(0x20));
  return LLHTTP_METHODS.has(method) ? "" : " [method unknown to llhttp]";
}

const LIMIT_CODES = new Set(["HPE_HEADER_OVERFLOW", "HPE_CHUNK_EXTENSIONS_OVERFLOW"]);

/** Ask our framer about `input`, with the listener's default limits. */
export function ourVerdict(input: Uint8Array): Trace {
  return frame([Buffer.from(input)], framerLimits());
}

/** Classify one input from both verdicts. */
export function classify(input: Uint8Array, ours: Trace, theirs: LlhttpVerdict): Comparison {
  const done = (cls: DiffClass, key: string, detail = ""): Comparison => ({ cls, key, detail, ours, theirs });
  if (theirs.timeout) return done("oracle-timeout", "timeout");

  const ourEnd = typeof ours.end === "number" ? `${ours.end} ${ours.reason}` : ours.end;
  const theirEnd = theirs.error === null ? "idle" : theirs.error === "HPE_INVALID_EOF_STATE" ? "partial" : theirs.error;
  const key = `ours: ${ourEnd} | llhttp: ${theirEnd}`;
  // The side that refused names the cause.
  const theirKey = `llhttp: ${theirEnd}${theirs.error === null || theirEnd === "partial" ? "" : ` (${theirs.reason})`}`;
  const ourKey = `ours: ${ourEnd}`;

  // Requests both delivered whole: llhttp's complete requests, and the head of a connect/upgrade.
  const delivered = theirs.events.filter((e) => e.complete);
  const tunnel = delivered.length > 0 && delivered.at(-1)!.kind !== "request";
  const parsed = ours.requests.map((r, i) => parseOurRequest(r, ours.flags[i]!));
  const n = Math.min(parsed.length, delivered.length);
  for (let i = 0; i < n; i++) {
    const a = parsed[i]!;
    const b = delivered[i]!;
    const head = headDifference(a, b);
    if (b.kind !== "request") {
      // CONNECT/Upgrade: only the head is llhttp's; what follows it is not HTTP to llhttp.
      if (head !== null) return done("head-differs", `${key} | ${b.kind} head`, `request ${i}: ${head}`);
      // Node 26 reads an upgrade's body before it hands the connection over: that much must agree.
      if (b.body.length > 0 && !a.body.equals(b.body)) {
        return done(
          "boundary-desync",
          `${key} | ${b.kind} body`,
          `request ${i}: our body ${escapeBytes(a.body, 200)} vs llhttp's ${escapeBytes(b.body, 200)}`,
        );
      }
      const extra = a.body.length > 0 ? ` (our request ${i} has a ${a.body.length}-byte body)` : "";
      return done("same-until-tunnel", `${b.kind}${extra ? " with a body" : ""}`, `request ${i}${extra}`);
    }
    if (!a.body.equals(b.body)) {
      return done(
        "boundary-desync",
        `${key} | body`,
        `request ${i}: our body ${escapeBytes(a.body, 200)} vs llhttp's ${escapeBytes(b.body, 200)}`,
      );
    }
    if (head !== null) return done("head-differs", `${key} | ${head.split(" ")[0]}`, `request ${i}: ${head}`);
  }

  // llhttp took request n - 1 to end the connection and refuses what follows (strict mode's
  // HPE_CLOSED_CONNECTION). That is a decision about the connection, not about framing: our listener
  // reads no more either when the request's flags say so; otherwise the two disagree on keep-alive.
  const closing = (last: ParsedRequest): Comparison => {
    if (ourRequestCloses(last.flags)) return done("same-until-close", `${ourKey} | llhttp: HPE_CLOSED_CONNECTION`);
    const fields = last.rawHeaders
      .filter((_, k) => k % 2 === 0)
      .filter((name) => /^(proxy-)?connection$/i.test(name))
      .map((name) => name.toLowerCase());
    return done(
      "keep-alive-differs",
      `llhttp ends the connection after a request our listener keeps open${fields.length > 0 ? ` [${[...new Set(fields)].join(", ")}]` : ""}`,
      `request ${n - 1}: ${escapeBytes(ours.requests[n - 1]!, 200)}`,
    );
  };

  const ourLimit = ours.end === 413 || ours.end === 431;
  const theirLimit = theirs.error !== null && LIMIT_CODES.has(theirs.error);

  if (parsed.length === delivered.length) {
    if (tunnel) return done("same-until-tunnel", `${delivered.at(-1)!.kind}`, "");
    if (ourLimit || theirLimit) return done("limit", key);
    const ourFail = typeof ours.end === "number";
    if (ourFail && theirs.error !== null && theirEnd !== "partial") return done("both-reject", key);
    if (ourFail) return done("we-reject-llhttp-accepts", ourKey, `after ${n} request(s)`);
    if (theirEnd === ours.end) return done("both-accept-same", key);
    if (theirs.error === "HPE_CLOSED_CONNECTION" && n > 0) return closing(parsed[n - 1]!);
    if (ours.end === "partial" && theirs.error !== null) {
      // Our framer judges whole lines: see whether it refuses once the line ends.
      // (A CRLF ends the line; a second one ends the head, for checks made at the blank line.)
      let probe = frame([Buffer.from(input), CRLF], framerLimits());
      if (probe.end === "partial") probe = frame([Buffer.from(input), CRLF, CRLF], framerLimits());
      const refused = probe.requests.length === n && typeof probe.end === "number";
      return done(
        "we-wait-llhttp-rejects",
        `${theirKey} | ${refused ? "we refuse once the line ends" : "unresolved"}`,
        refused ? `with CRLF appended we answer ${probe.end} (${probe.reason})` : "",
      );
    }
    if (ours.end === "idle" && theirEnd === "partial") {
      return done("boundary-desync", `${key} | llhttp waits for more`, `after ${n} request(s)`);
    }
    if (ours.end === "partial" && theirEnd === "idle") {
      return done("boundary-desync", `${key} | we wait for more`, `after ${n} request(s)`);
    }
    return done("we-accept-llhttp-rejects", theirKey, `after ${n} request(s)`);
  }

  if (parsed.length > delivered.length) {
    // We delivered request n; llhttp did not.
    if (tunnel) return done("same-until-tunnel", `${delivered.at(-1)!.kind}`, "");
    if (theirLimit) return done("limit", key);
    if (theirs.error === "HPE_CLOSED_CONNECTION" && n > 0) return closing(parsed[n - 1]!);
    const partialTheirs = theirs.events.find((e, i) => i >= n && e.kind === "request" && !e.complete);
    if (theirEnd === "partial" || theirs.error === null) {
      return done(
        "boundary-desync",
        `${key} | we end request ${n}, llhttp does not`,
        `request ${n}: ${escapeBytes(ours.requests[n]!, 200)}${partialTheirs ? `; llhttp read ${partialTheirs.body.length} body bytes` : ""}`,
      );
    }
    return done(
      "we-accept-llhttp-rejects",
      `${theirKey}${tag(ours.requests[n])}`,
      `request ${n}: ${escapeBytes(ours.requests[n]!, 200)}${partialTheirs ? ` (llhttp had read its head)` : ""}`,
    );
  }

  // llhttp delivered request n; we did not.
  if (ourLimit) return done("limit", key);
  if (delivered[n]!.kind !== "request" && ours.end === "partial") {
    // CONNECT/Upgrade with a Content-Length or chunked body: we wait for the body, llhttp hands the bytes over.
    return done("same-until-tunnel", `${delivered[n]!.kind}, we wait for its body`, `request ${n}`);
  }
  if (typeof ours.end === "number") {
    const handed = delivered[n]!.kind === "request" ? "" : ` | llhttp hands over (${delivered[n]!.kind})`;
    return done(
      "we-reject-llhttp-accepts",
      `${ourKey}${handed}`,
      `llhttp's request ${n}: ${delivered[n]!.method} ${show(delivered[n]!.url)}`,
    );
  }
  return done(
    "boundary-desync",
    `${key} | llhttp ends request ${n}, we do not`,
    `llhttp's request ${n}: ${delivered[n]!.method} ${show(delivered[n]!.url)} body ${escapeBytes(delivered[n]!.body, 200)}`,
  );
}
