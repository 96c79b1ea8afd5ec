/**
 * Answers a kernel request exactly once: with the work's value, its error, or a timeout at the
 * deadline. A late value after the deadline is dropped, never delivered: by then the request
 * is answered and its kernel buffers may belong to another request.
 */

export interface SettleHandlers<T> {
  value(value: T): void;
  error(err: unknown): void;
  timeout(): void;
  /** The work finished after the deadline (for a debug log). */
  late?(outcome: { value: T } | { error: unknown }): void;
}

/** `timeoutMs` 0 waits for ever. */
export function settleOnce<T>(work: () => Promise<T>, timeoutMs: number, on: SettleHandlers<T>): void {
  let settled = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          settled = true;
          on.timeout();
        }, timeoutMs)
      : undefined;
  const finish = (deliver: () => void, outcome: { value: T } | { error: unknown }) => {
    if (settled) {
      on.late?.(outcome);
      return;
    }
    settled = true;
    clearTimeout(timer);
    deliver();
  };
  let promise: Promise<T>;
  try {
    promise = work();
  } catch (err) {
    promise = Promise.reject(err);
  }
  promise.then(
    (value) => finish(() => on.value(value), { value }),
    (error: unknown) => finish(() => on.error(error), { error }),
  );
}
