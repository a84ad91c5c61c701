/**
 * The differential check on demand:
 *
 *   npm run build:test && node build/test/differential/run.js [--seed N] [--scale F]
 *     [--cases-only] [--minimize CLASS,...] [--examples N] [--all] [--json FILE]
 *
 * Frames the request table's cases and fast-check inputs (fixed seed, counts in
 * inputs.ts times --scale) with our framer and with llhttp (a node:http server
 * on 127.0.0.1), and prints the count per class and, per cause within a class,
 * the count and the shortest input (shrunk further for the classes given to --minimize, with
 * up to N-1 more inputs of the group when --examples N). Classes
 * that agree are listed by count only unless --all. Exits 1 when an input is
 * accepted by us and refused by llhttp, or framed to different boundaries,
 * outside the allow-list of allow-list.ts.
 */
import { writeFileSync } from "node:fs";
import { escapeBytes } from "../fixtures/requests/load.js";
import { type Explanation, explain } from "./allow-list.js";
import { CLASS_ORDER, type DiffClass } from "./compare.js";
import { compareOne, describeFinding, type Finding, minimize, runDifferential } from "./differential.js";
import { caseInputs, generatedInputs, scaleCounts } from "./inputs.js";
import { startOracle } from "./llhttp-oracle.js";

const QUIET: ReadonlySet<DiffClass> = new Set([
  "both-accept-same",
  "both-reject",
  "same-until-close",
  "same-until-tunnel",
]);
const VIOLATIONS: ReadonlySet<DiffClass> = new Set([
  "boundary-desync",
  "we-accept-llhttp-rejects",
  "head-differs",
  "oracle-timeout",
]);

async function main(argv: readonly string[]): Promise<number> {
  let seed = 20260611;
  let scale = 1;
  let casesOnly = false;
  let shrink: DiffClass[] = [];
  let all = false;
  let examples = 1;
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--seed") seed = Number(argv[++i]);
    else if (a === "--scale") scale = Number(argv[++i]);
    else if (a === "--cases-only") casesOnly = true;
    else if (a === "--minimize") shrink = (argv[++i] ?? "").split(",") as DiffClass[];
    else if (a === "--all") all = true;
    else if (a === "--examples") examples = Number(argv[++i]);
    else if (a === "--json") json = argv[++i] ?? null;
    else {
      console.error(`unknown argument ${a}`);
      return 2;
    }
  }
  const inputs = [...caseInputs(), ...(casesOnly ? [] : generatedInputs(seed, scaleCounts(scale)))];
  const oracle = await startOracle();
  try {
    console.log(`node ${process.version}, llhttp ${oracle.version}; seed ${seed}; ${inputs.length} inputs`);
    const report = await runDifferential(oracle, inputs);
    console.log(`done in ${report.elapsedMs} ms\n`);
    for (const cls of CLASS_ORDER)
      if (report.counts[cls] > 0) console.log(`${String(report.counts[cls]).padStart(6)}  ${cls}`);
    // Every input of a violating class is checked against the allow-list.
    const explained = new Map<Finding, Explanation>();
    for (const f of report.findings) {
      if (VIOLATIONS.has(f.comparison.cls)) explained.set(f, await explain(oracle, f.comparison));
    }
    let violations = 0;
    const allowedBy = new Map<string, number>();
    for (const [, e] of explained) {
      if (e.entries.length === 0) violations++;
      for (const entry of e.entries) allowedBy.set(entry.name, (allowedBy.get(entry.name) ?? 0) + 1);
    }
    console.log("\nallowed (deliberate, see allow-list.ts):");
    for (const [name, count] of allowedBy) console.log(`${String(count).padStart(6)}  ${name}`);
    for (const g of report.groups) {
      const members = VIOLATIONS.has(g.cls)
        ? report.findings.filter((f) => f.comparison.cls === g.cls && f.comparison.key === g.key)
        : [];
      const open = members.filter((f) => explained.get(f)!.entries.length === 0).length;
      const names = [...new Set(members.flatMap((f) => explained.get(f)!.entries.map((e) => e.name)))];
      if (QUIET.has(g.cls) && !all) continue;
      const note = VIOLATIONS.has(g.cls)
        ? `\n  allowed: ${members.length - open} (${names.join("; ") || "-"}); NOT explained: ${open}`
        : "";
      console.log(`\n[${g.cls}] ×${g.count}  ${g.key}${note}`);
      console.log(describeFinding(g.example));
      if (shrink.includes(g.cls) && !(g.cls === "we-wait-llhttp-rejects" && !g.key.endsWith("unresolved"))) {
        // Shrink the shortest input and up to `examples - 1` others of the group; print each distinct result.
        const members = report.findings.filter((f) => f.comparison.cls === g.cls && f.comparison.key === g.key);
        const chosen = [g.example, ...members.filter((f) => f !== g.example).slice(0, Math.max(0, examples - 1))];
        const seen = new Set<string>();
        for (const f of chosen) {
          const small = await minimize(oracle, f.input.bytes, f.comparison);
          const text = escapeBytes(small, 600);
          if (seen.has(text)) continue;
          seen.add(text);
          const again = await compareOne(oracle, small);
          console.log(`  minimized (${small.length} bytes): ${text}`);
          if (again.detail !== "") console.log(`    detail: ${again.detail}`);
        }
      }
    }
    if (json !== null) {
      writeFileSync(
        json,
        JSON.stringify(
          {
            node: process.version,
            llhttp: oracle.version,
            seed,
            counts: report.counts,
            groups: report.groups.map((g) => ({
              cls: g.cls,
              key: g.key,
              count: g.count,
              input: escapeBytes(g.example.input.bytes, 100000),
              id: g.example.input.id,
              detail: g.example.comparison.detail,
            })),
          },
          null,
          2,
        ),
      );
    }
    console.log(`\n${violations} input(s) in violating classes outside the allow-list`);
    return violations === 0 ? 0 : 1;
  } finally {
    await oracle.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
