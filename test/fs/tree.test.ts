/**
 * The tree each kind of source makes, through direct calls into OciFilesystem (no mount).
 */
import { constants } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { OciFilesystem, type FilesystemOptions } from '../../src/fs/filesystem.js';
import { referenceMount, registryMount, repositoryMount, type MountSource } from '../../src/fs/sources.js';
import { Annotation, MediaType } from '../../src/oci/types.js';
import { ManualClock, MemoryMetadataStore, MemoryRegistry, MemoryRepository, RangeBlobReader, readAll } from './fakes.js';

function mount(source: MountSource, extra: Partial<FilesystemOptions> = {}) {
  const clock = new ManualClock();
  const reader = new RangeBlobReader();
  const fs = new OciFilesystem({ source, reader, metadata: new MemoryMetadataStore(), now: clock.now, uid: 1000, gid: 1000, ...extra });
  return { fs, clock, reader };
}

const sorted = async (p: Promise<string[]>) => (await p).sort();

describe('repository source: /<tag>/<files>', () => {
  const repo = new MemoryRepository('registry.test/eo/products');
  const v1 = repo.addArtifact(
    [
      { title: 'imagery.tif', content: 'TIFF', mediaType: 'image/tiff' },
      { title: 'meta/stac.json', content: '{"type":"Feature"}', mediaType: 'application/geo+json' },
      { title: 'meta/more/deep.txt', content: 'deep' },
      { content: 'untitled', mediaType: MediaType.ImageLayerGzip },
    ],
    { tag: 'v1' },
  );
  repo.addArtifact([{ title: 'b', content: 'B' }], { tag: 'v2' });
  const { fs } = mount(repositoryMount(repo));

  test('the root lists tags; a tag lists its files in manifest order', async () => {
    expect(await sorted(fs.readdir('/'))).toEqual(['v1', 'v2']);
    const names = await fs.readdir('/v1');
    expect(names).toHaveLength(3);
    expect(names.slice(0, 2)).toEqual(['imagery.tif', 'meta']);
    expect(names[2]).toMatch(/^sha256-[0-9a-f]{12}\.tar\.gz$/);
    expect(await fs.readdir('/v1/meta')).toEqual(['stac.json', 'more']);
    expect(await fs.readdir('/v1/meta/more')).toEqual(['deep.txt']);
  });

  test('files read back their blob', async () => {
    expect((await readAll(fs, '/v1/imagery.tif')).toString()).toBe('TIFF');
    expect((await readAll(fs, '/v1/meta/more/deep.txt')).toString()).toBe('deep');
  });

  test.each([
    ['/v9', 'NOT_FOUND'],
    ['/v1/nothing', 'NOT_FOUND'],
    ['/v1/imagery.tif/below', 'NOT_A_DIRECTORY'],
    ['/v1/meta/stac.json/x', 'NOT_A_DIRECTORY'],
    ['/@sha256:123', 'NOT_FOUND'],
    ['/@latest', 'NOT_FOUND'],
  ])('getattr %s -> %s', async (path, code) => {
    await expect(fs.getattr(path)).rejects.toMatchObject({ code });
  });

  test('readdir of a file is NOT_A_DIRECTORY', async () => {
    await expect(fs.readdir('/v1/imagery.tif')).rejects.toMatchObject({ code: 'NOT_A_DIRECTORY' });
  });

  test('every manifest is reachable by digest, not listed, and immutable', async () => {
    const hex = v1.digest.slice('sha256:'.length);
    expect(await fs.readdir(`/@sha256:${hex}`)).toContain('imagery.tif');
    expect(await fs.readdir('/')).not.toContain(`@sha256:${hex}`);
    expect((await fs.getattr(`/@sha256:${hex}`)).immutable).toBe(true);
    expect((await fs.getattr(`/@sha256:${hex}/meta`)).immutable).toBe(true);
    expect((await fs.getattr(`/@sha256:${hex}/imagery.tif`)).immutable).toBe(true);
    expect((await fs.getattr('/v1')).immutable).toBe(false);
    expect((await fs.getattr('/v1/imagery.tif')).immutable).toBe(false);
    await expect(fs.getattr(`/@sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('registry source: /<repo path>/<tag>/<files>', () => {
  function registry() {
    const reg = new MemoryRegistry();
    reg.add('eo/products').addArtifact([{ title: 'a.tif', content: 'A' }], { tag: 'v1' });
    reg.add('eo/archive/old').addArtifact([{ title: 'o', content: 'O' }], { tag: 'v0' });
    const eo = reg.add('eo');
    eo.addArtifact([{ title: 'root-of-eo', content: 'E' }], { tag: 'latest' });
    // A tag with the same name as the child repository `eo/products`: the repository wins.
    eo.addArtifact([{ title: 'shadowed', content: 'S' }], { tag: 'products' });
    reg.add('other').addArtifact([{ title: 'x', content: 'X' }], { tag: 'v1' });
    return reg;
  }

  test('repository names are nested directories; a repository that is also a parent shows both', async () => {
    const reg = registry();
    const { fs } = mount(registryMount('registry.test', reg));
    expect(await sorted(fs.readdir('/'))).toEqual(['eo', 'other']);
    expect(await sorted(fs.readdir('/eo'))).toEqual(['archive', 'latest', 'products']);
    expect(await fs.readdir('/eo/products')).toEqual(['v1']);
    expect(await fs.readdir('/eo/products/v1')).toEqual(['a.tif']);
    expect(await fs.readdir('/eo/archive')).toEqual(['old']);
    expect((await readAll(fs, '/eo/archive/old/v0/o')).toString()).toBe('O');
    expect(await fs.readdir('/eo/latest')).toEqual(['root-of-eo']);
  });

  test('the catalog is read once per TTL', async () => {
    const reg = registry();
    const { fs, clock } = mount(registryMount('registry.test', reg));
    await fs.readdir('/');
    await fs.getattr('/eo/products');
    await fs.readdir('/eo');
    expect(reg.catalogCalls).toBe(1);
    clock.advance(60_001);
    await fs.readdir('/');
    expect(reg.catalogCalls).toBe(2);
  });

  test('a fixed repository list (--repo) never asks for the catalog', async () => {
    const reg = registry();
    const { fs } = mount(registryMount('registry.test', reg, { repositories: ['eo/products', 'other'] }));
    expect(await fs.readdir('/')).toEqual(['eo', 'other']);
    expect(await fs.readdir('/eo')).toEqual(['products']);
    expect((await readAll(fs, '/other/v1/x')).toString()).toBe('X');
    expect(reg.catalogCalls).toBe(0);
    await expect(fs.getattr('/eo/archive')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('a namespace shows the repositories under it, relative to it', async () => {
    const reg = registry();
    const { fs } = mount(registryMount('registry.test/eo', reg, { namespace: 'eo' }));
    expect(await sorted(fs.readdir('/'))).toEqual(['archive', 'products']);
    expect((await readAll(fs, '/products/v1/a.tif')).toString()).toBe('A');
    await expect(fs.getattr('/other')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('catalog names that cannot be paths are left out', async () => {
    const reg = new MemoryRegistry();
    for (const bad of ['../up', 'a//b', '/abs', 'ok/../x', 'nul\u0000', '@sha256', '']) reg.add(bad);
    reg.add('fine').addArtifact([{ title: 'f', content: 'F' }], { tag: 'v1' });
    const { fs } = mount(registryMount('registry.test', reg));
    expect(await fs.readdir('/')).toEqual(['fine']);
  });

  test('a manifest shared by two repositories is read from the repository it was reached through', async () => {
    const reg = new MemoryRegistry();
    const a = reg.add('a');
    const b = reg.add('b');
    const files = [{ title: 'same.txt', content: 'identical artifact' }];
    const digest = a.addArtifact(files, { tag: 'v1' }).digest;
    expect(b.addArtifact(files, { tag: 'v1' }).digest).toBe(digest);
    const { fs } = mount(registryMount('registry.test', reg));
    await readAll(fs, '/a/v1/same.txt');
    const fromA = a.calls.fetchBlobRange;
    expect((await readAll(fs, '/b/v1/same.txt')).toString()).toBe('identical artifact');
    expect(a.calls.fetchBlobRange).toBe(fromA);
    expect(b.calls.fetchBlobRange).toBeGreaterThan(0);
  });

  test('the root and namespace directories need no request for getattr', async () => {
    const reg = registry();
    const { fs } = mount(registryMount('registry.test', reg));
    expect((await fs.getattr('/')).mode & constants.S_IFMT).toBe(constants.S_IFDIR);
    expect(reg.catalogCalls).toBe(0);
  });
});

describe('reference source: the root is the artifact', () => {
  test('by tag, following the tag after the TTL', async () => {
    const repo = new MemoryRepository('registry.test/eo');
    repo.addArtifact([{ title: 'one.txt', content: '1' }], { tag: 'v1' });
    const { fs, clock } = mount(referenceMount(repo, 'v1'));
    expect(await fs.readdir('/')).toEqual(['one.txt']);
    repo.addArtifact([{ title: 'two.txt', content: '2' }], { tag: 'v1' });
    expect(await fs.readdir('/')).toEqual(['one.txt']);
    clock.advance(60_001);
    expect(await fs.readdir('/')).toEqual(['two.txt']);
    expect((await fs.getattr('/')).immutable).toBe(false);
  });

  test('by digest, immutable', async () => {
    const repo = new MemoryRepository('registry.test/eo');
    const d = repo.addArtifact([{ title: 'one.txt', content: '1' }]);
    for (const reference of [d.digest, `@${d.digest}`]) {
      const { fs } = mount(referenceMount(repo, reference));
      expect(await fs.readdir('/')).toEqual(['one.txt']);
      expect((await fs.getattr('/')).immutable).toBe(true);
      expect((await fs.getattr('/one.txt')).immutable).toBe(true);
    }
  });
});

describe('image index: one directory per child manifest', () => {
  const repo = new MemoryRepository('registry.test/multi');
  const amd = repo.addArtifact([{ title: 'bin', content: 'amd64' }], { annotations: { [Annotation.Created]: '2021-01-01T00:00:00Z' } });
  const arm = repo.addArtifact([{ title: 'bin', content: 'arm64' }]);
  const cog = repo.addArtifact([{ title: 'c.tif', content: 'cog' }]);
  const bare = repo.addArtifact([{ title: 'z', content: 'z' }]);
  const index = repo.addIndex(
    [
      { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { ...cog, annotations: { [Annotation.Title]: 'cog' } },
      bare,
    ],
    { [Annotation.Created]: '2022-02-02T00:00:00Z' },
  );
  repo.tag('multi', index);
  const { fs } = mount(repositoryMount(repo));

  test('children are named by platform, title, else digest', async () => {
    expect(await fs.readdir('/multi')).toEqual(['linux-amd64', 'linux-arm64-v8', 'cog', `sha256-${bare.digest.slice(7, 19)}`]);
    expect((await readAll(fs, '/multi/linux-arm64-v8/bin')).toString()).toBe('arm64');
    expect((await readAll(fs, '/multi/cog/c.tif')).toString()).toBe('cog');
  });

  test('a child has its own created time, else the index one', async () => {
    expect((await fs.getattr('/multi/linux-amd64/bin')).mtime.toISOString().slice(0, 19)).toBe('2021-01-01T00:00:00'); // milliseconds come from the digest
    expect((await fs.getattr('/multi/linux-arm64-v8/bin')).mtime.toISOString().slice(0, 19)).toBe('2022-02-02T00:00:00'); // milliseconds come from the digest
  });

  test('child directories carry their manifest digest', async () => {
    expect((await fs.getxattr('/multi/linux-amd64', 'user.oci.manifest.digest')).toString()).toBe(amd.digest);
    expect((await fs.getxattr('/multi', 'user.oci.manifest.mediatype')).toString()).toBe(MediaType.ImageIndex);
  });
});

describe('hostile manifests never escape, crash or hang', () => {
  test('titles that are absolute, climb, are empty or duplicate get safe names', async () => {
    const repo = new MemoryRepository('registry.test/evil');
    repo.addArtifact(
      [
        { title: '../x', content: '1' },
        { title: '/etc/x', content: '2' },
        { title: '', content: '3' },
        { title: 'dup', content: '4' },
        { title: 'dup', content: '5' },
        { title: 'a/../../b', content: '6' },
      ],
      { tag: 'v1' },
    );
    const { fs } = mount(repositoryMount(repo));
    const names = await fs.readdir('/v1');
    expect(names).toHaveLength(6);
    expect(names).toContain('dup');
    for (const name of names) expect(name === 'dup' || /^sha256-[0-9a-f]{12}$/.test(name)).toBe(true);
    expect((await readAll(fs, '/v1/dup')).toString()).toBe('4');
  });

  test('20,000 layers with sizes up to 2^53-1 list and stat without fetching a blob', async () => {
    const repo = new MemoryRepository('registry.test/huge');
    const layers = Array.from({ length: 20_000 }, (_, i) => ({
      mediaType: 'application/octet-stream',
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      size: Number.MAX_SAFE_INTEGER - i,
      annotations: { [Annotation.Title]: `d${i % 100}/f${i}` },
    }));
    repo.tag('v1', repo.addManifest(layers));
    const { fs } = mount(repositoryMount(repo));
    expect(await fs.readdir('/v1')).toHaveLength(100);
    const st = await fs.getattr('/v1/d0/f0');
    expect(st.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(st.blocks).toBe(Math.ceil(Number.MAX_SAFE_INTEGER / 512));
    expect(repo.calls.fetchBlobRange).toBe(0);
  });
});
