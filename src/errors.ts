/**
 * The library's one error class. `code` is stable and documented in
 * docs/errors.md (a test keeps the two in step); the message names the
 * function and the value that was wrong.
 */

/** Every code a CallbackHttpError can carry. Codes are never reused once retired. */
export const ERROR_CODES = {
  ERR_ARG_COUNT: "ERR_ARG_COUNT",
  ERR_ARG_TYPE: "ERR_ARG_TYPE",
  ERR_PORT_RANGE: "ERR_PORT_RANGE",
  ERR_TIMEOUT_RANGE: "ERR_TIMEOUT_RANGE",
  ERR_BIND_MODE: "ERR_BIND_MODE",
  ERR_META_KEY: "ERR_META_KEY",
  ERR_UNKNOWN_CALLBACK: "ERR_UNKNOWN_CALLBACK",
  ERR_UNKNOWN_LISTENER: "ERR_UNKNOWN_LISTENER",
  ERR_BIND: "ERR_BIND",
  ERR_THREAD: "ERR_THREAD",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class CallbackHttpError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CallbackHttpError";
    this.code = code;
  }
}

/** How a value is shown in a message: strings quoted, other types named. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n (bigint)`;
  if (typeof value === "number") return String(value);
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}
