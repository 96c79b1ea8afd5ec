/**
 * The tree over a real OCI image layout (src/layout's LayoutTarget in a temp dir).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OciFilesystem } from '../../src/fs/filesystem.js';
import { referenceMount, repositoryMount } from '../../src/fs/sources.js';
import { LayoutTarget } from '../../src/layout/index.js';
import { Annotation, MediaType, type Descriptor } from '../../src/oci/types.js';
import { ManualClock, MemoryMetadataStore, RangeBlobReader, readAll } from './fakes.js';
import { pushFiles, pushManifestJson } from './push.js';

let dir: string;
let layout: LayoutTarget;
let v1: Descriptor;
let amd: Descriptor;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-fs-layout-'));
  layout = await LayoutTarget.open(join(dir, 'eo-layout'), { create: true });
  v1 = await pushFiles(
    layout,
    [
      { title: 'imagery.tif', content: 'II*\u0000 tiff bytes', mediaType: 'image/tiff' },
      { title: 'stac/item.json', content: '{"type":"Feature"}', mediaType: 'application/geo+json' },
    ],
    ['v1', 'latest'],
    { annotations: { [Annotation.Created]: '2024-01-02T03:04:05Z' } },
  );
  await pushFiles(layout, [{ title: 'notes.txt', content: 'v2 notes' }], ['v2']);
  amd = await pushFiles(layout, [{ title: 'tool', content: 'amd64 build' }], []);
  const arm = await pushFiles(layout, [{ title: 'tool', content: 'arm64 build' }], []);
  await pushManifestJson(
    layout,
    {
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      manifests: [
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    },
    MediaType.ImageIndex,
    ['multi'],
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function mount(source = repositoryMount(layout)) {
  return new OciFilesystem({ source, reader: new RangeBlobReader(), metadata: new MemoryMetadataStore(), now: new ManualClock().now });
}

describe('an OCI layout as a repository: its tags are the tag directories', () => {
  test('tags, files, subdirectories and content', async () => {
    const fs = mount();
    expect((await fs.readdir('/')).sort()).toEqual(['latest', 'multi', 'v1', 'v2']);
    expect(await fs.readdir('/v1')).toEqual(['imagery.tif', 'stac']);
    expect((await readAll(fs, '/latest/stac/item.json')).toString()).toBe('{"type":"Feature"}');
    expect((await readAll(fs, '/v2/notes.txt')).toString()).toBe('v2 notes');
    const st = await fs.getattr('/v1/imagery.tif');
    expect(st.size).toBe(Buffer.byteLength('II*\u0000 tiff bytes'));
    expect(st.mtime.toISOString().slice(0, 19)).toBe('2024-01-02T03:04:05'); // milliseconds come from the digest
  });

  test('an index shows its platforms; manifests are reachable by digest', async () => {
    const fs = mount();
    expect(await fs.readdir('/multi')).toEqual(['linux-amd64', 'linux-arm64']);
    expect((await readAll(fs, '/multi/linux-arm64/tool')).toString()).toBe('arm64 build');
    expect((await readAll(fs, `/@${amd.digest}/tool`)).toString()).toBe('amd64 build');
    expect((await fs.getxattr('/v1', 'user.oci.manifest.digest')).toString()).toBe(v1.digest);
    expect((await fs.getxattr('/v1', 'user.oci.artifacttype')).toString()).toBe('application/vnd.ocifs.test');
  });

  test('a reference into a layout is the root', async () => {
    const fs = mount(referenceMount(layout, 'v2'));
    expect(await fs.readdir('/')).toEqual(['notes.txt']);
  });
});
