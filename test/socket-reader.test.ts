/**
 * How a connection receives its socket's bytes (src/socket-reader.ts), on real
 * sockets over 127.0.0.1, in both ways: straight from the socket's handle (the
 * default) and through the socket's 'data' event (the fallback).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { describe, type TestContext, test } from "node:test";
import { createServer as createTlsServer, connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { pauseReads, readInto, resumeReads } from "../src/socket-reader.js";
import { selfSigned } from "./support/self-signed.js";
import { open, until } from "./support/socket-helpers.js";

/** A server whose one accepted socket is read by readInto; what it reads is kept in order. */
async function serve(direct: boolean): Promise<{
  server: Server;
  port: number;
  accepted: Promise<{ socket: Socket; tookDirect: boolean }>;
  received: () => string;
  bytes: () => number;
}> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let accept!: (v: { socket: Socket; tookDirect: boolean }) => void;
  const accepted = new Promise<{ socket: Socket; tookDirect: boolean }>((r) => {
    accept = r;
  });
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    const tookDirect = readInto(
      socket,
      {
        handleData: (chunk) => {
          bytes += chunk.length;
          chunks.push(Buffer.from(chunk));
        },
      },
      direct,
    );
    accept({ socket, tookDirect });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return {
    server,
    port: address.port,
    accepted,
    received: () => Buffer.concat(chunks).toString("latin1"),
    bytes: () => bytes,
  };
}

/** A client connected to a served socket; both closed after the test. */
async function connected(t: TestContext, direct: boolean) {
  const s = await serve(direct);
  t.after(() => s.server.close());
  const client = await open(s.port);
  t.after(() => client.destroy());
  const { socket, tookDirect } = await s.accepted;
  return { s, client, socket, tookDirect };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const direct of [true, false]) {
  describe(direct ? "reading straight from the socket's handle" : "reading through the socket's 'data' event", () => {
    // Turned off in the environment, every socket takes the 'data' event (the rest of the suite still runs).
    const turnedOff = direct && process.env.CALLBACKHTTP_STREAM_READS === "1";
    test(direct ? "is what Node 20 and 26 sockets get" : "is what readInto does when told not to read directly", {
      skip: turnedOff,
    }, async (t) => {
      const { socket, tookDirect } = await connected(t, direct);
      assert.equal(tookDirect, direct);
      assert.equal(socket.listenerCount("data"), direct ? 0 : 1);
    });

    test("delivers every byte in order, and the end of input still ends the socket", async (t) => {
      const { s, client, socket } = await connected(t, direct);
      const ended = new Promise<void>((r) => socket.on("end", () => r()));
      let sent = "";
      for (let i = 0; i < 50; i++) {
        const piece = `piece ${i} ${"x".repeat(i * 37)}\n`;
        sent += piece;
        client.write(piece);
        if (i % 10 === 0) await sleep(2);
      }
      // Large writes too: reads that fill Node's read buffer, and reads that stop short of it.
      const block = randomBytes(4 * 1024 * 1024).toString("latin1");
      sent += block;
      client.write(block, "latin1");
      client.end();
      await ended;
      assert.equal(s.bytes(), sent.length);
      assert.ok(s.received() === sent, "the bytes read differ from the bytes sent");
    });

    test("pauseReads stops the bytes until resumeReads, and none are lost", async (t) => {
      const { s, client, socket } = await connected(t, direct);
      client.write("before;");
      await until(() => s.received() === "before;", "the first bytes");
      pauseReads(socket);
      client.write("while paused;");
      await sleep(150);
      assert.equal(s.received(), "before;");
      resumeReads(socket);
      await until(() => s.received() === "before;while paused;", "the bytes held back by the pause");
      pauseReads(socket);
      pauseReads(socket); // twice is the same as once
      resumeReads(socket);
      client.write("after;");
      await until(() => s.received() === "before;while paused;after;", "the bytes after the second pause");
    });

    test("a paused socket leaves a large upload in the kernel, not in memory", async (t) => {
      const { s, client, socket } = await connected(t, direct);
      pauseReads(socket);
      const total = 32 * 1024 * 1024;
      const block = Buffer.alloc(1024 * 1024, 0x61);
      for (let sent = 0; sent < total; sent += block.length) client.write(block);
      await sleep(300);
      // The kernel's buffers hold a few MiB at most: the client still has most of it.
      assert.equal(s.bytes(), 0, "bytes read while paused");
      assert.ok(client.writableLength > total / 2, `only ${client.writableLength} bytes left unsent`);
      resumeReads(socket);
      await until(() => s.bytes() >= total, "the whole upload after resuming", 20_000);
      assert.equal(s.bytes(), total);
    });

    test("bytes that arrived before readInto are delivered first, none lost", async (t) => {
      const chunks: Buffer[] = [];
      let tookDirect: boolean | undefined;
      const server = createServer((socket) => {
        socket.on("error", () => {});
        // The socket reads (into its stream) from the start: let bytes arrive before readInto.
        setTimeout(() => {
          tookDirect = readInto(socket, { handleData: (chunk) => chunks.push(Buffer.from(chunk)) }, direct);
        }, 100);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      t.after(() => server.close());
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      const client = await open(address.port);
      t.after(() => client.destroy());
      client.write("early;");
      await until(() => tookDirect !== undefined, "readInto");
      client.write("late;");
      await until(() => Buffer.concat(chunks).toString() === "early;late;", "both writes, in order");
      assert.equal(tookDirect, false, "a socket holding bytes keeps the 'data' event");
    });

    test("a chunk keeps its bytes after later reads of any socket (the read buffer is reused)", async (t) => {
      // Kept as delivered, not copied: a chunk that were a view of a reused
      // read buffer would change under the later reads of both connections.
      const kept = new Map<number | undefined, Buffer[]>();
      const server = createServer((socket) => {
        socket.on("error", () => {});
        const chunks: Buffer[] = [];
        kept.set(socket.remotePort, chunks);
        readInto(socket, { handleData: (chunk) => chunks.push(chunk) }, direct);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      t.after(() => server.close());
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      const a = await open(address.port);
      const b = await open(address.port);
      t.after(() => {
        a.destroy();
        b.destroy();
      });
      await until(() => kept.size === 2, "both connections accepted");
      const chunksA = kept.get(a.localPort);
      const chunksB = kept.get(b.localPort);
      assert.ok(chunksA && chunksB);
      let sentA = "";
      let sentB = "";
      for (let i = 0; i < 40; i++) {
        // Small reads (copied into Node's Buffer pool) and large ones (their own memory), taking turns.
        const pieceA = `a${i}:${"A".repeat(i % 2 === 0 ? 20 : 9000)};`;
        const pieceB = `b${i}:${"B".repeat(i % 3 === 0 ? 70000 : 15)};`;
        sentA += pieceA;
        sentB += pieceB;
        a.write(pieceA);
        await until(() => Buffer.concat(chunksA).length === sentA.length, `a's piece ${i}`);
        b.write(pieceB);
        await until(() => Buffer.concat(chunksB).length === sentB.length, `b's piece ${i}`);
      }
      assert.ok(Buffer.concat(chunksA).toString("latin1") === sentA, "a's chunks changed after they were delivered");
      assert.ok(Buffer.concat(chunksB).toString("latin1") === sentB, "b's chunks changed after they were delivered");
    });

    test("a reset by the peer still errors and closes the socket", async (t) => {
      const { s, client, socket } = await connected(t, direct);
      const closed = new Promise<boolean>((r) => socket.on("close", (hadError) => r(hadError)));
      const errored = new Promise<string>((r) => socket.on("error", (e: NodeJS.ErrnoException) => r(e.code ?? "")));
      client.write("some bytes");
      await until(() => s.received() === "some bytes", "the bytes");
      client.resetAndDestroy();
      assert.equal(await errored, "ECONNRESET");
      assert.equal(await closed, true);
    });
  });
}

describe("where the direct way is not taken", () => {
  test("a TLS socket keeps the 'data' event: a pause holds back the decrypted bytes until resumed", async (t) => {
    const { key, cert, remove } = selfSigned();
    t.after(remove);
    const got: Buffer[] = [];
    let tookDirect: boolean | undefined;
    let paused = false;
    let whilePaused = 0;
    let socket: Socket | undefined;
    const ended = new Promise<void>((resolve) => {
      const server = createTlsServer({ key, cert, allowHalfOpen: true }, (s) => {
        socket = s;
        s.on("error", () => {});
        s.on("end", () => resolve());
        // As the listener does under backpressure: pause from inside the delivery, resume later.
        tookDirect = readInto(s, {
          handleData: (chunk) => {
            got.push(Buffer.from(chunk));
            if (paused) {
              whilePaused += chunk.length;
              return;
            }
            paused = true;
            pauseReads(s);
            setTimeout(() => {
              paused = false;
              resumeReads(s);
            }, 5);
          },
        });
      });
      t.after(() => server.close());
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        assert.ok(address !== null && typeof address === "object");
        const client = tlsConnect({ port: address.port, host: "127.0.0.1", ca: cert }, () => {
          client.end(upload);
        });
        client.on("error", () => {});
        t.after(() => client.destroy());
      });
    });
    const upload = randomBytes(2 * 1024 * 1024);
    await ended;
    socket?.destroy();
    assert.equal(tookDirect, false);
    assert.equal(whilePaused, 0, "bytes delivered while paused");
    assert.ok(Buffer.concat(got).equals(upload), "the bytes read differ from the bytes sent");
  });

  test("under the permission model (process.binding refused) the 'data' event is used, and a listener serves", () => {
    const index = fileURLToPath(new URL("../src/index.js", import.meta.url));
    // The flags differ by Node version: Node 20 has --experimental-permission, Node 26 --permission and --allow-net.
    const has = (flag: string) => process.allowedNodeEnvironmentFlags.has(flag);
    const flags = [has("--permission") ? "--permission" : "--experimental-permission", "--allow-fs-read=*"];
    if (has("--allow-net")) flags.push("--allow-net");
    const script = `
      const { HttpListener } = await import(${JSON.stringify(index)});
      const { DIRECT_READS } = await import(${JSON.stringify(index.replace(/index\.js$/, "socket-reader.js"))});
      const l = await HttpListener.open({ port: 0, callback: () => "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok" });
      const res = await fetch("http://127.0.0.1:" + l.port + "/");
      console.log(DIRECT_READS, res.status, await res.text());
      await l.close();`;
    const run = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    assert.equal(run.stdout.trim(), "false 200 ok", run.stderr);
  });

  // process.binding warns under --pending-deprecation: then the listener must not touch it.
  for (const how of ["--pending-deprecation", "--pending_deprecation", "NODE_OPTIONS=--pending_deprecation"]) {
    test(`${how}: no deprecation warning, the 'data' event is used`, () => {
      const reader = fileURLToPath(new URL("../src/socket-reader.js", import.meta.url));
      const script = `import(${JSON.stringify(reader)}).then((m) => console.log(String(m.DIRECT_READS)))`;
      const viaEnv = how.startsWith("NODE_OPTIONS=");
      const args = viaEnv ? ["-e", script] : [how, "-e", script];
      const env = { ...process.env, NODE_OPTIONS: viaEnv ? how.slice("NODE_OPTIONS=".length) : "" };
      const run = spawnSync(process.execPath, args, { env, encoding: "utf8", timeout: 30_000 });
      assert.equal(run.stdout.trim(), "false");
      assert.doesNotMatch(run.stderr, /DeprecationWarning|DEP0111/);
    });
  }
});
