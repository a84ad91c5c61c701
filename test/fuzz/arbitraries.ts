/**
 * fast-check generators of valid HTTP/1.1 requests (random methods, targets in
 * every form, headers, Content-Length and chunked bodies with extensions and
 * trailers), of pipelines of them, and of mutations. Each generated request
 * knows its own byte accounting, so a test can predict the framer's limits.
 */
import fc from "fast-check";
import { INTERESTING_BYTES, INTERESTING_TEXTS, MUTATION_OPS, type Mutation } from "./mutate.js";

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz";
/** unreserved, sub-delims, ":" and "@" (pchar without pct-encoding), and what browsers leave raw. */
const PCHARS = `${ALNUM}ABCXYZ-._~!$&'()*+,;=:@{}|^`;

/** One generated request and how the framer counts its bytes. */
export interface GenRequest {
  /** The request, exactly. */
  bytes: Buffer;
  /** Request line, header lines and the blank line. */
  headBytes: number;
  /** Content-Length, or -1. */
  contentLength: number;
  /** For chunked bodies: what each chunk-size line adds to the body count (size, leading zeros, extension bytes), in order. */
  chunkCosts: number[];
  /** Trailer lines, or 0 (the blank line that ends them is not counted). */
  trailerBytes: number;
}

const chars = (set: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...set.split("")), minLength: min, maxLength: max });

export const token = (max = 10): fc.Arbitrary<string> => chars(TCHARS, 1, max);

/** A byte allowed in a field value: VCHAR, SP, HTAB, obs-text (as a latin1 character). */
const fieldChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constantFrom(0x20, 0x09) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  )
  .map((b) => String.fromCharCode(b));

const fieldValue = fc.string({ unit: fieldChar, maxLength: 24 });

/** Any bytes, as a latin1 string. */
const anyBytes = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)),
    minLength: min,
    maxLength: max,
  });

const FRAMING_NAMES = new Set(["host", "content-length", "transfer-encoding"]);
const fieldName = token(16).filter((n) => !FRAMING_NAMES.has(n.toLowerCase()));

const ows = fc.constantFrom("", " ", "\t", " \t");

const regName = fc.oneof(
  chars(`${ALNUM}-.`, 1, 12),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join(".")),
  fc.constantFrom("[::1]", "[2001:db8::7]", "[v1.fe]", "ex%41mple"),
);
const hostPort = fc
  .tuple(regName, fc.option(fc.nat(65535), { nil: undefined }))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));

const originForm = fc
  .tuple(fc.array(chars(PCHARS, 0, 8), { maxLength: 4 }), fc.option(chars(`${PCHARS}/?`, 0, 12), { nil: undefined }))
  .map(([segs, query]) => `/${segs.join("/")}${query === undefined ? "" : `?${query}`}`);

const absoluteForm = fc
  .tuple(fc.constantFrom("http", "https", "HTTP"), hostPort, fc.option(originForm, { nil: undefined }))
  .map(([scheme, authority, path]) => `${scheme}://${authority}${path ?? ""}`);

const methodAndTarget: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(
    fc.oneof(
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"),
      token(12).filter((m) => m !== "CONNECT"),
    ),
    fc.oneof({ weight: 4, arbitrary: originForm }, { weight: 1, arbitrary: absoluteForm }),
  ),
  fc.tuple(fc.constant("OPTIONS"), fc.oneof(fc.constant("*"), originForm)),
  fc.tuple(
    fc.constant("CONNECT"),
    fc.tuple(regName, fc.nat(65535)).map(([h, p]) => `${h}:${p}`),
  ),
);

const extension = fc
  .tuple(
    ows,
    ows,
    token(8),
    fc.oneof(
      fc.constant(""),
      fc.tuple(ows, ows, token(8)).map(([a, b, t]) => `${a}=${b}${t}`),
      fc
        .string({
          unit: fc.oneof(
            fieldChar.filter((c) => c !== '"' && c !== "\\"),
            fieldChar.map((c) => `\\${c}`),
          ),
          maxLength: 10,
        })
        .map((q) => `="${q}"`),
    ),
  )
  .map(([before, after, name, value]) => `${before};${after}${name}${value}`);

const chunkSize = (size: number): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom("", "0", "00"), fc.boolean())
    .map(([zeros, upper]) => zeros + (upper ? size.toString(16).toUpperCase() : size.toString(16)));

interface Chunk {
  line: string;
  data: string;
  cost: number;
}

const chunk: fc.Arbitrary<Chunk> = anyBytes(1, 24).chain((data) =>
  fc.tuple(chunkSize(data.length), fc.array(extension, { maxLength: 2 })).map(([size, exts]) => {
    const ext = exts.join("");
    const zeros = size.length - data.length.toString(16).length;
    return { line: `${size}${ext}\r\n`, data, cost: data.length + zeros + ext.length };
  }),
);

const lastChunk = fc
  .tuple(fc.constantFrom("0", "00", "000"), fc.array(extension, { maxLength: 1 }))
  .map(([zeros, exts]) => ({ line: `${zeros}${exts.join("")}\r\n`, cost: zeros.length - 1 + exts.join("").length }));

const trailers = fc.array(
  fc.tuple(fieldName, ows, fieldValue).map(([n, o, v]) => `${n}:${o}${v.trim()}\r\n`),
  { maxLength: 3 },
);

type Body =
  | { kind: "none" }
  | { kind: "length"; data: string }
  | { kind: "chunked"; chunks: Chunk[]; last: { line: string; cost: number }; trailers: string[] };

const body = (http10: boolean): fc.Arbitrary<Body> =>
  fc.oneof(
    fc.constant<Body>({ kind: "none" }),
    anyBytes(0, 40).map((data): Body => ({ kind: "length", data })),
    ...(http10
      ? []
      : [
          fc
            .tuple(fc.array(chunk, { maxLength: 4 }), lastChunk, trailers)
            .map(([chunks, last, t]): Body => ({ kind: "chunked", chunks, last, trailers: t })),
        ]),
  );

/** One valid request: HTTP/1.1 (one Host) or HTTP/1.0 (Host optional, no Transfer-Encoding). */
export const validRequest: fc.Arbitrary<GenRequest> = fc
  .tuple(methodAndTarget, fc.boolean(), fc.array(fc.tuple(fieldName, ows, fieldValue, ows), { maxLength: 5 }))
  .chain(([[method, target], http10, fields]) =>
    fc
      .tuple(
        // RFC 9110 9.3.6: a CONNECT request has no content (the framer refuses one that claims some).
        method === "CONNECT" ? fc.constant<Body>({ kind: "none" }) : body(http10),
        http10 ? fc.option(hostPort, { nil: undefined }) : hostPort.map((h) => h as string | undefined),
        fc.nat(fields.length),
        fc.constantFrom("Transfer-Encoding: chunked", "transfer-encoding:chunked", "Transfer-Encoding: gzip, chunked"),
      )
      .map(([b, host, hostAt, teLine]): GenRequest => {
        const lines = fields.map(([n, o1, v, o2]) => `${n}:${o1}${v.trim()}${o2}\r\n`);
        if (host !== undefined) lines.splice(hostAt, 0, `Host: ${host}\r\n`);
        if (b.kind === "length") lines.push(`Content-Length: ${b.data.length}\r\n`);
        if (b.kind === "chunked") lines.push(`${teLine}\r\n`);
        const head = `${method} ${target} HTTP/1.${http10 ? 0 : 1}\r\n${lines.join("")}\r\n`;
        let rest = "";
        const chunkCosts: number[] = [];
        let trailerBytes = 0;
        if (b.kind === "length") rest = b.data;
        if (b.kind === "chunked") {
          for (const c of b.chunks) {
            rest += `${c.line}${c.data}\r\n`;
            chunkCosts.push(c.cost);
          }
          const tail = `${b.trailers.join("")}\r\n`;
          rest += b.last.line + tail;
          chunkCosts.push(b.last.cost);
          trailerBytes = tail.length - 2;
        }
        return {
          bytes: Buffer.from(head + rest, "latin1"),
          headBytes: head.length,
          contentLength: b.kind === "length" ? b.data.length : -1,
          chunkCosts,
          trailerBytes,
        };
      }),
  );

/** Valid requests one after another, some after empty lines. */
export const pipeline = fc.array(fc.tuple(fc.nat(2), validRequest), { minLength: 1, maxLength: 4 }).map((items) => ({
  input: Buffer.concat(items.flatMap(([crlf, r]) => [Buffer.from("\r\n".repeat(crlf)), r.bytes])),
  requests: items.map(([, r]) => r.bytes),
}));

/** The status a single valid request gets under `limits`, or null when it is delivered. */
export function limitOutcome(r: GenRequest, maxHeaderBytes: number, maxBodyBytes: number): 431 | 413 | null {
  if (r.headBytes > maxHeaderBytes) return 431;
  if (r.contentLength > maxBodyBytes) return 413;
  let body = 0;
  for (const cost of r.chunkCosts) {
    body += cost;
    if (body > maxBodyBytes) return 413;
  }
  if (r.headBytes + r.trailerBytes > maxHeaderBytes) return 431;
  return null;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom(...MUTATION_OPS),
  at: fc.nat(100000),
  byte: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 })),
  len: fc.integer({ min: 1, max: 12 }),
  text: fc.nat(INTERESTING_TEXTS.length - 1),
});

/** Byte strings over an alphabet of HTTP syntax, more likely to get deep into the framer than uniform noise. */
export const httpishBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(...INTERESTING_TEXTS),
      fc.constantFrom(...INTERESTING_BYTES.map((b) => String.fromCharCode(b))),
      token(6),
      fc.constantFrom("GET ", "POST ", "/ ", "HTTP/1.1", "Host:", "h", "\r\n\r\n"),
    ),
    { maxLength: 30 },
  )
  .map((parts) => Buffer.from(parts.join(""), "latin1"));

/** Cut points for a buffer of up to `max` bytes. */
export const cuts = (max: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, max) }), { maxLength: 6 });
