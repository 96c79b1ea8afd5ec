/**
 * Tracks the operations running on a handle so that closing it waits for them: a file
 * descriptor must never be closed (and its number reused) under a read still using it.
 */
import { OcifsError } from '../errors.js';

export class OperationGate {
  private active = 0;
  private closing = false;
  private waiters: (() => void)[] = [];

  /** Runs `op` unless the gate is closed (BAD_HANDLE). */
  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closing) throw new OcifsError('BAD_HANDLE', 'the blob handle is closed');
    this.active++;
    try {
      return await op();
    } finally {
      this.active--;
      if (this.active === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /** True once close() was called: no new operation may start. */
  get closed(): boolean {
    return this.closing;
  }

  /** Refuses new operations; resolves when the running ones have finished. False if already closed. */
  async close(): Promise<boolean> {
    if (this.closing) return false;
    this.closing = true;
    if (this.active > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }
}
