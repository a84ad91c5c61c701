/**
 * A small mutation fuzzer for the framer. It starts from the request table's
 * inputs and generated valid pipelines, mutates them (byte edits, splices of
 * HTTP syntax, cuts, reorders, crossovers), frames each result whole, cut at
 * random places and now and then byte by byte, and checks the invariants of
 * invariants.ts. Inputs that still deliver requests go back into the corpus, so
 * later mutations start deeper in the protocol. Deterministic for a given seed.
 */
import fc from "fast-check";
import type { FramerLimits } from "../../src/framer.js";
import { loadCases } from "../fixtures/requests/load.js";
import { framerLimits } from "../fixtures/requests/replay.js";
import { pipeline } from "./arbitraries.js";
import { checkFraming, outcomeOf } from "./invariants.js";
import { INTERESTING_BYTES, INTERESTING_TEXTS, MUTATION_OPS, type Mutation, mutate } from "./mutate.js";

export interface FuzzOptions {
  /** Stop after this many inputs. */
  iterations?: number;
  /** Stop after this many seconds (checked every 64 inputs). */
  seconds?: number;
  seed?: number;
}

export interface FuzzFailure {
  iteration: number;
  input: Buffer;
  limits: FramerLimits;
  problem: string;
}

export interface FuzzReport {
  seed: number;
  iterations: number;
  elapsedMs: number;
  /** How inputs ended: idle, partial or a status; "+requests" when requests were delivered first. */
  outcomes: Record<string, number>;
  requests: number;
  corpus: number;
  failure: FuzzFailure | null;
}

const MAX_CORPUS = 4000;
const MAX_INPUT = 8192;

/** mulberry32: a tiny seeded PRNG, enough for choosing mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runFuzz(options: FuzzOptions = {}): FuzzReport {
  const seed = options.seed ?? 1;
  const iterations = options.iterations ?? Number.POSITIVE_INFINITY;
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.seconds * 1000;
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);

  const corpus: Buffer[] = loadCases().map((c) => c.input);
  for (const p of fc.sample(pipeline, { numRuns: 300, seed })) corpus.push(p.input);
  const fixed = corpus.length;

  const report: FuzzReport = { seed, iterations: 0, elapsedMs: 0, outcomes: {}, requests: 0, corpus: 0, failure: null };
  const started = Date.now();

  const randomMutation = (): Mutation => ({
    op: MUTATION_OPS[int(MUTATION_OPS.length)]!,
    at: int(1 << 20),
    byte: random() < 0.7 ? INTERESTING_BYTES[int(INTERESTING_BYTES.length)]! : int(256),
    len: 1 + int(12),
    text: int(INTERESTING_TEXTS.length),
  });

  for (let i = 0; i < iterations; i++) {
    if ((i & 63) === 0 && Date.now() > deadline) break;
    let input = corpus[int(corpus.length)]!;
    if (random() < 0.15) {
      // Crossover: the head of one input, the tail of another.
      const other = corpus[int(corpus.length)]!;
      input = Buffer.concat([input.subarray(0, int(input.length + 1)), other.subarray(int(other.length + 1))]);
    }
    for (let m = 1 + int(4); m > 0; m--) input = mutate(input, randomMutation());
    if (input.length > MAX_INPUT) input = input.subarray(0, MAX_INPUT);

    const limits =
      random() < 0.5 ? framerLimits() : framerLimits({ maxHeaderBytes: 64 + int(256), maxBodyBytes: int(96) });
    const cuts = Array.from({ length: 1 + int(3) }, () => 1 + int(Math.max(1, input.length - 1)));
    const result = checkFraming(input, limits, { cuts, bytewise: (i & 7) === 0 && input.length <= 2048 });
    report.iterations++;
    if (result.problem !== null) {
      report.failure = { iteration: i, input, limits, problem: result.problem };
      break;
    }
    const { trace } = result;
    const key = `${outcomeOf(trace)}${trace.requests.length > 0 ? "+requests" : ""}`;
    report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
    report.requests += trace.requests.length;
    if (trace.requests.length > 0 && random() < 0.2) {
      if (corpus.length < MAX_CORPUS) corpus.push(input);
      else corpus[fixed + int(MAX_CORPUS - fixed)] = input;
    }
  }
  report.elapsedMs = Date.now() - started;
  report.corpus = corpus.length;
  return report;
}
