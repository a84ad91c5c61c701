/**
 * The response keep-alive check on demand (see response-keepalive.ts):
 *
 *   npm run build:test && node build/test/differential/response-keepalive-run.js
 *     [--seed N] [--count N] [--cases-only] [--curl] [--ask-closed] [--no-back-to-back]
 *     [--minimize] [--examples N] [--all]
 *
 * Reads every hand-written response and `--count` generated ones (fixed seed)
 * with `responseKeepsAlive` for a GET, a HEAD and an HTTP/1.0 keep-alive GET,
 * and, where we keep the connection open, with Node's http client (`node`:
 * S written when the second request comes; `node-b2b`: R and S in one write,
 * unless --no-back-to-back) and curl with --curl. Prints the count per class, and per finding cause the count and
 * the shortest input (shrunk further with --minimize; N inputs with
 * --examples N). With --all the agreeing classes are listed too. Exits 1 when
 * a finding remains.
 */
import {
  CLASS_ORDER,
  describeOutcome,
  FINDINGS,
  FLAG_SETS,
  groupOutcomes,
  minimize,
  type OracleName,
  runResponseDifferential,
  startResponseOracle,
} from "./response-keepalive.js";
import { caseResponses, generatedResponses } from "./response-keepalive-inputs.js";

async function main(argv: readonly string[]): Promise<number> {
  let seed = 20260612;
  let count = 4000;
  let casesOnly = false;
  let curl = false;
  let askClosed = false;
  let noB2b = false;
  let shrink = false;
  let examples = 1;
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--seed") seed = Number(argv[++i]);
    else if (a === "--count") count = Number(argv[++i]);
    else if (a === "--cases-only") casesOnly = true;
    else if (a === "--curl") curl = true;
    else if (a === "--ask-closed") askClosed = true;
    else if (a === "--no-back-to-back") noB2b = true;
    else if (a === "--minimize") shrink = true;
    else if (a === "--examples") examples = Number(argv[++i]);
    else if (a === "--all") all = true;
    else {
      console.error(`unknown argument ${a}`);
      return 2;
    }
  }
  const inputs = [...caseResponses(), ...(casesOnly ? [] : generatedResponses(seed, count))];
  const oracle = await startResponseOracle();
  try {
    console.log(`node ${process.version}, llhttp ${process.versions.llhttp}; seed ${seed}; ${inputs.length} inputs`);
    const oracles: OracleName[] = ["node", ...(noB2b ? [] : ["node-b2b" as const]), ...(curl ? ["curl" as const] : [])];
    const report = await runResponseDifferential(oracle, inputs, { oracles, askClosed, keepAll: all });
    console.log(`${report.exchanges} exchanges in ${report.elapsedMs} ms\n`);
    console.log(
      `${"".padEnd(20)}${oracles.flatMap((o) => FLAG_SETS.map((s) => `${o} ${s.name}`.padStart(16))).join("")}`,
    );
    for (const cls of CLASS_ORDER) {
      const row = oracles.flatMap((o) => FLAG_SETS.map((s) => String(report.counts[o][s.name][cls]).padStart(16)));
      console.log(`${cls.padEnd(20)}${row.join("")}`);
    }
    let findings = 0;
    for (const [key, group] of groupOutcomes(report.outcomes)) {
      const finding = FINDINGS.has(group[0]!.judgement.cls);
      if (finding) findings += group.length;
      else if (!all || group[0]!.judgement.cause === "not asked") continue;
      console.log(`\n${finding ? "FINDING " : ""}${key} (${group.length})`);
      const shown = group.slice(0, examples);
      if (shrink && finding) shown[0] = await minimize(oracle, shown[0]!);
      for (const o of shown) console.log(describeOutcome(o));
    }
    console.log(`\n${findings} finding outcomes`);
    return findings > 0 ? 1 : 0;
  } finally {
    await oracle.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
