/**
 * Listener options: their defaults, units and ranges, checked once and frozen.
 * An unknown name, a wrong type or a value out of range is an ERR_ARG_TYPE
 * error naming the option (contract section 5a).
 */
import type { SecureContextOptions, TlsOptions } from "node:tls";
import type { ResourceLimits } from "node:worker_threads";
import { CallbackHttpError, describe } from "./errors.js";

/** The limits and modes a listener runs with; every field is documented in docs/options.md. */
export interface ListenerLimits {
  /** Bytes of request line, header lines and the blank line; over it: 431 and close. @default 16384 */
  maxHeaderBytes: number;
  /** Bytes of body (decoded size for chunked, extensions included); over it: 413 and close. @default 1048576 */
  maxBodyBytes: number;
  /** ms from a request's first byte to its blank line; past it: 408 and close. 0 disables. @default 60000, or requestTimeoutMs when that is less */
  headersTimeoutMs: number;
  /** ms from a request's first byte to its last; past it: 408 and close. 0 disables. @default 300000 */
  requestTimeoutMs: number;
  /** ms an idle kept-alive connection stays open; then a silent close. 0 closes after every response. @default 5000 */
  keepAliveTimeoutMs: number;
  /** ms a client may take none of its pending answers (it does not read); then the connection is destroyed. 0 disables. @default 60000 */
  sendTimeoutMs: number;
  /** ms Close waits for running callbacks before it abandons them (their late results are dropped). @default 5000 */
  closeTimeoutMs: number;
  /** Open connections at once; a new one beyond it is closed at once. 0 is unlimited. @default 0 */
  maxConnections: number;
  /** Requests on one connection; the connection closes after that response. 0 is unlimited. @default 0 */
  maxRequestsPerConnection: number;
  /** Callbacks running at once; more wait as queued. 0 is unlimited (one per worker in worker mode). @default 0 */
  concurrency: number;
  /** Worker threads that run the callback; 0 runs it on the main thread. @default 0 */
  workers: number;
  /** The module the workers load the callback from (a path or file URL), required when workers > 0. */
  module: string | undefined;
  /** `node:worker_threads` resourceLimits for each worker: one that crosses them dies, its request gets 500, and it is replaced. */
  workerResourceLimits: ResourceLimits | undefined;
  /** ms a worker may take to load the module: Open fails past it (ERR_THREAD), a replacement is given up and tried again. @default 30000 */
  workerStartTimeoutMs: number;
  /** `node:tls` server options; when set, the listener speaks HTTPS. */
  tls: (TlsOptions & SecureContextOptions) | undefined;
}

export type ListenerOptionsInput = Partial<ListenerLimits>;

export const DEFAULT_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  // Node's http defaults, which came out of CVE-2018-12121/12122 and CVE-2020-8251.
  maxHeaderBytes: 16384,
  maxBodyBytes: 1048576,
  headersTimeoutMs: 60000,
  requestTimeoutMs: 300000,
  keepAliveTimeoutMs: 5000,
  // nginx's send_timeout: a client that stops reading cannot hold its connection and its answers for ever.
  sendTimeoutMs: 60000,
  closeTimeoutMs: 5000,
  maxConnections: 0,
  maxRequestsPerConnection: 0,
  concurrency: 0,
  workers: 0,
  module: undefined,
  workerResourceLimits: undefined,
  workerStartTimeoutMs: 30000,
  tls: undefined,
});

const MAX_MS = 2147483647;

/**
 * Each workerResourceLimits key with its [min, max] in MB (a min of 0 means more than 0). Node takes any
 * positive number, but past these a worker ends the whole process as it starts, not just itself (Node 20
 * and 26): a stack too small to boot (under about 0.3 MB) or so large its size overflows (about 2e13 MB);
 * an old generation of 2 MB or less on Node 26 (V8's "GC during deserialization"); a code range V8 cannot
 * reserve (1e8 MB on Node 26). Infinity is refused everywhere (an infinite stack is one that overflows).
 */
const RESOURCE_LIMIT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  maxOldGenerationSizeMb: [4, Number.MAX_VALUE],
  maxYoungGenerationSizeMb: [0, Number.MAX_VALUE],
  codeRangeSizeMb: [0, 4096],
  stackSizeMb: [1, 1024 * 1024],
};

/** [min, max] of each integer option. */
const INTEGER_RANGES: Record<string, readonly [number, number]> = {
  maxHeaderBytes: [64, 16 * 1024 * 1024],
  maxBodyBytes: [0, 2 ** 31 - 1],
  headersTimeoutMs: [0, MAX_MS],
  requestTimeoutMs: [0, MAX_MS],
  keepAliveTimeoutMs: [0, MAX_MS],
  sendTimeoutMs: [0, MAX_MS],
  closeTimeoutMs: [0, MAX_MS],
  maxConnections: [0, 2 ** 31 - 1],
  maxRequestsPerConnection: [0, 2 ** 31 - 1],
  concurrency: [0, 2 ** 31 - 1],
  workers: [0, 1024],
  workerStartTimeoutMs: [1, MAX_MS],
};

/** Check an options object and fill in the defaults; `where` prefixes error messages. */
export function resolveLimits(input: unknown, where: string): Readonly<ListenerLimits> {
  if (input === undefined) return DEFAULT_LIMITS;
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: options must be an object, got ${describe(input)}`);
  }
  const out: ListenerLimits = { ...DEFAULT_LIMITS };
  /** The options given a value (some defaults depend on whether an option was set). */
  const given = new Set<string>();
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined) continue;
    given.add(name);
    const range = INTEGER_RANGES[name];
    if (range) {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < range[0] || value > range[1]) {
        throw new CallbackHttpError(
          "ERR_ARG_TYPE",
          `${where}: option ${name} must be an integer in ${range[0]}..${range[1]}, got ${describe(value)}`,
        );
      }
      (out as unknown as Record<string, number>)[name] = value;
    } else if (name === "module") {
      if (typeof value !== "string" || value === "") {
        throw new CallbackHttpError(
          "ERR_ARG_TYPE",
          `${where}: option module must be a non-empty string, got ${describe(value)}`,
        );
      }
      out.module = value;
    } else if (name === "workerResourceLimits") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new CallbackHttpError(
          "ERR_ARG_TYPE",
          `${where}: option workerResourceLimits must be an object, got ${describe(value)}`,
        );
      }
      for (const [key, limit] of Object.entries(value as Record<string, unknown>)) {
        const range = Object.hasOwn(RESOURCE_LIMIT_RANGES, key) ? RESOURCE_LIMIT_RANGES[key] : undefined;
        if (range === undefined || typeof limit !== "number") {
          throw new CallbackHttpError(
            "ERR_ARG_TYPE",
            `${where}: option workerResourceLimits.${key} must be one of ${Object.keys(RESOURCE_LIMIT_RANGES).join(", ")} with a number of MB, got ${describe(limit)}`,
          );
        }
        const [min, max] = range;
        if (!((min === 0 ? limit > 0 : limit >= min) && limit <= max)) {
          const from = min === 0 ? "more than 0" : `at least ${min}`;
          const to = min === 0 ? `${from} and at most ${max}` : `from ${min} to ${max}`;
          const allowed = max === Number.MAX_VALUE ? from : to;
          throw new CallbackHttpError(
            "ERR_ARG_TYPE",
            `${where}: option workerResourceLimits.${key} must be a finite number of MB, ${allowed}, got ${describe(limit)}`,
          );
        }
      }
      out.workerResourceLimits = Object.freeze({ ...(value as ResourceLimits) });
    } else if (name === "tls") {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: option tls must be an object, got ${describe(value)}`);
      }
      const tls = value as TlsOptions;
      // Without a key and certificate (or a pfx, or an SNICallback that supplies them) every handshake fails.
      if (
        !((tls.key !== undefined && tls.cert !== undefined) || tls.pfx !== undefined || tls.SNICallback !== undefined)
      ) {
        throw new CallbackHttpError(
          "ERR_ARG_TYPE",
          `${where}: option tls needs key and cert, pfx, or SNICallback; got an object with the keys ${JSON.stringify(Object.keys(tls))}`,
        );
      }
      out.tls = tls;
    } else {
      throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: unknown option ${JSON.stringify(name)}`);
    }
  }
  if (out.workers > 0 && out.module === undefined) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: option module is required when workers is ${out.workers}`);
  }
  if (out.workers === 0 && out.workerResourceLimits !== undefined) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: option workerResourceLimits needs workers of 1 or more`);
  }
  if (out.workers === 0 && given.has("workerStartTimeoutMs")) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: option workerStartTimeoutMs needs workers of 1 or more`);
  }
  if (out.workers === 0 && out.module !== undefined) {
    throw new CallbackHttpError("ERR_ARG_TYPE", `${where}: option module needs workers of 1 or more`);
  }
  // As in Node's http: unless given, the head's time-out is at most the whole request's.
  if (!given.has("headersTimeoutMs") && out.requestTimeoutMs > 0 && out.requestTimeoutMs < out.headersTimeoutMs) {
    out.headersTimeoutMs = out.requestTimeoutMs;
  }
  if (out.headersTimeoutMs > 0 && out.requestTimeoutMs > 0 && out.headersTimeoutMs > out.requestTimeoutMs) {
    throw new CallbackHttpError(
      "ERR_ARG_TYPE",
      `${where}: option headersTimeoutMs (${out.headersTimeoutMs}) must not exceed requestTimeoutMs (${out.requestTimeoutMs}${given.has("requestTimeoutMs") ? "" : ", its default"})`,
    );
  }
  return Object.freeze(out);
}
