/**
 * The seed's "Practical Workflow" (shared/seed-oci-artifacts-everywhere.txt) at library level:
 * examples/eo/make-data.sh makes the data, packToLayout does what
 *
 *   oras push --oci-layout eo-layout:v1 --artifact-type application/vnd.my-earth-observation-product.v1 \
 *     data/imagery.tif:image/tiff data/stac_item.json:application/geo+json \
 *     data/config.json:application/vnd.oci.artifact.config.v1+json
 *
 * does (same manifest bytes, without ORAS's timestamp), and the artifact travels to the real
 * registry and back (skopeo stands in for the transfer here; the CLI's push/pull have their own tests).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buffer as readAll } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { LayoutTarget } from '../../src/layout/layout-target.js';
import { parseLayoutSpec } from '../../src/layout/layout-spec.js';
import { buildManifest } from '../../src/pack/manifest.js';
import { MEDIA_TYPES } from '../../src/pack/media-types.js';
import { packToLayout } from '../../src/pack/pack.js';
import { parsePackInput } from '../../src/pack/inputs.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { requireCommand } from '../helpers/require.js';

const run = promisify(execFile);
const makeData = resolve(import.meta.dirname, '../../examples/eo/make-data.sh');
const ARTIFACT_TYPE = 'application/vnd.my-earth-observation-product.v1';
const SEED_ARGS = [
  'data/imagery.tif:image/tiff',
  'data/stac_item.json:application/geo+json',
  'data/config.json:application/vnd.oci.artifact.config.v1+json',
];

let work: string;
let cwd: string;
let env: NodeJS.ProcessEnv;
const data: Record<string, Buffer> = {};

beforeAll(async () => {
  requireCommand('gdal_grid', 'apt-get install --no-install-recommends gdal-bin');
  requireCommand('skopeo', 'apt-get install --no-install-recommends skopeo');
  work = await mkdtemp(join(tmpdir(), 'ocifs-seed-'));
  await mkdir(join(work, 'home', 'tmp'), { recursive: true });
  env = { ...process.env, HOME: join(work, 'home'), TMPDIR: join(work, 'home', 'tmp') };
  await run(makeData, [join(work, 'data')], { env });
  for (const name of ['imagery.tif', 'stac_item.json', 'config.json']) data[`data/${name}`] = await readFile(join(work, 'data', name));
  cwd = process.cwd();
  process.chdir(work); // titles are the paths as given: data/imagery.tif, ...
}, 120_000);
afterAll(async () => {
  if (cwd) process.chdir(cwd);
  if (work) await rm(work, { recursive: true, force: true });
});

test('make-data.sh makes a small COG, a STAC Item and an empty config', async () => {
  expect(data['data/imagery.tif']!.length).toBeLessThan(1024 * 1024);
  expect(data['data/config.json']!.toString()).toBe('{}\n');
  const item = JSON.parse(data['data/stac_item.json']!.toString());
  expect(item).toMatchObject({ type: 'Feature', stac_version: '1.0.0', assets: { imagery: { href: './imagery.tif' } } });
  const { stdout } = await run('gdalinfo', [join(work, 'data', 'imagery.tif')], { env });
  expect(stdout).toContain('LAYOUT=COG');
});

test('packing with the seed media types and artifact type gives the ORAS manifest', async () => {
  const layout = await LayoutTarget.open('eo-layout', { create: true });
  const result = await packToLayout(layout, SEED_ARGS.map(parsePackInput), ['v1'], { artifactType: ARTIFACT_TYPE });

  const layers = SEED_ARGS.map((arg) => {
    const [path, mediaType] = [arg.slice(0, arg.indexOf(':')), arg.slice(arg.indexOf(':') + 1)];
    const bytes = data[path]!;
    return { mediaType, digest: digestOf(bytes), size: bytes.length, annotations: { [Annotation.Title]: path } };
  });
  const expected = buildManifest({ artifactType: ARTIFACT_TYPE, layers });
  expect(result.manifest.toString()).toBe(expected.bytes.toString());

  const manifest = JSON.parse((await layout.fetchManifest('v1')).bytes.toString());
  expect(manifest).toEqual({
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    artifactType: ARTIFACT_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers,
  });
  expect(await layout.listTags()).toEqual(['v1']);
});

test('without types, the files are recognised for what they are', async () => {
  const layout = await LayoutTarget.open('eo-layout-detected', { create: true });
  const result = await packToLayout(layout, [{ path: 'data' }], ['v1'], { artifactType: ARTIFACT_TYPE });
  expect(result.layers.map((l) => [l.annotations?.[Annotation.Title], l.mediaType])).toEqual([
    ['data/config.json', MEDIA_TYPES.json],
    ['data/imagery.tif', MEDIA_TYPES.cog],
    ['data/stac_item.json', MEDIA_TYPES.geojson],
  ]);
});

test("the seed's `eo-layout:eo/products:v1` means the directory `eo-layout:eo/products`, as in ORAS", () => {
  expect(parseLayoutSpec('eo-layout:eo/products:v1')).toEqual({ path: 'eo-layout:eo/products', tag: 'v1' });
});

test('the artifact goes to the registry and comes back byte-identical', async () => {
  const layoutDir = join(work, 'eo-layout');
  const remote = `docker://${inject('registryHost')}/eo/products:v1`;
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env, encoding: 'buffer' });
  await skopeo('copy', '--dest-tls-verify=false', `oci:${layoutDir}:v1`, remote);
  const { stdout } = await skopeo('inspect', '--raw', '--tls-verify=false', remote);
  const local = await LayoutTarget.open(layoutDir);
  expect(digestOf(Buffer.from(stdout))).toBe((await local.resolve('v1')).digest);

  const retrievedDir = join(work, 'retrieved');
  await skopeo('copy', '--src-tls-verify=false', remote, `oci:${retrievedDir}:v1`);
  const retrieved = await LayoutTarget.open(retrievedDir);
  const fetched = await retrieved.fetchManifest('v1');
  expect(fetched.parsed.kind).toBe('manifest');
  if (fetched.parsed.kind !== 'manifest') return;
  for (const layer of fetched.parsed.manifest.layers) {
    const bytes = await readAll(await retrieved.fetchBlob(layer));
    expect(bytes.equals(data[layer.annotations![Annotation.Title]!]!)).toBe(true);
  }
});
