/**
 * The README's TypeScript blocks run as written and print what the README
 * says they print, so the first thing a newcomer copies keeps working. Each
 * block is compiled with TypeScript's transpiler and run as a module inside
 * this package (its imports of "callbackhttp" resolve to the built package);
 * each makes a real request to the listener it opens.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url);
const readme = readFileSync(new URL("README.md", root), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** The whole output of each block, in order: a new block needs its line here. */
const expectedOutput = [
  // Quick start: the address, then the echoed request line.
  /^listening on http:\/\/127\.0\.0\.1:\d+\/hello\nGET \/hello HTTP\/1\.1\n$/,
  // HttpListener: the JSON answer, then the request count.
  /^200 \{ path: '\/items' \}\n1\n$/,
];

test("every TypeScript block of the README has its expected output here", () => {
  assert.equal(blocks.length, expectedOutput.length);
});

blocks.forEach((source, i) => {
  test(`README block ${i + 1} prints what the README says, and exits by itself`, async () => {
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dir = new URL("build/readme/", root);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`block-${i + 1}.mjs`, dir);
    writeFileSync(file, js);
    const { stdout } = await run(process.execPath, [fileURLToPath(file)], { timeout: 15000 });
    const expected = expectedOutput[i];
    assert.ok(expected, `README block ${i + 1} has no expected output in this test`);
    assert.match(stdout, expected);
  });
});
