/**
 * Test support: a connected socket, what it receives, and a bounded wait for a
 * condition the event loop will make true. Shared by the lifecycle and worker
 * tests.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";

/**
 * A socket connected to 127.0.0.1:`port`. With `allowHalfOpen`, it stays open for writing after the
 * server's FIN (it never ends its side by itself).
 */
export function open(port: number, { allowHalfOpen = false } = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", allowHalfOpen }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Everything `socket` receives, a promise of its close, and whether it has closed yet. */
export function collect(socket: Socket): { text: () => string; closed: Promise<void>; isClosed: () => boolean } {
  const chunks: Buffer[] = [];
  let hasClosed = false;
  socket.on("data", (d) => chunks.push(d));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      hasClosed = true;
      resolve();
    }),
  );
  return { text: () => Buffer.concat(chunks).toString("latin1"), closed, isClosed: () => hasClosed };
}

/** Poll `condition` every 5 ms; fail naming `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
