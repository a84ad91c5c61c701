/**
 * Where string responses become bytes: encoded back to back into shared
 * slabs, so that a connection's pipelined batch of string responses is one
 * slice of one slab. `Buffer.from` per response would make a Buffer object for
 * each, and joining a batch for its single write would copy every byte again.
 *
 * A slab is written once, front to back, never reused: when its room runs out
 * a fresh one is taken, and the old one lives on only while a slice of it
 * waits in some socket's queue. That is how Node's own Buffer pool works
 * (which `Buffer.from` of a short string draws on), and the slab has the
 * pool's size, so that what queued slices keep alive is no more than before:
 * each slice a slow client still queues keeps its 8 KiB slab, as a slice of
 * the pool keeps the pool.
 */

const SLAB_BYTES = 8 * 1024;

/**
 * Longer strings (in UTF-16 code units) get a Buffer of their own: a unit
 * takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4; a lone
 * surrogate becomes U+FFFD, 3), and a string must fit in the room a slab has left.
 */
export const MAX_SLAB_STRING = 1024;

/** The slab strings are encoded into now, and how many of its bytes are taken. */
export const slabs = {
  slab: Buffer.allocUnsafeSlow(SLAB_BYTES),
  used: 0,
};

/**
 * Encode `text` (at most MAX_SLAB_STRING units) as UTF-8 right after the
 * bytes `slabs.slab` holds, taking a fresh slab first when it might not fit.
 * Returns where it starts; it ends at `slabs.used`.
 */
export function encodeToSlab(text: string): number {
  if (SLAB_BYTES - slabs.used < text.length * 3) {
    slabs.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabs.used = 0;
  }
  const start = slabs.used;
  slabs.used = start + slabs.slab.write(text, start, "utf8");
  return start;
}

/** A connection that emits string responses: it takes its run of them as one slice. */
export interface RunHolder {
  takeRun(slice: Buffer): void;
}

/**
 * The open run: string responses one holder encoded back to back into the
 * current slab and has not taken yet. There is at most one: a connection
 * takes its run when it writes, before another can emit, and should another
 * emit first all the same, the run is handed over then. Kept here rather than
 * in each connection, so that an idle connection holds nothing for it.
 */
const open = {
  holder: null as RunHolder | null,
  slab: slabs.slab,
  start: 0,
  end: 0,
};

/**
 * Encode `text` (at most MAX_SLAB_STRING units) as `holder`'s next response,
 * extending its open run when nothing came between. Returns where it starts
 * in `slabs.slab`; it ends at `slabs.used`.
 */
export function appendToRun(holder: RunHolder, text: string): number {
  const start = encodeToSlab(text);
  if (open.holder !== holder || open.slab !== slabs.slab || open.end !== start) {
    endRun();
    open.holder = holder;
    open.slab = slabs.slab;
    open.start = start;
  }
  open.end = slabs.used;
  return start;
}

/** Hand `holder` its open run, if it has one, as one slice. */
export function takeRunOf(holder: RunHolder): void {
  if (open.holder === holder) endRun();
}

/** Forget `holder`'s open run, if it has one (its connection is gone). */
export function dropRunOf(holder: RunHolder): void {
  if (open.holder === holder) open.holder = null;
}

function endRun(): void {
  const holder = open.holder;
  if (holder === null) return;
  open.holder = null;
  holder.takeRun(open.slab.subarray(open.start, open.end));
}
