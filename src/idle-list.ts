/**
 * The kept-alive connections that wait for their next request, in the order
 * they became idle. They all share one idle time-out, so the first to become
 * idle is the first to expire: one timer for the whole listener, fired at the
 * exact deadline of the oldest, instead of a timer per connection. Joining and
 * leaving are O(1) (an intrusive doubly linked list).
 */
import { nowMs } from "./clock.js";

/** What the list needs of a member. */
export interface IdleMember {
  idlePrev: IdleMember | null;
  idleNext: IdleMember | null;
  /** When it became idle (nowMs()); -1 when not in the list. */
  idleSince: number;
  /** Its idle time ran out: it is already out of the list. */
  idleExpired(): void;
}

export class IdleList {
  readonly #timeoutMs: number;
  #first: IdleMember | null = null;
  #last: IdleMember | null = null;
  #timer: NodeJS.Timeout | null = null;

  /** `timeoutMs` 0 disables the list: members are never expired by it. */
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  add(member: IdleMember): void {
    if (member.idleSince >= 0) this.remove(member);
    member.idleSince = nowMs();
    member.idlePrev = this.#last;
    member.idleNext = null;
    if (this.#last) this.#last.idleNext = member;
    else this.#first = member;
    this.#last = member;
    if (this.#timer === null && this.#timeoutMs > 0) this.#arm();
  }

  remove(member: IdleMember): void {
    if (member.idleSince < 0) return;
    if (member.idlePrev) member.idlePrev.idleNext = member.idleNext;
    else this.#first = member.idleNext;
    if (member.idleNext) member.idleNext.idlePrev = member.idlePrev;
    else this.#last = member.idlePrev;
    member.idlePrev = null;
    member.idleNext = null;
    member.idleSince = -1;
  }

  /** Stop the timer (the listener is closing). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    const first = this.#first;
    if (first === null) return;
    const wait = Math.max(1, first.idleSince + this.#timeoutMs - nowMs());
    this.#timer = setTimeout(this.#fire, wait);
  }

  #fire = (): void => {
    this.#timer = null;
    const now = nowMs();
    let member = this.#first;
    while (member !== null && member.idleSince + this.#timeoutMs <= now) {
      this.remove(member);
      member.idleExpired();
      member = this.#first;
    }
    this.#arm();
  };
}
