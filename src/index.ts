/**
 * callbackhttp: a callback-driven HTTP/1.1 listener. Re-exports only.
 */
export { asyncmeta, CAP, PROFILE_ROUTE_CONTROL, ROUTE_META, ROUTE_STATE } from "./asyncmeta.js";
export { callback } from "./callback-registry.js";
export type { CallbackResult, RequestCallback } from "./callback-runner.js";
export { CallbackHttpError, ERROR_CODES, type ErrorCode } from "./errors.js";
export type { CallbackContext, RequestRef } from "./exchange.js";
export { callbackhttp } from "./facade.js";
export {
  buildResponse,
  decodeChunked,
  jsonResponse,
  type ParsedRequest,
  parseRequest,
  type ResponseInit,
  textResponse,
} from "./helpers.js";
export {
  BIND_MODE,
  HttpListener,
  type HttpListenerOptions,
  LISTENER_STATE,
  type ListenerState,
  type ListenerStats,
} from "./listener.js";
export { DEFAULT_LIMITS, type ListenerLimits, type ListenerOptionsInput } from "./options.js";
