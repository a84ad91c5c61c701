/**
 * One client connection: feeds its bytes to the framer, keeps its requests in
 * arrival order, runs them one at a time through the listener, writes each
 * response in order (a pipelined batch in one write), decides keep-alive, and
 * enforces the per-connection deadlines with a single lazily re-armed timer.
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { CONTINUE_RESPONSE, cannedResponse } from "./canned-responses.js";
import type { RequestCounters } from "./counters.js";
import { EXCHANGE_STATE, Exchange, type ExchangeHost } from "./exchange.js";
import { type FramerSink, REQUEST_FLAGS, type RequestFramer } from "./framer.js";
import type { IdleList, IdleMember } from "./idle-list.js";
import type { ListenerLimits } from "./options.js";
import { responseKeepsAlive } from "./response-head.js";

/** What a connection needs from its listener. */
export interface ConnectionOwner {
  readonly id: number;
  readonly limits: Readonly<ListenerLimits>;
  readonly counters: RequestCounters;
  /** Where idle kept-alive connections wait, under keepAliveTimeoutMs. */
  readonly idleList: IdleList;
  /** RouteClose was called. */
  readonly draining: boolean;
  /** A framer for a connection's next request (reset, bound to `sink`). */
  takeFramer(sink: FramerSink): RequestFramer;
  /** A framer back between requests, for another connection. */
  releaseFramer(framer: RequestFramer): void;
  /**
   * Start the callback of `ex` (or stage it: worker mode), or return false and
   * call `conn.resume()` when a slot frees.
   */
  start(ex: Exchange, conn: Connection): boolean;
  /** Take a STAGED `ex` back: afterwards it is QUEUED (never begun) or RUNNING (it had begun). */
  unstage(ex: Exchange): void;
  connectionClosed(conn: Connection): void;
}

/**
 * After the listener's final response, how long it keeps reading (and
 * discarding) before it destroys the socket: closing with unread input makes
 * the kernel send a reset, which can destroy the response before the client
 * reads it.
 */
const LINGER_MS = 2000;

/** Stop reading while this many requests wait on one connection (pipelining flood). */
const MAX_QUEUED_PER_CONNECTION = 64;

const now = (): number => performance.now();

/**
 * Socket events reach their connection through this property, so that a
 * connection needs no closure per event: an idle connection costs less memory.
 */
const kConnection = Symbol("callbackhttp.connection");
type ServedSocket = Socket & { [kConnection]: Connection };

function socketOnData(this: ServedSocket, chunk: Buffer): void {
  this[kConnection].handleData(chunk);
}
function socketOnEnd(this: ServedSocket): void {
  this[kConnection].handleEnd();
}
function socketOnClose(this: ServedSocket): void {
  this[kConnection].handleClose();
}
function socketOnDrain(this: ServedSocket): void {
  this[kConnection].handleDrain();
}
function socketOnError(): void {
  // A reset or a broken pipe: 'close' follows and does the accounting.
}
function connectionOnTimer(conn: Connection): void {
  conn.handleTimer();
}

export class Connection implements FramerSink, ExchangeHost, IdleMember {
  readonly #socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #counters: RequestCounters;
  /** Taken from the owner when bytes arrive, given back between requests: an idle connection holds none. */
  #framer: RequestFramer | null = null;
  /** Requests in arrival order; only the first may be running (or staged). */
  #queue: Exchange[] = [];
  /** Responses emitted but not yet handed to the socket. */
  #out: Buffer[] | null = null;
  #outCount = 0;
  /** Responses handed to the socket that it has not written yet. */
  #unwritten = 0;
  /** Of those, how many an empty marker write, queued behind them, will report written (0: no marker). */
  #marked = 0;
  /** Bumped when everything unwritten was accounted at once: older markers then report nothing. */
  #markGeneration = 0;
  /** The framer holds a started, unfinished request (counted pending and active). */
  #partial = false;
  #started = 0;
  #timedStart = 0;
  #requestStartedAt = 0;
  #requests = 0;
  /** No more requests will be read: close once the queue is answered. */
  #closeAfter = false;
  #ending = false;
  #closed = false;
  #pumping = false;
  /** The next request waits for a concurrency slot; the listener calls resume(). */
  #waitingSlot = false;
  #readPaused = false;
  #endedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #remoteAddress: string | undefined;
  #remotePort: number | undefined;
  /** @internal IdleMember: the owner's idle list links its members through these. */
  idlePrev: IdleMember | null = null;
  idleNext: IdleMember | null = null;
  idleSince = -1;

  constructor(socket: Socket, owner: ConnectionOwner) {
    this.#socket = socket;
    this.#owner = owner;
    this.#counters = owner.counters;
    (socket as ServedSocket)[kConnection] = this;
    socket.on("data", socketOnData);
    socket.on("end", socketOnEnd);
    socket.on("close", socketOnClose);
    socket.on("drain", socketOnDrain);
    socket.on("error", socketOnError);
    // Until its first byte, a new connection is idle: it gets the keep-alive time-out.
    owner.idleList.add(this);
  }

  get listenerId(): number {
    return this.#owner.id;
  }

  get draining(): boolean {
    return this.#owner.draining;
  }

  remoteAddress(): string {
    this.#remoteAddress ??= this.#socket.remoteAddress ?? "";
    return this.#remoteAddress;
  }

  remotePort(): number {
    this.#remotePort ??= this.#socket.remotePort ?? 0;
    return this.#remotePort;
  }

  /** Nothing in flight and nothing arriving. */
  get idle(): boolean {
    return !this.#partial && this.#queue.length === 0 && this.#unwritten === 0 && this.#outCount === 0;
  }

  // ---- framer events -------------------------------------------------------

  onRequestStart(): boolean {
    // Only a request ends idleness: empty lines before a request line do not renew the idle time.
    if (this.idleSince >= 0) this.#owner.idleList.remove(this);
    this.#counters.active++;
    if (this.#owner.draining) {
      // A request begun after RouteClose is answered 503 in its turn, then the connection closes.
      this.#reject(503);
      return false;
    }
    this.#counters.pending++;
    this.#partial = true;
    this.#started++;
    return true;
  }

  onRequest(bytes: Buffer, flags: number): boolean {
    this.#partial = false;
    const counters = this.#counters;
    counters.pending--;
    counters.queued++;
    counters.requests++;
    const ex = new Exchange(bytes, flags, this);
    this.#queue.push(ex);
    this.#requests++;
    const max = this.#owner.limits.maxRequestsPerConnection;
    // RFC 9112 9.6: after a request that says close, no further request is read.
    if (
      flags & (REQUEST_FLAGS.CLOSE | REQUEST_FLAGS.CONNECT) ||
      (flags & REQUEST_FLAGS.HTTP10 && !(flags & REQUEST_FLAGS.KEEP_ALIVE)) ||
      (max > 0 && this.#requests >= max) ||
      this.#owner.limits.keepAliveTimeoutMs === 0
    ) {
      ex.lastOnConnection = true;
      this.#closeAfter = true;
      return false;
    }
    return true;
  }

  onError(status: number): void {
    if (this.#partial) {
      this.#partial = false;
      this.#counters.pending--;
    } else {
      this.#counters.active++;
    }
    this.#counters.rejected++;
    this.#reject(status);
  }

  /** Queue the listener's own answer; nothing after it is read. */
  #reject(status: number): void {
    const ex = new Exchange(EMPTY, 0, this);
    ex.state = EXCHANGE_STATE.REJECTED;
    ex.status = status;
    this.#queue.push(ex);
    this.#closeAfter = true;
  }

  // ---- socket events -------------------------------------------------------

  /** @internal */
  handleData(chunk: Buffer): void {
    // After the last answer, input is read only to be discarded (see LINGER_MS).
    if (this.#closeAfter || this.#ending) return;
    const framer = (this.#framer ??= this.#owner.takeFramer(this));
    framer.push(chunk);
    if (this.#partial && this.#timedStart !== this.#started) {
      this.#timedStart = this.#started;
      this.#requestStartedAt = now();
      this.#arm(this.#deadline());
    }
    this.#pump();
    this.#flush();
    if (framer.reusable && this.#framer === framer) {
      this.#framer = null;
      this.#owner.releaseFramer(framer);
    }
    if (!this.#readPaused && this.#queue.length >= MAX_QUEUED_PER_CONNECTION) this.#pauseReading();
  }

  /** @internal */
  handleEnd(): void {
    if (this.#ending) {
      this.#socket.destroy();
      return;
    }
    // The client will send no more: an unfinished request can never complete.
    this.#dropPartial();
    this.#framer?.stop();
    this.#closeAfter = true;
    this.#finishIfDone();
  }

  /** @internal */
  handleDrain(): void {
    if (this.#readPaused && this.#queue.length < MAX_QUEUED_PER_CONNECTION) this.#resumeReading();
  }

  /** @internal */
  handleClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#owner.idleList.remove(this);
    const counters = this.#counters;
    this.#dropPartial();
    const unwritten = this.#unwritten + this.#outCount;
    this.#unwritten = 0;
    this.#outCount = 0;
    this.#out = null;
    this.#marked = 0;
    // A request still in its callback stays running and active until it settles (settled()).
    for (const ex of this.#queue) {
      if (ex.state === EXCHANGE_STATE.STAGED) this.#owner.unstage(ex);
      if (ex.state === EXCHANGE_STATE.RUNNING) ex.abort("connection closed");
    }
    this.#dropWaiting();
    this.#queue.length = 0;
    counters.endActive(unwritten);
    this.#owner.connectionClosed(this);
  }

  /**
   * `n` responses are written. Accounted as soon as the socket has taken the
   * bytes: at once when the write completed synchronously (the usual case), else
   * when an empty marker write queued behind them completes.
   */
  #written(n: number): void {
    this.#unwritten -= n;
    this.#counters.endActive(n);
    if (this.#readPaused && this.#socket.writableLength === 0 && this.#queue.length < MAX_QUEUED_PER_CONNECTION) {
      this.#resumeReading();
    }
    if (this.idle && !this.#ending && !this.#closeAfter) this.#owner.idleList.add(this);
  }

  #markerDone(generation: number): void {
    if (this.#closed || generation !== this.#markGeneration) return;
    const n = this.#marked;
    this.#marked = 0;
    if (n > 0) this.#written(n);
    this.#watchUnwritten();
  }

  /** Learn when what is still unwritten gets written, without a callback on every write. */
  #watchUnwritten(): void {
    const pending = this.#unwritten - this.#marked;
    if (pending === 0 || this.#marked > 0 || this.#closed) return;
    if (this.#socket.writableLength === 0) {
      this.#written(pending);
      return;
    }
    this.#marked = pending;
    const generation = this.#markGeneration;
    // Rare (the socket is buffering): a closure per marker is fine here.
    this.#socket.write(EMPTY, () => this.#markerDone(generation));
  }

  // ---- the request queue ----------------------------------------------------

  /** A callback of this connection finished (or timed out); its answer can go out. */
  settled(ex: Exchange): void {
    if (this.#closed) {
      if (ex.timedOut) this.#counters.endRunning();
      ex.state = EXCHANGE_STATE.DROPPED;
      this.#counters.endActive(1);
      return;
    }
    if (this.#pumping) return;
    this.#pump();
    this.#flush();
  }

  /** A concurrency slot is free for this connection's next request. */
  resume(): void {
    this.#waitingSlot = false;
    if (this.#closed) return;
    this.#pump();
    this.#flush();
  }

  /** Answer what is in hand, in order; start the next request when the previous is answered. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const queue = this.#queue;
    while (queue.length > 0) {
      const ex = queue[0]!;
      const state = ex.state;
      if (state === EXCHANGE_STATE.QUEUED) {
        if (this.#waitingSlot) break;
        if (!this.#owner.start(ex, this)) {
          this.#waitingSlot = true;
          break;
        }
        continue;
      }
      if (state === EXCHANGE_STATE.RUNNING || state === EXCHANGE_STATE.STAGED) break;
      queue.shift();
      if (state === EXCHANGE_STATE.READY) {
        this.#emit(ex.response!, ex.flags);
      } else {
        if (ex.timedOut) this.#counters.endRunning();
        (this.#out ??= []).push(cannedResponse(ex.status));
        this.#outCount++;
        this.#stopReading();
      }
      ex.state = EXCHANGE_STATE.DROPPED;
    }
    this.#pumping = false;
    if (this.#framer?.needsContinue && queue.length === 0) {
      this.#framer.continueSent();
      (this.#out ??= []).push(CONTINUE_RESPONSE);
    }
    if (this.#readPaused && queue.length < MAX_QUEUED_PER_CONNECTION && this.#socket.writableLength === 0) {
      this.#resumeReading();
    }
  }

  #emit(response: Buffer, flags: number): void {
    (this.#out ??= []).push(response);
    this.#outCount++;
    if (this.#owner.limits.keepAliveTimeoutMs === 0 || !responseKeepsAlive(response, flags)) this.#stopReading();
  }

  /** This response ends the connection: later requests, even complete ones, go unanswered. */
  #stopReading(): void {
    this.#closeAfter = true;
    this.#framer?.stop();
    this.#dropPartial();
    this.#dropWaiting();
  }

  /** Drop every request that is not in its callback (a staged one is taken back); the running one stays. */
  #dropWaiting(): void {
    // In place: #pump walks this same array.
    const queue = this.#queue;
    let kept = 0;
    let dropped = 0;
    for (const ex of queue) {
      if (ex.state === EXCHANGE_STATE.STAGED) this.#owner.unstage(ex);
      if (ex.state === EXCHANGE_STATE.RUNNING) {
        queue[kept++] = ex;
        continue;
      }
      if (ex.state === EXCHANGE_STATE.QUEUED) this.#counters.queued--;
      if (ex.timedOut) this.#counters.endRunning();
      ex.state = EXCHANGE_STATE.DROPPED;
      dropped++;
    }
    queue.length = kept;
    if (dropped > 0) this.#counters.endActive(dropped);
  }

  #dropPartial(): void {
    if (!this.#partial) return;
    this.#partial = false;
    this.#counters.pending--;
    this.#counters.endActive(1);
  }

  /** Hand what was emitted to the socket, in one write. */
  #flush(): void {
    const out = this.#out;
    if (out !== null && !this.#closed) {
      const socket = this.#socket;
      const n = this.#outCount;
      this.#out = null;
      this.#outCount = 0;
      this.#unwritten += n;
      // One write per batch: a pipelined batch is joined first, which costs less
      // than a writev of many small buffers through the stream machinery.
      const ok = socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (socket.writableLength === 0) {
        // The socket took every byte synchronously: this batch and any before it are written.
        if (this.#marked > 0) {
          this.#marked = 0;
          this.#markGeneration++;
        }
        this.#written(this.#unwritten);
      } else {
        this.#watchUnwritten();
      }
      if (!ok) this.#pauseReading();
    }
    this.#finishIfDone();
  }

  #finishIfDone(): void {
    if ((this.#closeAfter || this.#owner.draining) && this.#queue.length === 0 && !this.#partial) this.#end();
  }

  // ---- shutdown -------------------------------------------------------------

  /** RouteClose: finish what has begun, answer later requests 503, then close. */
  drain(): void {
    if (this.idle) this.#end();
  }

  /** Close: cut requests still arriving, answer queued ones 503, abort the running one. */
  forceClose(): void {
    if (this.#closed) return;
    this.#framer?.stop();
    this.#dropPartial();
    for (const ex of this.#queue) {
      if (ex.state === EXCHANGE_STATE.STAGED) this.#owner.unstage(ex);
      if (ex.state === EXCHANGE_STATE.QUEUED) {
        this.#counters.queued--;
        ex.state = EXCHANGE_STATE.REJECTED;
        ex.status = 503;
      } else if (ex.state === EXCHANGE_STATE.RUNNING) {
        ex.abort("listener closed");
      }
    }
    this.#pump();
    this.#flush();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** @internal IdleMember: idle past keepAliveTimeoutMs, close silently. */
  idleExpired(): void {
    this.#end();
  }

  #end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#owner.idleList.remove(this);
    this.#framer?.stop();
    this.#socket.end();
    this.#endedAt = now();
    this.#arm(this.#endedAt + LINGER_MS);
  }

  #pauseReading(): void {
    this.#readPaused = true;
    this.#socket.pause();
  }

  #resumeReading(): void {
    this.#readPaused = false;
    this.#socket.resume();
  }

  // ---- deadlines ------------------------------------------------------------

  /** The nearest deadline of the connection's present state, or Infinity. */
  #deadline(): number {
    const limits = this.#owner.limits;
    if (this.#ending) return this.#endedAt + LINGER_MS;
    if (this.#partial) {
      let at = Number.POSITIVE_INFINITY;
      if (limits.headersTimeoutMs > 0 && !this.#framer?.inBody) at = this.#requestStartedAt + limits.headersTimeoutMs;
      if (limits.requestTimeoutMs > 0) at = Math.min(at, this.#requestStartedAt + limits.requestTimeoutMs);
      return at;
    }
    // Idle connections wait in the owner's idle list, under its one timer.
    return Number.POSITIVE_INFINITY;
  }

  /** Make sure the timer fires no later than `at`; a later fire is re-armed then (see handleTimer). */
  #arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || this.#closed || at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(connectionOnTimer, Math.max(1, Math.ceil(at - now())), this);
  }

  /** @internal */
  handleTimer(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const at = this.#deadline();
    if (at > now() + 0.5) {
      this.#arm(at);
      return;
    }
    if (this.#ending) {
      this.#socket.destroy();
    } else if (this.#partial) {
      // The request did not arrive in time (slowloris): 408, then close.
      this.#partial = false;
      this.#counters.pending--;
      this.#counters.rejected++;
      this.#framer?.stop();
      this.#reject(408);
      this.#pump();
      this.#flush();
    }
  }
}

const EMPTY = Buffer.alloc(0);
