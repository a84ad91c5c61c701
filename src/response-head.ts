/**
 * Reads the head of a response a callback produced, to decide one thing: may
 * the connection carry another request after it? The listener writes the bytes
 * unchanged either way; this only keeps a client from waiting for a body that
 * is not coming, or from reading the next response as part of this one.
 * Pure: bytes in, a boolean out.
 */

import { REQUEST_FLAGS } from "./framer.js";
import {
  BACKSLASH,
  COLON,
  COMMA,
  CR,
  DQUOTE,
  EQUALS,
  equalsLower,
  FIELD_VALUE,
  HEX,
  HTAB,
  isHttpName,
  LF,
  SEMICOLON,
  SP,
  TOKEN,
} from "./http-tokens.js";

/**
 * True when the connection may stay open after `response`, the answer to a
 * request framed with `requestFlags`: the request allows it (HTTP/1.1 without
 * `Connection: close`, or HTTP/1.0 with `keep-alive` on both sides), the
 * response does not say `close`, every head of it is strictly well-formed, so
 * that every client reads it alike (readHead, docs/choices.md), and it is self-delimiting (RFC 9112 6.3): a
 * Content-Length matching the body it carries, a complete chunked body, or a
 * status or method that has no body (HEAD, 1xx, 204, 304) with nothing after
 * the head. Interim 1xx heads before the final one are skipped; 101 is not
 * (the protocol changes and this listener does not follow it). The response
 * is `response[start, end)`, by default the whole buffer.
 */
export function responseKeepsAlive(
  response: Buffer,
  requestFlags: number,
  start = 0,
  end: number = response.length,
): boolean {
  if (requestFlags & (REQUEST_FLAGS.CLOSE | REQUEST_FLAGS.CONNECT)) return false;
  const http10 = (requestFlags & REQUEST_FLAGS.HTTP10) !== 0;
  if (http10 && !(requestFlags & REQUEST_FLAGS.KEEP_ALIVE)) return false;
  let at = start;
  for (;;) {
    const head = readHead(response, at, end);
    if (head === null) return false;
    if (head.status < 200) {
      // An HTTP/1.0 client knows no interim answers (RFC 9110 15.2): it takes the 1xx for the answer. An
      // interim head that says close, or is HTTP/1.0, ends the exchange for a client (llhttp reads no further).
      if (head.status === 101 || http10 || head.close || head.minor === 0) return false;
      // An interim response has no content, so nothing to frame: one that frames some is malformed.
      if (head.length !== -1 || head.te) return false;
      at = head.bodyStart;
      continue;
    }
    if (head.close) return false;
    // An HTTP/1.0 exchange stays open only when the response says keep-alive too.
    if ((http10 || head.minor === 0) && !head.keepAlive) return false;
    // Framing a client may read otherwise, whatever the status: a malformed or repeated Content-Length, or one
    // with Transfer-Encoding (RFC 9112 6.3); Transfer-Encoding in an HTTP/1.0 response (RFC 9112 6.1: close).
    if (head.length === -2 || (head.length >= 0 && head.te) || (head.te && head.minor === 0)) return false;
    const rest = end - head.bodyStart;
    if (requestFlags & REQUEST_FLAGS.HEAD || head.status === 204 || head.status === 304) return rest === 0;
    // An HTTP/1.0 client knows no chunked coding (RFC 9112 6.1): it reads such a body to the close.
    if (head.te) return head.chunked && !head.teBad && !http10 && chunkedEndsAt(response, head.bodyStart, end);
    return head.length === rest;
  }
}

/**
 * The most bytes of one head, or of the trailer section, that keep the connection open: Node's http client
 * refuses more (its default maxHeaderSize, counted per head and for the trailers apart). It also bounds every
 * scan: a malformed answer is never read to its end.
 */
export const MAX_HEAD_BYTES = 16384;
/** The most bytes of one chunk's extensions: Node's client refuses 16 KiB of them; half is plenty for any use. */
const MAX_CHUNK_EXTENSION_BYTES = 8192;

interface ResponseHead {
  status: number;
  minor: number;
  bodyStart: number;
  close: boolean;
  keepAlive: boolean;
  /** A Transfer-Encoding field came. */
  te: boolean;
  /** The last Transfer-Encoding line ends with chunked. */
  chunked: boolean;
  /** Some Transfer-Encoding line had chunked. */
  chunkedSeen: boolean;
  /** The codings cannot be read: an empty element, or chunked twice. */
  teBad: boolean;
  /** Content-Length, -1 when absent, -2 when malformed or repeated. */
  length: number;
}

/** readHead fills this one object: it runs to completion before anyone reads it, and nothing is allocated per response. */
const head: ResponseHead = {
  status: 0,
  minor: 0,
  bodyStart: 0,
  close: false,
  keepAlive: false,
  te: false,
  chunked: false,
  chunkedSeen: false,
  teBad: false,
  length: -1,
};

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ], then the
 * fields, each line ended by CRLF, then an empty line (RFC 9112 4, 5).
 * One pass over the lines of `buf[at, end)`; null when the head is not one
 * every client reads the same way: strict HTTP/1.x syntax, a status code in
 * 100..599 (RFC 9110 15), no control byte in a reason phrase or field value.
 */
function readHead(buf: Buffer, at: number, responseEnd: number): ResponseHead | null {
  const end = Math.min(responseEnd, at + MAX_HEAD_BYTES);
  if (end - at < 14 || !isHttpName(buf, at) || buf[at + 5] !== 0x31 || buf[at + 6] !== 0x2e) return null;
  const minorByte = buf[at + 7]!;
  if ((minorByte !== 0x30 && minorByte !== 0x31) || buf[at + 8] !== SP) return null;
  let status = 0;
  for (let k = at + 9; k < at + 12; k++) {
    const d = buf[k]! - 0x30;
    if (d < 0 || d > 9) return null;
    status = status * 10 + d;
  }
  if (status < 100 || status > 599) return null;
  // The SP before the reason phrase may go with the phrase (llhttp and curl read `HTTP/1.1 200\r\n`).
  let cr = buf[at + 12] === SP ? lineEnd(buf, at + 13, end) : lineEnd(buf, at + 12, Math.min(at + 14, end));
  if (cr < 0) return null;
  head.status = status;
  head.minor = minorByte - 0x30;
  head.close = false;
  head.keepAlive = false;
  head.te = false;
  head.chunked = false;
  head.chunkedSeen = false;
  head.teBad = false;
  head.length = -1;
  for (;;) {
    const line = cr + 2;
    const nameEnd = fieldName(buf, line, end);
    if (nameEnd === line) {
      if (line + 1 >= end || buf[line] !== CR || buf[line + 1] !== LF) return null;
      head.bodyStart = line + 2;
      return head;
    }
    if (nameEnd < 0) return null;
    cr = lineEnd(buf, nameEnd + 1, end);
    if (cr < 0) return null;
    let i = nameEnd + 1;
    let ve = cr;
    while (i < ve && (buf[i] === SP || buf[i] === HTAB)) i++;
    while (ve > i && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    const n = nameEnd - line;
    if (n === 10 && equalsLower(buf, line, nameEnd, "connection")) {
      readConnection(buf, i, ve, head, false);
    } else if (n === 16 && equalsLower(buf, line, nameEnd, "proxy-connection")) {
      // Not HTTP (RFC 9110 has Connection only), but llhttp honours its close: so does this.
      readConnection(buf, i, ve, head, true);
    } else if (n === 14 && equalsLower(buf, line, nameEnd, "content-length")) {
      // One line of digits only, with spaces around at most: a repeated line, even with the same number, or a
      // tab after it (RFC 9110 allows both) is refused by llhttp 9.3 (Node 20). A tab before it is read by
      // Node's clients, but refused here too: one rule for both sides costs such a response a reconnect only.
      let value = head.length === -1 && i < ve && !hasTab(buf, nameEnd + 1, cr) ? 0 : -2;
      for (let k = i; k < ve && value >= 0; k++) {
        const d = buf[k]! - 0x30;
        value = d < 0 || d > 9 ? -2 : value * 10 + d;
      }
      head.length = value;
    } else if (n === 17 && equalsLower(buf, line, nameEnd, "transfer-encoding")) {
      readTransferEncoding(buf, i, ve, head);
      // llhttp does not read `chunked` followed by a tab as chunked: it reads the body to the close.
      if (hasTab(buf, nameEnd + 1, cr)) head.teBad = true;
    }
  }
}

/** The end of `name:` at `line` (the colon's index), `line` itself when no name byte is there, -1 when no colon follows. */
function fieldName(buf: Buffer, line: number, end: number): number {
  let i = line;
  while (i < end && TOKEN[buf[i]!]) i++;
  if (i === line) return line;
  return i < end && buf[i] === COLON ? i : -1;
}

function hasTab(buf: Buffer, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (buf[k] === HTAB) return true;
  return false;
}

/**
 * Where the line whose text starts at `from` ends: the index of its CR, when
 * every byte before it may be in a field value or reason phrase (no control
 * byte, no bare CR or LF) and an LF follows it inside `end`; otherwise -1.
 */
function lineEnd(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && FIELD_VALUE[buf[i]!]) i++;
  return i + 1 < end && buf[i] === CR && buf[i + 1] === LF ? i : -1;
}

/** Connection is a comma list of tokens (RFC 9110 7.6.1): `close` and `keep-alive` count as whole elements only. */
function readConnection(buf: Buffer, s: number, e: number, head: ResponseHead, closeOnly: boolean): void {
  for (let i = s; i <= e; i = element.next) {
    nextElement(buf, i, e);
    if (equalsLower(buf, element.start, element.end, "close")) head.close = true;
    else if (!closeOnly && equalsLower(buf, element.start, element.end, "keep-alive")) head.keepAlive = true;
  }
}

/**
 * One Transfer-Encoding line: the codings end with chunked when this line's
 * last element is chunked; chunked applied twice (RFC 9112 6.1: once, last)
 * or an empty element makes the whole list unreadable.
 */
function readTransferEncoding(buf: Buffer, s: number, e: number, head: ResponseHead): void {
  let last = false;
  for (let i = s; i <= e; i = element.next) {
    nextElement(buf, i, e);
    if (element.start === element.end) head.teBad = true;
    last = equalsLower(buf, element.start, element.end, "chunked");
    if (last && head.chunkedSeen) head.teBad = true;
    if (last) head.chunkedSeen = true;
  }
  head.te = true;
  head.chunked = last;
}

/** nextElement's result: an element of a comma list, OWS trimmed, and where the next one starts (past `e` at the end). */
const element = { start: 0, end: 0, next: 0 };

function nextElement(buf: Buffer, at: number, e: number): void {
  let i = at;
  while (i < e && buf[i] !== COMMA) i++;
  let t = at;
  let te = i;
  while (t < te && (buf[t] === SP || buf[t] === HTAB)) t++;
  while (te > t && (buf[te - 1] === SP || buf[te - 1] === HTAB)) te--;
  element.start = t;
  element.end = te;
  element.next = i + 1;
}

/**
 * Does a chunked body start at `at` and end exactly at `end`? Strict syntax,
 * as llhttp reads it: chunk-size = 1*HEXDIG, extensions `;name` or
 * `;name=token` or `;name="quoted"` with no whitespace, CRLF after every line
 * and chunk; trailer fields as head fields, and none that frames a message.
 */
function chunkedEndsAt(buf: Buffer, at: number, end: number): boolean {
  let i = at;
  for (;;) {
    let size = 0;
    const s = i;
    while (i < end && HEX[buf[i]!]! >= 0) {
      size = size * 16 + HEX[buf[i]!]!;
      i++;
    }
    if (i === s || i - s > 16 || size > end) return false;
    i = chunkExtensionsEnd(buf, i, Math.min(end, i + MAX_CHUNK_EXTENSION_BYTES));
    if (i < 0 || i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF) return false;
    i += 2;
    if (size === 0) break;
    i += size;
    if (i + 2 > end || buf[i] !== CR || buf[i + 1] !== LF) return false;
    i += 2;
  }
  // Trailer fields, then the empty line that ends the message; none that frames it or closes the connection.
  const limit = Math.min(end, i + MAX_HEAD_BYTES);
  for (;;) {
    const nameEnd = fieldName(buf, i, limit);
    if (nameEnd === i) return i + 2 === limit && limit === end && buf[i] === CR && buf[i + 1] === LF;
    if (nameEnd < 0) return false;
    const n = nameEnd - i;
    if (
      (n === 10 && equalsLower(buf, i, nameEnd, "connection")) ||
      (n === 14 && equalsLower(buf, i, nameEnd, "content-length")) ||
      (n === 16 && equalsLower(buf, i, nameEnd, "proxy-connection")) ||
      (n === 17 && equalsLower(buf, i, nameEnd, "transfer-encoding"))
    ) {
      return false;
    }
    const cr = lineEnd(buf, nameEnd + 1, limit);
    if (cr < 0) return false;
    i = cr + 2;
  }
}

/** The end of the chunk extensions that start at `i` (where CRLF must follow), or -1. */
function chunkExtensionsEnd(buf: Buffer, at: number, end: number): number {
  let i = at;
  while (i < end && buf[i] === SEMICOLON) {
    const name = ++i;
    while (i < end && TOKEN[buf[i]!]) i++;
    if (i === name) return -1;
    if (i >= end || buf[i] !== EQUALS) continue;
    const value = ++i;
    if (i < end && buf[i] === DQUOTE) {
      for (i++; i < end && buf[i] !== DQUOTE; i++) {
        if (buf[i] === BACKSLASH) i++;
        if (i >= end || !FIELD_VALUE[buf[i]!]) return -1;
      }
      if (i >= end) return -1;
      i++;
    } else {
      while (i < end && TOKEN[buf[i]!]) i++;
      if (i === value) return -1;
    }
  }
  return i;
}
