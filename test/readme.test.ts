/**
 * The README's TypeScript blocks run as written, so the first thing a
 * newcomer copies keeps working. Each block is compiled with TypeScript's
 * transpiler and run as a module inside this package (its imports of
 * "callbackhttp" resolve to the built package).
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

test("the README has TypeScript examples", () => {
  assert.ok(blocks.length >= 2);
});

blocks.forEach((source, i) => {
  test(`README block ${i + 1} runs and exits by itself`, async () => {
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dir = new URL("build/readme/", root);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`block-${i + 1}.mjs`, dir);
    writeFileSync(file, js);
    const { stdout } = await run(process.execPath, [fileURLToPath(file)], { timeout: 15000 });
    assert.match(stdout, /127\.0\.0\.1:\d+|^\d+ /m);
  });
});
