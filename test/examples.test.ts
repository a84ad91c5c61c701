/**
 * Every example runs and prints what its header promises, so examples never rot.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

async function example(name: string): Promise<string> {
  const file = fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url));
  const { stdout } = await run(process.execPath, [file], { timeout: 15000 });
  return stdout;
}

test("examples/hello answers hello and closes", async () => {
  assert.equal(await example("hello"), '200 "hello\\n"\n1\n');
});

test("examples/graceful-shutdown finishes the in-flight request after RouteClose", async () => {
  assert.equal(
    await example("graceful-shutdown"),
    'RouteClose 1\nrunning 1 drained 0\nWaitRouteDrained 1\nin-flight answer 200 close "done\\n"\nClose 0 OpenCount 0\n',
  );
});

test("examples/rest-api creates and reads a note", async () => {
  assert.equal(await example("rest-api"), '201 {"id":1}\n200 {"id":1,"text":"raw bytes in"}\n404\n4\ntrue\n');
});
