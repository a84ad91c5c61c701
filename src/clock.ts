/**
 * The clock of the listener's deadlines, in whole milliseconds of the
 * performance clock. Whole numbers on purpose: V8 keeps a small integer inside
 * the object that holds it, while a fractional one costs a separate heap box
 * in every object of the class, and a connection holds several timestamps.
 * Deadlines are set in milliseconds, so nothing finer is needed.
 */
import { performance } from "node:perf_hooks";

export const nowMs = (): number => Math.floor(performance.now());
