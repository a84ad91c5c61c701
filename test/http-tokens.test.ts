/**
 * indexOfLF, the line finder of the framer and the response-head reader: it
 * reads the first bytes itself and hands longer lines to Buffer#indexOf, and
 * must answer exactly as Buffer#indexOf would, within `[from, end)`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { indexOfLF } from "../src/http-tokens.js";

/** Buffer#indexOf's answer, bounded by `end`. */
function reference(buf: Buffer, from: number, end: number): number {
  const at = buf.indexOf(0x0a, from);
  return at >= 0 && at < end ? at : -1;
}

test("indexOfLF finds the first LF as Buffer#indexOf does, for every position of it, near and far", () => {
  for (let lineLength = 0; lineLength <= 200; lineLength++) {
    const buf = Buffer.from(`${"x".repeat(lineLength)}\n${"y".repeat(10)}\n`, "latin1");
    for (const from of [0, 1, 47, 48, 49, lineLength, lineLength + 1]) {
      if (from > buf.length) continue;
      assert.equal(indexOfLF(buf, from), reference(buf, from, buf.length), `line ${lineLength}, from ${from}`);
    }
  }
});

test("indexOfLF never answers an LF at or past `end`", () => {
  for (const at of [5, 47, 48, 60, 500]) {
    const buf = Buffer.from(`${"x".repeat(at)}\n`, "latin1");
    assert.equal(indexOfLF(buf, 0, at), -1, `LF at ${at}, end ${at}`);
    assert.equal(indexOfLF(buf, 0, at + 1), at);
    assert.equal(indexOfLF(buf, at + 1), -1);
  }
  assert.equal(indexOfLF(Buffer.alloc(0), 0), -1);
});
