/**
 * How responses become bytes on the wire: string responses are encoded into
 * shared slabs (src/response-slabs.ts) and a connection's batch goes out as a
 * slice of one; the keep-alive decision reads a response inside its range of
 * a slab (src/response-head.ts). Unit tests of both, then real TCP with many
 * connections whose string, long-string and Buffer responses interleave.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { REQUEST_FLAGS } from "../src/framer.js";
import { HttpListener } from "../src/index.js";
import { responseKeepsAlive } from "../src/response-head.js";
import {
  appendToRun,
  dropRunOf,
  encodeToSlab,
  MAX_SLAB_STRING,
  type RunHolder,
  slabs,
  takeRunOf,
} from "../src/response-slabs.js";

const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");

describe("response slabs", () => {
  test("strings are encoded as UTF-8 back to back, each exactly as Buffer.from encodes it", () => {
    const texts = ["héllo ☃ 😀", "abc", "", "\u00ff\u0100\uffff", "x".repeat(100)];
    let previousEnd = -1;
    let previousSlab: Buffer | null = null;
    for (const text of texts) {
      const start = encodeToSlab(text);
      if (slabs.slab === previousSlab) assert.equal(start, previousEnd, "right after the previous string");
      assert.deepEqual(slabs.slab.subarray(start, slabs.used), Buffer.from(text, "utf8"));
      previousSlab = slabs.slab;
      previousEnd = slabs.used;
    }
  });

  test("a string that might not fit takes a fresh slab; slices of the old ones keep their bytes", () => {
    const kept: Array<{ slice: Buffer; expected: Buffer }> = [];
    const first = slabs.slab;
    let slabsSeen = 1;
    for (let i = 0; slabsSeen < 4 && i < 100; i++) {
      // At the longest a slab takes, with 3-byte characters: the worst case of the room check.
      const text = `${i}:`.padEnd(MAX_SLAB_STRING, "☃");
      const before = slabs.slab;
      const start = encodeToSlab(text);
      if (slabs.slab !== before) slabsSeen++;
      kept.push({ slice: slabs.slab.subarray(start, slabs.used), expected: Buffer.from(text, "utf8") });
    }
    assert.equal(slabsSeen, 4, "three fresh slabs were taken");
    assert.notEqual(slabs.slab, first);
    for (const { slice, expected } of kept) assert.deepEqual(slice, expected);
  });
});

describe("runs of string responses", () => {
  /** A holder that keeps the slices it is handed, as text. */
  const holder = (): RunHolder & { taken: string[] } => {
    const taken: string[] = [];
    return { taken, takeRun: (slice) => taken.push(slice.toString("utf8")) };
  };

  test("a holder's responses back to back come as one slice when it takes them", () => {
    const a = holder();
    appendToRun(a, "one ☃ ");
    appendToRun(a, "two");
    assert.deepEqual(a.taken, []);
    takeRunOf(a);
    assert.deepEqual(a.taken, ["one ☃ two"]);
    takeRunOf(a);
    assert.deepEqual(a.taken, ["one ☃ two"], "nothing more to take");
  });

  test("another holder's response in between hands over the first run, in order", () => {
    const a = holder();
    const b = holder();
    appendToRun(a, "a1");
    appendToRun(b, "b1");
    assert.deepEqual(a.taken, ["a1"], "handed over as b began");
    appendToRun(a, "a2");
    assert.deepEqual(b.taken, ["b1"]);
    takeRunOf(a);
    takeRunOf(b);
    assert.deepEqual(a.taken, ["a1", "a2"]);
    assert.deepEqual(b.taken, ["b1"]);
  });

  test("a run that spans a fresh slab is two slices, each with its own bytes", () => {
    const a = holder();
    const texts = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(1000, "é"));
    for (const t of texts) appendToRun(a, t);
    takeRunOf(a);
    assert.ok(a.taken.length >= 2, "the slab ran out at least once");
    assert.equal(a.taken.join(""), texts.join(""));
  });

  test("a dropped run is never handed over", () => {
    const a = holder();
    appendToRun(a, "lost");
    dropRunOf(a);
    takeRunOf(a);
    appendToRun(holder(), "other");
    assert.deepEqual(a.taken, []);
  });
});

describe("reading a response inside a range", () => {
  const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  test("bytes before and after the range are not part of the response", () => {
    const buf = latin1(`XX${OK}YY`);
    assert.equal(responseKeepsAlive(buf, 0, 2, buf.length - 2), true);
    // Content-Length 2 but the range holds 3 body bytes (the "Y" after it is outside).
    assert.equal(responseKeepsAlive(buf, 0, 2, buf.length - 1), false);
  });

  test("a head that ends only after the range is not a head", () => {
    const head = "HTTP/1.1 204 No Content\r\nX: y";
    const buf = latin1(`${head}\r\n\r\n`);
    assert.equal(responseKeepsAlive(buf, 0), true);
    assert.equal(responseKeepsAlive(buf, 0, 0, head.length), false);
    assert.equal(responseKeepsAlive(buf, 0, 0, head.length + 2), false);
  });

  test("a chunked body must end inside the range", () => {
    const response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    const buf = latin1(response);
    assert.equal(responseKeepsAlive(buf, 0), true);
    for (let cut = 1; cut <= 9; cut++) {
      assert.equal(responseKeepsAlive(buf, 0, 0, buf.length - cut), false, `cut ${cut} bytes`);
    }
  });

  test("an HTTP/1.0 client, which knows neither chunked bodies nor interim answers, reads them to the close", () => {
    const http10 = REQUEST_FLAGS.HTTP10 | REQUEST_FLAGS.KEEP_ALIVE;
    const chunked = latin1(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    );
    const interim = latin1(
      `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK.replace("\r\n\r\n", "\r\nConnection: keep-alive\r\n\r\n")}`,
    );
    const plain = latin1(OK.replace("\r\n\r\n", "\r\nConnection: keep-alive\r\n\r\n"));
    assert.deepEqual(
      [chunked, interim, plain].map((r) => responseKeepsAlive(r, http10)),
      [false, false, true],
    );
    // The same answers to HTTP/1.1 keep the connection.
    assert.deepEqual(
      [chunked, interim, plain].map((r) => responseKeepsAlive(r, 0)),
      [true, true, true],
    );
  });

  test("a head a client may read otherwise closes the connection; clean ones keep it", () => {
    const ok = "\r\nContent-Length: 5\r\n\r\nhello";
    const chunked = (body: string, head = "Transfer-Encoding: chunked"): string =>
      `HTTP/1.1 200 OK\r\n${head}\r\n\r\n${body}`;
    const closes: [string, string][] = [
      [
        "Content-Length with Transfer-Encoding",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      ],
      ["a repeated Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"],
      ["a tab around Content-Length", "HTTP/1.1 200 OK\r\nContent-Length:5\t\r\n\r\nhello"],
      ["an empty Content-Length on a 204", "HTTP/1.1 204 No Content\r\nContent-Length: \r\n\r\n"],
      ["a chunk size with a space", chunked("5 \r\nhello\r\n0\r\n\r\n")],
      ["an empty chunk extension", chunked("5;\r\nhello\r\n0\r\n\r\n")],
      ["a chunk extension with a space", chunked("5;a b\r\nhello\r\n0\r\n\r\n")],
      ["a trailer without a colon", chunked("0\r\nfoo\r\n\r\n")],
      ["Content-Length in the trailers", chunked("0\r\nContent-Length: 5\r\n\r\n")],
      ["chunked applied twice", chunked("0\r\n\r\n", "Transfer-Encoding: chunked, chunked")],
      ["an empty coding", chunked("0\r\n\r\n", "Transfer-Encoding: , chunked")],
      [
        "Transfer-Encoding in an HTTP/1.0 response",
        `HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
      ["a NUL in a field value", `HTTP/1.1 200 OK\r\nX-A: a\x00b${ok}`],
      ["a bare CR in a field value", `HTTP/1.1 200 OK\r\nX-A: a\rb${ok}`],
      ["a bare CR after the status code", `HTTP/1.1 200\rX${ok}`],
      ["a control byte in the reason phrase", `HTTP/1.1 200 O\x01K${ok}`],
      ["a four-digit status code", `HTTP/1.1 2000 OK${ok}`],
      ["a status code below 100", `HTTP/1.1 099 OK${ok}`],
      ["obs-fold", `HTTP/1.1 200 OK\r\nX-A: a\r\n b${ok}`],
      ["a 1xx that says close", `HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK${ok}`],
      ["an HTTP/1.0 1xx", `HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 200 OK${ok}`],
      ["a 1xx with a Content-Length", `HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK${ok}`],
      ["a tab after chunked", chunked("0\r\n\r\n", "Transfer-Encoding: chunked\t")],
      ["Connection: close in the trailers", chunked("0\r\nConnection: close\r\n\r\n")],
      ["Proxy-Connection: close", `HTTP/1.1 200 OK\r\nProxy-Connection: close${ok}`],
      [
        "a 1xx that says Proxy-Connection: close",
        `HTTP/1.1 103 Early Hints\r\nProxy-Connection: close\r\n\r\nHTTP/1.1 200 OK${ok}`,
      ],
      ["a 1xx head over 16 KiB", `HTTP/1.1 103 Early Hints\r\nLink: ${"l".repeat(16384)}\r\n\r\nHTTP/1.1 200 OK${ok}`],
      ["trailers over 16 KiB", chunked(`0\r\nX-T: ${"t".repeat(16384)}\r\n\r\n`)],
      ["chunk extensions over 8 KiB", chunked(`5;a=${"e".repeat(8192)}\r\nhello\r\n0\r\n\r\n`)],
      ["a head over 16 KiB", `HTTP/1.1 200 OK\r\nX-A: ${"a".repeat(16384)}${ok}`],
    ];
    for (const [what, response] of closes) assert.equal(responseKeepsAlive(latin1(response), 0), false, what);
    const keeps: [string, string][] = [
      ["no reason phrase, no SP", `HTTP/1.1 200${ok}`],
      ["spaces around Content-Length", "HTTP/1.1 200 OK\r\nContent-Length:  5 \r\n\r\nhello"],
      ["obs-text in a value", `HTTP/1.1 200 OK\r\nX-A: caf\xe9${ok}`],
      ["chunk extensions, token and quoted", chunked('5;a=b;c="d \\" e"\r\nhello\r\n0;z\r\n\r\n')],
      ["trailer fields", chunked("0\r\nX-Checksum: abc\r\n\r\n")],
      ["a coding before chunked", chunked("0\r\n\r\n", "Transfer-Encoding: gzip, chunked")],
      ["a 103 then the answer", `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK${ok}`],
      ["a head of exactly 16 KiB", `HTTP/1.1 200 OK\r\nX-A: ${"a".repeat(16384 - 45)}${ok}`],
    ];
    for (const [what, response] of keeps) assert.equal(responseKeepsAlive(latin1(response), 0), true, what);
  });

  test("the request flags still decide first", () => {
    const buf = latin1(OK);
    assert.equal(responseKeepsAlive(buf, REQUEST_FLAGS.CLOSE, 0, buf.length), false);
  });
});

/** A GET for `path` with one more header, so that requests differ in length. */
const get = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\nX-Pad: ${"p".repeat(path.length % 7)}\r\n\r\n`;

/**
 * The response to `path`, made of its number: most are short strings with
 * multi-byte characters, every 5th a string too long for a slab, every 7th a
 * Buffer; all kept-alive.
 */
function answer(path: string): string | Uint8Array {
  const n = Number(path.split("/")[2]);
  const body = n % 5 === 0 ? `${path} ${"é☃😀".repeat(MAX_SLAB_STRING)}` : `${path} é☃😀 ${"z".repeat(n % 50)}`;
  const text = `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return n % 7 === 0 ? new Uint8Array(Buffer.from(text, "utf8")) : text;
}

const expected = (paths: string[]): Buffer =>
  Buffer.concat(paths.map((p) => Buffer.from(answer(p) as string | Uint8Array)));

/** Connect, write every request of `paths` in one go, and read until `length` bytes came (or `ms` passed). */
function pipeline(port: number, paths: string[], length: number, pauseMs = 0, ms = 8000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    }, ms);
    socket.on("error", reject);
    socket.on("data", (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on("connect", () => {
      // A reader that stops reading: the listener's writes queue up behind a full socket.
      if (pauseMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
      socket.write(paths.map(get).join(""));
    });
  });
}

describe("string and Buffer responses on the wire", () => {
  const modes = [
    ["synchronous callbacks", "sync", 0],
    ["asynchronous callbacks", "async", 0],
    // One callback at a time across connections: a connection's settle starts another's callback, whose
    // response is encoded while the first connection's run is still open, and the run is handed over.
    ["synchronous callbacks, one at a time across connections (concurrency 1)", "sync", 1],
  ] as const;
  for (const [name, mode, concurrency] of modes) {
    test(`many pipelining connections, ${name}: each gets exactly its own responses, in order, byte for byte`, async () => {
      const listener = await HttpListener.open({
        port: 0,
        concurrency,
        callback: (ref) => {
          const path = pathOf(ref.value);
          if (mode === "sync") return answer(path);
          // Settling in a scrambled order across connections.
          const n = Number(path.split("/")[2]);
          return new Promise((resolve) => setTimeout(() => resolve(answer(path)), (n * 7) % 5));
        },
      });
      try {
        const connections = 20;
        const perConnection = 40;
        const all = Array.from({ length: connections }, (_, c) =>
          Array.from({ length: perConnection }, (_, i) => `/${c}/${c * perConnection + i}`),
        );
        const replies = await Promise.all(all.map((paths) => pipeline(listener.port, paths, expected(paths).length)));
        for (let c = 0; c < connections; c++) {
          assert.ok(replies[c]!.equals(expected(all[c]!)), `connection ${c} got other bytes than its responses`);
        }
        assert.equal(listener.stats().requests, connections * perConnection);
      } finally {
        await listener.close();
      }
    });
  }

  test("a client that stops reading keeps slab slices queued; they are intact once it reads", async () => {
    // Short strings only, answered asynchronously: each response is its own write of one slab slice.
    // The paused reader's kernel buffers fill and the rest queues in its socket, pointing into slabs,
    // while the other connection's responses fill fresh ones.
    const short = (path: string): string => {
      const body = `${path} ${"s".repeat(800)}`;
      return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    };
    const listener = await HttpListener.open({
      port: 0,
      callback: (ref) => Promise.resolve(short(pathOf(ref.value))),
    });
    try {
      const slow = Array.from({ length: 8000 }, (_, i) => `/0/${i}`);
      const busy = Array.from({ length: 4000 }, (_, i) => `/1/${i}`);
      const bytesOf = (paths: string[]): Buffer => Buffer.from(paths.map(short).join(""), "latin1");
      const [slowReply, busyReply] = await Promise.all([
        pipeline(listener.port, slow, bytesOf(slow).length, 500),
        pipeline(listener.port, busy, bytesOf(busy).length),
      ]);
      assert.ok(busyReply.equals(bytesOf(busy)));
      assert.ok(slowReply.equals(bytesOf(slow)), "the paused reader got other bytes than its responses");
    } finally {
      await listener.close();
    }
  });
});

/** The request-target of a raw request. */
function pathOf(value: Uint8Array | string): string {
  return Buffer.from(value as Uint8Array)
    .toString("latin1")
    .split(" ")[1]!;
}
