/**
 * Attributes, xattrs, handles, freshness and offline behaviour of OciFilesystem (no mount).
 */
import { constants } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { OciFilesystem, splitMountPath, type FilesystemOptions } from '../../src/fs/filesystem.js';
import { referenceMount, repositoryMount, type MountSource } from '../../src/fs/sources.js';
import { createLogger } from '../../src/log.js';
import { Annotation } from '../../src/oci/types.js';
import {
  ManualClock,
  MemoryMetadataStore,
  MemoryRepository,
  RangeBlobReader,
  readAll,
  readHandle,
  unreachable,
} from './fakes.js';

function mount(source: MountSource, extra: Partial<FilesystemOptions> = {}) {
  const clock = new ManualClock();
  const reader = new RangeBlobReader();
  const metadata = new MemoryMetadataStore();
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const fs = new OciFilesystem({ source, reader, metadata, now: clock.now, logger, uid: 1000, gid: 2000, ...extra });
  return { fs, clock, reader, metadata, lines };
}

function eoRepository() {
  const repo = new MemoryRepository('registry.test/eo');
  const v1 = repo.addArtifact(
    [
      { title: 'imagery.tif', content: 'x'.repeat(1000), mediaType: 'image/tiff', annotations: { 'eo:band': 'red' } },
      { title: 'stac/item.json', content: '{}', mediaType: 'application/geo+json' },
    ],
    {
      tag: 'v1',
      artifactType: 'application/vnd.example.eo.v1',
      annotations: { [Annotation.Created]: '2020-03-04T05:06:07Z', 'org.example.mission': 'sentinel' },
    },
  );
  return { repo, v1 };
}

describe('splitMountPath', () => {
  test.each([
    ['/', []],
    ['/a', ['a']],
    ['/a/b c/d', ['a', 'b c', 'd']],
  ])('%j -> %j', (path, components) => {
    expect(splitMountPath(path)).toEqual(components);
  });
  test.each(['', 'a', '/a/', '//a', '/a/../b', '/./a'])('%j is not found', (path) => {
    expect(() => splitMountPath(path)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('attributes', () => {
  test('files: 0444 masked by umask, size from the descriptor, created time, owner', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo), { umask: 0o027 });
    const st = await fs.getattr('/v1/imagery.tif');
    expect(st.mode).toBe(constants.S_IFREG | 0o440);
    expect(st.size).toBe(1000);
    expect(st.blocks).toBe(2);
    expect(st.nlink).toBe(1);
    expect([st.uid, st.gid]).toEqual([1000, 2000]);
    expect(st.mtime.toISOString().slice(0, 19)).toBe('2020-03-04T05:06:07'); // milliseconds come from the digest
    expect(repo.calls.fetchBlobRange).toBe(0);
  });

  test('directories: 0555 masked by umask; mount time without a created annotation', async () => {
    const repo = new MemoryRepository('registry.test/plain');
    repo.addArtifact([{ title: 'd/f', content: 'f' }], { tag: 'v1' });
    const { fs, clock } = mount(repositoryMount(repo), { umask: 0o022 });
    // The mount time in whole seconds, one back: digest milliseconds never put files in the future.
    const mountedAt = Math.floor(clock.now() / 1000) * 1000 - 1000;
    clock.advance(5000);
    for (const path of ['/', '/v1', '/v1/d']) {
      const st = await fs.getattr(path);
      expect(st.mode).toBe(constants.S_IFDIR | 0o555);
      expect(st.mtime.getTime()).toBe(mountedAt);
    }
    expect((await fs.getattr('/v1/d/f')).mode).toBe(constants.S_IFREG | 0o444);
  });

  test('statfs reports NAME_MAX', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    expect((await fs.statfs('/')).maxNameLength).toBe(255);
  });
});

describe('extended attributes', () => {
  test('files show digest, media type and annotations', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    const names = await fs.listxattr('/v1/imagery.tif');
    expect(names).toEqual(['user.oci.digest', 'user.oci.mediatype', `user.oci.annotation.${Annotation.Title}`, 'user.oci.annotation.eo:band']);
    expect((await fs.getxattr('/v1/imagery.tif', 'user.oci.digest')).toString()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await fs.getxattr('/v1/imagery.tif', 'user.oci.mediatype')).toString()).toBe('image/tiff');
    expect((await fs.getxattr('/v1/imagery.tif', 'user.oci.annotation.eo:band')).toString()).toBe('red');
  });

  test('tag directories show the manifest digest, media type, artifact type and annotations', async () => {
    const { repo, v1 } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    expect((await fs.getxattr('/v1', 'user.oci.manifest.digest')).toString()).toBe(v1.digest);
    expect((await fs.getxattr('/v1', 'user.oci.manifest.mediatype')).toString()).toBe(v1.mediaType);
    expect((await fs.getxattr('/v1', 'user.oci.artifacttype')).toString()).toBe('application/vnd.example.eo.v1');
    expect((await fs.getxattr('/v1', 'user.oci.annotation.org.example.mission')).toString()).toBe('sentinel');
    expect(await fs.listxattr('/v1/stac')).toEqual([]);
  });

  test('a missing attribute is NO_SUCH_ATTRIBUTE', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    await expect(fs.getxattr('/v1/imagery.tif', 'user.nothing')).rejects.toMatchObject({ code: 'NO_SUCH_ATTRIBUTE' });
    await expect(fs.getxattr('/v1/stac', 'user.oci.digest')).rejects.toMatchObject({ code: 'NO_SUCH_ATTRIBUTE' });
    await expect(fs.getxattr('/v1/imagery.tif', 'user.ocifs.status')).rejects.toMatchObject({ code: 'NO_SUCH_ATTRIBUTE' });
  });

  test('the root shows user.ocifs.status as JSON counters', async () => {
    const { repo } = eoRepository();
    const { fs, clock } = mount(repositoryMount(repo), { statusExtra: () => ({ registry: { requests: 7 } }) });
    const handle = await fs.open('/v1/imagery.tif', constants.O_RDONLY);
    clock.advance(42_000);
    expect(await fs.listxattr('/')).toContain('user.ocifs.status');
    const status = JSON.parse((await fs.getxattr('/', 'user.ocifs.status')).toString());
    expect(status).toMatchObject({
      uptimeSeconds: 42,
      openHandles: 1,
      offline: false,
      metadata: { tagRequests: 1, manifestRequests: 1 },
      reader: { opens: 1 },
      registry: { requests: 7 },
    });
    await fs.release(handle);
  });
});

test('user.ocifs.status answers while the source is down and nothing is known', async () => {
  const repo = new MemoryRepository('registry.test/down');
  repo.failure = unreachable();
  const { fs } = mount(referenceMount(repo, 'v1'));
  await expect(fs.getattr('/')).rejects.toMatchObject({ code: 'UNREACHABLE' });
  const status = JSON.parse((await fs.getxattr('/', 'user.ocifs.status')).toString());
  expect(status).toMatchObject({ offline: true, openHandles: 0 });
});

describe('handles', () => {
  test('a handle stays bound to the blob it opened while the tag moves', async () => {
    const repo = new MemoryRepository('registry.test/moving');
    repo.addArtifact([{ title: 'data.txt', content: 'old content' }], { tag: 'latest' });
    const { fs, clock } = mount(repositoryMount(repo));
    const handle = await fs.open('/latest/data.txt', constants.O_RDONLY);
    repo.addArtifact([{ title: 'data.txt', content: 'new content, longer' }], { tag: 'latest' });
    clock.advance(60_001);
    expect((await readAll(fs, '/latest/data.txt')).toString()).toBe('new content, longer');
    expect((await fs.getattr('/latest/data.txt')).size).toBe('new content, longer'.length);
    expect((await readHandle(fs, handle)).toString()).toBe('old content');
    await fs.release(handle);
  });

  test('a moved tag changes the mtime of a same-size file even with the same created time', async () => {
    const repo = new MemoryRepository('registry.test/reproducible');
    const created = { annotations: { [Annotation.Created]: '2000-01-01T00:00:00Z' } };
    repo.addArtifact([{ title: 'data.txt', content: 'version A' }], { tag: 'latest', ...created });
    const { fs, clock } = mount(repositoryMount(repo));
    const before = await fs.getattr('/latest/data.txt');
    repo.addArtifact([{ title: 'data.txt', content: 'version B' }], { tag: 'latest', ...created });
    clock.advance(60_001);
    const after = await fs.getattr('/latest/data.txt');
    expect(after.size).toBe(before.size);
    expect(after.mtime.getTime()).not.toBe(before.mtime.getTime());
    expect(Math.floor(after.mtime.getTime() / 1000)).toBe(Date.parse('2000-01-01T00:00:00Z') / 1000);
  });

  test('within the TTL a moved tag is not seen', async () => {
    const repo = new MemoryRepository('registry.test/moving');
    repo.addArtifact([{ title: 'data.txt', content: 'old' }], { tag: 'latest' });
    const { fs, clock } = mount(repositoryMount(repo), { ttlMs: 5000 });
    await fs.getattr('/latest/data.txt');
    repo.addArtifact([{ title: 'data.txt', content: 'new!' }], { tag: 'latest' });
    clock.advance(4999);
    expect((await readAll(fs, '/latest/data.txt')).toString()).toBe('old');
    clock.advance(2);
    expect((await readAll(fs, '/latest/data.txt')).toString()).toBe('new!');
  });

  test('reads at and past the end return 0; partial reads are clamped', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    const handle = await fs.open('/v1/imagery.tif', 0);
    const buffer = Buffer.alloc(100);
    expect(await fs.read(handle, buffer, 100, 950)).toBe(50);
    expect(await fs.read(handle, buffer, 100, 1000)).toBe(0);
    expect(await fs.read(handle, buffer, 100, 5000)).toBe(0);
    expect(await fs.read(handle, buffer, 0, 0)).toBe(0);
    await fs.release(handle);
  });

  test.each([
    ['O_WRONLY', constants.O_WRONLY],
    ['O_RDWR', constants.O_RDWR],
    ['O_RDONLY|O_TRUNC', constants.O_TRUNC],
    ['O_WRONLY|O_APPEND', constants.O_WRONLY | constants.O_APPEND],
  ])('opening with %s is READ_ONLY', async (_name, flags) => {
    const { repo } = eoRepository();
    const { fs, reader } = mount(repositoryMount(repo));
    await expect(fs.open('/v1/imagery.tif', flags)).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(reader.counters.opens).toBe(0);
  });

  test('opening a directory is IS_A_DIRECTORY; a missing file is NOT_FOUND', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    for (const path of ['/', '/v1', '/v1/stac']) {
      await expect(fs.open(path, 0)).rejects.toMatchObject({ code: 'IS_A_DIRECTORY' });
    }
    await expect(fs.open('/v1/none', 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('unknown and released handles are BAD_HANDLE', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    await expect(fs.read(99, Buffer.alloc(1), 1, 0)).rejects.toMatchObject({ code: 'BAD_HANDLE' });
    const handle = await fs.open('/v1/imagery.tif', 0);
    await fs.release(handle);
    await expect(fs.release(handle)).rejects.toMatchObject({ code: 'BAD_HANDLE' });
    await expect(fs.read(handle, Buffer.alloc(1), 1, 0)).rejects.toMatchObject({ code: 'BAD_HANDLE' });
  });

  test('many readers of one file get distinct handles; close() releases them all', async () => {
    const { repo } = eoRepository();
    const { fs, reader } = mount(repositoryMount(repo));
    const handles = await Promise.all(Array.from({ length: 5 }, () => fs.open('/v1/imagery.tif', 0)));
    expect(new Set(handles).size).toBe(5);
    await fs.close();
    expect(reader.counters.closes).toBe(5);
  });
});

describe('negative caching: GDAL probes sidecars on every open', () => {
  test('probes inside an artifact never reach the source', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    await fs.getattr('/v1/imagery.tif');
    const before = repo.requestCount;
    for (let i = 0; i < 10; i++) {
      for (const probe of ['imagery.tif.aux.xml', 'imagery.tif.ovr', 'imagery.tif.msk', 'imagery.aux']) {
        await expect(fs.getattr(`/v1/${probe}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      }
    }
    expect(repo.requestCount).toBe(before);
  });

  test('a missing tag is asked for once per negative TTL', async () => {
    const { repo } = eoRepository();
    const { fs, clock } = mount(repositoryMount(repo));
    for (let i = 0; i < 10; i++) await expect(fs.getattr('/v1.aux.xml')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(repo.calls.resolve).toBe(1);
    clock.advance(15_001);
    await expect(fs.getattr('/v1.aux.xml')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(repo.calls.resolve).toBe(2);
  });

  test('after a listing, names not in it cost nothing', async () => {
    const { repo } = eoRepository();
    const { fs } = mount(repositoryMount(repo));
    await fs.readdir('/');
    for (const name of ['v2', 'latest', '.hidden', 'autorun.inf']) {
      await expect(fs.getattr(`/${name}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(repo.calls.resolve).toBe(0);
  });
});

describe('offline', () => {
  test('known listings, tags and manifests are served; the unknown fails UNREACHABLE and is logged', async () => {
    const { repo } = eoRepository();
    const { fs, clock, lines } = mount(repositoryMount(repo));
    expect(await fs.readdir('/')).toEqual(['v1']);
    await fs.readdir('/v1');
    clock.advance(3_600_000);
    repo.failure = unreachable();
    expect(await fs.readdir('/')).toEqual(['v1']);
    expect(await fs.readdir('/v1')).toEqual(['imagery.tif', 'stac']);
    expect((await fs.getattr('/v1/imagery.tif')).size).toBe(1000);
    await expect(fs.getattr(`/@sha256:${'1'.repeat(64)}`)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(JSON.parse((await fs.getxattr('/', 'user.ocifs.status')).toString()).offline).toBe(true);
    expect(lines.filter((l) => l.includes('source unreachable'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('getattr') && l.includes('ECONNREFUSED'))).toBe(true);
  });

  test('a restarted daemon serves the MetadataStore while the source is down', async () => {
    const { repo } = eoRepository();
    const first = mount(repositoryMount(repo));
    await first.fs.readdir('/');
    await first.fs.readdir('/v1/stac');
    repo.failure = unreachable();
    const later = new ManualClock(first.clock.now() + 86_400_000);
    const second = new OciFilesystem({
      source: repositoryMount(repo),
      reader: new RangeBlobReader(),
      metadata: first.metadata,
      now: later.now,
    });
    expect(await second.readdir('/')).toEqual(['v1']);
    expect(await second.readdir('/v1/stac')).toEqual(['item.json']);
  });

  test('answers are errors, not trouble: NOT_FOUND is logged at debug only', async () => {
    const { repo } = eoRepository();
    const { fs, lines } = mount(repositoryMount(repo));
    await expect(fs.getattr('/v1/none')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(lines.every((l) => !/ (error|warn) /.test(l))).toBe(true);
  });
});
