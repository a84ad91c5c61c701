/**
 * The reference's Info example, exactly: its `id=1` is the id of a process's
 * first Open (ids start at 1 and are never reused, contract section 4), so it
 * runs here, in a file of its own, which node --test runs in its own process,
 * before anything else opens a listener. `port=<auto>` on the page stands for
 * the bound port; the page wraps the output, which is one line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { callbackhttp } from "../src/index.js";
import { declareOnRequest, exampleOf, printer } from "./support/reference-examples.js";

test("Info, as the process's first Open, prints the page's line with id=1", { timeout: 5000 }, async () => {
  declareOnRequest();
  const example = exampleOf("Info");
  const { print, text } = printer();
  const lid = await example.run(print);
  assert.ok(lid !== undefined);
  const port = callbackhttp.Port(lid);
  assert.equal(await callbackhttp.Close(lid), 1);
  assert.equal(lid, 1);
  assert.equal(text(), `id=1 state=open callback=OnRequest timeout=-1 port=${port} bind=local bindCode=0 active=0\n`);
  assert.equal(text(), example.output.replace("<auto>", String(port)));
});
