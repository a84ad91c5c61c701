/**
 * Limits and time-outs over TCP on 127.0.0.1: each option of contract section
 * 5a crossed by a real client, with what the client sees; keep-alive decided
 * from the request and the callback's response head; Expect: 100-continue.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { HttpListener, type HttpListenerOptions } from "../src/index.js";
import { sendRaw, statuses } from "./support/raw-client.js";
import { collect, open, until } from "./support/socket-helpers.js";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";

async function withListener(
  options: Partial<HttpListenerOptions>,
  run: (listener: HttpListener) => Promise<void>,
): Promise<void> {
  const listener = await HttpListener.open({ callback: () => OK, ...options });
  try {
    await run(listener);
  } finally {
    await listener.close();
  }
}

describe("size limits", () => {
  test("a head one byte over maxHeaderBytes is 431 and closed; at the limit it is served", async () => {
    const head = (n: number) => `GET / HTTP/1.1\r\nHost: t\r\nX: ${"a".repeat(n)}\r\n\r\n`;
    const base = head(0).length;
    await withListener({ maxHeaderBytes: 200 }, async (l) => {
      const at = await sendRaw(l.port, [head(200 - base)], { timeoutMs: 500 });
      assert.deepEqual(statuses(at.data), [200]);
      const over = await sendRaw(l.port, [head(201 - base)]);
      assert.deepEqual(statuses(over.data), [431]);
      assert.ok(over.closed);
    });
  });

  test("a Content-Length over maxBodyBytes is 413 before the body is read, with no 100 Continue", async () => {
    await withListener({ maxBodyBytes: 10 }, async (l) => {
      const r = await sendRaw(l.port, [
        "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n",
      ]);
      assert.deepEqual(statuses(r.data), [413]);
      assert.ok(r.closed);
      const ok = await sendRaw(l.port, ["POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"], {
        timeoutMs: 500,
      });
      assert.deepEqual(statuses(ok.data), [200]);
    });
  });

  test("a chunked body whose decoded size passes maxBodyBytes is 413", async () => {
    await withListener({ maxBodyBytes: 10 }, async (l) => {
      const r = await sendRaw(l.port, [
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n",
        "6\r\n012345\r\n0\r\n\r\n",
      ]);
      assert.deepEqual(statuses(r.data), [413]);
      assert.ok(r.closed);
    });
  });
});

describe("the listener's own answers to a HEAD request are the head alone", () => {
  // RFC 9110 9.3.2: no content in a response to HEAD; Node's client refuses the body as data after the close.
  const headOnly = (text: string, status: number): void => {
    assert.match(
      text,
      new RegExp(
        `^HTTP/1\\.1 ${status} [^\\r]+\\r\\nContent-Type: text/plain\\r\\nContent-Length: \\d+\\r\\nConnection: close\\r\\n\\r\\n$`,
      ),
    );
  };
  const cases: Array<[string, Partial<HttpListenerOptions>, string[], number]> = [
    [
      "431, the head too large",
      { maxHeaderBytes: 64 },
      [`HEAD / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(100)}\r\n\r\n`],
      431,
    ],
    [
      "413, a Content-Length too large",
      { maxBodyBytes: 10 },
      ["HEAD / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"],
      413,
    ],
    ["400, a malformed header", {}, ["HEAD / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n"], 400],
    [
      "501, an unknown transfer coding",
      {},
      ["HEAD / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: zstd, chunked\r\n\r\n"],
      501,
    ],
    ["408, the head not complete in time", { headersTimeoutMs: 100 }, ["HEAD / HTTP/1.1\r\nHost: t\r\n"], 408],
    // The request line itself refused, or not whole: its first bytes say HEAD, in one read or two.
    ["400, a target HEAD cannot have", {}, ["HEAD * HTTP/1.1\r\nHost: t\r\n\r\n"], 400],
    ["505, an HTTP version other than 1.x", {}, ["HEAD / HTTP/2.0\r\nHost: t\r\n\r\n"], 505],
    ["431, a request line too long", { maxHeaderBytes: 64 }, [`HEAD /${"a".repeat(100)}`], 431],
    ["408, a request line not complete in time", { headersTimeoutMs: 100 }, ["HE", "AD / HT"], 408],
  ];
  for (const [what, options, pieces, status] of cases) {
    test(what, async () => {
      await withListener(options, async (l) => {
        const r = await sendRaw(l.port, pieces, { timeoutMs: 3000 });
        headOnly(r.data.toString("latin1"), status);
        assert.ok(r.closed);
      });
    });
  }

  test("503 to a HEAD request begun after RouteClose on a kept-alive connection", async () => {
    let release = (): void => {};
    const held = new Promise<string>((resolve) => (release = () => resolve(OK)));
    await withListener({ callback: () => held }, async (l) => {
      const socket = await open(l.port);
      const reply = collect(socket);
      socket.write(GET);
      await until(() => l.counters.running === 1, "the first callback");
      l.routeClose();
      socket.write("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
      await until(() => l.counters.active === 2, "the HEAD request to be refused");
      release();
      await reply.closed;
      assert.ok(reply.text().startsWith(OK), reply.text());
      headOnly(reply.text().slice(OK.length), 503);
    });
  });

  test("a GET still gets the body with its 431", async () => {
    await withListener({ maxHeaderBytes: 64 }, async (l) => {
      const r = await sendRaw(l.port, [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(100)}\r\n\r\n`]);
      assert.ok(r.data.toString("latin1").endsWith("\r\n\r\n431 Request Header Fields Too Large\n"));
    });
  });
});

describe("time-outs", () => {
  test("headers not complete within headersTimeoutMs: 408 and close (a byte-a-tick slowloris included)", async () => {
    // requestTimeoutMs is a minute: only headersTimeoutMs can cut the head. Every byte comes
    // 20 ms after the last, for 4 s in all, so new bytes must not renew the deadline.
    await withListener({ headersTimeoutMs: 150, requestTimeoutMs: 60000 }, async (l) => {
      const pieces = [...`GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ${"a".repeat(200)}`];
      const r = await sendRaw(l.port, pieces, { gapMs: 20, timeoutMs: 6000 });
      assert.deepEqual(statuses(r.data), [408]);
      assert.ok(r.closed);
    });
  });

  test("a body not complete within requestTimeoutMs: 408 and close", async () => {
    // The head is complete at once: headersTimeoutMs no longer applies, requestTimeoutMs does.
    await withListener({ headersTimeoutMs: 100, requestTimeoutMs: 400 }, async (l) => {
      const r = await sendRaw(l.port, ["POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01"], {
        timeoutMs: 3000,
      });
      assert.deepEqual(statuses(r.data), [408]);
      assert.ok(r.closed);
    });
  });

  test("headersTimeoutMs does not cut a body that is still coming once the head is complete", async () => {
    await withListener({ headersTimeoutMs: 100, requestTimeoutMs: 60000 }, async (l) => {
      // The body comes a byte every 60 ms for 0.6 s, well past the headers' 100 ms.
      const body = [..."0123456789"];
      const r = await sendRaw(l.port, ["POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n", ...body], {
        gapMs: 60,
        timeoutMs: 3000,
      });
      assert.deepEqual(statuses(r.data), [200]);
    });
  });

  test("a request's time-outs stop while the listener has stopped reading the connection (a deep pipeline)", async () => {
    // 100 pipelined requests whose callbacks take 10 ms each, one at a time: the listener stops reading at 64 queued
    // and reads again ~0.4 s later. The 101st request's head is split: its first bytes come with the 100, the rest
    // 50 ms after, so it is complete long before headersTimeoutMs, but is read only after it.
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve(OK), 10));
    await withListener({ callback: slow, concurrency: 1, headersTimeoutMs: 200, requestTimeoutMs: 300 }, async (l) => {
      const last = "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
      const r = await sendRaw(l.port, [GET.repeat(100) + last.slice(0, 10), last.slice(10)], {
        gapMs: 50,
        timeoutMs: 10_000,
      });
      const got = statuses(r.data);
      assert.equal(got.length, 101, `got ${got.length} answers, the last ${got.at(-1)}`);
      assert.ok(
        got.every((s) => s === 200),
        `not all 200: ${got.filter((s) => s !== 200)}`,
      );
      assert.ok(r.closed);
    });
  });

  test("a request's time-outs stop too while reads are paused because the client does not take its answers", async () => {
    // 1 MiB answers to a client that reads nothing for 1.5 s: the socket backs up, and the listener stops
    // reading; writes it cannot take pause it again and again, for longer than headersTimeoutMs. The 71st
    // head, begun with the 70, is finished 100 ms after the client starts reading: it was read in time, and
    // must not be a 408.
    const body = Buffer.alloc(1024 * 1024, 0x61);
    const big = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const slow = () => new Promise<Buffer>((resolve) => setTimeout(() => resolve(big), 20));
    await withListener({ callback: slow, concurrency: 1, headersTimeoutMs: 300, requestTimeoutMs: 600 }, async (l) => {
      const socket = await open(l.port);
      const reply = collect(socket);
      socket.pause();
      socket.write(`${GET.repeat(70)}GET /last HTTP/1.1\r\nHo`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      socket.resume();
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write("st: t\r\nConnection: close\r\n\r\n");
      await reply.closed;
      const got = statuses(Buffer.from(reply.text(), "latin1"));
      assert.equal(got.length, 71, `got ${got.length} answers, the last ${got.at(-1)}`);
      assert.ok(
        got.every((s) => s === 200),
        `not all 200: ${got.filter((s) => s !== 200)}`,
      );
    });
  });

  test("an idle kept-alive connection is closed silently after keepAliveTimeoutMs", async () => {
    await withListener({ keepAliveTimeoutMs: 300 }, async (l) => {
      const socket = await open(l.port);
      try {
        const reply = collect(socket);
        socket.write(GET);
        await until(() => reply.text() === OK, "the first answer");
        // Kept open after it: a second request, sent at once, is served.
        socket.write(GET);
        await until(() => reply.isClosed(), "the idle connection to close", 3000);
        assert.equal(reply.text(), OK + OK);
      } finally {
        socket.destroy();
      }
    });
  });

  /** 32 MiB: more than the kernel's buffers take, so most of it waits in the listener while the client does not read. */
  const bigAnswer = () =>
    Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n`),
      Buffer.alloc(32 * 1024 * 1024, 0x61),
    ]);

  test("a client that stops reading its answers is cut after sendTimeoutMs, and they stop counting active", async () => {
    const big = bigAnswer();
    await withListener({ callback: () => big, sendTimeoutMs: 200 }, async (l) => {
      const socket = await open(l.port);
      try {
        socket.pause();
        socket.write(GET);
        await until(() => l.stats().requests === 1, "the request");
        await until(() => l.stats().connections === 0, "the connection to be cut", 5000);
        assert.equal(l.stats().active, 0);
        assert.equal(await l.waitDrained(0), true);
      } finally {
        socket.destroy();
      }
    });
  });

  test("sendTimeoutMs counts only time in which the client takes nothing: a reader in short bursts gets it all", async () => {
    const big = bigAnswer();
    await withListener({ callback: () => big, sendTimeoutMs: 1000 }, async (l) => {
      const socket = await open(l.port);
      // Reads 3 MiB every 250 ms, then stops: about 3 s in all, never idle for 1 s. Each burst is more than
      // half of the largest send buffer Linux gives a socket by default (tcp_wmem: 4 MiB): the system shows
      // the listener a client's progress only once that much of its send buffer has drained.
      const BURST = 3 * 1024 * 1024;
      let inBurst = 0;
      const burst = setInterval(() => {
        inBurst = 0;
        socket.resume();
      }, 250);
      try {
        socket.pause();
        let received = 0;
        socket.on("data", (d: Buffer) => {
          received += d.length;
          inBurst += d.length;
          if (inBurst >= BURST) socket.pause();
        });
        socket.write(GET);
        await until(() => received === big.length || l.stats().connections === 0, "the answer or the cut", 60_000);
        assert.equal(received, big.length);
      } finally {
        clearInterval(burst);
        socket.destroy();
      }
    });
  });

  // A connection that never sends a byte: test/error-docs.test.ts, with what docs/options.md says of it.
});

describe("connection limits", () => {
  test("maxConnections: a connection beyond the limit is closed at once and counted", async () => {
    await withListener({ maxConnections: 1 }, async (l) => {
      const first = connect({ port: l.port, host: "127.0.0.1" });
      await new Promise((r) => first.once("connect", r));
      await new Promise((r) => setTimeout(r, 30));
      const second = await sendRaw(l.port, [GET], { timeoutMs: 2000 });
      assert.equal(second.data.length, 0);
      assert.ok(second.closed);
      assert.equal(l.stats().refusedConnections, 1);
      // Once the first closes, its place is free again.
      first.destroy();
      await until(() => l.stats().connections === 0, "the first connection's close");
      const third = await sendRaw(l.port, [GET], { timeoutMs: 2000 });
      assert.deepEqual(statuses(third.data), [200]);
      assert.equal(l.stats().refusedConnections, 1);
    });
  });

  test("maxRequestsPerConnection: the connection closes after that many responses", async () => {
    await withListener({ maxRequestsPerConnection: 2 }, async (l) => {
      const r = await sendRaw(l.port, [GET + GET + GET]);
      assert.deepEqual(statuses(r.data), [200, 200]);
      assert.ok(r.closed);
    });
  });
});

describe("concurrency", () => {
  test("concurrency 1: a second connection's request waits as queued until the first callback settles", async () => {
    const releases: Array<() => void> = [];
    const waitingCallbacks = (): number => releases.length;
    await withListener(
      {
        concurrency: 1,
        callback: () => new Promise<string>((resolve) => releases.push(() => resolve(OK))),
      },
      async (l) => {
        const a = sendRaw(l.port, [GET], { timeoutMs: 2000 });
        const b = sendRaw(l.port, [GET], { timeoutMs: 2000 });
        const end = Date.now() + 2000;
        while ((l.counters.running < 1 || l.counters.queued < 1) && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(l.counters.running, 1);
        assert.equal(l.counters.queued, 1);
        assert.equal(releases.length, 1);
        releases.shift()!();
        while (waitingCallbacks() === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        assert.equal(l.counters.queued, 0);
        releases.shift()!();
        const [ra, rb] = await Promise.all([a, b]);
        assert.equal(ra.data.toString("latin1"), OK);
        assert.equal(rb.data.toString("latin1"), OK);
      },
    );
  });
});

describe("keep-alive and pipelining", () => {
  test("pipelined requests are answered in order on one connection", async () => {
    let n = 0;
    await withListener(
      {
        callback: () => {
          n++;
          const body = String(n);
          return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        },
      },
      async (l) => {
        const r = await sendRaw(l.port, [GET.repeat(16)], { timeoutMs: 500 });
        const bodies = [...r.data.toString("latin1").matchAll(/\r\n\r\n(\d+)/g)].map((m) => m[1]);
        assert.deepEqual(
          bodies,
          Array.from({ length: 16 }, (_, i) => String(i + 1)),
        );
        assert.equal(r.closed, false);
      },
    );
  });

  test("a response that cannot be delimited ends a pipelined connection: later requests go unanswered", async () => {
    let calls = 0;
    await withListener(
      {
        callback: () => {
          calls++;
          return "HTTP/1.1 200 OK\r\n\r\nno length";
        },
      },
      async (l) => {
        const r = await sendRaw(l.port, [GET + GET + GET]);
        assert.equal(r.data.toString("latin1"), "HTTP/1.1 200 OK\r\n\r\nno length");
        assert.ok(r.closed);
        assert.equal(calls, 1);
        assert.equal(l.counters.active, 0);
        assert.equal(l.counters.queued, 0);
      },
    );
  });

  test("async callbacks with pipelining still answer in request order", async () => {
    let n = 0;
    await withListener(
      {
        callback: async () => {
          const mine = ++n;
          await new Promise((r) => setTimeout(r, mine % 2 === 0 ? 1 : 15));
          return `HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${mine}`;
        },
      },
      async (l) => {
        const r = await sendRaw(l.port, [GET.repeat(5)], { timeoutMs: 600 });
        assert.equal(r.data.toString("latin1").replace(/HTTP[\s\S]*?\r\n\r\n/g, ""), "12345");
      },
    );
  });

  const cases: Array<[string, string, string, boolean]> = [
    ["HTTP/1.1 request, Content-Length response", GET, OK, true],
    ["Connection: close request", "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", OK, false],
    ["HTTP/1.0 request without keep-alive", "GET / HTTP/1.0\r\n\r\n", OK, false],
    [
      "HTTP/1.0 keep-alive request, response says keep-alive",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
      true,
    ],
    ["HTTP/1.0 keep-alive request, response silent", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", OK, false],
    [
      "response says Connection: close",
      GET,
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
      false,
    ],
    ["response without a length", GET, "HTTP/1.1 200 OK\r\n\r\nok", false],
    ["response shorter than its Content-Length", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false],
    ["response longer than its Content-Length", GET, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nok", false],
    ["chunked response", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true],
    ["truncated chunked response", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", false],
    ["204 without a body", GET, "HTTP/1.1 204 No Content\r\n\r\n", true],
    ["304 with a Content-Length and no body", GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", true],
    [
      "HEAD answered with the GET's Content-Length",
      "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
      true,
    ],
    [
      "interim 103 before the final response",
      GET,
      "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      true,
    ],
    ["not an HTTP response (echo)", GET, GET, false],
    ["response whose lines end in bare LF", GET, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false],
    ["response with a bare LF inside its head", GET, "HTTP/1.1 200 OK\r\nX: 1\nContent-Length: 2\r\n\r\nok", false],
  ];
  for (const [name, request, response, keeps] of cases) {
    test(`keep-alive ${keeps ? "kept" : "closed"}: ${name}`, async () => {
      await withListener({ callback: () => response }, async (l) => {
        const r = await sendRaw(l.port, [request], { timeoutMs: 400 });
        assert.equal(r.data.toString("latin1"), response);
        assert.equal(r.closed, !keeps);
      });
    });
  }
});

describe("Expect: 100-continue", () => {
  test("an interim 100 Continue comes before the body is read, then the response", async () => {
    let body = "";
    await withListener(
      {
        callback: (r) => {
          body = Buffer.from(r.value as Uint8Array).toString("latin1");
          return OK;
        },
      },
      async (l) => {
        const socket = connect({ port: l.port, host: "127.0.0.1" });
        let got = "";
        socket.on("data", (d) => {
          got += d.toString("latin1");
          if (got === "HTTP/1.1 100 Continue\r\n\r\n") socket.write("hello");
        });
        socket.write("PUT /u HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        const end = Date.now() + 2000;
        while (!got.endsWith("ok") && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        socket.destroy();
        assert.equal(got, `HTTP/1.1 100 Continue\r\n\r\n${OK}`);
        assert.ok(body.endsWith("\r\n\r\nhello"));
      },
    );
  });

  test("a 100 Continue held back while reads are paused too: the two waits count once", async () => {
    // 70 requests behind a 1 s callback pause reads in the read that brings the Expect request: its clock
    // stops for both reasons at once, and runs again, once, when the 100 goes out.
    await withListener(
      {
        requestTimeoutMs: 500,
        callback: (r) =>
          Buffer.from(r.value as Uint8Array).includes("GET /slow")
            ? new Promise<string>((resolve) => setTimeout(() => resolve(OK), 1000))
            : OK,
      },
      async (l) => {
        const socket = connect({ port: l.port, host: "127.0.0.1" });
        let got = "";
        let continuedAt = 0;
        let refusedAt = 0;
        socket.on("data", (d) => {
          got += d.toString("latin1");
          if (continuedAt === 0 && got.includes("HTTP/1.1 100 Continue")) continuedAt = Date.now();
          if (refusedAt === 0 && got.includes("HTTP/1.1 408 ")) refusedAt = Date.now();
        });
        socket.write(
          `GET /slow HTTP/1.1\r\nHost: t\r\n\r\n${GET.repeat(70)}POST /b HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
        );
        await until(() => refusedAt > 0, "the 408 for the body that never came", 6000);
        socket.destroy();
        // 500 ms after the 100 (it got its whole time); counted twice, the overlap would add about 1 s.
        const after = refusedAt - continuedAt;
        assert.ok(after >= 400 && after < 1000, `the 408 came ${after} ms after the 100`);
      },
    );
  });

  test("the time a 100 Continue is held back behind an earlier answer does not count against the request", async () => {
    // The first callback takes 700 ms; the second request's 100 waits for its answer, then its body is sent.
    await withListener(
      {
        requestTimeoutMs: 400,
        callback: (r) => {
          const slow = Buffer.from(r.value as Uint8Array).includes("GET /slow");
          return slow ? new Promise<string>((resolve) => setTimeout(() => resolve(OK), 700)) : OK;
        },
      },
      async (l) => {
        const socket = connect({ port: l.port, host: "127.0.0.1" });
        let got = "";
        let sentBody = false;
        socket.on("data", (d) => {
          got += d.toString("latin1");
          if (!sentBody && got.endsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
            sentBody = true;
            socket.write("hello");
          }
        });
        socket.write(
          "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nPUT /u HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        );
        await until(() => got.length >= 2 * OK.length + 25 || /408/.test(got), "both answers", 5000);
        socket.destroy();
        assert.equal(got, `${OK}HTTP/1.1 100 Continue\r\n\r\n${OK}`);
      },
    );
  });

  test("no 100 Continue when the body came with the head", async () => {
    await withListener({}, async (l) => {
      const r = await sendRaw(
        l.port,
        ["PUT /u HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"],
        { timeoutMs: 300 },
      );
      assert.equal(r.data.toString("latin1"), OK);
    });
  });
});
