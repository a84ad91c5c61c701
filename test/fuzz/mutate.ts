/**
 * Byte-level mutations of requests, shared by the fast-check properties and
 * the fuzz runner: each one is plain data, so a failure can be printed and
 * replayed.
 */

/** Bytes that matter to an HTTP/1.1 framer. */
export const INTERESTING_BYTES: readonly number[] = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x3d, 0x2c, 0x22, 0x5c, 0x30, 0x31, 0x39, 0x61, 0x66, 0x46, 0x78, 0x2d, 0x2b,
  0x00, 0x7f, 0x80, 0xff, 0x2f, 0x2a, 0x3f, 0x23, 0x40, 0x5b, 0x5d, 0x0b, 0x0c,
];

/** Pieces of syntax worth splicing in. */
export const INTERESTING_TEXTS: readonly string[] = [
  "\r\n",
  "\r\n\r\n",
  "\n",
  "\r",
  " ",
  "\t",
  "Transfer-Encoding: chunked\r\n",
  "Transfer-Encoding: gzip\r\n",
  "Content-Length: 5\r\n",
  "Content-Length: 0\r\n",
  "Host: h\r\n",
  "Expect: 100-continue\r\n",
  "Connection: close\r\n",
  "0\r\n\r\n",
  "5\r\nhello\r\n",
  ';ext="v"',
  "GET / HTTP/1.1\r\n",
  "HTTP/1.0",
  "HTTP/2.0",
  "CONNECT h:1 HTTP/1.1\r\n",
  "ffffffffffffffffff",
  "99999999999999999999",
  " chunked",
];

export type MutationOp = "set" | "insert" | "delete" | "duplicate" | "text" | "truncate" | "swap";

export interface Mutation {
  op: MutationOp;
  /** Position, taken modulo the input's length (plus one where the end is a place). */
  at: number;
  /** A byte for set and insert. */
  byte: number;
  /** A length for delete, duplicate and swap. */
  len: number;
  /** An index into INTERESTING_TEXTS for text. */
  text: number;
}

/** Apply `m` to `input`; returns a new buffer. */
export function mutate(input: Buffer, m: Mutation): Buffer {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  const len = Math.max(1, m.len);
  switch (m.op) {
    case "set": {
      if (n === 0) return Buffer.from([m.byte & 0xff]);
      const out = Buffer.from(input);
      out[at % n] = m.byte & 0xff;
      return out;
    }
    case "insert":
      return Buffer.concat([input.subarray(0, at), Buffer.from([m.byte & 0xff]), input.subarray(at)]);
    case "delete":
      return Buffer.concat([input.subarray(0, at), input.subarray(at + len)]);
    case "duplicate":
      return Buffer.concat([input.subarray(0, at + len), input.subarray(at, at + len), input.subarray(at + len)]);
    case "text": {
      const text = Buffer.from(INTERESTING_TEXTS[m.text % INTERESTING_TEXTS.length]!, "latin1");
      return Buffer.concat([input.subarray(0, at), text, input.subarray(at)]);
    }
    case "truncate":
      return Buffer.from(input.subarray(0, at));
    case "swap": {
      // Move a run of bytes to the end: reorders lines, sizes and bodies.
      const piece = input.subarray(at, at + len);
      return Buffer.concat([input.subarray(0, at), input.subarray(at + len), piece]);
    }
  }
}

export const MUTATION_OPS: readonly MutationOp[] = ["set", "insert", "delete", "duplicate", "text", "truncate", "swap"];
