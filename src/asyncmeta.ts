/**
 * The asyncmeta vocabulary shared by the route-controlled backends: route
 * states, RouteMeta keys, capability bits and the Supports* helpers. Values are
 * the reference's; the functions are PascalCase because the reference names
 * them so. Pure data and arithmetic.
 */
import { checkCount, checkIntegerType } from "./validate.js";

export const ROUTE_STATE = { CLOSED: 0, OPEN: 1 } as const;

export const ROUTE_META = {
  STATE: 1,
  TIMEOUT: 2,
  PENDING: 3,
  QUEUED: 4,
  RUNNING: 5,
  DRAINED: 6,
  KNOWN: 7,
  CLOSE_ACCEPTED: 8,
  CLOSED_QUEUED: 9,
} as const;

export const CAP = {
  WAIT_DRAINED: 2,
  ROUTE_META: 8,
  ROUTE_INFO: 128,
  ROUTE_CLOSE: 256,
  KNOWN: 2048,
} as const;

/** WaitDrained | RouteMeta | RouteInfo | RouteClose | Known = 2442. */
export const PROFILE_ROUTE_CONTROL = CAP.WAIT_DRAINED | CAP.ROUTE_META | CAP.ROUTE_INFO | CAP.ROUTE_CLOSE | CAP.KNOWN;

function supports(bit: number, name: string): (mask: number) => number {
  const where = `asyncmeta.${name}`;
  return function (mask: number): number {
    checkCount(where, arguments, 1, 1);
    return (checkIntegerType(where, "mask", mask) & bit) === bit ? 1 : 0;
  };
}

function constant(name: string, value: number): () => number {
  const where = `asyncmeta.${name}`;
  return function (): number {
    checkCount(where, arguments, 0, 0);
    return value;
  };
}

export const asyncmeta = Object.freeze({
  RouteStateClosed: constant("RouteStateClosed", ROUTE_STATE.CLOSED),
  RouteStateOpen: constant("RouteStateOpen", ROUTE_STATE.OPEN),
  RouteMetaState: constant("RouteMetaState", ROUTE_META.STATE),
  RouteMetaTimeout: constant("RouteMetaTimeout", ROUTE_META.TIMEOUT),
  RouteMetaPending: constant("RouteMetaPending", ROUTE_META.PENDING),
  RouteMetaQueued: constant("RouteMetaQueued", ROUTE_META.QUEUED),
  RouteMetaRunning: constant("RouteMetaRunning", ROUTE_META.RUNNING),
  RouteMetaDrained: constant("RouteMetaDrained", ROUTE_META.DRAINED),
  RouteMetaKnown: constant("RouteMetaKnown", ROUTE_META.KNOWN),
  RouteMetaCloseAccepted: constant("RouteMetaCloseAccepted", ROUTE_META.CLOSE_ACCEPTED),
  RouteMetaClosedQueued: constant("RouteMetaClosedQueued", ROUTE_META.CLOSED_QUEUED),
  CapWaitDrained: constant("CapWaitDrained", CAP.WAIT_DRAINED),
  CapRouteMeta: constant("CapRouteMeta", CAP.ROUTE_META),
  CapRouteInfo: constant("CapRouteInfo", CAP.ROUTE_INFO),
  CapRouteClose: constant("CapRouteClose", CAP.ROUTE_CLOSE),
  CapKnown: constant("CapKnown", CAP.KNOWN),
  ProfileRouteControl: constant("ProfileRouteControl", PROFILE_ROUTE_CONTROL),
  SupportsWaitDrained: supports(CAP.WAIT_DRAINED, "SupportsWaitDrained"),
  SupportsRouteMeta: supports(CAP.ROUTE_META, "SupportsRouteMeta"),
  SupportsRouteInfo: supports(CAP.ROUTE_INFO, "SupportsRouteInfo"),
  SupportsRouteClose: supports(CAP.ROUTE_CLOSE, "SupportsRouteClose"),
  SupportsKnown: supports(CAP.KNOWN, "SupportsKnown"),
});
