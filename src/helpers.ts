/**
 * The "helper plugin" of the reference: parse a raw request into its parts, and
 * build a raw response. Pure functions, no I/O. The listener never needs them;
 * callbacks may.
 */
import { STATUS_CODES } from "node:http";
import { CallbackHttpError, describe } from "./errors.js";
import type { CallbackContext } from "./exchange.js";
import { CR, FIELD_VALUE, LF, TOKEN } from "./http-tokens.js";

export interface ParsedRequest {
  method: string;
  /** The request-target as sent, e.g. "/items?id=3". */
  target: string;
  /** The target's path, e.g. "/items". */
  path: string;
  /** The query without "?", e.g. "id=3" ("" when none). */
  query: string;
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
    // OWS is spaces and tabs only (RFC 9110 5.6.3); String#trim would also eat obs-text bytes such as 0xA0.
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
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
  return {
    method,
    target,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? "" : target.slice(q + 1),
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

/** decodeChunked, its errors named after `where`, the helper that was called. */
function decodeChunkedFor(where: string, bytes: Buffer): Buffer {
  const truncated = (): CallbackHttpError => new CallbackHttpError("ERR_ARG_TYPE", `${where}: truncated chunked body`);
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol < 0) throw truncated();
    const digits = bytes
      .toString("latin1", at, eol)
      .split(";")[0]!
      .replace(/[ \t]+$/, "");
    // chunk-size = 1*HEXDIG (RFC 9112 7.1): no sign, no "0x", nothing after the digits but an extension.
    const size = /^[0-9A-Fa-f]{1,12}$/.test(digits) ? Number.parseInt(digits, 16) : Number.NaN;
    if (!Number.isSafeInteger(size)) throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: invalid chunk size`);
    at = eol + 2;
    if (size === 0) break;
    const end = at + size;
    if (end + 2 > bytes.length) throw truncated();
    if (bytes[end] !== CR || bytes[end + 1] !== LF) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: chunk data not followed by CRLF`);
    }
    parts.push(bytes.subarray(at, end));
    at = end + 2;
  }
  // The trailer section: field lines, then the empty line that ends the body.
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol < 0) throw truncated();
    if (eol === at) break;
    at = eol + 2;
  }
  return Buffer.concat(parts);
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
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: status ${describe(status)} is not a 3-digit code`);
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
  for (const [name, value] of entries) {
    const v = String(value);
    if (/[\r\n]/.test(name) || /[\r\n]/.test(v)) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: header ${describe(name)} holds a line break`);
    }
    // The head is written one byte a character (Latin-1): a name is a token, a value VCHAR, SP, HTAB and
    // obs-text; anything else (a control byte, a character past U+00FF) would reach the client changed.
    if (typeof name !== "string" || name.length === 0 || !isToken(name)) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: header name ${describe(name)} is not a token`);
    }
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
  if (init.close || context?.willClose || context?.draining) {
    if (!hasConnection) head += "Connection: close\r\n";
  } else if (!hasConnection && context && context.keepAliveTimeoutMs > 0 && status >= 200) {
    // HTTP/1.0 keeps a connection only when the response says so too (RFC 9112 9.3).
    if (context.httpVersion === "1.0") head += "Connection: keep-alive\r\n";
    if (!hasKeepAlive) head += `Keep-Alive: timeout=${keepAliveHintSeconds(context.keepAliveTimeoutMs)}\r\n`;
  }
  head += "\r\n";
  if (body.length === 0 || init.head) return Buffer.from(head, "latin1");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** A text/plain response. */
export function textResponse(status: number, text: string, context?: CallbackContext): Buffer {
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
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: expected ${expected}, got ${describe(value)}`);
}
