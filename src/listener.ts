/**
 * HttpListener, the core: binds a TCP (or TLS) port, accepts connections,
 * dispatches complete requests to the callback runner under the concurrency
 * limit and the callback time limit, keeps the counters, and carries out the
 * two-step shutdown (routeClose, then close). It knows nothing of the
 * reference's facade.
 */
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { isCallbackName, nameOfFunction } from "./callback-name.js";
import {
  type CallbackRunner,
  MainThreadRunner,
  type RequestCallback,
  type ResponseData,
  type RunnerHost,
} from "./callback-runner.js";
import { now } from "./clock.js";
import { Connection, type ConnectionOwner } from "./connection.js";
import { RequestCounters } from "./counters.js";
import { CallbackHttpError, describe } from "./errors.js";
import { EXCHANGE_STATE, type Exchange, type ExchangeHost } from "./exchange.js";
import { type FramerSink, RequestFramer } from "./framer.js";
import { IdleList } from "./idle-list.js";
import { closeRecord, issueId, registerListener } from "./listener-registry.js";
import { type ListenerLimits, type ListenerOptionsInput, resolveLimits } from "./options.js";
import { acceptRaw, type RawTcpSocket } from "./raw-tcp.js";
import { startWorkerPool } from "./worker-pool.js";

/** The reference's bind modes: loopback only, or every interface. */
export const BIND_MODE = { LOCAL: 0, ANY: 1 } as const;

/** Where each bind mode listens. */
export const BIND_HOST = ["127.0.0.1", "0.0.0.0"] as const;

export const LISTENER_STATE = {
  OPEN: "open",
  /** RouteClose was called: no new connections, in-flight requests finish. */
  DRAINING: "draining",
  CLOSING: "closing",
  CLOSED: "closed",
} as const;

export type ListenerState = (typeof LISTENER_STATE)[keyof typeof LISTENER_STATE];

/** Spare framers kept for reuse; more than the connections busy at once would only hold memory. */
const MAX_SPARE_FRAMERS = 1024;

/** How long Close lets responses that callbacks produced reach a client that reads slowly. */
const CLOSE_WRITE_GRACE_MS = 1000;

/** How long Close waits, at most, for the destroyed connections' sockets to report their close. */
const CONNECTIONS_CLOSE_MS = 2000;

export interface HttpListenerOptions extends ListenerOptionsInput {
  /** The request callback (main-thread mode). In worker mode, the name of the module's export. */
  callback: RequestCallback | string;
  /** The name reported by Info; defaults to the function's name. */
  callbackName?: string;
  /** The callback's run-time limit in ms; -1 is none. @default -1 */
  timeoutMs?: number;
  /** TCP port, 0 for one the system picks. @default 0 */
  port?: number;
  /** BIND_MODE.LOCAL (127.0.0.1) or BIND_MODE.ANY (0.0.0.0). @default 0 */
  bindMode?: number;
}

/** Counters and totals of one listener (HttpListener.stats()). */
export interface ListenerStats {
  id: number;
  state: ListenerState;
  port: number;
  pending: number;
  queued: number;
  running: number;
  active: number;
  drained: boolean;
  connections: number;
  requests: number;
  timeouts: number;
  failures: number;
  rejected: number;
  refusedConnections: number;
  workerRestarts: number;
}

/** A fully checked configuration (see HttpListener.open for the checks). */
export interface ListenerConfig {
  readonly callback: RequestCallback | string;
  readonly callbackName: string;
  readonly timeoutMs: number;
  readonly port: number;
  readonly bindMode: number;
  readonly limits: Readonly<ListenerLimits>;
  /** Prefix of error messages: the function the user called. */
  readonly where: string;
}

export class HttpListener implements ConnectionOwner {
  /** Check `options` and open a listener; rejects with a CallbackHttpError. */
  static async open(options: HttpListenerOptions): Promise<HttpListener> {
    const where = "HttpListener.open";
    if (options === null || typeof options !== "object") {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: options must be an object, got ${describe(options)}`);
    }
    const { callback, callbackName, timeoutMs = -1, port = 0, bindMode = BIND_MODE.LOCAL, ...rest } = options;
    if (typeof callback !== "function" && typeof callback !== "string") {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: callback must be a function, got ${describe(callback)}`);
    }
    checkInteger(where, "timeoutMs", timeoutMs, "ERR_TIMEOUT_RANGE", -1, 2147483647);
    checkInteger(where, "port", port, "ERR_PORT_RANGE", 0, 65535);
    checkInteger(where, "bindMode", bindMode, "ERR_BIND_MODE", 0, 1);
    // Given, the name must be a valid one; by default it is the export's name, or the function's when valid.
    const name = callbackName ?? (typeof callback === "string" ? callback : nameOfFunction(callback));
    if (typeof name !== "string" || !isCallbackName(name)) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: callbackName ${describe(name)} is not a valid name`);
    }
    const limits = resolveLimits(rest, where);
    return openListener({ callback, callbackName: name, timeoutMs, port, bindMode, limits, where });
  }

  readonly id: number;
  readonly callbackName: string;
  readonly timeoutMs: number;
  readonly bindMode: number;
  readonly port: number;
  readonly limits: Readonly<ListenerLimits>;
  readonly counters = new RequestCounters();
  readonly idleList: IdleList;
  #server: Server;
  #runner: CallbackRunner & { readonly restarts?: number };
  #state: ListenerState = LISTENER_STATE.OPEN;
  #connections = new Set<Connection>();
  /** Connections whose next request waits for a concurrency slot, in order. */
  #waiting: Connection[] = [];
  /** The connection whose turn it is while it is being resumed (or its request requeued). */
  #turn: ExchangeHost | null = null;
  #concurrency: number;
  /** Running callbacks with a time limit, oldest first (a doubly linked list through the exchanges). */
  #oldest: Exchange | null = null;
  #newest: Exchange | null = null;
  #clock: NodeJS.Timeout | null = null;
  #serverClosed: Promise<void> | null = null;
  /** TLS: sockets accepted whose handshake has not completed, by their four addresses (RouteClose and Close end them). */
  readonly #handshakes = new Map<string, Socket>();
  /** Close waits on this for the last connection to close. */
  #noConnections: (() => void) | null = null;
  /** Framers between requests, for any connection's next one. */
  #framers: RequestFramer[] = [];
  #closing: Promise<void> | null = null;

  /** @internal Use HttpListener.open. */
  constructor(config: ListenerConfig, id: number, server: Server, port: number, runner: CallbackRunner) {
    this.id = id;
    this.callbackName = config.callbackName;
    this.timeoutMs = config.timeoutMs;
    this.bindMode = config.bindMode;
    this.limits = config.limits;
    this.port = port;
    this.#server = server;
    this.#runner = runner;
    this.#concurrency = config.limits.concurrency;
    // With keep-alive off, only new connections wait idle: for their first byte, as long as for a head.
    this.idleList = new IdleList(config.limits.keepAliveTimeoutMs || config.limits.headersTimeoutMs);
    // Plain TCP connections are driven on their handles where Node allows it (raw-tcp.ts); TLS ones are net.Sockets.
    // Either way net.Server may make net.Sockets: always for TLS and without raw handles, and for a
    // plain connection accepted while something traces net.Sockets (acceptRaw).
    if (!config.limits.tls) acceptRaw(server, this.#onConnection);
    else {
      server.on("connection", this.#onHandshakeStart);
      // A handshake that fails or passes handshakeTimeout ends its socket: Node reports it here and
      // otherwise leaves the socket open, counted by the server, so that server.close() never completes.
      server.on("tlsClientError", destroySocket);
    }
    server.on(config.limits.tls ? "secureConnection" : "connection", this.#onConnection);
    server.on("drop", this.#onDrop);
  }

  /** "open", then "draining" after routeClose(), "closing" during close(), "closed". */
  get state(): ListenerState {
    return this.#state;
  }

  /** RouteClose was called (the callback context's `draining`). */
  get draining(): boolean {
    return this.#state !== LISTENER_STATE.OPEN;
  }

  stats(): ListenerStats {
    const c = this.counters;
    return {
      id: this.id,
      state: this.#state,
      port: this.port,
      pending: c.pending,
      queued: c.queued,
      running: c.running,
      active: c.active,
      drained: c.active === 0,
      connections: this.#connections.size,
      requests: c.requests,
      timeouts: c.timeouts,
      failures: c.failures,
      rejected: c.rejected,
      refusedConnections: c.refusedConnections,
      workerRestarts: this.#runner.restarts ?? 0,
    };
  }

  /**
   * The first shutdown step: stop accepting connections at once, let requests
   * that began before it finish, answer later ones on kept-alive connections
   * 503, close idle connections now and busy ones after their last response.
   * True the first time, false after.
   */
  routeClose(): boolean {
    if (this.#state !== LISTENER_STATE.OPEN) return false;
    this.#state = LISTENER_STATE.DRAINING;
    this.#runner.draining?.();
    const server = this.#server;
    this.#serverClosed = new Promise((resolve) => server.close(() => resolve()));
    for (const conn of this.#connections) conn.drain();
    // A handshake still under way has no request yet: like an idle connection, it is closed now.
    for (const socket of this.#handshakes.values()) socket.destroy();
    return true;
  }

  /** Resolve true once nothing is active, false when `timeoutMs` passes first (-1: no limit). */
  waitDrained(timeoutMs: number): Promise<boolean> {
    if (typeof timeoutMs !== "number" || !Number.isSafeInteger(timeoutMs)) {
      return Promise.reject(
        new CallbackHttpError(
          "ERR_ARG_TYPE",
          `HttpListener.waitDrained: timeoutMs must be an integer, got ${describe(timeoutMs)}`,
        ),
      );
    }
    if (timeoutMs < -1 || timeoutMs > 2147483647) {
      return Promise.reject(
        new CallbackHttpError(
          "ERR_TIMEOUT_RANGE",
          `HttpListener.waitDrained: timeoutMs ${timeoutMs} is neither -1 nor within 0..2147483647`,
        ),
      );
    }
    return this.counters.waitDrained(timeoutMs);
  }

  /**
   * The forced end: routeClose if not done, answer queued requests 503, cut
   * requests still arriving, abort the running callbacks' signals and let them
   * finish, give their responses a short grace to be written, then destroy the
   * connections and release everything. True when the listener was open.
   */
  async close(): Promise<boolean> {
    const wasOpen = this.#state === LISTENER_STATE.OPEN;
    this.#closing ??= this.#shutdown();
    await this.#closing;
    return wasOpen;
  }

  async #shutdown(): Promise<void> {
    this.routeClose();
    this.#state = LISTENER_STATE.CLOSING;
    this.#waiting = [];
    // Staged requests first: aborting a running callback frees its worker, which would
    // otherwise begin the request staged on it before its connection's turn came.
    for (const conn of this.#connections) conn.takeBackStaged();
    for (const conn of this.#connections) conn.forceClose();
    // Running callbacks may finish, within closeTimeoutMs: past it they are abandoned
    // (their late results dropped), so that Close always ends.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.counters.untilNoneRunning(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.limits.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Callbacks still running now are abandoned: the answers queued behind them can never be written, and
    // go; a connection with nothing else to write is cut at once. The grace is for responses being written.
    if (this.counters.running > 0) for (const conn of this.#connections) conn.cutIfRunning();
    await this.counters.untilOnlyRunning(CLOSE_WRITE_GRACE_MS);
    // Every socket reports its close before Close ends (a raw one is not counted by the net.Server).
    // libuv always reports a closed handle; the bound is only insurance.
    let closeWait: NodeJS.Timeout | undefined;
    const allClosed =
      this.#connections.size === 0
        ? null
        : new Promise<void>((resolve) => {
            this.#noConnections = resolve;
            closeWait = setTimeout(resolve, CONNECTIONS_CLOSE_MS);
            closeWait.unref();
          });
    for (const conn of this.#connections) conn.destroy();
    await allClosed;
    clearTimeout(closeWait);
    this.#noConnections = null;
    if (this.#clock) clearTimeout(this.#clock);
    this.idleList.stop();
    this.#clock = null;
    await this.#runner.close();
    await this.#serverClosed;
    this.counters.zero();
    this.#state = LISTENER_STATE.CLOSED;
    closeRecord(this.id);
  }

  // ---- ConnectionOwner -------------------------------------------------------

  start(ex: Exchange, conn: Connection): boolean {
    // Turns go in order: while connections wait, a newcomer (or a pipelined next request) waits behind
    // them, unless its turn has come (#startWaiting) or it was taken back from a lost worker (requeue).
    const itsTurn = conn === this.#turn;
    if (!itsTurn && this.#waiting.length > 0) {
      this.#waiting.push(conn);
      return false;
    }
    if ((this.#concurrency > 0 && this.counters.running >= this.#concurrency) || this.#runner.canRun?.() === false) {
      // Every slot is busy (or no worker is ready): a worker may still take it ahead, to begin it the moment it is free.
      if (this.#runner.stage?.(ex)) {
        ex.state = EXCHANGE_STATE.STAGED;
        return true;
      }
      if (itsTurn) this.#waiting.unshift(conn);
      else this.#waiting.push(conn);
      return false;
    }
    this.#begin(ex);
    this.#runner.run(ex);
    return true;
  }

  followed(ex: Exchange): void {
    this.#runner.followed?.(ex);
  }

  unstage(ex: Exchange): void {
    // Taken back before it began: queued again (its connection drops it or answers it).
    // Otherwise it had begun, and the runner reported it: it is running now.
    if (ex.state === EXCHANGE_STATE.STAGED && this.#runner.revoke!(ex)) ex.state = EXCHANGE_STATE.QUEUED;
  }

  takeFramer(sink: FramerSink): RequestFramer {
    const framer = this.#framers.pop();
    if (framer === undefined) return new RequestFramer(sink, this.limits);
    framer.reset(sink);
    return framer;
  }

  releaseFramer(framer: RequestFramer): void {
    if (this.#framers.length < MAX_SPARE_FRAMERS) this.#framers.push(framer);
  }

  connectionClosed(conn: Connection): void {
    this.#connections.delete(conn);
    if (this.#connections.size === 0) this.#noConnections?.();
  }

  // ---- callbacks and their time limit ----------------------------------------

  /** The runner's report: `response` bytes, or null for a failure (500). */
  readonly settle = (ex: Exchange, response: ResponseData | null): void => {
    // Timed out, or abandoned by Close: the late result is dropped.
    if (ex.state !== EXCHANGE_STATE.RUNNING || this.#state === LISTENER_STATE.CLOSED) return;
    if (this.timeoutMs >= 0) {
      this.#unlink(ex);
      // A synchronous callback cannot be interrupted; past its limit, its answer is dropped all the same.
      // Whole milliseconds, as the limit is given: a 0 ms limit still lets an instant callback answer.
      if (Math.floor(now() - ex.startedAt) > this.timeoutMs) {
        this.#timeOut(ex);
        return;
      }
    }
    this.counters.endRunning();
    if (response === null) {
      this.counters.failures++;
      ex.state = EXCHANGE_STATE.REJECTED;
      ex.status = 500;
    } else {
      ex.response = response;
      ex.state = EXCHANGE_STATE.READY;
    }
    ex.host.settled(ex);
    if (this.#waiting.length > 0) this.#startWaiting();
  };

  /** The runner's report: a staged request's callback began. */
  readonly begin = (ex: Exchange): void => {
    if (ex.state !== EXCHANGE_STATE.STAGED) return;
    this.#begin(ex);
    // Its worker can take the next one ahead now: the longest waiting connection first.
    if (this.#waiting.length > 0) this.#startWaiting();
  };

  /** The runner's report: it can begin callbacks again (a replacement worker is ready). */
  readonly wake = (): void => {
    if (this.#waiting.length > 0) this.#startWaiting();
  };

  /**
   * The runner's report: a request came back unstarted (its worker was lost): it waits again. A staged one,
   * or one sent to run that the worker ended before it began: it never ran, so it is queued again, its limit
   * no longer running.
   */
  readonly requeue = (ex: Exchange): void => {
    if (ex.state === EXCHANGE_STATE.RUNNING) {
      if (this.timeoutMs >= 0) this.#unlink(ex);
      this.counters.queued++;
      this.counters.endRunning();
    } else if (ex.state !== EXCHANGE_STATE.STAGED) {
      return;
    }
    ex.state = EXCHANGE_STATE.QUEUED;
    if (this.#state === LISTENER_STATE.CLOSING || this.#state === LISTENER_STATE.CLOSED) {
      // Close answers queued requests 503; this one is one of them now.
      this.counters.queued--;
      ex.state = EXCHANGE_STATE.REJECTED;
      ex.status = 503;
    }
    // It waited longer than any connection in the waiting list: it keeps its turn.
    this.#turn = ex.host;
    ex.host.settled(ex);
    this.#turn = null;
  };

  /** Count `ex` as running from now, under the time limit. */
  #begin(ex: Exchange): void {
    const counters = this.counters;
    counters.queued--;
    counters.running++;
    ex.state = EXCHANGE_STATE.RUNNING;
    if (this.timeoutMs >= 0) this.#link(ex);
  }

  #timeOut(ex: Exchange): void {
    ex.timedOut = true;
    ex.state = EXCHANGE_STATE.REJECTED;
    ex.status = 503;
    this.counters.timeouts++;
    ex.abort("timeout");
    this.#runner.timedOut(ex);
    ex.host.settled(ex);
    if (this.#waiting.length > 0) this.#startWaiting();
  }

  /** Hand free slots, then room ahead in the runner, to waiting connections in their order. */
  #startWaiting(): void {
    const waiting = this.#waiting;
    const runner = this.#runner;
    // Bounded: a connection that cannot start after all goes to the back of the list.
    for (let n = waiting.length; n > 0 && waiting.length > 0; n--) {
      const full = this.counters.running >= this.#concurrency || runner.canRun?.() === false;
      if (full && !runner.canStage?.()) break;
      const conn = waiting.shift()!;
      this.#turn = conn;
      conn.resume();
      this.#turn = null;
      if (waiting[0] === conn) break; // it could not start after all, and keeps its place
    }
  }

  #link(ex: Exchange): void {
    ex.startedAt = now();
    ex.prevRunning = this.#newest;
    ex.nextRunning = null;
    if (this.#newest) this.#newest.nextRunning = ex;
    else this.#oldest = ex;
    this.#newest = ex;
    // One ms past the limit, so that the check in #onClock passes; within the largest delay a timer takes.
    if (this.#clock === null) this.#clock = setTimeout(this.#onClock, Math.min(this.timeoutMs + 1, 2147483647));
  }

  #unlink(ex: Exchange): void {
    if (ex.prevRunning) ex.prevRunning.nextRunning = ex.nextRunning;
    else if (this.#oldest === ex) this.#oldest = ex.nextRunning;
    if (ex.nextRunning) ex.nextRunning.prevRunning = ex.prevRunning;
    else if (this.#newest === ex) this.#newest = ex.prevRunning;
    ex.prevRunning = null;
    ex.nextRunning = null;
  }

  /** One timer for all running callbacks: they share one limit, so the oldest expires first. */
  #onClock = (): void => {
    this.#clock = null;
    const t = now();
    let ex = this.#oldest;
    while (ex !== null && ex.startedAt + this.timeoutMs <= t) {
      this.#unlink(ex);
      this.#timeOut(ex);
      ex = this.#oldest;
    }
    // A request started by a time-out above may have armed the clock for itself: the oldest decides.
    if (this.#clock !== null) clearTimeout(this.#clock);
    this.#clock =
      ex === null ? null : setTimeout(this.#onClock, Math.max(1, Math.ceil(ex.startedAt + this.timeoutMs - t)));
  };

  // ---- connections ------------------------------------------------------------

  /** TLS: a TCP connection accepted, its handshake to come (bounded by the server's handshakeTimeout). */
  #onHandshakeStart = (socket: Socket): void => {
    const key = addressKey(socket);
    this.#handshakes.set(key, socket);
    socket.once("close", () => {
      if (this.#handshakes.get(key) === socket) this.#handshakes.delete(key);
    });
  };

  #onConnection = (socket: Socket | RawTcpSocket): void => {
    if (this.limits.tls) this.#handshakes.delete(addressKey(socket as Socket));
    if (this.#state !== LISTENER_STATE.OPEN) {
      socket.destroy();
      return;
    }
    // net.Server keeps maxConnections among its net.Sockets; raw connections are not among them.
    const max = this.limits.maxConnections;
    if (max > 0 && this.#connections.size >= max) {
      this.counters.refusedConnections++;
      socket.destroy();
      return;
    }
    this.#connections.add(new Connection(socket, this));
  };

  #onDrop = (): void => {
    this.counters.refusedConnections++;
  };
}

/** A connection's two ends, which tell it from any other open connection (bound to every interface too). */
function addressKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

function destroySocket(_err: Error, socket: { destroy(): void }): void {
  socket.destroy();
}

function checkInteger(
  where: string,
  name: string,
  value: unknown,
  rangeCode: "ERR_TIMEOUT_RANGE" | "ERR_PORT_RANGE" | "ERR_BIND_MODE",
  min: number,
  max: number,
): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new CallbackHttpError(rangeCode, `${where}: ${name} ${value} is outside ${min}..${max}`);
  }
}

/** The listener's server, not yet listening: TCP, or TLS with the tls option (ERR_ARG_TYPE when node:tls refuses it). */
function createServer({ limits, where }: ListenerConfig): Server {
  if (!limits.tls) return createTcpServer({ allowHalfOpen: true, noDelay: true });
  try {
    return createTlsServer({
      // The handshake comes before the head, and is bounded like it unless the tls options say otherwise.
      handshakeTimeout: limits.headersTimeoutMs > 0 ? limits.headersTimeoutMs : 120_000,
      ...limits.tls,
      allowHalfOpen: true,
      ALPNProtocols: ["http/1.1"],
    });
  } catch (err) {
    throw new CallbackHttpError(
      "ERR_ARG_TYPE",
      `${where}: option tls was refused by node:tls: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Bind and start a listener from a checked configuration. A failure issues no id. */
export async function openListener(config: ListenerConfig): Promise<HttpListener> {
  const { limits } = config;
  let runner: CallbackRunner & { readonly restarts?: number };
  let listener: HttpListener | null = null;
  const settle = (ex: Exchange, response: ResponseData | null): void => listener?.settle(ex, response);
  const reports: RunnerHost = {
    settle,
    begin: (ex) => listener?.begin(ex),
    requeue: (ex) => listener?.requeue(ex),
    wake: () => listener?.wake(),
    closing: () => listener?.state === LISTENER_STATE.CLOSING,
  };
  // The server first: tls options that node:tls refuses (a malformed key, say) fail Open before any worker starts.
  const server = createServer(config);
  if (limits.workers > 0) {
    // Contract 5a: in worker mode the default concurrency is one running callback per worker.
    if (limits.concurrency === 0) {
      config = { ...config, limits: Object.freeze({ ...limits, concurrency: limits.workers }) };
    }
    // Workers load the module before the port is bound: a module that fails leaves nothing behind.
    const settings = {
      startTimeoutMs: limits.workerStartTimeoutMs,
      ...(limits.workerResourceLimits ? { resourceLimits: limits.workerResourceLimits } : {}),
    };
    runner = await startWorkerPool(config, reports, settings);
  } else {
    if (typeof config.callback !== "function") {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${config.where}: callback must be a function without workers`);
    }
    runner = new MainThreadRunner(config.callback, settle);
  }
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  const host = BIND_HOST[config.bindMode]!;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: config.port, host, exclusive: true }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await runner.close();
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    throw new CallbackHttpError("ERR_BIND", `${config.where}: cannot listen on ${host}:${config.port}: ${code}`, {
      cause: err,
    });
  }
  // Accept errors (EMFILE and the like) must not crash the process; the socket is simply not served.
  server.on("error", () => {});
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  listener = new HttpListener(config, issueId(), server, port, runner);
  registerListener(listener);
  return listener;
}
