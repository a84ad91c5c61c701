/**
 * The live request counters of one listener and the drain waiters that watch
 * them. Meanings (contract section 4): pending, from a request's first byte
 * until it is complete; queued, complete and waiting for its callback; running,
 * in its callback; active, from the first byte until the response is written,
 * the request is rejected, or its connection is lost. Drained is active === 0.
 */
export class RequestCounters {
  pending = 0;
  queued = 0;
  running = 0;
  active = 0;
  /** Totals since the listener opened, for stats(). */
  requests = 0;
  timeouts = 0;
  failures = 0;
  rejected = 0;
  refusedConnections = 0;
  #waiters: Array<() => void> = [];
  #runningWaiters: Array<() => void> = [];
  #writtenWaiters: Array<() => void> = [];

  /** A callback stopped counting as running. */
  endRunning(): void {
    this.running--;
    if (this.running === 0 && this.#runningWaiters.length > 0) {
      const waiters = this.#runningWaiters;
      this.#runningWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolve once no callback is running. */
  untilNoneRunning(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#runningWaiters.push(resolve));
  }

  /** `n` requests stopped being active; wake the drain waiters when none is left. */
  endActive(n: number): void {
    this.active -= n;
    if (this.active <= this.running && this.#writtenWaiters.length > 0) {
      for (const wake of this.#writtenWaiters.splice(0)) wake();
    }
    if (this.active === 0 && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Resolve once every request still active is one whose callback runs (the others written, rejected or
   * gone), or when `timeoutMs` passes first: Close's grace for responses being written.
   */
  untilOnlyRunning(timeoutMs: number): Promise<void> {
    if (this.active <= this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const at = this.#writtenWaiters.indexOf(wake);
        if (at >= 0) this.#writtenWaiters.splice(at, 1);
        resolve();
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#writtenWaiters.push(wake);
    });
  }

  /** Resolve true once active is 0 (at once if it is), false when `timeoutMs` passes first; -1 waits without limit. */
  waitDrained(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
      if (timeoutMs >= 0) {
        timer = setTimeout(() => {
          const at = this.#waiters.indexOf(wake);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /** The final state of a closed listener: nothing in flight. */
  zero(): void {
    this.pending = 0;
    this.queued = 0;
    this.running = 0;
    for (const wake of this.#runningWaiters.splice(0)) wake();
    this.endActive(this.active);
  }
}
