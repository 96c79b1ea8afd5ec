/** copyHashing: one pass, the bytes written are the bytes hashed, whatever the chunking, buffered or direct. */
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { alignedBuffers, alignUp, DIRECT_ALIGNMENT } from '../../src/layout/aligned-buffers.js';
import { createTempFile } from '../../src/layout/blob-files.js';
import { copyHashing, hashFile } from '../../src/layout/file-copy.js';
import { digestOf } from '../../src/ref/digest.js';
import { tempDir } from './fixtures.js';

let tmp: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

async function copyFile(bytes: Buffer, options: Parameters<typeof copyHashing>[2] = {}) {
  const src = join(tmp.path, 'src.bin');
  await writeFile(src, bytes);
  const source = await open(src, 'r');
  // A direct copy gets what ingestFile gives it: an O_DIRECT temp file with its probe block written.
  const dest = await createTempFile(join(tmp.path, 'ingest'), { direct: options.direct });
  try {
    if (options.direct) expect(dest.direct, `${tmp.path}: this filesystem refused O_DIRECT writes, which the direct tests need`).toBe(true);
    const written = await copyHashing(source, dest.handle, options);
    return { written, copied: await readFile(dest.path) };
  } finally {
    await source.close();
    await dest.handle.close();
  }
}

describe('copyHashing', () => {
  test.each<[string, number, { chunkSize?: number; depth?: number; writebackEvery?: number }]>([
    ['an empty file', 0, {}],
    ['a file smaller than one chunk', 1000, {}],
    ['many chunks, a ring of two, flushing often', 1_000_003, { chunkSize: 64 * 1024, depth: 2, writebackEvery: 100_000 }],
    ['many chunks, a deep ring', 777_777, { chunkSize: 4096, depth: 8, writebackEvery: 50_000 }],
    ['exactly whole chunks', 8 * 65536, { chunkSize: 65536, depth: 3 }],
    ['several default chunks', 5 * 1024 * 1024 + 17, {}],
  ])('%s', async (_name, size, options) => {
    const bytes = randomBytes(size);
    let progress = 0;
    const { written, copied } = await copyFile(bytes, { ...options, onProgress: (n) => (progress += n) });
    expect(written).toEqual({ digest: digestOf(bytes), size });
    expect(copied.equals(bytes)).toBe(true);
    expect(progress).toBe(size);
  });

  // O_DIRECT: aligned buffers, offsets and lengths, the last write padded and then truncated away.
  test.each<[string, number, { chunkSize?: number; depth?: number }]>([
    ['direct: an empty file (the probe block is truncated away)', 0, {}],
    ['direct: less than one block', 1, {}],
    ['direct: one block less a byte', DIRECT_ALIGNMENT - 1, {}],
    ['direct: exactly one block', DIRECT_ALIGNMENT, {}],
    ['direct: one block and a byte', DIRECT_ALIGNMENT + 1, { chunkSize: 2 * DIRECT_ALIGNMENT }],
    ['direct: many chunks, the last one short', 1_000_003, { chunkSize: 65536, depth: 3 }],
    ['direct: exactly whole chunks', 16 * 65536, { chunkSize: 65536 }],
    ['direct: a chunk size that is not a multiple of the alignment is rounded up', 300_001, { chunkSize: 70_000 }],
    ['direct: several default chunks', 9 * 1024 * 1024 + 5, {}],
  ])('%s', async (_name, size, options) => {
    const bytes = randomBytes(size);
    let progress = 0;
    const { written, copied } = await copyFile(bytes, { ...options, direct: true, onProgress: (n) => (progress += n) });
    expect(written).toEqual({ digest: digestOf(bytes), size });
    expect(copied.length).toBe(size);
    expect(copied.equals(bytes)).toBe(true);
    expect(progress).toBe(size);
  });

  test('direct: a file larger than its size hint is still copied whole', async () => {
    const bytes = randomBytes(300_000);
    const { written, copied } = await copyFile(bytes, { sizeHint: 10, direct: true });
    expect(written.digest).toBe(digestOf(bytes));
    expect(copied.equals(bytes)).toBe(true);
  });

  test('a file larger than its size hint is still copied whole', async () => {
    const bytes = randomBytes(300_000);
    const { written, copied } = await copyFile(bytes, { sizeHint: 10 });
    expect(written.digest).toBe(digestOf(bytes));
    expect(copied.equals(bytes)).toBe(true);
  });

  test('an abort stops the copy with an AbortError, with no write left running', async () => {
    const controller = new AbortController();
    let seen = 0;
    const err = await copyFile(randomBytes(2_000_000), {
      chunkSize: 65536,
      onProgress: (n) => {
        seen += n;
        if (seen >= 200_000) controller.abort();
      },
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(seen).toBeLessThan(2_000_000);
  });

  test('a write failure is thrown (a destination opened read-only)', async () => {
    const src = join(tmp.path, 'src.bin');
    const dst = join(tmp.path, 'dst.bin');
    await writeFile(src, randomBytes(500_000));
    await writeFile(dst, '');
    const source = await open(src, 'r');
    const dest = await open(dst, 'r');
    try {
      await expect(copyHashing(source, dest, { chunkSize: 65536 })).rejects.toMatchObject({ code: 'EBADF' });
    } finally {
      await source.close();
      await dest.close();
    }
  });
});

describe('hashFile', () => {
  async function hashOf(bytes: Buffer, options: Parameters<typeof hashFile>[1] = {}) {
    const src = join(tmp.path, 'src.bin');
    await writeFile(src, bytes);
    const source = await open(src, 'r');
    try {
      return await hashFile(source, options);
    } finally {
      await source.close();
    }
  }

  test.each<[string, number, { chunkSize?: number; sizeHint?: number }]>([
    ['an empty file', 0, {}],
    ['one short chunk', 1000, {}],
    ['whole chunks', 8 * 65536, { chunkSize: 65536 }],
    ['many chunks, the last one short', 1_000_003, { chunkSize: 65536 }],
    ['more than its size hint', 500_000, { sizeHint: 10 }],
  ])('%s', async (_name, size, options) => {
    const bytes = randomBytes(size);
    let progress = 0;
    expect(await hashOf(bytes, { ...options, onProgress: (n) => (progress += n) })).toEqual({ digest: digestOf(bytes), size });
    expect(progress).toBe(size);
  });

  test('an abort stops it with an AbortError', async () => {
    const controller = new AbortController();
    const err = await hashOf(randomBytes(1_000_000), { chunkSize: 65536, onProgress: () => controller.abort(), signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortError');
  });
});

describe('alignedBuffers', () => {
  test('gives buffers of the asked size that O_DIRECT accepts at aligned offsets', async () => {
    const buffers = alignedBuffers(3, 2 * DIRECT_ALIGNMENT);
    expect(buffers.map((b) => b.length)).toEqual([8192, 8192, 8192]);
    buffers.forEach((b, i) => b.fill(i + 1));
    expect(buffers[0]!.buffer).toBe(buffers[2]!.buffer); // one memory, no overlap
    expect([...new Set(buffers[1]!)]).toEqual([2]);
    const temp = await createTempFile(tmp.path, { direct: true });
    try {
      expect(temp.direct, `${tmp.path}: this filesystem refused O_DIRECT writes`).toBe(true);
      for (const [i, b] of buffers.entries()) await temp.handle.write(b, 0, b.length, i * b.length);
    } finally {
      await temp.handle.close();
    }
    expect((await readFile(temp.path)).equals(Buffer.concat(buffers))).toBe(true);
  });

  test('refuses sizes that are not a multiple of the alignment', () => {
    expect(() => alignedBuffers(1, 1000)).toThrow(RangeError);
    expect(() => alignedBuffers(1, 0)).toThrow(RangeError);
  });

  test('alignUp', () => {
    expect([0, 1, 4095, 4096, 4097].map(alignUp)).toEqual([0, 4096, 4096, 4096, 8192]);
  });
});
