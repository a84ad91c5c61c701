/**
 * Plain TCP connections driven on their libuv handles, without a net.Socket.
 *
 * A net.Socket is a Duplex stream: every accepted connection builds its
 * readable and writable states, an event emitter and the stream's teardown,
 * and a write goes through the Writable machinery before it reaches the
 * handle. A listener that frames its own bytes needs none of that. For a
 * connection per request (`Connection: close`) it was most of the cost: on
 * this project's 2-core test VM a bare server that answers on the raw handles
 * served about 1.6 times as many connections per second as the same server on
 * net.Socket, at 41 µs of CPU per connection against 68 (docs/choices.md).
 *
 * The listener keeps its net.Server, which binds, listens and closes the port;
 * only the server handle's `onconnection` is replaced, so an accepted handle
 * comes here instead of into a new net.Socket. A RawTcpSocket offers what the
 * connection used of the net.Socket: write (with an optional callback),
 * writableLength, end (a shutdown once the queued writes are out), destroy,
 * and the peer's address, and reports to its sink what the socket's events
 * did: data, end of input, drain and close. Reads land in the buffer shared
 * by every direct socket and are copied out of it (deliverRead in
 * socket-reader.ts).
 *
 * It relies on the internals described in stream-binding.ts, on the server's
 * `_handle` and its `onconnection`, and on the handle methods Node's net
 * module calls (readStart, writeBuffer, shutdown, close, getpeername,
 * setNoDelay, useUserBuffer, writeQueueSize). Where any of them is missing,
 * or the environment asks for Node's public API, the listener uses
 * net.Socket (socket-reader.ts); TLS connections always do.
 */
import { channel } from "node:diagnostics_channel";
import type { Server } from "node:net";
import { getSystemErrorName } from "node:util";
import { type ChunkSink, deliverRead, readResult, sharedReadBuffer } from "./socket-reader.js";
import { type StreamRequest, streamBinding } from "./stream-binding.js";

/** What a raw socket reports, in place of a net.Socket's events; bytes read go to handleData (ChunkSink). */
export interface RawSocketSink extends ChunkSink {
  /** The peer sent its FIN: no more bytes will come ('end'). The socket stays writable. */
  handleEnd(): void;
  /** Every queued write is out after a write had reported the queue full ('drain'). */
  handleDrain(): void;
  /** After end(): every queued byte is with the kernel and the FIN is sent ('finish'). */
  handleFinish(): void;
  /** The socket is closed; nothing more will be reported ('close'). */
  handleClose(): void;
}

/** The methods of Node's TCP handle (tcp_wrap) that are used here. */
interface TcpHandle {
  /** Must always hold a function: Node aborts the process on anything else. */
  onread: (this: TcpHandle, data?: ArrayBuffer) => void;
  onconnection?: (this: TcpHandle, status: number, client?: TcpHandle) => void;
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: StreamRequest, data: Uint8Array): number;
  shutdown(req: StreamRequest): number;
  close(callback: (this: TcpHandle) => void): void;
  setNoDelay(on: boolean): number;
  getpeername(out: Peer): number;
  useUserBuffer(buffer: Uint8Array): void;
  [kRawSocket]?: RawTcpSocket;
}

interface Peer {
  address?: string;
  port?: number;
}

const kRawSocket = Symbol("callbackhttp.rawSocket");

/** libuv's end-of-input code, learned from Node rather than assumed. */
const UV_EOF = (() => {
  try {
    return getSystemErrorName(-4095) === "EOF" ? -4095 : null;
  } catch {
    return null;
  }
})();

/** net.Socket's default writableHighWaterMark: past it, write() returns false and 'drain' follows. */
const WRITE_HIGH_WATER = 16 * 1024;

const HANDLE_METHODS = [
  "readStart",
  "readStop",
  "writeBuffer",
  "shutdown",
  "close",
  "setNoDelay",
  "getpeername",
  "useUserBuffer",
] as const;

function isTcpHandle(handle: unknown): handle is TcpHandle {
  if (handle === null || typeof handle !== "object") return false;
  const h = handle as Record<string, unknown>;
  return HANDLE_METHODS.every((m) => typeof h[m] === "function") && typeof h.onconnection === "function";
}

/**
 * A WriteWrap that no write has kept: Node ties a write request object to its
 * write only when the kernel cannot take all of it at once (the write goes on
 * asynchronously, and the object reports its end). A write the kernel took whole
 * leaves the object untouched, so the next write reuses it instead of making a
 * new one (making one cost ~1% of a keep-alive request's CPU). One that was
 * tied to a write, or to a failed one, is never reused: Node refuses to tie an
 * object twice.
 */
let spareWriteReq: StreamRequest | null = null;

/** Bits of RawTcpSocket.#bits. */
const PAUSED = 1;
const EOF_SEEN = 2;
const ENDED = 4;
const CLOSING = 8;
const NEEDS_DRAIN = 16;

export class RawTcpSocket {
  readonly #handle: TcpHandle;
  #sink: RawSocketSink | null = null;
  #peer: Peer | null = null;
  #bits = 0;
  /** Bytes handed to the handle so far. */
  #dispatched = 0;

  /** @internal Made by acceptRaw. */
  constructor(handle: TcpHandle) {
    this.#handle = handle;
    handle[kRawSocket] = this;
  }

  /** Report to `sink` from now on, and start reading. */
  start(sink: RawSocketSink): void {
    this.#sink = sink;
    const handle = this.#handle;
    handle.onread = rawOnRead;
    handle.useUserBuffer(sharedReadBuffer);
    const err = handle.readStart();
    if (err !== 0) this.destroy();
  }

  /** destroy() was called: nothing more is written, and handleClose follows. */
  get destroyed(): boolean {
    return (this.#bits & CLOSING) !== 0;
  }

  /** Bytes the kernel has taken so far: it grows as long as the peer reads. */
  get bytesTaken(): number {
    return this.#dispatched - this.writableLength;
  }

  /** Bytes handed to write() that the kernel has not taken yet. */
  get writableLength(): number {
    return this.#bits & CLOSING ? 0 : this.#handle.writeQueueSize;
  }

  get remoteAddress(): string | undefined {
    return this.#peername().address;
  }

  get remotePort(): number | undefined {
    return this.#peername().port;
  }

  /** Asked once, then kept: a closed handle has no peer to report (net.Socket does the same). */
  #peername(): Peer {
    if (this.#peer !== null) return this.#peer;
    if (this.#bits & CLOSING) return {};
    const out: Peer = {};
    if (this.#handle.getpeername(out) !== 0) return {};
    this.#peer = out;
    return out;
  }

  /**
   * Queue `data` after what was written before. True while the queue is under
   * 16 KiB; past it false, and handleDrain follows once it is empty.
   * `callback` runs once the bytes are written (never synchronously), or once
   * the write failed or was cancelled by destroy (`destroyed` is true then).
   */
  write(data: Buffer, callback?: () => void): boolean {
    if (this.#bits & (CLOSING | ENDED)) {
      if (callback !== undefined) process.nextTick(callback);
      return false;
    }
    const req = spareWriteReq ?? new streamBinding!.WriteWrap();
    spareWriteReq = null;
    req.oncomplete = onWriteDone;
    req.socket = this;
    req.callback = callback;
    // Kept with the request until the kernel has taken it all.
    req.buffer = data;
    const err = this.#handle.writeBuffer(req, data);
    this.#dispatched += data.length;
    if (err !== 0) {
      if (callback !== undefined) process.nextTick(callback);
      this.destroy();
      return false;
    }
    if (streamBinding!.streamBaseState[streamBinding!.kLastWriteWasAsync] === 0) {
      // The kernel took every byte at once: Node never tied the request object to a write, so the next one may use it.
      req.socket = null;
      req.callback = undefined;
      req.buffer = null;
      spareWriteReq = req;
      if (callback !== undefined) process.nextTick(callback);
      return true;
    }
    if (this.#handle.writeQueueSize < WRITE_HIGH_WATER) return true;
    this.#bits |= NEEDS_DRAIN;
    return false;
  }

  /** @internal An asynchronous write ended (status < 0: it failed or was cancelled). */
  writeDone(status: number): void {
    if (status < 0) {
      this.destroy();
      return;
    }
    if (this.#bits & NEEDS_DRAIN && !(this.#bits & CLOSING) && this.#handle.writeQueueSize === 0) {
      this.#bits &= ~NEEDS_DRAIN;
      this.#sink?.handleDrain();
    }
  }

  /** Send a FIN once every queued write is out (the socket still reads); handleFinish follows. */
  end(): void {
    if (this.#bits & (CLOSING | ENDED)) return;
    this.#bits |= ENDED;
    const req = new streamBinding!.ShutdownWrap();
    req.oncomplete = onShutdownDone;
    req.socket = this;
    // Node's net treats ENOTCONN here as done; on a TCP connection it comes only after a read error, which
    // destroys the socket first, so any error is taken as the end of the connection.
    if (this.#handle.shutdown(req) !== 0) this.destroy();
  }

  /** @internal The shutdown ended: every write before it is out (status < 0: it failed or was cancelled). */
  shutdownDone(status: number): void {
    if (status < 0) this.destroy();
    else if (!(this.#bits & CLOSING)) this.#sink?.handleFinish();
  }

  /** Close at once: queued writes are dropped; handleClose follows. */
  destroy(): void {
    if (this.#bits & CLOSING) return;
    this.#bits |= CLOSING;
    this.#handle.close(rawOnClose);
  }

  /** Stop reading until resumeReads (backpressure). */
  pauseReads(): void {
    if (this.#bits & (PAUSED | CLOSING | EOF_SEEN)) return;
    this.#bits |= PAUSED;
    this.#handle.readStop();
  }

  resumeReads(): void {
    if (!(this.#bits & PAUSED)) return;
    this.#bits &= ~PAUSED;
    if (this.#bits & (CLOSING | EOF_SEEN)) return;
    if (this.#handle.readStart() !== 0) this.destroy();
  }

  /** @internal The handle read `result` bytes (> 0), reached the end of input, or failed. */
  readDone(data: ArrayBuffer | undefined, result: number): void {
    if (this.#bits & CLOSING) return;
    if (result > 0) {
      deliverRead(this.#sink!, data, result);
      return;
    }
    if (result === 0) return;
    this.#bits |= EOF_SEEN;
    this.#handle.readStop();
    if (result === UV_EOF) this.#sink!.handleEnd();
    else this.destroy(); // a reset or another read error
  }

  /** @internal */
  closed(): void {
    const sink = this.#sink;
    this.#sink = null;
    sink?.handleClose();
  }
}

function rawOnRead(this: TcpHandle, data?: ArrayBuffer): void {
  this[kRawSocket]!.readDone(data, readResult());
}

function rawOnClose(this: TcpHandle): void {
  this[kRawSocket]!.closed();
}

function onWriteDone(this: StreamRequest, status: number): void {
  const socket = this.socket as RawTcpSocket;
  const callback = this.callback as (() => void) | undefined;
  this.buffer = null;
  socket.writeDone(status);
  callback?.();
}

function onShutdownDone(this: StreamRequest, status: number): void {
  (this.socket as RawTcpSocket).shutdownDone(status);
}

/** Where net.Server announces each net.Socket it makes for an accepted connection. */
const serverSocketChannel = channel("net.server.socket");

/** Whether raw connections can be used in this process (see stream-binding.ts). */
export const RAW_TCP: boolean = streamBinding !== null && UV_EOF !== null;

/**
 * From now on, hand every connection `server` accepts to `onSocket` as a
 * RawTcpSocket (with Nagle's algorithm off, as net.Server's `noDelay` did),
 * instead of making it a net.Socket: call it once `server` listens. A failed
 * accept (too many open files, say) is dropped, as net.Server's would be by an
 * 'error' listener that ignores it. While something subscribes to the
 * `net.server.socket` diagnostics channel, connections are accepted by
 * net.Server as before (a net.Socket each, published and emitted as
 * 'connection'), so that tools tracing connections that way still see them.
 * False, and nothing changed, when raw connections cannot be used here.
 */
export function acceptRaw(server: Server, onSocket: (socket: RawTcpSocket) => void): boolean {
  const handle = (server as Server & { _handle?: unknown })._handle;
  if (!RAW_TCP || !isTcpHandle(handle)) return false;
  const netAccept = handle.onconnection!;
  handle.onconnection = function (this: TcpHandle, status, client) {
    // Something traces the net.Sockets servers accept (an APM, a diagnostics tool): this connection
    // becomes one, through net.Server's own accept, which publishes it and emits 'connection'.
    if (serverSocketChannel.hasSubscribers) {
      netAccept.call(this, status, client);
      return;
    }
    if (status !== 0 || client === undefined) return;
    client.setNoDelay(true);
    onSocket(new RawTcpSocket(client));
  };
  return true;
}
