import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { BlobEntry, Cache } from '../../src/cache/index.js';
import * as fileIo from '../../src/cache/file-io.js';
import { RunningDigest } from '../../src/cache/running-digest.js';
import { DigestMismatchError } from '../../src/errors.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { pseudoRandomBytes } from '../read/helpers/memory-source.js';

// hashFile is the whole-file pass that the running digest replaces: watch whether it runs.
vi.mock('../../src/cache/file-io.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/cache/file-io.js')>();
  return { ...original, hashFile: vi.fn(original.hashFile) };
});

const BS = 4096;
const dirs: string[] = [];
const caches: Cache[] = [];

afterEach(() => {
  vi.mocked(fileIo.hashFile).mockClear();
  vi.restoreAllMocks();
  for (const c of caches.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openCache(dir?: string): Cache {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'ocifs-running-digest-'));
  if (!dir) dirs.push(d);
  const cache = Cache.open({ dir: d, blockSize: BS });
  caches.push(cache);
  return cache;
}

function descriptorOf(bytes: Buffer): Descriptor {
  return { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length };
}

/** A ReadFn over `bytes` that records what it was asked for. */
function reader(bytes: Buffer, log: { position: number; length: number }[] = []) {
  return async (buffer: Buffer, length: number, position: number) => {
    log.push({ position, length });
    return bytes.copy(buffer, 0, position, position + length);
  };
}

describe('RunningDigest', () => {
  const bytes = pseudoRandomBytes(10 * BS + 17);
  const blocks = (first: number, last: number) => bytes.subarray(first * BS, Math.min(bytes.length, (last + 1) * BS));

  test('bytes offered in order give the digest without any read', async () => {
    const r = new RunningDigest('sha256', bytes.length);
    expect(r.offer(0, blocks(0, 3))).toBe(true);
    expect(r.offer(4 * BS, blocks(4, 10))).toBe(true);
    expect(r.result()).toBe(digestOf(bytes));
  });

  test('bytes ahead of a gap are refused, then read back once the gap closes', async () => {
    const present = new Set<number>();
    const presentEnd = (from: number, limit: number) => {
      let b = Math.floor(from / BS);
      while (b * BS < Math.min(limit, bytes.length) && present.has(b)) b++;
      return Math.min(limit, bytes.length, b * BS);
    };
    const reads: { position: number; length: number }[] = [];
    const r = new RunningDigest('sha256', bytes.length);
    for (const b of [4, 5, 6, 7, 8, 9, 10]) present.add(b);
    expect(r.offer(4 * BS, blocks(4, 10))).toBe(false);
    await r.catchUp(presentEnd, reader(bytes, reads)); // nothing contiguous from 0 yet
    expect(reads).toEqual([]);
    for (const b of [0, 1, 2, 3]) present.add(b);
    expect(r.offer(0, blocks(0, 3))).toBe(true);
    expect(r.result()).toBeUndefined();
    await r.catchUp(presentEnd, reader(bytes, reads));
    expect(reads).toEqual([{ position: 4 * BS, length: bytes.length - 4 * BS }]);
    expect(r.result()).toBe(digestOf(bytes));
  });

  test('an offer while a catch-up is reading is left to the catch-up', async () => {
    const r = new RunningDigest('sha256', bytes.length);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let presentUpTo = 2 * BS;
    const catching = r.catchUp(
      (from, limit) => Math.min(limit, presentUpTo, bytes.length) > from ? Math.min(limit, presentUpTo, bytes.length) : from,
      async (buffer, length, position) => {
        await gate;
        return bytes.copy(buffer, 0, position, position + length);
      },
    );
    presentUpTo = bytes.length;
    expect(r.offer(0, blocks(0, 10))).toBe(false);
    release();
    await catching;
    expect(r.result()).toBe(digestOf(bytes));
  });

  test('a short read rejects', async () => {
    const r = new RunningDigest('sha256', bytes.length);
    await expect(r.catchUp(() => bytes.length, async () => 3)).rejects.toThrow(/3 bytes at 0/);
  });
});

describe('a cached blob verified as it arrives', () => {
  test('blocks written in order complete it without reading the file back', async () => {
    const cache = openCache();
    const bytes = pseudoRandomBytes(12 * BS + 5);
    const entry = cache.blobs.acquire(descriptorOf(bytes));
    const reads = vi.spyOn(BlobEntry.prototype, 'read');
    for (let b = 0; b < 13; b += 4) await entry.writeBlocks(b, bytes.subarray(b * BS, (b + 4) * BS));
    await entry.verify();
    expect(entry.complete).toBe(true);
    expect(reads).not.toHaveBeenCalled();
    expect(fileIo.hashFile).not.toHaveBeenCalled();
    entry.release();
  });

  test('blocks written out of order: only those that came early are read back', async () => {
    const cache = openCache();
    const bytes = pseudoRandomBytes(12 * BS);
    const entry = cache.blobs.acquire(descriptorOf(bytes));
    const reads = vi.spyOn(BlobEntry.prototype, 'read');
    await entry.writeBlocks(8, bytes.subarray(8 * BS));
    await entry.writeBlocks(0, bytes.subarray(0, 4 * BS));
    await entry.writeBlocks(4, bytes.subarray(4 * BS, 8 * BS));
    await entry.verify();
    expect(entry.complete).toBe(true);
    const readBytes = reads.mock.calls.reduce((sum, call) => sum + (call[2] as number), 0);
    expect(readBytes).toBe(4 * BS);
    expect(fileIo.hashFile).not.toHaveBeenCalled();
    entry.release();
  });

  test('wrong bytes are still found: the blob is purged', async () => {
    const cache = openCache();
    const bytes = pseudoRandomBytes(8 * BS);
    const wrong = Buffer.from(bytes);
    wrong[5 * BS + 1] = wrong[5 * BS + 1]! ^ 0x01;
    const d = descriptorOf(bytes);
    const entry = cache.blobs.acquire(d);
    await entry.writeBlocks(0, wrong.subarray(0, 4 * BS));
    await entry.writeBlocks(4, wrong.subarray(4 * BS));
    await expect(entry.verify()).rejects.toThrow(DigestMismatchError);
    expect(cache.blobs.info(d.digest)).toBeUndefined();
    entry.release();
  });

  test('after a restart the blocks already on disk are read back, and the blob completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocifs-running-digest-'));
    dirs.push(dir);
    const bytes = pseudoRandomBytes(8 * BS);
    const d = descriptorOf(bytes);
    const first = openCache(dir);
    const e1 = first.blobs.acquire(d);
    await e1.writeBlocks(0, bytes.subarray(0, 6 * BS));
    e1.release();
    first.close();

    const second = openCache(dir);
    const e2 = second.blobs.acquire(d);
    const reads = vi.spyOn(BlobEntry.prototype, 'read');
    await e2.writeBlocks(6, bytes.subarray(6 * BS));
    await e2.verify();
    expect(e2.complete).toBe(true);
    // The new blocks came after a gap too (the digest started at 0): one pass, as before.
    expect(reads.mock.calls.reduce((sum, call) => sum + (call[2] as number), 0)).toBe(8 * BS);
    e2.release();
  });
});
