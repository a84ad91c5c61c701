/**
 * Runs a request callback on the main thread and turns what it gives back into
 * response bytes (contract section 2): a non-zero number or true means "the
 * response is in ref.value"; a Uint8Array or string is the response itself;
 * 0, false, null, undefined, a throw or a rejection is a failure (null here,
 * 500 for the client). A Promise is followed to its end.
 */
import type { CallbackContext, Exchange, RequestRef } from "./exchange.js";

/** What a callback may return, directly or through a Promise. */
export type CallbackResult = number | boolean | string | Uint8Array | null | undefined;

/**
 * What a callback gives back. `void` rather than `undefined`, so that a function typed `(…) => void`, or an
 * `async` one that returns nothing (`Promise<void>`), still type-checks as a callback (its answer is a 500).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: `undefined` would refuse those functions at compile time.
type CallbackReturn = CallbackResult | PromiseLike<CallbackResult> | void;

/** A request callback: the counterpart of the reference's `callback i32 NAME(ref blob $X)`. */
export type RequestCallback = (ref: RequestRef, context: CallbackContext) => CallbackReturn;

/** Runs callbacks; the listener has one, on the main thread or over workers. */
export interface CallbackRunner {
  /** Start the callback of `ex`; report through `settle(ex, bytes | null)`, once. */
  run(ex: Exchange): void;
  /**
   * Optional (worker mode): take `ex` while every slot is busy, to begin it as
   * soon as a slot of the runner's own frees; the runner then reports
   * `begin(ex)`, or `requeue(ex)` if it gives it back unstarted. False: not now.
   */
  stage?(ex: Exchange): boolean;
  /** Optional: RouteClose was called (worker mode tells the threads). */
  draining?(): void;
  /** Optional: a request began behind `ex` on its connection (worker mode tells the thread running it). */
  followed?(ex: Exchange): void;
  /** A stage() call would be accepted now. */
  canStage?(): boolean;
  /**
   * Optional (worker mode): false when run() could not begin a callback now
   * (a replacement worker is still starting); the request then waits as
   * queued until the runner reports `wake()`. Absent: always true.
   */
  canRun?(): boolean;
  /**
   * Take a staged `ex` back: true when it will never begin; false when it had
   * already begun (the runner reported `begin(ex)` before returning).
   */
  revoke?(ex: Exchange): boolean;
  /** `ex` ran past its limit and was answered 503: stop it if possible. */
  timedOut(ex: Exchange): void;
  /** Release everything (workers); running callbacks are left to finish. */
  close(): Promise<void>;
}

/**
 * A response as the callback gave it: bytes, or a string, which goes out as
 * UTF-8 (encoded by the connection, into a slab shared with its neighbours).
 */
export type ResponseData = Buffer | string;

export type Settle = (ex: Exchange, response: ResponseData | null) => void;

/** What a runner reports to its listener. */
export interface RunnerHost {
  /** A callback finished: its response bytes, or null for a failure (500). */
  readonly settle: Settle;
  /** A staged request's callback began. */
  readonly begin: (ex: Exchange) => void;
  /**
   * A request was given back unstarted (its worker was lost): it waits again. A staged one, or one sent to
   * run that the worker ended before beginning.
   */
  readonly requeue: (ex: Exchange) => void;
  /** The listener is in Close. */
  readonly closing: () => boolean;
  /** run() can begin callbacks again (canRun turned true): waiting requests may start. */
  readonly wake: () => void;
}

const NO_BYTES = Buffer.alloc(0);

/** A response value as the listener takes it (a string stays a string), or null when it is not one. */
export function responseData(value: unknown): ResponseData | null {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) {
    // An empty array may be a detached one (its buffer transferred away, e.g. by postMessage): a view
    // of that buffer would throw. Empty either way, it answers like an empty string.
    if (value.byteLength === 0) return NO_BYTES;
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

/**
 * The response a callback's result stands for, or null for a failure. Never throws: reading a
 * `ref.value` that a callback replaced with a throwing getter is a failure like any other.
 */
export function resultToResponse(result: unknown, ref: RequestRef): ResponseData | null {
  try {
    if (typeof result === "number") return result === 0 || Number.isNaN(result) ? null : responseData(ref.value);
    if (result === true) return responseData(ref.value);
    return responseData(result);
  } catch {
    return null;
  }
}

/**
 * Call `callback` and report its response (or null for a failure) through
 * `settle(tag, ...)`, once: at once for a synchronous result, later for a
 * Promise. Shared by the main-thread runner and the worker side; `tag` lets a
 * caller pass one fixed `settle` rather than a closure per request.
 */
export function invokeCallback<T>(
  callback: RequestCallback,
  ref: RequestRef,
  context: CallbackContext,
  tag: T,
  settle: (tag: T, response: ResponseData | null) => void,
): void {
  let result: unknown;
  let thenable: PromiseLike<unknown> | null = null;
  try {
    result = callback(ref, context);
    // Reading `then` runs the callback's code when it is a getter: it may throw too.
    if (result !== null && typeof result === "object" && !(result instanceof Uint8Array) && isThenable(result)) {
      thenable = result;
    }
  } catch {
    settle(tag, null);
    return;
  }
  if (thenable === null) {
    settle(tag, resultToResponse(result, ref));
    return;
  }
  // A thenable of the callback's own may call both handlers, or one and then throw: the first report counts.
  let reported = false;
  const report = (response: ResponseData | null): void => {
    if (reported) return;
    reported = true;
    settle(tag, response);
  };
  try {
    thenable.then(
      (value) => report(resultToResponse(value, ref)),
      () => report(null),
    );
  } catch {
    report(null);
  }
}

export class MainThreadRunner implements CallbackRunner {
  readonly #callback: RequestCallback;
  readonly #settle: Settle;

  constructor(callback: RequestCallback, settle: Settle) {
    this.#callback = callback;
    this.#settle = settle;
  }

  run(ex: Exchange): void {
    invokeCallback(this.#callback, ex.ref, ex.context, ex, this.#settle);
  }

  timedOut(): void {
    // A main-thread callback cannot be stopped: its signal was aborted and its late result is dropped.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function isThenable(value: object): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown }).then === "function";
}
