import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ChunkPrefetcher, ChunkReader } from '../../src/registry/chunk-reader.js';

function streamOf(bytes: Buffer, piece: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, i + piece));
  return Readable.from(pieces);
}

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

describe('ChunkReader', () => {
  test.each([
    [1, 100],
    [7, 100],
    [100, 100],
    [333, 100],
    [1000, 64],
    [64, 1000],
  ])('pieces of %i read as chunks of %i', async (piece, size) => {
    const r = new ChunkReader(streamOf(data, piece));
    const chunks: Buffer[] = [];
    for (let c = await r.read(size); c.length; c = await r.read(size)) {
      expect(c.length).toBeLessThanOrEqual(size);
      expect(c.parts.reduce((n, p) => n + p.length, 0)).toBe(c.length);
      chunks.push(Buffer.concat(c.parts));
    }
    expect(chunks.slice(0, -1).every((c) => c.length === size)).toBe(true);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect((await r.read(size)).length).toBe(0);
  });
});

describe('ChunkPrefetcher', () => {
  test('gives exactly `total` bytes in chunks and tells whether the stream had more', async () => {
    const p = new ChunkPrefetcher(streamOf(data, 37), 300, 900);
    const sizes: number[] = [];
    for (let c = await p.next(); c.length; c = await p.next()) sizes.push(c.length);
    expect(sizes).toEqual([300, 300, 300]);
    expect(await p.hasMore()).toBe(true);
    const exact = new ChunkPrefetcher(streamOf(data, 37), 300, 1000);
    while ((await exact.next()).length);
    expect(await exact.hasMore()).toBe(false);
  });

  test('a stream that ends early gives a short last chunk, then empty', async () => {
    const p = new ChunkPrefetcher(streamOf(data, 100), 400, 5000);
    expect((await p.next()).length).toBe(400);
    expect((await p.next()).length).toBe(400);
    expect((await p.next()).length).toBe(200);
    expect((await p.next()).length).toBe(0);
  });

  test('a source error surfaces at the next chunk, and closing mid-prefetch leaves nothing unhandled', async () => {
    async function* failing() {
      yield Buffer.alloc(100);
      throw new Error('disk gone');
    }
    const p = new ChunkPrefetcher(Readable.from(failing()), 100, 1000);
    expect((await p.next()).length).toBe(100);
    await expect(p.next()).rejects.toThrow('disk gone');
    const q = new ChunkPrefetcher(streamOf(data, 10), 100, 1000);
    await q.next();
    q.close();
  });
});
