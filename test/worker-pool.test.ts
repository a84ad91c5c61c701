/**
 * The worker pool on its own, without sockets: requests are bare Exchanges
 * with a stand-in host, and the pool's answers are collected from its settle
 * callback. This shows what the listener hides: which worker each request
 * went to, and the staging calls one by one. (A worker out of memory under
 * workerResourceLimits is tested through the listener, in worker.test.ts.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ResponseData } from "../src/callback-runner.js";
import { Exchange, type ExchangeHost } from "../src/exchange.js";
import type { ListenerConfig } from "../src/listener.js";
import { resolveLimits } from "../src/options.js";
import { startWorkerPool, type WorkerPool, workerThreadCount } from "../src/worker-pool.js";

const HANDLERS = new URL("./fixtures/workers/handlers.js", import.meta.url).href;
const T = { timeout: 30_000 };

const host: ExchangeHost = {
  listenerId: 99,
  draining: false,
  keepAliveTimeoutMs: 5000,
  remoteAddress: () => "127.0.0.1",
  remotePort: () => 4242,
  settled: () => {},
};

function config(workers: number): ListenerConfig {
  return {
    callback: "Handler",
    callbackName: "Handler",
    timeoutMs: -1,
    port: 0,
    bindMode: 0,
    // Not the default keep-alive time-out: the context in a worker must carry the listener's own.
    limits: resolveLimits({ workers, module: HANDLERS, keepAliveTimeoutMs: 7000 }, "test"),
    where: "test",
  };
}

/** A sent request: its Exchange (to abort it) and its answer, the raw response or null. */
interface Sent {
  ex: Exchange;
  answer: Promise<string | null>;
}

/**
 * A pool whose answers resolve per exchange: `send(path)` sends a GET; `ask(path)` sends one and
 * resolves with its answer.
 */
async function pool(workers: number): Promise<{
  pool: WorkerPool;
  send: (path: string) => Sent;
  ask: (path: string) => Promise<string | null>;
}> {
  const waiting = new Map<Exchange, (response: ResponseData | null) => void>();
  const settle = (ex: Exchange, response: ResponseData | null): void => {
    waiting.get(ex)?.(response);
    waiting.delete(ex);
  };
  // concurrency 0 (not the listener's default of one per worker): no staging here, plain dispatch.
  const reports = { settle, begin: () => {}, requeue: () => {}, closing: () => false, wake: () => {} };
  const p = await startWorkerPool(config(workers), reports);
  const send = (path: string): Sent => {
    const ex = new Exchange(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`, "latin1"), 0, host);
    const answer = new Promise<string | null>((resolve) => waiting.set(ex, (r) => resolve(text(r))));
    p.run(ex);
    return { ex, answer };
  };
  return { pool: p, send, ask: (path) => send(path).answer };
}

/**
 * A pool with one callback per worker (the listener's default, which hands requests ahead): `exchange(path)`
 * makes a GET and the promise of its answer, to pass to run() or stage(); `begun` lists the targets of the
 * requests reported begun, in order.
 */
async function stagingPool(workers: number): Promise<{
  pool: WorkerPool;
  begun: string[];
  exchange: (path: string) => Sent;
}> {
  const begun: string[] = [];
  const answers = new Map<Exchange, (response: ResponseData | null) => void>();
  const reports = {
    settle: (ex: Exchange, response: ResponseData | null) => answers.get(ex)?.(response),
    begin: (ex: Exchange) => begun.push(ex.bytes.toString("latin1").split(" ")[1]!),
    requeue: () => {},
    closing: () => false,
    wake: () => {},
  };
  const base = config(workers);
  const p = await startWorkerPool({ ...base, limits: { ...base.limits, concurrency: workers } }, reports);
  const exchange = (path: string): Sent => {
    const ex = new Exchange(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`, "latin1"), 0, host);
    const answer = new Promise<string | null>((resolve) => answers.set(ex, (r) => resolve(text(r))));
    return { ex, answer };
  };
  return { pool: p, begun, exchange };
}

/** A response as text: a string as it came, bytes read as latin1. */
const text = (response: ResponseData | null): string | null =>
  response === null || typeof response === "string" ? response : response.toString("latin1");

const body = (response: string | null): string => response?.slice(response.indexOf("\r\n\r\n") + 4) ?? "<failure>";

describe("worker pool", () => {
  test("requests go to the least busy worker", T, async (t) => {
    const { pool: p, send, ask } = await pool(3);
    t.after(() => p.close());
    // three requests at once land on three different threads
    const first = await Promise.all([ask("/thread"), ask("/thread"), ask("/thread")]);
    assert.equal(new Set(first.map(body)).size, 3);
    // One worker holds a callback until its signal fires; its thread stays free to answer, so a
    // request sent to it would come back with its thread id at once instead of hanging.
    const held = send("/hold");
    // One at a time, so that each finds the two other workers idle: taken in turn, the busy one's
    // turn would come every third request.
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(body(await ask("/thread")));
    held.ex.abort("connection closed");
    const busy = body(await held.answer);
    assert.ok(first.map(body).includes(busy), `the held request ran on a worker of the pool: ${busy}`);
    assert.equal(answers.includes(busy), false, `none went to the busy worker ${busy}: ${answers.join(" ")}`);
    assert.equal(new Set(answers).size, 2, "the two free workers share them");
  });

  test("the context carries what the main thread knew at dispatch", T, async () => {
    const { pool: p, ask } = await pool(1);
    try {
      assert.deepEqual(JSON.parse(body(await ask("/ctx"))), {
        listenerId: 99,
        remoteAddress: "127.0.0.1",
        remotePort: 4242,
        draining: false,
        keepAliveTimeoutMs: 7000,
        httpVersion: "1.1",
        head: false,
        aborted: false,
        sameContext: true,
      });
    } finally {
      await p.close();
    }
  });

  test(
    "one callback per worker: a busy worker takes the next request ahead, and one taken back never runs",
    T,
    async (t) => {
      const { pool: p, begun, exchange } = await stagingPool(1);
      t.after(() => p.close());
      const dir = mkdtempSync(join(tmpdir(), "callbackhttp-pool-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const marker = join(dir, "ran");

      const first = exchange("/busy?ms=300");
      p.run(first.ex);
      assert.equal(p.canStage(), true, "a worker running one callback can take one ahead");
      const takenBack = exchange(`/touch?file=${encodeURIComponent(marker)}`);
      assert.equal(p.stage(takenBack.ex), true);
      assert.equal(p.canStage(), false, "one ahead per worker");
      assert.equal(p.revoke(takenBack.ex), true, "not begun: taken back");
      const second = exchange("/cached");
      // the claim cell is free again: the worker can take another one ahead
      assert.equal(p.stage(second.ex), true);
      assert.equal(body(await first.answer), "busy done");
      assert.deepEqual(begun, ["/cached"], "reported begun before the answer it followed");
      assert.equal(body(await second.answer), "cached");
      assert.equal(existsSync(marker), false, "the request taken back never ran");
    },
  );

  test(
    "a worker found to have begun the request taken back from it is busy: no other request moves to it",
    T,
    async (t) => {
      const { pool: p, begun, exchange } = await stagingPool(2);
      t.after(() => p.close());
      const a = exchange("/busy?ms=100");
      p.run(a.ex); // the first worker
      const x = exchange("/busy?ms=1500");
      p.run(x.ex); // the second
      const b = exchange("/busy?ms=1000");
      assert.equal(p.stage(b.ex), true); // ahead on the first worker, behind a
      const c = exchange("/cached");
      assert.equal(p.stage(c.ex), true); // ahead on the second, behind x
      // The main thread holds still while the first worker ends a, claims b and begins it, and posts
      // a's answer; then b is taken back (its connection was lost, say), too late: it runs.
      const end = Date.now() + 400;
      while (Date.now() < end) {
        // a's answer waits in the channel meanwhile
      }
      assert.equal(p.revoke(b.ex), false, "b had begun on the first worker");
      assert.equal(body(await a.answer), "busy done");
      // The first worker runs b now: c stays ahead on the second, rather than wait behind b as a run.
      assert.deepEqual(begun, ["/busy?ms=1000"]);
      assert.equal(body(await x.answer), "busy done");
      assert.equal(body(await c.answer), "cached");
      assert.deepEqual(begun, ["/busy?ms=1000", "/cached"]);
      assert.equal(body(await b.answer), "busy done");
    },
  );

  test("close() twice is one close, and a closed pool fails requests instead of hanging", T, async () => {
    const { pool: p, ask } = await pool(2);
    await Promise.all([p.close(), p.close()]);
    assert.equal(workerThreadCount(), 0);
    assert.equal(await ask("/echo"), null);
  });
});
