/**
 * Reads the head of a response a callback produced, to decide one thing: may
 * the connection carry another request after it? The listener writes the bytes
 * unchanged either way; this only keeps a client from waiting for a body that
 * is not coming, or from reading the next response as part of this one.
 * Pure: bytes in, a boolean out.
 */

import { REQUEST_FLAGS } from "./framer.js";
import { COLON, CR, equalsLower, HEX, indexOfLF, isHttpName, LF, SP, TOKEN } from "./http-tokens.js";

/**
 * True when the connection may stay open after `response`, the answer to a
 * request framed with `requestFlags`: the request allows it (HTTP/1.1 without
 * `Connection: close`, or HTTP/1.0 with `keep-alive` on both sides), the
 * response does not say `close`, and it is self-delimiting (RFC 9112 6.3): a
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
    if (head.status >= 100 && head.status < 200) {
      // An HTTP/1.0 client knows no interim answers (RFC 9110 15.2): it takes the 1xx for the answer.
      if (head.status === 101 || http10) return false;
      at = head.bodyStart;
      continue;
    }
    if (head.close) return false;
    // An HTTP/1.0 exchange stays open only when the response says keep-alive too.
    if ((http10 || head.minor === 0) && !head.keepAlive) return false;
    const rest = end - head.bodyStart;
    if (requestFlags & REQUEST_FLAGS.HEAD || head.status === 204 || head.status === 304) return rest === 0;
    // An HTTP/1.0 client knows no chunked coding (RFC 9112 6.1): it reads such a body to the close.
    if (head.chunked) return !http10 && chunkedEndsAt(response, head.bodyStart, end);
    if (head.teOther || head.length < 0) return false;
    return head.length === rest;
  }
}

interface ResponseHead {
  status: number;
  minor: number;
  bodyStart: number;
  close: boolean;
  keepAlive: boolean;
  chunked: boolean;
  teOther: boolean;
  /** Content-Length, -1 when absent, -2 when malformed or conflicting. */
  length: number;
}

/** readHead fills this one object: it runs to completion before anyone reads it, and nothing is allocated per response. */
const head: ResponseHead = {
  status: 0,
  minor: 0,
  bodyStart: 0,
  close: false,
  keepAlive: false,
  chunked: false,
  teOther: false,
  length: -1,
};

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ], then the
 * fields, each line ended by CRLF, then an empty line (RFC 9112 4, 5).
 * One pass over the lines of `buf[at, end)`; null when the head is not one a
 * client would read the same way.
 */
function readHead(buf: Buffer, at: number, end: number): ResponseHead | null {
  if (end - at < 12 || !isHttpName(buf, at) || buf[at + 5] !== 0x31 || buf[at + 6] !== 0x2e) return null;
  const minorByte = buf[at + 7]!;
  if ((minorByte !== 0x30 && minorByte !== 0x31) || buf[at + 8] !== SP) return null;
  let status = 0;
  for (let k = at + 9; k < at + 12; k++) {
    const d = buf[k]! - 0x30;
    if (d < 0 || d > 9) return null;
    status = status * 10 + d;
  }
  head.status = status;
  head.minor = minorByte - 0x30;
  head.close = false;
  head.keepAlive = false;
  head.chunked = false;
  head.teOther = false;
  head.length = -1;
  let eol = indexOfLF(buf, at + 12, end);
  if (eol < 0 || buf[eol - 1] !== CR) return null;
  for (;;) {
    const line = eol + 1;
    // The field name first, then the line's end: no byte of the name is read twice.
    let i = line;
    while (i < end && TOKEN[buf[i]!]) i++;
    if (i === line && buf[i] === CR && buf[i + 1] === LF && i + 1 < end) {
      head.bodyStart = i + 2;
      return head;
    }
    if (buf[i] !== COLON || i === line || i >= end) return null;
    eol = indexOfLF(buf, i + 1, end);
    if (eol < 0 || buf[eol - 1] !== CR) return null;
    const e = eol - 1;
    const nameEnd = i;
    i++;
    while (i < e && (buf[i] === SP || buf[i] === 0x09)) i++;
    let ve = e;
    while (ve > i && (buf[ve - 1] === SP || buf[ve - 1] === 0x09)) ve--;
    const n = nameEnd - line;
    if (n === 10 && equalsLower(buf, line, nameEnd, "connection")) {
      readConnection(buf, i, ve, head);
    } else if (n === 14 && equalsLower(buf, line, nameEnd, "content-length")) {
      let value = 0;
      for (let k = i; k < ve; k++) {
        const d = buf[k]! - 0x30;
        if (d < 0 || d > 9) value = -2;
        else if (value >= 0) value = value * 10 + d;
      }
      if (i === ve || (head.length !== -1 && head.length !== value)) value = -2;
      head.length = value;
    } else if (n === 17 && equalsLower(buf, line, nameEnd, "transfer-encoding")) {
      // Only the final coding matters for delimiting: chunked or not.
      let last = ve;
      while (last > i && buf[last - 1] !== 0x2c) last--;
      while (last < ve && (buf[last] === SP || buf[last] === 0x09)) last++;
      const isChunked = equalsLower(buf, last, ve, "chunked");
      head.chunked = isChunked;
      head.teOther = !isChunked;
    }
  }
}

function readConnection(buf: Buffer, s: number, e: number, head: ResponseHead): void {
  let i = s;
  while (i < e) {
    while (i < e && (buf[i] === SP || buf[i] === 0x09 || buf[i] === 0x2c)) i++;
    const t = i;
    while (i < e && buf[i] !== 0x2c && buf[i] !== SP && buf[i] !== 0x09) i++;
    if (equalsLower(buf, t, i, "close")) head.close = true;
    else if (equalsLower(buf, t, i, "keep-alive")) head.keepAlive = true;
  }
}

/** Does a chunked body start at `at` and end exactly at `end`? */
function chunkedEndsAt(buf: Buffer, at: number, end: number): boolean {
  let i = at;
  for (;;) {
    let size = 0;
    const s = i;
    while (i < end && HEX[buf[i]!]! >= 0) {
      size = size * 16 + HEX[buf[i]!]!;
      i++;
    }
    if (i === s || size > end) return false;
    const eol = indexOfLF(buf, i, end);
    if (eol < 0 || buf[eol - 1] !== CR) return false;
    i = eol + 1;
    if (size === 0) break;
    i += size;
    if (i + 2 > end || buf[i] !== CR || buf[i + 1] !== LF) return false;
    i += 2;
  }
  // Trailer fields, then the empty line that ends the message.
  for (;;) {
    const eol = indexOfLF(buf, i, end);
    if (eol < 0 || buf[eol - 1] !== CR) return false;
    if (eol === i + 1) return eol + 1 === end;
    i = eol + 1;
  }
}
