/**
 * When to retry a registry request and how long to wait: the policy is plain data, the decisions
 * are pure functions (as oras-go's registry/remote/retry), so tests inject a fast policy.
 */

export interface RetryPolicy {
  /** Total tries, the first included (1 = never retry). */
  attempts: number;
  /** The backoff ceiling grows as minDelayMs * 2^retry, capped at maxDelayMs; full jitter below it. */
  minDelayMs: number;
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first try (or would pass while waiting). */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  attempts: 5,
  minDelayMs: 200,
  maxDelayMs: 10_000,
  budgetMs: 60_000,
});

/** 408, 429 and the 5xx that mean "try later" (not 501 Not Implemented / 505 Version Not Supported). */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** Node and undici error codes of a connection that failed or broke, which a new try may fix. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps the socket error as `cause` in some paths.
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_NETWORK_CODES.has(code) || code === 'ENOTFOUND' || /CERT|TLS|SSL|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code))) {
      return code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isRetryableNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && TRANSIENT_NETWORK_CODES.has(code);
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - nowMs);
}

/** Full jitter: uniform in [0, min(max, min * 2^retry)]. `retry` counts from 0. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

export interface RetryState {
  /** Tries made so far (>= 1 when asking whether to make another). */
  triesMade: number;
  elapsedMs: number;
  /** From the failed answer's Retry-After, when it had one. */
  retryAfterMs?: number;
}

/** How long to wait before the next try, or undefined when the policy says give up. */
export function nextRetryDelay(policy: RetryPolicy, state: RetryState, random: () => number = Math.random): number | undefined {
  if (state.triesMade >= policy.attempts) return undefined;
  const delay = state.retryAfterMs ?? backoffDelay(policy, state.triesMade - 1, random);
  if (state.elapsedMs + delay > policy.budgetMs) return undefined;
  return delay;
}
