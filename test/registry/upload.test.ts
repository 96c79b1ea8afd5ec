/**
 * Uploads against the real registry, seen through a pass-through proxy that counts requests:
 * monolithic and chunked, HEAD-first skip, cross-repository mount, resume of an interrupted
 * chunked upload from the registry's offset (also across clients, via the upload-state file),
 * manifest PUT.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import type { BlobSource } from '../../src/oci/target.js';
import { MediaType } from '../../src/oci/types.js';
import { FileUploadStateStore, RegistryClient, StaticCredentials, uploadKey, type RegistryClientOptions } from '../../src/registry/index.js';
import { graceFor } from '../../src/registry/upload.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { blobOf, bufferSource, pushArtifact, randomBlob, readAll } from './fixtures.js';

const upstream = `http://${inject('registryHost')}`;
const CHUNK = 64 * 1024;
const fast = { attempts: 4, minDelayMs: 5, maxDelayMs: 20, budgetMs: 5_000 };

let proxy: FaultProxy;
let dir: string;
const clients: RegistryClient[] = [];

function client(options: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient(proxy.host, {
    credentials: new StaticCredentials({}),
    chunkSize: CHUNK,
    monolithicMax: 100 * 1024,
    retry: fast,
    ...options,
  });
  clients.push(c);
  return c;
}

function requests(method: string, path: RegExp): number {
  return proxy.requests.filter((r) => r.method === method && path.test(r.url)).length;
}

/** A source that fails after `failAfter` bytes when opened at 0 (the process "dies" mid-push). */
function dyingSource(bytes: Buffer, failAfter: number): BlobSource & { opened: number[] } {
  const opened: number[] = [];
  return {
    opened,
    open(offset: number) {
      opened.push(offset);
      const end = offset === 0 ? failAfter : bytes.length;
      async function* gen() {
        for (let i = offset; i < end; i += 16 * 1024) yield bytes.subarray(i, Math.min(end, i + 16 * 1024));
        if (end < bytes.length) throw new Error('source killed');
      }
      return Readable.from(gen());
    },
  };
}

beforeAll(async () => {
  proxy = await startFaultProxy(upstream);
  dir = await mkdtemp(join(tmpdir(), 'ocifs-upload-test-'));
});

afterEach(async () => {
  proxy.clearFaults();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await proxy?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('blob uploads', () => {
  test('small blob: monolithic POST + PUT, then HEAD says it exists', async () => {
    const c = client();
    const repo = c.repository('registry-upload/mono');
    const blob = randomBlob(50_000);
    const progress: number[] = [];
    const puts = requests('PUT', /blobs\/uploads/);
    expect(await repo.pushBlob(blob.desc, bufferSource(blob.bytes), { onProgress: (n) => progress.push(n) })).toEqual({ outcome: 'uploaded', bytesSent: 50_000 });
    expect(progress.reduce((a, b) => a + b, 0)).toBe(50_000);
    expect(requests('PUT', /blobs\/uploads/) - puts).toBe(1);
    expect(requests('PATCH', /./)).toBe(0);
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);

    const before = c.stats.bytesUploaded;
    expect(await repo.pushBlob(blob.desc, bufferSource(blob.bytes))).toEqual({ outcome: 'exists', bytesSent: 0 });
    expect(c.stats.bytesUploaded).toBe(before);
  });

  test('empty blob', async () => {
    const repo = client().repository('registry-upload/empty');
    const empty = blobOf(Buffer.alloc(0));
    expect((await repo.pushBlob(empty, bufferSource(Buffer.alloc(0)))).outcome).toBe('uploaded');
    expect(await repo.exists(empty)).toBe(true);
  });

  test('large blob: chunked PATCHes in order, following Location, then PUT', async () => {
    const repo = client().repository('registry-upload/chunked');
    const blob = randomBlob(5 * CHUNK + 1234);
    const patches = proxy.requests.length;
    const result = await repo.pushBlob(blob.desc, bufferSource(blob.bytes, 10_000));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.bytes.length });
    const sent = proxy.requests.slice(patches).filter((r) => r.method === 'PATCH');
    expect(sent.map((r) => r.headers['content-range'])).toEqual([
      `0-${CHUNK - 1}`,
      `${CHUNK}-${2 * CHUNK - 1}`,
      `${2 * CHUNK}-${3 * CHUNK - 1}`,
      `${3 * CHUNK}-${4 * CHUNK - 1}`,
      `${4 * CHUNK}-${5 * CHUNK - 1}`,
      `${5 * CHUNK}-${5 * CHUNK + 1233}`,
    ]);
    // each PATCH went to the Location of the answer before (distribution's _state changes every time)
    expect(new Set(sent.map((r) => r.url)).size).toBe(sent.length);
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });

  test('a source with other bytes than its descriptor fails before the registry commits it', async () => {
    const repo = client().repository('registry-upload/wrong-source');
    const blob = randomBlob(3 * CHUNK);
    const other = randomBlob(3 * CHUNK);
    await expect(repo.pushBlob(blob.desc, bufferSource(other.bytes))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    const small = randomBlob(1000);
    await expect(repo.pushBlob(small.desc, bufferSource(Buffer.alloc(1000)))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(repo.pushBlob(small.desc, bufferSource(small.bytes.subarray(0, 900)))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await repo.exists(blob.desc)).toBe(false);
    expect(await repo.exists(small.desc)).toBe(false);
  });

  test('a source marked verified is not hashed again: a lying one is still refused by the registry at the PUT', async () => {
    const repo = client().repository('registry-upload/verified-source');
    for (const size of [1000, 3 * CHUNK]) {
      const blob = randomBlob(size);
      const other = randomBlob(size);
      const lying: BlobSource = { ...bufferSource(other.bytes), verified: true };
      const err = await repo.pushBlob(blob.desc, lying).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(await repo.exists(blob.desc)).toBe(false);
      expect(await repo.exists(other.desc)).toBe(false);
      const honest: BlobSource = { ...bufferSource(blob.bytes), verified: true };
      expect(await repo.pushBlob(blob.desc, honest)).toEqual({ outcome: 'uploaded', bytesSent: size });
      expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
    }
  });

  test('a large blob goes up in about eight chunks, each streamed with its exact length', async () => {
    const repo = client().repository('registry-upload/scaled');
    const MiB = 1024 * 1024;
    const blob = randomBlob(17 * MiB + 5);
    const before = proxy.requests.length;
    const result = await repo.pushBlob(blob.desc, bufferSource(blob.bytes, 300_000));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.bytes.length });
    const sent = proxy.requests.slice(before).filter((r) => r.method === 'PATCH');
    // 17 MiB / 8 = 2 MiB chunks (whole MiB), not the configured 64 KiB: 9 round trips, not 273
    expect(sent.map((r) => r.headers['content-range'])).toEqual(
      Array.from({ length: 9 }, (_, i) => `${i * 2 * MiB}-${Math.min((i + 1) * 2 * MiB, blob.bytes.length) - 1}`),
    );
    expect(sent.map((r) => Number(r.headers['content-length']))).toEqual([...Array(8).fill(2 * MiB), MiB + 5]);
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });

  test('a source that ends inside a chunk fails with DIGEST_MISMATCH and commits nothing', async () => {
    const repo = client().repository('registry-upload/short-source');
    const blob = randomBlob(3 * CHUNK);
    const err = await repo.pushBlob(blob.desc, bufferSource(blob.bytes.subarray(0, 2 * CHUNK + CHUNK / 2))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect((err as Error).message).toMatch(new RegExp(`${2 * CHUNK + CHUNK / 2} bytes instead of ${3 * CHUNK}`));
    expect(await repo.exists(blob.desc)).toBe(false);
  });

  test('cross-repository mount: 201, no bytes sent', async () => {
    const c = client();
    const blob = randomBlob(200_000);
    await c.repository('registry-upload/mount-src').pushBlob(blob.desc, bufferSource(blob.bytes));
    const dst = c.repository('registry-upload/mount-dst');
    const uploaded = c.stats.bytesUploaded;
    expect(await dst.pushBlob(blob.desc, bufferSource(blob.bytes), { mountFrom: ['registry-upload/mount-src'] })).toEqual({ outcome: 'mounted', bytesSent: 0 });
    expect(c.stats.bytesUploaded).toBe(uploaded);
    expect(requests('POST', /mount=.*&from=registry-upload%2Fmount-src/)).toBe(1);
    expect(await dst.exists(blob.desc)).toBe(true);
  });

  test('mount from a repository without the blob falls back to uploading', async () => {
    const repo = client().repository('registry-upload/mount-fallback');
    const blob = randomBlob(150_000);
    const result = await repo.pushBlob(blob.desc, bufferSource(blob.bytes), { mountFrom: ['registry-upload/nowhere', 'registry-upload/mount-src'] });
    expect(result.outcome).toBe('uploaded');
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });
});

describe('graceFor', () => {
  test.each([
    [0, 5_000],
    [16 * 1024 * 1024, 5_000],
    [128 * 1024 * 1024, 8_192],
    [256 * 1024 * 1024, 16_384],
  ])('a PATCH of %i bytes may finish for %i ms after a cancel', (length, ms) => {
    expect(graceFor(length)).toBe(ms);
  });
});

describe('resumable uploads', () => {
  test('a push killed mid-blob resumes from the registry offset in a new client', async () => {
    const statePath = join(dir, 'uploads.json');
    const blob = randomBlob(8 * CHUNK + 77);
    const repoName = 'registry-upload/resume';

    const first = client({ uploadState: new FileUploadStateStore(statePath) });
    await expect(first.repository(repoName).pushBlob(blob.desc, dyingSource(blob.bytes, 3 * CHUNK + 5000))).rejects.toThrow('source killed');
    const saved = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, string>;
    expect(Object.keys(saved)).toEqual([uploadKey(proxy.host, repoName, blob.desc.digest)]);

    // a new process: new client, same state file
    const second = client({ uploadState: new FileUploadStateStore(statePath) });
    const source = bufferSource(blob.bytes);
    const result = await second.repository(repoName).pushBlob(blob.desc, source);
    expect(result.outcome).toBe('resumed');
    expect(source.opened).toEqual([3 * CHUNK]);
    expect(result.bytesSent).toBe(blob.bytes.length - 3 * CHUNK);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toEqual({});
    expect((await readAll(await second.repository(repoName).fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });

  test('cancelling mid-chunk lets that PATCH finish, so the session stays resumable', async () => {
    const statePath = join(dir, 'cancel.json');
    const repoName = 'registry-upload/cancelled';
    const blob = randomBlob(6 * CHUNK);
    const controller = new AbortController();
    proxy.fault({ method: 'PATCH', path: /registry-upload\/cancelled\//, skip: 1, action: { delayMs: 400 } });
    const first = client({ uploadState: new FileUploadStateStore(statePath) });
    let acked = 0;
    const onProgress = (n: number) => {
      acked += n;
      if (acked === CHUNK) setTimeout(() => controller.abort(), 100); // lands while PATCH 2 is delayed
    };
    const err = await first.repository(repoName).pushBlob(blob.desc, bufferSource(blob.bytes), { signal: controller.signal, onProgress }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ABORTED' });
    expect(acked).toBe(2 * CHUNK); // the PATCH on the wire was allowed to finish

    const source = bufferSource(blob.bytes);
    const result = await client({ uploadState: new FileUploadStateStore(statePath) }).repository(repoName).pushBlob(blob.desc, source);
    expect(result.outcome).toBe('resumed');
    expect(source.opened).toEqual([2 * CHUNK]);
  });

  test('a stale session (unknown to the registry) starts over', async () => {
    const statePath = join(dir, 'stale.json');
    const repoName = 'registry-upload/stale';
    const blob = randomBlob(3 * CHUNK);
    const key = uploadKey(proxy.host, repoName, blob.desc.digest);
    await writeFile(statePath, JSON.stringify({ [key]: `${proxy.url}/v2/${repoName}/blobs/uploads/00000000-0000-0000-0000-000000000000?_state=bogus` }));
    const c = client({ uploadState: new FileUploadStateStore(statePath) });
    const result = await c.repository(repoName).pushBlob(blob.desc, bufferSource(blob.bytes));
    expect(result).toEqual({ outcome: 'uploaded', bytesSent: blob.bytes.length });
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toEqual({});
  });

  test('a PATCH whose answer is lost: distribution 2.8 drops the session, the blob starts over and completes', async () => {
    const repo = client().repository('registry-upload/lost-answer');
    const blob = randomBlob(4 * CHUNK);
    const posts = requests('POST', /registry-upload\/lost-answer\/blobs\/uploads\/$/);
    proxy.fault({ method: 'PATCH', skip: 1, action: { resetAfterForward: true } });
    const result = await repo.pushBlob(blob.desc, bufferSource(blob.bytes));
    expect(result.outcome).toBe('uploaded');
    // asked the registry where it stood first, then opened a new session
    expect(requests('GET', /registry-upload\/lost-answer\/blobs\/uploads\/.+/)).toBe(1);
    expect(requests('POST', /registry-upload\/lost-answer\/blobs\/uploads\/$/) - posts).toBe(2);
    expect(result.bytesSent).toBe(blob.bytes.length + 2 * CHUNK);
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });

  test('a PATCH answered 503: the registry offset says resend that chunk', async () => {
    const repo = client().repository('registry-upload/patch-503');
    const blob = randomBlob(4 * CHUNK);
    proxy.fault({ method: 'PATCH', skip: 2, action: { status: 503 } });
    const result = await repo.pushBlob(blob.desc, bufferSource(blob.bytes));
    expect(result.outcome).toBe('uploaded');
    expect(result.bytesSent).toBe(blob.bytes.length + CHUNK);
    expect((await readAll(await repo.fetchBlob(blob.desc))).equals(blob.bytes)).toBe(true);
  });
});

describe('manifests', () => {
  test('PUT by tags and by digest; the registry digest is checked', async () => {
    const repo = client().repository('registry-upload/manifest');
    const a = await pushArtifact(repo, { 'f.txt': Buffer.from('f') }, ['one', 'two']);
    expect((await repo.listTags()).sort()).toEqual(['one', 'two']);
    expect((await repo.resolve('two')).digest).toBe(a.desc.digest);

    const untagged = Buffer.from(JSON.stringify({ ...JSON.parse(a.manifest.toString()), annotations: { x: 'y' } }));
    const desc = blobOf(untagged, MediaType.ImageManifest);
    await repo.pushManifest(desc, untagged, []);
    expect((await repo.fetchManifest(desc.digest)).bytes.equals(untagged)).toBe(true);
    await repo.deleteManifest(desc.digest);
    await expect(repo.fetchManifest(desc.digest)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('bytes that do not match the descriptor are refused before any request', async () => {
    const c = client();
    const repo = c.repository('registry-upload/manifest');
    const before = c.stats.requests;
    const bytes = Buffer.from('{"schemaVersion":2}');
    await expect(repo.pushManifest({ ...blobOf(bytes, MediaType.ImageManifest), size: 3 }, bytes, ['x'])).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(repo.pushManifest(blobOf(bytes, MediaType.ImageManifest), bytes, ['bad tag'])).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect(c.stats.requests).toBe(before);
  });

  test('a manifest whose blobs are missing is refused by the registry with a clear error', async () => {
    const repo = client().repository('registry-upload/missing-blobs');
    const m = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: blobOf(Buffer.from('{"absent":true}'), MediaType.ImageConfig),
      layers: [],
    }));
    const err = await repo.pushManifest(blobOf(m, MediaType.ImageManifest), m, ['v1']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR', status: 400 });
    expect((err as Error).message).toContain('MANIFEST_BLOB_UNKNOWN');
  });
});
