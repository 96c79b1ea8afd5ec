import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { BlobIndex } from '../../src/cache/blob-index.js';
import { BlobEntry, Cache } from '../../src/cache/index.js';
import { DigestMismatchError, localIOError, NotFoundError, OcifsError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { BlobReader, type BlobHandle, type ReaderOptions } from '../../src/read/index.js';
import { MemorySource, pseudoRandomBytes } from './helpers/memory-source.js';

const K = 1024;
const M = 1024 * K;
const BS = 256 * K;

const dirs: string[] = [];
const caches: Cache[] = [];
const handles: BlobHandle[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const h of handles.splice(0)) await h.close();
  for (const c of caches.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ocifs-read-test-'));
  dirs.push(dir);
  return dir;
}

function setup(options: Partial<ReaderOptions> = {}, dir = tempDir()) {
  const cache = Cache.open({ dir, blockSize: BS, maxSize: 1024 * M });
  caches.push(cache);
  const reader = new BlobReader({ cache, maxRequestSize: 2 * M, ...options });
  return { cache, reader, dir };
}

async function openHandle(reader: BlobReader, source: MemorySource): Promise<BlobHandle> {
  const h = await reader.open(source.descriptor, source);
  handles.push(h);
  return h;
}

async function readAt(h: BlobHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const n = await h.read(buffer, length, position);
  return buffer.subarray(0, n);
}

describe('serving bytes', () => {
  const data = pseudoRandomBytes(3 * M + 123);
  test.each([
    { name: 'the first bytes', position: 0, length: 100 },
    { name: 'across a block boundary', position: BS - 10, length: 20 },
    { name: 'several whole blocks', position: BS, length: 3 * BS },
    { name: 'the short last block', position: 3 * M, length: 123 },
    { name: 'a read running past the end is cut', position: 3 * M + 100, length: 1000 },
    { name: 'at the end: nothing', position: 3 * M + 123, length: 10 },
    { name: 'past the end: nothing', position: 10 * M, length: 10 },
  ])('$name', async ({ position, length }) => {
    const { reader } = setup();
    const h = await openHandle(reader, new MemorySource(data));
    const got = await readAt(h, position, length);
    expect(got.equals(data.subarray(position, position + length))).toBe(true);
  });

  test('counters add up', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    const h = await openHandle(reader, source);
    await readAt(h, 0, 1000);
    await readAt(h, 10, 1000);
    expect(reader.counters).toEqual({ requests: 1, bytesFetched: BS, cacheHits: 1, cacheMisses: 1, bytesServed: 2000 });
  });
});

describe('what gets fetched', () => {
  test('concurrent reads of one block, from two handles, share one request', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(8 * M), { delayMs: 50 });
    const a = await openHandle(reader, source);
    const b = await openHandle(reader, source);
    const reads = await Promise.all([readAt(a, 1000, 100), readAt(b, 2000, 100), readAt(a, 5000, 4096), readAt(b, BS - 100, 100)]);
    expect(source.ranges).toEqual([{ offset: 0, length: BS }]);
    expect(reads[1]!.equals(source.data.subarray(2000, 2100))).toBe(true);
  });

  test('a sequential reader causes few, large requests and a bounded number in flight', async () => {
    const { reader } = setup({ maxInFlight: 3 });
    const source = new MemorySource(pseudoRandomBytes(24 * M), { delayMs: 2 });
    const h = await openHandle(reader, source);
    const copy = Buffer.alloc(source.data.length);
    for (let pos = 0; pos < copy.length; pos += 128 * K) {
      const n = await h.read(copy.subarray(pos), 128 * K, pos);
      expect(n).toBe(128 * K);
    }
    expect(copy.equals(source.data)).toBe(true);
    expect(source.ranges.length).toBeLessThanOrEqual(20);
    expect(Math.max(...source.ranges.map((r) => r.length))).toBe(2 * M);
    expect(source.bytesSent).toBe(source.data.length); // nothing fetched twice
    expect(source.maxInFlight).toBeLessThanOrEqual(3 + 1); // read-ahead plus the read itself
    expect(reader.counters.cacheHits).toBeGreaterThan(150);
  });

  test.each([
    // initialReadAhead, how far past the read position the first batch reaches
    [undefined, 2 * M], // default: twice the sequential threshold
    [512 * K, 512 * K],
  ])('the first read-ahead batch with initialReadAhead %s reaches %i bytes ahead', async (initialReadAhead, ahead) => {
    // maxDemandFetch 0: only read-ahead reaches past the reads here.
    const { reader } = setup({ sequentialThreshold: M, maxInFlight: 8, maxDemandFetch: 0, ...(initialReadAhead ? { initialReadAhead } : {}) });
    const source = new MemorySource(pseudoRandomBytes(32 * M));
    const h = await openHandle(reader, source);
    let pos = 0;
    while (source.ranges.every((r) => r.offset + r.length <= pos + 128 * K)) pos += (await readAt(h, pos, 128 * K)).length;
    const reach = Math.max(...source.ranges.map((r) => r.offset + r.length));
    expect(reach - pos).toBeGreaterThanOrEqual(ahead - BS);
    expect(reach - pos).toBeLessThanOrEqual(ahead + BS);
  });

  test.each([
    { maxDemandFetch: undefined, maxRequests: 6 },
    { maxDemandFetch: 0, maxRequests: 12 },
  ])('a tile read in 128 KiB pieces, as the kernel sends it, with maxDemandFetch $maxDemandFetch: at most $maxRequests requests', async ({ maxDemandFetch, maxRequests }) => {
    // As mount configures it: read-ahead only after 4 MiB, so a tile alone never starts it.
    const { reader } = setup({ sequentialThreshold: 4 * M, maxRequestSize: 8 * M, ...(maxDemandFetch !== undefined ? { maxDemandFetch } : {}) });
    const source = new MemorySource(pseudoRandomBytes(32 * M));
    const h = await openHandle(reader, source);
    const tile = { offset: 5 * M + 12 * K, length: 2700 * K }; // two adjacent COG tiles, ~2.7 MB
    for (let pos = tile.offset; pos < tile.offset + tile.length; pos += 128 * K) {
      const got = await readAt(h, pos, 128 * K);
      expect(got.equals(source.data.subarray(pos, pos + 128 * K))).toBe(true);
    }
    expect(source.ranges.length).toBeLessThanOrEqual(maxRequests);
    expect(source.ranges.length).toBeGreaterThan(maxRequests / 2);
    // What grows past the tile is bounded by the last fetch (at most 2 MiB) plus block rounding.
    expect(source.bytesSent).toBeLessThanOrEqual(tile.length + 2 * M + 2 * BS);
  });

  test('random 16 KiB reads fetch only the blocks they touch', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(32 * M));
    const h = await openHandle(reader, source);
    const offsets = Array.from({ length: 20 }, (_, i) => ((i * 7919) % 20) * 1.5 * M + 12345);
    for (const offset of offsets) {
      const got = await readAt(h, offset, 16 * K);
      expect(got.equals(source.data.subarray(offset, offset + 16 * K))).toBe(true);
    }
    expect(source.ranges).toHaveLength(20);
    expect(source.bytesSent).toBe(20 * BS);
  });

  test('several sequential streams in one handle each get read-ahead', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(30 * M));
    const h = await openHandle(reader, source);
    const starts = [0, 10 * M, 20 * M];
    for (let step = 0; step < 48; step++) {
      await Promise.all(starts.map((s) => readAt(h, s + step * 128 * K, 128 * K)));
    }
    // 3 x 6 MiB = 72 blocks read: with read-ahead, far fewer requests than blocks, mostly large.
    const large = source.ranges.filter((r) => r.length >= 1 * M).reduce((sum, r) => sum + r.length, 0);
    expect(large / source.bytesSent).toBeGreaterThan(0.75);
    expect(source.ranges.length).toBeLessThan(72 / 2);
  });

  test('a fully cached read touches neither SQLite nor the source', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(16 * M));
    const h = await openHandle(reader, source);
    await readAt(h, 5 * M, 3 * BS); // a partial blob: some blocks cached
    // A new handle, so the read below starts a cursor instead of continuing one into read-ahead.
    const h2 = await openHandle(reader, source);
    const requests = source.requests;
    const spies = (['getById', 'blocksIn', 'blocks', 'addBlocks', 'touch', 'transaction', 'get'] as const).map((m) => vi.spyOn(BlobIndex.prototype, m));
    const got = await readAt(h2, 5 * M + 1000, 2 * BS);
    expect(got.equals(source.data.subarray(5 * M + 1000, 5 * M + 1000 + 2 * BS))).toBe(true);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    expect(source.requests).toBe(requests);
  });

  test('a second handle after the first closed reads from the cache', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    const a = await reader.open(source.descriptor, source);
    await readAt(a, 0, 4 * M);
    await a.close();
    const b = await openHandle(reader, source);
    const requests = source.requests;
    expect((await readAt(b, 1 * M, 2 * M)).equals(source.data.subarray(1 * M, 3 * M))).toBe(true);
    expect(source.requests).toBe(requests);
  });
});

describe('small blobs', () => {
  test('are fetched whole and verified before any byte is served', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(100_000));
    const h = await openHandle(reader, source);
    expect((await readAt(h, 50_000, 10)).equals(source.data.subarray(50_000, 50_010))).toBe(true);
    expect(source.wholeFetches).toBe(1);
    expect(source.ranges).toHaveLength(0);
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);
  });

  test('with wrong bytes: DigestMismatchError, nothing served, nothing kept', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(100_000));
    source.corrupt = (bytes) => bytes.fill(0, 10, 20);
    const h = await openHandle(reader, source);
    const buffer = Buffer.alloc(100, 0xaa);
    await expect(h.read(buffer, 100, 0)).rejects.toThrow(DigestMismatchError);
    expect(buffer.every((b) => b === 0xaa)).toBe(true);
    expect(cache.blobs.info(source.descriptor.digest)).toBeUndefined();
  });

  test('a source without whole-blob fetches: one Range request, hashed before serving', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(300_000), { wholeFetch: false });
    const h = await openHandle(reader, source);
    expect((await readAt(h, 299_990, 10)).equals(source.data.subarray(299_990))).toBe(true);
    expect(source.ranges).toEqual([{ offset: 0, length: 300_000 }]);
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);

    const bad = new MemorySource(pseudoRandomBytes(300_000, 9), { wholeFetch: false });
    bad.corrupt = (bytes) => bytes.fill(1, 0, 1);
    const hb = await openHandle(reader, bad);
    await expect(readAt(hb, 0, 10)).rejects.toThrow(DigestMismatchError);
  });

  test('the empty blob reads as empty without any request', async () => {
    const { reader } = setup();
    const source = new MemorySource(Buffer.alloc(0));
    const h = await openHandle(reader, source);
    expect(await h.read(Buffer.alloc(10), 10, 0)).toBe(0);
    expect(source.requests).toBe(0);
  });
});

describe('integrity and failures', () => {
  test('a large blob assembled from wrong bytes is purged once complete, and its reads fail', async () => {
    const lines: string[] = [];
    const dir = tempDir();
    const cache = Cache.open({ dir, blockSize: BS, logger: createLogger({ level: 'error', write: (l) => lines.push(l) }) });
    caches.push(cache);
    const reader = new BlobReader({ cache });
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    source.corrupt = (bytes, offset) => {
      if (offset <= 3 * M && offset + bytes.length > 3 * M) bytes[3 * M - offset] = bytes[3 * M - offset]! ^ 1;
    };
    const reported: string[] = [];
    Object.assign(source, { reportBadContent: (digest: string) => reported.push(digest) });
    const h = await openHandle(reader, source);
    await readAt(h, 0, 4 * M);
    let failure: unknown;
    for (let i = 0; i < 200 && !failure; i++) {
      await new Promise((r) => setTimeout(r, 10));
      failure = await readAt(h, 0, 10).then(() => undefined, (err: unknown) => err);
    }
    expect(failure).toBeInstanceOf(DigestMismatchError);
    expect(cache.blobs.info(source.descriptor.digest)).toBeUndefined();
    expect(lines.join('\n')).toMatch(/does not match its digest/);
    // The source is told, so it can stop trusting where the bytes came from (a mirror).
    expect(reported).toEqual([source.descriptor.digest]);

    // Once the source is right again, a new open fetches afresh.
    source.corrupt = undefined;
    const again = await openHandle(reader, source);
    expect((await readAt(again, 3 * M - 5, 10)).equals(source.data.subarray(3 * M - 5, 3 * M + 5))).toBe(true);
  });

  test('a blob whose blocks are all present but never verified (killed while hashing) is verified on open', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(3 * M));
    const entry = cache.blobs.acquire(source.descriptor);
    await entry.writeBlocks(0, source.data);
    entry.release();
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(false);
    await openHandle(reader, source);
    for (let i = 0; i < 100 && !cache.blobs.info(source.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);
    expect(source.requests).toBe(0);
  });

  test('a source error reaches the caller as it was thrown, and the next read tries again', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    source.failures.push(new OcifsError('UNREACHABLE', 'connection refused'));
    const h = await openHandle(reader, source);
    await expect(readAt(h, 0, 100)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect((await readAt(h, 0, 100)).equals(source.data.subarray(0, 100))).toBe(true);
  });

  test('a source that returns a short range is not believed', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    const original = source.fetchBlobRange.bind(source);
    source.fetchBlobRange = async (d, o, l, opts) => (await original(d, o, l, opts)).subarray(1);
    const h = await openHandle(reader, source);
    await expect(readAt(h, 0, 100)).rejects.toThrow(DigestMismatchError);
  });

  describe('a source that fills the reader\'s buffers (fetchBlobRangeInto)', () => {
    /** Fills targets via the plain fetch; remembers which memory it was handed. */
    class FillingSource extends MemorySource {
      readonly targets: ArrayBufferLike[] = [];
      async fetchBlobRangeInto(descriptor: typeof this.descriptor, offset: number, target: Buffer): Promise<number> {
        this.targets.push(target.buffer);
        const bytes = await this.fetchBlobRange(descriptor, offset, target.length);
        bytes.copy(target);
        return bytes.length;
      }
    }

    test('a sequential read reuses request buffers and still serves the right bytes', async () => {
      const { reader } = setup({ maxInFlight: 2 });
      const source = new FillingSource(pseudoRandomBytes(24 * M + 5), { delayMs: 1 });
      const h = await openHandle(reader, source);
      const copy = Buffer.alloc(source.data.length);
      for (let pos = 0; pos < copy.length; ) pos += await h.read(copy.subarray(pos), 128 * K, pos);
      expect(copy.equals(source.data)).toBe(true);
      expect(source.targets.length).toBeGreaterThan(10);
      expect(new Set(source.targets).size).toBeLessThan(source.targets.length / 2); // recycled
      expect(source.bytesSent).toBe(source.data.length);
    });

    test('when the cache cannot store bytes, the pooled response still serves the read', async () => {
      const { reader } = setup();
      const source = new FillingSource(pseudoRandomBytes(4 * M));
      vi.spyOn(BlobEntry.prototype, 'writeBlocks').mockRejectedValue(
        localIOError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'cannot write'),
      );
      const h = await openHandle(reader, source);
      expect((await readAt(h, BS - 50, 100)).equals(source.data.subarray(BS - 50, BS + 50))).toBe(true);
      expect((await readAt(h, 3 * M, 300)).equals(source.data.subarray(3 * M, 3 * M + 300))).toBe(true);
    });
  });

  test('when the cache cannot store bytes, the read is still served from the response', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    vi.spyOn(BlobEntry.prototype, 'writeBlocks').mockRejectedValue(
      localIOError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'cannot write'),
    );
    const h = await openHandle(reader, source);
    expect((await readAt(h, BS - 50, 100)).equals(source.data.subarray(BS - 50, BS + 50))).toBe(true);
  });

  test('a closed handle refuses reads; closing twice is harmless', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(4 * M));
    const h = await reader.open(source.descriptor, source);
    await h.close();
    await h.close();
    await expect(readAt(h, 0, 10)).rejects.toMatchObject({ code: 'BAD_HANDLE' });
  });

  test('closing waits for reads in progress and stops read-ahead', async () => {
    const { reader } = setup();
    const source = new MemorySource(pseudoRandomBytes(32 * M), { delayMs: 30 });
    const h = await reader.open(source.descriptor, source);
    for (let pos = 0; pos < 1 * M; pos += 128 * K) await readAt(h, pos, 128 * K);
    const pending = readAt(h, 1 * M, 128 * K);
    await h.close();
    expect((await pending).equals(source.data.subarray(1 * M, 1 * M + 128 * K))).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(source.inFlight).toBe(0);
  });
});

test('closing the cache under a read in flight: the read gets its own bytes, later reads fail cleanly', async () => {
  const { reader, cache } = setup();
  const source = new MemorySource(pseudoRandomBytes(4 * M), { delayMs: 40 });
  const h = await openHandle(reader, source);
  const pending = readAt(h, 2 * M + 5, 1000);
  await new Promise((r) => setTimeout(r, 10));
  cache.close();
  expect((await pending).equals(source.data.subarray(2 * M + 5, 2 * M + 1005))).toBe(true);
  await expect(readAt(h, 0, 10)).rejects.toThrow(/closed/);
});

describe('a source that streams read-ahead into the cache (streamBlobRange)', () => {
  /** Streams the plain fetch in 64 KiB pieces; `gate` (when set) holds the stream at that offset. */
  class StreamingSource extends MemorySource {
    gate: { at: number; open: Promise<void> } | undefined;
    streamed = 0;
    async streamBlobRange(
      descriptor: typeof this.descriptor,
      offset: number,
      length: number,
      sink: (piece: Buffer) => void | Promise<void>,
      options?: { signal?: AbortSignal },
    ): Promise<number> {
      this.streamed++;
      const bytes = await this.fetchBlobRange(descriptor, offset, length, options);
      for (let at = 0; at < bytes.length; at += 64 * K) {
        if (this.gate && offset + at >= this.gate.at) await this.gate.open;
        const pending = sink(bytes.subarray(at, at + 64 * K));
        if (pending) await pending;
      }
      return bytes.length;
    }
  }

  test('a sequential read gets the right bytes with few, large requests, and the blob completes', async () => {
    const { reader, cache } = setup({ maxStreamRequestSize: 8 * M, maxReadAhead: 16 * M });
    const source = new StreamingSource(pseudoRandomBytes(40 * M + 5));
    const h = await openHandle(reader, source);
    const copy = Buffer.alloc(source.data.length);
    for (let pos = 0; pos < copy.length; ) pos += await h.read(copy.subarray(pos), 128 * K, pos);
    expect(copy.equals(source.data)).toBe(true);
    expect(source.bytesSent).toBe(source.data.length); // nothing fetched twice
    expect(source.streamed).toBeGreaterThan(0);
    expect(Math.max(...source.ranges.map((r) => r.length))).toBe(8 * M); // beyond maxRequestSize (2 MiB)
    expect(source.ranges.length).toBeLessThan(20);
    for (let i = 0; i < 100 && !cache.blobs.info(source.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);
  });

  test('a read waits for its block only, not for the rest of the streamed request', async () => {
    const { reader } = setup({ sequentialThreshold: 256 * K, maxStreamRequestSize: 16 * M, initialReadAhead: 16 * M, maxDemandFetch: 0 });
    const source = new StreamingSource(pseudoRandomBytes(32 * M));
    let open!: () => void;
    source.gate = { at: 12 * M, open: new Promise<void>((resolve) => (open = resolve)) };
    const h = await openHandle(reader, source);
    for (let pos = 0; pos < M; pos += 128 * K) await readAt(h, pos, 128 * K); // starts read-ahead from 1 MiB
    const streamedRun = source.ranges.find((r) => r.length > 8 * M);
    expect(streamedRun).toBeDefined();
    // 4 MiB is inside the streamed run, which is held at 12 MiB: the read must not wait for it.
    const got = await readAt(h, 4 * M, 128 * K);
    expect(got.equals(source.data.subarray(4 * M, 4 * M + 128 * K))).toBe(true);
    open();
    expect((await readAt(h, 20 * M, 128 * K)).equals(source.data.subarray(20 * M, 20 * M + 128 * K))).toBe(true);
  });

  test('a stream that breaks midway keeps what it stored; the reader of a later block fetches it again', async () => {
    const { reader } = setup({ sequentialThreshold: 256 * K, maxStreamRequestSize: 16 * M, initialReadAhead: 16 * M, maxDemandFetch: 0 });
    const source = new StreamingSource(pseudoRandomBytes(32 * M));
    let fail!: (err: Error) => void;
    source.gate = { at: 6 * M, open: new Promise<void>((_, reject) => (fail = reject)) };
    const h = await openHandle(reader, source);
    for (let pos = 0; pos < M; pos += 128 * K) await readAt(h, pos, 128 * K);
    const later = readAt(h, 10 * M, 128 * K); // waits on the streamed run, past the break
    await new Promise((r) => setTimeout(r, 20));
    fail(new OcifsError('UNREACHABLE', 'connection reset'));
    expect((await later).equals(source.data.subarray(10 * M, 10 * M + 128 * K))).toBe(true);
    source.gate = undefined;
    const requests = source.requests;
    expect((await readAt(h, 3 * M, 128 * K)).equals(source.data.subarray(3 * M, 3 * M + 128 * K))).toBe(true);
    expect(source.requests).toBe(requests); // stored before the break
  });

  test('wrong bytes in a streamed request: the blob is purged once whole and reads fail', async () => {
    const { reader, cache } = setup({ maxStreamRequestSize: 8 * M });
    const source = new StreamingSource(pseudoRandomBytes(12 * M));
    source.corrupt = (bytes, offset) => {
      if (offset <= 9 * M && offset + bytes.length > 9 * M) bytes[9 * M - offset] = bytes[9 * M - offset]! ^ 1;
    };
    const h = await openHandle(reader, source);
    // Reads succeed until the last block arrives and the digest is checked; then all fail.
    let failure: unknown;
    for (let pos = 0; pos < 12 * M && !failure; pos += 128 * K) failure = await readAt(h, pos, 128 * K).then(() => undefined, (err: unknown) => err);
    for (let i = 0; i < 300 && !failure; i++) {
      failure = await readAt(h, 11 * M, 10).then(() => undefined, (err: unknown) => err);
      if (!failure) await new Promise((r) => setTimeout(r, 10));
    }
    expect(failure).toBeInstanceOf(DigestMismatchError);
    expect(cache.blobs.info(source.descriptor.digest)).toBeUndefined();
  });
});

describe('pins and sharing', () => {
  test('an open blob is not evicted; once closed it may be', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(2 * M));
    const h = await reader.open(source.descriptor, source);
    await readAt(h, 0, 2 * M);
    for (let i = 0; i < 100 && !cache.blobs.info(source.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.prune(0)).toMatchObject({ evictedBlobs: 0, skippedPinned: 1 });
    await h.close();
    expect(cache.prune(0)).toMatchObject({ evictedBlobs: 1 });
  });

  test('two daemons on one cache directory share what either fetched', async () => {
    const dir = tempDir();
    const a = setup({}, dir);
    const b = setup({}, dir);
    const data = pseudoRandomBytes(12 * M);
    const sourceA = new MemorySource(data, { delayMs: 1 });
    const sourceB = new MemorySource(data, { delayMs: 1 });
    const ha = await openHandle(a.reader, sourceA);
    const hb = await openHandle(b.reader, sourceB);
    await readAt(ha, 0, 1 * M);
    expect((await readAt(hb, 100, 1 * M - 100)).equals(data.subarray(100, 1 * M))).toBe(true);
    expect(sourceB.requests).toBe(0);
    // Both read everything at once: bytes stay right, and the blob ends verified.
    const [ra, rb] = await Promise.all([readAt(ha, 0, 12 * M), readAt(hb, 0, 12 * M)]);
    expect(ra.equals(data) && rb.equals(data)).toBe(true);
    for (let i = 0; i < 100 && !a.cache.blobs.info(sourceA.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    expect(a.cache.blobs.info(sourceA.descriptor.digest)?.complete).toBe(true);
  });
});

describe('readSync', () => {
  test('serves a complete blob synchronously; a partial one is left to read()', async () => {
    const { reader, cache } = setup();
    const source = new MemorySource(pseudoRandomBytes(3 * M));
    const h = await openHandle(reader, source);
    const buffer = Buffer.alloc(1000);
    expect(h.readSync(buffer, 1000, 5)).toBeUndefined(); // nothing cached yet
    await readAt(h, 0, 3 * BS);
    expect(h.readSync(buffer, 1000, 5)).toBeUndefined(); // cached but not verified: not "local"
    expect(source.requests).toBeGreaterThan(0);
    await readAt(h, 0, 3 * M);
    for (let i = 0; i < 100 && !cache.blobs.info(source.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    const served = reader.counters.bytesServed;
    expect(h.readSync(buffer, 1000, 2 * M + 7)).toBe(1000);
    expect(buffer.equals(source.data.subarray(2 * M + 7, 2 * M + 1007))).toBe(true);
    expect(h.readSync(buffer, 1000, 3 * M)).toBe(0); // at the end
    expect(reader.counters.bytesServed).toBe(served + 1000);
    await h.close();
    expect(h.readSync(buffer, 1000, 0)).toBeUndefined(); // closed: read() says why
    await expect(h.read(buffer, 1000, 0)).rejects.toMatchObject({ code: 'BAD_HANDLE' });
  });

  test('a layout blob is always served synchronously', async () => {
    const { reader } = setup();
    const dir = tempDir();
    const source = new MemorySource(pseudoRandomBytes(M));
    writeFileSync(join(dir, 'blob'), source.data);
    const h = await openHandle(reader, Object.assign(source, { blobPath: () => join(dir, 'blob') }));
    const buffer = Buffer.alloc(100);
    expect(h.readSync(buffer, 100, 12345)).toBe(100);
    expect(buffer.equals(source.data.subarray(12345, 12445))).toBe(true);
    expect(h.readSync(buffer, 100, M - 10)).toBe(10);
    expect(source.requests).toBe(0);
  });
});

describe('local layout blobs', () => {
  test('are read in place, without the cache or any request', async () => {
    const { reader, cache } = setup();
    const dir = tempDir();
    const source = new MemorySource(pseudoRandomBytes(3 * M));
    const path = join(dir, 'blob');
    writeFileSync(path, source.data);
    const local = Object.assign(source, { blobPath: () => path });
    const h = await openHandle(reader, local);
    expect((await readAt(h, 1 * M + 3, 5000)).equals(source.data.subarray(1 * M + 3, 1 * M + 5003))).toBe(true);
    expect(await h.read(Buffer.alloc(10), 10, 3 * M)).toBe(0);
    expect(source.requests).toBe(0);
    expect(cache.stats().blobs).toBe(0);
  });

  test('a file of the wrong size, or none, is an error', async () => {
    const { reader } = setup();
    const dir = tempDir();
    const source = new MemorySource(pseudoRandomBytes(1000));
    writeFileSync(join(dir, 'short'), source.data.subarray(0, 999));
    await expect(reader.open(source.descriptor, Object.assign(source, { blobPath: () => join(dir, 'short') }))).rejects.toThrow(DigestMismatchError);
    await expect(reader.open(source.descriptor, Object.assign(source, { blobPath: () => join(dir, 'none') }))).rejects.toThrow(NotFoundError);
  });
});

test('a reader refuses a block size other than its cache', () => {
  const { cache } = setup();
  expect(() => new BlobReader({ cache, blockSize: 64 * K })).toThrow(/differs from the cache/);
});
