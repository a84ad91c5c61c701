/**
 * The "helper plugin" of the reference: parse a raw request into its parts, and
 * build a raw response. Pure functions, no I/O. The listener never needs them;
 * callbacks may.
 */
import { STATUS_CODES } from "node:http";
import { CallbackHttpError, describe } from "./errors.js";
import type { CallbackContext } from "./exchange.js";
import { RequestFramer } from "./framer.js";
import { FIELD_VALUE, LF, TOKEN } from "./http-tokens.js";
import { MAX_HEAD_BYTES } from "./response-head.js";

export interface ParsedRequest {
  method: string;
  /** The request-target as sent, e.g. "/items?id=3". */
  target: string;
  /** The target's path, e.g. "/items". */
  path: string;
  /** The query without "?", e.g. "id=3" ("" when none). */
  query: string;
  /**
   * The host the request is for, as `host[:port]`: the authority of an absolute-form or
   * authority-form target (RFC 9112 3.2.2 and 3.2.3: it overrides Host), else the Host field ("" when none).
   */
  host: string;
  version: string;
  /** Field names in lower case; repeated fields joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
  /** Fields as sent, in order. */
  rawHeaders: Array<[string, string]>;
  /** The body, with chunked framing removed. */
  body: Buffer;
}

/**
 * Split a raw request (as a callback receives it) into method, target,
 * version, headers and body; a chunked body is decoded.
 * @throws CallbackHttpError ERR_ARG_TYPE when `raw` is not bytes or a string, or holds no request head.
 */
export function parseRequest(raw: Uint8Array | string): ParsedRequest {
  const bytes = typeof raw === "string" ? Buffer.from(raw, "latin1") : toBuffer(raw, "parseRequest");
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd < 0) throw new CallbackHttpError("ERR_ARG_TYPE", "parseRequest: no complete request head in the bytes");
  const lines = bytes.toString("latin1", 0, headEnd).split("\r\n");
  const requestLine = lines[0]!.split(" ");
  if (requestLine.length !== 3) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `parseRequest: invalid request line ${describe(lines[0])}`);
  }
  const [method, target, version] = requestLine as [string, string, string];
  const headers: Record<string, string> = {};
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new CallbackHttpError("ERR_ARG_TYPE", `parseRequest: invalid header line ${describe(line)}`);
    const name = line.slice(0, colon);
    const value = trimOws(line, colon + 1, line.length);
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    setField(headers, key, Object.hasOwn(headers, key) ? `${headers[key]}, ${value}` : value);
  }
  const rest = bytes.subarray(headEnd + 4);
  const chunked = /(?:^|,)\s*chunked\s*$/i.test(headers["transfer-encoding"] ?? "");
  // A repeated Content-Length is joined as "3, 3"; the listener only lets identical repeats through.
  const length = Number((headers["content-length"] ?? `${rest.length}`).split(",")[0]);
  const body = chunked ? decodeChunkedFor("parseRequest", rest) : rest.subarray(0, length);
  const q = target.indexOf("?");
  const beforeQuery = q < 0 ? target : target.slice(0, q);
  return {
    method,
    target,
    path: pathOf(beforeQuery),
    query: q < 0 ? "" : target.slice(q + 1),
    host: authorityOf(method, beforeQuery) ?? headers.host ?? "",
    version,
    headers,
    rawHeaders,
    body,
  };
}

/**
 * The data of a chunked body, without sizes, extensions and trailers (RFC 9112 7.1).
 * @throws CallbackHttpError ERR_ARG_TYPE when `body` is not bytes, or not a whole chunked body.
 */
export function decodeChunked(body: Uint8Array): Buffer {
  return decodeChunkedFor("decodeChunked", toBuffer(body, "decodeChunked", "a Uint8Array"));
}

/**
 * decodeChunked, its errors named after `where`, the helper that was called. The listener's own framer
 * judges the bytes first, as the body of a chunked request: what it refuses is refused here with its
 * reason, so that the helper takes exactly the bodies the listener takes. Only then are they decoded.
 */
function decodeChunkedFor(where: string, bytes: Buffer): Buffer {
  const verdict = judgeChunked(bytes);
  if (verdict === "truncated") throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: truncated chunked body`);
  if (verdict !== null) throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: invalid chunked body: ${verdict}`);
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    // A chunk-size line: hex digits (any number of leading zeros), then BWS and extensions, which go.
    const eol = bytes.indexOf(LF, at);
    let size = 0;
    for (let i = at; i < eol && HEX[bytes[i]!]! >= 0; i++) size = size * 16 + HEX[bytes[i]!]!;
    at = eol + 1;
    if (size === 0) break;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
  return Buffer.concat(parts);
}

/** A head that makes the framer read what follows as a chunked body. */
const CHUNKED_HEAD = Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "latin1");

/**
 * Limits that leave the judgement to the syntax: the largest body, and trailers as large as the largest
 * maxHeaderBytes lets through (they count in the head, to which CHUNKED_HEAD adds its own bytes here).
 */
const JUDGE_LIMITS = {
  maxHeaderBytes: 16 * 1024 * 1024 + CHUNKED_HEAD.length,
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
};

/** The framer's verdict on `body` as a chunked body: null (whole and well-formed), "truncated", or its reason. */
function judgeChunked(body: Buffer): string | null {
  let verdict: string | null = "truncated";
  const framer = new RequestFramer(
    {
      onRequestStart: () => true,
      onRequest: () => {
        verdict = null;
        return false; // what follows the body is not the helper's business
      },
      onError: (_status, reason) => {
        verdict = reason;
      },
    },
    JUDGE_LIMITS,
  );
  framer.push(CHUNKED_HEAD);
  if (verdict === "truncated") framer.push(body);
  framer.stop();
  return verdict;
}

/** Hex digit values by byte, -1 for the rest. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

/** `line` from `start` to `end` without OWS, spaces and tabs only (RFC 9110 5.6.3; String#trim would eat 0xA0). */
function trimOws(line: string, start: number, end: number): string {
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return line.slice(start, end);
}

/** The start of an absolute-form target: a scheme and "//". */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The path of a request-target without its query: the target itself in origin form ("/items"); for the
 * absolute form (RFC 9112 3.2.2, "http://host/items"), the URI's path, "/" when it has none.
 */
function pathOf(target: string): string {
  const scheme = SCHEME.exec(target);
  if (scheme === null) return target;
  const slash = target.indexOf("/", scheme[0].length);
  return slash < 0 ? "/" : target.slice(slash);
}

/** The authority of an absolute-form target (before its query), or CONNECT's target; else undefined. */
function authorityOf(method: string, target: string): string | undefined {
  if (method === "CONNECT") return target;
  const scheme = SCHEME.exec(target);
  if (scheme === null) return undefined;
  const slash = target.indexOf("/", scheme[0].length);
  return target.slice(scheme[0].length, slash < 0 ? target.length : slash);
}

export interface ResponseInit {
  /** @default 200 */
  status?: number;
  /** @default the standard reason phrase of `status` */
  reason?: string;
  headers?: Record<string, string | number> | Array<[string, string | number]>;
  body?: string | Uint8Array;
  /**
   * The callback's context: when the connection closes after this response
   * (context.willClose), `Connection: close` is added; otherwise, on a final
   * response, `Keep-Alive: timeout=<seconds>` (context.keepAliveTimeoutMs less
   * a second), after `Connection: keep-alive` for an HTTP/1.0 request.
   */
  context?: CallbackContext;
  /** Add `Connection: close`. */
  close?: boolean;
  /** The answer to a HEAD request: the head only, with the Content-Length the body would have. */
  head?: boolean;
}

/**
 * Build a raw HTTP/1.1 response: status line, the given headers, a
 * Content-Length for the body (unless a header sets one, or Transfer-Encoding),
 * `Connection: close` when asked, or when the context says the connection
 * closes after this response (the request asked for it, or the listener drains);
 * given a context that keeps the connection open, on a final response,
 * `Keep-Alive: timeout=` with the whole seconds the listener keeps it idle,
 * less one (as Node's http server says it, with a margin), after
 * `Connection: keep-alive` when the request is HTTP/1.0 (which keeps the
 * connection only then).
 * With `head`, the body is left out but its Content-Length stays (a HEAD answer).
 * @throws CallbackHttpError ERR_ARG_TYPE for a status that is not 3 digits, a
 * header holding a line break, or a body on a 1xx, 204 or 304 response.
 */
export function buildResponse(init: ResponseInit = {}): Buffer {
  return buildResponseFor("buildResponse", init);
}

/** buildResponse, its errors named after `where`, the helper that was called. */
function buildResponseFor(where: string, init: ResponseInit): Buffer {
  if (init === null || typeof init !== "object") {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: init must be an object, got ${describe(init)}`);
  }
  const status = init.status ?? 200;
  // RFC 9110 15: valid codes are 100 to 599 (and the listener closes the connection after any other).
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: status ${describe(status)} is not a code in 100..599`);
  }
  const reason = init.reason ?? STATUS_CODES[status] ?? "";
  // reason-phrase = *( HTAB / SP / VCHAR / obs-text ), RFC 9112 4: a line break would start a header.
  if (typeof reason !== "string" || !fieldText(reason)) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: reason ${describe(reason)} is not a reason phrase`);
  }
  const body =
    init.body === undefined
      ? EMPTY
      : typeof init.body === "string"
        ? Buffer.from(init.body)
        : toBuffer(init.body, where);
  const entries = Array.isArray(init.headers) ? init.headers : Object.entries(init.headers ?? {});
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  let hasLength = false;
  let hasConnection = false;
  let hasKeepAlive = false;
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new CallbackHttpError(
        "ERR_ARG_TYPE",
        `${where}: a header must be a [name, value] pair, got ${describe(entry)}`,
      );
    }
    const [name, value] = entry as [unknown, unknown];
    if (typeof name !== "string" || name.length === 0 || !isToken(name)) {
      const why = typeof name === "string" && /[\r\n]/.test(name) ? "holds a line break" : "is not a token";
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: header name ${describe(name)} ${why}`);
    }
    if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
      throw new CallbackHttpError(
        "ERR_ARG_TYPE",
        `${where}: header ${describe(name)} needs a string or a finite number, got ${describe(value)}`,
      );
    }
    const v = String(value);
    if (/[\r\n]/.test(v)) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: header ${describe(name)} holds a line break`);
    }
    // The head is written one byte a character (Latin-1): a name is a token, a value VCHAR, SP, HTAB and
    // obs-text; anything else (a control byte, a character past U+00FF) would reach the client changed.
    if (!fieldText(v)) {
      throw new CallbackHttpError(
        "ERR_ARG_TYPE",
        `${where}: header ${describe(name)} has a value with a control character or a character past U+00FF`,
      );
    }
    const lower = name.toLowerCase();
    if (lower === "content-length" || lower === "transfer-encoding") hasLength = true;
    if (lower === "connection") hasConnection = true;
    else if (lower === "keep-alive") hasKeepAlive = true;
    head += `${name}: ${v}\r\n`;
  }
  // RFC 9110 6.4.1: 1xx, 204 and 304 responses never carry content.
  const noBody = status < 200 || status === 204 || status === 304;
  if (noBody && body.length > 0) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: a ${status} response has no body`);
  }
  if (!hasLength && !noBody) head += `Content-Length: ${body.length}\r\n`;
  const context = init.context;
  let connection = "";
  if (!hasConnection && context && context.keepAliveTimeoutMs > 0 && status >= 200) {
    // HTTP/1.0 keeps a connection only when the response says so too (RFC 9112 9.3).
    if (context.httpVersion === "1.0") connection += "Connection: keep-alive\r\n";
    if (!hasKeepAlive) connection += `Keep-Alive: timeout=${keepAliveHintSeconds(context.keepAliveTimeoutMs)}\r\n`;
  }
  // The listener closes the connection after a head it will not read whole (MAX_HEAD_BYTES): say so then too.
  // Not context.draining alone: a response that says close ends the connection, and the requests already
  // behind it there would go unanswered. willClose is true during a drain once none is.
  const closes = init.close || context?.willClose || head.length + connection.length + 2 > MAX_HEAD_BYTES;
  if (closes) connection = hasConnection ? "" : "Connection: close\r\n";
  head += `${connection}\r\n`;
  if (body.length === 0 || (init.head ?? context?.head)) return Buffer.from(head, "latin1");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** A text/plain response. */
export function textResponse(status: number, text: string, context?: CallbackContext): Buffer {
  if (typeof text !== "string") {
    throw new CallbackHttpError("ERR_ARG_TYPE", `textResponse: text must be a string, got ${describe(text)}`);
  }
  return buildResponseFor("textResponse", {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
    body: text,
    context,
  });
}

/** An application/json response of `value`. */
export function jsonResponse(status: number, value: unknown, context?: CallbackContext): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    // A BigInt, a cycle, or a toJSON that throws.
    throw new CallbackHttpError("ERR_ARG_TYPE", `jsonResponse: value has no JSON form: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // undefined, a function or a symbol: JSON.stringify gives no text at all.
  if (json === undefined) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `jsonResponse: value ${describe(value)} has no JSON form`);
  }
  return buildResponseFor("jsonResponse", {
    status,
    headers: { "Content-Type": "application/json" },
    body: json,
    context,
  });
}

/** Every character of `s` is one byte (U+0000..U+00FF) that `table` (http-tokens.ts) accepts. */
function allIn(table: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || table[c] !== 1) return false;
  }
  return true;
}

/** HTAB, SP, VCHAR and obs-text only: a field value or a reason phrase. */
const fieldText = (s: string): boolean => allIn(FIELD_VALUE, s);
const isToken = (s: string): boolean => allIn(TOKEN, s);

/** Set `key` as an own property, even a name that Object.prototype has (`__proto__`, `constructor`). */
function setField(headers: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__")
    Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
  else headers[key] = value;
}

/**
 * The idle time a response advertises: a whole second less than the listener
 * keeps the connection, rounded down, so that a client that trusts it to the
 * second still stops reusing the connection before the listener closes it
 * (undici keeps 2 s more margin of its own; Node 26's http server instead keeps
 * a connection a second longer than it advertises).
 */
function keepAliveHintSeconds(keepAliveTimeoutMs: number): number {
  return Math.max(0, Math.floor((keepAliveTimeoutMs - 1000) / 1000));
}

const EMPTY = Buffer.alloc(0);

/** `value` as a Buffer over the same bytes, or ERR_ARG_TYPE naming what `where` expects. */
function toBuffer(value: unknown, where: string, expected = "a Uint8Array or a string"): Buffer {
  if (value instanceof Uint8Array && value.byteLength === 0) return EMPTY; // a detached one included
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: expected ${expected}, got ${describe(value)}`);
}
