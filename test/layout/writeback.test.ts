/** Writeback: when background flushes start, that only one runs, back-pressure, failures. */
import { describe, expect, test } from 'vitest';
import { Writeback } from '../../src/layout/writeback.js';

/** A flush that stays pending until released, counting starts. */
function controlledFlush() {
  const pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let started = 0;
  return {
    flush: () =>
      new Promise<void>((resolve, reject) => {
        started++;
        pending.push({ resolve, reject });
      }),
    get started() {
      return started;
    },
    release: () => pending.shift()!.resolve(),
    fail: (err: unknown) => pending.shift()!.reject(err),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Writeback', () => {
  test.each<[string, number[], number]>([
    ['nothing before the threshold', [10, 20, 69], 0],
    ['one flush at the threshold', [50, 50], 1],
    ['one per threshold crossed, counting from the last start', [100, 30, 70, 99], 2],
    ['a single large write', [1000], 1],
  ])('%s', async (_name, writes, flushes) => {
    let started = 0;
    const wb = new Writeback(async () => {
      started++;
    }, 100);
    for (const n of writes) await wb.wrote(n);
    await wb.settle();
    expect(started).toBe(flushes);
  });

  test('one flush at a time: the next due write waits for the running one (bounded dirty data)', async () => {
    const f = controlledFlush();
    const wb = new Writeback(f.flush, 100);
    await wb.wrote(100); // starts flush 1, does not wait for it
    expect(f.started).toBe(1);
    await wb.wrote(50); // not due yet
    let waited = false;
    const due = wb.wrote(50).then(() => (waited = true)); // due while flush 1 runs: waits
    await tick();
    expect(waited).toBe(false);
    expect(f.started).toBe(1);
    f.release();
    await due;
    expect(f.started).toBe(2); // started as soon as the first one ended
    f.release();
    await wb.settle();
  });

  test('several writers waiting on one flush start only one more', async () => {
    const f = controlledFlush();
    const wb = new Writeback(f.flush, 100);
    await wb.wrote(100);
    const waiting = [wb.wrote(100), wb.wrote(10)];
    f.release();
    await Promise.all(waiting);
    expect(f.started).toBe(2);
    f.release();
    await wb.settle();
  });

  test('settle waits for the running flush', async () => {
    const f = controlledFlush();
    const wb = new Writeback(f.flush, 10);
    await wb.wrote(10);
    let settled = false;
    const s = wb.settle().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    f.release();
    await s;
    expect(settled).toBe(true);
  });

  test('a failed flush fails the next write and settle, and is never unhandled', async () => {
    const f = controlledFlush();
    const wb = new Writeback(f.flush, 10);
    await wb.wrote(10);
    f.fail(new Error('EIO'));
    await tick();
    await expect(wb.wrote(1)).rejects.toThrow('EIO');
    await expect(wb.settle()).rejects.toThrow('EIO');
  });
});
