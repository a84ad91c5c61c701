#!/usr/bin/env node
/**
 * What uploads that stall cost the listener (docs/options.md, maxBodyBytes):
 *
 *   npm run build && node --expose-gc bench/stalled-uploads.mjs [connections] [body KiB]
 *
 * Opens a listener on 127.0.0.1 and, in the same process, `connections`
 * clients (default 200) that each announce a body of `body KiB` (default
 * 1024) and send a quarter of it and 4 KiB more, then stop. It prints the
 * process's RSS and V8's external memory before, while they wait, and after
 * they are gone (after a full GC each time). The clients' own buffers are
 * freed once written; the kernel's socket buffers are not in RSS.
 */
import { connect } from "node:net";

const { HttpListener } = await import(process.env.DIST ?? new URL("../dist/index.js", import.meta.url).href);

const connections = Number(process.argv[2] ?? 200);
const bodyBytes = Number(process.argv[3] ?? 1024) * 1024;
const sent = (bodyBytes >> 2) + 4096;
if (!globalThis.gc) throw new Error("run with node --expose-gc");

const listener = await HttpListener.open({
  callback: () => "HTTP/1.1 204 No Content\r\n\r\n",
  maxBodyBytes: Math.max(bodyBytes, 1024 * 1024),
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 60_000,
});
const MiB = 2 ** 20;
/** Two full GCs apart (V8 frees a dead Buffer's memory after the first, and counts it after), then the figures. */
const show = async (what) => {
  for (let i = 0; i < 2; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 250));
  }
  const m = process.memoryUsage();
  const open = listener.stats().connections;
  console.log(
    `${what.padEnd(44)} rss ${(m.rss / MiB).toFixed(1)} MiB, external ${(m.external / MiB).toFixed(1)} MiB, ${open} connections`,
  );
};

await show("before");
const sockets = [];
await Promise.all(
  Array.from(
    { length: connections },
    () =>
      new Promise((resolve) => {
        const socket = connect(listener.port, "127.0.0.1", () => {
          socket.write(`POST / HTTP/1.1\r\nHost: bench\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
          socket.write(Buffer.alloc(sent, 0x61), resolve);
        });
        socket.on("error", () => {});
        sockets.push(socket);
      }),
  ),
);
await new Promise((r) => setTimeout(r, 1000));
await show(`${connections} uploads stopped at ${sent >> 10} of ${bodyBytes >> 10} KiB`);
for (const socket of sockets) socket.destroy();
// The listener closes its side after its 2 s linger.
await new Promise((r) => setTimeout(r, 2500));
await show("after the clients closed");
await listener.close();
