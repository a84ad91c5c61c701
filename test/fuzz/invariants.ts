/**
 * What must hold for ANY input to the framer, valid or not: it does not throw,
 * it keeps the sink protocol, it ends in delivered requests followed by idle, an
 * unfinished request or one error status it is allowed to give, it reports the
 * same whatever the pieces, and every request it delivers is a slice of the
 * input, in order, with only empty lines between, that frames alone to itself.
 */
import type { FramerLimits } from "../../src/framer.js";
import { escapeBytes } from "../fixtures/requests/load.js";
import { bytewise, cutAt, describeTrace, FRAMER_STATUSES, frame, type Trace } from "../fixtures/requests/replay.js";

export interface CheckOptions {
  /** Cut points for one more replay (besides whole). */
  cuts?: readonly number[];
  /** Also replay byte by byte. */
  bytewise?: boolean;
}

/** Frame `input` and check every invariant; returns the whole-input trace, or a problem. */
export function checkFraming(
  input: Buffer,
  limits: FramerLimits,
  options: CheckOptions = {},
): { trace: Trace; problem: null } | { trace: Trace | null; problem: string } {
  let trace: Trace;
  try {
    trace = frame([input], limits);
  } catch (err) {
    return { trace: null, problem: `framer threw: ${(err as Error).stack}` };
  }
  const problem = (text: string): { trace: Trace; problem: string } => ({ trace, problem: text });
  if (trace.violations.length > 0) return problem(`sink protocol violated: ${trace.violations.join(", ")}`);
  if (typeof trace.end === "number" && !FRAMER_STATUSES.has(trace.end))
    return problem(`unexpected status ${trace.end}`);

  // Delivered requests are the input's own bytes, in order, with only CRLF pairs between.
  let pos = 0;
  const skipEmptyLines = (): void => {
    while (input[pos] === 0x0d && input[pos + 1] === 0x0a) pos += 2;
  };
  for (const request of trace.requests) {
    skipEmptyLines();
    if (request.length === 0) return problem("an empty request was delivered");
    if (!input.subarray(pos, pos + request.length).equals(request)) {
      return problem(`request at ${pos} is not the input's bytes: ${escapeBytes(request)}`);
    }
    pos += request.length;
  }
  if (trace.end === "idle") {
    skipEmptyLines();
    if (pos < input.length && !(pos === input.length - 1 && input[pos] === 0x0d)) {
      return problem(`idle with ${input.length - pos} bytes left unframed`);
    }
  } else if (trace.end === "partial") {
    skipEmptyLines();
    if (pos >= input.length) return problem("partial with no bytes left");
  }

  // Each delivered request, framed on its own, is exactly itself.
  for (const request of trace.requests) {
    const alone = frame([request], limits);
    if (alone.end !== "idle" || alone.requests.length !== 1 || !alone.requests[0]!.equals(request)) {
      return problem(`request ${escapeBytes(request)} framed alone gives\n${describeTrace(alone, false)}`);
    }
  }

  // The same report whatever the pieces.
  const expected = describeTrace(trace, true);
  const replays: [string, Buffer[]][] = [];
  if (options.cuts && options.cuts.length > 0)
    replays.push([`cut at ${options.cuts.join(",")}`, cutAt(input, options.cuts)]);
  if (options.bytewise) replays.push(["byte by byte", bytewise(input)]);
  for (const [how, pieces] of replays) {
    let other: Trace;
    try {
      other = frame(pieces, limits);
    } catch (err) {
      return problem(`framer threw ${how}: ${(err as Error).stack}`);
    }
    const got = describeTrace(other, true);
    if (got !== expected) return problem(`${how} differs from whole:\nwhole:\n${expected}\n${how}:\n${got}`);
  }
  return { trace, problem: null };
}

/** A one-word class of a trace's ending, for summaries. */
export function outcomeOf(trace: Trace): string {
  return typeof trace.end === "number" ? String(trace.end) : trace.end;
}
