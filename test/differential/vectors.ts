/**
 * A fast-check arbitrary aimed at request smuggling: requests assembled from
 * variants of the framing parts two parsers are known to read differently
 * (Content-Length and Transfer-Encoding names and values, obs-fold, line ends,
 * chunk-size lines, chunk data ends, trailers, Connection, the version),
 * followed by a second request, so that a different idea of where the first
 * one ends shows as a different second request or body.
 */
import fc from "fast-check";

const lengthNames = [
  "Content-Length",
  "content-length",
  "CONTENT-LENGTH",
  "Content-Length ",
  "Content-Length\t",
  " Content-Length",
  "Content_Length",
  "Content-Length\x00",
  "Content-Lengthx",
];

const lengthValues = [
  "5",
  "05",
  "0000000005",
  " 5",
  "5 ",
  "\t5\t",
  "+5",
  "-5",
  "5,5",
  "5, 5",
  "5,6",
  "5 5",
  "0x5",
  "5.0",
  "5e0",
  "",
  "\x0b5",
  "5\x0b",
  "5\x00",
  '"5"',
  "4294967301",
  "18446744073709551621",
  "0",
  "3",
  "20",
];

const codingNames = [
  "Transfer-Encoding",
  "transfer-encoding",
  "TRANSFER-ENCODING",
  "Transfer-Encoding ",
  " Transfer-Encoding",
  "Transfer_Encoding",
  "Transfer-Encoding\t",
  "Transfer-Encodingx",
];

const codingValues = [
  "chunked",
  "Chunked",
  "CHUNKED",
  " chunked",
  "chunked ",
  "\tchunked\t",
  "chunked,",
  ",chunked",
  ", chunked",
  "chunked, chunked",
  "gzip, chunked",
  "gzip,chunked",
  "chunked, gzip",
  "gzip",
  "identity",
  "identity, chunked",
  "xchunked",
  "chunkedx",
  "chunk",
  "chunked;x=1",
  '"chunked"',
  "chu nked",
  "chunked\x0b",
  "\x0bchunked",
  "chunked\x00",
  "chunked\r",
  "gzip;q=1, chunked",
  'gzip;q="1", chunked',
  "gzip;q, chunked",
  "pigeons, chunked",
  "",
];

const connections = [
  "",
  "Connection: close\r\n",
  "Connection: keep-alive\r\n",
  "Connection: Close\r\n",
  "Connection: close, keep-alive\r\n",
  "Connection: keep-alive, close\r\n",
  "Connection: closed\r\n",
  "Connection: close;x\r\n",
  "Connection: keep-alive,close\r\n",
  "Connection:close \r\n",
  "Connection: \tkeep-alive\t\r\n",
  "Connection: keep-alivex\r\n",
  "Connection: upgrade\r\nUpgrade: websocket\r\n",
  "Connection: upgrade\r\n",
  "Upgrade: h2c\r\n",
  "Expect: 100-continue\r\n",
  "Proxy-Connection: close\r\n",
];

const lineEnds = ["\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n", " \r\n", "\t\r\n"];

const sizeLines = [
  "5",
  "05",
  "00000000000000000005",
  "5 ",
  " 5",
  "5\t",
  "5;",
  "5;a",
  "5;a=b",
  "5 ;a",
  "5; a",
  "5;a =b",
  "5;a= b",
  '5;a="b"',
  '5;a="b;c"',
  '5;a="\r\n"',
  "5;a=b c",
  "+5",
  "-5",
  "0x5",
  "5x",
  "5\x00",
  "5\x0b",
  "6",
  "4",
  "fffffffffffffffff5",
  "10000000000000005",
  `5;${"a".repeat(40)}`,
];

const dataEnds = ["\r\n", "\r\n", "\r\n", "\n", "\r", "", "XX", "\r\r\n"];

const lastChunks = ["0", "00", "0000", "0;a=b", "0 ", "0;", "0\t", " 0", "0x0", "00000000000000000000"];

const trailerSets = [
  "",
  "",
  "X: y\r\n",
  "Content-Length: 5\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Host: other\r\n",
  "X: y\n",
  " X: y\r\n",
  "X : y\r\n",
  "GET /t HTTP/1.1\r\n",
];

const versions = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/1.01", "HTTP/1.10"];
const methods = ["POST", "GET", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "CONNECT"];
const targets = ["/", "/", "/", "/a?b=c", "*", "http://h/", "h:80", "/a b", "/#f"];

const second = [
  "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
  "hello",
  "GET /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
  "0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
  "\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
  "",
];

const pick = <T>(list: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...list);

/** Usually `normal`, now and then one of `odd`: one odd part per request gets past the other checks. */
const mostly = <T>(normal: T, odd: readonly T[], oddWeight = 1): fc.Arbitrary<T> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(normal) }, { weight: oddWeight, arbitrary: pick(odd) });

const lineEnd = fc.oneof(
  { weight: 12, arbitrary: fc.constant("\r\n") },
  { weight: 1, arbitrary: pick(lineEnds.slice(4)) },
);
const ows = mostly(" ", ["", "\t", "  "], 2);

/** A framing header line: Content-Length or Transfer-Encoding, maybe with an odd name, value, line end or fold. */
const framingLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(mostly("Content-Length", lengthNames.slice(1)), ows, mostly("5", lengthValues, 2), lineEnd)
      .map(([n, o, v, end]) => ({ chunked: false, text: `${n}:${o}${v}${end}` })),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(mostly("Transfer-Encoding", codingNames.slice(1)), ows, mostly("chunked", codingValues, 2), lineEnd)
      .map(([n, o, v, end]) => ({ chunked: true, text: `${n}:${o}${v}${end}` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(pick(codingNames), pick(codingValues), pick([" ", "\t"]))
      .map(([n, v, fold]) => ({ chunked: true, text: `${n}:\r\n${fold}${v}\r\n` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(pick(lengthNames), pick(lengthValues), pick([" ", "\t"]))
      .map(([n, v, fold]) => ({ chunked: false, text: `X: y\r\n${fold}${n}: ${v}\r\n` })),
  },
);

const chunkedBody = fc
  .tuple(
    fc.array(fc.tuple(mostly("5", sizeLines, 2), lineEnd, mostly("\r\n", dataEnds, 1)), { maxLength: 2 }),
    mostly("0", lastChunks),
    lineEnd,
    mostly("", trailerSets),
    mostly("\r\n", ["\n", "", "\r"]),
  )
  .map(([chunks, last, lastEnd, trailers, end]) => {
    const body = chunks.map(([size, le, de]) => `${size}${le}hello${de}`).join("");
    return `${body}${last}${lastEnd}${trailers}${end}`;
  });

const plainBody = mostly("hello", ["", "hel", "hellohello", "0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"], 2);

/** One request with odd framing, then more bytes that are another request if the first ends where it seems to. */
export const smugglingVector: fc.Arbitrary<Buffer> = fc
  .tuple(
    mostly("POST", methods.slice(1)),
    mostly("/", targets.slice(1), 1),
    mostly("HTTP/1.1", versions.slice(3), 1),
    mostly("Host: h\r\n", ["", "Host: h\r\nHost: h\r\n", "Host: h\n", "Host : h\r\n"], 1),
    fc.array(framingLine, { minLength: 1, maxLength: 2 }),
    mostly("", connections.slice(1), 2),
    fc.boolean(),
    mostly(second[0]!, second.slice(1), 2),
    mostly("", ["\r\n", "\n", "\r\n\r\n"], 1),
  )
  .chain(([method, target, version, host, lines, connection, plain, next, lead]) =>
    (lines.some((l) => l.chunked) && !plain ? chunkedBody : plainBody).map((body) => {
      const head = `${lead}${method} ${target} ${version}\r\n${host}${lines.map((l) => l.text).join("")}${connection}\r\n`;
      return Buffer.from(`${head}${body}${next}`, "latin1");
    }),
  );
