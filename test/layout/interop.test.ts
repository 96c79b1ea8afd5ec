/**
 * Layouts are shared with other tools: what LayoutTarget writes, umoci and skopeo read; what
 * skopeo and umoci write, LayoutTarget reads.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { LayoutTarget } from '../../src/layout/layout-target.js';
import { MediaType } from '../../src/oci/types.js';
import { requireCommand } from '../helpers/require.js';
import { artifact, tempDir, type Artifact } from './fixtures.js';

const run = promisify(execFile);

let tmp: { path: string; remove(): Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  requireCommand('skopeo', 'apt-get install --no-install-recommends skopeo');
  requireCommand('umoci', 'apt-get install --no-install-recommends umoci');
});
beforeEach(async () => {
  tmp = await tempDir('ocifs-interop-');
  // skopeo reads policy and writes caches under HOME/TMPDIR: keep them private to the test.
  const home = join(tmp.path, 'home');
  await mkdir(join(home, 'tmp'), { recursive: true });
  env = { ...process.env, HOME: home, TMPDIR: join(home, 'tmp'), XDG_RUNTIME_DIR: join(home, 'tmp') };
});
afterEach(async () => {
  await tmp.remove();
});

const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env, encoding: 'buffer', maxBuffer: 64 << 20 });

async function store(layout: LayoutTarget, a: Artifact, tags: string[]): Promise<void> {
  for (const b of [...a.layers, a.config]) await layout.pushBlob(b.descriptor, { open: () => Readable.from([b.bytes]) });
  await layout.pushManifest(a.manifest.descriptor, a.manifest.bytes, tags);
}

test('umoci and skopeo read a layout written by LayoutTarget', async () => {
  const dir = join(tmp.path, 'ours');
  const layout = await LayoutTarget.open(dir, { create: true });
  const a = artifact({ 'imagery.tif': 'not really a tiff', 'stac_item.json': '{"type":"Feature"}' });
  await store(layout, a, ['v1', 'latest']);

  const { stdout: tags } = await run('umoci', ['ls', '--layout', dir], { env });
  expect(tags.split('\n').filter(Boolean).sort()).toEqual(['latest', 'v1']);

  const { stdout: raw } = await skopeo('inspect', '--raw', `oci:${dir}:v1`);
  expect(Buffer.from(raw).equals(a.manifest.bytes)).toBe(true);
});

test('LayoutTarget reads a layout written by skopeo copy (and the manifest is unchanged)', async () => {
  const src = join(tmp.path, 'a');
  const dst = join(tmp.path, 'b');
  const ours = await LayoutTarget.open(src, { create: true });
  const a = artifact({ 'one.txt': 'one', 'sub/two.txt': 'two' });
  await store(ours, a, ['v1']);

  await skopeo('copy', `oci:${src}:v1`, `oci:${dst}:v2`);

  const theirs = await LayoutTarget.open(dst);
  expect(await theirs.listTags()).toEqual(['v2']);
  const fetched = await theirs.fetchManifest('v2');
  expect(fetched.descriptor.digest).toBe(a.manifest.descriptor.digest);
  expect(fetched.bytes.equals(a.manifest.bytes)).toBe(true);
  for (const layer of a.layers) {
    expect((await readAll(await theirs.fetchBlob(layer.descriptor))).equals(layer.bytes)).toBe(true);
  }
  // skopeo adds a tag next to ours: both are kept
  await skopeo('copy', `oci:${src}:v1`, `oci:${dst}:v3`);
  await theirs.tag(fetched.descriptor, 'v4');
  expect(await theirs.listTags()).toEqual(['v2', 'v3', 'v4']);
  const { stdout } = await run('umoci', ['ls', '--layout', dst], { env });
  expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['v2', 'v3', 'v4']);
});

test('LayoutTarget reads an image made by umoci', async () => {
  const dir = join(tmp.path, 'umoci');
  await run('umoci', ['init', '--layout', dir], { env });
  await run('umoci', ['new', '--image', `${dir}:base`], { env });
  const layout = await LayoutTarget.open(dir);
  expect(await layout.listTags()).toEqual(['base']);
  const fetched = await layout.fetchManifest('base');
  expect(fetched.parsed.kind).toBe('manifest');
  if (fetched.parsed.kind !== 'manifest') return;
  expect(fetched.parsed.manifest.config.mediaType).toBe(MediaType.ImageConfig);
  const config = JSON.parse((await readAll(await layout.fetchBlob(fetched.parsed.manifest.config))).toString());
  expect(config).toHaveProperty('rootfs');
});
