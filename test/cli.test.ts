/**
 * The command, spawned as a user runs it: the readiness line with the bound
 * port, the demo's routes, and the two-step shutdown on SIGTERM.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { selfSigned } from "./support/self-signed.js";

const CLI = fileURLToPath(new URL("../src/cli.js", import.meta.url));

async function start(args: string[]): Promise<{ child: ChildProcess; base: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  let out = "";
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness line; stderr: ${err}`)), 5000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening (https?:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", () => reject(new Error(`exited early; stderr: ${err}`)));
  });
  return { child, base, stderr: () => err };
}

/** Resolves once the child's callback has said "started" on stdout (the fixtures' Slow and Hang do). */
function saysStarted(child: ChildProcess): Promise<void> {
  let out = "";
  return new Promise<void>((resolve) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("started\n")) resolve();
    });
  });
}

test("demo: prints the bound port, serves its routes, and drains on SIGTERM with exit code 0", async () => {
  const { child, base, stderr } = await start(["demo", "--port", "0"]);
  try {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /callbackhttp demo/);
    const status = (await (await fetch(`${base}/api/status`)).json()) as { info: string; draining: boolean };
    assert.match(status.info, /state=open/);
    assert.equal(status.draining, false);
    const echo = await (await fetch(`${base}/echo`, { method: "POST", body: "raw!" })).text();
    assert.match(echo, /^POST \/echo HTTP\/1\.1\r\n/);
    assert.ok(echo.endsWith("\r\n\r\nraw!"));
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  assert.match(stderr(), /SIGTERM, draining/);
});

test("serve: a request in flight at SIGTERM is answered before the process exits 0", async (t) => {
  const module = fileURLToPath(new URL("./fixtures/cli-handlers.js", import.meta.url));
  const { child, base, stderr } = await start(["serve", "--module", module, "--callback", "Slow", "--port", "0"]);
  t.after(() => child.kill("SIGKILL"));
  const started = saysStarted(child);
  const answer = fetch(`${base}/slow?ms=400`).then(async (r) => ({ status: r.status, body: await r.text() }));
  await started;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  // The answer comes after the signal: the process drained instead of exiting at once.
  assert.deepEqual(await answer, { status: 200, body: "slow done" });
  const [code] = await exited;
  assert.equal(code, 0);
  assert.match(stderr(), /SIGTERM, draining/);
});

test("a usage error exits 2 with the help text", async () => {
  const child = spawn(process.execPath, [CLI, "demo", "--port", "eighty"], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const [code] = await once(child, "exit");
  assert.equal(code, 2);
  assert.match(err, /--port needs an integer/);
  assert.match(err, /Usage:/);
});

test("a port in use exits 1 naming ERR_BIND and EADDRINUSE", async () => {
  const { child, base } = await start(["demo", "--port", "0"]);
  const port = new URL(base).port;
  const second = spawn(process.execPath, [CLI, "demo", "--port", port], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  second.stderr.on("data", (d) => (err += d));
  const [code] = await once(second, "exit");
  child.kill("SIGTERM");
  await once(child, "exit");
  assert.equal(code, 1);
  assert.match(err, /ERR_BIND.*EADDRINUSE/);
});

/** Runs the command to its end; its exit code and stderr. */
async function run(args: string[]): Promise<{ code: number; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const [code] = await once(child, "exit");
  return { code: code as number, err };
}

test("a negative number after an option is its value: --timeout -1 starts the server", async () => {
  const { child, base } = await start(["demo", "--port", "0", "--timeout", "-1", "--drain-timeout", "-1"]);
  try {
    assert.equal((await fetch(`${base}/`)).status, 200);
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
});

test("values the listener refuses are usage errors: exit 2, naming the value", async () => {
  const port = await run(["demo", "--port", "70000"]);
  assert.equal(port.code, 2);
  assert.match(port.err, /ERR_PORT_RANGE: callbackhttp\.Open: --port 70000 is outside 0\.\.65535/);
  assert.match(port.err, /Usage:/);
  const timeout = await run(["demo", "--port", "0", "--timeout", "-5"]);
  assert.equal(timeout.code, 2);
  assert.match(timeout.err, /ERR_TIMEOUT_RANGE: .*-5/);
  // Checked at start, not when the first signal comes and the drain begins.
  const drain = await run(["demo", "--port", "0", "--drain-timeout", "-5"]);
  assert.equal(drain.code, 2);
  assert.match(drain.err, /--drain-timeout: .*timeoutMs -5 is neither -1 nor within 0\.\.2147483647/);
});

test("the limit flags set the listener's options: the client sees them, and refused values exit 2", async () => {
  const { child, base } = await start([
    "demo",
    "--port",
    "0",
    "--max-body-bytes",
    "8",
    "--max-requests-per-connection",
    "1",
    "--request-timeout",
    "1000",
  ]);
  try {
    const big = await fetch(`${base}/echo`, { method: "POST", body: "123456789" });
    assert.equal(big.status, 413, "a 9-byte body over --max-body-bytes 8");
    const fits = await fetch(`${base}/echo`, { method: "POST", body: "12345678" });
    assert.equal(fits.status, 200);
    assert.equal(fits.headers.get("connection"), "close", "one request per connection");
    await fits.arrayBuffer();
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await once(child, "exit"))[0], 0);
  const negative = await run(["demo", "--port", "0", "--close-timeout", "-1"]);
  assert.equal(negative.code, 2);
  assert.match(negative.err, /--close-timeout must be an integer in 0\.\.2147483647, got -1/, "named by its flag");
  const notInteger = await run(["demo", "--port", "0", "--max-connections", "ten"]);
  assert.equal(notInteger.code, 2);
  assert.match(notInteger.err, /--max-connections needs an integer, got "ten"/);
  const noWorkers = await run(["demo", "--port", "0", "--worker-start-timeout", "5000"]);
  assert.equal(noWorkers.code, 2);
  assert.match(noWorkers.err, /demo takes no .*--worker-start-timeout/);
  const inverted = await run(["demo", "--port", "0", "--headers-timeout", "5000", "--request-timeout", "1000"]);
  assert.equal(inverted.code, 2);
  assert.match(inverted.err, /--headers-timeout \(5000\) must not exceed --request-timeout \(1000\)\n/);
  const alone = await run(["demo", "--port", "0", "--headers-timeout", "400000"]);
  assert.equal(alone.code, 2);
  assert.match(alone.err, /--headers-timeout \(400000\) must not exceed --request-timeout \(300000, its default\)/);
  const huge = await run(["demo", "--port", "0", "--max-body-bytes", "99999999999999999999"]);
  assert.equal(huge.code, 2);
  assert.match(huge.err, /--max-body-bytes needs an integer, got "99999999999999999999"/, "the value as typed");
});

test("--tls-cert and --tls-key: it speaks HTTPS and says so; one without the other, or a bad file, exits 2", async (t) => {
  const { key, cert, remove } = selfSigned();
  t.after(remove);
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-cli-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(certFile, cert);
  writeFileSync(keyFile, key);
  const { child, base } = await start(["demo", "--port", "0", "--tls-cert", certFile, "--tls-key", keyFile]);
  try {
    assert.match(base, /^https:\/\//);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${base}/api/status`, { ca: cert, agent: false }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    assert.match(body, /"listener":\d+/);
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await once(child, "exit"))[0], 0);
  const alone = await run(["demo", "--port", "0", "--tls-cert", certFile]);
  assert.equal(alone.code, 2);
  assert.match(alone.err, /--tls-cert and --tls-key go together/);
  const swapped = await run(["demo", "--port", "0", "--tls-cert", keyFile, "--tls-key", certFile]);
  assert.equal(swapped.code, 2);
  assert.match(
    swapped.err,
    /ERR_ARG_TYPE: callbackhttp\.Open: option tls was refused by node:tls: .*\(--tls-cert .*key\.pem, --tls-key .*cert\.pem\)/,
  );
  const missing = await run(["demo", "--port", "0", "--tls-cert", join(dir, "none.pem"), "--tls-key", keyFile]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read the TLS files: ENOENT/);
});

test("a second signal closes and exits 1, even with a callback that never ends and keeps a timer", {
  timeout: 30_000,
}, async (t) => {
  const module = fileURLToPath(new URL("./fixtures/cli-handlers.js", import.meta.url));
  const { child, base } = await start(["serve", "--module", module, "--callback", "Hang", "--port", "0"]);
  t.after(() => child.kill("SIGKILL"));
  const started = saysStarted(child);
  const reply = fetch(`${base}/`).then(
    (r) => r.status,
    () => 0,
  );
  await started;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill("SIGTERM");
  // Close gives the callback its closeTimeoutMs (5 s), abandons it, and the process ends there.
  const [code] = await exited;
  assert.equal(code, 1);
  assert.equal(await reply, 0, "the abandoned request got no answer");
});

test("--workers -1 is a usage error, not the main thread", async () => {
  const module = fileURLToPath(new URL("./fixtures/cli-handlers.js", import.meta.url));
  const result = await run(["serve", "--module", module, "--callback", "Slow", "--port", "0", "--workers", "-1"]);
  assert.equal(result.code, 2);
  assert.match(result.err, /--workers is 0 \(the main thread\) or more, got -1/);
});

test("a --callback name no listener takes is a usage error, with workers or without", async () => {
  const module = fileURLToPath(new URL("./fixtures/cli-handlers.js", import.meta.url));
  for (const extra of [[], ["--workers", "1"]]) {
    const result = await run(["serve", "--module", module, "--callback", "a b", "--port", "0", ...extra]);
    assert.equal(result.code, 2, `${extra.join(" ")}: ${result.err}`);
    assert.match(result.err, /--callback must be a name without whitespace or "=", got "a b"/);
  }
});

test("--timeout and --port are checked as flags, before the module runs any code", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, "ran");
  const module = join(dir, "side-effect.mjs");
  writeFileSync(
    module,
    `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport function OnRequest() { return 1; }\n`,
  );
  const timeout = await run(["demo", "--port", "0", "--timeout", "-5"]);
  assert.equal(timeout.code, 2);
  assert.match(timeout.err, /--timeout -5 is neither -1 nor within 0\.\.2147483647/);
  const port = await run(["serve", "--module", module, "--callback", "OnRequest", "--port", "70000"]);
  assert.equal(port.code, 2);
  assert.match(port.err, /--port 70000 is outside 0\.\.65535/);
  const limit = await run(["serve", "--module", module, "--callback", "OnRequest", "--max-header-bytes", "1"]);
  assert.equal(limit.code, 2);
  assert.throws(() => readFileSync(marker), { code: "ENOENT" }, "the module was not imported");
});

test("a module that cannot be loaded is named, with what it threw and where", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "callbackhttp-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, "broken.mjs");
  writeFileSync(broken, "export function OnRequest() {\n  return (1;\n}\n");
  const syntax = await run(["serve", "--module", broken, "--callback", "OnRequest", "--port", "0"]);
  assert.equal(syntax.code, 1);
  assert.ok(syntax.err.startsWith(`callbackhttp: cannot load --module ${broken}: SyntaxError: `), syntax.err);
  const throwing = join(dir, "throwing.mjs");
  writeFileSync(throwing, "\nthrow new Error('not today');\nexport function OnRequest() {}\n");
  const thrown = await run(["serve", "--module", throwing, "--callback", "OnRequest", "--port", "0"]);
  assert.equal(thrown.code, 1);
  assert.ok(thrown.err.startsWith(`callbackhttp: cannot load --module ${throwing}: Error: not today`), thrown.err);
  assert.ok(thrown.err.includes(`throwing.mjs:2`), `the module's line in its stack: ${thrown.err}`);
});
