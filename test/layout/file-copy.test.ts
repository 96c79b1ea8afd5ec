/** copyHashing: one pass, the bytes written are the bytes hashed, whatever the chunking. */
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { copyHashing } from '../../src/layout/file-copy.js';
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
  const dst = join(tmp.path, 'dst.bin');
  await writeFile(src, bytes);
  const source = await open(src, 'r');
  const dest = await open(dst, 'wx');
  try {
    const written = await copyHashing(source, dest, options);
    return { written, copied: await readFile(dst) };
  } finally {
    await source.close();
    await dest.close();
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
