#!/usr/bin/env node
/**
 * Opens N keep-alive connections to 127.0.0.1:PORT, sends one `GET /` on each,
 * waits for every "Hello, World!" answer, then holds them all open and idle.
 * Started by bench/run.mjs (pinned to core 1) for the idle-memory measurement:
 *
 *   node bench/idle-client.mjs <port> <connections> [max seconds]
 *
 * Prints `OPEN <json {open, failed, ms}>` once all are answered and idle, and
 * `COUNT n` (connections still open) when stdin says `count`, and
 * `CLOSED` when it has closed them after stdin said `close` or closed. It ends
 * by itself after `max seconds` (default 120) whatever happens.
 */
import net from "node:net";
import { createInterface } from "node:readline";

const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const maxSeconds = Number(process.argv[4] ?? 120);
if (!Number.isInteger(port) || !Number.isInteger(total) || total < 1) {
  console.error("usage: node bench/idle-client.mjs <port> <connections> [max seconds]");
  process.exit(2);
}
setTimeout(() => {
  console.error("idle-client: time limit reached");
  process.exit(3);
}, maxSeconds * 1000).unref();

const REQUEST = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench-idle-client\r\n\r\n");
const END = "Hello, World!";
/** Connections being opened at once: enough to be quick, few enough not to overflow the listen backlog. */
const IN_FLIGHT = 200;

const sockets = [];
let started = 0;
let answered = 0;
let failed = 0;
let inFlight = 0;
const t0 = performance.now();
let reported = false;

function report() {
  if (reported || answered + failed < total) return;
  reported = true;
  const open = sockets.filter((s) => !s.destroyed).length;
  process.stdout.write(`OPEN ${JSON.stringify({ open, failed, ms: Math.round(performance.now() - t0) })}\n`);
}

function openOne() {
  started++;
  inFlight++;
  let text = "";
  let done = false;
  const finish = (ok) => {
    if (done) return;
    done = true;
    inFlight--;
    if (ok) answered++;
    else failed++;
    pump();
    report();
  };
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  sockets.push(socket);
  socket.setEncoding("latin1");
  socket.on("connect", () => socket.write(REQUEST));
  socket.on("data", (d) => {
    if (done) return;
    text += d;
    if (text.endsWith(END)) finish(true);
  });
  socket.on("error", () => finish(false));
  socket.on("close", () => finish(false));
}

function pump() {
  while (inFlight < IN_FLIGHT && started < total) openOne();
}

function closeAll() {
  for (const s of sockets) s.destroy();
  process.stdout.write("CLOSED\n");
  setTimeout(() => process.exit(0), 50);
}

pump();
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "close") closeAll();
  else if (cmd === "count") process.stdout.write(`COUNT ${sockets.filter((s) => !s.destroyed).length}\n`);
});
rl.on("close", closeAll);
