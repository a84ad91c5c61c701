/**
 * Byte classes of HTTP/1.1 syntax (RFC 9110 section 5.6, RFC 9112 section 3),
 * as 256-entry lookup tables so the framer tests a byte with one array read.
 * Pure data: no imports, no I/O.
 */

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

/** Bytes allowed in a request-target: visible ASCII only (RFC 3986 has no raw space, control or 8-bit byte). */
export const TARGET = table((b) => b >= 0x21 && b <= 0x7e);

/** Bytes allowed in a Host value: the authority's reg-name, IP-literal and port characters (RFC 3986 3.2). */
export const HOST = table((b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=:[]%".includes(String.fromCharCode(b)));

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
