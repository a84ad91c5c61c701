/**
 * Inputs we accept and llhttp refuses on purpose, as docs/rejections.md says.
 *
 * An entry does not match inputs by pattern. It names one deliberate feature
 * and rewrites a request we accepted so that the feature is gone (and only
 * when it is there). A disagreement is allowed when rewriting the requests we
 * delivered with one entry (or, failing that, all of them together) makes
 * llhttp accept them and frame them exactly as we do: the feature, and nothing
 * else, was what llhttp refused. Anything else stays a violation.
 */
import { METHODS } from "node:http";
import { type Comparison, classify, type DiffClass, ourVerdict } from "./compare.js";
import type { LlhttpOracle } from "./llhttp-oracle.js";

export interface AllowEntry {
  name: string;
  /** Why the disagreement is deliberate, and where docs/rejections.md says so. */
  reason: string;
  doc: string;
  /** The request without the feature, or the same string when it does not have it. */
  normalize(request: string): string;
}

const LLHTTP_METHODS: ReadonlySet<string> = new Set(METHODS);

interface Parts {
  requestLine: string;
  fields: string[];
  /** Everything after the blank line. */
  rest: string;
}

/** Split a request our framer delivered (CRLF lines, a blank line, then the body). */
function split(request: string): Parts {
  const headEnd = request.indexOf("\r\n\r\n");
  const lines = request.slice(0, headEnd).split("\r\n");
  return { requestLine: lines[0]!, fields: lines.slice(1), rest: request.slice(headEnd + 4) };
}

function join(p: Parts): string {
  return `${[p.requestLine, ...p.fields].join("\r\n")}\r\n\r\n${p.rest}`;
}

/** A rewrite: the `name` fields that hold an HTAB get their value with the OWS around it (SP, HTAB) removed. */
function withoutTabOws(name: string): (request: string) => string {
  return (r) => {
    const p = split(r);
    const fields = p.fields.map((f) =>
      nameOf(f) === name && /\t/.test(f)
        ? `${f.slice(0, f.indexOf(":"))}: ${f.slice(f.indexOf(":") + 1).replace(/^[ \t]+|[ \t]+$/g, "")}`
        : f,
    );
    return join({ ...p, fields });
  };
}

const nameOf = (field: string): string => field.slice(0, field.indexOf(":")).toLowerCase();
const isChunked = (p: Parts): boolean => p.fields.some((f) => nameOf(f) === "transfer-encoding");

/** Rewrite each chunk-size line of a chunked request with `f` (chunk data and trailers untouched). */
function mapChunkLines(request: string, f: (line: string) => string): string {
  const p = split(request);
  if (!isChunked(p)) return request;
  let out = "";
  let at = 0;
  const body = p.rest;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    const line = body.slice(at, eol);
    const size = Number.parseInt(/^[0-9a-fA-F]+/.exec(line)![0], 16);
    out += `${f(line)}\r\n`;
    at = eol + 2;
    if (size === 0) break;
    out += body.slice(at, at + size + 2);
    at += size + 2;
  }
  return join({ ...p, rest: out + body.slice(at) });
}

/** Drop SP/HTAB next to ";" and "=" outside quoted strings, and between the size and the first ";". */
function withoutBws(line: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      out += c;
      if (c === "\\") out += line[++i] ?? "";
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    if (c === " " || c === "\t") {
      let j = i;
      while (line[j] === " " || line[j] === "\t") j++;
      const before = out.at(-1);
      const after = line[j];
      if (after === ";" || after === "=" || before === ";" || before === "=") {
        i = j - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

export const ALLOW_LIST: readonly AllowEntry[] = [
  {
    name: "a method llhttp does not know",
    reason:
      "any token is a method (RFC 9110 9.1), lower case included; llhttp knows a fixed list. No effect on framing: " +
      "our framer treats every method but HEAD, CONNECT and OPTIONS alike, and those llhttp knows",
    doc: "docs/rejections.md line 190: What it accepts that others refuse, “Any token as a method”",
    normalize: (r) => {
      const method = r.slice(0, r.indexOf(" "));
      return LLHTTP_METHODS.has(method) ? r : `POST${r.slice(method.length)}`;
    },
  },
  {
    name: "BWS around ; and = in a chunk-size line",
    reason:
      'RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ); llhttp refuses ' +
      'whitespace there (HPE_INVALID_CHUNK_SIZE before ";", HPE_STRICT after it). The size is read the same either way',
    doc: "docs/rejections.md line 153: whitespace is refused after the size or an extension “unless a `;` follows”, BWS being allowed around `;` and `=`; chunked.md › Whitespace around the semicolon and the equals sign",
    normalize: (r) => mapChunkLines(r, withoutBws),
  },
  {
    name: "Content-Length repeated with the same number",
    reason:
      "RFC 9110 8.6 lets a recipient accept identical repeats; llhttp refuses any second Content-Length " +
      "(HPE_UNEXPECTED_CONTENT_LENGTH). Different numbers are refused by both",
    doc: "docs/rejections.md lines 115 and 198: “two lines with the same number (`3` and `003`)”, “Repeated identical Content-Length lines”",
    normalize: (r) => {
      const p = split(r);
      let seen = false;
      const fields = p.fields.filter((f) => {
        if (nameOf(f) !== "content-length") return true;
        const keep = !seen;
        seen = true;
        return keep;
      });
      return fields.length === p.fields.length ? r : join({ ...p, fields });
    },
  },
  {
    name: "HTAB as OWS around a Content-Length value",
    reason:
      "field values are surrounded by OWS = *( SP / HTAB ) (RFC 9112 5); llhttp 9.3 (Node 20) refuses an HTAB " +
      "after the digits (HPE_INVALID_CONTENT_LENGTH), llhttp 9.4 (Node 26) does not",
    doc: "docs/rejections.md line 115: Content-Length “Accepted: ... OWS around the value”",
    normalize: withoutTabOws("content-length"),
  },
  {
    name: "HTAB as OWS after a Transfer-Encoding value",
    reason:
      "`Transfer-Encoding: chunked<HTAB>` is chunked: the HTAB is OWS (RFC 9112 5). llhttp takes `chunked<HTAB>` " +
      "for another coding and refuses the request (HPE_INVALID_TRANSFER_ENCODING); it frames nothing differently",
    doc: 'docs/rejections.md line 76: header fields are `field-name ":" OWS field-value OWS` (RFC 9112 5)',
    normalize: withoutTabOws("transfer-encoding"),
  },
  {
    name: "an absolute-form scheme with digits, +, - or .",
    reason:
      'RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); llhttp takes letters only ' +
      "(HPE_INVALID_URL). The target does not take part in framing",
    doc: "docs/rejections.md line 196: What it accepts that others refuse, “Absolute-form with any scheme”",
    normalize: (r) => {
      const m = /^(\S+ )([A-Za-z][A-Za-z0-9+.-]*)(:\/\/)/.exec(r);
      if (m === null || /^[A-Za-z]+$/.test(m[2]!)) return r;
      return `${m[1]}http${m[3]}${r.slice(m[0].length)}`;
    },
  },
];

/** Classes that say llhttp and we frame the same requests alike (what a rewrite must reach). */
const AGREE: ReadonlySet<DiffClass> = new Set([
  "both-accept-same",
  "same-until-close",
  "same-until-tunnel",
  "keep-alive-differs",
]);

export interface Explanation {
  /** The entries whose rewrite resolved the disagreement; empty when none did. */
  entries: AllowEntry[];
  recheck: Comparison | null;
}

/**
 * Whether the deliberate features of ALLOW_LIST explain a disagreement: rewrite
 * the requests we delivered with one entry at a time, then with all of them,
 * and ask both parsers again.
 */
export async function explain(oracle: LlhttpOracle, c: Comparison): Promise<Explanation> {
  // Only an acceptance can be deliberate; a different framing never is.
  if (c.cls !== "we-accept-llhttp-rejects") return { entries: [], recheck: null };
  const requests = c.ours.requests.map((r) => r.toString("latin1"));
  if (requests.length === 0) return { entries: [], recheck: null };
  const attempt = async (entries: readonly AllowEntry[]): Promise<Explanation | null> => {
    const changed = entries.filter((e) => requests.some((r) => e.normalize(r) !== r));
    if (changed.length === 0) return null;
    const rewritten = Buffer.from(requests.map((r) => changed.reduce((s, e) => e.normalize(s), r)).join(""), "latin1");
    const ours = ourVerdict(rewritten);
    const recheck = classify(rewritten, ours, await oracle.ask(rewritten));
    const same = ours.requests.length === requests.length && AGREE.has(recheck.cls);
    return same ? { entries: changed, recheck } : null;
  };
  for (const e of ALLOW_LIST) {
    const one = await attempt([e]);
    if (one !== null) return one;
  }
  return (await attempt(ALLOW_LIST)) ?? { entries: [], recheck: null };
}
