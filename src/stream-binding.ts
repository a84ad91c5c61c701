/**
 * The parts of Node's internal `stream_wrap` binding that the listener uses to
 * drive a socket's libuv handle itself (socket-reader.ts, raw-tcp.ts), and
 * whether it may use them at all.
 *
 * None of this is a public API. Node's own net.Socket uses the same pieces:
 * a shared Int32Array where each read leaves its length (or error code) and
 * offset and each write whether it finished at once, and the request objects
 * a write or a shutdown of the handle takes. They are used only when all of
 * them are there as Node 20 to 26 have them, and not under
 * `--pending-deprecation` (which would warn about `process.binding`), under
 * the permission model (which refuses it) or with
 * `CALLBACKHTTP_STREAM_READS=1` in the environment: then every connection is
 * a plain net.Socket read through its 'data' event.
 */

/** A write or shutdown request of a stream handle; Node calls `oncomplete(status)` when an asynchronous one ends. */
export interface StreamRequest {
  oncomplete: (this: StreamRequest, status: number) => void;
  [key: string]: unknown;
}

export interface StreamBinding {
  /** Each read's length or error code, the offset of its bytes, and whether the last write went asynchronous. */
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
  readonly kLastWriteWasAsync: number;
  readonly WriteWrap: new () => StreamRequest;
  readonly ShutdownWrap: new () => StreamRequest;
}

/** Node takes the flag with dashes or underscores, on the command line or in NODE_OPTIONS. */
const PENDING_DEPRECATION = /(?:^|\s)--pending[-_]deprecation(?:=true)?(?:\s|$)/;

function pendingDeprecation(): boolean {
  return (
    process.execArgv.some((arg) => PENDING_DEPRECATION.test(arg)) ||
    PENDING_DEPRECATION.test(process.env.NODE_OPTIONS ?? "") ||
    process.env.NODE_PENDING_DEPRECATION === "1"
  );
}

function loadBinding(): StreamBinding | null {
  if (process.env.CALLBACKHTTP_STREAM_READS === "1" || pendingDeprecation()) return null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding("stream_wrap");
    if (
      b.streamBaseState instanceof Int32Array &&
      Number.isInteger(b.kReadBytesOrError) &&
      Number.isInteger(b.kArrayBufferOffset) &&
      Number.isInteger(b.kLastWriteWasAsync) &&
      typeof b.WriteWrap === "function" &&
      typeof b.ShutdownWrap === "function"
    ) {
      return b as StreamBinding;
    }
  } catch {
    // No such binding here (the permission model refuses it): net.Socket and 'data' it is.
  }
  return null;
}

/** The binding, or null when the listener must keep to Node's public socket API. */
export const streamBinding: StreamBinding | null = loadBinding();
