import { describe, expect, test } from 'vitest';
import { BufferPool } from '../../src/read/buffer-pool.js';

describe('BufferPool', () => {
  test('a given-back buffer is handed out again, also as a shorter view', () => {
    const pool = new BufferPool(1024, 2);
    const a = pool.take(1024);
    pool.give(a);
    const b = pool.take(100);
    expect(b.length).toBe(100);
    expect(b.buffer).toBe(a.buffer);
    pool.give(b); // a view goes back whole
    expect(pool.take(1024).buffer).toBe(a.buffer);
  });

  test.each([
    ['larger than the pool size: allocated, never pooled', 2048, 0],
    ['a foreign buffer: ignored', -1, 0],
    ['a pool buffer: kept', 1024, 1],
  ])('give: %s', (_name, size, kept) => {
    const pool = new BufferPool(1024, 2);
    const buf = size < 0 ? Buffer.alloc(1024) : pool.take(size);
    pool.give(buf);
    expect(pool.freeCount).toBe(kept);
  });

  test('keeps at most maxFree buffers, and never the same one twice', () => {
    const pool = new BufferPool(64, 2);
    const bufs = [pool.take(64), pool.take(64), pool.take(64)];
    pool.give(bufs[0]!);
    pool.give(bufs[0]!);
    expect(pool.freeCount).toBe(1);
    for (const b of bufs) pool.give(b);
    expect(pool.freeCount).toBe(2);
  });
});
