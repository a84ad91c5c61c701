#!/usr/bin/env node
/**
 * What one thread hand-off costs, main thread to worker and back: the question
 * behind worker mode's transport (docs/workers.md, "What it costs").
 *
 *   node bench/handoff.mjs                 # 3 rounds of 40,000 round trips per way
 *   node bench/handoff.mjs --trips 10000 --rounds 1
 *
 * Two ways, alternated round by round:
 *   message  what worker mode does: the main thread posts { id, bytes } with a
 *            300-byte ArrayBuffer transferred; the worker answers with a
 *            200-byte one, transferred back; the main thread reads it from
 *            worker.on("message").
 *   shared   no message: a sequence number in a SharedArrayBuffer; the worker
 *            sleeps in Atomics.wait, the main thread in Atomics.waitAsync, each
 *            woken by Atomics.notify. No bytes move: the lower bound of any
 *            transport that must wake the other thread.
 * One round trip at a time, so every hand-off wakes a sleeping thread, as it
 * does in worker mode when the server is not saturated. Reported per round
 * trip: wall time, the main thread's CPU (from /proc, Linux only) and the
 * process's CPU (both threads); medians over rounds, and shared ÷ message.
 * No network; the workers end with the run.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";

const { values: opts } = parseArgs({
  options: {
    trips: { type: "string", default: "40000" },
    rounds: { type: "string", default: "3" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(`usage: node bench/handoff.mjs [--trips N] [--rounds N]
  --trips N   round trips per measurement (default 40000)
  --rounds N  alternating rounds of both transports (default 3)`);
  process.exit(0);
}
const TRIPS = Number(opts.trips);
const ROUNDS = Number(opts.rounds);

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
if (workerData.way === "shared") {
  const cells = new Int32Array(workerData.sab);
  for (let seen = 0; ; ) {
    Atomics.wait(cells, 0, seen);
    seen = Atomics.load(cells, 0);
    if (seen < 0) break;
    Atomics.store(cells, 1, seen);
    Atomics.notify(cells, 1);
  }
} else {
  parentPort.on("message", (m) => {
    if (m.type === "end") return parentPort.close();
    const answer = new Uint8Array(200);
    parentPort.postMessage({ type: "done", id: m.id, response: answer.buffer }, [answer.buffer]);
  });
}`;

/** CPU time of the main thread so far, in µs (utime + stime of its /proc task entry), or NaN off Linux. */
function mainThreadCpuUs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

async function viaMessages(worker) {
  let id = 0;
  await new Promise((done) => {
    const send = () => {
      const bytes = new Uint8Array(300);
      worker.postMessage({ type: "run", id: ++id, bytes: bytes.buffer }, [bytes.buffer]);
    };
    worker.on("message", () => (id >= TRIPS ? done() : send()));
    send();
  });
  worker.postMessage({ type: "end" });
}

async function viaSharedMemory(cells) {
  for (let i = 1; i <= TRIPS; i++) {
    Atomics.store(cells, 0, i);
    Atomics.notify(cells, 0);
    const wait = Atomics.waitAsync(cells, 1, i - 1);
    if (wait.async) await wait.value;
  }
  Atomics.store(cells, 0, -1);
  Atomics.notify(cells, 0);
}

async function round(way) {
  const sab = new SharedArrayBuffer(8);
  const worker = new Worker(WORKER, { eval: true, workerData: { way, sab } });
  await new Promise((ready) => worker.once("online", ready));
  const wall0 = performance.now();
  const main0 = mainThreadCpuUs();
  const cpu0 = process.cpuUsage();
  if (way === "shared") await viaSharedMemory(new Int32Array(sab));
  else await viaMessages(worker);
  const cpu = process.cpuUsage(cpu0);
  const result = {
    wallUs: ((performance.now() - wall0) * 1000) / TRIPS,
    mainCpuUs: (mainThreadCpuUs() - main0) / TRIPS,
    processCpuUs: (cpu.user + cpu.system) / TRIPS,
  };
  await new Promise((exited) => worker.once("exit", exited));
  return result;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ways = ["message", "shared"];
const results = { message: [], shared: [] };
console.log(`[handoff] node ${process.version}, ${ROUNDS} round(s) of ${TRIPS} round trips per way`);
for (let r = 0; r < ROUNDS; r++) {
  for (const way of r % 2 === 0 ? ways : [...ways].reverse()) {
    const res = await round(way);
    results[way].push(res);
    const f = (x) => x.toFixed(1).padStart(6);
    console.log(
      `[handoff] round ${r + 1} ${way.padEnd(7)} wall ${f(res.wallUs)} µs  main thread ${f(res.mainCpuUs)} µs  process ${f(res.processCpuUs)} µs`,
    );
  }
}
console.log("\nper round trip, medians   wall µs  main thread CPU µs  process CPU µs");
const summary = {};
for (const way of ways) {
  const m = (key) => median(results[way].map((x) => x[key]));
  summary[way] = { wallUs: m("wallUs"), mainCpuUs: m("mainCpuUs"), processCpuUs: m("processCpuUs") };
  const s = summary[way];
  console.log(
    `${way.padEnd(24)} ${s.wallUs.toFixed(1).padStart(8)} ${s.mainCpuUs.toFixed(1).padStart(19)} ${s.processCpuUs.toFixed(1).padStart(15)}`,
  );
}
const ratio = (key) => (summary.shared[key] / summary.message[key]).toFixed(2);
console.log(
  `shared ÷ message: wall ${ratio("wallUs")}x, main thread CPU ${ratio("mainCpuUs")}x, process CPU ${ratio("processCpuUs")}x`,
);
