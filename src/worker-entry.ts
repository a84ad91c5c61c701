/**
 * Worker mode, the worker side (src/worker-pool.ts is the main-thread side):
 * load the user's module, find the callback by its exported name, report
 * ready or why not, then run the callback for each request the pool sends,
 * with the conventions of the main thread (callback-runner.ts): `(ref, ctx)`,
 * `ref.value` holds the raw request; a non-zero number or true means the
 * response is in `ref.value`, a Uint8Array or string is the response, and
 * 0/false/null/undefined, a throw or a rejection is a failure (500).
 *
 * This file runs only as the compiled JavaScript: Node 20 cannot start a
 * worker from a .ts file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { invokeCallback, type RequestCallback } from "./callback-runner.js";
import type { CallbackContext, RequestRef } from "./exchange.js";
import type { FromWorker, ToWorker, WorkerSetup } from "./worker-pool.js";

type RunMessage = Extract<ToWorker, { type: "run" }>;

/** What the callback gets as its context; the signal is made only if the callback asks for it. */
class WorkerContext implements CallbackContext {
  readonly listenerId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly draining: boolean;
  readonly willClose: boolean;
  #abort: AbortController | null = null;

  constructor(msg: RunMessage) {
    this.listenerId = msg.listenerId;
    this.remoteAddress = msg.remoteAddress;
    this.remotePort = msg.remotePort;
    this.draining = msg.draining;
    this.willClose = msg.willClose;
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

const port = parentPort!;
/** Requests whose callback has not finished, by the pool's id. */
const running = new Map<number, WorkerContext>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function reply(id: number, bytes: Buffer | null): void {
  if (!running.delete(id)) return;
  if (bytes === null) {
    post({ type: "done", id, response: null });
    return;
  }
  // One copy, into an ArrayBuffer of its own that is moved to the main thread. Transferring the
  // callback's own array instead would detach it: a response kept and returned again would come out empty.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  post({ type: "done", id, response: copy.buffer }, [copy.buffer]);
}

function run(callback: RequestCallback, msg: RunMessage): void {
  const context = new WorkerContext(msg);
  const ref = new WorkerRef(Buffer.from(msg.bytes), context);
  running.set(msg.id, context);
  invokeCallback(callback, ref as unknown as RequestRef, context, msg.id, reply);
}

/** The export named `name`: a named export, or a property of the default export (a CommonJS module). */
function findExport(mod: Record<string, unknown>, name: string): unknown {
  if (name in mod) return mod[name];
  const fallback = mod.default;
  return fallback !== null && typeof fallback === "object" ? (fallback as Record<string, unknown>)[name] : undefined;
}

async function start(): Promise<void> {
  const { moduleUrl, exportName } = workerData as WorkerSetup;
  let mod: Record<string, unknown>;
  try {
    mod = await import(moduleUrl);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    post({ type: "failed", reason: `loading it failed: ${e?.name ?? "Error"}: ${e?.message ?? String(err)}` });
    return;
  }
  const callback = findExport(mod, exportName);
  if (typeof callback !== "function") {
    const got = callback === null ? "null" : typeof callback;
    post({ type: "failed", reason: `it exports no function named ${JSON.stringify(exportName)} (found ${got})` });
    return;
  }
  port.on("message", (msg: ToWorker) => {
    if (msg.type === "run") run(callback as RequestCallback, msg);
    else running.get(msg.id)?.abort(msg.name, msg.message);
  });
  post({ type: "ready" });
}

void start();
