/**
 * Inputs for the response keep-alive check (response-keepalive.ts): a table of
 * hand-written response heads and bodies a callback could return, each the
 * smallest form of one framing question, and a fixed-seed fast-check generator
 * that builds well-formed responses (interim 1xx heads, Content-Length or
 * chunked bodies with extensions and trailers, HTTP/1.0 keep-alive, 204/304)
 * and then mutates them: bytes inserted, deleted or replaced, head lines
 * duplicated, dropped or added from a list of framing-minded lines,
 * Content-Length off by one, the end cut or extended.
 */
import fc from "fast-check";

export interface ResponseInput {
  /** A name for hand-written cases; `gen:<n>` for generated ones. */
  name: string;
  bytes: Buffer;
}

const b = (s: string): Buffer => Buffer.from(s, "latin1");

const OK = "HTTP/1.1 200 OK\r\n";
const CL5 = "Content-Length: 5\r\n";
const TE = "Transfer-Encoding: chunked\r\n";
const CHUNKED_HELLO = "5\r\nhello\r\n0\r\n\r\n";
const FINAL = `${OK}${CL5}\r\nhello`;

/** [name, response]: the response is written as a latin1 string, one byte per character. */
const CASES: readonly (readonly [string, string])[] = [
  // Well-formed: the connection may stay open.
  ["cl", FINAL],
  ["cl-zero", `${OK}Content-Length: 0\r\n\r\n`],
  ["cl-lowercase-name", `${OK}content-length: 5\r\n\r\nhello`],
  ["cl-no-ows", `${OK}Content-Length:5\r\n\r\nhello`],
  ["cl-ows-around", `${OK}Content-Length: \t5 \t\r\n\r\nhello`],
  ["cl-leading-zeros", `${OK}Content-Length: 0005\r\n\r\nhello`],
  ["cl-many-leading-zeros", `${OK}Content-Length: 00000000000000000000000000005\r\n\r\nhello`],
  ["chunked", `${OK}${TE}\r\n${CHUNKED_HELLO}`],
  ["chunked-two-chunks", `${OK}${TE}\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n`],
  ["chunked-upper-hex-leading-zeros", `${OK}${TE}\r\n000A\r\n0123456789\r\n0000\r\n\r\n`],
  ["chunked-ext", `${OK}${TE}\r\n5;a=b\r\nhello\r\n0;x\r\n\r\n`],
  ["chunked-ext-quoted", `${OK}${TE}\r\n5;a="x y"\r\nhello\r\n0\r\n\r\n`],
  ["chunked-ext-bws", `${OK}${TE}\r\n5 ;a\r\nhello\r\n0\r\n\r\n`],
  ["chunked-trailer", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`],
  ["chunked-trailer-cl", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n`],
  ["chunked-name-upper", `${OK}Transfer-Encoding: CHUNKED\r\n\r\n${CHUNKED_HELLO}`],
  ["te-gzip-chunked", `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n${CHUNKED_HELLO}`],
  ["te-gzip-then-chunked-lines", `${OK}Transfer-Encoding: gzip\r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["te-chunked-twice-lines", `${OK}${TE}${TE}\r\n${CHUNKED_HELLO}`],
  ["te-chunked-trailing-tab", `${OK}Transfer-Encoding: chunked\t\r\n\r\n${CHUNKED_HELLO}`],
  ["te-gzip-chunked-trailing-tab", `${OK}Transfer-Encoding: gzip, chunked\t\r\n\r\n${CHUNKED_HELLO}`],
  ["te-chunked-space-tab", `${OK}Transfer-Encoding: chunked \t\r\n\r\n${CHUNKED_HELLO}`],
  ["te-chunked-trailing-space", `${OK}Transfer-Encoding: chunked \r\n\r\n${CHUNKED_HELLO}`],
  ["chunked-trailer-connection-close", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nConnection: close\r\n\r\n`],
  ["chunked-trailer-proxy-connection-close", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nProxy-Connection: close\r\n\r\n`],
  ["chunked-trailer-17k", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T: ${"t".repeat(17000)}\r\n\r\n`],
  ["chunked-ext-17k", `${OK}${TE}\r\n5;a=${"e".repeat(17000)}\r\nhello\r\n0\r\n\r\n`],
  ["103-17k-then-200", `HTTP/1.1 103 Early Hints\r\nLink: ${"l".repeat(17000)}\r\n\r\n${FINAL}`],
  ["103-proxy-connection-close-then-200", `HTTP/1.1 103 Early Hints\r\nProxy-Connection: close\r\n\r\n${FINAL}`],
  ["proxy-connection-close", `${OK}Proxy-Connection: close\r\n${CL5}\r\nhello`],
  ["te-chunked-chunked", `${OK}Transfer-Encoding: chunked, chunked\r\n\r\n${CHUNKED_HELLO}`],
  ["te-leading-comma", `${OK}Transfer-Encoding: ,chunked\r\n\r\n${CHUNKED_HELLO}`],
  ["te-identity-chunked", `${OK}Transfer-Encoding: identity, chunked\r\n\r\n${CHUNKED_HELLO}`],
  ["keep-alive-explicit", `${OK}Connection: keep-alive\r\n${CL5}\r\nhello`],
  ["http10-keep-alive", `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n${CL5}\r\nhello`],
  ["http10-keep-alive-upper", `HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n${CL5}\r\nhello`],
  ["http10-keep-alive-chunked", `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["http10-keep-alive-cl-te", `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n${CL5}${TE}\r\n${CHUNKED_HELLO}`],
  ["204", "HTTP/1.1 204 No Content\r\n\r\n"],
  ["204-cl", `HTTP/1.1 204 No Content\r\n${CL5}\r\n`],
  ["204-te", `HTTP/1.1 204 No Content\r\n${TE}\r\n`],
  ["304-cl", `HTTP/1.1 304 Not Modified\r\n${CL5}\r\n`],
  ["304-te", `HTTP/1.1 304 Not Modified\r\n${TE}\r\n`],
  ["head-shaped", `${OK}${CL5}\r\n`],
  ["head-shaped-te", `${OK}${TE}\r\n`],
  ["head-shaped-no-framing", `${OK}\r\n`],
  ["100-then-200", `HTTP/1.1 100 Continue\r\n\r\n${FINAL}`],
  ["103-then-200", `HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n${FINAL}`],
  ["102-103-then-200", `HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n${FINAL}`],
  ["199-then-200", `HTTP/1.1 199 Whatever\r\n\r\n${FINAL}`],
  ["100-then-204", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"],
  ["100-then-chunked", `HTTP/1.1 100 Continue\r\n\r\n${OK}${TE}\r\n${CHUNKED_HELLO}`],
  ["status-no-reason-sp", "HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhello"],
  ["status-no-reason", "HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-099", "HTTP/1.1 099 Low\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-000", "HTTP/1.1 000 Zero\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-600", "HTTP/1.1 600 High\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-999", "HTTP/1.1 999 High\r\nContent-Length: 5\r\n\r\nhello"],
  ["reason-obs-text", "HTTP/1.1 200 \xc3\xa9t\xe9\r\nContent-Length: 5\r\n\r\nhello"],
  ["reason-tab", "HTTP/1.1 200 O\tK\r\nContent-Length: 5\r\n\r\nhello"],
  ["value-obs-text", `${OK}X-A: \xff\xfe\r\n${CL5}\r\nhello`],
  ["connection-closed-token", `${OK}Connection: closed\r\n${CL5}\r\nhello`],
  ["connection-x-close", `${OK}Connection: x-close\r\n${CL5}\r\nhello`],
  ["upgrade-on-200", `${OK}Upgrade: h2c\r\nConnection: upgrade\r\n${CL5}\r\nhello`],
  ["proxy-connection-close", `${OK}Proxy-Connection: close\r\n${CL5}\r\nhello`],
  ["keep-alive-field", `${OK}Keep-Alive: timeout=5\r\n${CL5}\r\nhello`],

  // Content-Length oddities.
  ["cl-duplicate-same", `${OK}${CL5}${CL5}\r\nhello`],
  ["cl-duplicate-differ", `${OK}${CL5}Content-Length: 6\r\n\r\nhello`],
  ["cl-list-same", `${OK}Content-Length: 5, 5\r\n\r\nhello`],
  ["cl-list-same-no-sp", `${OK}Content-Length: 5,5\r\n\r\nhello`],
  ["cl-plus", `${OK}Content-Length: +5\r\n\r\nhello`],
  ["cl-minus", `${OK}Content-Length: -5\r\n\r\nhello`],
  ["cl-inner-space", `${OK}Content-Length: 5 5\r\n\r\nhello`],
  ["cl-hex", `${OK}Content-Length: 0x5\r\n\r\nhello`],
  ["cl-decimal", `${OK}Content-Length: 5.0\r\n\r\nhello`],
  ["cl-empty", `${OK}Content-Length: \r\n\r\n`],
  ["cl-huge", `${OK}Content-Length: 99999999999999999999\r\n\r\nhello`],
  ["cl-2pow64-plus-5", `${OK}Content-Length: 18446744073709551621\r\n\r\nhello`],
  ["cl-vt", `${OK}Content-Length: \x0b5\r\n\r\nhello`],
  ["cl-nul", `${OK}Content-Length: 5\x00\r\n\r\nhello`],
  ["cl-short", `${OK}Content-Length: 4\r\n\r\nhello`],
  ["cl-long", `${OK}Content-Length: 6\r\n\r\nhello`],
  ["cl-name-space", `${OK}Content-Length : 5\r\n\r\nhello`],
  ["cl-name-tab", `${OK}Content-Length\t: 5\r\n\r\nhello`],
  ["cl-name-leading-space", `${OK} Content-Length: 5\r\n\r\nhello`],

  // Content-Length and Transfer-Encoding together.
  ["cl-then-te", `${OK}${CL5}${TE}\r\n${CHUNKED_HELLO}`],
  ["te-then-cl", `${OK}${TE}${CL5}\r\n${CHUNKED_HELLO}`],
  ["cl-te-cl-covers-chunks", `${OK}Content-Length: 15\r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["cl-bad-te", `${OK}Content-Length: abc\r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["cl-zero-te", `${OK}Content-Length: 0\r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["te-chunked-gzip", `${OK}Transfer-Encoding: chunked, gzip\r\n\r\n${CHUNKED_HELLO}`],
  ["te-chunked-then-gzip-lines", `${OK}${TE}Transfer-Encoding: gzip\r\n\r\n${CHUNKED_HELLO}`],
  ["te-gzip-cl", `${OK}Transfer-Encoding: gzip\r\n${CL5}\r\nhello`],
  ["te-identity", `${OK}Transfer-Encoding: identity\r\n${CL5}\r\nhello`],
  ["te-chunked-param", `${OK}Transfer-Encoding: chunked;q=1\r\n\r\n${CHUNKED_HELLO}`],
  ["te-trailing-comma", `${OK}Transfer-Encoding: chunked,\r\n\r\n${CHUNKED_HELLO}`],
  ["te-xchunked", `${OK}Transfer-Encoding: xchunked\r\n\r\n${CHUNKED_HELLO}`],
  ["te-empty-then-chunked", `${OK}Transfer-Encoding: \r\n${TE}\r\n${CHUNKED_HELLO}`],
  ["te-name-space", `${OK}Transfer-Encoding : chunked\r\n${CL5}\r\nhello`],
  ["te-obs-fold", `${OK}Transfer-Encoding:\r\n chunked\r\n\r\n${CHUNKED_HELLO}`],

  // Chunked bodies that do not end where the bytes end, or read differently.
  ["chunked-no-last-crlf", `${OK}${TE}\r\n5\r\nhello\r\n0\r\n`],
  ["chunked-no-last-chunk", `${OK}${TE}\r\n5\r\nhello\r\n`],
  ["chunked-extra-crlf", `${OK}${TE}\r\n${CHUNKED_HELLO}\r\n`],
  ["chunked-extra-bytes", `${OK}${TE}\r\n${CHUNKED_HELLO}x`],
  ["chunked-data-long", `${OK}${TE}\r\n5\r\nhelloX\r\n0\r\n\r\n`],
  ["chunked-data-short", `${OK}${TE}\r\n5\r\nhell\r\n0\r\n\r\n`],
  ["chunked-data-no-crlf", `${OK}${TE}\r\n5\r\nhello0\r\n\r\n`],
  ["chunked-size-0x", `${OK}${TE}\r\n0x5\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-junk", `${OK}${TE}\r\n5 junk\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-space", `${OK}${TE}\r\n5 \r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-tab", `${OK}${TE}\r\n5\t\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-plus", `${OK}${TE}\r\n+5\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-nul", `${OK}${TE}\r\n5\x00\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-cr-cr-lf", `${OK}${TE}\r\n5\r\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-huge", `${OK}${TE}\r\nfffffffffffffffff5\r\nhello\r\n0\r\n\r\n`],
  ["chunked-size-2pow64-plus-5", `${OK}${TE}\r\n10000000000000005\r\nhello\r\n0\r\n\r\n`],
  ["chunked-ext-bare-cr", `${OK}${TE}\r\n5;a\rb\r\nhello\r\n0\r\n\r\n`],
  ["chunked-ext-nul", `${OK}${TE}\r\n5;a\x00\r\nhello\r\n0\r\n\r\n`],
  ["chunked-ext-bad-token", `${OK}${TE}\r\n5;a b\r\nhello\r\n0\r\n\r\n`],
  ["chunked-ext-quoted-crlf", `${OK}${TE}\r\n5;a="\r\n"\r\nab\r\n0\r\n\r\n`],
  ["chunked-ext-empty", `${OK}${TE}\r\n5;\r\nhello\r\n0\r\n\r\n`],
  ["chunked-last-ext-junk", `${OK}${TE}\r\n5\r\nhello\r\n0 junk\r\n\r\n`],
  ["chunked-bare-lf", `${OK}${TE}\r\n5\nhello\n0\n\n`],
  ["chunked-data-bare-lf-end", `${OK}${TE}\r\n5\r\nhello\n0\r\n\r\n`],
  ["trailer-no-colon", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nfoo\r\n\r\n`],
  ["trailer-obs-fold", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n`],
  ["trailer-nul", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T: a\x00\r\n\r\n`],
  ["trailer-bare-cr", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T: a\rb\r\n\r\n`],
  ["trailer-name-space", `${OK}${TE}\r\n5\r\nhello\r\n0\r\nX-T : a\r\n\r\n`],
  ["trailer-looks-like-chunk", `${OK}${TE}\r\n0\r\n5\r\nhello\r\n0\r\n\r\n`],
  ["trailer-looks-like-response", `${OK}${TE}\r\n0\r\nHTTP/1.1 200 OK\r\n\r\n`],

  // 1xx before the final head.
  ["101-then-200", `HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n${FINAL}`],
  ["100-close-then-200", `HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n${FINAL}`],
  ["http10-100-then-200", `HTTP/1.0 100 Continue\r\n\r\n${FINAL}`],
  ["http10-100-keep-alive-then-200", `HTTP/1.0 100 Continue\r\nConnection: keep-alive\r\n\r\n${FINAL}`],
  ["100-cl-then-200", `HTTP/1.1 100 Continue\r\n${CL5}\r\n${FINAL}`],
  ["100-cl-body-then-200", `HTTP/1.1 100 Continue\r\n${CL5}\r\nhello${FINAL}`],
  ["150-cl-then-200", `HTTP/1.1 150 Odd\r\n${CL5}\r\n${FINAL}`],
  ["100-bad-cl-then-200", `HTTP/1.1 100 Continue\r\nContent-Length: abc\r\n\r\n${FINAL}`],
  ["100-dup-cl-then-200", `HTTP/1.1 100 Continue\r\n${CL5}Content-Length: 6\r\n\r\n${FINAL}`],
  ["100-te-then-200", `HTTP/1.1 100 Continue\r\n${TE}\r\n${FINAL}`],
  ["100-cl-te-then-200", `HTTP/1.1 100 Continue\r\n${CL5}${TE}\r\n${FINAL}`],
  ["100-nul-then-200", `HTTP/1.1 100 Continue\r\nX: a\x00b\r\n\r\n${FINAL}`],
  ["1000-then-200", `HTTP/1.1 1000 Odd\r\n\r\n${FINAL}`],
  ["100-only", "HTTP/1.1 100 Continue\r\n\r\n"],
  ["100-then-http10-200", `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nConnection: keep-alive\r\n${CL5}\r\nhello`],

  // 204 and 304 carrying bytes anyway.
  ["204-body", `HTTP/1.1 204 No Content\r\n${CL5}\r\nhello`],
  ["304-chunked-body", `HTTP/1.1 304 Not Modified\r\n${TE}\r\n0\r\n\r\n`],
  ["204-then-crlf", "HTTP/1.1 204 No Content\r\n\r\n\r\n"],

  // Status lines.
  ["status-2000", "HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-200x", "HTTP/1.1 200x OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-200ok", "HTTP/1.1 200OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-200-tab", "HTTP/1.1 200\tOK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-20", "HTTP/1.1 20 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-2x0", "HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-double-space", "HTTP/1.1  200 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-version-lower", "http/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-version-1.2", "HTTP/1.2 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-version-2", "HTTP/2 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-version-0.9", "HTTP/0.9 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-reason-nul", "HTTP/1.1 200 O\x00K\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-reason-bare-cr", "HTTP/1.1 200 O\rK\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-reason-del", "HTTP/1.1 200 OK\x7f\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-reason-ctl", "HTTP/1.1 200 O\x01K\r\nContent-Length: 5\r\n\r\nhello"],
  ["status-bare-lf", "HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\nhello"],
  ["status-cr-cr-lf", "HTTP/1.1 200 OK\r\r\nContent-Length: 5\r\n\r\nhello"],
  ["leading-crlf", `\r\n${FINAL}`],
  ["leading-space", ` ${FINAL}`],

  // Head lines.
  ["obs-fold", `${OK}X-A: a\r\n b\r\n${CL5}\r\nhello`],
  ["obs-fold-cl", `${OK}Content-Length:\r\n 5\r\n\r\nhello`],
  ["obs-fold-first-line", `${OK} X-A: a\r\n${CL5}\r\nhello`],
  ["bare-lf-line", `${OK}X-A: a\n${CL5}\r\nhello`],
  ["bare-lf-end", `${OK}${CL5}\n\nhello`],
  ["bare-lf-blank-line", `${OK}${CL5}\nhello`],
  ["bare-cr-value", `${OK}X-A: a\rb\r\n${CL5}\r\nhello`],
  ["bare-cr-hides-te", `${OK}X-A: a\rTransfer-Encoding: chunked\r\n${CL5}\r\nhello`],
  ["bare-cr-hides-cl", `${OK}X-A: a\rContent-Length: 9\r\n${CL5}\r\nhello`],
  ["bare-cr-hides-close", `${OK}X-A: a\rConnection: close\r\n${CL5}\r\nhello`],
  ["cr-cr-lf-line", `${OK}X-A: a\r\r\n${CL5}\r\nhello`],
  ["bare-cr-blank-line", `${OK}${CL5}\r\rhello`],
  ["name-space-before-colon", `${OK}X-A : a\r\n${CL5}\r\nhello`],
  ["name-inner-space", `${OK}X A: a\r\n${CL5}\r\nhello`],
  ["name-empty", `${OK}: a\r\n${CL5}\r\nhello`],
  ["line-no-colon", `${OK}Foo\r\n${CL5}\r\nhello`],
  ["name-nul", `${OK}X\x00A: a\r\n${CL5}\r\nhello`],
  ["name-obs-text", `${OK}X\xffA: a\r\n${CL5}\r\nhello`],
  ["value-nul", `${OK}X-A: a\x00b\r\n${CL5}\r\nhello`],
  ["value-del", `${OK}X-A: a\x7fb\r\n${CL5}\r\nhello`],
  ["value-ctl", `${OK}X-A: a\x01b\r\n${CL5}\r\nhello`],
  ["value-vt", `${OK}X-A: a\x0bb\r\n${CL5}\r\nhello`],
  ["value-esc", `${OK}X-A: a\x1bb\r\n${CL5}\r\nhello`],
  ["connection-nul-close", `${OK}Connection: \x00close\r\n${CL5}\r\nhello`],
  ["connection-keep-alive-close", `${OK}Connection: keep-alive, close\r\n${CL5}\r\nhello`],
  ["connection-close-upper", `${OK}Connection: CLOSE\r\n${CL5}\r\nhello`],
  ["http10-keep-alive-and-close", `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n${CL5}\r\nhello`],
  ["http10-keep-alive-space-token", `HTTP/1.0 200 OK\r\nConnection: keep-alive x\r\n${CL5}\r\nhello`],

  // Long heads (Node's default maxHeaderSize is 16 KiB).
  ["long-value-16k", `${OK}X-A: ${"a".repeat(16 * 1024)}\r\n${CL5}\r\nhello`],
  ["long-value-80k", `${OK}X-A: ${"a".repeat(80 * 1024)}\r\n${CL5}\r\nhello`],
  ["many-fields", `${OK}${"X-A: a\r\n".repeat(3000)}${CL5}\r\nhello`],
  ["long-reason", `HTTP/1.1 200 ${"R".repeat(20 * 1024)}\r\n${CL5}\r\nhello`],
  ["long-1xx-then-200", `HTTP/1.1 103 Early Hints\r\nLink: ${"l".repeat(12 * 1024)}\r\n\r\n${FINAL}`],
  ["long-body", `${OK}Content-Length: 200000\r\n\r\n${"b".repeat(200000)}`],
  ["long-chunked", `${OK}${TE}\r\nfff\r\n${"c".repeat(0xfff)}\r\n0\r\n\r\n`],
];

export function caseResponses(): ResponseInput[] {
  return CASES.map(([name, s]) => ({ name, bytes: b(s) }));
}

// ---- generated inputs --------------------------------------------------------

const STATUSES = [200, 200, 200, 201, 204, 206, 301, 304, 404, 500, 101, 199, 99, 600, 999];
const REASONS = ["OK", "", "Some Reason", "x y"];
const FIELDS = [
  "Server: t",
  "Date: Mon, 01 Jan 2024 00:00:00 GMT",
  "X-A: b",
  "Content-Type: text/plain",
  "Cache-Control: no-cache",
  "Keep-Alive: timeout=5",
  "Trailer: X-T",
  "Vary: *",
];
const CONNECTIONS = [
  null,
  null,
  "keep-alive",
  "close",
  "Keep-Alive",
  "close, keep-alive",
  "upgrade",
  "te",
  "x, keep-alive",
];
const INTERIM = [
  "HTTP/1.1 100 Continue\r\n\r\n",
  "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
  "HTTP/1.1 102 Processing\r\n\r\n",
  "HTTP/1.1 199 X\r\nContent-Length: 3\r\n\r\n",
  "HTTP/1.0 100 Continue\r\n\r\n",
  "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n",
  "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n",
];
const BODY_PIECES = ["a", "b", "hello", "0", "\r", "\n", "\r\n", "HTTP/1.1 200 OK\r\n", "0\r\n\r\n", ";", "5\r\n"];
const EXTS = ["", "", "", ";a", ";a=b", ';a="b c"', " ;a", ";a=b;c"];
const TRAILERS = ["X-T: 1", "Content-Length: 5", "X-T:", "Transfer-Encoding: chunked"];
type Framing = "cl" | "chunked" | "none" | "cl+te" | "te+cl" | "te-other" | "chunked-gzip" | "gzip-chunked";
const FRAMINGS: readonly Framing[] = [
  "cl",
  "cl",
  "cl",
  "chunked",
  "chunked",
  "chunked",
  "none",
  "cl+te",
  "te+cl",
  "te-other",
  "chunked-gzip",
  "gzip-chunked",
];

/** Lines a mutation inserts into the head, each a framing question of its own. */
const HEAD_LINES = [
  "Content-Length: 5",
  "Content-Length: 0",
  "Content-Length: 05",
  "Content-Length: +5",
  "Content-Length:  5 ",
  "Content-Length: 5, 5",
  "Content-Length: 5,6",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: gzip",
  "Transfer-Encoding: chunked, gzip",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: identity",
  "Connection: close",
  "Connection: keep-alive",
  "Proxy-Connection: close",
  "Upgrade: h2c",
  "Connection: upgrade",
  "X-B: a\x00b",
  "X-B: a\rb",
  "X-B: \x7f",
  "X-B: \xff",
  " folded",
  "\tfolded",
  "X-B : a",
  "X-B\t: a",
  "Trailer: X-T",
];
const BYTES = [
  "\r",
  "\n",
  "\r\n",
  " ",
  "\t",
  "\x00",
  ",",
  ";",
  "0",
  "5",
  "a",
  "F",
  ":",
  "\x7f",
  "\xff",
  "\x0b",
  "\r\n ",
  "\r\n\r\n",
  "0\r\n\r\n",
];

interface Base {
  interim: string[];
  minor: 0 | 1;
  status: number;
  reason: string;
  fields: string[];
  connection: string | null;
  framing: Framing;
  body: string;
  /** Cut points (fractions) that split the body into chunks, with each chunk's size-line form. */
  chunks: { cut: number; ext: string; upper: boolean; zeros: number }[];
  trailers: string[];
}

const baseArb: fc.Arbitrary<Base> = fc.record({
  interim: fc.oneof(
    { weight: 4, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...INTERIM), { minLength: 1, maxLength: 2 }) },
  ),
  minor: fc.oneof({ weight: 4, arbitrary: fc.constant(1 as const) }, { weight: 1, arbitrary: fc.constant(0 as const) }),
  status: fc.constantFrom(...STATUSES),
  reason: fc.constantFrom(...REASONS),
  fields: fc.array(fc.constantFrom(...FIELDS), { maxLength: 3 }),
  connection: fc.constantFrom(...CONNECTIONS),
  framing: fc.constantFrom(...FRAMINGS),
  body: fc.array(fc.constantFrom(...BODY_PIECES), { maxLength: 4 }).map((p) => p.join("")),
  chunks: fc.array(
    fc.record({
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      ext: fc.constantFrom(...EXTS),
      upper: fc.boolean(),
      zeros: fc.constantFrom(0, 0, 0, 1, 3),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  trailers: fc.oneof(
    { weight: 4, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...TRAILERS), { minLength: 1, maxLength: 2 }) },
  ),
});

function hex(n: number, upper: boolean, zeros: number): string {
  const h = n.toString(16);
  return "0".repeat(zeros) + (upper ? h.toUpperCase() : h);
}

function chunkedBody(base: Base): string {
  const cuts = base.chunks.map((c) => Math.floor(c.cut * base.body.length)).sort((x, y) => x - y);
  let out = "";
  let from = 0;
  for (let k = 0; k < base.chunks.length; k++) {
    const to = k === base.chunks.length - 1 ? base.body.length : cuts[k]!;
    const c = base.chunks[k]!;
    if (to > from) out += `${hex(to - from, c.upper, c.zeros)}${c.ext}\r\n${base.body.slice(from, to)}\r\n`;
    from = Math.max(from, to);
  }
  const last = base.chunks[0]!;
  return `${out}${"0".repeat(1 + last.zeros)}${last.ext}\r\n${base.trailers.map((t) => `${t}\r\n`).join("")}\r\n`;
}

function buildBase(base: Base): string {
  const lines = [`HTTP/1.${base.minor} ${String(base.status).padStart(3, "0")} ${base.reason}`];
  lines.push(...base.fields);
  if (base.connection !== null) lines.push(`Connection: ${base.connection}`);
  let body = base.body;
  const chunked = (): string => chunkedBody(base);
  switch (base.framing) {
    case "cl":
      lines.push(`Content-Length: ${body.length}`);
      break;
    case "chunked":
      lines.push("Transfer-Encoding: chunked");
      body = chunked();
      break;
    case "none":
      break;
    case "cl+te":
      body = chunked();
      lines.push(`Content-Length: ${body.length}`, "Transfer-Encoding: chunked");
      break;
    case "te+cl":
      body = chunked();
      lines.push("Transfer-Encoding: chunked", `Content-Length: ${base.body.length}`);
      break;
    case "te-other":
      lines.push("Transfer-Encoding: gzip");
      break;
    case "chunked-gzip":
      lines.push("Transfer-Encoding: chunked, gzip");
      body = chunked();
      break;
    case "gzip-chunked":
      lines.push("Transfer-Encoding: gzip, chunked");
      body = chunked();
      break;
  }
  return `${base.interim.join("")}${lines.join("\r\n")}\r\n\r\n${body}`;
}

type Mutation =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; len: number }
  | { kind: "replace"; at: number; text: string }
  | { kind: "head-line"; at: number; text: string }
  | { kind: "dup-line"; at: number }
  | { kind: "drop-line"; at: number }
  | { kind: "cl-shift"; by: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; text: string };

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fraction, text: fc.constantFrom(...BYTES) }),
  fc.record({ kind: fc.constant("delete" as const), at: fraction, len: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("replace" as const), at: fraction, text: fc.constantFrom(...BYTES) }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("head-line" as const),
      at: fraction,
      text: fc.constantFrom(...HEAD_LINES),
    }),
  },
  fc.record({ kind: fc.constant("dup-line" as const), at: fraction }),
  fc.record({ kind: fc.constant("drop-line" as const), at: fraction }),
  fc.record({ kind: fc.constant("cl-shift" as const), by: fc.constantFrom(-1, 1) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fraction }),
  fc.record({
    kind: fc.constant("append" as const),
    text: fc.constantFrom("\r\n", "x", "0\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"),
  }),
);

/** Start offsets of the field lines of the final head (after any interim heads), then of its empty line. */
function headLines(s: string): number[] {
  let at = 0;
  for (;;) {
    const end = s.indexOf("\r\n\r\n", at);
    if (end < 0) return [];
    if (/^HTTP\/1\.[01] 1\d\d/.test(s.slice(at, at + 12)) && !s.startsWith("101", at + 9)) {
      at = end + 4;
      continue;
    }
    const starts: number[] = [];
    for (let i = s.indexOf("\r\n", at); i >= 0 && i < end; i = s.indexOf("\r\n", i + 2)) starts.push(i + 2);
    starts.push(end + 2);
    return starts;
  }
}

function mutate(s: string, m: Mutation): string {
  const pos = (f: number, n: number): number => Math.min(n, Math.floor(f * (n + 1)));
  switch (m.kind) {
    case "insert": {
      const i = pos(m.at, s.length);
      return s.slice(0, i) + m.text + s.slice(i);
    }
    case "delete": {
      const i = pos(m.at, s.length);
      return s.slice(0, i) + s.slice(i + m.len);
    }
    case "replace": {
      const i = pos(m.at, s.length - 1);
      return s.slice(0, i) + m.text + s.slice(i + 1);
    }
    case "truncate":
      return s.slice(0, pos(m.at, s.length));
    case "append":
      return s + m.text;
    case "cl-shift":
      return s.replace(
        /(Content-Length: *)(\d+)/,
        (_all, name: string, v: string) => `${name}${Math.max(0, Number(v) + m.by)}`,
      );
    case "head-line": {
      const starts = headLines(s);
      if (starts.length === 0) return s;
      const at = starts[pos(m.at, starts.length - 1)]!;
      return `${s.slice(0, at)}${m.text}\r\n${s.slice(at)}`;
    }
    default: {
      // dup-line, drop-line: a field line of the final head, if it has one.
      const starts = headLines(s);
      if (starts.length < 2) return s;
      const k = pos(m.at, starts.length - 2);
      const at = starts[k]!;
      const next = starts[k + 1]!;
      return m.kind === "dup-line"
        ? s.slice(0, next) + s.slice(at, next) + s.slice(next)
        : s.slice(0, at) + s.slice(next);
    }
  }
}

const responseArb: fc.Arbitrary<string> = fc
  .tuple(
    baseArb,
    fc.oneof(
      { weight: 1, arbitrary: fc.constant([] as Mutation[]) },
      { weight: 3, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
    ),
  )
  .map(([base, mutations]) => mutations.reduce(mutate, buildBase(base)));

/** `count` responses from a fixed seed, the same on every run and Node version. */
export function generatedResponses(seed: number, count: number): ResponseInput[] {
  if (count <= 0) return [];
  return fc.sample(responseArb, { seed, numRuns: count }).map((s, n) => ({ name: `gen:${n}`, bytes: b(s) }));
}
