/**
 * The framer against llhttp, Node's own parser (a node:http server on
 * 127.0.0.1 in strict mode, see test/differential/): on the request table's
 * cases and a fixed-seed sample of generated inputs, we never accept what
 * llhttp refuses, but for the deliberate, documented features of
 * test/differential/allow-list.ts, and when both accept, both deliver the same
 * requests with the same bodies. `node build/test/differential/run.js` runs
 * the same check at any size and prints every class.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { explain } from "./differential/allow-list.js";
import type { DiffClass } from "./differential/compare.js";
import { type DiffReport, describeFinding, type Finding, runDifferential } from "./differential/differential.js";
import { caseInputs, generatedInputs, scaleCounts } from "./differential/inputs.js";
import { type LlhttpOracle, startOracle } from "./differential/llhttp-oracle.js";

const SEED = 20260611;
/** Half the default counts of inputs.ts: about 3,900 inputs, a couple of seconds. */
const SCALE = 0.5;

let oracle: LlhttpOracle;
let report: DiffReport;

before(async () => {
  oracle = await startOracle();
  report = await runDifferential(oracle, [...caseInputs(), ...generatedInputs(SEED, scaleCounts(SCALE))]);
});

after(async () => {
  await oracle.close();
});

const of = (cls: DiffClass): Finding[] => report.findings.filter((f) => f.comparison.cls === cls);

function listing(findings: readonly Finding[]): string {
  return findings
    .slice(0, 8)
    .map((f) => `[${f.comparison.cls}] ${f.comparison.key}\n${describeFinding(f)}`)
    .join("\n\n");
}

test("the oracle answered every input, and inputs reached both agreement and refusal", (t) => {
  t.diagnostic(`node ${process.version}, llhttp ${oracle.version}, ${report.total} inputs in ${report.elapsedMs} ms`);
  t.diagnostic(
    Object.entries(report.counts)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} ${n}`)
      .join(", "),
  );
  assert.equal(of("oracle-timeout").length, 0, listing(of("oracle-timeout")));
  assert.ok(
    report.counts["both-accept-same"] > 200,
    `only ${report.counts["both-accept-same"]} inputs accepted by both`,
  );
  assert.ok(report.counts["both-reject"] > 500, `only ${report.counts["both-reject"]} inputs refused by both`);
  const requests = of("both-accept-same").reduce((n, f) => n + f.comparison.ours.requests.length, 0);
  assert.ok(requests > 300, `only ${requests} requests compared`);
});

test("when both accept, both deliver the same requests with the same heads and bodies", () => {
  const desync = [...of("boundary-desync"), ...of("head-differs")];
  assert.equal(desync.length, 0, `framed differently:\n${listing(desync)}`);
});

test("we never accept what llhttp refuses, but for the documented allow-list", async (t) => {
  const open: Finding[] = [];
  const byEntry = new Map<string, number>();
  for (const f of of("we-accept-llhttp-rejects")) {
    const { entries } = await explain(oracle, f.comparison);
    if (entries.length === 0) open.push(f);
    for (const e of entries) byEntry.set(e.name, (byEntry.get(e.name) ?? 0) + 1);
  }
  for (const [name, n] of byEntry) t.diagnostic(`allowed ${n}: ${name}`);
  assert.equal(open.length, 0, `accepted by us, refused by llhttp, not on the allow-list:\n${listing(open)}`);
});

test("llhttp ends a connection our listener keeps open only for Proxy-Connection, which we read as no field of HTTP", () => {
  // docs/rejections.md: llhttp honours the legacy `Proxy-Connection: close`; the framer leaves it to the callback.
  const differs = of("keep-alive-differs").filter(
    (f) => !/\r\nproxy-connection:/i.test(f.input.bytes.toString("latin1")),
  );
  assert.equal(differs.length, 0, listing(differs));
});
