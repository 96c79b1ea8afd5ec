/**
 * Bearer tokens by scope set, until they expire (minus a margin so a token is never sent in its
 * last seconds), with concurrent fetches of the same key shared. The clock is injected.
 */

export const DEFAULT_TOKEN_LIFETIME_S = 60;

interface Entry {
  token: string;
  expiresAt: number;
}

/** Seconds of a token's life we do not use: a fifth of it, at most 30 s. */
export function expiryMargin(lifetimeS: number): number {
  return Math.min(30, lifetimeS / 5);
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  set(key: string, token: string, lifetimeS: number = DEFAULT_TOKEN_LIFETIME_S): void {
    const life = lifetimeS > 0 ? lifetimeS : DEFAULT_TOKEN_LIFETIME_S;
    this.entries.set(key, { token, expiresAt: this.now() + (life - expiryMargin(life)) * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** One fetch per key at a time: callers arriving meanwhile get the same promise. */
  shared(key: string, fetch: () => Promise<string>): Promise<string> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = fetch().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }
}
