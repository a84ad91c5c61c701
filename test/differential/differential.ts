/**
 * Runs inputs through both parsers and groups the outcomes: per class, and per
 * cause (the class's key) with the shortest input seen. `minimize` shrinks an
 * input while it keeps its class and key, by deleting runs of bytes.
 */
import { escapeBytes } from "../fixtures/requests/load.js";
import { CLASS_ORDER, type Comparison, classify, type DiffClass, ourVerdict } from "./compare.js";
import type { DiffInput } from "./inputs.js";
import type { LlhttpOracle } from "./llhttp-oracle.js";

export interface Finding {
  input: DiffInput;
  comparison: Comparison;
}

export interface Group {
  cls: DiffClass;
  key: string;
  count: number;
  /** The shortest input of the group. */
  example: Finding;
}

export interface DiffReport {
  total: number;
  counts: Record<DiffClass, number>;
  groups: Group[];
  findings: Finding[];
  elapsedMs: number;
}

export async function compareOne(oracle: LlhttpOracle, bytes: Buffer): Promise<Comparison> {
  const theirs = await oracle.ask(bytes);
  return classify(bytes, ourVerdict(bytes), theirs);
}

export async function runDifferential(
  oracle: LlhttpOracle,
  inputs: readonly DiffInput[],
  options: { concurrency?: number } = {},
): Promise<DiffReport> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 8;
  const findings: Finding[] = new Array(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const i = next++;
      const input = inputs[i]!;
      findings[i] = { input, comparison: await compareOne(oracle, input.bytes) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const counts = Object.fromEntries(CLASS_ORDER.map((c) => [c, 0])) as Record<DiffClass, number>;
  const groups = new Map<string, Group>();
  for (const f of findings) {
    const { cls, key } = f.comparison;
    counts[cls]++;
    const id = `${cls}\u0000${key}`;
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { cls, key, count: 1, example: f });
    else {
      g.count++;
      if (f.input.bytes.length < g.example.input.bytes.length) g.example = f;
    }
  }
  const sorted = [...groups.values()].sort(
    (a, b) => CLASS_ORDER.indexOf(a.cls) - CLASS_ORDER.indexOf(b.cls) || b.count - a.count,
  );
  return { total: inputs.length, counts, groups: sorted, findings, elapsedMs: Date.now() - started };
}

/** Shrink `bytes` while its class and key stay the same; at most `budget` oracle calls. */
export async function minimize(
  oracle: LlhttpOracle,
  bytes: Buffer,
  target: Pick<Comparison, "cls" | "key">,
  budget = 1500,
): Promise<Buffer> {
  let best = bytes;
  let calls = 0;
  const same = async (candidate: Buffer): Promise<boolean> => {
    calls++;
    const c = await compareOne(oracle, candidate);
    return c.cls === target.cls && c.key === target.key;
  };
  let size = Math.max(1, best.length >> 1);
  while (calls < budget) {
    let changed = false;
    for (let at = 0; at < best.length && calls < budget; ) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      if (candidate.length < best.length && (await same(candidate))) {
        best = candidate;
        changed = true;
      } else {
        at += size;
      }
    }
    if (!changed) {
      if (size === 1) break;
      size = Math.max(1, size >> 1);
    }
  }
  return best;
}

export function describeFinding(f: Finding): string {
  const c = f.comparison;
  const ours = c.ours.requests.length === 0 ? "" : `${c.ours.requests.length} request(s) then `;
  const theirs = c.theirs.events
    .map(
      (e) =>
        `${e.kind === "request" ? "" : `${e.kind} `}${e.method} ${escapeBytes(Buffer.from(e.url, "latin1"), 60)}${e.complete ? "" : " (incomplete)"}`,
    )
    .join(", ");
  return [
    `  input (${f.input.id}, ${f.input.bytes.length} bytes): ${escapeBytes(f.input.bytes, 600)}`,
    `  ours:   ${ours}${typeof c.ours.end === "number" ? `${c.ours.end} (${c.ours.reason})` : c.ours.end}`,
    `  llhttp: ${theirs === "" ? "" : `${theirs}; then `}${c.theirs.error === null ? "idle" : `${c.theirs.error} (${c.theirs.reason})`}`,
    ...(c.detail === "" ? [] : [`  detail: ${c.detail}`]),
  ].join("\n");
}
