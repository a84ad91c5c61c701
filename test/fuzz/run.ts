/**
 * The long fuzz run, on demand: `npm run fuzz -- [COUNT | SECONDSs] [--seed N]`.
 * COUNT inputs (default 200000), or as many as fit in SECONDS ("60s"). Prints a
 * summary; on a failure prints the input and the problem and exits 1.
 *
 * `npm test` runs every script under build/test/, this one included: there it
 * does nothing (test/framer-fuzz.test.ts runs a short fuzz instead).
 */
import { escapeBytes } from "../fixtures/requests/load.js";
import { runFuzz } from "./engine.js";

function usage(message: string): never {
  console.error(`${message}\nusage: npm run fuzz -- [COUNT | SECONDSs] [--seed N]`);
  process.exit(2);
}

function main(argv: readonly string[]): number {
  let iterations: number | undefined;
  let seconds: number | undefined;
  let seed = Date.now() % 1000000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seed") {
      const value = Number(argv[++i]);
      if (!Number.isSafeInteger(value)) usage(`--seed needs an integer, got ${argv[i]}`);
      seed = value;
    } else if (/^\d+(\.\d+)?s$/.test(arg)) {
      seconds = Number(arg.slice(0, -1));
    } else if (/^\d+$/.test(arg)) {
      iterations = Number(arg);
    } else {
      usage(`cannot read argument ${arg}`);
    }
  }
  if (iterations === undefined && seconds === undefined) iterations = 200000;

  const limit = seconds !== undefined ? `${seconds} s` : `${iterations} inputs`;
  console.log(`fuzzing the request framer: ${limit}, seed ${seed}`);
  const report = runFuzz({ iterations, seconds, seed });
  const rate = report.elapsedMs > 0 ? Math.round((report.iterations * 1000) / report.elapsedMs) : report.iterations;
  console.log(
    `${report.iterations} inputs in ${(report.elapsedMs / 1000).toFixed(1)} s (${rate}/s), ${report.requests} requests delivered, corpus ${report.corpus}`,
  );
  const outcomes = Object.entries(report.outcomes).sort((a, b) => b[1] - a[1]);
  for (const [outcome, count] of outcomes) console.log(`  ${outcome.padEnd(18)} ${count}`);
  if (report.failure !== null) {
    const f = report.failure;
    console.log(`\nFAILED at input ${f.iteration} (seed ${seed}), limits ${JSON.stringify(f.limits)}`);
    console.log(`input: ${escapeBytes(f.input, 100000)}`);
    console.log(f.problem);
    return 1;
  }
  console.log("no failure");
  return 0;
}

if (process.env.NODE_TEST_CONTEXT === undefined) {
  process.exitCode = main(process.argv.slice(2));
}
