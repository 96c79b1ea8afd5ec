import { describe, expect, test } from 'vitest';
import { chooseVictims, defaultMaxSize } from '../../src/cache/eviction.js';

const blob = (id: number, bytesPresent: number) => ({ id, digest: `d${id}`, bytesPresent });

describe('chooseVictims', () => {
  test.each([
    {
      name: 'nothing to do under the target',
      candidates: [blob(1, 10), blob(2, 10)],
      total: 20,
      target: 20,
      pinned: [],
      victims: [],
      remaining: 20,
    },
    {
      name: 'oldest first until at or under the target',
      candidates: [blob(1, 10), blob(2, 10), blob(3, 10)],
      total: 30,
      target: 15,
      pinned: [],
      victims: [1, 2],
      remaining: 10,
    },
    {
      name: 'pinned blobs are skipped, younger ones go instead',
      candidates: [blob(1, 10), blob(2, 10), blob(3, 10)],
      total: 30,
      target: 15,
      pinned: [1],
      victims: [2, 3],
      remaining: 10,
    },
    {
      name: 'all pinned: stays over the target',
      candidates: [blob(1, 10), blob(2, 10)],
      total: 20,
      target: 0,
      pinned: [1, 2],
      victims: [],
      remaining: 20,
    },
    {
      name: 'target 0 empties everything unpinned',
      candidates: [blob(1, 5), blob(2, 0), blob(3, 7)],
      total: 12,
      target: 0,
      pinned: [],
      victims: [1, 2, 3],
      remaining: 0,
    },
  ])('$name', ({ candidates, total, target, pinned, victims, remaining }) => {
    const plan = chooseVictims(candidates, total, target, (c) => pinned.includes(c.id));
    expect(plan.victims.map((v) => v.id)).toEqual(victims);
    expect(plan.remaining).toBe(remaining);
  });
});

describe('defaultMaxSize', () => {
  const MiB = 1024 ** 2;
  const GiB = 1024 ** 3;
  test.each([
    { free: 1000 * GiB, cached: 0, expected: 10 * GiB },
    { free: 10 * GiB, cached: 0, expected: Math.floor(0.8 * 10 * GiB) },
    { free: 5 * GiB, cached: 5 * GiB, expected: 8 * GiB },
    { free: 10 * MiB, cached: 0, expected: 64 * MiB },
  ])('free $free, cached $cached -> $expected', ({ free, cached, expected }) => {
    expect(defaultMaxSize(free, cached)).toBe(expected);
  });
});
