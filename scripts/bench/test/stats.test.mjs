import { describe, expect, test } from 'vitest';
import { judge, pairedRatios, summarize } from '../stats.mjs';

describe('summarize', () => {
  test.each([
    [[3, 1, 2], { median: 2, min: 1, max: 3, n: 3 }],
    [[4, 1, 3, 2], { median: 2.5, min: 1, max: 4, n: 4 }],
    [[5], { median: 5, min: 5, max: 5, n: 1 }],
    [[NaN, 2, Infinity, 4], { median: 3, min: 2, max: 4, n: 2 }],
  ])('%j', (samples, expected) => {
    expect(summarize(samples)).toEqual(expected);
  });

  test('no usable sample: undefined', () => {
    expect(summarize([NaN])).toBeUndefined();
    expect(summarize([])).toBeUndefined();
  });
});

test('pairedRatios divides run by run and skips runs without both sides', () => {
  expect(pairedRatios([10, 20, 30, 40], [5, 0, NaN, 20])).toEqual([2, 2]);
  expect(pairedRatios([1, 2, 3], [1])).toEqual([1]);
});

describe('judge', () => {
  const s = { median: 0.7, min: 0.5, max: 0.9, n: 3 };
  test.each([
    [{ op: '>=', value: 0.6 }, s, 'PASS'],
    [{ op: '>=', value: 0.8 }, s, 'MISS'],
    [{ op: '>=', value: 0.6, worst: true }, s, 'MISS'],
    [{ op: '<=', value: 0.9, worst: true }, s, 'PASS'],
    [{ op: '<=', value: 0.8, worst: true }, s, 'MISS'],
    [{ op: '<', value: 0.7 }, s, 'MISS'],
    [{ op: '==', value: 0, worst: true }, { median: 0, min: 0, max: 0, n: 3 }, 'PASS'],
    [{ op: '==', value: 0, worst: true }, { median: 0, min: 0, max: 1, n: 3 }, 'MISS'],
    [{ op: '>=', value: 1 }, undefined, 'n/a'],
    [undefined, s, 'n/a'],
  ])('%j on %j -> %s', (target, summary, verdict) => {
    expect(judge(target, summary)).toBe(verdict);
  });

  test('an unknown comparison is a bug in a case, not a verdict', () => {
    expect(() => judge({ op: '~', value: 1 }, s)).toThrow(/unknown comparison/);
  });
});
