/**
 * One client connection: feeds its bytes to the framer, keeps its requests in
 * arrival order, runs them one at a time through the listener, writes each
 * response in order (a pipelined batch in one write), decides keep-alive, and
 * enforces the per-connection deadlines with a single lazily re-armed timer.
 */
import type { Socket } from "node:net";
import { CONTINUE_RESPONSE, cannedResponse } from "./canned-responses.js";
import { nowMs } from "./clock.js";
import type { RequestCounters } from "./counters.js";
import { EXCHANGE_STATE, Exchange, type ExchangeHost } from "./exchange.js";
import { type FramerSink, REQUEST_FLAGS, type RequestFramer } from "./framer.js";
import type { IdleList, IdleMember } from "./idle-list.js";
import type { ListenerLimits } from "./options.js";
import { type RawSocketSink, RawTcpSocket } from "./raw-tcp.js";
import { responseKeepsAlive } from "./response-head.js";
import { appendToRun, dropRunOf, MAX_SLAB_STRING, type RunHolder, slabs, takeRunOf } from "./response-slabs.js";
import { pauseReads, READ_BUFFER_BYTES, readInto, resumeReads } from "./socket-reader.js";

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
  /** A request began behind `ex` on its connection (`ex.followed` was just set): worker mode tells the thread. */
  followed(ex: Exchange): void;
  connectionClosed(conn: Connection): void;
}

/**
 * After the listener's final response, how long it keeps reading (and
 * discarding) before it destroys the socket: closing with unread input makes
 * the kernel send a reset, which can destroy the response before the client
 * reads it. Counted from when the kernel has the whole response (the FIN is
 * sent); while it is still being written, the connection stays as long as the
 * client takes some of it in every sendTimeoutMs, as on any connection.
 */
const LINGER_MS = 2000;

/**
 * Stop reading while this many requests wait on one connection (pipelining flood). Checked after each
 * read: the requests of the read that crosses it are all framed, so it can be passed by one read's worth.
 */
const MAX_QUEUED_PER_CONNECTION = 64;

/** Why a request's clock is stopped (Connection.#clockStops). */
const CLOCK_STOPS = { READS_PAUSED: 1, CONTINUE_HELD: 2 } as const;

/** The largest delay setTimeout takes. */
const MAX_TIMER_MS = 2147483647;

// Bits of Connection.#bits: its yes/no states, in one field (an idle connection is mostly its fields). They are
// tested and changed with #has and #set, never through private accessors: optimized code reaches a private
// getter through a runtime call (V8's LoadPrivateGetter), which cost ~3% of keep-alive throughput.
/** The framer holds a started, unfinished request (counted pending and active). */
const PARTIAL = 1;
/** No more requests will be read: close once the queue is answered. */
const CLOSE_AFTER = 2;
/** #end ran: the socket ends after what it holds (the FIN follows); later input is discarded (LINGER_MS). */
const ENDING = 4;
/** The socket has closed: the connection is finished and counted out. */
const CLOSED = 8;
/** #pump is running: a nested call leaves the work to it. */
const PUMPING = 16;
/** The next request waits for a concurrency slot; the listener calls resume(). */
const WAITING_SLOT = 32;
/** Reading is paused: too many requests wait here, or the socket would not take more (backpressure). */
const READ_PAUSED = 64;
/** After the last answer: every byte of it is with the kernel and the FIN is sent. */
const FINISHED = 128;
/** The client sent its FIN: once the last answer is out (handleFinish), nothing is left to wait for. */
const PEER_ENDED = 256;
/**
 * The last request itself asked to close (`Connection: close`, or HTTP/1.0 without keep-alive) and no byte
 * came after it: once the kernel has the whole answer, the socket closes at once, without the linger. Closing
 * sends what the kernel holds and then a FIN, as the shutdown would; with no input left unread there is
 * nothing for a reset to come from. (nginx closes the same way when nothing more has arrived.)
 */
const CLOSE_ASKED = 512;

/**
 * Socket events reach their connection through this property, so that a
 * connection needs no closure per event: an idle connection costs less memory.
 */
const kConnection = Symbol("callbackhttp.connection");
type ServedSocket = Socket & { [kConnection]: Connection };

function socketOnEnd(this: ServedSocket): void {
  this[kConnection].handleEnd();
}
function socketOnClose(this: ServedSocket): void {
  this[kConnection].handleClose();
}
function socketOnDrain(this: ServedSocket): void {
  this[kConnection].handleDrain();
}
function socketOnFinish(this: ServedSocket): void {
  this[kConnection].handleFinish();
}
function socketOnError(this: ServedSocket): void {
  // A reset or a broken pipe: the socket is already destroyed, and 'close' follows and does the accounting.
  // Not every error destroys it: TLS reports a client past Node's renegotiation limit (ERR_TLS_SESSION_ATTACK,
  // tls.CLIENT_RENEG_LIMIT) and leaves the connection to the server, as node:http destroys it. So do we.
  this.destroy();
}
function connectionOnTimer(conn: Connection): void {
  conn.handleTimer();
}

export class Connection implements FramerSink, ExchangeHost, IdleMember, RunHolder, RawSocketSink {
  /** A raw TCP handle's socket (raw-tcp.ts), or a net.Socket (TLS, or where raw handles cannot be used). */
  readonly #socket: Socket | RawTcpSocket;
  readonly #owner: ConnectionOwner;
  /** Taken from the owner when bytes arrive, given back between requests: an idle connection holds none. */
  #framer: RequestFramer | null = null;
  /** The oldest request in hand, the only one that may be running (or staged), or null. */
  #head: Exchange | null = null;
  /**
   * The requests behind it, in arrival order, from #behindAt on: made when a
   * pipelined request queues, dropped once empty, so that an idle connection
   * holds no array. The head is taken by moving #behindAt (Array#shift cost
   * 1.5% of pipelined CPU on Node 26); slots before it are emptied so that
   * answered requests can be collected at once.
   */
  #behind: Array<Exchange | null> | null = null;
  #behindAt = 0;
  /** Responses emitted but not yet handed to the socket. */
  #out: Buffer[] | null = null;
  #outCount = 0;
  /** Responses handed to the socket that it has not written yet. */
  #unwritten = 0;
  /** Of those, how many an empty marker write, queued behind them, will report written (0: no marker). */
  #marked = 0;
  /** Bumped when everything unwritten was accounted at once: older markers then report nothing. */
  #markGeneration = 0;
  /** The yes/no states below (PARTIAL, CLOSE_AFTER, ...). */
  #bits = 0;
  /** When the unfinished request began (nowMs()), for its time-outs; -1 until handleData stamps it. */
  #requestStartedAt = -1;
  /**
   * Why the unfinished request's clock is stopped (CLOCK_STOPS bits), 0 while it runs: the time the client
   * waits on the listener does not count against its time-outs. Reads paused (what it sends waits unread in
   * the kernel), or its `100 Continue` held back behind earlier answers. Both may overlap: counted once.
   */
  #clockStops = 0;
  /** When the clock stopped (the first of the overlapping stops began). */
  #clockStoppedAt = 0;
  /** Bytes of "HEAD " the current request began with (5: it is a HEAD; -1: it is not), as they arrive. */
  #headMatch = 0;
  #requests = 0;
  /**
   * While the listener waits for the client to take its answers (ending: the
   * linger, LINGER_MS; or answers the socket still holds: sendTimeoutMs), when
   * it last saw the client take some (nowMs()), and how many bytes the kernel
   * had taken then. The client must keep taking more.
   */
  #watchFrom = 0;
  #watchTaken = 0;
  #timer: NodeJS.Timeout | null = null;
  /** When the timer fires (nowMs()); 0 when it is not armed. */
  #timerAt = 0;
  /** @internal IdleMember: the owner's idle list links its members through these. */
  idlePrev: IdleMember | null = null;
  idleNext: IdleMember | null = null;
  idleSince = -1;

  constructor(socket: Socket | RawTcpSocket, owner: ConnectionOwner) {
    this.#socket = socket;
    this.#owner = owner;
    if (socket instanceof RawTcpSocket) {
      socket.start(this);
    } else {
      (socket as ServedSocket)[kConnection] = this;
      readInto(socket, this);
      socket.on("end", socketOnEnd);
      socket.on("close", socketOnClose);
      socket.on("drain", socketOnDrain);
      socket.on("error", socketOnError);
    }
    // Until its first byte, a new connection is idle: it gets the keep-alive time-out.
    owner.idleList.add(this);
  }

  get listenerId(): number {
    return this.#owner.id;
  }

  get draining(): boolean {
    return this.#owner.draining;
  }

  get keepAliveTimeoutMs(): number {
    return this.#owner.limits.keepAliveTimeoutMs;
  }

  // The socket remembers its peer once asked (both kinds cache it), even after it is closed.
  remoteAddress(): string {
    return this.#socket.remoteAddress ?? "";
  }

  remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }

  // ---- the yes/no states ----------------------------------------------------

  #has(bit: number): boolean {
    return (this.#bits & bit) !== 0;
  }

  #set(bit: number, on: boolean): void {
    this.#bits = on ? this.#bits | bit : this.#bits & ~bit;
  }

  /** Nothing in flight and nothing arriving. */
  get idle(): boolean {
    return !this.#has(PARTIAL) && this.#head === null && this.#unwritten === 0 && this.#outCount === 0;
  }

  /** A request begins behind those in hand: the last of them is followed (CallbackContext.willClose). */
  #follow(): void {
    const behind = this.#behind;
    const last = behind === null ? this.#head : behind[behind.length - 1]!;
    if (last === null || last.followed) return;
    last.followed = true;
    this.#owner.followed(last);
  }

  /** Requests in hand: the head and those behind it. */
  #queuedCount(): number {
    const behind = this.#behind;
    return this.#head === null ? 0 : behind === null ? 1 : 1 + behind.length - this.#behindAt;
  }

  #enqueue(ex: Exchange): void {
    if (this.#head === null) this.#head = ex;
    else (this.#behind ??= []).push(ex);
  }

  /** The head is answered: the next request becomes the head. */
  #advance(): void {
    const behind = this.#behind;
    if (behind === null) {
      this.#head = null;
      return;
    }
    const at = this.#behindAt;
    this.#head = behind[at]!;
    if (at + 1 === behind.length) {
      this.#behind = null;
      this.#behindAt = 0;
    } else if (at + 1 === MAX_QUEUED_PER_CONNECTION) {
      // A client that never lets the queue empty would grow the array for ever: drop the used slots.
      behind.splice(0, at + 1);
      this.#behindAt = 0;
    } else {
      behind[at] = null;
      this.#behindAt = at + 1;
    }
  }

  // ---- framer events -------------------------------------------------------

  onRequestStart(chunk: Buffer, at: number): boolean {
    // Only a request ends idleness: empty lines before a request line do not renew the idle time.
    if (this.idleSince >= 0) this.#owner.idleList.remove(this);
    this.#follow();
    this.#owner.counters.active++;
    if (this.#owner.draining) {
      // A request begun after RouteClose is answered 503 in its turn, then the connection closes. Its
      // method is known only from the bytes already here: a HEAD gets the head alone (RFC 9110 9.3.2).
      this.#reject(503, matchHead(chunk, at, 0) === HEAD_PREFIX.length ? REQUEST_FLAGS.HEAD : 0);
      return false;
    }
    this.#owner.counters.pending++;
    this.#set(PARTIAL, true);
    this.#requestStartedAt = -1;
    this.#clockStops &= ~CLOCK_STOPS.CONTINUE_HELD;
    this.#headMatch = matchHead(chunk, at, 0);
    return true;
  }

  onRequest(bytes: Buffer, flags: number): boolean {
    this.#set(PARTIAL, false);
    this.#clockStops &= ~CLOCK_STOPS.CONTINUE_HELD;
    this.#headMatch = 0;
    const counters = this.#owner.counters;
    counters.pending--;
    counters.queued++;
    counters.requests++;
    const ex = new Exchange(bytes, flags, this);
    this.#enqueue(ex);
    this.#requests++;
    const max = this.#owner.limits.maxRequestsPerConnection;
    // RFC 9112 9.6: after a request that says close, no further request is read.
    const askedToClose =
      flags & REQUEST_FLAGS.CLOSE || (flags & REQUEST_FLAGS.HTTP10 && !(flags & REQUEST_FLAGS.KEEP_ALIVE));
    if (
      askedToClose ||
      flags & REQUEST_FLAGS.CONNECT ||
      (max > 0 && this.#requests >= max) ||
      this.#owner.limits.keepAliveTimeoutMs === 0
    ) {
      ex.lastOnConnection = true;
      this.#set(CLOSE_AFTER, true);
      if (askedToClose && !(flags & REQUEST_FLAGS.CONNECT)) this.#set(CLOSE_ASKED, true);
      return false;
    }
    return true;
  }

  onError(status: number, _reason: string, flags: number): void {
    if (this.#has(PARTIAL)) {
      this.#set(PARTIAL, false);
      this.#owner.counters.pending--;
    } else {
      this.#owner.counters.active++;
      this.#follow();
    }
    this.#owner.counters.rejected++;
    this.#reject(status, flags);
  }

  /**
   * Queue the listener's own answer; nothing after it is read. `flags`: the request's, as far as they are
   * known; only HEAD matters (the answer is then its head alone).
   */
  #reject(status: number, flags = 0): void {
    // The request line may not be whole (a 431, a 408): its first bytes may still say HEAD.
    const head = flags & REQUEST_FLAGS.HEAD || this.#headMatch === HEAD_PREFIX.length ? REQUEST_FLAGS.HEAD : 0;
    this.#headMatch = 0;
    const ex = new Exchange(EMPTY, head, this);
    ex.state = EXCHANGE_STATE.REJECTED;
    ex.status = status;
    this.#enqueue(ex);
    this.#set(CLOSE_AFTER, true);
  }

  // ---- socket events -------------------------------------------------------

  /** @internal ChunkSink: how much of the next read goes straight into the current request (RequestFramer.bodyRoom). */
  get bodyRoom(): number {
    return this.#framer?.bodyRoom ?? 0;
  }

  /** @internal ChunkSink (a chunk no longer than bodyRoom may be a view of a reused buffer: the framer copies it). */
  handleData(chunk: Buffer): void {
    // After the last answer, input is read only to be discarded (see LINGER_MS).
    if (this.#has(CLOSE_AFTER) || this.#has(ENDING)) {
      this.#set(CLOSE_ASKED, false);
      return;
    }
    const framer = (this.#framer ??= this.#owner.takeFramer(this));
    // A request whose first bytes came in an earlier read: its method may go on here.
    if (this.#has(PARTIAL) && this.#headMatch > 0 && this.#headMatch < HEAD_PREFIX.length) {
      this.#headMatch = matchHead(chunk, 0, this.#headMatch);
    }
    framer.push(chunk);
    // Input after the request that asked to close, or a read that filled the buffer (more may wait): linger.
    if (this.#has(CLOSE_ASKED) && (framer.bytesAfterStop > 0 || chunk.length >= READ_BUFFER_BYTES)) {
      this.#set(CLOSE_ASKED, false);
    }
    // A request left unfinished by this read is timed from now (one clock read per such request).
    if (this.#has(PARTIAL) && this.#requestStartedAt < 0) {
      this.#requestStartedAt = nowMs();
      this.#arm(this.#deadline());
    }
    this.#pump();
    this.#flush();
    if (framer.reusable && this.#framer === framer) {
      this.#framer = null;
      this.#owner.releaseFramer(framer);
    }
    if (!this.#has(READ_PAUSED) && this.#behind !== null && this.#queuedCount() >= MAX_QUEUED_PER_CONNECTION)
      this.#pauseReading();
  }

  /** @internal */
  handleEnd(): void {
    if (this.#has(ENDING)) {
      // The answer still being written goes out first (the socket is half-open): then handleFinish closes.
      if (this.#has(FINISHED) || this.#socket.writableLength === 0) this.#socket.destroy();
      else this.#set(PEER_ENDED, true);
      return;
    }
    // The client will send no more: an unfinished request can never complete, and once the answers
    // are out there is no input left to drain (no linger).
    this.#set(PEER_ENDED, true);
    this.#dropPartial();
    this.#framer?.stop();
    this.#set(CLOSE_AFTER, true);
    this.#finishIfDone();
  }

  /**
   * @internal After #end: the kernel has every byte, so the answers still
   * counted unwritten are written (markers are not used once ending), and the
   * linger starts over from now, or ends if the client has closed its side.
   */
  handleFinish(): void {
    if (this.#has(CLOSED)) return;
    this.#set(FINISHED, true);
    if (this.#unwritten > 0) {
      this.#marked = 0;
      this.#markGeneration++;
      this.#written(this.#unwritten);
    }
    if (this.#has(PEER_ENDED)) {
      this.#socket.destroy();
      return;
    }
    this.#watchFrom = nowMs();
    this.#arm(this.#deadline());
  }

  /** @internal */
  handleDrain(): void {
    if (this.#has(READ_PAUSED) && this.#queuedCount() < MAX_QUEUED_PER_CONNECTION) this.#resumeReading();
  }

  /** @internal */
  handleClose(): void {
    if (this.#has(CLOSED)) return;
    this.#set(CLOSED, true);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#owner.idleList.remove(this);
    const counters = this.#owner.counters;
    this.#dropPartial();
    // What the framer holds of an unfinished request (a large body's buffer, say) goes now, not when a callback still running settles.
    this.#framer?.stop();
    const unwritten = this.#unwritten + this.#outCount;
    this.#unwritten = 0;
    this.#outCount = 0;
    this.#out = null;
    dropRunOf(this);
    this.#marked = 0;
    // A request still in its callback stays running and active until it settles (settled()).
    this.takeBackStaged();
    const head = this.#head;
    if (head !== null && head.state === EXCHANGE_STATE.RUNNING) head.abort("connection closed");
    this.#dropWaiting();
    this.#head = null;
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
    this.#owner.counters.endActive(n);
    if (
      this.#has(READ_PAUSED) &&
      this.#socket.writableLength === 0 &&
      this.#queuedCount() < MAX_QUEUED_PER_CONNECTION
    ) {
      this.#resumeReading();
    }
    if (this.idle && !this.#has(ENDING) && !this.#has(CLOSE_AFTER)) {
      // After RouteClose a connection closes once its last response is written, even one written late.
      if (this.#owner.draining) this.#end();
      else this.#owner.idleList.add(this);
    }
  }

  #markerDone(generation: number): void {
    // A marker cancelled by destroy: the close accounts for what was unwritten.
    if (this.#has(CLOSED) || this.#socket.destroyed || generation !== this.#markGeneration) return;
    const n = this.#marked;
    this.#marked = 0;
    if (n > 0) this.#written(n);
    this.#watchUnwritten();
  }

  /** Learn when what is still unwritten gets written, without a callback on every write. */
  #watchUnwritten(): void {
    const pending = this.#unwritten - this.#marked;
    // Once ending, the socket takes no more writes: handleFinish accounts for the rest.
    if (pending === 0 || this.#marked > 0 || this.#has(CLOSED) || this.#has(ENDING)) return;
    if (this.#socket.writableLength === 0) {
      this.#written(pending);
      return;
    }
    this.#marked = pending;
    // From now on the client must keep taking bytes, at least once in every sendTimeoutMs.
    this.#startWatch();
    this.#arm(this.#deadline());
    const generation = this.#markGeneration;
    // Rare (the socket is buffering): a closure per marker is fine here.
    this.#socket.write(EMPTY, () => this.#markerDone(generation));
  }

  // ---- the request queue ----------------------------------------------------

  /** A callback of this connection finished (or timed out); its answer can go out. */
  settled(ex: Exchange): void {
    if (this.#has(CLOSED)) {
      if (ex.timedOut) this.#owner.counters.endRunning();
      // Given back unstarted by a lost worker (requeue) after its connection was lost: it will never run.
      else if (ex.state === EXCHANGE_STATE.QUEUED) this.#owner.counters.queued--;
      ex.state = EXCHANGE_STATE.DROPPED;
      this.#owner.counters.endActive(1);
      return;
    }
    if (this.#has(PUMPING)) return;
    this.#pump();
    this.#flush();
  }

  /** A concurrency slot is free for this connection's next request. */
  resume(): void {
    this.#set(WAITING_SLOT, false);
    if (this.#has(CLOSED)) return;
    this.#pump();
    this.#flush();
  }

  /** Answer what is in hand, in order; start the next request when the previous is answered. */
  #pump(): void {
    if (this.#has(PUMPING)) return;
    this.#set(PUMPING, true);
    for (let ex = this.#head; ex !== null; ex = this.#head) {
      const state = ex.state;
      if (state === EXCHANGE_STATE.QUEUED) {
        if (this.#has(WAITING_SLOT)) break;
        if (!this.#owner.start(ex, this)) {
          this.#set(WAITING_SLOT, true);
          break;
        }
        continue;
      }
      if (state === EXCHANGE_STATE.RUNNING || state === EXCHANGE_STATE.STAGED) break;
      this.#advance();
      if (state === EXCHANGE_STATE.READY) {
        this.#emit(ex.response!, ex.flags);
      } else {
        if (ex.timedOut) this.#owner.counters.endRunning();
        // Close answers every request it found waiting: each 503 but the last leaves the connection to the next.
        // (Not to an HTTP/1.0 client, which takes a response without keep-alive as the last.)
        const next = this.#head;
        const more = closedOut(ex) && !(ex.flags & REQUEST_FLAGS.HTTP10) && next !== null && closedOut(next);
        this.#push(cannedResponse(ex.status, !more, (ex.flags & REQUEST_FLAGS.HEAD) !== 0));
        this.#outCount++;
        if (!more) this.#stopReading();
      }
      ex.state = EXCHANGE_STATE.DROPPED;
    }
    this.#set(PUMPING, false);
    const framer = this.#framer;
    if (framer?.needsContinue) {
      if (this.#head === null) {
        framer.continueSent();
        this.#push(CONTINUE_RESPONSE);
        this.#runClock(CLOCK_STOPS.CONTINUE_HELD);
      } else if (this.#requestStartedAt >= 0) {
        this.#stopClock(CLOCK_STOPS.CONTINUE_HELD);
      }
    }
    if (
      this.#has(READ_PAUSED) &&
      this.#queuedCount() < MAX_QUEUED_PER_CONNECTION &&
      this.#socket.writableLength === 0
    ) {
      this.#resumeReading();
    }
  }

  #emit(response: Buffer | string, flags: number): void {
    this.#outCount++;
    let keepAlive: boolean;
    if (typeof response === "string" && response.length <= MAX_SLAB_STRING) {
      // Encoded right after this connection's previous string responses: the batch becomes one slice.
      const start = appendToRun(this, response);
      keepAlive = responseKeepsAlive(slabs.slab, flags, start, slabs.used);
    } else {
      const bytes = typeof response === "string" ? Buffer.from(response, "utf8") : response;
      this.#push(bytes);
      keepAlive = responseKeepsAlive(bytes, flags);
    }
    if (this.#owner.limits.keepAliveTimeoutMs === 0 || !keepAlive) this.#stopReading();
  }

  /** Queue `bytes` for the socket after what was emitted before. */
  #push(bytes: Buffer): void {
    takeRunOf(this);
    (this.#out ??= []).push(bytes);
  }

  /** @internal The string responses this connection encoded into a slab, as one slice (RunHolder). */
  takeRun(slice: Buffer): void {
    (this.#out ??= []).push(slice);
  }

  /** This response ends the connection: later requests, even complete ones, go unanswered. */
  #stopReading(): void {
    this.#set(CLOSE_AFTER, true);
    this.#framer?.stop();
    this.#dropPartial();
    this.#dropWaiting();
  }

  /** Drop every request that is not in its callback (a staged one is taken back); the running one stays. */
  #dropWaiting(): void {
    const head = this.#head;
    let dropped = 0;
    if (head !== null && !this.#drop(head)) {
      dropped++;
      this.#head = null;
    }
    const behind = this.#behind;
    if (behind !== null) {
      // Only the head may be running: everything behind it goes.
      for (let i = this.#behindAt; i < behind.length; i++) this.#drop(behind[i]!);
      dropped += behind.length - this.#behindAt;
      this.#behind = null;
      this.#behindAt = 0;
    }
    if (dropped > 0) this.#owner.counters.endActive(dropped);
  }

  /** Mark `ex` dropped unless it is in its callback (true then: it stays). Staged ones were taken back before. */
  #drop(ex: Exchange): boolean {
    if (ex.state === EXCHANGE_STATE.RUNNING) return true;
    if (ex.state === EXCHANGE_STATE.QUEUED) this.#owner.counters.queued--;
    if (ex.timedOut) this.#owner.counters.endRunning();
    ex.state = EXCHANGE_STATE.DROPPED;
    return false;
  }

  #dropPartial(): void {
    if (!this.#has(PARTIAL)) return;
    this.#set(PARTIAL, false);
    this.#owner.counters.pending--;
    this.#owner.counters.endActive(1);
  }

  /** Hand what was emitted to the socket, in one write. */
  #flush(): void {
    takeRunOf(this);
    const out = this.#out;
    if (out !== null && !this.#has(CLOSED)) {
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
    if ((this.#has(CLOSE_AFTER) || this.#owner.draining) && this.#head === null && !this.#has(PARTIAL)) this.#end();
  }

  // ---- shutdown -------------------------------------------------------------

  /** RouteClose: finish what has begun, answer later requests 503, then close. */
  drain(): void {
    if (this.idle) this.#end();
  }

  /** Close, first step: a request staged on a worker is taken back (it is queued again, or began). */
  takeBackStaged(): void {
    const head = this.#head;
    if (head !== null && head.state === EXCHANGE_STATE.STAGED) this.#owner.unstage(head);
  }

  /** Close: cut requests still arriving, answer queued ones 503, abort the running one. */
  forceClose(): void {
    if (this.#has(CLOSED)) return;
    this.#framer?.stop();
    this.#dropPartial();
    this.takeBackStaged();
    const head = this.#head;
    if (head !== null) {
      this.#closeOut(head);
      const behind = this.#behind;
      if (behind !== null) for (let i = this.#behindAt; i < behind.length; i++) this.#closeOut(behind[i]!);
    }
    this.#pump();
    this.#flush();
  }

  /** Close's answer to one request in hand: 503 if it waits, its signal aborted if it runs. */
  #closeOut(ex: Exchange): void {
    if (ex.state === EXCHANGE_STATE.QUEUED) {
      this.#owner.counters.queued--;
      ex.state = EXCHANGE_STATE.REJECTED;
      ex.status = 503;
    } else if (ex.state === EXCHANGE_STATE.RUNNING) {
      ex.abort("listener closed");
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * Close, past closeTimeoutMs: the callback at the head is abandoned. The answers behind it can never be
   * written, and are dropped; answers before it that the socket still holds keep Close's write grace.
   * With none, the connection is cut now.
   */
  cutIfRunning(): void {
    if (this.#head?.state !== EXCHANGE_STATE.RUNNING) return;
    if (this.#unwritten === 0 && this.#outCount === 0) this.#socket.destroy();
    else this.#dropWaiting();
  }

  /** @internal IdleMember: idle past keepAliveTimeoutMs, close silently. */
  idleExpired(): void {
    this.#end();
  }

  #end(): void {
    if (this.#has(ENDING) || this.#has(CLOSED)) return;
    this.#set(ENDING, true);
    this.#owner.idleList.remove(this);
    this.#framer?.stop();
    const socket = this.#socket;
    if (this.#has(CLOSE_ASKED) && socket instanceof RawTcpSocket && socket.writableLength === 0) {
      socket.destroy();
      return;
    }
    if (!(socket instanceof RawTcpSocket)) socket.on("finish", socketOnFinish);
    socket.end();
    this.#startWatch();
    this.#arm(this.#deadline());
  }

  #pauseReading(): void {
    // Called again while paused (another write the socket could not take): the pause began earlier.
    if (this.#has(READ_PAUSED)) return;
    this.#set(READ_PAUSED, true);
    this.#stopClock(CLOCK_STOPS.READS_PAUSED);
    const socket = this.#socket;
    if (socket instanceof RawTcpSocket) socket.pauseReads();
    else pauseReads(socket);
  }

  #resumeReading(): void {
    this.#set(READ_PAUSED, false);
    // A request begun before the pause was not read meanwhile: its time-outs resume where they stopped.
    this.#runClock(CLOCK_STOPS.READS_PAUSED);
    const socket = this.#socket;
    if (socket instanceof RawTcpSocket) socket.resumeReads();
    else resumeReads(socket);
  }

  // ---- deadlines ------------------------------------------------------------

  /** Start waiting for the client to take what the socket holds (see #watchFrom). */
  #startWatch(): void {
    this.#watchFrom = nowMs();
    this.#watchTaken = bytesTaken(this.#socket);
  }

  /** Has the client taken bytes since the last look? Then the wait starts over from `now`. */
  #clientTookMore(now: number): boolean {
    const taken = bytesTaken(this.#socket);
    if (taken <= this.#watchTaken) return false;
    this.#watchTaken = taken;
    this.#watchFrom = now;
    return true;
  }

  /** The nearest deadline of the connection's present state, or Infinity. */
  #deadline(): number {
    const limits = this.#owner.limits;
    if (this.#has(ENDING)) return this.#watchFrom + this.#endingWindow();
    let at = Number.POSITIVE_INFINITY;
    // While the clock is stopped the client cannot be late (see #clockStops).
    if (this.#has(PARTIAL) && this.#clockStops === 0) {
      if (limits.headersTimeoutMs > 0 && !this.#framer?.inBody) at = this.#requestStartedAt + limits.headersTimeoutMs;
      if (limits.requestTimeoutMs > 0) at = Math.min(at, this.#requestStartedAt + limits.requestTimeoutMs);
    }
    if (this.#marked > 0 && limits.sendTimeoutMs > 0) at = Math.min(at, this.#watchFrom + limits.sendTimeoutMs);
    // Idle connections wait in the owner's idle list, under its one timer: none here.
    return at;
  }

  /**
   * How long a closing connection waits: LINGER_MS once the system has the whole answer; while the answer
   * is still being written, sendTimeoutMs of no progress, as on any connection (never less than LINGER_MS;
   * 0 waits as long as the client keeps the connection). The system takes more of an answer only once a good
   * part of its send buffer has drained, so a client reading steadily but slowly shows progress rarely:
   * LINGER_MS alone cut large answers to such clients (3.3 of 12 MiB at 320 KB/s).
   */
  #endingWindow(): number {
    if (this.#has(FINISHED) || this.#socket.writableLength === 0) return LINGER_MS;
    const sendTimeoutMs = this.#owner.limits.sendTimeoutMs;
    return sendTimeoutMs > 0 ? Math.max(LINGER_MS, sendTimeoutMs) : Number.POSITIVE_INFINITY;
  }

  /** Make sure the timer fires no later than `at`; a later fire is re-armed then (see handleTimer). */
  #arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || this.#has(CLOSED) || (this.#timerAt !== 0 && at >= this.#timerAt)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    // Within the largest delay a timer takes (Node makes a larger one 1 ms): a later deadline is checked then.
    this.#timer = setTimeout(connectionOnTimer, Math.min(Math.max(1, at - nowMs()), MAX_TIMER_MS), this);
  }

  /** Stop the request clock for `why` (a CLOCK_STOPS bit); from the first stop, until the last ends. */
  #stopClock(why: number): void {
    if (this.#clockStops === 0) this.#clockStoppedAt = nowMs();
    this.#clockStops |= why;
  }

  /** `why` ended: once no stop is left, the unfinished request's time-outs resume where they stopped. */
  #runClock(why: number): void {
    if ((this.#clockStops & why) === 0) return;
    this.#clockStops &= ~why;
    if (this.#clockStops !== 0 || !this.#has(PARTIAL) || this.#requestStartedAt < 0) return;
    this.#requestStartedAt += nowMs() - Math.max(this.#clockStoppedAt, this.#requestStartedAt);
    this.#arm(this.#deadline());
  }

  /** @internal */
  handleTimer(): void {
    this.#timer = null;
    this.#timerAt = 0;
    if (this.#has(CLOSED)) return;
    const now = nowMs();
    const sendTimeoutMs = this.#owner.limits.sendTimeoutMs;
    const sendDue =
      !this.#has(ENDING) && this.#marked > 0 && sendTimeoutMs > 0 && this.#watchFrom + sendTimeoutMs <= now;
    if (sendDue && !this.#clientTookMore(now)) {
      // The client took none of its answers in sendTimeoutMs: it is not reading. What is unwritten is dropped.
      this.#socket.destroy();
      return;
    }
    const at = this.#deadline();
    if (at > now) {
      this.#arm(at);
      return;
    }
    if (this.#has(ENDING)) {
      // A last answer still being written gets another window as long as the client keeps taking bytes.
      if (!this.#has(FINISHED) && this.#socket.writableLength > 0 && this.#clientTookMore(now)) {
        this.#arm(this.#deadline());
        return;
      }
      this.#socket.destroy();
    } else if (this.#has(PARTIAL)) {
      // The request did not arrive in time (slowloris): 408, then close.
      this.#set(PARTIAL, false);
      this.#owner.counters.pending--;
      this.#owner.counters.rejected++;
      const flags = this.#framer?.requestFlags ?? 0;
      this.#framer?.stop();
      this.#reject(408, flags);
      this.#pump();
      this.#flush();
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** A request that Close answered 503 before its callback began (not one past its time limit). */
function closedOut(ex: Exchange): boolean {
  return ex.state === EXCHANGE_STATE.REJECTED && ex.status === 503 && !ex.timedOut;
}

type NodeSocketInternals = Socket & { _bytesDispatched?: number; _handle?: { writeQueueSize?: number } | null };

/**
 * How many bytes the kernel has taken from `socket` so far; it grows as long
 * as the client reads. A net.Socket counts a chunk being written whole until
 * all of it is out, so its own count of bytes handed to the handle, less what
 * the handle still queues, is used (both internal, read only here).
 */
function bytesTaken(socket: Socket | RawTcpSocket): number {
  if (socket instanceof RawTcpSocket) return socket.bytesTaken;
  const s = socket as NodeSocketInternals;
  return (s._bytesDispatched ?? 0) - (s._handle?.writeQueueSize ?? 0);
}

const HEAD_PREFIX = Buffer.from("HEAD ", "latin1");

/**
 * Go on matching "HEAD " at `chunk[from]`, `matched` bytes of it already seen: the bytes matched now
 * (HEAD_PREFIX.length: a HEAD request), or -1 once a byte differs.
 */
function matchHead(chunk: Buffer, from: number, matched: number): number {
  for (let i = from; matched < HEAD_PREFIX.length && i < chunk.length; i++, matched++) {
    if (chunk[i] !== HEAD_PREFIX[matched]) return -1;
  }
  return matched;
}
