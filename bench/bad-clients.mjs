#!/usr/bin/env node
/**
 * Bad clients against the library, and what the listener still holds once
 * they have gone:
 *
 *   npm run build && node bench/bad-clients.mjs [seconds=2] [kind]
 *
 * Eight clients in a loop, each connection one of: 200 random bytes then the
 * FIN (garbage), half a request head left hanging, a 100 KB upload stopped
 * at 30 KB, a malformed request in the middle of a pipelined batch, and a
 * request with both Content-Length and Transfer-Encoding. Each client gives
 * up on a connection after 300 ms. Only 127.0.0.1; the listener runs in this
 * process. It prints how many connections of each kind were made, then the
 * listener's connection count and this process's open descriptors right
 * after the last client closed, and again 0.5 s and 2.5 s later (past the
 * 2 s linger). With a `kind` (garbage, partial, aborted, badPipelined,
 * smuggle) only that one runs.
 */
import { readdirSync } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

// DIST=<path to another build's index.js> measures that build instead (to compare two versions).
const { HttpListener } = await import(process.env.DIST ?? new URL("../dist/index.js", import.meta.url).href);

if (process.argv[2] === "--help" || process.argv[2] === "-h") {
  console.log(`usage: node bench/bad-clients.mjs [seconds=2] [kind]
  kind: garbage, partial, aborted, badPipelined or smuggle (default: all of them)
  DIST=<path to another build's index.js> measures that build instead`);
  process.exit(0);
}
const seconds = Number(process.argv[2] ?? 2);
const only = process.argv[3];
if (!Number.isFinite(seconds) || seconds <= 0)
  throw new Error(`seconds must be a positive number, got ${process.argv[2]}`);
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

const random = (n) => Buffer.from(Array.from({ length: n }, () => (Math.random() * 256) | 0));
const kinds = {
  garbage: (s) => s.end(random(200)),
  partial: (s) => s.write("GET / HTTP/1.1\r\nHost: x\r\nX-A: b"),
  aborted: (s) => {
    s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    s.write(random(30000));
    setTimeout(() => s.destroy(), 20);
  },
  badPipelined: (s) => s.write(`${GET.repeat(5)}GET / HTTP/1.1\r\nHost x\r\n\r\n${GET.repeat(5)}`),
  smuggle: (s) =>
    s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
};
const names = only ? [only] : Object.keys(kinds);
if (names.some((n) => !(n in kinds))) throw new Error(`unknown kind ${only}; one of ${Object.keys(kinds).join(", ")}`);

const listener = await HttpListener.open({ callback: () => OK, port: 0 });
const fds = () => readdirSync("/proc/self/fd").length;
const baseline = fds();
const counts = Object.fromEntries(names.map((n) => [n, 0]));

function connect(kind) {
  return new Promise((resolve) => {
    const s = net.connect(listener.port, "127.0.0.1", () => kinds[kind](s));
    s.on("error", () => {});
    s.on("data", () => {});
    s.on("close", resolve);
    setTimeout(() => s.destroy(), 300);
  });
}

const end = Date.now() + seconds * 1000;
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (Date.now() < end) {
      const kind = names[next++ % names.length];
      await connect(kind);
      counts[kind]++;
    }
  }),
);
const held = () => `connections ${listener.stats().connections}, descriptors ${fds() - baseline} above the start`;
console.log(`made: ${JSON.stringify(counts)}`);
console.log(`right after: ${held()}`);
await sleep(500);
console.log(`0.5 s later: ${held()}`);
await sleep(2000);
console.log(`2.5 s later: ${held()}`);
await listener.close();
