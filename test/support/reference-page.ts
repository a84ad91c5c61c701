/**
 * Test support: read the reference page (the C plugin's help text) and pull out,
 * for each of its function sections, the example and its "Output after running".
 * The conformance tests use it to check that their transcription of the page is
 * the page's own text, so a typo in a copied expectation cannot pass unseen.
 */
import { existsSync, readFileSync } from "node:fs";

/** Where the page lives beside this working tree; CALLBACKHTTP_REFERENCE overrides it. */
export const REFERENCE_PATH = process.env.CALLBACKHTTP_REFERENCE ?? "/work/shared/seed/callbackhttp-reference.txt";

export interface PageExample {
  /** The example's script lines, as the page wraps them. */
  script: string;
  /** The "Output after running" lines, as the page wraps them. */
  output: string;
}

/** The page's text, or undefined when it is not beside this tree (a clean clone elsewhere). */
export function readReferencePage(): string | undefined {
  return existsSync(REFERENCE_PATH) ? readFileSync(REFERENCE_PATH, "utf8") : undefined;
}

/**
 * Each function section of the page: a line `callbackhttp.Name` followed by its
 * signature `callbackhttp.Name(...`, then `Example`, the script, `Output after
 * running`, the output, and `When to use`. Keyed by the function's name, in
 * page order.
 */
export function pageExamples(text: string): Map<string, PageExample> {
  const lines = text.split(/\r?\n/);
  const found = new Map<string, PageExample>();
  let name: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = /^callbackhttp\.([A-Za-z]+)$/.exec(line);
    if (header) {
      const next = lines.slice(i + 1).find((l) => l.trim() !== "");
      if (next?.trim().startsWith(`callbackhttp.${header[1]}(`)) name = header[1];
      continue;
    }
    if (line === "Example" && name !== undefined) {
      const script: string[] = [];
      let j = i + 1;
      for (; j < lines.length && lines[j]!.trim() !== "Output after running"; j++) script.push(lines[j]!);
      const output: string[] = [];
      for (j++; j < lines.length && lines[j]!.trim() !== "When to use"; j++) output.push(lines[j]!);
      found.set(name, { script: script.join("\n"), output: output.join("\n") });
      name = undefined;
      i = j;
    }
  }
  return found;
}

/** Whitespace-insensitive form: the page wraps long lines where it likes. */
export function unwrapped(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
