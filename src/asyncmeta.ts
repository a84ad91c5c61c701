/**
 * The asyncmeta vocabulary shared by the route-controlled backends: route
 * states, RouteMeta keys, capability bits and the Supports* helpers. Values are
 * the reference's; the functions are PascalCase because the reference names
 * them so. Pure data and arithmetic.
 */

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
  const fn = (mask: number): number => {
    if (typeof mask !== "number" || !Number.isSafeInteger(mask)) {
      throw new TypeError(`asyncmeta.${name}: mask must be an integer, got ${String(mask)}`);
    }
    return (mask & bit) === bit ? 1 : 0;
  };
  Object.defineProperty(fn, "name", { value: name });
  return fn;
}

export const asyncmeta = Object.freeze({
  RouteStateClosed: (): number => ROUTE_STATE.CLOSED,
  RouteStateOpen: (): number => ROUTE_STATE.OPEN,
  RouteMetaState: (): number => ROUTE_META.STATE,
  RouteMetaTimeout: (): number => ROUTE_META.TIMEOUT,
  RouteMetaPending: (): number => ROUTE_META.PENDING,
  RouteMetaQueued: (): number => ROUTE_META.QUEUED,
  RouteMetaRunning: (): number => ROUTE_META.RUNNING,
  RouteMetaDrained: (): number => ROUTE_META.DRAINED,
  RouteMetaKnown: (): number => ROUTE_META.KNOWN,
  RouteMetaCloseAccepted: (): number => ROUTE_META.CLOSE_ACCEPTED,
  RouteMetaClosedQueued: (): number => ROUTE_META.CLOSED_QUEUED,
  CapWaitDrained: (): number => CAP.WAIT_DRAINED,
  CapRouteMeta: (): number => CAP.ROUTE_META,
  CapRouteInfo: (): number => CAP.ROUTE_INFO,
  CapRouteClose: (): number => CAP.ROUTE_CLOSE,
  CapKnown: (): number => CAP.KNOWN,
  ProfileRouteControl: (): number => PROFILE_ROUTE_CONTROL,
  SupportsWaitDrained: supports(CAP.WAIT_DRAINED, "SupportsWaitDrained"),
  SupportsRouteMeta: supports(CAP.ROUTE_META, "SupportsRouteMeta"),
  SupportsRouteInfo: supports(CAP.ROUTE_INFO, "SupportsRouteInfo"),
  SupportsRouteClose: supports(CAP.ROUTE_CLOSE, "SupportsRouteClose"),
  SupportsKnown: supports(CAP.KNOWN, "SupportsKnown"),
});
