/**
 * Worker mode over real TCP on 127.0.0.1: callbacks loaded from a module by
 * worker threads, the hard time limit (an endless loop is stopped and its
 * worker replaced while the others keep answering), crashes, start-up
 * failures (ERR_THREAD, nothing left bound or running), the counters under
 * load, and the two-step shutdown with busy workers.
 *
 * The fixtures run as compiled JavaScript (build/test/fixtures/workers/*.js):
 * Node 20 cannot start a worker from a .ts file.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { callbackhttp, HttpListener } from "../src/index.js";
import { findListener } from "../src/listener-registry.js";
import { workerThreadCount } from "../src/worker-pool.js";
import { bodiesAndClose, sendRaw, statuses } from "./support/raw-client.js";
import { collect, open, until as untilWithin } from "./support/socket-helpers.js";

const HANDLERS = new URL("./fixtures/workers/handlers.js", import.meta.url);
const THROWS_AT_LOAD = new URL("./fixtures/workers/throws-at-load.js", import.meta.url);
const EXITS_AT_LOAD = new URL("./fixtures/workers/exits-at-load.js", import.meta.url);
const EXITS_AFTER_READY = new URL("./fixtures/workers/exits-after-ready.js", import.meta.url);
/** The same module as a path relative to process.cwd(), the option's other form. */
const HANDLERS_PATH = relative(process.cwd(), fileURLToPath(HANDLERS));

const T = { timeout: 30_000 };

/** Worker start-up and restarts take longer than main-thread work: wait up to 10 s. */
const until = (condition: () => boolean, what: string, ms = 10_000): Promise<void> => untilWithin(condition, what, ms);

const get = (path: string, extra = ""): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

interface Reply {
  status: number;
  body: string;
  text: string;
}

/** One request on a connection of its own, `Connection: close`, with its status and body. */
async function request(port: number, path: string, timeoutMs = 10_000): Promise<Reply> {
  const { data } = await sendRaw(port, [get(path, "Connection: close\r\n")], { timeoutMs });
  const text = data.toString("latin1");
  return {
    status: statuses(data)[0] ?? 0,
    body: text.slice(text.indexOf("\r\n\r\n") + 4),
    text,
  };
}

/** Keep the main thread busy for `ms`: the workers run on, and what they post waits unread. */
function holdMainThread(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // nothing: the event loop is held
  }
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("worker mode: requests and responses", () => {
  test("callbacks run in workers with the main thread's conventions", T, async (t) => {
    const lid = await callbackhttp.Open("Handler", 5000, 0, callbackhttp.BindLocalOnly(), {
      workers: 2,
      module: HANDLERS_PATH,
    });
    t.after(() => callbackhttp.Close(lid));
    const port = callbackhttp.Port(lid);
    assert.equal(callbackhttp.RouteCallback(lid), "Handler");

    // return 1: the exact request bytes come back
    const raw =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    const echo = await sendRaw(port, [raw]);
    assert.equal(echo.data.toString("latin1"), raw);

    // a Uint8Array the module keeps and returns again must come back intact every time
    for (let i = 0; i < 3; i++) assert.equal((await request(port, "/cached")).body, "cached");

    // failures: 0, a rejection, a synchronous throw
    assert.equal((await request(port, "/fail")).status, 500);
    assert.equal((await request(port, "/reject")).status, 500);

    // the context: listener id, the peer as the listener sees it, draining, a live signal
    const socket = await open(port);
    const localPort = socket.localPort;
    const reply = collect(socket);
    socket.write(get("/ctx", "Connection: close\r\n"));
    await reply.closed;
    const ctx = JSON.parse(reply.text().slice(reply.text().indexOf("\r\n\r\n") + 4));
    assert.deepEqual(ctx, {
      listenerId: lid,
      remoteAddress: "127.0.0.1",
      remotePort: localPort,
      draining: false,
      keepAliveTimeoutMs: 5000,
      httpVersion: "1.1",
      head: false,
      aborted: false,
      sameContext: true,
    });

    // a HEAD request says so in the context (the fixture's answer keeps its body: read it from the bytes)
    const head = await sendRaw(port, ["HEAD /ctx HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"]);
    assert.match(head.data.toString("latin1"), /"head":true/);

    // both workers take requests
    const threads = new Set<string>();
    for (let i = 0; i < 6; i++) threads.add((await request(port, "/thread")).body);
    assert.equal(threads.size, 2);

    const stats = findListener(lid)!.stats();
    assert.equal(stats.workerRestarts, 0);
    assert.equal(stats.failures, 2);
    assert.equal(await callbackhttp.Close(lid), 1);
  });

  test("HttpListener.open takes the module as a file: URL; a throwing export answers 500", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Throws", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    assert.equal((await request(listener.port, "/")).status, 500);
    assert.equal((await request(listener.port, "/")).status, 500);
    assert.equal(listener.stats().workerRestarts, 0, "a throw is a failure, not a crash");
    assert.equal(listener.limits.concurrency, 1, "one running callback per worker by default");
    await listener.close();
    assert.equal(workerThreadCount(), 0);
  });
});

describe("worker mode: CommonJS modules", () => {
  test("the callback may be a property of module.exports, an object or a function", T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "callbackhttp-cjs-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const answer = (body: string): string =>
      `"HTTP/1.1 200 OK\\r\\nContent-Length: ${body.length}\\r\\nConnection: close\\r\\n\\r\\n${body}"`;
    const modules = {
      "object.cjs": `module.exports = { OnRequest: () => ${answer("object")} };`,
      "function.cjs": `function main() {}\nmain.OnRequest = () => ${answer("function")};\nmodule.exports = main;`,
    };
    for (const [file, source] of Object.entries(modules)) {
      writeFileSync(join(dir, file), source);
      const listener = await HttpListener.open({ callback: "OnRequest", workers: 1, module: join(dir, file) });
      try {
        assert.equal((await request(listener.port, "/")).body, file.replace(".cjs", ""));
      } finally {
        await listener.close();
      }
    }
    // Only its own properties: `call` of Function.prototype, `toString` of Object.prototype are no export.
    for (const [file, name] of [
      ["function.cjs", "call"],
      ["object.cjs", "toString"],
    ] as const) {
      const opened = await HttpListener.open({ callback: name, workers: 1, module: join(dir, file) }).catch((e) => e);
      if (opened instanceof HttpListener) await opened.close(); // it must not open; closed so that the run ends
      assert.equal((opened as { code?: string }).code, "ERR_THREAD", `${file} ${name}`);
      assert.match((opened as Error).message, new RegExp(`no function named "${name}"`));
    }
  });
});

describe("worker mode: the hard time limit", () => {
  test(
    "an endless loop is answered 503 within its limit and its worker replaced; the rest keeps answering",
    T,
    async (t) => {
      const limitMs = 300;
      const listener = await HttpListener.open({
        callback: "Handler",
        timeoutMs: limitMs,
        // the listener's own yardstick for "within its limit": an idle connection lives 5 limits
        keepAliveTimeoutMs: 5 * limitMs,
        workers: 2,
        module: HANDLERS.href,
      });
      t.after(() => listener.close());
      const port = listener.port;
      const spin = request(port, "/spin");
      await until(() => listener.counters.running === 1, "the endless loop to start");
      // Opened after the loop began, this connection is closed by the listener once idle for 5 limits.
      // The 503 must come first: an order set by the listener's two timers, not a time measured here.
      const idle = await open(port);
      t.after(() => idle.destroy());
      const idleReply = collect(idle);
      // the other worker still answers while the first one spins
      const during = await request(port, "/echo");
      assert.equal(during.status, 0, "an echo of a GET has no status line of its own");
      assert.ok(during.text.startsWith("GET /echo HTTP/1.1"));
      const stopped = await spin;
      assert.equal(stopped.status, 503);
      assert.equal(idleReply.isClosed(), false, "an idle connection's 5-limit time-out came before the 503");
      await until(() => idleReply.isClosed(), "the idle connection's keep-alive time-out, the yardstick");
      assert.equal(listener.stats().timeouts, 1);
      assert.equal(listener.stats().workerRestarts, 1);

      // the replacement works, and two requests still run side by side on two workers
      const [a, b] = await Promise.all([request(port, "/busy?ms=50"), request(port, "/busy?ms=50")]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.equal(workerThreadCount(), 2, "the spinning thread is gone, its replacement is up");

      // a second endless loop costs a second restart, nothing more
      assert.equal((await request(port, "/spin")).status, 503);
      assert.equal(listener.stats().workerRestarts, 2);
      assert.equal((await request(port, "/cached")).body, "cached");
      await listener.close();
      assert.equal(workerThreadCount(), 0);
    },
  );
});

describe("worker mode: while a replacement starts, and after a late answer", () => {
  test("requests wait for a replacement as Queued, their limit not yet running, and never stop it", T, async (t) => {
    const limitMs = 300;
    const listener = await HttpListener.open({
      callback: "Handler",
      timeoutMs: limitMs,
      workers: 1,
      module: HANDLERS.href,
    });
    t.after(() => listener.close());
    // From now on a worker takes 4 limits to load the module: the replacement after the endless loop does.
    process.env.CALLBACKHTTP_TEST_SLOW_START_MS = String(4 * limitMs);
    t.after(() => {
      delete process.env.CALLBACKHTTP_TEST_SLOW_START_MS;
    });
    const port = listener.port;
    assert.equal((await request(port, "/spin")).status, 503);
    const started = Date.now();
    const next = [request(port, "/busy?ms=10"), request(port, "/busy?ms=10"), request(port, "/cached")];
    await until(() => listener.counters.queued === 3, "three requests waiting for the replacement");
    assert.equal(listener.counters.running, 0, "nothing runs while no worker is ready");
    const replies = await Promise.all(next);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200],
    );
    assert.ok(Date.now() - started >= 2 * limitMs, "they did wait longer than their limit for it");
    assert.deepEqual([listener.stats().timeouts, listener.stats().workerRestarts], [1, 1]);
  });

  test(
    "the late answer of a callback past its limit frees nothing: the next requests keep their clocks",
    T,
    async (t) => {
      const listener = await HttpListener.open({
        callback: "Handler",
        timeoutMs: 500,
        workers: 1,
        module: HANDLERS.href,
      });
      t.after(() => listener.close());
      const port = listener.port;
      const counters = listener.counters;
      // Times from when a begins (limit 500 ms): a returns at 450, and its worker begins s, handed ahead (400 ms
      // of CPU); the last one (350 ms) waits behind s. The main thread is held until 560, in a check-phase
      // callback, so that the next turn of the event loop runs a's clock (timers) before it reads a's answer
      // (poll): a is answered 503, and s, begun in the worker at 450, runs from 560 for the listener, ending
      // at 850 (290 ms counted). The last one then runs 350 ms: within its limit if its clock starts with s's
      // answer, at 850; past it (640 ms) if it starts with a's late answer, at 560.
      const a = request(port, "/busy?ms=450");
      await until(() => counters.running === 1, "a to run");
      const aBegan = Date.now();
      const s = request(port, "/busy?ms=400");
      await until(() => counters.queued === 1, "s to be handed ahead");
      const last = request(port, "/busy?ms=350");
      await until(() => counters.queued === 2, "the last one to wait");
      assert.ok(Date.now() - aBegan < 400, "the set-up took so long that a may have returned before the hold");
      let maxRunning = 0;
      const sample = setInterval(() => {
        maxRunning = Math.max(maxRunning, counters.running);
      }, 5);
      t.after(() => clearInterval(sample));
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          const holdUntil = aBegan + 560;
          while (Date.now() < holdUntil) {
            // the main thread busy, as with any synchronous work of the user's
          }
          resolve();
        }),
      );
      const statuses = (await Promise.all([a, s, last])).map((r) => r.status);
      clearInterval(sample);
      assert.deepEqual(statuses, [503, 200, 200], "a past its limit; s and the last one within theirs");
      assert.equal(maxRunning, 1, "one running callback at most, as there is one worker");
      assert.deepEqual([listener.stats().timeouts, listener.stats().workerRestarts], [1, 0]);
    },
  );
});

describe("worker mode: crashes", () => {
  test(
    "a worker that exits or dies of an uncaught error answers 500, is replaced, and others are untouched",
    T,
    async (t) => {
      const listener = await HttpListener.open({ callback: "Handler", workers: 2, module: HANDLERS.href });
      t.after(() => listener.close());
      const port = listener.port;
      const busy = request(port, "/busy?ms=400");
      await until(() => listener.counters.running === 1, "the busy request to start");
      assert.equal((await request(port, "/crash")).status, 500);
      assert.equal((await busy).status, 200, "the request on the other worker is untouched");
      assert.equal(listener.stats().workerRestarts, 1);

      assert.equal((await request(port, "/throw-later")).status, 500);
      assert.equal(listener.stats().workerRestarts, 2);
      assert.equal(listener.stats().failures, 2);

      const after = await Promise.all([request(port, "/cached"), request(port, "/cached")]);
      assert.deepEqual(
        after.map((r) => r.body),
        ["cached", "cached"],
      );
      await listener.close();
      assert.equal(workerThreadCount(), 0);
    },
  );
});

describe("worker mode: what the module does that is not a crash", () => {
  test("its own messages on parentPort and a detached array cost no worker and no other request", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    // null and undefined once ended the process; the others, shaped like the pool's own messages, its worker
    for (const what of ["null", "undefined", "text", "done", "failed"]) {
      assert.equal((await request(port, `/post?what=${what}`)).status, 200, `posted ${what}`);
    }
    // empty, like an empty string: no bytes, and the connection closes
    const detached = await sendRaw(port, [get("/detached")]);
    assert.equal(detached.data.length, 0);
    assert.ok(detached.closed);
    assert.equal((await request(port, "/cached")).body, "cached");
    assert.equal(listener.stats().workerRestarts, 0);
    assert.equal(listener.stats().failures, 0);
    // the pool's channel is not in the module's workerData, which it can clone
    const keys = JSON.parse((await request(port, "/workerdata")).body) as string[];
    assert.equal(keys.includes("port"), false, keys.join(" "));
  });

  test("an answer sent just before the worker ends is delivered, and the worker replaced", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    for (let i = 1; i <= 5; i++) {
      const reply = await request(listener.port, "/answer-then-exit");
      assert.equal(reply.body, "answered", `try ${i}`);
      await until(() => listener.stats().workerRestarts === i && workerThreadCount() === 1, `replacement ${i}`);
    }
  });

  test(
    "a module that ends its worker on its own once loaded is tried again after a pause, not in a loop",
    T,
    async (t) => {
      const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: EXITS_AFTER_READY.href });
      t.after(() => listener.close());
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // A second between tries: two or three in 2.5 s (dozens without the pause).
      const restarts = listener.stats().workerRestarts;
      assert.ok(restarts >= 1 && restarts <= 4, `${restarts} restarts in 2.5 s`);
    },
  );
});

describe("worker mode: a request its worker never began", () => {
  /**
   * One worker, two callbacks at a time, the first of them spinning 400 ms before it ends its worker: a
   * request sent meanwhile waits unread in the worker's channel until the worker exits.
   */
  async function crashingWorker(t: { after: (fn: () => unknown) => void }): Promise<{
    listener: HttpListener;
    crashing: Promise<Reply>;
  }> {
    const listener = await HttpListener.open({
      callback: "Handler",
      workers: 1,
      concurrency: 2,
      module: HANDLERS.href,
    });
    t.after(() => listener.close());
    const crashing = request(listener.port, "/crash?ms=400");
    await until(() => listener.counters.running === 1, "the crashing callback");
    return { listener, crashing };
  }

  /** Once drained, every count is back to zero. */
  async function assertZeroCounts(listener: HttpListener): Promise<void> {
    assert.equal(await listener.waitDrained(5000), true);
    const { pending, queued, running, active } = listener.counters;
    assert.deepEqual([pending, queued, running, active], [0, 0, 0, 0]);
  }

  test(
    "sent to a worker that dies before it begins it, it runs on the replacement instead of failing",
    T,
    async (t) => {
      const { listener, crashing } = await crashingWorker(t);
      const waiting = request(listener.port, "/cached");
      await until(() => listener.counters.running === 2, "the second, sent to the same worker");
      assert.equal((await crashing).status, 500);
      assert.equal((await waiting).body, "cached", "it never ran, so the replacement answers it");
      assert.equal(listener.stats().workerRestarts, 1);
      assert.equal(listener.stats().failures, 1);
      await assertZeroCounts(listener);
    },
  );

  test("one whose connection was lost meanwhile is dropped, and the counters come back to zero", T, async (t) => {
    const { listener, crashing } = await crashingWorker(t);
    const socket = await open(listener.port);
    socket.on("error", () => {});
    socket.write(get("/cached"));
    await until(() => listener.counters.running === 2, "the second, sent to the same worker");
    // Its connection is lost while it waits unread in the worker: a reset (a FIN alone is a half-close).
    socket.resetAndDestroy();
    assert.equal((await crashing).status, 500);
    await assertZeroCounts(listener);
  });
});

describe("worker mode: resource limits", () => {
  test("workerResourceLimits: a worker out of memory answers 500 and is replaced", T, async (t) => {
    const listener = await HttpListener.open({
      callback: "Handler",
      workers: 1,
      module: HANDLERS.href,
      workerResourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    t.after(() => listener.close());
    assert.equal((await request(listener.port, "/oom", 20_000)).status, 500);
    assert.equal(listener.stats().workerRestarts, 1);
    assert.equal((await request(listener.port, "/cached")).body, "cached", "the replacement answers");
  });

  test("workerResourceLimits is checked: an object of known positive limits, and only with workers", async () => {
    await assert.rejects(
      HttpListener.open({
        callback: "Handler",
        workers: 1,
        module: HANDLERS.href,
        workerResourceLimits: { heap: 1 } as never,
      }),
      (e: Error & { code?: string }) => e.code === "ERR_ARG_TYPE" && /workerResourceLimits\.heap/.test(e.message),
    );
    await assert.rejects(
      HttpListener.open({ callback: () => "x", workerResourceLimits: { stackSizeMb: 4 } }),
      (e: Error & { code?: string }) => e.code === "ERR_ARG_TYPE" && /needs workers/.test(e.message),
    );
    // Node takes these, and each ends the whole process as the worker starts (on Node 20, 26 or both).
    for (const [limits, message] of [
      [
        { stackSizeMb: Number.POSITIVE_INFINITY },
        /stackSizeMb must be a finite number of MB, from 1 to 1048576, got Infinity/,
      ],
      [
        { maxYoungGenerationSizeMb: Number.POSITIVE_INFINITY },
        /maxYoungGenerationSizeMb .*, more than 0, got Infinity/,
      ],
      [{ stackSizeMb: 0.2 }, /stackSizeMb must be a finite number of MB, from 1 to 1048576, got 0\.2/],
      [{ stackSizeMb: 2e13 }, /stackSizeMb .*, from 1 to 1048576, got 20000000000000/],
      [{ maxOldGenerationSizeMb: 2 }, /maxOldGenerationSizeMb must be a finite number of MB, at least 4, got 2/],
      [{ codeRangeSizeMb: 1e8 }, /codeRangeSizeMb .*, more than 0 and at most 4096, got 100000000/],
    ] as const) {
      await assert.rejects(
        HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href, workerResourceLimits: limits }),
        (e: Error & { code?: string }) => e.code === "ERR_ARG_TYPE" && message.test(e.message),
        JSON.stringify(limits),
      );
    }
    assert.equal(workerThreadCount(), 0);
  });

  test("a thread Node cannot create fails Open with ERR_THREAD and leaves nothing running", T, async (t) => {
    // A 1 TiB stack: creating the thread fails (EAGAIN), unless the kernel overcommits memory without checking.
    if (readFileSync("/proc/sys/vm/overcommit_memory", "utf8").trim() === "1") {
      t.skip("vm.overcommit_memory is 1: a 1 TiB thread stack may be granted here");
      return;
    }
    await assert.rejects(
      HttpListener.open({
        callback: "Handler",
        workers: 2,
        module: HANDLERS.href,
        workerResourceLimits: { stackSizeMb: 1024 * 1024 },
      }),
      (e: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(e.code, "ERR_THREAD");
        assert.match(e.message, /Node could not create a worker thread: ERR_WORKER_INIT_FAILED/);
        assert.equal(e.cause?.code, "ERR_WORKER_INIT_FAILED");
        return true;
      },
    );
    assert.equal(workerThreadCount(), 0);
  });
});

describe("worker mode: workerStartTimeoutMs bounds loading the module", () => {
  /** Workers started from now on take `ms` to load the handlers module (see the fixture). */
  const slowStarts = (t: { after: (fn: () => void) => void }, ms: number): void => {
    process.env.CALLBACKHTTP_TEST_SLOW_START_MS = String(ms);
    t.after(() => {
      delete process.env.CALLBACKHTTP_TEST_SLOW_START_MS;
    });
  };

  test("Open fails with ERR_THREAD once it passed, leaving nothing bound or running", T, async (t) => {
    slowStarts(t, 5000);
    const port = await freePort();
    const before = callbackhttp.OpenCount();
    const started = Date.now();
    await assert.rejects(
      callbackhttp.Open("Handler", -1, port, 0, { workers: 2, module: HANDLERS.href, workerStartTimeoutMs: 300 }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "ERR_THREAD");
        assert.match(err.message, /the module did not load within 300 ms$/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, "Open gave up before the module would have loaded");
    assert.equal(callbackhttp.OpenCount(), before);
    assert.equal(workerThreadCount(), 0, "no thread outlives a failed Open");
    await assert.rejects(open(port), { code: "ECONNREFUSED" }, "the port was never bound");
  });

  test("a replacement past it is given up: its waiting request gets 500, and the next try serves", T, async (t) => {
    const listener = await HttpListener.open({
      callback: "Handler",
      timeoutMs: 300,
      workers: 1,
      module: HANDLERS.href,
      workerStartTimeoutMs: 400,
    });
    t.after(() => listener.close());
    const port = listener.port;
    slowStarts(t, 20_000);
    assert.equal((await request(port, "/spin")).status, 503);
    assert.equal(listener.stats().workerRestarts, 1, "a replacement was started, and loads slowly");
    const waiting = request(port, "/cached");
    await until(() => listener.counters.queued === 1, "the request waits for the replacement");
    assert.equal((await waiting).status, 500, "the replacement was given up, and no worker was left");
    await until(() => workerThreadCount() === 0, "the given-up replacement was terminated");
    // The next try (a second later) loads at normal speed.
    delete process.env.CALLBACKHTTP_TEST_SLOW_START_MS;
    await until(() => listener.stats().workerRestarts === 2, "the replacement is tried again");
    const reply = await request(port, "/cached");
    assert.deepEqual([reply.status, reply.body], [200, "cached"]);
    assert.equal(workerThreadCount(), 1);
    assert.deepEqual([listener.stats().timeouts, listener.stats().failures], [1, 1], "the 503 and the 500");
  });

  test("it is checked: an integer of 1 ms or more, and only with workers", async () => {
    for (const bad of [0, -1, 1.5, "30000"]) {
      await assert.rejects(
        HttpListener.open({
          callback: "Handler",
          workers: 1,
          module: HANDLERS.href,
          workerStartTimeoutMs: bad as never,
        }),
        (e: Error & { code?: string }) =>
          e.code === "ERR_ARG_TYPE" && /option workerStartTimeoutMs must be/.test(e.message),
      );
    }
    await assert.rejects(
      HttpListener.open({ callback: () => "x", workerStartTimeoutMs: 30_000 }),
      (e: Error & { code?: string }) =>
        e.code === "ERR_ARG_TYPE" && /workerStartTimeoutMs needs workers/.test(e.message),
    );
    assert.equal(workerThreadCount(), 0);
  });
});

describe("worker mode: start-up failures are ERR_THREAD and leave nothing behind", () => {
  /** What `err.cause` must be: what loading the module threw, with its code and stack; nothing when nothing threw. */
  type CauseCheck = (cause: unknown) => void;
  const noCause: CauseCheck = (cause) => assert.equal(cause, undefined);
  const cases: Array<[string, string, string, RegExp, CauseCheck]> = [
    [
      "a missing module",
      "Handler",
      "./no/such/module.js",
      /loading it failed: .*(Cannot find module|ERR_MODULE_NOT_FOUND)/,
      (cause) => {
        assert.ok(cause instanceof Error, "a cause");
        assert.equal((cause as Error & { code?: string }).code, "ERR_MODULE_NOT_FOUND");
      },
    ],
    [
      "a missing export",
      "NoSuchExport",
      HANDLERS.href,
      /exports no function named "NoSuchExport" \(found undefined\)/,
      noCause,
    ],
    [
      "an export that is not a function",
      "NotAFunction",
      HANDLERS.href,
      /exports no function named "NotAFunction" \(found number\)/,
      noCause,
    ],
    [
      "a top-level throw",
      "Handler",
      THROWS_AT_LOAD.href,
      /loading it failed: Error: this module refuses to load/,
      (cause) => {
        assert.ok(cause instanceof Error, "a cause");
        assert.equal(cause.message, "this module refuses to load");
        // The worker's stack, which says where in the module it threw.
        assert.ok(cause.stack?.includes(THROWS_AT_LOAD.href), cause.stack);
      },
    ],
    ["process.exit at load", "Handler", EXITS_AT_LOAD.href, /exited with code 3/, noCause],
  ];
  for (const [what, name, module, reason, checkCause] of cases) {
    test(what, T, async () => {
      const before = callbackhttp.OpenCount();
      const port = await freePort();
      await assert.rejects(
        callbackhttp.Open(name, -1, port, 0, { workers: 2, module }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, "ERR_THREAD");
          assert.match(err.message, /^callbackhttp\.Open: cannot start worker threads /);
          assert.ok(err.message.includes(`callback "${name}"`), err.message);
          assert.ok(err.message.includes(`module ${JSON.stringify(module)}`), err.message);
          assert.match(err.message, reason);
          checkCause(err.cause);
          return true;
        },
      );
      assert.equal(callbackhttp.OpenCount(), before);
      assert.equal(workerThreadCount(), 0, "no thread outlives a failed Open");
      await assert.rejects(open(port), { code: "ECONNREFUSED" }, "the port was never bound");
    });
  }

  test("a function in place of the export's name is refused: a worker cannot receive it", T, async () => {
    await assert.rejects(
      callbackhttp.Open(function Handler() {}, -1, 0, 0, { workers: 1, module: HANDLERS.href }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "ERR_ARG_TYPE");
        assert.match(err.message, /in worker mode the callback must be the name of the module's export/);
        return true;
      },
    );
    assert.equal(workerThreadCount(), 0);
  });

  test("HttpListener.open fails the same way", T, async () => {
    await assert.rejects(HttpListener.open({ callback: "Nope", workers: 1, module: HANDLERS.href }), {
      code: "ERR_THREAD",
    });
    assert.equal(workerThreadCount(), 0);
  });
});

/** A path in a fresh directory, removed after the test: `/touch?file=` creates it when the request runs. */
function markerFile(t: { after: (fn: () => void) => void }): { path: string; target: string } {
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-worker-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "ran");
  return { path, target: `/touch?file=${encodeURIComponent(path)}` };
}

describe("worker mode: the next request handed ahead to a busy worker", () => {
  // With one callback per worker (the default), a busy worker is handed the next waiting request, so
  // that it begins it without a round trip through the main thread. These tests show that such a
  // request is still a queued request in every way a user can see.

  test("it counts as queued until it begins; one whose connection is lost first never runs", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const marker = markerFile(t);
    const busy = request(port, "/busy?ms=500");
    await until(() => listener.counters.running === 1, "the busy request to start");
    const s = await open(port);
    collect(s);
    s.write(get(marker.target));
    await until(() => listener.counters.queued === 1, "the second request to wait");
    assert.equal(listener.counters.running, 1);
    s.resetAndDestroy(); // a reset: the connection is lost (a half-closed client would still get its answer)
    await until(() => listener.counters.queued === 0 && listener.counters.active === 1, "the lost one to be dropped");
    assert.equal((await busy).status, 200);
    // the worker has been free since: a request after it is answered, and the lost one never ran
    assert.equal((await request(port, "/cached")).body, "cached");
    assert.equal(existsSync(marker.path), false, "the request taken back never ran");
    assert.equal(listener.stats().requests, 3);
  });

  test("its worker stopped at the time limit, it is answered by the replacement", T, async (t) => {
    const listener = await HttpListener.open({
      callback: "Handler",
      timeoutMs: 400,
      workers: 1,
      module: HANDLERS.href,
    });
    t.after(() => listener.close());
    const port = listener.port;
    const marker = markerFile(t);
    const spin = request(port, "/spin");
    await until(() => listener.counters.running === 1, "the endless loop to start");
    const next = request(port, marker.target);
    await until(() => listener.counters.queued === 1, "the next request to wait");
    assert.equal((await spin).status, 503);
    const answered = await next;
    assert.equal(answered.status, 200);
    assert.equal(answered.body, "touched");
    assert.equal(existsSync(marker.path), true);
    assert.deepEqual(
      [listener.stats().timeouts, listener.stats().failures, listener.stats().workerRestarts],
      [1, 0, 1],
    );
  });

  test("its worker crashed, it is answered by the replacement, and so is the one waiting behind it", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const crash = request(port, "/crash?ms=400");
    await until(() => listener.counters.running === 1, "the doomed request to start");
    const next = request(port, "/seq");
    await until(() => listener.counters.queued === 1, "the next request to wait");
    const last = request(port, "/seq");
    await until(() => listener.counters.queued === 2, "the last request to wait");
    assert.equal((await crash).status, 500);
    // both go to the replacement, in their order (its /seq counts from 1)
    assert.deepEqual([(await next).body, (await last).body], ["1", "2"]);
    assert.deepEqual([listener.stats().failures, listener.stats().workerRestarts], [1, 1]);
  });

  test("it moves to a worker that frees up rather than wait behind a long callback", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 2, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const answered: string[] = [];
    const track = (name: string, reply: Promise<Reply>): Promise<Reply> =>
      reply.then((r) => {
        answered.push(name);
        return r;
      });
    // no time limit: the long one runs for good until its signal fires (Close)
    const long = track("long", request(port, "/wait-abort"));
    await until(() => listener.counters.running === 1, "the long callback to start");
    const short = track("short", request(port, "/busy?ms=200"));
    await until(() => listener.counters.running === 2, "the short callback to start");
    const next = track("next", request(port, "/cached"));
    await until(() => listener.counters.queued === 1, "the next request to wait");
    assert.equal((await next).body, "cached", "answered by the worker that freed up");
    assert.equal((await short).status, 200);
    assert.equal(answered.includes("long"), false, "while the long callback still runs");
    await listener.close();
    assert.equal((await long).status, 200);
  });

  test(
    "a synchronous callback's requests, handed ahead one after another, run at the same stack depth",
    T,
    async (t) => {
      const listener = await HttpListener.open({ callback: "SyncDepth", workers: 1, module: HANDLERS.href });
      t.after(() => listener.close());
      // 16 clients, 25 requests each, one after the other: while a callback runs, the next request is handed
      // ahead, and the worker begins it as the callback's answer goes out.
      const depths: number[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = 0; i < 25; i++)
            depths.push(Number(await (await fetch(`http://127.0.0.1:${listener.port}/?3`)).text()));
        }),
      );
      assert.equal(depths.length, 400);
      assert.ok(depths.every((d) => d > 0));
      // Begun from inside the previous answer, each request ran a few frames deeper than the one before
      // (70 frames apart after these 400 requests, 3,500 after 30 s of load); begun in turn, they all run at
      // about the same depth.
      const spread = Math.max(...depths) - Math.min(...depths);
      assert.ok(spread <= 10, `stack depths from ${Math.min(...depths)} to ${Math.max(...depths)}`);
    },
  );

  test("its context reports draining when RouteClose came before it began", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const busy = request(port, "/busy?ms=400");
    await until(() => listener.counters.running === 1, "the busy request to start");
    const ctx = request(port, "/ctx");
    await until(() => listener.counters.queued === 1, "the next request to wait");
    assert.equal(listener.routeClose(), true);
    assert.equal((await busy).status, 200);
    assert.equal(JSON.parse((await ctx).body).draining, true);
  });

  test("RouteClose behind pipelined requests: only the last answer says close, and all are answered", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const s = await open(listener.port);
    const reply = collect(s);
    // The first runs; the second, handed ahead to the worker, and the third, waiting in the listener, come
    // after it was sent: the worker learns of them through the first one's cell.
    s.write(get("/helper?ms=400"));
    await until(() => listener.counters.running === 1, "the first to run");
    s.write(get("/helper?ms=1") + get("/helper?ms=2"));
    await until(() => listener.counters.queued === 2, "the two behind it to wait");
    listener.routeClose();
    assert.equal(await listener.waitDrained(5000), true);
    await reply.closed;
    assert.deepEqual(bodiesAndClose(reply.text()), [
      ["/helper?ms=400 false", false],
      ["/helper?ms=1 false", false],
      ["/helper?ms=2 true", true],
    ]);
  });

  test("a request alone on its connection says close during a drain, however many ran beside it", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 2, module: HANDLERS.href });
    t.after(() => listener.close());
    const lone = await open(listener.port);
    const reply = collect(lone);
    lone.write(get("/helper?ms=1500"));
    await until(() => listener.counters.running === 1, "the lone request to run");
    // 1,100 requests through the other worker while it runs, one after another, each alone on its
    // connection when sent (more than the 1,024 cells an earlier design shared among request ids, where a
    // later request's id took the lone one's cell)
    const other = await open(listener.port);
    let answered = 0;
    let next: () => void = () => {};
    other.on("data", (d: Buffer) => {
      answered += d.toString("latin1").split("HTTP/1.1 200 ").length - 1;
      next();
    });
    for (let i = 1; i <= 1100; i++) {
      const done = new Promise<void>((resolve) => (next = () => answered >= i && resolve()));
      other.write(get("/cached"));
      await done;
    }
    other.destroy();
    listener.routeClose();
    await reply.closed;
    assert.match(reply.text(), /\r\nConnection: close\r\n\r\n\/helper\?ms=1500 true$/);
  });

  test("Close answers it 503 like any queued request, and it never runs", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const marker = markerFile(t);
    const busy = request(port, "/busy?ms=400");
    await until(() => listener.counters.running === 1, "the busy request to start");
    const s = await open(port);
    const reply = collect(s);
    s.write(get(marker.target));
    await until(() => listener.counters.queued === 1, "the next request to wait");
    await listener.close();
    assert.equal((await busy).status, 200, "the running callback finished");
    await reply.closed;
    assert.deepEqual(statuses(Buffer.from(reply.text(), "latin1")), [503]);
    assert.equal(existsSync(marker.path), false);
    assert.equal(workerThreadCount(), 0);
  });

  test(
    "a worker whose callback ended meanwhile is free, not busy: the next request runs there under its limit",
    T,
    async (t) => {
      const listener = await HttpListener.open({
        callback: "Handler",
        timeoutMs: 2500,
        workers: 2,
        module: HANDLERS.href,
      });
      t.after(() => listener.close());
      const port = listener.port;
      const a = request(port, "/busy?ms=500"); // the first worker
      await until(() => listener.counters.running === 1, "a to start");
      const b = request(port, "/busy?ms=500"); // the second
      await until(() => listener.counters.running === 2, "b to start");
      // ahead on the first worker, then on the second; then an endless loop waits in the listener
      const lost = await open(port);
      collect(lost);
      lost.write(get("/cached"));
      await until(() => listener.counters.queued === 1, "the first one ahead");
      const ahead = request(port, "/sleep?ms=1800");
      await until(() => listener.counters.queued === 2, "the second one ahead");
      const spin = request(port, "/spin");
      await until(() => listener.counters.queued === 3, "the endless loop to wait");
      // The first one ahead is taken back (its client is gone): the first worker will be free, not busy.
      lost.resetAndDestroy();
      await until(() => listener.counters.queued === 2, "the lost one to be dropped");
      // Both callbacks end while the main thread holds still: the first worker goes idle, the second begins
      // the one ahead of it. When the first worker's answer is read, the endless loop must go to it as a
      // running request, clocked. Handed ahead instead, as to a busy worker, it began at once, unclocked and
      // counted as queued, until the second worker's next answer.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          holdMainThread(1200);
          resolve();
        }),
      );
      assert.deepEqual([(await a).status, (await b).status], [200, 200]);
      await until(
        () => listener.counters.running === 2 && listener.counters.queued === 0,
        "the endless loop to run beside the one ahead",
      );
      assert.equal((await ahead).status, 200);
      assert.equal((await spin).status, 503, "stopped at its limit");
      assert.deepEqual([listener.stats().timeouts, listener.stats().workerRestarts], [1, 1]);
    },
  );

  test("connections take their turns in arrival order, a pipelined one does not jump ahead", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 1, module: HANDLERS.href });
    t.after(() => listener.close());
    const port = listener.port;
    const first = request(port, "/seq?ms=300");
    await until(() => listener.counters.running === 1, "the first request to start");
    // x sends two requests at once, then y and z one each: x's first, y's, z's, then x's second
    const x = await open(port);
    const fromX = collect(x);
    x.write(get("/seq?ms=20") + get("/seq?ms=20", "Connection: close\r\n"));
    await until(() => listener.counters.queued === 2, "x's requests to wait");
    const y = request(port, "/seq?ms=20");
    await until(() => listener.counters.queued === 3, "y's request to wait");
    const z = request(port, "/seq?ms=20");
    await until(() => listener.counters.queued === 4, "z's request to wait");
    assert.equal((await first).body, "1");
    assert.equal((await y).body, "3");
    assert.equal((await z).body, "4", "z waited before x's second request was x's turn again");
    await fromX.closed;
    const bodies = [...fromX.text().matchAll(/\r\n\r\n(\d+)/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ["2", "5"]);
  });
});

describe("worker mode: counters and shutdown", () => {
  test("with every worker busy, further requests wait as Queued", T, async (t) => {
    const lid = await callbackhttp.Open("Handler", -1, 0, 0, { workers: 2, module: HANDLERS.href });
    t.after(() => callbackhttp.Close(lid));
    const port = callbackhttp.Port(lid);
    const all = Array.from({ length: 5 }, () => request(port, "/busy?ms=300"));
    await until(() => callbackhttp.Active(lid) === 5 && callbackhttp.Pending(lid) === 0, "five complete requests");
    assert.equal(callbackhttp.Running(lid), 2);
    assert.equal(callbackhttp.Queued(lid), 3);
    assert.equal(callbackhttp.RouteQueued(lid), 3);
    assert.match(callbackhttp.RouteInfo(lid), / drained=0 pending=0 queued=3 running=2 active=5$/);
    const replies = await Promise.all(all);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(await callbackhttp.WaitDrained(lid, 5000), 1);
    assert.equal(callbackhttp.Queued(lid), 0);
    assert.equal(callbackhttp.Running(lid), 0);
    await callbackhttp.Close(lid);
  });

  test("a lost connection aborts the callback's signal inside the worker", T, async (t) => {
    const lid = await callbackhttp.Open("Handler", -1, 0, 0, { workers: 1, module: HANDLERS.href });
    t.after(() => callbackhttp.Close(lid));
    // its answer goes nowhere: the callback writes what its signal said to this file before returning
    const seen = markerFile(t);
    const socket = await open(callbackhttp.Port(lid));
    socket.write(get(`/wait-abort?file=${encodeURIComponent(seen.path)}`));
    await until(() => callbackhttp.Running(lid) === 1, "the callback to start");
    socket.resetAndDestroy(); // a reset, not a FIN: a half-closed client still gets its answer
    assert.equal(await callbackhttp.WaitDrained(lid, 5000), 1);
    assert.equal(callbackhttp.Running(lid), 0);
    assert.equal(existsSync(seen.path), true, "the callback saw its signal fire before it returned");
    assert.equal(readFileSync(seen.path, "latin1"), "AbortError: connection closed");
    // the abort was passed to the callback, not forced by ending its worker
    const stats = findListener(lid)!.stats();
    assert.deepEqual([stats.workerRestarts, stats.failures], [0, 0]);
    assert.equal((await request(callbackhttp.Port(lid), "/cached")).body, "cached");
    await callbackhttp.Close(lid);
  });

  test("RouteClose and WaitRouteDrained: the running request finishes, new connections are refused", T, async (t) => {
    const lid = await callbackhttp.Open("Handler", -1, 0, 0, { workers: 2, module: HANDLERS.href });
    t.after(() => callbackhttp.Close(lid));
    const port = callbackhttp.Port(lid);
    const busy = request(port, "/busy?ms=300");
    await until(() => callbackhttp.Running(lid) === 1, "the request to start");
    assert.equal(callbackhttp.RouteClose(lid), 1);
    assert.equal(callbackhttp.RouteState(lid), 0);
    assert.equal(callbackhttp.RouteCloseAccepted(lid), 1);
    await assert.rejects(open(port), { code: "ECONNREFUSED" });
    assert.equal(await callbackhttp.WaitRouteDrained(lid, 5000), 1);
    assert.equal((await busy).status, 200);
    assert.equal(workerThreadCount(), 2, "RouteClose leaves the workers to Close");
    assert.equal(await callbackhttp.Close(lid), 0);
    assert.equal(workerThreadCount(), 0);
    assert.match(callbackhttp.RouteCloseInfo(lid), / drained=1 pending=0 queued=0 running=0 active=0 /);
  });

  test(
    "Close with busy workers: a cooperative callback sees its signal, a stuck one is cut, queued get 503",
    T,
    async (t) => {
      const closeTimeoutMs = 1000;
      const listener = await HttpListener.open({
        callback: "Handler",
        workers: 2,
        module: HANDLERS.href,
        closeTimeoutMs,
      });
      // bounded: Close is what this test checks, and one that never ends must still let its failure be reported
      t.after(() => listener.close(), { timeout: 20_000 });
      const port = listener.port;
      // one request a connection, written in turn so that the third is the one left waiting
      const [s1, s2, s3] = await Promise.all([open(port), open(port), open(port)]);
      const r1 = collect(s1);
      const r2 = collect(s2);
      const r3 = collect(s3);
      s1.write(get("/wait-abort"));
      await until(() => listener.counters.running === 1, "the cooperative callback");
      s2.write(get("/spin"));
      await until(() => listener.counters.running === 2, "the endless loop");
      s3.write(get("/echo"));
      await until(() => listener.counters.queued === 1, "the queued request");

      // The endless loop never lets its callback finish: Close must end anyway, cutting it. Failing
      // after 20 s only keeps a Close that never ends from hanging the run; it measures nothing.
      let deadline: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        listener.close(),
        new Promise<"never">((resolve) => {
          deadline = setTimeout(() => resolve("never"), 20_000);
        }),
      ]);
      clearTimeout(deadline);
      assert.equal(closed, true, "Close did not end within 20 s, waiting for a callback that never ends");
      assert.equal(workerThreadCount(), 0, "no thread outlives the listener");
      await Promise.all([r1.closed, r2.closed, r3.closed]);
      assert.match(r1.text(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*aborted: AbortError: listener closed$/);
      assert.equal(r2.text(), "", "the stuck callback was abandoned, its thread terminated, its connection cut");
      assert.deepEqual(statuses(Buffer.from(r3.text(), "latin1")), [503]);
      assert.equal(listener.stats().workerRestarts, 0, "no replacement is started at Close");
    },
  );

  test("Close waits for a thread terminated just before it, one stuck in a system call included", T, async () => {
    const listener = await HttpListener.open({
      callback: "Handler",
      workers: 1,
      module: HANDLERS.href,
      timeoutMs: 200,
    });
    // Past its limit the worker is terminated and replaced, but its thread ends only when the call returns.
    assert.equal((await request(listener.port, "/native?ms=1200")).status, 503);
    assert.equal(listener.stats().workerRestarts, 1);
    await listener.close();
    assert.equal(workerThreadCount(), 0, "no thread outlives Close");
  });

  test(
    "a time-out keeps the answer a callback beside it had already sent (concurrency above workers)",
    T,
    async (t) => {
      const listener = await HttpListener.open({
        callback: "Handler",
        workers: 1,
        concurrency: 2,
        timeoutMs: 400,
        module: HANDLERS.href,
      });
      t.after(() => listener.close());
      const slow = request(listener.port, "/sleep?ms=3000");
      await until(() => listener.counters.running === 1, "the slow callback");
      await new Promise((resolve) => setTimeout(resolve, 250));
      const quick = request(listener.port, "/sleep?ms=10");
      await until(() => listener.counters.running === 2, "the quick callback");
      // The main thread is busy while the quick one answers and the slow one's limit passes. Held from a
      // setImmediate callback, the event loop's next turn runs the expired timer before it reads the channel:
      // the limit is handled first, with the quick one's answer still unread.
      await new Promise((resolve) => setImmediate(resolve));
      holdMainThread(350);
      assert.equal((await slow).status, 503);
      assert.equal((await quick).body, "slept 10", "the answer sent before the worker was terminated");
      assert.equal(listener.stats().failures, 0);
    },
  );

  test(
    "a cooperative request begun when Close finds it is not lost to the time-out of the one before",
    T,
    async (t) => {
      const listener = await HttpListener.open({
        callback: "Handler",
        workers: 1,
        timeoutMs: 500,
        closeTimeoutMs: 3000,
        module: HANDLERS.href,
      });
      t.after(() => listener.close());
      const first = request(listener.port, "/busy?ms=400");
      await until(() => listener.counters.running === 1, "the first callback");
      const second = request(listener.port, "/wait-abort");
      await until(() => listener.counters.queued === 1, "the second, handed ahead");
      // The main thread is busy while the first returns (within its limit) and the worker begins the second;
      // then Close, before the main thread has read either: it finds the second begun, and the first past its limit.
      holdMainThread(600);
      const closed = listener.close();
      assert.equal((await first).status, 503);
      const answer = await second;
      assert.equal(answer.status, 200);
      assert.match(answer.body, /^aborted: AbortError: /);
      await closed;
      assert.equal(listener.stats().workerRestarts, 0, "its worker was not terminated");
    },
  );

  test("a replacement due while Close waits for a callback is not started", T, async (t) => {
    const listener = await HttpListener.open({ callback: "Handler", workers: 2, module: HANDLERS.href });
    t.after(() => {
      delete process.env.CALLBACKHTTP_TEST_FAIL_LOAD;
      return listener.close();
    });
    const busy = request(listener.port, "/busy?ms=2500");
    await until(() => listener.counters.running === 1, "the long callback to start");
    // The other worker crashes; its replacement cannot load the module, and is to be tried again in a second.
    process.env.CALLBACKHTTP_TEST_FAIL_LOAD = "1";
    assert.equal((await request(listener.port, "/crash")).status, 500);
    await until(() => workerThreadCount() === 1, "the replacement to fail and exit");
    const restarts = listener.stats().workerRestarts;
    assert.equal(restarts, 1);
    await listener.close(); // waits for the long callback, past the second
    assert.equal((await busy).status, 200);
    assert.equal(listener.stats().workerRestarts, restarts, "no worker was started during Close");
    assert.equal(workerThreadCount(), 0);
  });

  test("workers keep the process's Node options but those Node refuses in a worker", T, async () => {
    // --input-type makes the pool pass an explicit list, which Node checks: --title is process-wide, refused.
    const index = new URL("../src/index.js", import.meta.url).href;
    const script = `
      import { HttpListener } from ${JSON.stringify(index)};
      const l = await HttpListener.open({ callback: "Handler", workers: 1, module: ${JSON.stringify(HANDLERS.href)} });
      const r = await fetch("http://127.0.0.1:" + l.port + "/execargv");
      console.log(await r.text());
      await l.close();
    `;
    const child = spawn(
      process.execPath,
      ["--input-type=module", "--title=callbackhttp-test", "--no-warnings", "-e", script],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(code, 0);
    const argv = JSON.parse(out) as string[];
    assert.ok(argv.includes("--no-warnings"), `the worker's execArgv: ${out}`);
    assert.equal(
      argv.some((a) => a.startsWith("--title") || a.startsWith("--input-type")),
      false,
      out,
    );
  });

  test("a process whose listener had a stuck worker exits by itself after Close", T, async () => {
    const index = new URL("../src/index.js", import.meta.url).href;
    const script = `
      import { callbackhttp } from ${JSON.stringify(index)};
      import { connect } from "node:net";
      const lid = await callbackhttp.Open("Handler", -1, 0, 0, { workers: 2, module: ${JSON.stringify(HANDLERS.href)} });
      const s = connect(callbackhttp.Port(lid), "127.0.0.1", () => s.write("GET /spin HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n"));
      s.on("error", () => {});
      while (callbackhttp.Running(lid) === 0) await new Promise((r) => setTimeout(r, 5));
      console.log("closed", await callbackhttp.Close(lid));
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(code, 0, "the process ended on its own, nothing kept it alive");
    assert.equal(out.trim(), "closed 1");
  });
});
