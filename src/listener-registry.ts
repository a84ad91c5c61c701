/**
 * Listener ids and the records behind them. Ids start at 1 and are never
 * reused in a process; a closed listener keeps its record so that queries on
 * it answer its final state (contract section 4).
 */
import type { HttpListener } from "./listener.js";

let nextId = 1;
let openListeners = 0;
const records = new Map<number, HttpListener>();

/** A new id, for a listener that has bound its port. */
export function issueId(): number {
  openListeners++;
  return nextId++;
}

export function registerListener(listener: HttpListener): void {
  records.set(listener.id, listener);
}

/** The listener of `id`, open or closed, or undefined if the id was never issued. */
export function findListener(id: number): HttpListener | undefined {
  return records.get(id);
}

/** The listener of `id` was closed: it no longer counts as open. */
export function closeRecord(_id: number): void {
  openListeners--;
}

/** Listeners opened and not yet closed. */
export function openCount(): number {
  return openListeners;
}
