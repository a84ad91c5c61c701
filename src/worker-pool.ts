/**
 * Worker mode, the main-thread side: a small pool of worker threads that each
 * load the user's module and run its exported callback (src/worker-entry.ts is
 * the other side). The listener keeps the sockets, the framing, the counters
 * and the time limit; the pool carries each complete raw request to the least
 * busy worker and the raw response back, moving the bytes in a transfer list.
 *
 * With one running callback per worker (the default concurrency), a worker
 * whose callback runs is also handed the next waiting request ("staged"), so
 * that it begins it the moment its callback ends instead of idling through
 * two thread hand-offs. A staged request counts as queued until the worker's
 * answer to the one before it arrives; a shared claim cell settles the race
 * between the worker beginning it and the main thread taking it back (its
 * connection was lost, Close, the worker was lost), so that no request ever
 * runs twice or is lost.
 *
 * What the pool adds over the main thread is a hard limit: a callback past its
 * time limit has its worker terminated and replaced at once, so even an endless
 * loop costs one restart. A worker that dies (a top-level throw, process.exit,
 * out of memory under resourceLimits) fails its requests with 500 and is
 * replaced the same way. The other workers, and their requests, never notice.
 */
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  receiveMessageOnPort,
  Worker,
  type WorkerOptions,
} from "node:worker_threads";
import type { CallbackRunner, RunnerHost } from "./callback-runner.js";
import { CallbackHttpError } from "./errors.js";
import type { Exchange } from "./exchange.js";
import { REQUEST_FLAGS } from "./framer.js";
import type { ListenerConfig } from "./listener.js";

// ---- the messages between the two sides (worker-entry.ts imports these types) ----

/** The workerData of every worker. */
export interface WorkerSetup {
  /** The user's module, as a file: URL. */
  readonly moduleUrl: string;
  /** The name of the export to call. */
  readonly exportName: string;
  /** One callback at a time (requests that arrive meanwhile wait in the worker, in order); else no limit. */
  readonly oneAtATime: boolean;
  /** The listener's keepAliveTimeoutMs, for CallbackContext.keepAliveTimeoutMs. */
  readonly keepAliveTimeoutMs: number;
  /**
   * Two Int32 cells shared with the main thread. [CLAIM]: the id of the request
   * staged on this worker and not yet claimed, or 0. Whoever swaps it to 0 first
   * owns the request: the worker to begin it, the main thread to take it back.
   * The main thread stages the next one only once the cell is 0 again.
   * [BEGUN]: the id of the last request whose callback the worker began (ids
   * grow in the order requests are sent, and a worker begins them in the order
   * they arrive): after the thread has ended, a request with a later id never ran.
   */
  readonly claim: SharedArrayBuffer;
  /**
   * Int32 cells the main thread shares with all workers: [DRAINING] is 1 once RouteClose was called;
   * [ALONE + slot] is 1 while no request has begun behind the request given that slot, on its connection
   * (CallbackContext.willClose). A slot is a request's from when it is sent until the pool forgets it.
   */
  readonly shared: SharedArrayBuffer;
  /**
   * The pool's own channel to this worker (transferred). Not `parentPort`: that one belongs to the user's
   * module, whose messages on it must not pass for the pool's (they are dropped).
   */
  readonly port: MessagePort;
}

/** Indexes in WorkerSetup.shared: the RouteClose flag, and the first of the slots' cells. */
export const DRAINING = 0;
export const ALONE = 1;
/**
 * Slots for requests in the workers at once. Past them (only with thousands of async callbacks in flight
 * under a concurrency above the workers), a request gets none and its willClose stays false during a drain:
 * its answer does not say close, and the listener closes the connection after it all the same.
 */
export const ALONE_SLOTS = 4096;
/** Indexes of the cells in WorkerSetup.claim. */
export const CLAIM = 0;
export const BEGUN = 1;

/** Main thread → worker. */
export type ToWorker =
  | {
      /** "run": begin it (after the running callback, one at a time); "stage": the same, if the worker wins its claim. */
      readonly type: "run" | "stage";
      readonly id: number;
      /** The raw request, in an ArrayBuffer of its own, transferred. */
      readonly bytes: ArrayBuffer;
      readonly listenerId: number;
      readonly remoteAddress: string;
      readonly remotePort: number;
      /** No request is read after this one on its connection (with RouteClose, CallbackContext.willClose). */
      readonly lastOnConnection: boolean;
      /** Its cell in WorkerSetup.shared, at ALONE + slot; -1: none. */
      readonly slot: number;
      /** CallbackContext.httpVersion. */
      readonly httpVersion: "1.0" | "1.1";
      /** CallbackContext.head. */
      readonly head: boolean;
    }
  /** The request's signal fired on the main thread (its connection was lost, or Close). */
  | { readonly type: "abort"; readonly id: number; readonly name: string; readonly message: string };

/** What a worker's module threw as it loaded, in plain fields: an Error's own `code` does not survive a structured clone. */
export interface ThrownError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
}

/** A message of the pool's own: the port is not the module's, but a message is checked before it is trusted. */
function isFromWorker(msg: unknown): msg is FromWorker {
  return msg !== null && typeof msg === "object" && typeof (msg as { type?: unknown }).type === "string";
}

/**
 * Whether job id `a` was sent after `b`. Ids wrap from 0x7fffffff to 1; the few requests a worker holds are
 * never half the id space apart, so the nearer way round the circle decides.
 */
function after(a: number, b: number): boolean {
  const ahead = (a - b + 0x80000000) % 0x80000000;
  return ahead > 0 && ahead < 0x40000000;
}

/** A response as a worker sent it: bytes (an ArrayBuffer moved over) are wrapped, not copied. */
function responseOf(response: ArrayBuffer | string | null): Buffer | string | null {
  return response === null || typeof response === "string" ? response : Buffer.from(response);
}

/** The main thread's copy of a worker's error, for ERR_THREAD's `cause`. */
function rebuildError(thrown: ThrownError): Error {
  const err = new Error(thrown.message);
  err.name = thrown.name;
  if (thrown.stack !== undefined) err.stack = thrown.stack;
  if (thrown.code !== undefined) Object.assign(err, { code: thrown.code });
  return err;
}

/** Worker → main thread. */
export type FromWorker =
  /** The module loaded and exports the callback: requests may come. */
  | { readonly type: "ready" }
  /** The module could not be loaded (`error`: what loading it threw), or its export is not a function. */
  | { readonly type: "failed"; readonly reason: string; readonly error?: ThrownError }
  /** A callback finished: the raw response (transferred), a string response (copied), or null for a failure (500). */
  | { readonly type: "done"; readonly id: number; readonly response: ArrayBuffer | string | null };

// ---- bounds ----

/** How long a worker may take to load the module (the option workerStartTimeoutMs's default). */
const START_TIMEOUT_MS = 30_000;
/** terminate() is awaited this long at most; a thread stuck past it is unref'd and left behind. */
const TERMINATE_BOUND_MS = 2000;
/** After a replacement worker failed to start, the wait before the next try (no restart storm). */
const RESPAWN_DELAY_MS = 1000;

/** The compiled worker side; Node 20 cannot start a worker from a .ts file. */
const WORKER_ENTRY = new URL("./worker-entry.js", import.meta.url);

let liveThreads = 0;

/** Worker threads of every pool started and not yet exited (for tests and diagnostics). */
export function workerThreadCount(): number {
  return liveThreads;
}

/**
 * The Node options for a worker: inherited as they are (undefined), except
 * that `--input-type` must go: it is meant for `-e` or stdin input, and a
 * worker started from a file with it fails ("--input-type can only be used
 * with string input"). Only then is an explicit list passed, since Node checks
 * an explicit list and refuses process-wide options in it (under Node 26's
 * test runner the process has several).
 */
function workerExecArgv(): string[] | undefined {
  const argv = process.execArgv;
  if (!argv.some((arg) => arg === "--input-type" || arg.startsWith("--input-type="))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--input-type") i++;
    else if (!arg.startsWith("--input-type=")) out.push(arg);
  }
  return out;
}

/** A worker thread, falling back to no inherited options when Node refuses the list it was given. */
function startThread(options: WorkerOptions): Worker {
  try {
    return new Worker(WORKER_ENTRY, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw err;
    // Node refuses process-wide options (such as --title) in a list given to a worker, and names them:
    // "Initiated Worker with invalid execArgv flags: --title=foo, ...". Those go, the rest stay; should the
    // message not name them, the worker starts with none.
    const refused = new Set(((err as Error).message.split(": ")[1] ?? "").split(", "));
    const kept = (options.execArgv ?? []).filter((arg) => !refused.has(arg));
    try {
      return new Worker(WORKER_ENTRY, { ...options, execArgv: kept });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw again;
      return new Worker(WORKER_ENTRY, { ...options, execArgv: [] });
    }
  }
}

/** Settings of every worker of a pool, beyond what it runs (from the listener option workerResourceLimits). */
export interface WorkerPoolSettings {
  /** Passed to every `new Worker()`: a worker that crosses them dies and is replaced. */
  resourceLimits?: ResourceLimits;
  /** How long a worker may take to load the module: past it Open fails (ERR_THREAD), a replacement is given up. */
  startTimeoutMs?: number;
}

/** One request on its way through a worker. */
class Job {
  readonly id: number;
  readonly ex: Exchange;
  readonly worker: PoolWorker;
  /** Its cell among WorkerSetup.shared's slots, or -1 (none, or given back). */
  slot: number;

  constructor(id: number, ex: Exchange, worker: PoolWorker, slot: number) {
    this.id = id;
    this.ex = ex;
    this.worker = worker;
    this.slot = slot;
  }
}

/** One thread of the pool and the requests it holds. */
class PoolWorker {
  readonly thread: Worker;
  /** The main thread's end of WorkerSetup.port: every message between the pool and this worker. */
  readonly port: MessagePort;
  readonly jobs = new Map<number, Job>();
  /** The module loaded: requests may be sent to it (none is sent before). */
  ready = false;
  /** A replacement's bound on loading the module (WorkerPoolSettings.startTimeoutMs), cleared once it is ready. */
  startTimer: NodeJS.Timeout | null = null;
  /** The request handed to it ahead of a free slot (also in `jobs`), or null. */
  staged: Job | null = null;
  /** The claim cell shared with the thread (WorkerSetup.claim). */
  readonly claim: Int32Array;
  /** Terminated, exited or failed: its events are ignored from then on. */
  gone = false;
  /** Its termination (WorkerPool.#terminate), once begun. */
  ending: Promise<void> | null = null;
  /** It was sent a request (run or staged): it lived to serve, and a loss is not a start-up failure. */
  sent = false;
  /** Settles once the worker reported ready (true) or failed to start (false); see `failure`. */
  readonly started: Promise<boolean>;
  failure = "";
  /** The error behind `failure`, when there was one (ERR_THREAD's cause). */
  failureCause: Error | undefined = undefined;
  #onStarted!: (ok: boolean) => void;

  /** Throws what `new Worker()` throws when Node cannot create the thread. */
  constructor(setup: Omit<WorkerSetup, "claim" | "port">, settings: WorkerPoolSettings) {
    this.started = new Promise((resolve) => (this.#onStarted = resolve));
    const claim = new SharedArrayBuffer(8);
    this.claim = new Int32Array(claim);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const execArgv = workerExecArgv();
    try {
      this.thread = startThread({
        workerData: { ...setup, claim, port: port2 } satisfies WorkerSetup,
        transferList: [port2],
        ...(execArgv ? { execArgv } : {}),
        ...(settings.resourceLimits ? { resourceLimits: settings.resourceLimits } : {}),
      });
    } catch (err) {
      port1.close();
      throw err;
    }
    liveThreads++;
    this.thread.once("exit", () => liveThreads--);
  }

  markReady(): void {
    this.ready = true;
    this.#onStarted(true);
  }

  /** It did not start: `reason` says why (resolves `started` with false). */
  markFailed(reason: string): void {
    this.failure ||= reason;
    this.#onStarted(false);
  }
}

/**
 * The listener's runner in worker mode. Make it with startWorkerPool, which
 * resolves only once every worker has loaded the module.
 */
export class WorkerPool implements CallbackRunner {
  readonly #setup: Omit<WorkerSetup, "claim" | "port">;
  /** WorkerSetup.shared, as its cells. */
  readonly #shared: Int32Array;
  /** Slots no request holds (ALONE_SLOTS in all); the last one given back is taken first. */
  readonly #freeSlots = Array.from({ length: ALONE_SLOTS }, (_, i) => ALONE_SLOTS - 1 - i);
  readonly #settings: WorkerPoolSettings;
  readonly #startTimeoutMs: number;
  readonly #host: RunnerHost;
  /** One running callback per worker: each busy worker may hold one staged request. */
  readonly #staging: boolean;
  readonly #workers: PoolWorker[] = [];
  readonly #jobs = new Map<Exchange, Job>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Threads being terminated and not yet exited (each bounded by TERMINATE_BOUND_MS): close() awaits them all. */
  readonly #ending = new Set<Promise<void>>();
  readonly #size: number;
  #seq = 0;
  #cursor = 0;
  #restarts = 0;
  #closed = false;
  #closedPromise: Promise<void> | null = null;
  /** Open is waiting for the first workers to load the module. */
  #starting = true;

  /** `concurrency` is the listener's: equal to `size`, each worker runs one callback at a time and stages. */
  constructor(
    setup: Omit<WorkerSetup, "claim" | "oneAtATime" | "shared" | "port">,
    size: number,
    concurrency: number,
    host: RunnerHost,
    settings: WorkerPoolSettings,
  ) {
    this.#staging = concurrency === size;
    this.#setup = { ...setup, oneAtATime: this.#staging, shared: new SharedArrayBuffer(4 * (ALONE + ALONE_SLOTS)) };
    this.#shared = new Int32Array(this.#setup.shared);
    this.#host = host;
    this.#settings = settings;
    this.#startTimeoutMs = settings.startTimeoutMs ?? START_TIMEOUT_MS;
    this.#size = size;
  }

  /** Replacement workers started so far (after a time-out or a crash). */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Start the workers. Resolve once every one loaded the module; otherwise close the pool and reject with
   * the first reason (also when Node cannot create a thread at all).
   */
  async started(): Promise<void> {
    const workers = this.#workers;
    try {
      while (workers.length < this.#size) workers.push(this.#spawn());
    } catch (err) {
      await this.close();
      const e = err as { code?: unknown; message?: unknown };
      throw new Error(
        `Node could not create a worker thread: ${typeof e.code === "string" ? `${e.code}: ` : ""}${String(e.message)}`,
        {
          cause: err,
        },
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      let left = workers.length;
      const timer = setTimeout(() => resolve(false), this.#startTimeoutMs);
      for (const w of workers) {
        void w.started.then((ready) => {
          if (ready && --left > 0) return;
          clearTimeout(timer);
          resolve(ready);
        });
      }
    });
    if (!ok) {
      const failed = workers.find((w) => w.failure !== "");
      await this.close();
      const cause = failed?.failureCause;
      throw new Error(
        failed ? failed.failure : `the module did not load within ${this.#startTimeoutMs} ms`,
        cause === undefined ? undefined : { cause },
      );
    }
    this.#starting = false;
  }

  run(ex: Exchange): void {
    const worker = this.#pick();
    if (worker === null) {
      // No worker is ready and none is starting (see canRun): the request fails like a crash would.
      this.#host.settle(ex, null);
      return;
    }
    ex.onAbort = this.#aborted;
    this.#send(worker, ex, "run");
  }

  stage(ex: Exchange): boolean {
    const worker = this.#stageTarget();
    if (worker === null) return false;
    worker.staged = this.#send(worker, ex, "stage");
    return true;
  }

  canStage(): boolean {
    return this.#stageTarget() !== null;
  }

  revoke(ex: Exchange): boolean {
    const job = this.#jobs.get(ex);
    if (job === undefined || job.worker.staged !== job) return true;
    return this.#takeBack(job);
  }

  /** Post `ex` to `worker` as a new job. */
  #send(worker: PoolWorker, ex: Exchange, type: "run" | "stage"): Job {
    // Ids fit the Int32 claim cell; the few jobs in flight never meet a reused one.
    this.#seq = this.#seq >= 0x7fffffff ? 1 : this.#seq + 1;
    const slot = this.#freeSlots.pop() ?? -1;
    const job = new Job(this.#seq, ex, worker, slot);
    if (slot >= 0) Atomics.store(this.#shared, ALONE + slot, ex.followed ? 0 : 1);
    worker.sent = true;
    worker.jobs.set(job.id, job);
    this.#jobs.set(ex, job);
    if (type === "stage") Atomics.store(worker.claim, CLAIM, job.id);
    // One copy, into an ArrayBuffer of exactly the request's size that is then moved, not cloned:
    // ex.bytes may be a view of a larger pooled buffer, which postMessage would copy whole.
    const copy = new Uint8Array(ex.bytes.byteLength);
    copy.set(ex.bytes);
    const host = ex.host;
    const message: ToWorker = {
      type,
      id: job.id,
      bytes: copy.buffer,
      listenerId: host.listenerId,
      remoteAddress: host.remoteAddress(),
      remotePort: host.remotePort(),
      lastOnConnection: ex.lastOnConnection,
      slot,
      httpVersion: ex.httpVersion,
      head: (ex.flags & REQUEST_FLAGS.HEAD) !== 0,
    };
    worker.port.postMessage(message, [copy.buffer]);
    return job;
  }

  /**
   * Whether run() would begin a callback now. Not while a replacement is still
   * loading the module and no ready worker is free: the request then waits as
   * queued, its time limit not yet running, until the replacement is ready
   * (host.wake). With no worker starting either (all lost, the next try
   * delayed), run() answers 500 at once rather than keep requests waiting.
   */
  canRun(): boolean {
    let starting = false;
    let ready = false;
    for (const w of this.#workers) {
      if (w.gone) continue;
      if (!w.ready) starting = true;
      else if (!this.#staging || w.jobs.size === 0) return true;
      else ready = true;
    }
    // With one callback per worker, a request does not go to a busy worker as a run (its clock would start
    // while it waits there): it is handed ahead, or waits as queued until a worker frees up or is ready.
    return !starting && !(this.#staging && ready);
  }

  /**
   * A worker that can take a request ahead: live, ready, running exactly one,
   * holding none staged, and having claimed the last one it was given.
   */
  #stageTarget(): PoolWorker | null {
    if (!this.#staging) return null;
    for (const w of this.#workers) {
      if (!w.gone && w.ready && w.staged === null && w.jobs.size === 1 && Atomics.load(w.claim, CLAIM) === 0) return w;
    }
    return null;
  }

  /**
   * Take a staged job off its worker: true when the main thread won the claim
   * (the worker will never begin it); false when the worker had begun it, which
   * is then reported begun.
   */
  #takeBack(job: Job): boolean {
    job.worker.staged = null;
    if (Atomics.compareExchange(job.worker.claim, CLAIM, job.id, 0) !== job.id) {
      this.#begun(job);
      return false;
    }
    this.#forget(job);
    return true;
  }

  /**
   * `w` is about to be free and holds nothing staged: a request staged on a
   * worker that is still busy (the oldest such) moves to `w` rather than wait
   * there, possibly behind a long or endless callback.
   */
  #takeOver(w: PoolWorker): void {
    let from: Job | null = null;
    for (const v of this.#workers) {
      const staged = v.staged;
      if (v !== w && staged !== null && (from === null || staged.id < from.id)) from = staged;
    }
    // Its worker may have been quicker and begun it: then it stays there.
    if (from === null || !this.#takeBack(from)) return;
    this.#begun(this.#send(w, from.ex, "run"));
  }

  /**
   * `job` began on its worker without the listener's start() (it was staged,
   * or taken over): it runs from now, in the listener's counts.
   */
  #begun(job: Job): void {
    job.ex.onAbort = this.#aborted;
    this.#host.begin(job.ex);
  }

  /** RouteClose: every context, in every worker, reports draining from now on. */
  draining(): void {
    Atomics.store(this.#shared, DRAINING, 1);
  }

  /** A request began behind `ex` on its connection: its context in the worker no longer reports it alone. */
  followed(ex: Exchange): void {
    const slot = this.#jobs.get(ex)?.slot ?? -1;
    if (slot >= 0) Atomics.store(this.#shared, ALONE + slot, 0);
  }

  /** The listener answered `ex` 503: stop the callback the only way there is, by ending its thread. */
  timedOut(ex: Exchange): void {
    const job = this.#jobs.get(ex);
    if (job === undefined) return;
    this.#forget(job);
    const w = job.worker;
    const staged = w.staged;
    if (staged !== null && Atomics.load(w.claim, CLAIM) !== staged.id) {
      // The worker claimed its staged request: the callback past its limit had already returned
      // (its answer is on the way, and dropped). Nothing to stop; the staged one runs from now.
      w.staged = null;
      this.#begun(staged);
      return;
    }
    // One callback at a time, and the worker holds another that it has begun (the main thread tried to take it
    // back, for Close or a lost connection, and found it begun): the one past its limit had returned. Likewise.
    if (this.#staging && staged === null && w.jobs.size > 0) return;
    // Answers already sent by callbacks beside it (concurrency above workers) still count.
    this.#lost(w, "terminated: its callback ran past the time limit", this.#drain(w));
  }

  /** Terminate every worker; resolves once all have exited (each bounded by TERMINATE_BOUND_MS). */
  close(): Promise<void> {
    this.#closedPromise ??= this.#close();
    return this.#closedPromise;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    // Whatever is still here was abandoned by the listener (it waited for running callbacks before this).
    for (const job of [...this.#jobs.values()]) this.#forget(job);
    for (const w of this.#workers) w.staged = null;
    for (const w of this.#workers) void this.#terminate(w);
    // Those lost just before (a time-out, a crash) included: their replacements took their places above.
    await Promise.all(this.#ending);
  }

  // ---- dispatch ----------------------------------------------------------------

  /** The ready worker with the fewest requests; among equals, the next in turn. */
  #pick(): PoolWorker | null {
    const workers = this.#workers;
    const n = workers.length;
    let best: PoolWorker | null = null;
    for (let k = 0; k < n; k++) {
      const w = workers[(this.#cursor + k) % n]!;
      if (w.gone || !w.ready) continue;
      if (best === null || w.jobs.size < best.jobs.size) best = w;
    }
    this.#cursor = (this.#cursor + 1) % n;
    return best;
  }

  #forget(job: Job): void {
    job.worker.jobs.delete(job.id);
    this.#jobs.delete(job.ex);
    job.ex.onAbort = null;
    // Its cell is free for another request; a callback that reads its context after its answer (or its
    // time-out) may see that one's, but its answer has been taken, or dropped, by then.
    if (job.slot >= 0) {
      this.#freeSlots.push(job.slot);
      job.slot = -1; // given back once, however often the job is forgotten
    }
  }

  /**
   * The request's signal fired on this side (its connection was lost, or Close): tell the worker, so
   * that a cooperative callback sees it too. One that ignores it is ended by close(), which the
   * listener calls once its callbacks settled or its closeTimeoutMs passed.
   */
  readonly #aborted = (ex: Exchange, name: string, reason: string): void => {
    const job = this.#jobs.get(ex);
    // A time-out is followed at once by timedOut(), which ends the thread: nothing to tell.
    if (job === undefined || name === "TimeoutError" || job.worker.gone) return;
    const message: ToWorker = { type: "abort", id: job.id, name, message: reason };
    job.worker.port.postMessage(message);
  };

  // ---- the threads -------------------------------------------------------------

  #spawn(): PoolWorker {
    const w = new PoolWorker(this.#setup, this.#settings);
    w.port.on("message", (msg: FromWorker) => this.#onMessage(w, msg));
    // Listening refs the port; the thread alone decides whether it holds the process open (see #terminate).
    w.port.unref();
    // Always listened to: an 'error' event without a listener would be thrown on the main thread.
    w.thread.on("error", (err: Error) => {
      if (w.failure === "") {
        w.failure = `${err.name}: ${err.message}`;
        w.failureCause = err;
      }
    });
    w.thread.on("exit", (code: number) => {
      // Unlike parentPort's, this channel's messages may still be queued when 'exit' comes: they count (#drain).
      const answers = this.#drain(w);
      w.port.close();
      this.#lost(w, w.failure || `the worker exited with code ${code}`, answers, true);
    });
    return w;
  }

  #onMessage(w: PoolWorker, msg: FromWorker): void {
    // Given up (lost, terminated): what it posted before its end arrives still, and is ignored; its jobs were
    // settled when it was lost, and a "ready" from a replacement given up on must not make it take requests.
    if (w.gone || !isFromWorker(msg)) return;
    if (msg.type === "done") {
      const job = w.jobs.get(msg.id);
      // Timed out or abandoned: the late answer is dropped. It frees nothing either: a callback that timed
      // out without its worker being stopped had already returned, and its staged successor was begun then.
      if (job === undefined) return;
      // Free once this job is forgotten. Not when it holds another: a staged request the main thread tried
      // to take back but found begun (revoke) runs there now, and a request moved to it would wait.
      const free = this.#staging && w.staged === null && w.jobs.size === 1;
      // Forgotten before anything is begun or moved: what that starts in the listener may hand the next
      // request ahead, and a worker still counted busy with this job would be taken for a busy one. It is
      // idle: it would begin that request at once, unclocked and counted as queued.
      this.#forget(job);
      // One callback at a time: the worker begins its staged request right after this one (or, if that
      // request is still on its way, as soon as it arrives); begun first, so that it takes this slot.
      const staged = w.staged;
      if (staged !== null) {
        w.staged = null;
        this.#begun(staged);
      } else if (free) {
        this.#takeOver(w);
      }
      this.#host.settle(job.ex, responseOf(msg.response));
    } else if (msg.type === "ready") {
      w.markReady();
      this.#clearStartTimer(w);
      if (this.#starting) return;
      // A replacement: a request staged on a busy worker moves to it, and requests that waited for it begin.
      if (this.#staging) this.#takeOver(w);
      this.#host.wake();
    } else {
      this.#failedBecause(w, msg);
      this.#lost(w, msg.reason);
    }
  }

  /**
   * What `w` posted that the pool has not read yet, read now, as it is lost: the answers, by job id (given to
   * their requests by #lost), and why it could not start, if it said so. A late "ready" counts for nothing.
   */
  #drain(w: PoolWorker): Map<number, ArrayBuffer | string | null> {
    const answers = new Map<number, ArrayBuffer | string | null>();
    if (w.gone) return answers;
    for (let m = receiveMessageOnPort(w.port); m !== undefined; m = receiveMessageOnPort(w.port)) {
      const msg = m.message as FromWorker;
      if (!isFromWorker(msg)) continue;
      if (msg.type === "done") answers.set(msg.id, msg.response);
      else if (msg.type === "failed") this.#failedBecause(w, msg);
    }
    return answers;
  }

  /** The worker said why it could not start: the reason, and what loading the module threw (ERR_THREAD's cause). */
  #failedBecause(w: PoolWorker, msg: Extract<FromWorker, { type: "failed" }>): void {
    w.failure = msg.reason;
    if (msg.error !== undefined) w.failureCause = rebuildError(msg.error);
  }

  /**
   * `w` is dead or must die: terminate it, fail the requests it held (500) but
   * those it had answered (`answers`, by job id: what #drain read from its
   * channel, once it can no longer be picked), and put a fresh worker in its
   * place, unless the pool is starting or closing.
   */
  #lost(
    w: PoolWorker,
    reason: string,
    answers?: ReadonlyMap<number, ArrayBuffer | string | null>,
    exited = false,
  ): void {
    if (w.gone) return;
    this.#clearStartTimer(w);
    const wasReady = w.ready;
    w.markFailed(reason);
    void this.#terminate(w);
    // Its staged request, if it never began, waits again for another worker; if it began, it fails with the rest.
    const staged = w.staged;
    const requeue = staged !== null && this.#takeBack(staged);
    // The replacement first: the requeued request and those that take the slots the lost jobs free
    // must find it, rather than no live worker (which answers 500).
    // While Open waits for the first workers, one that cannot load the module fails Open instead.
    if (!(this.#closed || this.#host.closing() || (this.#starting && !wasReady))) {
      // A replacement that could not even load the module is retried after a pause, not in a tight loop; so
      // is one that ended before it was sent any request (a module that exits by itself once loaded).
      if (wasReady && w.sent) this.#replace(w);
      else this.#later(() => this.#replace(w), RESPAWN_DELAY_MS);
    }
    // Requeued before the lost jobs settle: it waited longer than whoever would take the slots they free.
    if (requeue) this.#host.requeue(staged.ex);
    // Once the thread has ended, it runs nothing more: a request sent to it that it never began (still on its
    // way, or waiting behind a callback) waits again instead of failing. Not while it is only being terminated.
    const begun = exited ? Atomics.load(w.claim, BEGUN) : 0;
    for (const job of [...w.jobs.values()]) {
      this.#forget(job);
      const answer = answers?.get(job.id);
      if (answer !== undefined) this.#host.settle(job.ex, responseOf(answer));
      else if (exited && after(job.id, begun)) this.#host.requeue(job.ex);
      else this.#host.settle(job.ex, null);
    }
    // Requests that waited for this worker to start wait no more: for its replacement, or, while none is
    // starting, they get 500 (canRun).
    if (!wasReady && !this.#closed) this.#host.wake();
  }

  #replace(dead: PoolWorker): void {
    const at = this.#workers.indexOf(dead);
    // Not in Close either: a retry scheduled before it may come while Close waits for callbacks.
    if (at < 0 || this.#closed || this.#host.closing()) return;
    this.#restarts++;
    let w: PoolWorker;
    try {
      w = this.#spawn();
    } catch {
      // Node could not create the thread (out of threads or memory): tried again later, like a module that
      // failed to load; meanwhile requests go to the other workers, or get 500 when none is up (canRun).
      this.#later(() => this.#replace(dead), RESPAWN_DELAY_MS);
      this.#host.wake();
      return;
    }
    this.#workers[at] = w;
    // Open bounds the first workers' start; a replacement gets the same bound, so that requests cannot
    // wait for good on one whose module never finishes loading (they get 500 and it is tried again).
    w.startTimer = this.#later(() => {
      if (!w.ready) this.#lost(w, `it did not load the module within ${this.#startTimeoutMs} ms`);
    }, this.#startTimeoutMs);
  }

  /** End a thread; resolves once it exited, or after TERMINATE_BOUND_MS at most. Once per thread. */
  #terminate(w: PoolWorker): Promise<void> {
    if (w.ending !== null) return w.ending;
    w.gone = true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, TERMINATE_BOUND_MS);
    });
    const ended = w.thread.terminate().then(
      () => {},
      () => {},
    );
    // A thread stuck in native code may outlive the bound; it must not keep the process alive.
    w.thread.unref();
    const ending = Promise.race([ended, bound]).finally(() => {
      clearTimeout(timer);
      this.#ending.delete(ending);
    });
    this.#ending.add(ending);
    w.ending = ending;
    return ending;
  }

  /** A replacement's start bound is done with: it is ready, or lost. */
  #clearStartTimer(w: PoolWorker): void {
    if (w.startTimer === null) return;
    clearTimeout(w.startTimer);
    this.#timers.delete(w.startTimer);
    w.startTimer = null;
  }

  #later(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }
}

/** The module option as a file: URL: a file: URL as given, anything else a path against process.cwd(). */
function moduleUrl(module: string): string {
  return module.startsWith("file:") ? new URL(module).href : pathToFileURL(resolvePath(process.cwd(), module)).href;
}

/**
 * Start `config.limits.workers` workers, each loading `config.limits.module`
 * and checking that it exports `config.callback` as a function. Resolves once
 * all are ready; otherwise rejects with ERR_THREAD, leaving no thread behind.
 * `host` is the listener the pool reports to.
 */
export async function startWorkerPool(
  config: ListenerConfig,
  host: RunnerHost,
  settings: WorkerPoolSettings = {},
): Promise<WorkerPool> {
  const { where, callback, limits } = config;
  if (typeof callback !== "string") {
    throw new CallbackHttpError(
      "ERR_ARG_TYPE",
      `${where}: in worker mode the callback must be the name of the module's export, not a function`,
    );
  }
  const module = limits.module ?? "";
  const fail = (reason: string, cause?: unknown): CallbackHttpError =>
    new CallbackHttpError(
      "ERR_THREAD",
      `${where}: cannot start worker threads for callback ${JSON.stringify(callback)} ` +
        `of module ${JSON.stringify(module)}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  let url: string;
  try {
    url = moduleUrl(module);
  } catch (err) {
    throw fail(`it is not a valid file: URL`, err);
  }
  const pool = new WorkerPool(
    { moduleUrl: url, exportName: callback, keepAliveTimeoutMs: limits.keepAliveTimeoutMs },
    limits.workers,
    limits.concurrency,
    host,
    settings,
  );
  try {
    await pool.started();
  } catch (err) {
    throw fail((err as Error).message, (err as Error).cause);
  }
  return pool;
}
