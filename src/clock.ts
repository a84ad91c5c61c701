/**
 * The clocks of the listener's deadlines, both the performance clock.
 * nowMs is in whole milliseconds, for the timestamps connections keep: V8
 * keeps a small integer inside the object that holds it, while a fractional
 * one costs a separate heap box in every object of the class, and a
 * connection holds several. Deadlines are set in milliseconds, so nothing
 * finer is needed there.
 */
import { performance } from "node:perf_hooks";

export const nowMs = (): number => Math.floor(performance.now());

/** The same clock unrounded: a callback's start and end, for its time limit (one timestamp per running request). */
export const now = (): number => performance.now();
