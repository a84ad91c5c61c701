/**
 * Argument checks of the facade, in the contract's order (section 6): the
 * count, then each type left to right, then each range, then names, options
 * and the bind. Each failure is a CallbackHttpError whose message names the
 * function and the value.
 */
import { CallbackHttpError, describe, type ErrorCode } from "./errors.js";

/** The argument count, where trailing undefined optional arguments count as absent. */
export function checkCount(where: string, args: ArrayLike<unknown>, min: number, max: number): number {
  let n = args.length;
  // Only optional parameters may be passed as undefined to mean "absent"; an argument past the last is an error.
  if (n <= max) while (n > min && args[n - 1] === undefined) n--;
  if (n < min || n > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new CallbackHttpError(
      "ERR_ARG_COUNT",
      `${where}: expected ${expected} argument${max === 1 ? "" : "s"}, got ${n}`,
    );
  }
  return n;
}

/** A safe integer: NaN, Infinity, fractions, BigInt and other types are ERR_ARG_TYPE. */
export function checkIntegerType(where: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: ${name} must be an integer, got ${describe(value)}`);
  }
  return value;
}

export function checkRange(
  where: string,
  name: string,
  value: number,
  min: number,
  max: number,
  code: ErrorCode,
): void {
  if (value < min || value > max) {
    throw new CallbackHttpError(code, `${where}: ${name} ${value} is outside ${min}..${max}`);
  }
}

/** A wait or run-time limit: -1 (none) or 0..2147483647 ms. */
export function checkTimeoutRange(where: string, name: string, value: number): void {
  if (value !== -1 && (value < 0 || value > 2147483647)) {
    throw new CallbackHttpError(
      "ERR_TIMEOUT_RANGE",
      `${where}: ${name} ${value} is neither -1 nor within 0..2147483647`,
    );
  }
}
