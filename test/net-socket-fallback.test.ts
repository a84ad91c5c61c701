/**
 * The listener's other way of serving plain TCP: net.Socket, read through its
 * 'data' event. It is what a process gets where Node's stream internals cannot
 * be used (the permission model, `--pending-deprecation`) or with
 * `CALLBACKHTTP_STREAM_READS=1`; the rest of the suite runs on raw handles
 * (raw-tcp.ts). Here the integration tests of the lifecycle, the limits, the
 * real clients and the strict framing run again, whole, in a child process
 * with that variable set.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const FILES = ["lifecycle", "limits", "clients", "strictness-tcp", "socket-reader"];

test("with CALLBACKHTTP_STREAM_READS=1 the integration tests pass on net.Socket too", { timeout: 240_000 }, () => {
  // The variable does turn raw handles off (else this would test the raw way twice).
  const rawTcp = fileURLToPath(new URL("../src/raw-tcp.js", import.meta.url));
  const probe = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `import(${JSON.stringify(rawTcp)}).then((m) => console.log(m.RAW_TCP))`],
    { encoding: "utf8", timeout: 30_000, env: { ...process.env, CALLBACKHTTP_STREAM_READS: "1", NODE_OPTIONS: "" } },
  );
  assert.equal(probe.stdout.trim(), "false", probe.stderr);
  const files = FILES.map((name) => fileURLToPath(new URL(`./${name}.test.js`, import.meta.url)));
  // Without the runner's own marker, which would make the child report to this run instead of printing.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], {
    encoding: "utf8",
    timeout: 230_000,
    env: { ...env, CALLBACKHTTP_STREAM_READS: "1", NODE_OPTIONS: "" },
  });
  const summary = (name: string) => Number(run.stdout.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1] ?? Number.NaN);
  const failures = run.stdout
    .split("\n")
    .filter((line) => /^\s*not ok /.test(line))
    .join("\n");
  assert.equal(run.status, 0, `exit ${run.status}\n${failures}\n${run.stderr.slice(-2000)}`);
  assert.equal(summary("fail"), 0, failures);
  assert.ok(summary("pass") >= 100, `only ${summary("pass")} tests passed`);
});
