/**
 * The request table (test/fixtures/requests/*.md) replayed through the framer
 * itself: each case whole, cut in two at every position (empty pieces
 * included), and byte by byte. Every replay must report exactly what the case
 * states, which also proves the framer frames the same whatever the pieces.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type FramerSink, REQUEST_FLAGS, RequestFramer } from "../src/framer.js";
import { escapeBytes, loadCases, parseCaseFile } from "./fixtures/requests/load.js";
import { bytewise, diffCase, frame, framerLimits, splitAt } from "./fixtures/requests/replay.js";

const cases = loadCases();

test("the request table holds at least 120 cases with unique names", () => {
  assert.ok(cases.length >= 120, `only ${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
  const ends = new Set(cases.map((c) => String(c.end)));
  for (const end of ["idle", "partial", "400", "413", "431", "501", "505"]) {
    assert.ok(ends.has(end), `no case ends ${end}`);
  }
});

for (const file of [...new Set(cases.map((c) => c.file))]) {
  describe(file, () => {
    for (const c of cases.filter((k) => k.file === file)) {
      test(c.name, () => {
        const limits = framerLimits(c.limits);
        const check = (how: string, pieces: Buffer[]): void => {
          const problem = diffCase(frame(pieces, limits), c);
          if (problem !== null) assert.fail(`${c.id}, ${how}:\n${problem}\ninput: ${escapeBytes(c.input)}`);
        };
        check("whole", [c.input]);
        for (let at = 0; at <= c.input.length; at++) check(`split at ${at}`, splitAt(c.input, at));
        check("byte by byte", bytewise(c.input));
      });
    }
  });
}

describe("the fixture loader", () => {
  test("decodes escapes and repeats, and refuses invisible bytes", () => {
    const [c] = parseCaseFile(
      "x.md",
      ["## one", "```http", "A\\r\\n\\t\\0\\\\\\x7f\\[3]z\\[2]\\n", "```", "```expect", "request whole", "```"].join(
        "\n",
      ),
    );
    assert.deepEqual([...c!.input], [0x41, 0x0d, 0x0a, 0x09, 0x00, 0x5c, 0x7f, 0x7a, 0x7a, 0x7a, 0x0a, 0x0a]);
    assert.throws(() => parseCaseFile("x.md", "## a\n```http\nGET \n```\n```expect\nidle\n```"), /trailing whitespace/);
    assert.throws(() => parseCaseFile("x.md", "## a\n```http\nA\\q\n```\n```expect\nidle\n```"), /unknown escape/);
    assert.throws(
      () => parseCaseFile("x.md", "## a\n```http\nA\n```\n```expect\nstatus 404\n```"),
      /not a framer status/,
    );
  });

  test("a case that states the wrong outcome is caught by the replay", () => {
    const [c] = parseCaseFile(
      "x.md",
      "## wrong\n```http\nGET / HTTP/1.1\\r\\n\\r\\n\n```\n```expect\nrequest whole\n```",
    );
    // No Host: the framer says 400, the case says a request.
    assert.notEqual(diffCase(frame([c!.input]), c!), null);
  });
});

describe("the framer's sink protocol", () => {
  const limits = framerLimits();
  const two = Buffer.from("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");

  class Sink implements FramerSink {
    events: string[] = [];
    readonly acceptStart: boolean;
    readonly acceptRequest: boolean;
    constructor(acceptStart: boolean, acceptRequest: boolean) {
      this.acceptStart = acceptStart;
      this.acceptRequest = acceptRequest;
    }
    onRequestStart(): boolean {
      this.events.push("start");
      return this.acceptStart;
    }
    onRequest(bytes: Buffer): boolean {
      this.events.push(`request ${bytes.length}`);
      return this.acceptRequest;
    }
    onError(status: number): void {
      this.events.push(`error ${status}`);
    }
  }

  test("onRequest returning false stops framing after that request", () => {
    const sink = new Sink(true, false);
    const framer = new RequestFramer(sink, limits);
    framer.push(two);
    framer.push(Buffer.from("junk\r\n"));
    assert.deepEqual(sink.events, ["start", "request 28"]);
    assert.equal(framer.inRequest, false);
  });

  test("bytesAfterStop counts what followed, in the same chunk, the request framing stopped at", () => {
    const framer = new RequestFramer(new Sink(true, false), limits);
    framer.push(two);
    assert.equal(framer.bytesAfterStop, two.length - 28);
    framer.reset(new Sink(true, false));
    assert.equal(framer.bytesAfterStop, 0);
    // The request ends the chunk exactly: nothing is left unread.
    framer.push(two.subarray(0, 28));
    assert.equal(framer.bytesAfterStop, 0);
    // Split over two chunks, with two bytes of the next request after it.
    framer.reset(new Sink(true, false));
    framer.push(two.subarray(0, 20));
    framer.push(two.subarray(20, 30));
    assert.equal(framer.bytesAfterStop, 2);
  });

  test("onRequestStart returning false stops framing before the request", () => {
    const sink = new Sink(false, true);
    const framer = new RequestFramer(sink, limits);
    framer.push(two);
    assert.deepEqual(sink.events, ["start"]);
    assert.equal(framer.inRequest, false);
  });

  test("stop() drops the unfinished request and ignores later bytes", () => {
    const sink = new Sink(true, true);
    const framer = new RequestFramer(sink, limits);
    framer.push(two.subarray(0, 40));
    assert.equal(framer.inRequest, true);
    framer.stop();
    assert.equal(framer.inRequest, false);
    framer.push(two.subarray(40));
    assert.deepEqual(sink.events, ["start", "request 28", "start"]);
  });

  test("nothing is reported after an error", () => {
    const sink = new Sink(true, true);
    const framer = new RequestFramer(sink, limits);
    framer.push(Buffer.from("GET / HTTP/1.1\r\nHost : h\r\n\r\n"));
    framer.push(two);
    assert.deepEqual(sink.events, ["start", "error 400"]);
  });

  test("inBody and needsContinue follow an Expect: 100-continue request", () => {
    const sink = new Sink(true, true);
    const framer = new RequestFramer(sink, limits);
    framer.push(Buffer.from("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n"));
    assert.equal(framer.inBody, false);
    assert.equal(framer.needsContinue, false);
    framer.push(Buffer.from("\r\nab"));
    assert.equal(framer.inBody, true);
    assert.equal(framer.needsContinue, true);
    framer.continueSent();
    assert.equal(framer.needsContinue, false);
    framer.push(Buffer.from("cd"));
    assert.equal(framer.inBody, false);
    assert.deepEqual(sink.events, ["start", "request 72"]);
  });

  test("a bare empty line between requests starts no request", () => {
    const sink = new Sink(true, true);
    const framer = new RequestFramer(sink, limits);
    framer.push(Buffer.from("\r"));
    framer.push(Buffer.from("\n\r\n"));
    assert.deepEqual(sink.events, []);
    assert.equal(framer.inRequest, false);
  });

  test("request flags combine", () => {
    const t = frame([Buffer.from("HEAD / HTTP/1.0\r\nConnection: close\r\n\r\n")], limits);
    assert.equal(t.flags[0], REQUEST_FLAGS.HEAD | REQUEST_FLAGS.HTTP10 | REQUEST_FLAGS.CLOSE);
  });
});

describe("a Content-Length body that spans reads", () => {
  const limits = framerLimits({ maxBodyBytes: 4 * 1024 * 1024 });

  /** Feed `bytes` in reads of `size` the way a socket reader does: through one reused buffer where bodyRoom allows. */
  function feedLikeReader(framer: RequestFramer, bytes: Buffer, size: number): { views: number } {
    const shared = Buffer.alloc(size);
    let views = 0;
    for (let at = 0; at < bytes.length; at += size) {
      const n = Math.min(size, bytes.length - at);
      bytes.copy(shared, 0, at, at + n);
      if (framer.bodyRoom >= n) {
        views++;
        framer.push(shared.subarray(0, n));
      } else {
        framer.push(Buffer.from(shared.subarray(0, n)));
      }
      // The next read overwrites the buffer, as the shared read buffer is.
      shared.fill(0x21);
    }
    return { views };
  }

  test("is gathered into a buffer of its own and taken from a reused read buffer without a copy", () => {
    const body = Buffer.alloc(1_000_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 9)) & 0xff;
    const head = Buffer.from(`POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`);
    const next = Buffer.from("GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
    const got: Buffer[] = [];
    const framer = new RequestFramer(
      {
        onRequestStart: () => true,
        onRequest: (b) => got.push(b) > 0,
        onError: (status: number, reason: string) => assert.fail(`${status} ${reason}`),
      },
      limits,
    );
    const { views } = feedLikeReader(framer, Buffer.concat([head, body, next]), 64 * 1024);
    assert.equal(got.length, 2);
    assert.ok(got[0]!.equals(Buffer.concat([head, body])), "the request's bytes differ from what was sent");
    assert.ok(got[1]!.equals(next));
    // After the first quarter, every read but the last (which holds the next request too) went straight in.
    assert.ok(views >= 10, `only ${views} reads went straight into the body`);
    assert.equal(framer.bodyRoom, 0);
  });

  test("gets its buffer only once a quarter of it has come", () => {
    const framer = new RequestFramer(
      {
        onRequestStart: () => true,
        onRequest: () => true,
        onError: (status: number, reason: string) => assert.fail(`${status} ${reason}`),
      },
      limits,
    );
    const head = Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4000000\r\n\r\n");
    framer.push(head);
    framer.push(Buffer.alloc(900_000));
    assert.equal(framer.bodyRoom, 0, "reserved 4 MB for 0.9 MB sent");
    framer.push(Buffer.alloc(200_000 - head.length));
    assert.equal(framer.bodyRoom, 2_900_000 + head.length);
    framer.stop();
    assert.equal(framer.bodyRoom, 0);
  });

  test("a chunked body never takes a reused buffer", () => {
    const framer = new RequestFramer(
      {
        onRequestStart: () => true,
        onRequest: () => true,
        onError: (status: number, reason: string) => assert.fail(`${status} ${reason}`),
      },
      limits,
    );
    framer.push(Buffer.from("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n"));
    framer.push(Buffer.alloc(0x80000));
    assert.equal(framer.bodyRoom, 0);
  });
});
