import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { buffer as readAll } from 'node:stream/consumers';
import { ChunkReader, chunkSizeFor } from '../../src/registry/chunk-reader.js';

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

describe('ChunkReader.body', () => {
  const short = () => new Error('source too short');

  test.each([
    [7, 300],
    [100, 1000],
    [1000, 250],
  ])('pieces of %i streamed as bodies of %i bytes, each exactly its length', async (piece, size) => {
    const r = new ChunkReader(streamOf(data, piece));
    const bodies: Buffer[] = [];
    for (let at = 0; at < data.length; at += size) {
      const body = await readAll(r.body(Math.min(size, data.length - at), short));
      expect(body.length).toBe(Math.min(size, data.length - at));
      bodies.push(body);
      expect(r.position).toBe(at + body.length);
    }
    expect(Buffer.concat(bodies).equals(data)).toBe(true);
    expect(await r.hasMore()).toBe(false);
  });

  test('a body longer than what is left fails with the given error', async () => {
    const r = new ChunkReader(streamOf(data, 64));
    await readAll(r.body(900, short));
    await expect(readAll(r.body(200, short))).rejects.toThrow('source too short');
  });

  test('hasMore tells a stream longer than expected', async () => {
    const r = new ChunkReader(streamOf(data, 64));
    await readAll(r.body(999, short));
    expect(await r.hasMore()).toBe(true);
  });

  test('a source error fails the body', async () => {
    async function* failing() {
      yield Buffer.alloc(100);
      throw new Error('disk gone');
    }
    const r = new ChunkReader(Readable.from(failing()));
    await expect(readAll(r.body(500, short))).rejects.toThrow('disk gone');
    r.close();
  });
});

describe('chunkSizeFor', () => {
  const MiB = 1024 * 1024;
  test.each<[string, number, number, number, number]>([
    ['a small blob keeps the configured size', 5 * 64 * 1024, 64 * 1024, 0, 64 * 1024],
    ['below 8 MiB nothing grows', 8 * MiB - 1, 64 * 1024, 0, 64 * 1024],
    ['96 MiB with 16 MiB chunks: 16 MiB', 96 * MiB, 16 * MiB, 0, 16 * MiB],
    ['1 GiB: eight chunks of 128 MiB', 1024 * MiB, 16 * MiB, 0, 128 * MiB],
    ['1 GiB + a bit: whole MiB', 1024 * MiB + 12345, 16 * MiB, 0, 128 * MiB],
    ['10 GiB: capped at 256 MiB', 10 * 1024 * MiB, 16 * MiB, 0, 256 * MiB],
    ['a configured size above the cap stays', 10 * 1024 * MiB, 512 * MiB, 0, 512 * MiB],
    ["the registry's minimum wins", 100, 64 * 1024, 5 * MiB, 5 * MiB],
    ['never zero', 0, 0, 0, 1],
  ])('%s', (_name, size, configured, min, expected) => {
    expect(chunkSizeFor(size, configured, min)).toBe(expected);
  });
});
