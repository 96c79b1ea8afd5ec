/**
 * BlobReader over a RepositoryTarget of the real registry: Range reads, sequential streams, small
 * blobs fetched whole, a second daemon served from the shared cache, and a registry that stops
 * (cached bytes still served, the rest failing with the client's error).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { Cache } from '../../src/cache/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { BlobReader, type BlobHandle } from '../../src/read/index.js';
import { RegistryClient, StaticCredentials, type RepositoryTarget } from '../../src/registry/index.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { pseudoRandomBytes } from './helpers/memory-source.js';

const K = 1024;
const M = 1024 * K;
const REPO = 'read-path/blobs';

const big = pseudoRandomBytes(12 * M + 77, 42);
const small = pseudoRandomBytes(200 * K, 43);
const descriptorOf = (bytes: Buffer): Descriptor => ({ mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length });

let client: RegistryClient;
let repo: RepositoryTarget;
const dirs: string[] = [];
const caches: Cache[] = [];
const handles: BlobHandle[] = [];

async function push(target: RepositoryTarget, bytes: Buffer): Promise<Descriptor> {
  const d = descriptorOf(bytes);
  await target.pushBlob(d, { open: (offset) => Readable.from([bytes.subarray(offset)]) });
  return d;
}

function reader(dir?: string): { cache: Cache; reader: BlobReader; dir: string } {
  const cacheDir = dir ?? mkdtempSync(join(tmpdir(), 'ocifs-read-registry-'));
  if (!dir) dirs.push(cacheDir);
  const cache = Cache.open({ dir: cacheDir, maxSize: 512 * M });
  caches.push(cache);
  return { cache, reader: new BlobReader({ cache }), dir: cacheDir };
}

async function open(r: BlobReader, d: Descriptor, target: RepositoryTarget): Promise<BlobHandle> {
  const h = await r.open(d, target);
  handles.push(h);
  return h;
}

async function readAt(h: BlobHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  return buffer.subarray(0, await h.read(buffer, length, position));
}

beforeAll(async () => {
  client = new RegistryClient(inject('registryHost'), { credentials: new StaticCredentials({}) });
  repo = client.repository(REPO);
  await push(repo, big);
  await push(repo, small);
});

afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  for (const c of caches.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterAll(async () => {
  await client?.close();
});

describe('reading registry blobs', () => {
  test('random reads fetch only the blocks they touch, with the right bytes', async () => {
    const { reader: r } = reader();
    const h = await open(r, descriptorOf(big), repo);
    for (const offset of [5 * M + 3, 17, 11 * M + 1000, 12 * M + 60]) {
      const got = await readAt(h, offset, 16 * K);
      expect(got.equals(big.subarray(offset, offset + 16 * K))).toBe(true);
    }
    expect(r.counters.requests).toBe(4);
    expect(r.counters.bytesFetched).toBeLessThanOrEqual(4 * 256 * K);
  });

  test('a sequential read uses few requests, and the blob ends complete and verified', async () => {
    const { reader: r, cache, dir } = reader();
    const d = descriptorOf(big);
    const h = await open(r, d, repo);
    const copy = Buffer.alloc(big.length);
    for (let pos = 0; pos < big.length; pos += 128 * K) await h.read(copy.subarray(pos), 128 * K, pos);
    expect(copy.equals(big)).toBe(true);
    expect(r.counters.requests).toBeLessThan(15);
    expect(r.counters.bytesFetched).toBe(big.length);
    for (let i = 0; i < 200 && !cache.blobs.info(d.digest)?.complete; i++) await new Promise((res) => setTimeout(res, 10));
    expect(cache.blobs.info(d.digest)?.complete).toBe(true);

    // Another daemon on the same cache directory sends no request at all.
    const second = reader(dir);
    const before = client.stats.requests;
    const h2 = await open(second.reader, d, repo);
    expect((await readAt(h2, 3 * M, 2 * M)).equals(big.subarray(3 * M, 5 * M))).toBe(true);
    expect(client.stats.requests).toBe(before);
    expect(second.reader.counters).toMatchObject({ requests: 0, cacheHits: 1 });
  });

  test('a small blob is fetched whole (verified stream) before it is served', async () => {
    const { reader: r, cache } = reader();
    const d = descriptorOf(small);
    const h = await open(r, d, repo);
    expect((await readAt(h, 100 * K, 10)).equals(small.subarray(100 * K, 100 * K + 10))).toBe(true);
    expect(r.counters).toMatchObject({ requests: 1, bytesFetched: small.length });
    expect(cache.blobs.info(d.digest)?.complete).toBe(true);
  });

  test('a blob the registry does not have: NOT_FOUND from the client', async () => {
    const { reader: r } = reader();
    const missing = descriptorOf(pseudoRandomBytes(4 * M, 99));
    const h = await open(r, missing, repo);
    await expect(readAt(h, 0, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('a registry that stops', () => {
  let registry: RunningRegistry | undefined;
  let own: RegistryClient | undefined;

  afterEach(async () => {
    await own?.close();
    await registry?.stop();
  });

  test('cached bytes are still served; uncached reads fail with UNREACHABLE', async () => {
    registry = await startRegistry();
    own = new RegistryClient(registry.host, { credentials: new StaticCredentials({}), retry: { attempts: 2, minDelayMs: 10, maxDelayMs: 20 } });
    const target = own.repository(REPO);
    const d = await push(target, big);
    const { reader: r } = reader();
    const h = await open(r, d, target);
    const first = await readAt(h, 1 * M, 64 * K);
    await registry.stop();
    expect((await readAt(h, 1 * M + 10, 1000)).equals(big.subarray(1 * M + 10, 1 * M + 1010))).toBe(true);
    expect(first.equals(big.subarray(1 * M, 1 * M + 64 * K))).toBe(true);
    await expect(readAt(h, 9 * M, 1000)).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});
