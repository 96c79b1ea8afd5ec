import { describe, expect, test } from 'vitest';
import { BlockSet, blockCountFor, blockLength, blocksSpanning, byteRangeOf } from '../../src/cache/blocks.js';

const K = 1024;

describe('block arithmetic', () => {
  test.each([
    { size: 0, bs: 256 * K, count: 0 },
    { size: 1, bs: 256 * K, count: 1 },
    { size: 256 * K, bs: 256 * K, count: 1 },
    { size: 256 * K + 1, bs: 256 * K, count: 2 },
    { size: 1024 ** 3, bs: 256 * K, count: 4096 },
  ])('blockCountFor($size, $bs) = $count', ({ size, bs, count }) => {
    expect(blockCountFor(size, bs)).toBe(count);
  });

  test.each([
    { offset: 0, length: 1, first: 0, last: 0 },
    { offset: 0, length: 4096, first: 0, last: 0 },
    { offset: 4095, length: 2, first: 0, last: 1 },
    { offset: 4096, length: 4096, first: 1, last: 1 },
    { offset: 100, length: 3 * 4096, first: 0, last: 3 },
  ])('blocksSpanning($offset, $length) = $first..$last', ({ offset, length, first, last }) => {
    expect(blocksSpanning(offset, length, 4096)).toEqual({ first, last });
  });

  test.each([
    { range: { first: 0, last: 0 }, size: 10_000, start: 0, end: 4096 },
    { range: { first: 1, last: 2 }, size: 10_000, start: 4096, end: 10_000 },
    { range: { first: 2, last: 2 }, size: 8193, start: 8192, end: 8193 },
  ])('byteRangeOf($range) of a $size-byte blob', ({ range, size, start, end }) => {
    expect(byteRangeOf(range, 4096, size)).toEqual({ start, end });
  });

  test.each([
    { index: 0, size: 10_000, length: 4096 },
    { index: 2, size: 10_000, length: 10_000 - 8192 },
    { index: 3, size: 10_000, length: 0 },
  ])('blockLength($index) of a $size-byte blob = $length', ({ index, size, length }) => {
    expect(blockLength(index, 4096, size)).toBe(length);
  });
});

describe('BlockSet', () => {
  test('add, has, count, full and hasRange', () => {
    const set = new BlockSet(10);
    expect(set.add(3)).toBe(true);
    expect(set.add(3)).toBe(false);
    expect(set.add(10)).toBe(false);
    expect(set.add(-1)).toBe(false);
    expect(set.has(3)).toBe(true);
    expect(set.has(4)).toBe(false);
    expect(set.count).toBe(1);
    for (const i of [4, 5, 6]) set.add(i);
    expect(set.hasRange(3, 6)).toBe(true);
    expect(set.hasRange(2, 6)).toBe(false);
    expect(set.full).toBe(false);
    for (let i = 0; i < 10; i++) set.add(i);
    expect(set.full).toBe(true);
    expect(set.hasRange(0, 9)).toBe(true);
    set.clear();
    expect(set.count).toBe(0);
    expect(set.has(3)).toBe(false);
  });

  test('an empty blob has no blocks and is full', () => {
    expect(new BlockSet(0).full).toBe(true);
  });
});
