/**
 * Image indexes (multi-platform images, multi-artifact bundles) through cp, ls, pull and the
 * mount: copied recursively with their digests, listed as children, refused by a plain pull.
 */
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact } from '../helpers/artifacts.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { RegistryClient } from '../../src/registry/index.js';
import { digestOf } from '../../src/ref/digest.js';
import { MediaType, type Descriptor } from '../../src/oci/types.js';

const host = inject('registryHost');
let cli: CliEnv;
let indexDigest: string;

beforeAll(async () => {
  cli = await cliEnv();
  const client = new RegistryClient(host);
  try {
    const repo = client.repository('idx/multi');
    const amd = await pushArtifact(repo, [], [{ title: 'bin/tool', bytes: Buffer.from('amd64 build\n') }]);
    const arm = await pushArtifact(repo, [], [{ title: 'bin/tool', bytes: Buffer.from('arm64 build\n') }]);
    const manifests: Descriptor[] = [
      { ...amd.descriptor, platform: { os: 'linux', architecture: 'amd64' } },
      { ...arm.descriptor, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ];
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }));
    indexDigest = digestOf(index);
    await repo.pushManifest({ mediaType: MediaType.ImageIndex, digest: indexDigest, size: index.length }, index, ['1.0']);
  } finally {
    await client.close();
  }
});

afterEach(async () => {
  await stopAllMounts();
});

afterAll(async () => {
  await cli?.cleanup();
});

test('ls shows the children of an index with their platforms', async () => {
  const r = await cli.run(['ls', `${host}/idx/multi:1.0`]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/linux\/amd64/);
  expect(r.stdout).toMatch(/linux\/arm64\/v8/);
});

test('cp follows the index: registry -> layout -> another repository, digests unchanged', async () => {
  const layout = join(cli.home, 'idx-layout');
  const toLayout = await cli.run(['cp', `${host}/idx/multi:1.0`, `oci-layout:${layout}:1.0`]);
  expect(toLayout.code).toBe(0);
  expect(toLayout.stdout.trim()).toBe(indexDigest);
  const back = await cli.run(['cp', `oci-layout:${layout}:1.0`, `${host}/idx/copy:1.0`]);
  expect(back.code).toBe(0);
  expect(back.stdout.trim()).toBe(indexDigest);
  const child = await cli.run(['ls', `${host}/idx/copy:1.0`, '--json']);
  const digests = JSON.parse(child.stdout).manifests.map((m: { digest: string }) => m.digest);
  for (const d of digests) {
    const files = await cli.run(['ls', `${host}/idx/copy@${d}`, '--json']);
    expect(files.code).toBe(0);
    expect(JSON.parse(files.stdout).files[0].title).toBe('bin/tool');
  }
});

test('pull of an index asks for one of its manifests', async () => {
  const r = await cli.run(['pull', `${host}/idx/multi:1.0`, '-o', join(cli.home, 'idx-pull')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/image index/);
  expect(r.stderr).toMatch(/linux\/amd64 sha256:/);
});

test('the mount shows one directory per platform', async () => {
  const m = await startMount(cli.env, `${host}/idx/multi`, join(cli.home, 'mnt-idx'));
  expect((await readdir(join(m.mountpoint, '1.0'))).sort()).toEqual(['linux-amd64', 'linux-arm64-v8']);
  expect(await readFile(join(m.mountpoint, '1.0/linux-arm64-v8/bin/tool'), 'utf8')).toBe('arm64 build\n');
  expect(await readFile(join(m.mountpoint, `@${indexDigest}/linux-amd64/bin/tool`), 'utf8')).toBe('amd64 build\n');
});
