/**
 * How a connection receives its socket's bytes.
 *
 * Node's documented way is the socket's 'data' event: every read goes through
 * the Readable stream machinery (a push, its state checks, an emit) before it
 * reaches the framer, which takes each chunk whole and needs none of it. That
 * machinery costs about a tenth of a keep-alive request's CPU. Where the
 * socket's libuv handle allows it, the bytes are taken straight from the
 * handle's read callback instead, and reading is paused and resumed on the
 * handle: Node's own http server bypasses the stream the same way (it hands
 * the handle to its C++ parser). End of input and read errors still go through
 * the stream's own callback, so 'end', 'error' and 'close' come as before.
 *
 * Neither the handle nor the length of each read is a public API. Node calls
 * the handle's `onread` with an ArrayBuffer that can be longer than the read
 * (Node 26 leaves the rest of a nearly full read buffer in it) and puts the
 * length, and the offset, in a shared Int32Array of its `stream_wrap` binding,
 * which its own callback reads; so does this one. A direct socket's handle
 * also reads into one buffer shared by all of them (`useUserBuffer`, what
 * net.Socket's documented `onread` option uses), and each read is copied out
 * of it at once (see sharedReadBuffer). The direct way is taken
 * only when all of that is there as Node 20 to 26 have it (the binding's
 * state array and indexes, an `onread` shared by every socket,
 * `readStart`/`readStop`), on plain TCP (not TLS: see directHandle), when
 * the stream holds no bytes read before (they can only come out through
 * 'data'), and not under `--pending-deprecation` (which would warn about
 * `process.binding`) or the permission model (which refuses it); otherwise, or with
 * `CALLBACKHTTP_STREAM_READS=1` in the environment, the 'data' event is used.
 * Skipped with the stream: `socket.setTimeout()` is not refreshed by reads
 * (the listener keeps its own time-outs), and `socket.pause()` does not pause
 * a direct reader (use `pauseReads`).
 */
import type { Socket } from "node:net";

/** Where a socket's bytes go. */
export interface ChunkSink {
  handleData(chunk: Buffer): void;
}

/** The part of a libuv stream handle (a net.Socket's `_handle`) that is used here. */
interface StreamHandle {
  onread: (this: StreamHandle, data?: ArrayBuffer) => unknown;
  reading: boolean;
  readStart(): number;
  readStop(): number;
  useUserBuffer?(buffer: Uint8Array): void;
  [kSink]?: ChunkSink;
}

type HandledSocket = Socket & { _handle?: StreamHandle | null; [kSink]?: ChunkSink };

const kSink = Symbol("callbackhttp.sink");

/** Node's own read callback of stream handles, the same function for every socket (learned from the first). */
let streamOnRead: StreamHandle["onread"] | null = null;

/** Where Node leaves the length and the offset of the read it hands to `onread`. */
interface ReadState {
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
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

function loadReadState(): ReadState | null {
  if (process.env.CALLBACKHTTP_STREAM_READS === "1" || pendingDeprecation()) return null;
  try {
    const binding = (process as unknown as { binding(name: string): Partial<ReadState> }).binding("stream_wrap");
    const { streamBaseState, kReadBytesOrError, kArrayBufferOffset } = binding;
    if (
      streamBaseState instanceof Int32Array &&
      Number.isInteger(kReadBytesOrError) &&
      Number.isInteger(kArrayBufferOffset)
    ) {
      return { streamBaseState, kReadBytesOrError: kReadBytesOrError!, kArrayBufferOffset: kArrayBufferOffset! };
    }
  } catch {
    // No such binding here: the 'data' event it is.
  }
  return null;
}

const readState = loadReadState();
const readLengths = readState?.streamBaseState ?? new Int32Array(1);
const LENGTH = readState?.kReadBytesOrError ?? 0;
const OFFSET = readState?.kArrayBufferOffset ?? 0;

/** Whether readInto takes the direct way where it can (the environment can turn it off). */
export const DIRECT_READS = readState !== null;

/**
 * A read callback of the handle. Node calls it with the bytes read (in an
 * ArrayBuffer at least as long as the read, a new one each time), or with no
 * ArrayBuffer when the bytes are in the shared read buffer, or at the end of
 * the input or on an error; the length (or the error code) and the offset are
 * in its state array.
 */
function onHandleRead(this: StreamHandle, data?: ArrayBuffer): unknown {
  const length = readLengths[LENGTH]!;
  if (length <= 0) return streamOnRead!.call(this, data);
  let chunk: Buffer;
  if (data === undefined) {
    // Read into the shared buffer (useUserBuffer): copied out at once, for the next read overwrites it.
    chunk = Buffer.allocUnsafe(length);
    sharedReadBuffer.copy(chunk, 0, 0, length);
  } else {
    chunk = Buffer.from(data, readLengths[OFFSET], length);
  }
  this[kSink]!.handleData(chunk);
  return undefined;
}

/**
 * The one buffer every direct socket's handle reads into (`useUserBuffer`),
 * as large as Node's own read allocation. Node otherwise allocates 64 KiB for
 * each read, shrinks it to the bytes read and wraps it in a new ArrayBuffer,
 * which the garbage collector must then track: a few per cent of a keep-alive
 * request's CPU in our measurements (see docs/choices.md). Sharing one buffer is safe because a read is
 * handed to onHandleRead, which copies it, before the loop reads again; the
 * copy of a small read comes from Node's Buffer pool.
 */
const sharedReadBuffer = Buffer.allocUnsafeSlow(64 * 1024);

function socketOnData(this: HandledSocket, chunk: Buffer): void {
  this[kSink]!.handleData(chunk);
}

function directHandle(socket: Socket): StreamHandle | null {
  const handle = (socket as HandledSocket)._handle;
  if (
    handle == null ||
    // A TLS socket's handle decrypts every record of a TCP read, calling onread
    // for each even after readStop: only the stream holds them back while paused.
    (socket as Socket & { encrypted?: boolean }).encrypted === true ||
    typeof handle.onread !== "function" ||
    typeof handle.readStart !== "function" ||
    typeof handle.readStop !== "function"
  ) {
    return null;
  }
  if (handle.onread === onHandleRead) return handle;
  if (streamOnRead === null) streamOnRead = handle.onread;
  return handle.onread === streamOnRead ? handle : null;
}

/**
 * Send every byte `socket` reads to `sink.handleData`, from now on; straight
 * from the handle when `direct` and the handle allows it. Returns whether it did.
 */
export function readInto(socket: Socket, sink: ChunkSink, direct = DIRECT_READS): boolean {
  // Bytes the stream already holds (read before this call) come out of it only through 'data'.
  const handle = direct && readState !== null && socket.readableLength === 0 ? directHandle(socket) : null;
  if (handle === null) {
    (socket as HandledSocket)[kSink] = sink;
    socket.on("data", socketOnData);
    return false;
  }
  handle[kSink] = sink;
  handle.onread = onHandleRead;
  if (typeof handle.useUserBuffer === "function") handle.useUserBuffer(sharedReadBuffer);
  return true;
}

/** Stop reading `socket` until resumeReads (backpressure). */
export function pauseReads(socket: Socket): void {
  const handle = (socket as HandledSocket)._handle;
  if (handle == null || handle.onread !== onHandleRead) {
    socket.pause();
    return;
  }
  if (!handle.reading) return;
  handle.reading = false;
  handle.readStop();
}

/** Read `socket` again after pauseReads. */
export function resumeReads(socket: Socket): void {
  const handle = (socket as HandledSocket)._handle;
  if (handle == null || handle.onread !== onHandleRead) {
    socket.resume();
    return;
  }
  if (handle.reading) return;
  handle.reading = true;
  handle.readStart();
}
