/**
 * The HTTP/1.1 request framer: bytes in, whole requests (their exact bytes) or
 * one framing error out. Pure and incremental: it never touches a socket or a
 * timer, keeps no more than the unfinished request, and frames a request the
 * same whatever pieces it arrives in, because every decision is taken on a
 * whole line or on a byte count (RFC 9112 sections 2 to 7).
 */
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
  indexOfLF,
  isHostPort,
  isHttpName,
  LF,
  SEMICOLON,
  SP,
  TARGET,
  TOKEN,
} from "./http-tokens.js";

/** Bits of the `flags` number that comes with each framed request. */
export const REQUEST_FLAGS = {
  /** The method is HEAD: the response carries no body whatever its header says. */
  HEAD: 1,
  /** The method is CONNECT. */
  CONNECT: 2,
  /** The request is HTTP/1.0 (otherwise HTTP/1.1). */
  HTTP10: 4,
  /** The request said `Connection: close`. */
  CLOSE: 8,
  /** The request said `Connection: keep-alive`. */
  KEEP_ALIVE: 16,
  /** The request said `Expect: 100-continue` and a body follows. */
  EXPECT_CONTINUE: 32,
  /** The request has a body (Content-Length > 0 or chunked). */
  HAS_BODY: 64,
} as const;

/** Where the framer sends what it finds. */
export interface FramerSink {
  /**
   * The first byte of a new request arrived, at `chunk[at]` (what follows in `chunk` is what has come of
   * it so far). Return false to stop framing here.
   */
  onRequestStart(chunk: Buffer, at: number): boolean;
  /** A whole request, its bytes exactly as received. Return false to stop framing after it. */
  onRequest(bytes: Buffer, flags: number): boolean;
  /**
   * The input cannot be framed; `status` is the response it deserves. Framing has stopped. `flags`: the
   * REQUEST_FLAGS of the request it failed in, as far as its request line was read (0 before).
   */
  onError(status: number, reason: string, flags: number): void;
}

export interface FramerLimits {
  /** Bytes of the request head: request line, header lines and the blank line (trailers count too). */
  readonly maxHeaderBytes: number;
  /** Bytes of body: decoded data for chunked bodies, with their chunk extensions. */
  readonly maxBodyBytes: number;
}

/**
 * A chunk-size line longer than this is refused with 413, as Node answers an
 * over-long extension. Sizes need a handful of hex digits; the rest would be
 * chunk extensions, a known resource-exhaustion vector (CVE-2024-22019). Across
 * chunks, extension bytes count against maxBodyBytes.
 */
const MAX_CHUNK_LINE_BYTES = 4096;

/**
 * A Content-Length request that spans reads gets its own buffer once at least
 * 1/RESERVE_RATIO of it has come: a client can make the listener reserve at
 * most this many times what it sent.
 */
const RESERVE_RATIO = 4;

/**
 * Content-Length values with more significant digits than this are over any
 * body limit (maxBodyBytes is at most 2^31 - 1) and are not added up exactly.
 */
const MAX_LENGTH_DIGITS = 15;

/** The largest Content-Length taken as a number: 2^63 - 1, a signed 64-bit size. Longer is a 400. */
const MAX_LENGTH_TEXT = "9223372036854775807";

/** A chunk size with more significant hex digits than this overflows 64 bits: a 400, not a 413. */
const MAX_CHUNK_SIZE_DIGITS = 16;

const IDLE = 0;
const HEAD = 1;
const BODY = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_CR = 5;
const CHUNK_DATA_LF = 6;
const TRAILERS = 7;
const DONE = 8;
const STOPPED = 9;

/** Codings this framer knows by name; any other in Transfer-Encoding is 501 (RFC 9112 6.1). */
const KNOWN_CODINGS = ["gzip", "x-gzip", "deflate", "compress", "x-compress"];

export class RequestFramer {
  #sink: FramerSink;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;

  #state = IDLE;
  /** A CR was the last byte seen between requests: an LF must follow. */
  #idleCr = false;
  /** Earlier chunks' pieces of the unfinished request (made only when a request spans reads). */
  #parts: Buffer[] | null = null;
  /** Bytes in #parts, kept as they come: adding them up again at every read would cost the square of the reads. */
  #partsBytes = 0;
  /**
   * The whole request's bytes, once its Content-Length body is known to span
   * reads and enough of it has come (see RESERVE_RATIO): later body bytes are
   * copied straight in (it is filled up to its length less #remaining), and
   * it is the request when the body is complete.
   */
  #whole: Buffer | null = null;
  /** Earlier chunks' pieces of the unfinished line (made only when a line spans reads). */
  #line: Buffer[] | null = null;
  #lineBytes = 0;
  #headBytes = 0;
  #headLines = 0;
  #flags = 0;
  #hostCount = 0;
  #contentLength = -1;
  /** The significant digits of a Content-Length too long to add up (else ""), to compare a repeat. */
  #longLength = "";
  #te = false;
  #teChunked = 0;
  #teLastChunked = false;
  #teUnknown = false;
  /** Body bytes still to come: of the Content-Length body, or of the current chunk. */
  #remaining = 0;
  /** Body bytes counted against maxBodyBytes so far. */
  #bodyBytes = 0;
  #continuePending = false;
  /** Bytes of the last chunk that came after the request the sink stopped at (onRequest returned false). */
  #afterStop = 0;

  constructor(sink: FramerSink, limits: FramerLimits) {
    this.#sink = sink;
    this.#maxHeaderBytes = limits.maxHeaderBytes;
    this.#maxBodyBytes = limits.maxBodyBytes;
  }

  /** A request has begun and is not complete yet. */
  get inRequest(): boolean {
    return this.#state !== IDLE && this.#state !== STOPPED;
  }

  /** The request's head is complete but not its body. */
  get inBody(): boolean {
    return this.#state >= BODY && this.#state <= TRAILERS;
  }

  /** The current request waits for a `100 Continue` before its body (RFC 9110 10.1.1). */
  get needsContinue(): boolean {
    return this.#continuePending && this.inBody;
  }

  /** The caller sent the interim response: do not ask again. */
  continueSent(): void {
    this.#continuePending = false;
  }

  /** Bytes that followed, in the same chunk, the request at which the sink stopped framing: input left unread. */
  get bytesAfterStop(): number {
    return this.#afterStop;
  }

  /** Between requests, with nothing carried over: the framer may serve another connection. */
  get reusable(): boolean {
    return this.#state === IDLE && !this.#idleCr;
  }

  /** Start over for `sink`, as new: a listener keeps idle framers for its connections' next requests. */
  reset(sink: FramerSink): void {
    this.#sink = sink;
    this.#state = IDLE;
    this.#idleCr = false;
    this.#parts = null;
    this.#partsBytes = 0;
    this.#whole = null;
    this.#line = null;
    this.#lineBytes = 0;
    this.#continuePending = false;
    this.#afterStop = 0;
  }

  /** Frame no more: later bytes are ignored. */
  stop(): void {
    this.#state = STOPPED;
    this.#parts = null;
    this.#partsBytes = 0;
    this.#whole = null;
    this.#line = null;
  }

  /**
   * How many of the next bytes go straight into the current request's own
   * buffer: the rest of a Content-Length body that spans reads, once reserved;
   * else 0. While it is above 0, push() copies that many bytes and keeps no
   * reference to the chunk, so the caller may pass a view of a buffer it
   * reuses (the shared read buffer) and save copying it out first.
   */
  get bodyRoom(): number {
    return this.#whole !== null && this.#state === BODY ? this.#remaining : 0;
  }

  /** Feed the next bytes from the connection. */
  push(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    let start = this.#state === IDLE ? -1 : 0;
    while (pos < len) {
      switch (this.#state) {
        case IDLE: {
          const b = chunk[pos]!;
          // RFC 9112 2.2: empty lines before a request line are ignored, but only as CRLF.
          if (this.#idleCr) {
            if (b !== LF) {
              this.#fail(400, "bare CR before the request line");
              return;
            }
            this.#idleCr = false;
            pos++;
            continue;
          }
          if (b === CR) {
            this.#idleCr = true;
            pos++;
            continue;
          }
          if (b === LF) {
            this.#fail(400, "bare LF before the request line");
            return;
          }
          if (!this.#sink.onRequestStart(chunk, pos)) {
            this.stop();
            return;
          }
          this.#begin();
          start = pos;
          continue;
        }
        case HEAD:
        case CHUNK_SIZE:
        case TRAILERS: {
          pos = this.#takeLine(chunk, pos);
          if (pos < 0) return;
          break;
        }
        case BODY:
        case CHUNK_DATA: {
          const take = Math.min(this.#remaining, len - pos);
          if (this.#whole !== null) chunk.copy(this.#whole, this.#whole.length - this.#remaining, pos, pos + take);
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#state === BODY ? DONE : CHUNK_DATA_CR;
          break;
        }
        case CHUNK_DATA_CR:
          if (chunk[pos] !== CR) {
            this.#fail(400, "chunk data not followed by CRLF");
            return;
          }
          pos++;
          this.#state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (chunk[pos] !== LF) {
            this.#fail(400, "chunk data not followed by CRLF");
            return;
          }
          pos++;
          this.#state = CHUNK_SIZE;
          break;
        default:
          return;
      }
      if (this.#state === DONE) {
        if (!this.#complete(chunk, start, pos)) return;
        start = -1;
      }
    }
    if (this.inRequest && start >= 0 && start < len && this.#whole === null) {
      (this.#parts ??= []).push(chunk.subarray(start));
      this.#partsBytes += len - start;
      if (this.#state === BODY) this.#reserve();
    }
  }

  /**
   * A Content-Length body spans reads: once a good part of the request has come,
   * give it a buffer of its full size and move what came so far into it, so
   * that the rest is copied once, not kept in pieces and joined at the end.
   * Waiting for that part bounds what a client can make the listener reserve
   * without sending it; Buffer.allocUnsafe does not touch the pages either.
   */
  #reserve(): void {
    const parts = this.#parts!;
    const received = this.#partsBytes;
    const total = received + this.#remaining;
    if (received * RESERVE_RATIO < total) return;
    let whole: Buffer;
    try {
      whole = Buffer.allocUnsafe(total);
    } catch {
      return; // no memory for it now: the pieces are joined at the end, as before
    }
    let at = 0;
    for (const part of parts) at += part.copy(whole, at);
    this.#whole = whole;
    this.#parts = null;
    this.#partsBytes = 0;
  }

  #begin(): void {
    this.#state = HEAD;
    this.#headBytes = 0;
    this.#headLines = 0;
    this.#flags = 0;
    this.#hostCount = 0;
    this.#contentLength = -1;
    this.#longLength = "";
    this.#te = false;
    this.#teChunked = 0;
    this.#teLastChunked = false;
    this.#teUnknown = false;
    this.#remaining = 0;
    this.#bodyBytes = 0;
    this.#continuePending = false;
  }

  #complete(chunk: Buffer, start: number, end: number): boolean {
    let bytes: Buffer;
    if (this.#whole !== null) {
      bytes = this.#whole;
      this.#whole = null;
    } else if (this.#parts === null) {
      // The usual keep-alive read is exactly one request: no view to make.
      bytes = start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
    } else {
      this.#parts.push(chunk.subarray(0, end));
      bytes = Buffer.concat(this.#parts, this.#partsBytes + end);
      this.#parts = null;
      this.#partsBytes = 0;
    }
    const flags = this.#flags;
    this.#state = IDLE;
    this.#continuePending = false;
    if (!this.#sink.onRequest(bytes, flags)) {
      this.#afterStop = chunk.length - end;
      this.stop();
      return false;
    }
    return true;
  }

  #fail(status: number, reason: string): void {
    const flags = this.requestFlags;
    this.stop();
    this.#sink.onError(status, reason, flags);
  }

  /** REQUEST_FLAGS of the request being framed, once its request line is read (0 between requests). */
  get requestFlags(): number {
    return this.#state === IDLE || this.#state === DONE || this.#state === STOPPED ? 0 : this.#flags;
  }

  /**
   * Consume bytes of a line-based part (head, chunk-size line, trailers) from
   * `pos`. Returns the position after what it consumed, or -1 once it failed.
   */
  #takeLine(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    const lf = indexOfLF(chunk, pos);
    const end = lf === -1 ? len : lf + 1;
    const chunkLine = this.#state === CHUNK_SIZE;
    // The bytes this line may still take before its size limit.
    let room = chunkLine ? MAX_CHUNK_LINE_BYTES - this.#lineBytes : this.#maxHeaderBytes - this.#headBytes;
    // The empty line that ends the trailers is free, so that a chunked request's head may use the whole
    // limit, as a Content-Length request's may: a line that begins with CR may take 2 bytes past it (it is
    // that CRLF, or malformed). Any other line past the limit is refused as its first byte comes.
    if (this.#state === TRAILERS && room < 2 - this.#lineBytes) {
      const first = this.#lineBytes > 0 ? this.#line![0]![0] : chunk[pos];
      if (first === CR) room = 2 - this.#lineBytes;
    }
    // RFC 9112 2.2: a CR followed by anything but LF is refused as soon as that byte comes, not once an LF
    // or a time-out does; unless the size limit was crossed first, so that the answer is the same however
    // the bytes were cut. A complete line within its limit has a bare CR refused by the line's own checks.
    if ((lf === -1 || end - pos > room) && this.#bareCrBefore(chunk, pos, Math.min(lf === -1 ? len : lf, pos + room))) {
      this.#fail(400, "bare CR in a line");
      return -1;
    }
    if (end - pos > room) {
      if (chunkLine) this.#fail(413, "chunk extensions too large");
      else this.#fail(431, "request header fields too large");
      return -1;
    }
    if (!chunkLine) this.#headBytes += end - pos;
    if (lf === -1) {
      (this.#line ??= []).push(chunk.subarray(pos));
      this.#lineBytes += len - pos;
      return len;
    }
    let buf = chunk;
    let s = pos;
    let lfAt = lf;
    if (this.#lineBytes > 0) {
      const line = this.#line!;
      line.push(chunk.subarray(pos, end));
      buf = Buffer.concat(line);
      s = 0;
      lfAt = buf.length - 1;
      this.#line = null;
      this.#lineBytes = 0;
    }
    // RFC 9112 2.2: a bare LF is not a line terminator here; it is how requests are smuggled.
    if (lfAt === s || buf[lfAt - 1] !== CR) {
      this.#fail(400, "line not terminated by CRLF");
      return -1;
    }
    const ok =
      this.#state === HEAD
        ? this.#headLine(buf, s, lfAt - 1)
        : this.#state === CHUNK_SIZE
          ? this.#chunkSizeLine(buf, s, lfAt - 1)
          : this.#trailerLine(buf, s, lfAt - 1);
    return ok ? end : -1;
  }

  /**
   * Whether a bare CR of the line shows at a byte before `limit`: a CR in `chunk` from `pos` whose next byte
   * is there, or a CR ending the line's earlier pieces while `chunk[pos]` (not an LF: `limit` stops short of
   * the line's LF) is there.
   */
  #bareCrBefore(chunk: Buffer, pos: number, limit: number): boolean {
    if (pos >= limit) return false;
    const prev = this.#line?.at(-1);
    if (prev !== undefined && prev[prev.length - 1] === CR) return true;
    const cr = chunk.indexOf(CR, pos);
    return cr !== -1 && cr + 1 < limit;
  }

  /** One line of the head, `buf[s, e)` without its CRLF. */
  #headLine(buf: Buffer, s: number, e: number): boolean {
    if (this.#headLines++ === 0) return this.#requestLine(buf, s, e);
    if (s === e) return this.#headEnd();
    return this.#fieldLine(buf, s, e, true);
  }

  /** request-line = method SP request-target SP HTTP-version (RFC 9112 3). */
  #requestLine(buf: Buffer, s: number, e: number): boolean {
    let i = s;
    while (i < e && TOKEN[buf[i]!]) i++;
    const methodEnd = i;
    if (methodEnd === s || buf[i] !== SP) return this.#bad("invalid method or request line");
    const t = ++i;
    while (i < e && buf[i] !== SP) {
      if (!TARGET[buf[i]!]) return this.#bad("invalid character in request target");
      i++;
    }
    if (i === t || i === e) return this.#bad("invalid request line");
    const targetEnd = i;
    const v = i + 1;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
    if (
      e - v !== 8 ||
      !isHttpName(buf, v) ||
      buf[v + 6] !== 0x2e ||
      !isDigitByte(buf[v + 5]!) ||
      !isDigitByte(buf[v + 7]!)
    ) {
      return this.#bad("invalid HTTP version");
    }
    // The version comes before the target's form: the forms are HTTP/1.x rules, and
    // "PRI * HTTP/2.0" (the HTTP/2 preface) deserves a 505, not a 400.
    const major = buf[v + 5]! - 0x30;
    const minor = buf[v + 7]! - 0x30;
    if (major !== 1 || minor > 1) {
      this.#fail(505, "HTTP version not supported");
      return false;
    }
    const method = methodKind(buf, s, methodEnd);
    if (!this.#targetForm(buf, t, targetEnd, method)) return false;
    if (minor === 0) this.#flags |= REQUEST_FLAGS.HTTP10;
    if (method === METHOD_HEAD) this.#flags |= REQUEST_FLAGS.HEAD;
    if (method === METHOD_CONNECT) this.#flags |= REQUEST_FLAGS.CONNECT;
    return true;
  }

  /** RFC 9112 3.2: which request-target form each method may use. */
  #targetForm(buf: Buffer, s: number, e: number, method: number): boolean {
    const first = buf[s];
    if (method === METHOD_CONNECT) {
      // authority-form = uri-host ":" port, and nothing else (RFC 9112 3.2.3).
      return isHostPort(buf, s, e, true) || this.#bad("CONNECT needs an authority-form target");
    }
    if (first === 0x2f) return true; // origin-form
    if (first === 0x2a) {
      // asterisk-form: exactly "*", and only for OPTIONS (RFC 9112 3.2.4).
      if (e - s === 1 && method === METHOD_OPTIONS) return true;
      return this.#bad("asterisk-form target is only for OPTIONS");
    }
    // absolute-form: scheme "://" authority [ path-abempty ] [ "?" query ] (RFC 9112 3.2.2,
    // RFC 3986 3). The authority is required, which keeps "host:port" (authority-form)
    // out of every method but CONNECT, and it may not carry userinfo (RFC 9110 4.2.4).
    let i = s;
    if (!isAlphaByte(buf[i]!)) return this.#bad("invalid request target");
    while (
      i < e &&
      (isAlphaByte(buf[i]!) || isDigitByte(buf[i]!) || buf[i] === 0x2b || buf[i] === 0x2d || buf[i] === 0x2e)
    )
      i++;
    if (e - i < 3 || buf[i] !== COLON || buf[i + 1] !== 0x2f || buf[i + 2] !== 0x2f) {
      return this.#bad("invalid request target");
    }
    const a = i + 3;
    let ae = a;
    while (ae < e && buf[ae] !== 0x2f && buf[ae] !== 0x3f) ae++;
    if (!isHostPort(buf, a, ae, false)) return this.#bad("invalid authority in request target");
    return true;
  }

  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 5). */
  #fieldLine(buf: Buffer, s: number, e: number, inHead: boolean): boolean {
    let i = s;
    while (i < e && TOKEN[buf[i]!]) i++;
    if (i === s) {
      // RFC 9112 5.2: obs-fold is refused with 400 rather than unfolded.
      return this.#bad(buf[s] === SP || buf[s] === HTAB ? "obsolete line folding" : "invalid header name");
    }
    // RFC 9112 5.1: no whitespace between the field name and the colon.
    if (i === e || buf[i] !== COLON) return this.#bad("invalid character in header name");
    const nameEnd = i++;
    while (i < e && (buf[i] === SP || buf[i] === HTAB)) i++;
    let ve = e;
    while (ve > i && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let k = i; k < ve; k++) {
      if (!FIELD_VALUE[buf[k]!]) return this.#bad("invalid character in header value");
    }
    if (!inHead) return this.#trailerName(buf, s, nameEnd);
    switch (nameEnd - s) {
      case 4:
        if (equalsLower(buf, s, nameEnd, "host")) return this.#host(buf, i, ve);
        break;
      case 6:
        if (equalsLower(buf, s, nameEnd, "expect") && equalsLower(buf, i, ve, "100-continue")) {
          this.#flags |= REQUEST_FLAGS.EXPECT_CONTINUE;
        }
        break;
      case 10:
        if (equalsLower(buf, s, nameEnd, "connection")) this.#connection(buf, i, ve);
        break;
      case 14:
        if (equalsLower(buf, s, nameEnd, "content-length")) return this.#length(buf, i, ve);
        break;
      case 17:
        if (equalsLower(buf, s, nameEnd, "transfer-encoding")) return this.#codings(buf, i, ve);
        break;
    }
    return true;
  }

  /**
   * RFC 9110 6.5.1: fields that frame or route the message cannot come after its
   * content. A trailer Content-Length, Transfer-Encoding or Host is refused rather
   * than ignored, since a peer that merges trailers into the header section would
   * read the message differently.
   */
  #trailerName(buf: Buffer, s: number, e: number): boolean {
    if (
      equalsLower(buf, s, e, "host") ||
      equalsLower(buf, s, e, "content-length") ||
      equalsLower(buf, s, e, "transfer-encoding")
    ) {
      return this.#bad("framing field in the trailer section");
    }
    return true;
  }

  #host(buf: Buffer, s: number, e: number): boolean {
    // RFC 9112 3.2: more than one Host, or an invalid one, is a 400. Host = uri-host [ ":" port ]
    // (RFC 9110 7.2). An empty Host is only for a target URI without an authority, and every
    // http(s) URI has one: RFC 9112 3.3 lets the server reject the empty authority it makes.
    if (++this.#hostCount > 1) return this.#bad("more than one Host header");
    if (!isHostPort(buf, s, e, false)) return this.#bad("invalid Host header");
    return true;
  }

  #connection(buf: Buffer, s: number, e: number): void {
    let i = s;
    while (i < e) {
      while (i < e && (buf[i] === SP || buf[i] === HTAB || buf[i] === COMMA)) i++;
      const t = i;
      while (i < e && buf[i] !== COMMA && buf[i] !== SP && buf[i] !== HTAB) i++;
      if (equalsLower(buf, t, i, "close")) this.#flags |= REQUEST_FLAGS.CLOSE;
      else if (equalsLower(buf, t, i, "keep-alive")) this.#flags |= REQUEST_FLAGS.KEEP_ALIVE;
    }
  }

  /**
   * Content-Length = 1*DIGIT; repeated, it must say the same number (RFC 9110 8.6,
   * RFC 9112 6.3). No sign, no space inside, no comma list: a lenient peer that
   * reads "5, 6" or "+5" differently is how a body gets smuggled.
   */
  #length(buf: Buffer, s: number, e: number): boolean {
    if (s === e) return this.#bad("empty Content-Length");
    let k = s;
    while (k < e - 1 && buf[k] === 0x30) k++;
    let value = 0;
    for (let d = k; d < e; d++) {
      const b = buf[d]!;
      if (!isDigitByte(b)) return this.#bad("invalid Content-Length");
      value = value * 10 + (b - 0x30);
    }
    let long = "";
    if (e - k > MAX_LENGTH_DIGITS) {
      long = buf.toString("latin1", k, e);
      if (long.length > MAX_LENGTH_TEXT.length || (long.length === MAX_LENGTH_TEXT.length && long > MAX_LENGTH_TEXT)) {
        return this.#bad("Content-Length overflow");
      }
      value = Number.MAX_SAFE_INTEGER;
    }
    if (this.#contentLength !== -1 && (this.#contentLength !== value || this.#longLength !== long)) {
      return this.#bad("conflicting Content-Length headers");
    }
    this.#contentLength = value;
    this.#longLength = long;
    return true;
  }

  /** transfer-coding list, possibly spread over several lines (RFC 9112 6.1, 7). */
  #codings(buf: Buffer, s: number, e: number): boolean {
    this.#te = true;
    let i = s;
    for (;;) {
      const t = i;
      while (i < e && TOKEN[buf[i]!]) i++;
      if (i === t) return this.#bad("invalid Transfer-Encoding");
      if (equalsLower(buf, t, i, "chunked")) {
        this.#teChunked++;
        this.#teLastChunked = true;
      } else {
        this.#teLastChunked = false;
        let known = false;
        for (const name of KNOWN_CODINGS) if (equalsLower(buf, t, i, name)) known = true;
        if (!known) this.#teUnknown = true;
      }
      i = skipOws(buf, i, e);
      while (i < e && buf[i] === SEMICOLON) {
        // chunked takes no parameters (RFC 9112 7).
        if (this.#teLastChunked) return this.#bad("parameters on chunked");
        i = this.#parameter(buf, skipOws(buf, i + 1, e), e);
        if (i < 0) return false;
        i = skipOws(buf, i, e);
      }
      if (i === e) return true;
      if (buf[i] !== COMMA) return this.#bad("invalid Transfer-Encoding");
      i = skipOws(buf, i + 1, e);
    }
  }

  /** parameter = token "=" ( token / quoted-string ); returns the end, or -1. */
  #parameter(buf: Buffer, s: number, e: number): number {
    let i = s;
    while (i < e && TOKEN[buf[i]!]) i++;
    if (i === s) return this.#badAt("invalid parameter");
    i = skipOws(buf, i, e);
    if (buf[i] !== EQUALS) return this.#badAt("invalid parameter");
    i = skipOws(buf, i + 1, e);
    return this.#tokenOrQuoted(buf, i, e);
  }

  /**
   * token / quoted-string (RFC 9110 5.6.4): qdtext and quoted-pair are HTAB, SP,
   * visible ASCII and obs-text, so a control byte (a bare CR, NUL) is refused even
   * inside quotes. Chunk extensions come here without a field-value check first.
   */
  #tokenOrQuoted(buf: Buffer, s: number, e: number): number {
    let i = s;
    if (buf[i] === DQUOTE) {
      i++;
      for (;;) {
        if (i >= e) return this.#badAt("unterminated quoted string");
        const b = buf[i]!;
        if (b === DQUOTE) return i + 1;
        if (b === BACKSLASH) {
          i++;
          if (i >= e) return this.#badAt("unterminated quoted string");
        }
        if (!FIELD_VALUE[buf[i]!]) return this.#badAt("invalid character in quoted string");
        i++;
      }
    }
    while (i < e && TOKEN[buf[i]!]) i++;
    if (i === s) return this.#badAt("invalid parameter value");
    return i;
  }

  /** The blank line: decide how the body is delimited (RFC 9112 6.3). */
  #headEnd(): boolean {
    const http10 = (this.#flags & REQUEST_FLAGS.HTTP10) !== 0;
    if (!http10 && this.#hostCount === 0) return this.#bad("missing Host header");
    // RFC 9110 9.3.6: a CONNECT request has no content; what follows its head is the tunnel's, not a body.
    if (this.#flags & REQUEST_FLAGS.CONNECT && (this.#te || this.#contentLength > 0)) {
      return this.#bad("CONNECT request with content");
    }
    if (this.#te) {
      // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing, and with
      // Content-Length it is the classic smuggling ambiguity: both are refused.
      if (http10) return this.#bad("Transfer-Encoding in an HTTP/1.0 request");
      if (this.#contentLength !== -1) return this.#bad("both Transfer-Encoding and Content-Length");
      // RFC 9112 6.3: when chunked is not the final coding the length cannot be known: a 400
      // (a MUST), which comes before the 501 for a coding this framer does not know (a SHOULD).
      if (!this.#teLastChunked) return this.#bad("chunked is not the final coding");
      if (this.#teChunked !== 1) return this.#bad("chunked applied more than once");
      if (this.#teUnknown) {
        this.#fail(501, "unsupported transfer coding");
        return false;
      }
      this.#openBody(CHUNK_SIZE);
      return true;
    }
    if (this.#contentLength > 0) {
      if (this.#contentLength > this.#maxBodyBytes) {
        this.#fail(413, "request body too large");
        return false;
      }
      this.#remaining = this.#contentLength;
      this.#openBody(BODY);
      return true;
    }
    // No body follows, so there is nothing to continue to.
    this.#flags &= ~REQUEST_FLAGS.EXPECT_CONTINUE;
    this.#state = DONE;
    return true;
  }

  #openBody(state: number): void {
    this.#state = state;
    this.#flags |= REQUEST_FLAGS.HAS_BODY;
    // RFC 9110 10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
    if (this.#flags & REQUEST_FLAGS.EXPECT_CONTINUE && !(this.#flags & REQUEST_FLAGS.HTTP10)) {
      this.#continuePending = true;
    } else {
      this.#flags &= ~REQUEST_FLAGS.EXPECT_CONTINUE;
    }
  }

  /**
   * chunk-size [ chunk-ext ] CRLF (RFC 9112 7.1), where
   * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
   * Whitespace is allowed only around ";" and "=": "5 " and "5;a " are refused,
   * as are a sign, a "0x" prefix and a size that overflows 64 bits.
   */
  #chunkSizeLine(buf: Buffer, s: number, e: number): boolean {
    let i = s;
    let size = 0;
    let digits = 0;
    while (i < e) {
      const h = HEX[buf[i]!]!;
      if (h < 0) break;
      if (digits > 0 || h > 0) digits++;
      if (size <= this.#maxBodyBytes) size = size * 16 + h;
      i++;
    }
    if (i === s) return this.#bad("invalid chunk size");
    if (digits > MAX_CHUNK_SIZE_DIGITS) return this.#bad("chunk size overflow");
    const digitsEnd = i;
    while (i < e) {
      i = skipOws(buf, i, e);
      if (i === e || buf[i] !== SEMICOLON) return this.#bad("invalid chunk size");
      i = skipOws(buf, i + 1, e);
      const t = i;
      while (i < e && TOKEN[buf[i]!]) i++;
      if (i === t) return this.#bad("invalid chunk extension");
      const k = skipOws(buf, i, e);
      if (k < e && buf[k] === EQUALS) {
        i = this.#tokenOrQuoted(buf, skipOws(buf, k + 1, e), e);
        if (i < 0) return false;
      }
    }
    // Leading zeros count like extension bytes: the whole chunked request is held until its end, and
    // "000…01" lines would otherwise let a body within the limit carry thousands of times its size.
    const zeros = digitsEnd - s - Math.max(digits, 1);
    this.#bodyBytes += size + zeros + (e - digitsEnd);
    if (this.#bodyBytes > this.#maxBodyBytes) {
      this.#fail(413, "request body too large");
      return false;
    }
    if (size === 0) {
      this.#state = TRAILERS;
    } else {
      this.#remaining = size;
      this.#state = CHUNK_DATA;
    }
    return true;
  }

  /** trailer-section = *( field-line CRLF ) CRLF (RFC 9112 7.1.2). */
  #trailerLine(buf: Buffer, s: number, e: number): boolean {
    if (s === e) {
      this.#state = DONE;
      return true;
    }
    return this.#fieldLine(buf, s, e, false);
  }

  #bad(reason: string): false {
    this.#fail(400, reason);
    return false;
  }

  #badAt(reason: string): -1 {
    this.#fail(400, reason);
    return -1;
  }
}

const METHOD_OTHER = 0;
const METHOD_HEAD = 1;
const METHOD_CONNECT = 2;
const METHOD_OPTIONS = 3;

const CONNECT_BYTES = Buffer.from("CONNECT");
const OPTIONS_BYTES = Buffer.from("OPTIONS");

/** Methods are case-sensitive (RFC 9110 9.1): "connect" is some other method. */
function methodKind(buf: Buffer, s: number, e: number): number {
  const n = e - s;
  if (n === 4 && buf[s] === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) {
    return METHOD_HEAD;
  }
  if (n === 7) {
    if (buf.compare(CONNECT_BYTES, 0, 7, s, e) === 0) return METHOD_CONNECT;
    if (buf.compare(OPTIONS_BYTES, 0, 7, s, e) === 0) return METHOD_OPTIONS;
  }
  return METHOD_OTHER;
}

function skipOws(buf: Buffer, i: number, e: number): number {
  while (i < e && (buf[i] === SP || buf[i] === HTAB)) i++;
  return i;
}

function isDigitByte(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isAlphaByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}
