/**
 * A short, fixed fuzz run of the framer inside the normal test run (the long
 * one is `npm run fuzz`). Fixed seeds and counts: the same inputs every time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { escapeBytes } from "./fixtures/requests/load.js";
import { runFuzz } from "./fuzz/engine.js";

test("fuzz: 4000 mutated requests keep every framing invariant", () => {
  const report = runFuzz({ iterations: 4000, seed: 20240214 });
  const f = report.failure;
  if (f !== null) {
    assert.fail(
      `input ${f.iteration}: ${f.problem}\nlimits ${JSON.stringify(f.limits)}\ninput: ${escapeBytes(f.input, 8000)}`,
    );
  }
  assert.equal(report.iterations, 4000);
  // The run reached past the request line: requests were delivered, and every kind of ending was seen.
  assert.ok(report.requests > 500, `only ${report.requests} requests delivered`);
  const keys = Object.keys(report.outcomes);
  assert.ok(keys.includes("idle+requests"), `no input was all requests: ${keys.join(" ")}`);
  for (const end of ["partial", "400", "413", "431", "505"]) {
    assert.ok(
      keys.some((k) => k.split("+")[0] === end),
      `no input ended ${end}: ${keys.join(" ")}`,
    );
  }
});

test("fuzz: the runner is deterministic for a seed", () => {
  const a = runFuzz({ iterations: 300, seed: 7 });
  const b = runFuzz({ iterations: 300, seed: 7 });
  assert.deepEqual(a.outcomes, b.outcomes);
  assert.equal(a.requests, b.requests);
});
