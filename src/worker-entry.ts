/**
 * Worker mode, the worker side (src/worker-pool.ts is the main-thread side):
 * load the user's module, find the callback by its exported name, report
 * ready or why not, then run the callback for each request the pool sends,
 * one at a time when the pool asks for it (later ones wait, in order),
 * with the conventions of the main thread (callback-runner.ts): `(ref, ctx)`,
 * `ref.value` holds the raw request; a non-zero number or true means the
 * response is in `ref.value`, a Uint8Array or string is the response, and
 * 0/false/null/undefined, a throw or a rejection is a failure (500).
 *
 * This file runs only as the compiled JavaScript: Node 20 cannot start a
 * worker from a .ts file.
 */
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { invokeCallback, type RequestCallback, type ResponseData } from "./callback-runner.js";
import type { CallbackContext, RequestRef } from "./exchange.js";
import {
  ALONE,
  BEGUN,
  CLAIM,
  DRAINING,
  type FromWorker,
  type ThrownError,
  type ToWorker,
  type WorkerSetup,
} from "./worker-pool.js";

type RunMessage = Extract<ToWorker, { type: "run" | "stage" }>;

/** What the callback gets as its context; the signal is made only if the callback asks for it. */
class WorkerContext implements CallbackContext {
  readonly listenerId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly httpVersion: "1.0" | "1.1";
  readonly head: boolean;
  readonly #slot: number;
  readonly #lastOnConnection: boolean;
  #abort: AbortController | null = null;

  constructor(msg: RunMessage) {
    this.listenerId = msg.listenerId;
    this.remoteAddress = msg.remoteAddress;
    this.remotePort = msg.remotePort;
    this.httpVersion = msg.httpVersion;
    this.head = msg.head;
    this.#slot = msg.slot;
    this.#lastOnConnection = msg.lastOnConnection;
  }

  /** Read when asked: RouteClose is a flag the main thread shares with every worker. */
  get draining(): boolean {
    return Atomics.load(shared, DRAINING) === 1;
  }

  /** Read when asked too: the main thread clears the request's cell once a request begins behind it. */
  get willClose(): boolean {
    if (this.#lastOnConnection) return true;
    return this.draining && this.#slot >= 0 && Atomics.load(shared, ALONE + this.#slot) === 1;
  }

  get keepAliveTimeoutMs(): number {
    return setup.keepAliveTimeoutMs;
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  abort(name: string, message: string): void {
    this.#abort ??= new AbortController();
    if (!this.#abort.signal.aborted) this.#abort.abort(new DOMException(message, name));
  }
}

/** The ref blob: `value` holds the request bytes, and the callback may replace it with the response. */
class WorkerRef {
  value: Uint8Array | string;
  readonly context: CallbackContext;

  constructor(value: Uint8Array, context: CallbackContext) {
    this.value = value;
    this.context = context;
  }
}

const setup = workerData as WorkerSetup;
/** The pool's channel; parentPort is left to the user's module. */
const port = setup.port;
// Not for the module's eyes: what it posts there would be the pool's business (and a workerData holding a
// port cannot be cloned). It sees the rest of workerData.
delete (workerData as { port?: unknown }).port;
/** Requests whose callback has not finished, by the pool's id. */
const running = new Map<number, WorkerContext>();
/** One at a time: requests that arrived while a callback ran, in order. */
const waiting: RunMessage[] = [];
/** Aborts that came for requests still waiting: applied when they begin. */
const earlyAborts = new Map<number, Extract<ToWorker, { type: "abort" }>>();
const claim = new Int32Array(setup.claim);
const shared = new Int32Array(setup.shared);
let callback: RequestCallback;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function reply(id: number, bytes: ResponseData | null): void {
  if (!running.delete(id)) return;
  // The next request is claimed before this answer goes out: when the main thread reads the answer,
  // a staged request this worker holds is already its own, and the claim cell is free for the next.
  // Messages that came while a synchronous callback held the thread are taken in first.
  let next: RunMessage | null = null;
  if (setup.oneAtATime) {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const msg = m.message as ToWorker;
      if (msg.type === "abort") abort(msg);
      else waiting.push(msg);
    }
    while (next === null && waiting.length > 0) {
      const msg = waiting.shift()!;
      if (claimed(msg)) next = msg;
    }
  }
  if (bytes === null || typeof bytes === "string") {
    // A string is copied by the message itself, and encoded once, on the main thread.
    post({ type: "done", id, response: bytes });
  } else {
    // One copy, into an ArrayBuffer of its own that is moved to the main thread. Transferring the
    // callback's own array instead would detach it: a response kept and returned again would come out empty.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    post({ type: "done", id, response: copy.buffer }, [copy.buffer]);
  }
  if (next !== null) begin(next);
}

/** A request arrived: begin it, or let it wait for the running callback (one at a time). */
function accept(msg: RunMessage): void {
  if (setup.oneAtATime && running.size > 0) waiting.push(msg);
  else if (claimed(msg)) begin(msg);
}

/** A staged request is ours only if the main thread has not taken it back meanwhile. */
function claimed(msg: RunMessage): boolean {
  return msg.type !== "stage" || Atomics.compareExchange(claim, CLAIM, msg.id, 0) === msg.id;
}

/** Requests to begin once the callback now running on this stack has returned (see begin). */
const toBegin: RunMessage[] = [];
let beginning = false;

/**
 * Begin `msg`'s callback. A synchronous callback answers from inside its own call, and that answer
 * begins the next request: begun there, each would run one level deeper on the stack, without end
 * under steady load (hundreds of levels in seconds, then a stack overflow). So a request that comes
 * while a callback runs on this stack waits for it to return, and one loop begins them in turn.
 */
function begin(msg: RunMessage): void {
  toBegin.push(msg);
  if (beginning) return;
  beginning = true;
  try {
    for (let next = toBegin.shift(); next !== undefined; next = toBegin.shift()) run(next);
  } finally {
    beginning = false;
  }
}

function run(msg: RunMessage): void {
  // Before anything of it runs: should this thread end, the main thread knows this request may have run.
  Atomics.store(claim, BEGUN, msg.id);
  const context = new WorkerContext(msg);
  const ref = new WorkerRef(Buffer.from(msg.bytes), context);
  running.set(msg.id, context);
  const early = earlyAborts.get(msg.id);
  if (early !== undefined) {
    earlyAborts.delete(msg.id);
    context.abort(early.name, early.message);
  }
  invokeCallback(callback, ref as unknown as RequestRef, context, msg.id, reply);
}

/** The main thread aborted a request: its signal fires now, or as it begins if it still waits here. */
function abort(msg: Extract<ToWorker, { type: "abort" }>): void {
  const context = running.get(msg.id);
  if (context !== undefined) context.abort(msg.name, msg.message);
  else if (waiting.some((w) => w.id === msg.id)) earlyAborts.set(msg.id, msg);
}

/**
 * The export named `name`: a named export, or a property of the default export (a CommonJS module's
 * `module.exports`, an object or a function that carries its handlers as properties).
 */
function findExport(mod: Record<string, unknown>, name: string): unknown {
  if (name in mod) return mod[name];
  const fallback = mod.default;
  // Its own property only: not `toString` from Object.prototype, nor `call` from Function.prototype.
  return ((fallback !== null && typeof fallback === "object") || typeof fallback === "function") &&
    Object.hasOwn(fallback, name)
    ? (fallback as Record<string, unknown>)[name]
    : undefined;
}

async function start(): Promise<void> {
  const { moduleUrl, exportName } = setup;
  let mod: Record<string, unknown>;
  try {
    mod = await import(moduleUrl);
  } catch (err) {
    const e = err as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown } | null | undefined;
    const name = typeof e?.name === "string" ? e.name : "Error";
    const message = typeof e?.message === "string" ? e.message : String(err);
    const error: ThrownError = {
      name,
      message,
      ...(typeof e?.stack === "string" ? { stack: e.stack } : {}),
      ...(typeof e?.code === "string" ? { code: e.code } : {}),
    };
    post({ type: "failed", reason: `loading it failed: ${name}: ${message}`, error });
    return;
  }
  const found = findExport(mod, exportName);
  if (typeof found !== "function") {
    const got = found === null ? "null" : typeof found;
    post({ type: "failed", reason: `it exports no function named ${JSON.stringify(exportName)} (found ${got})` });
    return;
  }
  callback = found as RequestCallback;
  port.on("message", (msg: ToWorker) => {
    if (msg.type === "abort") abort(msg);
    else accept(msg);
  });
  post({ type: "ready" });
}

void start();
