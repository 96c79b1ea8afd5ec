/**
 * The answers OciFilesystem gives from memory (getattrCached, readdirCached, getxattrCached):
 * the adapter's hot path for `ls -lR`. They must never disagree with the async answers, never
 * do I/O, and step aside (undefined) whenever the async path would have work to do.
 */
import { describe, expect, test } from 'vitest';
import { OciFilesystem } from '../../src/fs/filesystem.js';
import { referenceMount, registryMount, repositoryMount, type MountSource } from '../../src/fs/sources.js';
import { silentLogger } from '../../src/log.js';
import { Annotation } from '../../src/oci/types.js';
import type { BlobHandle, BlobReader } from '../../src/fs/sources.js';
import type { Descriptor } from '../../src/oci/types.js';
import { ManualClock, MemoryMetadataStore, MemoryRepository, RangeBlobReader } from './fakes.js';

function mount(source: MountSource, ttlMs = 60_000, reader: BlobReader = new RangeBlobReader()) {
  const clock = new ManualClock();
  const fs = new OciFilesystem({
    source,
    reader,
    metadata: new MemoryMetadataStore(),
    now: clock.now,
    logger: silentLogger,
    ttlMs,
  });
  return { fs, clock };
}

function repository() {
  const repo = new MemoryRepository('registry.test/eo');
  const v1 = repo.addArtifact(
    [
      { title: 'imagery.tif', content: 'x'.repeat(1000), mediaType: 'image/tiff', annotations: { 'eo:band': 'red' } },
      { title: 'stac/item.json', content: '{}', mediaType: 'application/geo+json' },
    ],
    { tag: 'v1', artifactType: 'application/vnd.example.eo.v1', annotations: { [Annotation.Created]: '2020-03-04T05:06:07Z' } },
  );
  const child = repo.addArtifact([{ title: 'a.txt', content: 'a' }]);
  const index = repo.addIndex([{ ...child, annotations: { [Annotation.Title]: 'part' } }]);
  repo.tag('multi', index);
  return { repo, v1, index };
}

/** Every path's async answers, then the cached ones, compared. */
async function expectAgreement(fs: OciFilesystem, paths: string[], xattr: string): Promise<void> {
  for (const path of paths) {
    const attrs = await fs.getattr(path);
    expect(fs.getattrCached(path), path).toEqual(attrs);
    const listing = await fs.readdir(path).catch(() => undefined);
    const cachedListing = fs.readdirCached(path);
    if (cachedListing !== undefined) expect(cachedListing, path).toEqual(listing);
    const value = await fs.getxattr(path, xattr).catch((err: { code?: string }) => {
      expect(err.code).toBe('NO_SUCH_ATTRIBUTE');
      return null;
    });
    expect(fs.getxattrCached(path, xattr), `${path} ${xattr}`).toEqual(value);
  }
}

describe('answers from memory', () => {
  test('nothing is known before the first async lookup', () => {
    const { repo } = repository();
    const { fs } = mount(repositoryMount(repo));
    expect(fs.getattrCached('/v1/imagery.tif')).toBeUndefined();
    expect(fs.readdirCached('/v1')).toBeUndefined();
    expect(fs.getxattrCached('/v1/imagery.tif', 'user.oci.digest')).toBeUndefined();
    expect(repo.requestCount).toBe(0);
  });

  test('agree with the async answers, and make no request of their own', async () => {
    const { repo, v1, index } = repository();
    const { fs } = mount(repositoryMount(repo));
    const paths = ['/v1', '/v1/imagery.tif', '/v1/stac', '/v1/stac/item.json', `/@${v1.digest}`, `/@${v1.digest}/imagery.tif`, '/multi', '/multi/part', '/multi/part/a.txt'];
    await expectAgreement(fs, paths, 'user.oci.digest');
    await expectAgreement(fs, ['/v1', '/multi', '/multi/part'], 'user.oci.manifest.digest');
    expect(fs.getxattrCached('/multi', 'user.oci.manifest.digest')?.toString()).toBe(index.digest);
    const requests = repo.requestCount;
    for (const path of paths) fs.getattrCached(path);
    expect(repo.requestCount).toBe(requests);
  });

  test('the root and repository root of a repository mount are known without any request', () => {
    const { repo } = repository();
    const { fs } = mount(repositoryMount(repo));
    expect(fs.getattrCached('/')?.mode).toBe(0o040555);
    // The tag listing needs the source: left to the async path.
    expect(fs.readdirCached('/')).toBeUndefined();
  });

  test('step aside once a tag is stale: the async path re-checks it', async () => {
    const { repo } = repository();
    const { fs, clock } = mount(repositoryMount(repo), 5000);
    await fs.getattr('/v1/imagery.tif');
    expect(fs.getattrCached('/v1/imagery.tif')).toBeDefined();
    clock.advance(5001);
    expect(fs.getattrCached('/v1/imagery.tif')).toBeUndefined();
    expect(fs.getxattrCached('/v1/imagery.tif', 'user.oci.digest')).toBeUndefined();
  });

  test('paths reached by digest stay known after the TTL (manifests never expire)', async () => {
    const { repo, v1 } = repository();
    const { fs, clock } = mount(repositoryMount(repo), 5000);
    await fs.getattr(`/@${v1.digest}/imagery.tif`);
    clock.advance(3_600_000);
    expect(fs.getattrCached(`/@${v1.digest}/imagery.tif`)?.size).toBe(1000);
  });

  test('missing names, files used as directories and unclean paths are left to the async path', async () => {
    const { repo } = repository();
    const { fs } = mount(repositoryMount(repo));
    await fs.getattr('/v1/imagery.tif');
    for (const path of ['/v1/nope', '/v1/imagery.tif/x', '/v1//stac', '/v1/../v1', 'v1', '/@sha256:nope']) {
      expect(fs.getattrCached(path), path).toBeUndefined();
    }
    await expect(fs.getattr('/v1/nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.getattr('/v1/imagery.tif/x')).rejects.toMatchObject({ code: 'NOT_A_DIRECTORY' });
  });

  test('user.ocifs.status is always computed by the async path', async () => {
    const { repo } = repository();
    const { fs } = mount(repositoryMount(repo));
    await fs.getattr('/');
    expect(fs.getxattrCached('/', 'user.ocifs.status')).toBeUndefined();
  });

  test('reference mounts: by tag within the TTL, by digest for ever', async () => {
    const { repo, v1 } = repository();
    const byTag = mount(referenceMount(repo, 'v1'), 5000);
    await byTag.fs.getattr('/imagery.tif');
    expect(byTag.fs.getattrCached('/imagery.tif')?.size).toBe(1000);
    expect(byTag.fs.readdirCached('/')).toEqual(['imagery.tif', 'stac']);
    byTag.clock.advance(5001);
    expect(byTag.fs.getattrCached('/imagery.tif')).toBeUndefined();

    const byDigest = mount(referenceMount(repo, v1.digest), 5000);
    await byDigest.fs.getattr('/imagery.tif');
    byDigest.clock.advance(3_600_000);
    expect(byDigest.fs.getattrCached('/stac/item.json')?.size).toBe(2);
  });

  test('registry mounts walk the fixed repository list', async () => {
    const { repo } = repository();
    const registry = { catalog: async () => [repo.description], repository: () => repo };
    const { fs } = mount(registryMount('registry.test', registry, { repositories: ['team/eo'] }));
    expect(fs.getattrCached('/team')?.mode).toBe(0o040555);
    expect(fs.getattrCached('/team/eo/v1/imagery.tif')).toBeUndefined();
    await fs.getattr('/team/eo/v1/imagery.tif');
    expect(fs.getattrCached('/team/eo/v1/imagery.tif')?.size).toBe(1000);
    expect(fs.getattrCached('/other')).toBeUndefined();
  });
});

describe('readCached: reads the blob reader can do synchronously', () => {
  /** A reader whose blobs are "local" once `local` is set: readSync answers then. */
  class SyncReader implements BlobReader {
    local = false;
    syncReads = 0;
    async open(descriptor: Descriptor): Promise<BlobHandle> {
      const bytes = Buffer.alloc(descriptor.size, 'x');
      return {
        read: async (buffer, length, position) => bytes.copy(buffer, 0, position, Math.min(bytes.length, position + length)),
        readSync: (buffer, length, position) => {
          if (!this.local) return undefined;
          this.syncReads++;
          return bytes.copy(buffer, 0, position, Math.min(bytes.length, position + length));
        },
        close: async () => undefined,
      };
    }
  }

  test('answers when the reader can, undefined otherwise; clamps to the buffer; 0 for an empty ask', async () => {
    const { repo } = repository();
    const reader = new SyncReader();
    const { fs } = mount(repositoryMount(repo), 60_000, reader);
    const handle = await fs.open('/v1/imagery.tif', 0);
    const buffer = Buffer.alloc(16);
    expect(fs.readCached(handle, buffer, 16, 0)).toBeUndefined();
    reader.local = true;
    expect(fs.readCached(handle, buffer, 16, 990)).toBe(10);
    expect(fs.readCached(handle, buffer, 64, 0)).toBe(16);
    expect(fs.readCached(handle, buffer, 0, 0)).toBe(0);
    expect(reader.syncReads).toBe(2);
    await fs.release(handle);
    expect(() => fs.readCached(handle, buffer, 16, 0)).toThrow(expect.objectContaining({ code: 'BAD_HANDLE' }));
  });

  test('a reader without readSync is never asked synchronously', async () => {
    const { repo } = repository();
    const { fs } = mount(repositoryMount(repo));
    const handle = await fs.open('/v1/imagery.tif', 0);
    expect(fs.readCached(handle, Buffer.alloc(4), 4, 0)).toBeUndefined();
    await fs.release(handle);
  });
});
