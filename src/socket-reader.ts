/**
 * How a connection on a net.Socket receives its bytes, and the shared read
 * buffer that raw connections (raw-tcp.ts) read into as well. A listener's
 * plain TCP connections are raw ones where Node allows it; net.Socket is what
 * TLS connections, and every connection where the stream internals cannot be
 * used, are served on.
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
 * which its own callback reads; so does this one (stream-binding.ts). A
 * direct socket's handle also reads into one buffer shared by all of them
 * (`useUserBuffer`, what net.Socket's documented `onread` option uses), and
 * each read is copied out of it at once, into a chunk of its own or into the
 * request body it belongs to (see deliverRead). The direct way
 * is taken only when all of that is there as Node 20 to 26 have it (the binding's
 * state array and indexes, an `onread` shared by every socket,
 * `readStart`/`readStop`), on plain TCP (not TLS: see directHandle), when
 * the stream holds no bytes read before (they can only come out through
 * 'data'), and where stream-binding.ts allows the binding; otherwise the
 * 'data' event is used.
 * Skipped with the stream: `socket.setTimeout()` is not refreshed by reads
 * (the listener keeps its own time-outs), and `socket.pause()` does not pause
 * a direct reader (use `pauseReads`).
 */
import type { Socket } from "node:net";
import { streamBinding } from "./stream-binding.js";

/** Where a socket's bytes go. */
export interface ChunkSink {
  /**
   * Bytes read. A chunk of its own, which the sink may keep; but a read no
   * longer than `bodyRoom` comes as a view of the shared read buffer, valid
   * only during the call.
   */
  handleData(chunk: Buffer): void;
  /**
   * How many bytes the sink's next handleData copies at once into a buffer of
   * its own, keeping no reference to the chunk (RequestFramer.bodyRoom); 0 or
   * absent: none.
   */
  readonly bodyRoom?: number;
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

const readLengths = streamBinding?.streamBaseState ?? new Int32Array(1);
const LENGTH = streamBinding?.kReadBytesOrError ?? 0;
const OFFSET = streamBinding?.kArrayBufferOffset ?? 0;

/** Whether readInto takes the direct way where it can (the environment can turn it off). */
export const DIRECT_READS = streamBinding !== null;

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
  deliverRead(this[kSink]!, data, length);
  return undefined;
}

/**
 * Hand `sink` the bytes of a read of `length` > 0 that a handle's `onread`
 * was called with: in `data`, or, when it is undefined, in the shared read
 * buffer, which the next read overwrites, so they are copied out, unless they
 * all go into a request body the sink copies them into anyway (its
 * `bodyRoom`): a large upload is then copied once, not twice.
 */
export function deliverRead(sink: ChunkSink, data: ArrayBuffer | undefined, length: number): void {
  if (data !== undefined) {
    sink.handleData(Buffer.from(data, readLengths[OFFSET], length));
  } else if ((sink.bodyRoom ?? 0) >= length) {
    sink.handleData(sharedReadBuffer.subarray(0, length));
  } else {
    const chunk = Buffer.allocUnsafe(length);
    sharedReadBuffer.copy(chunk, 0, 0, length);
    sink.handleData(chunk);
  }
}

/** The length (> 0) or the error code (< 0, UV_EOF at the end of input) of the read being reported. */
export function readResult(): number {
  return readLengths[LENGTH]!;
}

/**
 * The one buffer every direct socket's handle reads into (`useUserBuffer`),
 * as large as Node's own read allocation. Node otherwise allocates 64 KiB for
 * each read, shrinks it to the bytes read and wraps it in a new ArrayBuffer,
 * which the garbage collector must then track: a few per cent of a keep-alive
 * request's CPU in our measurements (see docs/choices.md). Sharing one buffer
 * is safe because each read is copied out (deliverRead) before the loop reads
 * again, into a chunk of its own (a small one from Node's Buffer pool) or
 * into the request body it belongs to.
 */
export const sharedReadBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** The most one read delivers from a direct socket: a read that filled it may have left more in the kernel. */
export const READ_BUFFER_BYTES = sharedReadBuffer.length;

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
  const handle = direct && streamBinding !== null && socket.readableLength === 0 ? directHandle(socket) : null;
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
