/**
 * The reference's 34 functions, under their reference names: this is the one
 * file with PascalCase functions, because the reference names them so. Each
 * checks its arguments (contract section 6) and makes one call into the core;
 * the functions that wait return Promises, the others numbers or strings.
 */
import { PROFILE_ROUTE_CONTROL, ROUTE_META, ROUTE_STATE } from "./asyncmeta.js";
import { isCallbackName, nameOfFunction } from "./callback-name.js";
import { findCallback } from "./callback-registry.js";
import type { RequestCallback } from "./callback-runner.js";
import { CallbackHttpError, describe } from "./errors.js";
import { BIND_MODE, type HttpListener, LISTENER_STATE, openListener } from "./listener.js";
import { findListener, openCount } from "./listener-registry.js";
import { type ListenerOptionsInput, resolveLimits } from "./options.js";
import { checkCount, checkIntegerType, checkRange, checkTimeoutRange } from "./validate.js";

const NS = "callbackhttp";

/** Check a lone listener-id argument and find its listener. */
function listenerOf(fn: string, args: ArrayLike<unknown>, extra = 0): HttpListener {
  const where = `${NS}.${fn}`;
  checkCount(where, args, 1 + extra, 1 + extra);
  const id = checkIntegerType(where, "listenerId", args[0]);
  return lookup(where, id);
}

function lookup(where: string, id: number): HttpListener {
  const listener = id > 0 ? findListener(id) : undefined;
  if (listener === undefined) {
    throw new CallbackHttpError("ERR_UNKNOWN_LISTENER", `${where}: unknown listener id ${id}`);
  }
  return listener;
}

function noArgs(fn: string, args: ArrayLike<unknown>): void {
  checkCount(`${NS}.${fn}`, args, 0, 0);
}

/** Route layer open: neither RouteClose nor Close has been called. */
function isOpen(l: HttpListener): boolean {
  return l.state === LISTENER_STATE.OPEN;
}

const stateText = (l: HttpListener): string => (isOpen(l) ? "open" : "closed");
const bindText = (l: HttpListener): string => (l.bindMode === BIND_MODE.ANY ? "any" : "local");

async function waitFor(fn: string, args: ArrayLike<unknown>): Promise<number> {
  const where = `${NS}.${fn}`;
  checkCount(where, args, 2, 2);
  const id = checkIntegerType(where, "listenerId", args[0]);
  const ms = checkIntegerType(where, "timeoutMs", args[1]);
  const listener = lookup(where, id);
  checkTimeoutRange(where, "timeoutMs", ms);
  return (await listener.waitDrained(ms)) ? 1 : 0;
}

function routeMeta(l: HttpListener, key: number): number {
  const c = l.counters;
  switch (key) {
    case ROUTE_META.STATE:
      return isOpen(l) ? ROUTE_STATE.OPEN : ROUTE_STATE.CLOSED;
    case ROUTE_META.TIMEOUT:
      return l.timeoutMs;
    case ROUTE_META.PENDING:
      return c.pending;
    case ROUTE_META.QUEUED:
      return c.queued;
    case ROUTE_META.RUNNING:
      return c.running;
    case ROUTE_META.DRAINED:
      return c.active === 0 ? 1 : 0;
    case ROUTE_META.KNOWN:
      return isOpen(l) ? 1 : 0;
    default:
      // CLOSE_ACCEPTED and CLOSED_QUEUED: both become 1 when RouteClose (or Close) starts the shutdown.
      return isOpen(l) ? 0 : 1;
  }
}

/** The reference's functions; see docs/api.md for each. */
export const callbackhttp = Object.freeze({
  /** The capability mask, asyncmeta.ProfileRouteControl() = 2442. */
  Capabilities(): number {
    noArgs("Capabilities", arguments);
    return PROFILE_ROUTE_CONTROL;
  },

  /** 0: listen on 127.0.0.1 only (the default). */
  BindLocalOnly(): number {
    noArgs("BindLocalOnly", arguments);
    return BIND_MODE.LOCAL;
  },

  /** 1: listen on every interface (0.0.0.0). */
  BindAny(): number {
    noArgs("BindAny", arguments);
    return BIND_MODE.ANY;
  },

  /**
   * Open a listener and return its id (a positive integer).
   * @example const lid = await callbackhttp.Open("OnRequest", -1, 0, callbackhttp.BindLocalOnly());
   */
  async Open(
    callbackName: string | RequestCallback,
    timeoutMs: number,
    port?: number,
    bindMode?: number,
    options?: ListenerOptionsInput,
  ): Promise<number> {
    const where = `${NS}.Open`;
    const n = checkCount(where, arguments, 2, 5);
    if (typeof callbackName !== "string" && typeof callbackName !== "function") {
      throw new CallbackHttpError(
        "ERR_ARG_TYPE",
        `${where}: callbackName must be a string or a function, got ${describe(callbackName)}`,
      );
    }
    checkIntegerType(where, "timeoutMs", timeoutMs);
    // An optional argument passed as undefined is absent, wherever it stands (contract section 6).
    const p = n >= 3 && port !== undefined ? checkIntegerType(where, "port", port) : 0;
    const mode = n >= 4 && bindMode !== undefined ? checkIntegerType(where, "bindMode", bindMode) : BIND_MODE.LOCAL;
    if (n >= 5 && (options === null || typeof options !== "object" || Array.isArray(options))) {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: options must be an object, got ${describe(options)}`);
    }
    checkTimeoutRange(where, "timeoutMs", timeoutMs);
    checkRange(where, "port", p, 0, 65535, "ERR_PORT_RANGE");
    if (mode !== BIND_MODE.LOCAL && mode !== BIND_MODE.ANY) {
      throw new CallbackHttpError("ERR_BIND_MODE", `${where}: bindMode ${mode} is neither 0 (local) nor 1 (any)`);
    }
    const workerMode = typeof options?.workers === "number" && options.workers > 0;
    let callback: RequestCallback | string;
    let name: string;
    if (typeof callbackName === "function") {
      callback = callbackName;
      name = nameOfFunction(callbackName);
    } else {
      name = callbackName;
      const found = isCallbackName(name) && !workerMode ? findCallback(name) : undefined;
      if (!isCallbackName(name) || (!workerMode && found === undefined)) {
        throw new CallbackHttpError("ERR_UNKNOWN_CALLBACK", `${where}: no callback named ${describe(name)}`);
      }
      callback = found ?? name;
    }
    const limits = resolveLimits(options, where);
    const listener = await openListener({
      callback,
      callbackName: name,
      timeoutMs,
      port: p,
      bindMode: mode,
      limits,
      where,
    });
    return listener.id;
  },

  /** Close the listener: 1 if it was open, 0 after an earlier RouteClose or Close. */
  async Close(listenerId: number): Promise<number> {
    const listener = listenerOf("Close", arguments);
    return (await listener.close()) ? 1 : 0;
  },

  /** The bound TCP port. */
  Port(listenerId: number): number {
    return listenerOf("Port", arguments).port;
  },

  /** 0 (local) or 1 (any). */
  BindMode(listenerId: number): number {
    return listenerOf("BindMode", arguments).bindMode;
  },

  /** "local" or "any". */
  BindModeText(listenerId: number): string {
    return bindText(listenerOf("BindModeText", arguments));
  },

  /** 1 (open) or 0 (closed: after RouteClose or Close). */
  State(listenerId: number): number {
    return isOpen(listenerOf("State", arguments)) ? ROUTE_STATE.OPEN : ROUTE_STATE.CLOSED;
  },

  /** "open" or "closed". */
  StateText(listenerId: number): string {
    return stateText(listenerOf("StateText", arguments));
  },

  /** Listeners opened and not yet closed. */
  OpenCount(): number {
    noArgs("OpenCount", arguments);
    return openCount();
  },

  /** Requests from their first byte until their response is written. */
  Active(listenerId: number): number {
    return listenerOf("Active", arguments).counters.active;
  },

  /** Requests begun and not yet complete. */
  Pending(listenerId: number): number {
    return listenerOf("Pending", arguments).counters.pending;
  },

  /** Complete requests waiting for their callback. */
  Queued(listenerId: number): number {
    return listenerOf("Queued", arguments).counters.queued;
  },

  /** Requests in their callback. */
  Running(listenerId: number): number {
    return listenerOf("Running", arguments).counters.running;
  },

  /** 1 when nothing is active, else 0. */
  Drained(listenerId: number): number {
    return listenerOf("Drained", arguments).counters.active === 0 ? 1 : 0;
  },

  /** Resolve 1 once drained, 0 when timeoutMs (-1: no limit) passes first. */
  WaitDrained(listenerId: number, timeoutMs: number): Promise<number> {
    return waitFor("WaitDrained", arguments);
  },

  /** "id=… state=… callback=… timeout=… port=… bind=… bindCode=… active=…". */
  Info(listenerId: number): string {
    const l = listenerOf("Info", arguments);
    return (
      `id=${l.id} state=${stateText(l)} callback=${l.callbackName} timeout=${l.timeoutMs} ` +
      `port=${l.port} bind=${bindText(l)} bindCode=${l.bindMode} active=${l.counters.active}`
    );
  },

  /** Same as State, in the route vocabulary. */
  RouteState(listenerId: number): number {
    return isOpen(listenerOf("RouteState", arguments)) ? ROUTE_STATE.OPEN : ROUTE_STATE.CLOSED;
  },

  /** Same as StateText, in the route vocabulary. */
  RouteStateText(listenerId: number): string {
    return stateText(listenerOf("RouteStateText", arguments));
  },

  /** The callback name given at Open. */
  RouteCallback(listenerId: number): string {
    return listenerOf("RouteCallback", arguments).callbackName;
  },

  /** The callback's run-time limit in ms; -1 for none. */
  RouteTimeout(listenerId: number): number {
    return listenerOf("RouteTimeout", arguments).timeoutMs;
  },

  /** 1 while the route is open; 0 once closed, and for any id it does not know. */
  RouteKnown(listenerId: number): number {
    const where = `${NS}.RouteKnown`;
    checkCount(where, arguments, 1, 1);
    const id = checkIntegerType(where, "listenerId", listenerId);
    const listener = findListener(id);
    return listener !== undefined && isOpen(listener) ? 1 : 0;
  },

  /** One field by its asyncmeta.RouteMeta* key (1..9). */
  RouteMeta(listenerId: number, metaKey: number): number {
    const where = `${NS}.RouteMeta`;
    checkCount(where, arguments, 2, 2);
    const id = checkIntegerType(where, "listenerId", listenerId);
    const key = checkIntegerType(where, "metaKey", metaKey);
    const listener = lookup(where, id);
    checkRange(where, "metaKey", key, ROUTE_META.STATE, ROUTE_META.CLOSED_QUEUED, "ERR_META_KEY");
    return routeMeta(listener, key);
  },

  /** The route snapshot: id, state, stateCode, callback, timeout, port, bind, bindCode, drained, pending, queued, running, active. */
  RouteInfo(listenerId: number): string {
    const l = listenerOf("RouteInfo", arguments);
    const c = l.counters;
    return (
      `id=${l.id} state=${stateText(l)} stateCode=${isOpen(l) ? 1 : 0} callback=${l.callbackName} ` +
      `timeout=${l.timeoutMs} port=${l.port} bind=${bindText(l)} bindCode=${l.bindMode} ` +
      `drained=${c.active === 0 ? 1 : 0} pending=${c.pending} queued=${c.queued} running=${c.running} active=${c.active}`
    );
  },

  RoutePending(listenerId: number): number {
    return listenerOf("RoutePending", arguments).counters.pending;
  },

  RouteQueued(listenerId: number): number {
    return listenerOf("RouteQueued", arguments).counters.queued;
  },

  RouteRunning(listenerId: number): number {
    return listenerOf("RouteRunning", arguments).counters.running;
  },

  RouteDrained(listenerId: number): number {
    return listenerOf("RouteDrained", arguments).counters.active === 0 ? 1 : 0;
  },

  /** Route-level WaitDrained: call it after RouteClose, before Close. */
  WaitRouteDrained(listenerId: number, timeoutMs: number): Promise<number> {
    return waitFor("WaitRouteDrained", arguments);
  },

  /** 1 once RouteClose (or Close) was accepted. */
  RouteCloseAccepted(listenerId: number): number {
    return routeMeta(listenerOf("RouteCloseAccepted", arguments), ROUTE_META.CLOSE_ACCEPTED);
  },

  /** 1 once the shutdown has started. */
  RouteClosedQueued(listenerId: number): number {
    return routeMeta(listenerOf("RouteClosedQueued", arguments), ROUTE_META.CLOSED_QUEUED);
  },

  /** The shutdown snapshot: id, state, callback, timeout, port, bind, drained, pending, queued, running, active, closeAccepted, closedQueued. */
  RouteCloseInfo(listenerId: number): string {
    const l = listenerOf("RouteCloseInfo", arguments);
    const c = l.counters;
    const closed = isOpen(l) ? 0 : 1;
    return (
      `id=${l.id} state=${stateText(l)} callback=${l.callbackName} timeout=${l.timeoutMs} port=${l.port} ` +
      `bind=${bindText(l)} drained=${c.active === 0 ? 1 : 0} pending=${c.pending} queued=${c.queued} ` +
      `running=${c.running} active=${c.active} closeAccepted=${closed} closedQueued=${closed}`
    );
  },

  /** The first shutdown step: 1 when accepted, 0 if the route was already closed. */
  RouteClose(listenerId: number): number {
    return listenerOf("RouteClose", arguments).routeClose() ? 1 : 0;
  },
});
