/**
 * The read side against the real registry, anonymous: ping, resolve, manifests, blobs whole and
 * by range, HEAD, tags and catalog with pagination.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { RegistryClient, StaticCredentials, type RepositoryTarget } from '../../src/registry/index.js';
import { MediaType } from '../../src/oci/types.js';
import { blobOf, pushArtifact, randomBlob, readAll, type Artifact } from './fixtures.js';

const host = inject('registryHost');
const REPO = 'registry-read/artifact';

let client: RegistryClient;
let repo: RepositoryTarget;
let artifact: Artifact;
const big = randomBlob(300_000);

beforeAll(async () => {
  client = new RegistryClient(host, { credentials: new StaticCredentials({}) });
  repo = client.repository(REPO);
  artifact = await pushArtifact(repo, { 'a.txt': Buffer.from('hello\n'), 'big.bin': big.bytes }, ['v1', 'latest']);
});

afterAll(async () => {
  await client?.close();
});

describe('ping and manifests', () => {
  test('ping answers', async () => {
    await expect(client.ping()).resolves.toBeUndefined();
  });

  test('resolve a tag with HEAD only', async () => {
    const before = client.stats.bytesDownloaded;
    const desc = await repo.resolve('v1');
    expect(desc).toEqual({ mediaType: MediaType.ImageManifest, digest: artifact.desc.digest, size: artifact.manifest.length });
    expect(client.stats.bytesDownloaded).toBe(before);
  });

  test('resolve a digest', async () => {
    expect((await repo.resolve(artifact.desc.digest)).digest).toBe(artifact.desc.digest);
  });

  test('fetch a manifest by tag and by digest, bytes untouched', async () => {
    for (const ref of ['v1', artifact.desc.digest, artifact.desc] as const) {
      const m = await repo.fetchManifest(ref);
      expect(m.bytes.equals(artifact.manifest)).toBe(true);
      expect(m.descriptor.digest).toBe(artifact.desc.digest);
      expect(m.parsed.kind).toBe('manifest');
    }
  });

  test('unknown tag -> NOT_FOUND naming the reference', async () => {
    const err = await repo.resolve('nope').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect(String((err as Error).message)).toContain(`${host}/${REPO}:nope`);
    await expect(repo.fetchManifest('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('unknown repository -> NOT_FOUND', async () => {
    await expect(client.repository('registry-read/missing').listTags()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('invalid repository names are refused', () => {
    for (const name of ['Upper/case', '../etc', 'a//b', '', 'a/']) {
      expect(() => client.repository(name)).toThrow(expect.objectContaining({ code: 'INVALID_REFERENCE' }));
    }
  });

  test('invalid tag is refused before any request', async () => {
    const before = client.stats.requests;
    await expect(repo.resolve('-bad')).rejects.toMatchObject({ code: 'INVALID_REFERENCE' });
    expect(client.stats.requests).toBe(before);
  });
});

describe('blobs', () => {
  test('fetch a whole blob, verified', async () => {
    const layer = artifact.layers[1]!;
    expect((await readAll(await repo.fetchBlob(layer.desc))).equals(layer.bytes)).toBe(true);
  });

  test('a blob whose bytes do not match the descriptor fails the stream', async () => {
    const layer = artifact.layers[0]!;
    const wrongDigest = { ...layer.desc, digest: artifact.layers[1]!.desc.digest };
    // the registry serves big.bin for that digest: size check fails before streaming
    await expect(repo.fetchBlob(wrongDigest).then(readAll)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test.each([
    [0, 10],
    [1000, 4096],
    [299_990, 10],
    [299_990, 100], // clamped to the end
    [0, 300_000],
  ])('range %i+%i gives exactly the bytes', async (offset, length) => {
    const got = await repo.fetchBlobRange(big.desc, offset, length);
    expect(got.equals(big.bytes.subarray(offset, Math.min(big.bytes.length, offset + length)))).toBe(true);
    expect(client.rangeSupport).toBe('supported');
  });

  test.each([
    // offset, target length, bytes expected
    [0, 4096, 4096],
    [299_000, 4096, 1000], // clamped: only the blob's last 1000 bytes fit
    [300_000, 16, 0], // at the end: nothing, no request
  ])('fetchBlobRangeInto %i into %i bytes fills the front of the caller buffer', async (offset, size, expected) => {
    const target = Buffer.alloc(size, 0xee);
    const got = await repo.fetchBlobRangeInto(big.desc, offset, target);
    expect(got).toBe(expected);
    expect(target.subarray(0, got).equals(big.bytes.subarray(offset, offset + got))).toBe(true);
    expect(target.subarray(got).every((b) => b === 0xee)).toBe(true); // nothing written past the count
  });

  test('streamBlobRange hands the answer over in order, without a copy, and waits for a slow sink', async () => {
    const pieces: Buffer[] = [];
    let slow = 0;
    const got = await repo.streamBlobRange(big.desc, 1000, 250_000, async (piece) => {
      pieces.push(piece);
      if (pieces.length % 2 === 0) {
        slow++;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    expect(got).toBe(250_000);
    expect(Buffer.concat(pieces).equals(big.bytes.subarray(1000, 251_000))).toBe(true);
    expect(pieces.length).toBeGreaterThan(1);
    expect(slow).toBeGreaterThan(0);
  });

  test('streamBlobRange clamps to the blob and stops at its end', async () => {
    const pieces: Buffer[] = [];
    expect(await repo.streamBlobRange(big.desc, 299_000, 10_000, (p) => void pieces.push(p))).toBe(1000);
    expect(Buffer.concat(pieces).equals(big.bytes.subarray(299_000))).toBe(true);
  });

  test('a range past the end is empty, without a request', async () => {
    const before = client.stats.requests;
    expect((await repo.fetchBlobRange(big.desc, 300_000, 10)).length).toBe(0);
    expect((await repo.fetchBlobRange(big.desc, 5, 0)).length).toBe(0);
    expect(client.stats.requests).toBe(before);
  });

  test('a descriptor larger than the blob: 416 -> DIGEST_MISMATCH, never a short read', async () => {
    const lying = { ...big.desc, size: big.desc.size + 1000 };
    await expect(repo.fetchBlobRange(lying, 300_500, 10)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  test('range reads download only what was asked', async () => {
    const before = client.stats.bytesDownloaded;
    await repo.fetchBlobRange(big.desc, 100, 1000);
    expect(client.stats.bytesDownloaded - before).toBe(1000);
  });

  test('exists: HEAD of blobs and manifests', async () => {
    expect(await repo.exists(big.desc)).toBe(true);
    expect(await repo.exists(artifact.desc)).toBe(true);
    expect(await repo.exists(blobOf(Buffer.from('never pushed')))).toBe(false);
    expect(await repo.exists(blobOf(Buffer.from('{"never":1}'), MediaType.ImageManifest))).toBe(false);
  });

  test('missing blob -> NOT_FOUND', async () => {
    await expect(repo.fetchBlob(blobOf(Buffer.from('nothing')))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('blobUrl is the plain distribution URL', () => {
    expect(repo.blobUrl(big.desc.digest)).toBe(`http://${host}/v2/${REPO}/blobs/${big.desc.digest}`);
  });
});

describe('listing', () => {
  test('tags', async () => {
    expect((await repo.listTags()).sort()).toEqual(['latest', 'v1']);
  });

  test('tags with a page size', async () => {
    const many = client.repository('registry-read/many-tags');
    const a = await pushArtifact(many, { 'x': Buffer.from('x') }, ['t0']);
    const tags = Array.from({ length: 7 }, (_, i) => `t${i}`);
    await many.pushManifest(a.desc, a.manifest, tags);
    expect((await many.listTags({ pageSize: 3 })).sort()).toEqual(tags);
  });

  test('catalog pages through every repository', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `registry-read/cat-${i}`);
    for (const n of names) await pushArtifact(client.repository(n), { f: Buffer.from(n) }, ['v1']);
    const before = client.stats.requests;
    const all = await client.catalog({ pageSize: 2 });
    for (const n of names) expect(all).toContain(n);
    expect(new Set(all).size).toBe(all.length);
    // at least one request per page of two
    expect(client.stats.requests - before).toBeGreaterThanOrEqual(Math.ceil(all.length / 2));
  });
});
