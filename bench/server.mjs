#!/usr/bin/env node
/**
 * One benchmark server, started by bench/run.mjs (pinned with taskset):
 *
 *   node --expose-gc bench/server.mjs <lib|http|fastify> [--keep-alive-ms N]
 *
 * Every server answers every request to 127.0.0.1 with 200 "Hello, World!"
 * (text/plain, Content-Length, Date) after the whole request, body included,
 * has been received. It prints `READY <port>` on stdout once listening, and
 * reads commands from stdin, one a line:
 *   gc     - run two full garbage collections, answer `GC <json of process.memoryUsage()>`
 *   gc-reduce - run one memory-reducing full collection (V8's "last resort"
 *            flavour, the one it runs under memory pressure: it also gives
 *            back the young generation a burst of allocation has grown),
 *            answer `GC <json>` likewise
 *   stats  - answer `STATS <json>` (the library's counters; {} for the others)
 * It exits when stdin closes (its parent died) or on SIGTERM/SIGINT.
 */
import http from "node:http";
import { createInterface } from "node:readline";

const kind = process.argv[2];
const kaIndex = process.argv.indexOf("--keep-alive-ms");
/** undefined: each server's own default (5 s for the library and node:http, 72 s for fastify). */
const keepAliveMs = kaIndex > 0 ? Number(process.argv[kaIndex + 1]) : undefined;

const BODY = "Hello, World!";
const HOST = "127.0.0.1";

// node:http caches its Date header per second; the library's callback does the same.
let date = new Date().toUTCString();
setInterval(() => {
  date = new Date().toUTCString();
}, 1000).unref();

let stats = () => ({});
let stop = async () => {};

async function startLib() {
  const { HttpListener } = await import("../dist/index.js");
  // The callback builds the whole raw response per request. It asks the context
  // whether the connection ends after this response (the request said
  // `Connection: close`, or HTTP/1.0 without keep-alive) and says
  // `Connection: close` then, as RFC 9112 9.6 asks; the framer has already
  // read the request's Connection header, so the callback need not scan it again.
  const hello = (_ref, context) =>
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n" +
    `Date: ${date}\r\n${context.willClose ? "Connection: close\r\n" : ""}\r\n${BODY}`;
  // Every feature on: default limits (header/body sizes, headers/request/keep-alive
  // time-outs), the counters (always on), and a callback time limit of 30 s.
  const options = { callback: hello, port: 0, timeoutMs: 30000 };
  if (keepAliveMs !== undefined) options.keepAliveTimeoutMs = keepAliveMs;
  const listener = await HttpListener.open(options);
  stats = () => listener.stats();
  stop = () => listener.close();
  return listener.port;
}

async function startHttp() {
  const headers = { "Content-Type": "text/plain", "Content-Length": "13" };
  const server = http.createServer((req, res) => {
    // The same work as the library's callback: the whole body is received before the answer.
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, headers);
      res.end(BODY);
    });
  });
  if (keepAliveMs !== undefined) server.keepAliveTimeout = keepAliveMs;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  stop = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return server.address().port;
}

async function startFastify() {
  const { default: Fastify } = await import("fastify");
  const opts = { logger: false };
  if (keepAliveMs !== undefined) opts.keepAliveTimeout = keepAliveMs;
  const app = Fastify(opts);
  // Bodies arrive as application/octet-stream; fastify reads them whole into a Buffer.
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  const handler = async (_req, reply) => {
    reply.type("text/plain");
    return BODY;
  };
  app.get("/", handler);
  app.post("/", handler);
  await app.listen({ port: 0, host: HOST });
  stop = () => app.close();
  return app.server.address().port;
}

const starters = { lib: startLib, http: startHttp, fastify: startFastify };
if (!starters[kind]) {
  console.error(`usage: node bench/server.mjs <${Object.keys(starters).join("|")}> [--keep-alive-ms N]`);
  process.exit(2);
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(code), 3000);
  force.unref();
  try {
    await stop();
  } finally {
    process.exit(code);
  }
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

const port = await starters[kind]();
process.stdout.write(`READY ${port}\n`);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "gc") {
    if (typeof globalThis.gc === "function") {
      globalThis.gc();
      globalThis.gc();
    }
    process.stdout.write(`GC ${JSON.stringify(process.memoryUsage())}\n`);
  } else if (cmd === "gc-reduce") {
    if (typeof globalThis.gc === "function") {
      globalThis.gc({ type: "major", execution: "sync", flavor: "last-resort" });
    }
    process.stdout.write(`GC ${JSON.stringify(process.memoryUsage())}\n`);
  } else if (cmd === "stats") {
    process.stdout.write(`STATS ${JSON.stringify(stats())}\n`);
  }
});
rl.on("close", () => shutdown(0));
