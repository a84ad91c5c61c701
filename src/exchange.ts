/**
 * One request's life inside the listener, and what its callback sees: the ref
 * blob (`value`, the raw bytes) and the context (listener id, peer, an
 * AbortSignal, `draining`). The context and its signal are made only when the
 * callback asks for them, so a request that never looks costs nothing.
 */

import type { ResponseData } from "./callback-runner.js";
import { REQUEST_FLAGS } from "./framer.js";

/** What a callback learns about its request besides the bytes. */
export interface CallbackContext {
  /** The id of the listener the request came to. */
  readonly listenerId: number;
  /** The peer's address, e.g. "127.0.0.1". */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** Fires when the callback runs past its limit, or on a forced Close. */
  readonly signal: AbortSignal;
  /**
   * True once RouteClose was called. The connection then closes after the
   * last request it holds; `willClose` says whether that is this one.
   */
  readonly draining: boolean;
  /**
   * True when the connection closes after this response whatever it says: the
   * request asked for it (`Connection: close`, or HTTP/1.0 without keep-alive),
   * it is the last one maxRequestsPerConnection allows, or the listener drains
   * and no request has come behind it on its connection. RFC 9112 9.6: the
   * response should then say `Connection: close` (the response helpers add it
   * when given the context). Not while requests wait behind it: a response
   * that says close ends the connection, and they would get no answer.
   */
  readonly willClose: boolean;
  /**
   * How long the listener keeps the connection open and idle after a response
   * that leaves it open (the keepAliveTimeoutMs option; 0: keep-alive is off).
   * The response helpers advertise it as `Keep-Alive: timeout=<seconds>`, as
   * Node's http server does, so that a client stops reusing an idle connection
   * before the listener closes it.
   */
  readonly keepAliveTimeoutMs: number;
  /**
   * The request's HTTP version. An HTTP/1.0 connection stays open only when
   * the request asked for it and the response says `Connection: keep-alive`
   * (RFC 9112 9.3); the response helpers say it then.
   */
  readonly httpVersion: "1.0" | "1.1";
  /**
   * The request is a HEAD: its answer is the head alone (RFC 9110 9.3.2). The
   * response helpers given the context leave the body out and keep its
   * Content-Length.
   */
  readonly head: boolean;
}

/** What the listener knows that a context reports. */
export interface ExchangeHost {
  readonly listenerId: number;
  readonly draining: boolean;
  readonly keepAliveTimeoutMs: number;
  remoteAddress(): string;
  remotePort(): number;
  /** The request's callback finished or timed out: its answer may go out. */
  settled(ex: Exchange): void;
}

export const EXCHANGE_STATE = {
  QUEUED: 0,
  RUNNING: 1,
  /** The response is in hand and waits for its turn on the wire. */
  READY: 2,
  /** The listener answers it itself with `status`. */
  REJECTED: 3,
  /** Abandoned: its connection is gone or its time ran out; a late result is dropped. */
  DROPPED: 4,
  /**
   * Worker mode: handed to a busy worker ahead of a free slot, so that the
   * worker begins it the moment its current callback ends. Still queued (and
   * counted so) until the runner reports that it began.
   */
  STAGED: 5,
} as const;

/**
 * The ref blob of the reference's `callback i32 NAME(ref blob $X)`: `value`
 * holds the request bytes, and the callback may replace it with the response.
 */
export class RequestRef {
  value: Uint8Array | string;
  readonly #exchange: Exchange;

  constructor(value: Uint8Array, exchange: Exchange) {
    this.value = value;
    this.#exchange = exchange;
  }

  /** The request's context (the same object the callback gets as its second argument). */
  get context(): CallbackContext {
    return this.#exchange.context;
  }
}

class RequestContext implements CallbackContext {
  readonly #exchange: Exchange;

  constructor(exchange: Exchange) {
    this.#exchange = exchange;
  }

  get listenerId(): number {
    return this.#exchange.host.listenerId;
  }

  get remoteAddress(): string {
    return this.#exchange.host.remoteAddress();
  }

  get remotePort(): number {
    return this.#exchange.host.remotePort();
  }

  get signal(): AbortSignal {
    return this.#exchange.signal;
  }

  get draining(): boolean {
    return this.#exchange.host.draining;
  }

  get willClose(): boolean {
    const ex = this.#exchange;
    return ex.lastOnConnection || (ex.host.draining && !ex.followed);
  }

  get keepAliveTimeoutMs(): number {
    return this.#exchange.host.keepAliveTimeoutMs;
  }

  get httpVersion(): "1.0" | "1.1" {
    return this.#exchange.httpVersion;
  }

  get head(): boolean {
    return (this.#exchange.flags & REQUEST_FLAGS.HEAD) !== 0;
  }
}

export class Exchange {
  /** The request bytes exactly as received. */
  readonly bytes: Buffer;
  /** REQUEST_FLAGS of the framer. */
  readonly flags: number;
  readonly host: ExchangeHost;
  state: number = EXCHANGE_STATE.QUEUED;
  /** The status the listener answers with itself (REJECTED), or 0. */
  status = 0;
  /** The response, once READY. */
  response: ResponseData | null = null;
  /** When the callback started (ms, performance clock), for its time limit. */
  startedAt = 0;
  /** No request is read after this one on its connection. */
  lastOnConnection = false;
  /** A request has begun behind this one on its connection (it is answered after this one). */
  followed = false;
  /** It ran past its limit: answered 503, still counted running until the 503 goes out. */
  timedOut = false;
  /** Neighbours in the listener's list of running callbacks, oldest first. */
  prevRunning: Exchange | null = null;
  nextRunning: Exchange | null = null;
  #ref: RequestRef | null = null;
  #context: RequestContext | null = null;
  #abort: AbortController | null = null;

  constructor(bytes: Buffer, flags: number, host: ExchangeHost) {
    this.bytes = bytes;
    this.flags = flags;
    this.host = host;
  }

  /** The request's HTTP version (CallbackContext.httpVersion). */
  get httpVersion(): "1.0" | "1.1" {
    return this.flags & REQUEST_FLAGS.HTTP10 ? "1.0" : "1.1";
  }

  get ref(): RequestRef {
    this.#ref ??= new RequestRef(this.bytes, this);
    return this.#ref;
  }

  get context(): CallbackContext {
    this.#context ??= new RequestContext(this);
    return this.#context;
  }

  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  /** The runner's hook for an abort (worker mode forwards it), without an AbortSignal listener per request. */
  onAbort: ((ex: Exchange, name: string, message: string) => void) | null = null;

  /**
   * Abort the callback's signal. It is made now if the callback has not asked
   * for it yet, so that a callback reading `ctx.signal` later finds it aborted.
   */
  abort(reason: string): void {
    const name = reason === "timeout" ? "TimeoutError" : "AbortError";
    this.#abort ??= new AbortController();
    if (this.#abort.signal.aborted) return;
    this.#abort.abort(new DOMException(reason, name));
    this.onAbort?.(this, name, reason);
  }
}
