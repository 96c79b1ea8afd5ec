import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { BlobIndex } from '../../src/cache/blob-index.js';
import { Cache, type CacheOptions } from '../../src/cache/index.js';
import { DigestMismatchError, InvalidArgumentError, InvalidContentError, LocalIOError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { MemorySource, pseudoRandomBytes } from '../read/helpers/memory-source.js';

const BS = 4096;
const dirs: string[] = [];
const caches: Cache[] = [];

afterEach(() => {
  vi.restoreAllMocks();
  for (const c of caches.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocifs-cache-test-'));
  dirs.push(dir);
  return dir;
}

function open(options: Partial<CacheOptions> & { dir: string }): Cache {
  const cache = Cache.open({ blockSize: BS, ...options });
  caches.push(cache);
  return cache;
}

function descriptorOf(bytes: Buffer): Descriptor {
  return { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length };
}

const whole = (source: MemorySource) => ({ fetchBlob: source.fetchBlob! });

/** Writes every block of `bytes` into the cache and verifies it (as range reads would). */
async function storeWhole(cache: Cache, bytes: Buffer): Promise<Descriptor> {
  const d = descriptorOf(bytes);
  const entry = cache.blobs.acquire(d);
  try {
    await entry.writeBlocks(0, bytes);
    await entry.verify();
  } finally {
    entry.release();
  }
  return d;
}

describe('opening a cache directory', () => {
  test('creates the directory, a WAL index with a schema version, and the blobs folder', () => {
    const dir = join(tempDir(), 'nested', 'cache');
    const cache = open({ dir });
    expect(existsSync(join(dir, 'index.db'))).toBe(true);
    expect(existsSync(join(dir, 'blobs'))).toBe(true);
    const db = new Database(join(dir, 'index.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(cache.stats()).toMatchObject({ blobs: 0, bytes: 0, blockSize: BS, manifests: 0, tags: 0 });
  });

  test('a path that is a file is refused with a hint', () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const err = (() => {
      try {
        Cache.open({ dir: file });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LocalIOError);
    expect((err as LocalIOError).hint).toMatch(/cache-dir/);
  });

  test('a damaged index is refused with a hint', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'index.db'), Buffer.alloc(8192, 7));
    expect(() => Cache.open({ dir })).toThrow(LocalIOError);
    try {
      Cache.open({ dir });
    } catch (e) {
      expect((e as LocalIOError).hint).toMatch(/delete the cache directory/);
    }
  });

  test('a schema newer than this code is refused', () => {
    const dir = tempDir();
    open({ dir }).close();
    const db = new Database(join(dir, 'index.db'));
    db.pragma('user_version = 999');
    db.close();
    expect(() => Cache.open({ dir })).toThrow(/newer than this ocifs understands/);
  });

  test.each([
    { name: 'block size not a power of two', options: { blockSize: 5000 } },
    { name: 'block size too small', options: { blockSize: 512 } },
    { name: 'negative size limit', options: { maxSize: -1 } },
  ])('invalid options: $name', ({ options }) => {
    expect(() => Cache.open({ dir: tempDir(), ...options })).toThrow(InvalidArgumentError);
  });

  test('the block size is fixed when the directory is created', () => {
    const dir = tempDir();
    open({ dir, blockSize: 64 * 1024 }).close();
    const lines: string[] = [];
    const cache = open({ dir, blockSize: 128 * 1024, logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    expect(cache.blockSize).toBe(64 * 1024);
    expect(lines.join('\n')).toMatch(/another block size/);
  });
});

describe('MetadataStore', () => {
  test('manifests by digest survive a reopen; bytes that are not the digest are refused', () => {
    const dir = tempDir();
    const bytes = Buffer.from('{"schemaVersion":2}');
    const digest = digestOf(bytes);
    const first = open({ dir });
    first.metadata.putManifest(digest, 'application/vnd.oci.image.manifest.v1+json', bytes);
    expect(() => first.metadata.putManifest(digest, 'x', Buffer.from('{}'))).toThrow(DigestMismatchError);
    first.close();
    const second = open({ dir });
    const got = second.metadata.getManifest(digest);
    expect(got?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(got?.bytes.equals(bytes)).toBe(true);
    expect(second.metadata.getManifest(digestOf(Buffer.from('other')))).toBeUndefined();
    expect(second.stats()).toMatchObject({ manifests: 1, manifestBytes: bytes.length });
  });

  test('tags are per scope, overwritten, and keep the time they were checked', () => {
    const cache = open({ dir: tempDir() });
    const d1: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(Buffer.from('1')), size: 1 };
    const d2: Descriptor = { ...d1, digest: digestOf(Buffer.from('2')) };
    cache.metadata.putTag('127.0.0.1:5000/eo', 'v1', d1, 1000);
    cache.metadata.putTag('127.0.0.1:5000/other', 'v1', d2, 1000);
    expect(cache.metadata.getTag('127.0.0.1:5000/eo', 'v1')).toEqual({ descriptor: d1, checkedAt: 1000 });
    cache.metadata.putTag('127.0.0.1:5000/eo', 'v1', d2, 2000);
    expect(cache.metadata.getTag('127.0.0.1:5000/eo', 'v1')).toEqual({ descriptor: d2, checkedAt: 2000 });
    expect(cache.metadata.getTag('127.0.0.1:5000/eo', 'v2')).toBeUndefined();
    expect(cache.stats().tags).toBe(2);
  });

  test('listings', () => {
    const cache = open({ dir: tempDir() });
    cache.metadata.putListing('127.0.0.1:5000/_catalog', ['a', 'b/c'], 5);
    expect(cache.metadata.getListing('127.0.0.1:5000/_catalog')).toEqual({ names: ['a', 'b/c'], checkedAt: 5 });
    cache.metadata.putListing('127.0.0.1:5000/_catalog', [], 6);
    expect(cache.metadata.getListing('127.0.0.1:5000/_catalog')).toEqual({ names: [], checkedAt: 6 });
    expect(cache.metadata.getListing('nope')).toBeUndefined();
  });
});

describe('blob bytes and blocks', () => {
  test('a new blob gets a sparse file of its size; written blocks are seen by another process without a close', async () => {
    const dir = tempDir();
    const bytes = pseudoRandomBytes(10 * BS + 100);
    const d = descriptorOf(bytes);
    const a = open({ dir });
    const entry = a.blobs.acquire(d);
    expect(statSync(entry.path).size).toBe(bytes.length);
    await entry.writeBlocks(2, bytes.subarray(2 * BS, 4 * BS));
    await entry.writeBlocks(10, bytes.subarray(10 * BS));
    expect(a.blobs.info(d.digest)).toMatchObject({ bytesPresent: 2 * BS + 100, complete: false });
    // Nothing closed or released: as if the process were killed now.
    const b = open({ dir });
    const seen = b.blobs.acquire(d);
    expect([...Array(11).keys()].filter((i) => seen.hasBlock(i))).toEqual([2, 3, 10]);
    const out = Buffer.alloc(2 * BS);
    await seen.read(out, 0, 2 * BS, 2 * BS);
    expect(out.equals(bytes.subarray(2 * BS, 4 * BS))).toBe(true);
    seen.release();
    entry.release();
  });

  test('blocks are recorded only after their bytes are in the file', async () => {
    const cache = open({ dir: tempDir() });
    const bytes = pseudoRandomBytes(8 * BS);
    const entry = cache.blobs.acquire(descriptorOf(bytes));
    const seenAtRecord: boolean[] = [];
    const original = BlobIndex.prototype.addBlocks;
    vi.spyOn(BlobIndex.prototype, 'addBlocks').mockImplementation(function (this: BlobIndex, id, blocks) {
      const onDisk = readFileSync(entry.path);
      for (const b of blocks) seenAtRecord.push(onDisk.subarray(b * BS, (b + 1) * BS).equals(bytes.subarray(b * BS, (b + 1) * BS)));
      return original.call(this, id, blocks);
    });
    await entry.writeBlocks(0, bytes.subarray(0, 3 * BS));
    await entry.writeBlocks(5, bytes.subarray(5 * BS));
    expect(seenAtRecord).toEqual([true, true, true, true, true, true]);
    entry.release();
  });

  test('bytes that are not whole blocks are refused', async () => {
    const cache = open({ dir: tempDir() });
    const entry = cache.blobs.acquire(descriptorOf(pseudoRandomBytes(4 * BS)));
    await expect(entry.writeBlocks(0, Buffer.alloc(BS + 1))).rejects.toThrow(InvalidContentError);
    await expect(entry.writeBlocks(3, Buffer.alloc(2 * BS))).rejects.toThrow(InvalidContentError);
    entry.release();
  });

  test('a blob whose last block arrives is hashed and marked complete', async () => {
    const dir = tempDir();
    const cache = open({ dir });
    const d = await storeWhole(cache, pseudoRandomBytes(5 * BS + 7));
    expect(cache.blobs.info(d.digest)).toMatchObject({ complete: true, bytesPresent: d.size });
    expect(cache.stats()).toMatchObject({ blobs: 1, completeBlobs: 1, bytes: d.size });
  });

  test('a blob assembled from wrong bytes is purged and its entry fails', async () => {
    const lines: string[] = [];
    const cache = open({ dir: tempDir(), logger: createLogger({ level: 'error', write: (l) => lines.push(l) }) });
    const bytes = pseudoRandomBytes(4 * BS);
    const d = descriptorOf(bytes);
    const wrong = Buffer.from(bytes);
    wrong[BS + 5] = wrong[BS + 5]! ^ 0xff;
    const entry = cache.blobs.acquire(d);
    await entry.writeBlocks(0, wrong);
    await expect(entry.verify()).rejects.toThrow(DigestMismatchError);
    expect(entry.failure).toBeInstanceOf(DigestMismatchError);
    await expect(entry.read(Buffer.alloc(10), 0, 10, 0)).rejects.toThrow(DigestMismatchError);
    expect(cache.blobs.info(d.digest)).toBeUndefined();
    expect(existsSync(entry.path)).toBe(false);
    expect(lines.join('\n')).toMatch(/does not match its digest/);
    entry.release();
    // A fresh open starts over.
    const again = cache.blobs.acquire(d);
    expect(again.failure).toBeUndefined();
    expect(again.hasBlock(0)).toBe(false);
    again.release();
  });

  test('a descriptor with another size than the verified blob is refused', async () => {
    const cache = open({ dir: tempDir() });
    const d = await storeWhole(cache, pseudoRandomBytes(3 * BS));
    expect(() => cache.blobs.acquire({ ...d, size: d.size + 1 })).toThrow(DigestMismatchError);
  });

  test('a digest that is not one never becomes a path', () => {
    const cache = open({ dir: tempDir() });
    expect(() => cache.blobs.acquire({ digest: 'sha256:../../etc/passwd', size: 1 })).toThrow(/invalid digest/);
  });
});

describe('ensureComplete', () => {
  test('fetches a whole blob once, verified, and returns its path', async () => {
    const cache = open({ dir: tempDir() });
    const source = new MemorySource(pseudoRandomBytes(100_000), { delayMs: 20 });
    const [p1, p2] = await Promise.all([cache.blobs.ensureComplete(source.descriptor, whole(source)), cache.blobs.ensureComplete(source.descriptor, whole(source))]);
    expect(p1).toBe(p2);
    expect(readFileSync(p1).equals(source.data)).toBe(true);
    expect(source.wholeFetches).toBe(1);
    expect(cache.blobs.info(source.descriptor.digest)).toMatchObject({ complete: true, bytesPresent: 100_000 });
    await cache.blobs.ensureComplete(source.descriptor, whole(source));
    expect(source.wholeFetches).toBe(1);
  });

  test('a source that sends wrong bytes: DigestMismatchError, nothing kept', async () => {
    const cache = open({ dir: tempDir() });
    const source = new MemorySource(pseudoRandomBytes(50_000));
    source.corrupt = (bytes) => {
      bytes[100] = bytes[100]! ^ 1;
    };
    await expect(cache.blobs.ensureComplete(source.descriptor, whole(source))).rejects.toThrow(DigestMismatchError);
    expect(cache.blobs.info(source.descriptor.digest)).toBeUndefined();
    expect(existsSync(cache.blobs.pathOf(source.descriptor.digest))).toBe(false);
  });

  test('a source that sends too many bytes is cut off', async () => {
    const cache = open({ dir: tempDir() });
    const source = new MemorySource(pseudoRandomBytes(50_000));
    const lying = { ...source.descriptor, size: 40_000 };
    await expect(cache.blobs.ensureComplete(lying, whole(source))).rejects.toThrow(/more than 40000 bytes/);
  });

  test('the empty blob needs no fetch', async () => {
    const cache = open({ dir: tempDir() });
    const source = new MemorySource(Buffer.alloc(0));
    const path = await cache.blobs.ensureComplete(source.descriptor, whole(source));
    expect(statSync(path).size).toBe(0);
    expect(source.wholeFetches).toBe(0);
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);
  });
});

describe('eviction', () => {
  test('least recently used first, never a pinned blob', async () => {
    let now = 1000;
    const cache = open({ dir: tempDir(), maxSize: 1024 ** 3, now: () => now });
    const blobs: Descriptor[] = [];
    for (let i = 0; i < 4; i++) {
      now += 10;
      blobs.push(await storeWhole(cache, pseudoRandomBytes(2 * BS, i + 1)));
    }
    const [b0, b1, b2, b3] = blobs as [Descriptor, Descriptor, Descriptor, Descriptor];
    // b1 is the oldest and open; b0, used again, is the youngest.
    now = 1000;
    const pinned = cache.blobs.acquire(b1);
    now = 2000;
    cache.blobs.acquire(b0).release();
    const result = cache.prune(4 * BS);
    expect(result).toMatchObject({ evictedBlobs: 2, freedBytes: 4 * BS, remainingBytes: 4 * BS, skippedPinned: 1 });
    expect(cache.blobs.info(b2.digest)).toBeUndefined();
    expect(cache.blobs.info(b3.digest)).toBeUndefined();
    expect(existsSync(cache.blobs.pathOf(b2.digest))).toBe(false);
    expect(cache.blobs.info(b1.digest)).toBeDefined();
    expect(cache.blobs.info(b0.digest)).toBeDefined();
    pinned.release();
    expect(cache.prune(0)).toMatchObject({ evictedBlobs: 2, remainingBytes: 0 });
  });

  test('writes that push the total over the limit evict in the background', async () => {
    const cache = open({ dir: tempDir(), maxSize: 10 * BS });
    for (let i = 0; i < 6; i++) await storeWhole(cache, pseudoRandomBytes(3 * BS, i + 10));
    await new Promise((r) => setImmediate(r));
    expect(cache.stats().bytes).toBeLessThanOrEqual(10 * BS);
    expect(cache.stats().blobs).toBeGreaterThan(0);
  });

  test('pins of a process that died do not protect a blob', async () => {
    const dir = tempDir();
    const cache = open({ dir });
    const d = await storeWhole(cache, pseudoRandomBytes(2 * BS));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const db = new Database(join(dir, 'index.db'));
    db.prepare('INSERT INTO pins (digest, owner, pid, token) VALUES (?, ?, ?, ?)').run(d.digest, 'gone', Number(dead.stdout), '1');
    db.close();
    expect(cache.stats().pinnedBlobs).toBe(0);
    expect(cache.prune(0)).toMatchObject({ evictedBlobs: 1, skippedPinned: 0 });
  });

  test('two caches on one directory: a blob open in one is not evicted by the other', async () => {
    const dir = tempDir();
    const a = open({ dir });
    const b = open({ dir });
    const d = await storeWhole(a, pseudoRandomBytes(3 * BS));
    const entry = b.blobs.acquire(d);
    expect(entry.complete).toBe(true);
    expect(a.prune(0)).toMatchObject({ evictedBlobs: 0, skippedPinned: 1 });
    expect(a.stats().pinnedBlobs).toBe(1);
    entry.release();
    expect(a.prune(0)).toMatchObject({ evictedBlobs: 1 });
    expect(b.stats().blobs).toBe(0);
  });
});

describe('maintenance', () => {
  test('verify() finds a flipped byte and purges that blob only', async () => {
    const cache = open({ dir: tempDir() });
    const good = await storeWhole(cache, pseudoRandomBytes(3 * BS, 1));
    const bad = await storeWhole(cache, pseudoRandomBytes(3 * BS, 2));
    const path = cache.blobs.pathOf(bad.digest);
    const bytes = readFileSync(path);
    bytes[2 * BS + 1] = bytes[2 * BS + 1]! ^ 0x10;
    writeFileSync(path, bytes);
    const result = await cache.verify();
    expect(result).toMatchObject({ checked: 2, ok: 1 });
    expect(result.purged.map((p) => p.digest)).toEqual([bad.digest]);
    expect(cache.blobs.info(bad.digest)).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    expect(cache.blobs.info(good.digest)?.complete).toBe(true);
  });

  test('verify() removes stray files and forgets blobs whose file vanished', async () => {
    const cache = open({ dir: tempDir() });
    const partial = descriptorOf(pseudoRandomBytes(4 * BS, 3));
    const entry = cache.blobs.acquire(partial);
    await entry.writeBlocks(0, pseudoRandomBytes(4 * BS, 3).subarray(0, BS));
    entry.release();
    rmSync(cache.blobs.pathOf(partial.digest));
    const stray = cache.blobs.pathOf(digestOf(Buffer.from('stray')));
    writeFileSync(stray, 'junk');
    const result = await cache.verify();
    expect(result).toMatchObject({ orphanFiles: 1, resetBlobs: 1 });
    expect(existsSync(stray)).toBe(false);
    expect(cache.blobs.info(partial.digest)).toBeUndefined();
  });

  test('clear() removes everything that is not open', async () => {
    const cache = open({ dir: tempDir() });
    const kept = await storeWhole(cache, pseudoRandomBytes(2 * BS, 1));
    const gone = await storeWhole(cache, pseudoRandomBytes(2 * BS, 2));
    const manifest = Buffer.from('{}');
    cache.metadata.putManifest(digestOf(manifest), 'application/json', manifest);
    cache.metadata.putTag('r/x', 'v1', descriptorOf(manifest), 1);
    const entry = cache.blobs.acquire(kept);
    expect(cache.clear()).toMatchObject({ removedBlobs: 1, keptPinned: 1 });
    expect(cache.blobs.info(gone.digest)).toBeUndefined();
    expect(cache.blobs.info(kept.digest)).toBeDefined();
    expect(cache.metadata.getManifest(digestOf(manifest))).toBeUndefined();
    expect(cache.stats()).toMatchObject({ manifests: 0, tags: 0, blobs: 1 });
    entry.release();
  });

  test('close() drops the pins of this process', async () => {
    const dir = tempDir();
    const a = open({ dir });
    const d = await storeWhole(a, pseudoRandomBytes(2 * BS));
    a.blobs.acquire(d);
    const b = open({ dir });
    expect(b.stats().pinnedBlobs).toBe(1);
    a.close();
    expect(b.stats().pinnedBlobs).toBe(0);
    expect(() => a.stats()).toThrow(/closed/);
    expect(() => a.metadata.getTag('r/x', 'v1')).toThrow(LocalIOError);
  });
});

describe('readWrittenSync', () => {
  test('serves blocks this entry wrote, and nothing else', async () => {
    const dir = tempDir();
    const cache = open({ dir });
    const bytes = pseudoRandomBytes(6 * BS);
    const d = descriptorOf(bytes);
    const entry = cache.blobs.acquire(d);
    await entry.writeBlocks(0, bytes.subarray(0, 2 * BS));
    const buffer = Buffer.alloc(BS);
    expect(entry.readWrittenSync(buffer, 0, BS, BS / 2)).toBe(BS);
    expect(buffer.equals(bytes.subarray(BS / 2, BS / 2 + BS))).toBe(true);
    expect(entry.readWrittenSync(buffer, 0, BS, 2 * BS - 10)).toBeUndefined(); // runs into block 2
    entry.release();

    // Another entry (a reopen, another process) has not written them: the async path serves it.
    const again = cache.blobs.acquire(d);
    expect(again.hasBlock(0)).toBe(true);
    expect(again.readWrittenSync(buffer, 0, 10, 0)).toBeUndefined();
    again.release();
  });
});
