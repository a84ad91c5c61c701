/**
 * Named request callbacks: `callback(name, fn)` is the counterpart of the
 * reference's script-level `callback i32 NAME(ref blob $X)`. Open looks the name
 * up and binds the function it finds then; declaring the name again changes
 * later Opens only.
 */

import { isCallbackName } from "./callback-name.js";
import type { RequestCallback } from "./callback-runner.js";
import { CallbackHttpError, describe } from "./errors.js";
import { checkCount } from "./validate.js";

const callbacks = new Map<string, RequestCallback>();

/**
 * Declare the request callback `name`. Returns `fn`.
 * @throws CallbackHttpError ERR_ARG_COUNT, ERR_ARG_TYPE (a name that is empty,
 * holds whitespace or "=", or a non-function).
 */
export function callback(name: string, fn: RequestCallback): RequestCallback {
  const where = "callback";
  checkCount(where, arguments, 2, 2);
  if (typeof name !== "string") {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: name must be a string, got ${describe(name)}`);
  }
  if (typeof fn !== "function") {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: fn must be a function, got ${describe(fn)}`);
  }
  if (!isCallbackName(name)) {
    throw new CallbackHttpError(
      "ERR_ARG_TYPE",
      `${where}: name ${describe(name)} must be non-empty, without whitespace or "="`,
    );
  }
  callbacks.set(name, fn);
  return fn;
}

/** The callback declared as `name`, or undefined. */
export function findCallback(name: string): RequestCallback | undefined {
  return callbacks.get(name);
}
