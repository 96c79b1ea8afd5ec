/**
 * Whether a mirror is worth asking right now. A mirror that is down is skipped for a back-off
 * that doubles while it stays down; one that served bytes failing their digest is skipped for a
 * fixed, longer time. Pure state with an injected clock; logging is the caller's.
 */

export interface HealthPolicy {
  /** First skip after the mirror could not be reached; doubles per failed retry up to the max. */
  downBackoffMs: number;
  maxDownBackoffMs: number;
  /** Skip after the mirror served bytes that did not match their digest. */
  badContentMs: number;
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = Object.freeze({
  downBackoffMs: 30_000,
  maxDownBackoffMs: 5 * 60_000,
  badContentMs: 10 * 60_000,
});

export type MirrorState = 'ok' | 'down' | 'bad-content';

/** What a mark changed, so the caller logs each transition once (not on every request). */
export interface Transition {
  /** The mirror just became unusable (it was usable before). */
  becameUnusable: boolean;
  /** Skipped until this time (ms since epoch). */
  until: number;
}

export class MirrorHealth {
  private state: MirrorState = 'ok';
  private until = 0;
  private downStreak = 0;

  constructor(
    private readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): MirrorState {
    return this.state;
  }

  /** True when the mirror should be asked: healthy, or its skip time has passed (a retry). */
  usable(): boolean {
    return this.state === 'ok' || this.now() >= this.until;
  }

  /** An answer came back: the mirror is healthy again. True when it was not before. */
  markOk(): boolean {
    const recovered = this.state !== 'ok';
    this.state = 'ok';
    this.until = 0;
    this.downStreak = 0;
    return recovered;
  }

  markDown(): Transition {
    const becameUnusable = this.usable();
    const backoff = Math.min(this.policy.downBackoffMs * 2 ** this.downStreak, this.policy.maxDownBackoffMs);
    this.downStreak++;
    // Bad content outranks down: a short outage does not shorten its penalty.
    if (this.state !== 'bad-content' || this.now() >= this.until) this.state = 'down';
    this.until = Math.max(this.until, this.now() + backoff);
    return { becameUnusable, until: this.until };
  }

  markBadContent(): Transition {
    const becameUnusable = this.usable();
    this.state = 'bad-content';
    this.until = Math.max(this.until, this.now() + this.policy.badContentMs);
    return { becameUnusable, until: this.until };
  }
}
