import { describe, expect, test } from 'vitest';
import { centreWindow, dataProfile, enviHeader, maskTo12Bits, smallFilePlan, tilesTouched } from '../data.mjs';
import { ByteStream } from '../prng.mjs';

describe('ByteStream', () => {
  test('the same seed and name give the same bytes however the stream is cut', () => {
    const whole = new ByteStream('s', 'big').next(10_000);
    const cut = new ByteStream('s', 'big');
    const parts = Buffer.concat([cut.next(1), cut.next(4095), cut.next(5904)]);
    expect(parts.equals(whole)).toBe(true);
  });

  test('another name or seed gives other bytes', () => {
    const a = new ByteStream('s', 'big').next(64);
    expect(new ByteStream('s', 'cog').next(64).equals(a)).toBe(false);
    expect(new ByteStream('t', 'big').next(64).equals(a)).toBe(false);
  });

  test('reads larger than its zero buffer are whole', () => {
    expect(new ByteStream('s', 'x').next((4 << 20) + 3).length).toBe((4 << 20) + 3);
  });
});

describe('smallFilePlan', () => {
  const plan = smallFilePlan(2000);

  test('2,000 distinct files of 1-64 KiB, two folder levels deep', () => {
    expect(plan).toHaveLength(2000);
    expect(new Set(plan.map((f) => f.path)).size).toBe(2000);
    for (const f of plan) {
      expect(f.size).toBeGreaterThanOrEqual(1024);
      expect(f.size).toBeLessThanOrEqual(65536);
      expect(f.path).toMatch(/^small\/d\d\/d\d\/f\d{4}\.bin$/);
    }
    expect(new Set(plan.map((f) => f.path.split('/').slice(0, 3).join('/'))).size).toBe(100);
  });

  test('is deterministic: a rerun reuses the data and its digests', () => {
    expect(smallFilePlan(2000)).toEqual(plan);
  });
});

describe('the COG window', () => {
  test.each([
    [6144, [2816, 2816, 512, 512], 4],
    [2048, [768, 768, 512, 512], 4],
    [1536, [512, 512, 512, 512], 1],
  ])('%i px: %j touches %i tiles', (size, window, tiles) => {
    expect(centreWindow(size, size)).toEqual(window);
    expect(tilesTouched(window)).toBe(tiles);
  });

  test('both profiles give the 4-tile window the issue asks for', () => {
    for (const quick of [false, true]) {
      const { cogSize } = dataProfile(quick);
      expect(tilesTouched(centreWindow(cogSize, cogSize))).toBe(4);
    }
  });
});

test('maskTo12Bits keeps little-endian uint16 values below 4096', () => {
  const buf = maskTo12Bits(Buffer.from([0xff, 0xff, 0x34, 0x12, 0x00, 0xf0]));
  expect([buf.readUInt16LE(0), buf.readUInt16LE(2), buf.readUInt16LE(4)]).toEqual([0x0fff, 0x0234, 0x0000]);
});

test('enviHeader describes band-sequential little-endian uint16', () => {
  const h = enviHeader(6144, 6144, 3);
  expect(h).toMatch(/^ENVI\n/);
  for (const line of ['samples = 6144', 'lines = 6144', 'bands = 3', 'data type = 12', 'interleave = bsq', 'byte order = 0']) {
    expect(h).toContain(line);
  }
});
