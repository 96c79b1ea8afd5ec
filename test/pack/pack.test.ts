import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer as readAll } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, inject, test } from 'vitest';
import { LayoutTarget } from '../../src/layout/layout-target.js';
import { packToLayout, packToSource } from '../../src/pack/pack.js';
import { buildManifest, UNKNOWN_ARTIFACT_TYPE } from '../../src/pack/manifest.js';
import { copy } from '../../src/copy/copy.js';
import { DigestMismatchError, InvalidArgumentError, InvalidReferenceError } from '../../src/errors.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { requireCommand } from '../helpers/require.js';

const run = promisify(execFile);

let root: string;
let cwd: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocifs-pack-'));
  cwd = process.cwd();
  process.chdir(root);
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(root, { recursive: true, force: true });
});

const CONTENT = {
  'data/imagery.tif': 'II*\0 not a real tiff, typed explicitly',
  'data/stac_item.json': JSON.stringify({ type: 'Feature', stac_version: '1.0.0', id: 'scene' }),
  'data/config.json': '{}\n',
};

async function files(spec: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(spec)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

const layer = (path: keyof typeof CONTENT, mediaType: string, extra: Record<string, string> = {}) => ({
  mediaType,
  digest: digestOf(Buffer.from(CONTENT[path])),
  size: Buffer.byteLength(CONTENT[path]),
  annotations: { [Annotation.Title]: path, ...extra },
});

const SEED_TYPE = 'application/vnd.my-earth-observation-product.v1';
const seedInputs = [
  { path: 'data/imagery.tif', mediaType: 'image/tiff' },
  { path: 'data/stac_item.json', mediaType: 'application/geo+json' },
  { path: 'data/config.json', mediaType: 'application/vnd.oci.artifact.config.v1+json' },
];

describe('packToLayout', () => {
  test('writes the manifest oras push would, and stores every blob', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    let progress = 0;
    const totals: number[] = [];
    const result = await packToLayout(layout, seedInputs, ['v1'], {
      artifactType: SEED_TYPE,
      onTotal: (bytes) => totals.push(bytes),
      onProgress: (n) => {
        expect(totals, 'the total comes before any progress').toHaveLength(1);
        progress += n;
      },
    });

    const expected = buildManifest({
      artifactType: SEED_TYPE,
      layers: [
        layer('data/imagery.tif', 'image/tiff'),
        layer('data/stac_item.json', 'application/geo+json'),
        layer('data/config.json', 'application/vnd.oci.artifact.config.v1+json'),
      ],
    });
    expect(result.manifest.equals(expected.bytes)).toBe(true);
    expect(result.descriptor).toEqual({ ...expected.descriptor, artifactType: SEED_TYPE });
    expect(result.config).toEqual(EMPTY_DESCRIPTOR);
    expect(result.layers.map((l) => l.annotations?.[Annotation.Title])).toEqual(Object.keys(CONTENT));
    expect(progress).toBe(Object.values(CONTENT).reduce((n, c) => n + Buffer.byteLength(c), 0));
    expect(totals).toEqual([progress]);

    const fetched = await layout.fetchManifest('v1');
    expect(fetched.bytes.equals(result.manifest)).toBe(true);
    for (const l of result.layers) {
      const bytes = await readAll(await layout.fetchBlob(l));
      expect(bytes.toString()).toBe(CONTENT[l.annotations![Annotation.Title] as keyof typeof CONTENT]);
    }
    expect((await readFile(layout.blobPath(EMPTY_DESCRIPTOR.digest))).toString()).toBe('{}');
    const index = JSON.parse(await readFile(join(root, 'eo-layout', 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([{ ...result.descriptor, annotations: { [Annotation.RefName]: 'v1' } }]);
  });

  test('is deterministic: the same files give the same digest; packing again with a tag moves it', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const first = await packToLayout(layout, [{ path: 'data' }], ['v1', 'latest'], {});
    const again = await packToLayout(layout, [{ path: './data/' }], ['v1'], {});
    expect(again.descriptor.digest).toBe(first.descriptor.digest);

    await writeFile(join(root, 'data', 'stac_item.json'), JSON.stringify({ type: 'Feature', stac_version: '1.1.0', id: 'scene' }));
    const changed = await packToLayout(layout, [{ path: 'data' }], ['v1'], {});
    expect(changed.descriptor.digest).not.toBe(first.descriptor.digest);
    expect((await layout.resolve('v1')).digest).toBe(changed.descriptor.digest);
    expect((await layout.resolve('latest')).digest).toBe(first.descriptor.digest);
    expect(await layout.listTags()).toEqual(['latest', 'v1']);
  });

  test('detects media types when none are given, with ORAS default artifact type', async () => {
    await files({ ...CONTENT, 'data/readme.txt': 'hi', 'data/blob.bin': Buffer.from([0, 1, 2]) });
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const result = await packToLayout(layout, [{ path: 'data' }], ['v1'], {});
    expect(result.layers.map((l) => [l.annotations?.[Annotation.Title], l.mediaType])).toEqual([
      ['data/blob.bin', MediaType.ImageLayer],
      ['data/config.json', 'application/json'],
      ['data/imagery.tif', 'image/tiff'],
      ['data/readme.txt', 'text/plain'],
      ['data/stac_item.json', 'application/geo+json'],
    ]);
    const parsed = (await layout.fetchManifest('v1')).parsed;
    expect(parsed.kind === 'manifest' && parsed.manifest.artifactType).toBe(UNKNOWN_ARTIFACT_TYPE);
  });

  test('no files: the ORAS empty artifact', async () => {
    const layout = await LayoutTarget.open('empty-layout', { create: true });
    const result = await packToLayout(layout, [], ['v1'], {});
    expect(result.descriptor.digest).toBe('sha256:1bb053792feb8d8d590001c212f2defad9277e091d2aa868cde2879ff41abb1b');
    expect(await layout.exists(EMPTY_DESCRIPTOR)).toBe(true);
  });

  test('created: none by default, now from the clock, or a given time', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const created = async (options: Parameters<typeof packToLayout>[3]) => {
      const r = await packToLayout(layout, [{ path: 'data' }], [], options);
      return JSON.parse(r.manifest.toString()).annotations?.[Annotation.Created];
    };
    expect(await created({})).toBeUndefined();
    expect(await created({ created: 'now', now: () => new Date('2026-11-28T15:04:05.999Z') })).toBe('2026-11-28T15:04:05Z');
    expect(await created({ created: '2020-01-01T00:00:00+01:00' })).toBe('2020-01-01T00:00:00+01:00');
    await expect(created({ created: 'tomorrow' })).rejects.toThrow(InvalidArgumentError);
  });

  test('annotations from --annotation or an ORAS annotation file', async () => {
    await files(CONTENT);
    await writeFile(
      join(root, 'annotations.json'),
      JSON.stringify({
        $manifest: { 'org.opencontainers.image.source': 'https://example.com/eo' },
        $config: { 'com.example.config': 'yes' },
        'data/imagery.tif': { 'eo:band': 'B04' },
        'data/stac_item.json': { type: 'stac-item' },
      }),
    );
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const result = await packToLayout(layout, seedInputs, ['v1'], { artifactType: SEED_TYPE, annotationFile: 'annotations.json' });
    const expected = buildManifest({
      artifactType: SEED_TYPE,
      annotations: { 'org.opencontainers.image.source': 'https://example.com/eo' },
      configAnnotations: { 'com.example.config': 'yes' },
      layers: [
        layer('data/imagery.tif', 'image/tiff', { 'eo:band': 'B04' }),
        layer('data/stac_item.json', 'application/geo+json', { type: 'stac-item' }),
        layer('data/config.json', 'application/vnd.oci.artifact.config.v1+json'),
      ],
    });
    expect(result.manifest.toString()).toBe(expected.bytes.toString());

    const viaFlags = await packToLayout(layout, seedInputs, [], { artifactType: SEED_TYPE, annotations: { a: 'b' } });
    expect(JSON.parse(viaFlags.manifest.toString()).annotations).toEqual({ a: 'b' });
    await expect(
      packToLayout(layout, seedInputs, [], { annotations: { a: 'b' }, annotationFile: 'annotations.json' }),
    ).rejects.toThrow(/cannot both be given/);
    await expect(packToLayout(layout, seedInputs, [], { annotationFile: 'missing.json' })).rejects.toThrow(/no such file/);
  });

  test('--config without an artifact type makes a v1.0 manifest with that config', async () => {
    await files({ ...CONTENT, 'meta.json': '{"stac":"collection"}' });
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const result = await packToLayout(layout, [{ path: 'data/imagery.tif', mediaType: 'image/tiff' }], ['v1'], {
      config: { path: 'meta.json', mediaType: 'application/vnd.oci.artifact.config.v1+json' },
    });
    const manifest = JSON.parse(result.manifest.toString());
    expect(manifest.artifactType).toBeUndefined();
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.artifact.config.v1+json',
      digest: digestOf(Buffer.from('{"stac":"collection"}')),
      size: 21,
    });
    expect(await layout.exists(result.config)).toBe(true);
    expect(await layout.exists(EMPTY_DESCRIPTOR)).toBe(false); // nothing references it
  });

  test('link places blobs as hard links', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const result = await packToLayout(layout, [{ path: 'data' }], ['v1'], { link: true });
    for (const l of result.layers) {
      expect((await stat(layout.blobPath(l.digest))).ino).toBe((await stat(join(root, l.annotations![Annotation.Title]!))).ino);
    }
  });

  test('bad input fails before anything is written', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    await expect(packToLayout(layout, [{ path: 'data' }], ['../bad'], {})).rejects.toThrow(InvalidReferenceError);
    await expect(packToLayout(layout, [{ path: 'data' }, { path: 'missing.tif' }], ['v1'], {})).rejects.toThrow(/missing.tif: no such file/);
    await expect(packToLayout(layout, [{ path: 'data' }], ['v1'], { artifactType: 'nope' })).rejects.toThrow(InvalidArgumentError);
    await expect(packToLayout(layout, [{ path: 'data', mediaType: 'tiff' }], ['v1'], {})).rejects.toThrow(/invalid media type "tiff"/);
    expect(await readdir(join(root, 'eo-layout', 'blobs', 'sha256'))).toEqual([]);
    expect(await layout.listTags()).toEqual([]);
  });
});

describe('packToLayout of many files', () => {
  // Concurrent ingests share the layout's ingest/ directory: one that removed it while another
  // was between its mkdir and its open made packs of hundreds of files fail with ENOENT.
  const COUNT = 300;
  async function manyFiles(): Promise<Map<string, Buffer>> {
    const spec = new Map<string, Buffer>();
    for (let i = 0; i < COUNT; i++) {
      const path = `many/d${i % 10}/f${String(i).padStart(3, '0')}.bin`;
      spec.set(path, Buffer.from(`file ${i} `.repeat(1 + (i % 50))));
    }
    await files(Object.fromEntries(spec));
    return spec;
  }

  test.each([
    ['copied', false],
    ['hard-linked', true],
  ])('%s: every blob is stored and the manifest lists 300 layers', async (_name, link) => {
    const spec = await manyFiles();
    const layout = await LayoutTarget.open('many-layout', { create: true });
    const result = await packToLayout(layout, [{ path: 'many' }], ['v1'], { link, concurrency: 8 });
    expect(result.layers).toHaveLength(COUNT);
    expect(result.layers.map((l) => l.annotations![Annotation.Title]).sort()).toEqual([...spec.keys()].sort());
    for (const l of result.layers) {
      const bytes = spec.get(l.annotations![Annotation.Title]!)!;
      expect(l.digest).toBe(digestOf(bytes));
      expect((await readFile(layout.blobPath(l.digest))).equals(bytes)).toBe(true);
    }
    const fetched = await layout.fetchManifest('v1');
    expect(fetched.parsed.kind === 'manifest' && fetched.parsed.manifest.layers).toHaveLength(COUNT);
    // no temp files or temp directory left behind
    expect((await readdir(join(root, 'many-layout'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('two packs into one layout at once (as two processes would) both land', async () => {
    await manyFiles();
    const [a, b] = await Promise.all([
      LayoutTarget.open('shared-layout', { create: true }),
      LayoutTarget.open('shared-layout', { create: true }),
    ]);
    const [ra, rb] = await Promise.all([
      packToLayout(a, [{ path: 'many/d1' }, { path: 'many/d2' }], ['a']),
      packToLayout(b, [{ path: 'many/d3' }, { path: 'many/d4' }], ['b']),
    ]);
    for (const l of [...ra.layers, ...rb.layers]) expect(await a.exists(l)).toBe(true);
    expect(await a.listTags()).toEqual(['a', 'b']);
  });
});

describe('packToSource', () => {
  test('gives the same manifest as packToLayout and serves blobs from the files', async () => {
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const packed = await packToLayout(layout, [{ path: 'data' }], ['v1'], { artifactType: SEED_TYPE });
    let progress = 0;
    const { source, descriptor, manifest, layers, config } = await packToSource([{ path: 'data' }], {
      artifactType: SEED_TYPE,
      onProgress: (n) => (progress += n),
    });
    expect(descriptor).toEqual(packed.descriptor);
    expect(manifest.equals(packed.manifest)).toBe(true);
    expect(progress).toBe(layers.reduce((n, l) => n + l.size, 0));

    expect(await source.resolve(descriptor.digest)).toEqual(descriptor);
    await expect(source.resolve('v1')).rejects.toThrow(/not the packed manifest/);
    expect((await source.fetchManifest(descriptor.digest)).bytes.equals(manifest)).toBe(true);
    expect(await source.listTags()).toEqual([]);
    for (const l of layers) {
      expect(await source.exists(l)).toBe(true);
      expect((await readAll(await source.fetchBlob(l))).toString()).toBe(CONTENT[l.annotations![Annotation.Title] as keyof typeof CONTENT]);
    }
    expect((await readAll(await source.fetchBlob(config))).toString()).toBe('{}');
    const stac = layers.find((l) => l.annotations?.[Annotation.Title] === 'data/stac_item.json')!;
    expect((await source.fetchBlobRange(stac, 2, 4)).toString()).toBe('type');
    expect((await source.fetchBlobRange(config, 1, 10)).toString()).toBe('}');
  });

  test('copy() from the source into a layout reproduces the packed artifact', async () => {
    await files(CONTENT);
    const { source, descriptor } = await packToSource(seedInputs, { artifactType: SEED_TYPE });
    const layout = await LayoutTarget.open('copied', { create: true });
    await copy(source, descriptor.digest, layout, ['v1']);
    const direct = await packToLayout(await LayoutTarget.open('direct', { create: true }), seedInputs, ['v1'], { artifactType: SEED_TYPE });
    expect((await layout.resolve('v1')).digest).toBe(direct.descriptor.digest);
  });

  test('a file changed after hashing fails the read', async () => {
    await files(CONTENT);
    const { source, layers } = await packToSource([{ path: 'data' }], {});
    const stac = layers.find((l) => l.annotations?.[Annotation.Title] === 'data/stac_item.json')!;
    const tif = layers.find((l) => l.annotations?.[Annotation.Title] === 'data/imagery.tif')!;
    await writeFile(join(root, 'data', 'stac_item.json'), CONTENT['data/stac_item.json'].replace('scene', 'SCENE')); // same size
    await expect(readAll(await source.fetchBlob(stac))).rejects.toThrow(DigestMismatchError);
    await writeFile(join(root, 'data', 'imagery.tif'), 'shorter');
    await expect(source.fetchBlob(tif)).rejects.toThrow(/the file changed since it was packed/);
    await expect(source.fetchBlobRange(tif, 0, 2)).rejects.toThrow(DigestMismatchError);
  });
});

describe('interop', () => {
  test('skopeo copies a packed layout to the registry unchanged (same manifest digest)', async () => {
    requireCommand('skopeo', 'apt-get install --no-install-recommends skopeo');
    await files(CONTENT);
    const layout = await LayoutTarget.open('eo-layout', { create: true });
    const packed = await packToLayout(layout, seedInputs, ['v1'], { artifactType: SEED_TYPE, created: '2025-01-01T00:00:00Z' });
    const home = join(root, 'home');
    await mkdir(join(home, 'tmp'), { recursive: true });
    const env = { ...process.env, HOME: home, TMPDIR: join(home, 'tmp') };
    const ref = `docker://${inject('registryHost')}/ocifs-test/pack-interop:v1`;
    await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${join(root, 'eo-layout')}:v1`, ref], { env });
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref], { env, encoding: 'buffer' });
    expect(digestOf(Buffer.from(stdout))).toBe(packed.descriptor.digest);
    // and umoci sees the tag
    const { stdout: tags } = await run('umoci', ['ls', '--layout', join(root, 'eo-layout')], { env });
    expect(tags.trim()).toBe('v1');
  });
});
