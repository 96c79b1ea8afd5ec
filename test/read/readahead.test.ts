import { describe, expect, test } from 'vitest';
import { demandExtent, findCursor, noteRequested, trackRead, wantedReadAhead, type Cursor, type ReadAheadConfig } from '../../src/read/readahead.js';

const K = 1024;
const M = 1024 * K;
const config: ReadAheadConfig = { initialWindow: 1 * M, maxWindow: 8 * M, sequentialThreshold: 512 * K, tolerance: 256 * K, maxCursors: 2, maxDemandFetch: 2 * M };

const cursor = (fields: Partial<Cursor>): Cursor => ({
  next: 0,
  lastStart: 0,
  streak: 0,
  window: 0,
  target: 0,
  trigger: 0,
  requested: 0,
  lastUsed: 0,
  inFlight: 0,
  ...fields,
});

describe('findCursor', () => {
  const cursors = [cursor({ next: 1 * M, lastStart: 1 * M - 128 * K }), cursor({ next: 50 * M, lastStart: 49 * M })];
  test.each([
    { position: 1 * M, expected: 0, why: 'exactly where the cursor expects' },
    { position: 1 * M + 200 * K, expected: 0, why: 'a small forward skip' },
    { position: 1 * M + 300 * K, expected: -1, why: 'beyond the tolerance' },
    { position: 1 * M - 300 * K, expected: 0, why: 'slightly behind (reads arriving out of order)' },
    { position: 500 * K, expected: -1, why: 'far behind: a seek' },
    { position: 50 * M - 10 * K, expected: 1, why: 'the nearest cursor wins' },
  ])('$position -> $expected ($why)', ({ position, expected }) => {
    expect(findCursor(cursors, position, config.tolerance)).toBe(expected);
  });
});

describe('trackRead', () => {
  test('a continuing read advances its cursor; others start new ones, replacing the least recently used', () => {
    const cursors: Cursor[] = [];
    const a = trackRead(cursors, 0, 128 * K, 1, config);
    expect(trackRead(cursors, 128 * K, 128 * K, 2, config)).toBe(a);
    expect(a).toMatchObject({ next: 256 * K, lastStart: 128 * K, streak: 128 * K, lastUsed: 2 });
    const b = trackRead(cursors, 100 * M, 16 * K, 3, config);
    expect(b).not.toBe(a);
    expect(cursors).toHaveLength(2);
    trackRead(cursors, 256 * K, 128 * K, 4, config); // touches a
    const c = trackRead(cursors, 300 * M, 16 * K, 5, config); // replaces b, the least recently used
    expect(cursors).toEqual([a, c]);
  });
});

describe('wantedReadAhead', () => {
  test.each([
    {
      name: 'not sequential yet: nothing',
      before: cursor({ next: 256 * K, streak: 256 * K }),
      size: 100 * M,
      range: undefined,
      after: { window: 0 },
    },
    {
      name: 'first batch once the threshold is reached',
      before: cursor({ next: 512 * K, streak: 512 * K, requested: 512 * K }),
      size: 100 * M,
      range: { start: 512 * K, end: 512 * K + 1 * M },
      after: { window: 1 * M, trigger: 512 * K, target: 512 * K + 1 * M },
    },
    {
      name: 'entering the last batch adds one twice as large',
      before: cursor({ next: 2 * M, streak: 2 * M, window: 1 * M, trigger: 2 * M, target: 3 * M, requested: 3 * M }),
      size: 100 * M,
      range: { start: 3 * M, end: 5 * M },
      after: { window: 2 * M, trigger: 3 * M, target: 5 * M },
    },
    {
      name: 'the window stops growing at maxWindow',
      before: cursor({ next: 20 * M, streak: 20 * M, window: 8 * M, trigger: 20 * M, target: 28 * M, requested: 28 * M }),
      size: 100 * M,
      range: { start: 28 * M, end: 36 * M },
      after: { window: 8 * M, target: 36 * M },
    },
    {
      name: 'never past the end of the blob',
      before: cursor({ next: 9 * M, streak: 9 * M, window: 1 * M, trigger: 9 * M, target: 10 * M, requested: 10 * M }),
      size: 10 * M + 5,
      range: { start: 10 * M, end: 10 * M + 5 },
      after: { target: 10 * M + 5 },
    },
    {
      name: 'what was requested already is not asked again',
      before: cursor({ next: 1 * M, streak: 1 * M, window: 1 * M, trigger: 512 * K, target: 1536 * K, requested: 1536 * K }),
      size: 100 * M,
      range: { start: 1536 * K, end: 1536 * K + 2 * M },
      after: { window: 2 * M },
    },
    {
      name: 'at the end of the blob: nothing',
      before: cursor({ next: 10 * M, streak: 10 * M, window: 1 * M }),
      size: 10 * M,
      range: undefined,
      after: {},
    },
  ])('$name', ({ before, size, range, after }) => {
    const c = { ...before };
    expect(wantedReadAhead(c, size, config)).toEqual(range);
    expect(c).toMatchObject(after);
  });

  test('a sequential reader: windows double up to the limit and read-ahead stays bounded', () => {
    const size = 200 * M;
    const cursors: Cursor[] = [];
    const windows: number[] = [];
    let firstAt = -1;
    for (let pos = 0, tick = 0; pos < 100 * M; pos += 128 * K) {
      const c = trackRead(cursors, pos, 128 * K, ++tick, config);
      const range = wantedReadAhead(c, size, config);
      if (range) {
        if (firstAt < 0) firstAt = pos;
        if (windows.at(-1) !== c.window) windows.push(c.window);
        noteRequested(c, range.end);
      }
      // Never more than the current and the next batch ahead of the reader.
      expect(c.requested - c.next).toBeLessThanOrEqual(2 * config.maxWindow);
    }
    expect(cursors).toHaveLength(1);
    expect(firstAt).toBe(512 * K); // the fifth read: four that continued the first
    expect(windows).toEqual([1 * M, 2 * M, 4 * M, 8 * M]);
  });

  test('a seek starts a fresh cursor without read-ahead', () => {
    const cursors: Cursor[] = [];
    let c!: Cursor;
    for (let pos = 0; pos < 4 * M; pos += 128 * K) c = trackRead(cursors, pos, 128 * K, pos, config);
    expect(wantedReadAhead(c, 100 * M, config)).toBeDefined();
    const jumped = trackRead(cursors, 60 * M, 128 * K, 10 * M, config);
    expect(jumped).not.toBe(c);
    expect(wantedReadAhead(jumped, 100 * M, config)).toBeUndefined();
  });
});

describe('demandExtent', () => {
  test.each([
    { name: 'a new cursor fetches what it reads', streak: 0, length: 16 * K, expected: 16 * K },
    { name: 'a continuing cursor fetches twice its streak', streak: 256 * K, length: 128 * K, expected: 512 * K },
    { name: 'capped at maxDemandFetch', streak: 3 * M, length: 128 * K, expected: 2 * M },
    { name: 'never less than the read', streak: 256 * K, length: 4 * M, expected: 4 * M },
  ])('$name', ({ streak, length, expected }) => {
    expect(demandExtent(cursor({ streak }), length, config)).toBe(expected);
  });

  test('0 turns it off', () => {
    expect(demandExtent(cursor({ streak: 1 * M }), 128 * K, { ...config, maxDemandFetch: 0 })).toBe(128 * K);
  });
});
