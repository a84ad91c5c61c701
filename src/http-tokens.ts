/**
 * Byte classes of HTTP/1.1 syntax (RFC 9110 section 5.6, RFC 9112 section 3),
 * as 256-entry lookup tables so the framer tests a byte with one array read,
 * and the few checks built on them. No I/O; the one import is Node's IPv6
 * address check.
 */

import { isIPv6 } from "node:net";

function table(accept: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const isAlpha = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** tchar: the characters of a token (methods, field names, transfer codings). RFC 9110 5.6.2. */
export const TOKEN = table((b) => isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));

/**
 * Bytes allowed inside a field value: VCHAR, SP, HTAB and obs-text (RFC 9110 5.5).
 * CR, LF, NUL and every other control byte are refused: they are how a value
 * smuggles a line break past a lenient peer.
 */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80);

/**
 * Bytes allowed in a request-target: visible ASCII (RFC 3986 has no raw space,
 * control or 8-bit byte) except `#`, `"`, `<` and `>`. A fragment is never part
 * of a request-target (RFC 9110 7.1) and the other three are outside RFC 3986;
 * no browser sends any of the four raw. Braces, `|`, `^`, backslash and backtick
 * are outside RFC 3986 too, but browsers leave them raw in queries (the WHATWG
 * URL query percent-encode set), so they pass.
 */
export const TARGET = table((b) => b >= 0x21 && b <= 0x7e && b !== 0x23 && b !== 0x22 && b !== 0x3c && b !== 0x3e);

/**
 * reg-name bytes besides pct-encoded triplets: unreserved and sub-delims (RFC
 * 3986 3.2.2), except the comma. No DNS name has one, and "a, b" is what a peer
 * makes of two Host lines when it combines them as a list (RFC 9110 5.3): a
 * duplicate Host in disguise.
 */
export const REG_NAME = table((b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+;=".includes(String.fromCharCode(b)));

/** Bytes of an IPvFuture address after its "v" HEXDIG "." prefix: unreserved, sub-delims and ":" (RFC 3986 3.2.2). */
export const IPV_FUTURE = table((b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=:".includes(String.fromCharCode(b)));

/** Bytes of an IPv6 address inside "[" "]": hex digits, ":" and the "." of an embedded IPv4 (RFC 3986 3.2.2). */
export const IPV6 = table(
  (b) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) || b === 0x3a || b === 0x2e,
);

/** Value of a hexadecimal digit, or -1. */
export const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let b = 0; b < 256; b++) {
    if (isDigit(b)) t[b] = b - 0x30;
    else if (b >= 0x41 && b <= 0x46) t[b] = b - 0x41 + 10;
    else if (b >= 0x61 && b <= 0x66) t[b] = b - 0x61 + 10;
  }
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const COMMA = 0x2c;
export const EQUALS = 0x3d;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;

/**
 * Compare `buf[start, end)` with a lower-case ASCII literal, ignoring the case of
 * the buffer's letters. OR-ing 0x20 folds only letters onto the literal: for the
 * token bytes a field name can hold, no other byte maps onto a lower-case letter
 * or onto "-".
 */
export function equalsLower(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Is `buf[start, end)` a `uri-host [ ":" port ]` (RFC 3986 3.2.2 and 3.2.3, as
 * RFC 9110 7.2 and RFC 9112 3.2.3 use it)? The host is an IP-literal in
 * brackets or a reg-name (unreserved, sub-delims but the comma, well-formed
 * pct-encoding), never empty; the port is digits. With `portRequired` (CONNECT's authority-form)
 * the ":" and at least one digit must be there. No userinfo: `@` is not a host
 * byte (RFC 9110 4.2.4).
 */
export function isHostPort(buf: Uint8Array, start: number, end: number, portRequired: boolean): boolean {
  let i = start;
  if (buf[i] === 0x5b) {
    // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
    i++;
    const s = i;
    if (buf[i] === 0x76 || buf[i] === 0x56) {
      // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
      i++;
      const h = i;
      while (i < end && HEX[buf[i]!]! >= 0) i++;
      if (i === h || buf[i] !== 0x2e) return false;
      i++;
      const f = i;
      while (i < end && IPV_FUTURE[buf[i]!]) i++;
      if (i === f) return false;
    } else {
      while (i < end && IPV6[buf[i]!]) i++;
      // The bytes are hex digits, ":" and "." only (no zone id); their grammar (RFC 3986 3.2.2) is Node's.
      if (!isIPv6(Buffer.from(buf.buffer, buf.byteOffset + s, i - s).toString("latin1"))) return false;
    }
    if (i === s || i >= end || buf[i] !== 0x5d) return false;
    i++;
  } else {
    while (i < end && buf[i] !== 0x3a) {
      const b = buf[i]!;
      if (b === 0x25) {
        if (i + 2 >= end || HEX[buf[i + 1]!]! < 0 || HEX[buf[i + 2]!]! < 0) return false;
        i += 3;
        continue;
      }
      if (!REG_NAME[b]) return false;
      i++;
    }
    if (i === start) return false;
  }
  if (i === end) return !portRequired;
  if (buf[i] !== 0x3a) return false;
  i++;
  if (portRequired && i === end) return false;
  // port = *DIGIT (RFC 3986 3.2.3), within a TCP port's range as the WHATWG URL parser requires.
  let port = 0;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b < 0x30 || b > 0x39) return false;
    port = port * 10 + (b - 0x30);
    if (port > 65535) return false;
  }
  return true;
}

/**
 * Does `buf` hold "HTTP/" at `at`? Byte by byte: HTTP-name is case-sensitive
 * (RFC 9112 2.3), and Buffer#compare costs a native call for five bytes.
 */
export function isHttpName(buf: Uint8Array, at: number): boolean {
  return (
    buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50 && buf[at + 4] === 0x2f
  );
}

/** How many bytes indexOfLF reads itself before it asks Buffer#indexOf. */
const LF_SCAN_BYTES = 48;

/**
 * The index of the first LF in `buf[from, end)`, or -1. Most HTTP lines are
 * short, and a call to Buffer#indexOf costs about 20 ns on Node 24 and 26
 * against 10 on Node 20 and 22 (measured: six lines of a response head take
 * 141 ns on Node 26, 63 on Node 20), so the first bytes are read here and
 * only a longer line goes to Buffer#indexOf. With this, the six lines take
 * 55 ns on Node 26 and 85 on Node 20; a small request's lines, 19 and 35
 * instead of 94 and 41.
 */
export function indexOfLF(buf: Uint8Array, from: number, end: number = buf.length): number {
  const limit = Math.min(from + LF_SCAN_BYTES, end);
  for (let i = from; i < limit; i++) {
    if (buf[i] === LF) return i;
  }
  if (limit >= end) return -1;
  const at = buf.indexOf(LF, limit);
  return at < end ? at : -1;
}
