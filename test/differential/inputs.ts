/**
 * Inputs for the differential check: the request table's cases, and inputs
 * drawn with a fixed seed from the fuzz arbitraries (valid requests, pipelines,
 * HTTP-ish byte soup, mutations of the pipelines and of the cases) and from
 * the smuggling-minded arbitrary of vectors.ts.
 * The same seed and counts give the same inputs, in the same order.
 */
import fc from "fast-check";
import { loadCases } from "../fixtures/requests/load.js";
import { httpishBytes, mutation, pipeline, validRequest } from "../fuzz/arbitraries.js";
import { mutate } from "../fuzz/mutate.js";
import { smugglingVector } from "./vectors.js";

export interface DiffInput {
  /** Where it comes from: `case file.md › name`, or `<source>#<index>`. */
  id: string;
  bytes: Buffer;
}

export interface InputCounts {
  valid: number;
  pipelines: number;
  mutatedPipelines: number;
  mutatedCases: number;
  httpish: number;
  smuggling: number;
}

export const DEFAULT_COUNTS: InputCounts = {
  valid: 400,
  pipelines: 400,
  mutatedPipelines: 1600,
  mutatedCases: 800,
  httpish: 800,
  smuggling: 3000,
};

/** Inputs longer than this are cut: every rule is reached well before. */
const MAX_INPUT = 4096;

export function caseInputs(): DiffInput[] {
  return loadCases().map((c) => ({ id: `case ${c.id}`, bytes: c.input }));
}

/** Scale every count by `factor` (at least 1 each). */
export function scaleCounts(factor: number, counts: InputCounts = DEFAULT_COUNTS): InputCounts {
  const s = (n: number): number => Math.max(1, Math.round(n * factor));
  return {
    valid: s(counts.valid),
    pipelines: s(counts.pipelines),
    mutatedPipelines: s(counts.mutatedPipelines),
    mutatedCases: s(counts.mutatedCases),
    httpish: s(counts.httpish),
    smuggling: s(counts.smuggling),
  };
}

export function generatedInputs(seed: number, counts: InputCounts = DEFAULT_COUNTS): DiffInput[] {
  const out: DiffInput[] = [];
  const push = (source: string, list: readonly Buffer[]): void => {
    list.forEach((bytes, i) => {
      out.push({ id: `${source}#${i}`, bytes: bytes.length > MAX_INPUT ? bytes.subarray(0, MAX_INPUT) : bytes });
    });
  };
  push(
    "valid",
    fc.sample(validRequest, { numRuns: counts.valid, seed }).map((r) => r.bytes),
  );
  push(
    "pipeline",
    fc.sample(pipeline, { numRuns: counts.pipelines, seed: seed + 1 }).map((p) => p.input),
  );
  const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });
  push(
    "mutated-pipeline",
    fc
      .sample(fc.tuple(pipeline, mutations), { numRuns: counts.mutatedPipelines, seed: seed + 2 })
      .map(([p, ms]) => ms.reduce<Buffer>((b, m) => mutate(b, m), p.input)),
  );
  const cases = loadCases().map((c) => c.input);
  push(
    "mutated-case",
    fc
      .sample(fc.tuple(fc.nat(cases.length - 1), mutations), { numRuns: counts.mutatedCases, seed: seed + 3 })
      .map(([i, ms]) => ms.reduce<Buffer>((b, m) => mutate(b, m), cases[i]!)),
  );
  push("httpish", fc.sample(httpishBytes, { numRuns: counts.httpish, seed: seed + 4 }));
  push("smuggling", fc.sample(smugglingVector, { numRuns: counts.smuggling, seed: seed + 5 }));
  return out;
}
