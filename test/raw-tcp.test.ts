/**
 * Plain TCP connections driven on their libuv handles (src/raw-tcp.ts), on
 * real sockets over 127.0.0.1: what a RawTcpSocket reports and does, each
 * checked from the client's side; and that listeners use them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import diagnosticsChannel from "node:diagnostics_channel";
import { createServer, type Server, Socket } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { HttpListener } from "../src/index.js";
import { acceptRaw, RAW_TCP, type RawSocketSink, RawTcpSocket } from "../src/raw-tcp.js";
import { collect, open, until } from "./support/socket-helpers.js";

const turnedOff = process.env.CALLBACKHTTP_STREAM_READS === "1";

/** What a sink was told, in order. */
class Recorder implements RawSocketSink {
  readonly chunks: Buffer[] = [];
  readonly events: string[] = [];
  onData: ((chunk: Buffer) => void) | null = null;
  handleData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.onData?.(chunk);
  }
  handleEnd(): void {
    this.events.push("end");
  }
  handleDrain(): void {
    this.events.push("drain");
  }
  handleFinish(): void {
    this.events.push("finish");
  }
  handleClose(): void {
    this.events.push("close");
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

/** Count the raw sockets started from now until the test ends (every listener connection on raw handles is one). */
function countRawStarts(t: TestContext): () => number {
  const start = RawTcpSocket.prototype.start;
  let count = 0;
  RawTcpSocket.prototype.start = function (this: RawTcpSocket, sink: RawSocketSink) {
    count++;
    return start.call(this, sink);
  };
  t.after(() => {
    RawTcpSocket.prototype.start = start;
  });
  return () => count;
}

/** A server whose accepted connections are raw sockets reporting to a Recorder; one client connected. */
async function rawPair(t: TestContext) {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => server.close());
  let accepted!: (v: { socket: RawTcpSocket; sink: Recorder }) => void;
  const ready = new Promise<{ socket: RawTcpSocket; sink: Recorder }>((r) => {
    accepted = r;
  });
  assert.equal(
    acceptRaw(server, (socket) => {
      const sink = new Recorder();
      socket.start(sink);
      accepted({ socket, sink });
    }),
    true,
  );
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  const client = await open(address.port);
  t.after(() => client.destroy());
  const { socket, sink } = await ready;
  t.after(() => socket.destroy());
  return { client, socket, sink };
}

describe("raw TCP sockets", { skip: turnedOff, timeout: 60_000 }, () => {
  test("are what Node 20 and 26 allow, and what a plain TCP listener serves with", async (t) => {
    assert.equal(RAW_TCP, true);
    const started = countRawStarts(t);
    const listener = await HttpListener.open({ callback: () => "HTTP/1.1 204 No Content\r\n\r\n" });
    try {
      const res = await fetch(`http://127.0.0.1:${listener.port}/`);
      assert.equal(res.status, 204);
      assert.equal(started(), 1, "the connection was not a raw socket");
    } finally {
      await listener.close();
    }
  });

  test("give way to net.Sockets while something traces net.server.socket, and only then", async (t) => {
    const started = countRawStarts(t);
    const published: unknown[] = [];
    const onSocket = (message: unknown) => published.push(message);
    const listener = await HttpListener.open({
      callback: () => "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    });
    t.after(() => listener.close());
    const ask = async () => {
      const client = await open(listener.port);
      const reply = collect(client);
      client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await reply.closed;
      return reply.text();
    };
    diagnosticsChannel.subscribe("net.server.socket", onSocket);
    try {
      assert.match(await ask(), /^HTTP\/1\.1 204 /);
    } finally {
      diagnosticsChannel.unsubscribe("net.server.socket", onSocket);
    }
    assert.equal(published.length, 1, "the traced connection was not published");
    assert.ok((published[0] as { socket: unknown }).socket instanceof Socket, "what was published is not a net.Socket");
    assert.equal(started(), 0);
    // Nobody traces any more: the next connection is raw again.
    assert.match(await ask(), /^HTTP\/1\.1 204 /);
    assert.equal(published.length, 1);
    assert.equal(started(), 1);
    await until(() => listener.stats().connections === 0, "both connections counted closed");
  });

  test("share one maxConnections with net.Sockets accepted while traced", async (t) => {
    const listener = await HttpListener.open({
      callback: () => "HTTP/1.1 204 No Content\r\n\r\n",
      maxConnections: 2,
    });
    t.after(() => listener.close());
    const onSocket = () => {};
    const raw = await open(listener.port);
    t.after(() => raw.destroy());
    await until(() => listener.stats().connections === 1, "the raw connection");
    diagnosticsChannel.subscribe("net.server.socket", onSocket);
    t.after(() => diagnosticsChannel.unsubscribe("net.server.socket", onSocket));
    const traced = await open(listener.port);
    t.after(() => traced.destroy());
    await until(() => listener.stats().connections === 2, "the traced connection");
    // net.Server counts one connection of its own: the limit of 2 is the listener's, over both kinds.
    const third = await open(listener.port);
    const reply = collect(third);
    third.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await reply.closed;
    assert.equal(reply.text(), "");
    assert.equal(listener.stats().refusedConnections, 1);
    assert.equal(listener.stats().connections, 2);
  });

  test("read every byte in order, report the peer's FIN as end, and stay writable after it", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    const reply = collect(client);
    const block = randomBytes(3 * 1024 * 1024).toString("latin1");
    client.write("hello;");
    client.end(block, "latin1");
    await until(() => sink.events.includes("end"), "the end of input");
    assert.ok(sink.text() === `hello;${block}`, "the bytes read differ from the bytes sent");
    // Half-open: the answer still goes out after the client's FIN, and end() sends ours.
    assert.equal(socket.write(Buffer.from("bye")), true);
    socket.end();
    await reply.closed;
    assert.equal(reply.text(), "bye");
    await until(() => sink.events.includes("finish"), "finish after end()");
    assert.deepEqual(sink.events, ["end", "finish"]);
  });

  test("a write's callback comes after the bytes are out, never synchronously", async (t) => {
    const { client, socket } = await rawPair(t);
    const reply = collect(client);
    let called = false;
    socket.write(Buffer.from("one"), () => {
      called = true;
    });
    assert.equal(called, false);
    await until(() => called, "the write callback");
    await until(() => reply.text() === "one", "the bytes at the client");
    // More than the kernel's buffers hold, to a client that does not read: the callback waits for it.
    client.pause();
    let bigDone = false;
    socket.write(Buffer.alloc(16 * 1024 * 1024, 0x62), () => {
      bigDone = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bigDone, false, "the callback came while most of the bytes were still queued");
    client.resume();
    await until(() => bigDone, "the write callback once the client read", 20_000);
  });

  test("writes taken at once and writes that queue, mixed on two connections: each callback once, every byte in order", async (t) => {
    // A write the kernel takes whole leaves its request object for the next write; one that queues keeps it
    // until it is out. Mixed up, a queued write's end would be reported to the wrong socket and callback.
    const a = await rawPair(t);
    const b = await rawPair(t);
    const replyA = collect(a.client);
    b.client.pause();
    const calls = new Map<string, number>();
    const count = (name: string) => () => calls.set(name, (calls.get(name) ?? 0) + 1);
    const big = 8 * 1024 * 1024;
    a.socket.write(Buffer.from("a1;"), count("a1"));
    assert.equal(b.socket.write(Buffer.alloc(big, 0x62), count("b1")), false, "the large write did not queue");
    a.socket.write(Buffer.from("a2;"), count("a2"));
    b.socket.write(Buffer.alloc(1024, 0x63), count("b2"));
    a.socket.write(Buffer.from("a3;"), count("a3"));
    await until(() => replyA.text() === "a1;a2;a3;", "the small writes at their client");
    await until(() => ["a1", "a2", "a3"].every((n) => calls.get(n) === 1), "the small writes' callbacks");
    assert.equal(calls.get("b1"), undefined, "a queued write reported done while its client read nothing");
    let received = 0;
    let tail = "";
    b.client.on("data", (d: Buffer) => {
      received += d.length;
      tail = (tail + d.toString("latin1")).slice(-1024);
    });
    b.client.resume();
    await until(() => calls.get("b1") === 1 && calls.get("b2") === 1, "the queued writes' callbacks", 20_000);
    await until(() => received === big + 1024, "every byte of the queued writes", 20_000);
    assert.equal(tail, "c".repeat(1024), "the second write's bytes did not come last");
    a.socket.write(Buffer.from("a4;"), count("a4"));
    await until(() => replyA.text() === "a1;a2;a3;a4;", "a write after the queue emptied");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([...calls.entries()].sort(), [
      ["a1", 1],
      ["a2", 1],
      ["a3", 1],
      ["a4", 1],
      ["b1", 1],
      ["b2", 1],
    ]);
  });

  test("a client that does not read: writes queue, write() says so, and drain follows once it reads", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    client.pause();
    const block = Buffer.alloc(1024 * 1024, 0x61);
    let ok = true;
    let written = 0;
    for (let i = 0; i < 64 && ok; i++) {
      ok = socket.write(block);
      written += block.length;
    }
    assert.equal(ok, false, "write() never reported a full queue");
    assert.ok(socket.writableLength > 0);
    let received = 0;
    client.on("data", (d: Buffer) => {
      received += d.length;
    });
    client.resume();
    await until(() => sink.events.includes("drain"), "drain", 20_000);
    assert.equal(socket.writableLength, 0);
    await until(() => received === written, "every byte at the client", 20_000);
  });

  test("pauseReads holds bytes in the kernel until resumeReads, none lost", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    client.write("before;");
    await until(() => sink.text() === "before;", "the first bytes");
    socket.pauseReads();
    socket.pauseReads();
    client.write("while paused;");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sink.text(), "before;");
    socket.resumeReads();
    await until(() => sink.text() === "before;while paused;", "the bytes held back");
  });

  test("destroy closes the connection, cancels queued writes (their callbacks still run) and reports close once", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    const reply = collect(client);
    const clientPort = client.localPort;
    client.pause();
    const block = Buffer.alloc(4 * 1024 * 1024, 0x62);
    let callbacks = 0;
    socket.write(block, () => callbacks++);
    socket.write(block, () => callbacks++);
    assert.ok(socket.writableLength > 0, "nothing was left queued");
    // The peer is asked while open; it is still known after the close.
    const port = socket.remotePort;
    socket.destroy();
    socket.destroy();
    client.resume();
    await reply.closed;
    await until(() => sink.events.includes("close"), "close");
    await until(() => callbacks === 2, "both write callbacks");
    assert.deepEqual(
      sink.events.filter((e) => e === "close"),
      ["close"],
    );
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(socket.remotePort, port);
    assert.equal(port, clientPort);
    assert.equal(socket.write(Buffer.from("late")), false);
  });

  test("a reset while writes are queued closes the socket, and their callbacks still run", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    client.pause();
    let callbacks = 0;
    const block = Buffer.alloc(4 * 1024 * 1024, 0x63);
    socket.write(block, () => callbacks++);
    socket.write(block, () => callbacks++);
    assert.ok(socket.writableLength > 0, "nothing was left queued");
    client.resetAndDestroy();
    await until(() => sink.events.includes("close"), "close");
    await until(() => callbacks === 2, "both write callbacks");
    assert.equal(socket.destroyed, true);
    assert.equal(sink.events.includes("finish"), false);
  });

  test("the end of input waits while reads are paused, and comes after resumeReads", async (t) => {
    const { client, socket, sink } = await rawPair(t);
    socket.pauseReads();
    client.end("last words");
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(sink.events, []);
    assert.equal(sink.text(), "");
    socket.resumeReads();
    await until(() => sink.events.includes("end"), "the end of input");
    assert.equal(sink.text(), "last words");
  });

  test("Close closes every connection, whatever state it was in, and leaves no TCP handle behind", async (t) => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
    // Earlier tests' sockets may still be closing: count from none.
    await until(() => tcpHandles() === 0, "the earlier tests' TCP handles closed");
    const listener = await HttpListener.open({
      callback: (ref) =>
        Buffer.from(ref.value as Uint8Array).includes("GET /big")
          ? Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n"), Buffer.alloc(8388608)])
          : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    });
    t.after(() => listener.close());
    const clients = await Promise.all(Array.from({ length: 6 }, () => open(listener.port)));
    t.after(() => {
      for (const c of clients) c.destroy();
    });
    // Each client records how its connection ended; none of them closes it.
    const ended = clients.map(() => "");
    clients.forEach((c, i) => {
      c.on("end", () => {
        ended[i] ||= "end";
      });
      c.on("error", (err: NodeJS.ErrnoException) => {
        ended[i] ||= err.code ?? "error";
      });
    });
    clients[1]!.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // answered, then idle
    clients[2]!.write("GET / HTTP/1.1\r\nHo"); // a partial request
    clients[3]!.pause();
    clients[3]!.write("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"); // a large answer queued to a client that does not read
    clients[4]!.end("GET / HTTP/1.1\r\nHost: t\r\n\r\n"); // half-closed by the client
    // clients[0] and clients[5] never send anything.
    await until(() => listener.stats().requests === 3, "the three requests");
    await listener.close();
    // The listener's side of every connection is gone: each client learns it (an end, or a reset for
    // the one whose answer was cut), and its socket closes without the client having closed it.
    for (const c of clients) c.resume();
    await until(() => clients.every((c) => c.destroyed), "every connection closed by the listener", 5000);
    for (const [i, how] of ended.entries()) assert.match(how, /^(end|ECONNRESET|EPIPE)$/, `client ${i}: ${how}`);
    await until(() => tcpHandles() === 0, "every TCP handle closed", 1000);
  });

  test("a reset by the peer closes the socket without an end", async (t) => {
    const { client, sink } = await rawPair(t);
    client.write("x");
    await until(() => sink.text() === "x", "the byte");
    client.resetAndDestroy();
    await until(() => sink.events.includes("close"), "close");
    assert.equal(sink.events.includes("end"), false);
  });

  test("a chunk keeps its bytes after later reads (the read buffer is shared and reused)", async (t) => {
    const { client, sink } = await rawPair(t);
    let sent = "";
    for (let i = 0; i < 30; i++) {
      const piece = `${i}:${"z".repeat(i % 2 ? 30 : 20000)};`;
      sent += piece;
      client.write(piece);
      await until(() => Buffer.concat(sink.chunks).length === sent.length, `piece ${i}`);
    }
    assert.ok(sink.text() === sent, "a chunk changed after it was delivered");
  });
});
