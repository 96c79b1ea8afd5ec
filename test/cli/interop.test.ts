/**
 * Interop with what other tools put in registries: an artifact pushed by skopeo is pulled and
 * mounted by ocifs; an image made by umoci (untitled tar layers) is pulled with its layers
 * reported, not written; an ORAS directory layer (tar+gzip with io.deis.oras.content.unpack) is
 * unpacked by pull and shown as a directory by the mount.
 */
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { execFile as execFileCb } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact } from '../helpers/artifacts.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { requireCommand } from '../helpers/require.js';
import { RegistryClient } from '../../src/registry/index.js';

const execFile = promisify(execFileCb);
const host = inject('registryHost');
let cli: CliEnv;
let skopeoEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  requireCommand('skopeo', 'apt-get install --no-install-recommends skopeo');
  requireCommand('umoci', 'apt-get install --no-install-recommends umoci');
  cli = await cliEnv();
  // skopeo as root keeps a system-wide blob-info cache and then tries cross-repo mounts: give it
  // its own HOME and TMPDIR.
  skopeoEnv = { ...process.env, HOME: join(cli.home, 'skopeo-home'), TMPDIR: cli.home };
  await mkdir(skopeoEnv.HOME!, { recursive: true });
});
afterEach(async () => {
  await stopAllMounts();
});
afterAll(async () => {
  await cli?.cleanup();
});

const skopeo = (...args: string[]) => execFile('skopeo', ['--insecure-policy', ...args], { env: skopeoEnv });

test('an artifact pushed by skopeo is pulled and mounted by ocifs, byte-identical', async () => {
  const work = join(cli.home, 'sk');
  await mkdir(join(work, 'data'), { recursive: true });
  await writeFile(join(work, 'data/a.json'), JSON.stringify({ hello: 'skopeo' }));
  expect((await cli.run(['pack', 'data/a.json', '--layout', 'lay:v1'], { cwd: work })).code).toBe(0);
  await skopeo('copy', '--dest-tls-verify=false', `oci:${join(work, 'lay')}:v1`, `docker://${host}/interop/skopeo:v1`);
  const pulled = await cli.run(['pull', `${host}/interop/skopeo:v1`, '-o', join(work, 'out')]);
  expect(pulled.code).toBe(0);
  expect(await readFile(join(work, 'out/data/a.json'), 'utf8')).toBe(JSON.stringify({ hello: 'skopeo' }));
  const m = await startMount(cli.env, `${host}/interop/skopeo`, join(cli.home, 'mnt-sk'));
  expect(await readFile(join(m.mountpoint, 'v1/data/a.json'), 'utf8')).toBe(JSON.stringify({ hello: 'skopeo' }));
});

test('an image made by umoci: pull reports its untitled layers and writes nothing', async () => {
  const layout = join(cli.home, 'umoci-layout');
  await execFile('umoci', ['init', '--layout', layout]);
  await execFile('umoci', ['new', '--image', `${layout}:base`]);
  await writeFile(join(cli.home, 'hello.txt'), 'hello from umoci\n');
  await execFile('umoci', ['insert', '--image', `${layout}:base`, join(cli.home, 'hello.txt'), '/etc/hello.txt']);
  await skopeo('copy', '--dest-tls-verify=false', `oci:${layout}:base`, `docker://${host}/interop/umoci:base`);
  const r = await cli.run(['pull', `${host}/interop/umoci:base`, '-o', join(cli.home, 'umoci-out')]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/skipped a layer without a title: sha256:[0-9a-f]{64} \(application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip/);
  expect(r.stderr).toMatch(/pulled 0 files/);
  const ls = await cli.run(['ls', `${host}/interop/umoci:base`, '--json']);
  expect(JSON.parse(ls.stdout).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
});

test('an ORAS directory layer is unpacked by pull (both digests checked) and shown as a directory by the mount', async () => {
  const src = join(cli.home, 'oras-src');
  await mkdir(join(src, 'docs/sub'), { recursive: true });
  await writeFile(join(src, 'docs/readme.txt'), 'read me\n');
  await writeFile(join(src, 'docs/sub/deep.txt'), 'deep\n');
  // As oras-go packs a directory: a tar whose entries start with the directory name, gzipped.
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    tar
      .c({ cwd: src, portable: true, noMtime: true }, ['docs'])
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve())
      .on('error', reject);
  });
  const tarball = Buffer.concat(chunks);
  const gz = gzipSync(tarball);
  const client = new RegistryClient(host);
  try {
    await pushArtifact(client.repository('interop/oras-dir'), ['v1'], [
      {
        title: 'docs',
        bytes: gz,
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        annotations: {
          'io.deis.oras.content.unpack': 'true',
          'io.deis.oras.content.digest': `sha256:${createHash('sha256').update(tarball).digest('hex')}`,
        },
      },
    ]);
  } finally {
    await client.close();
  }
  const out = join(cli.home, 'oras-out');
  const r = await cli.run(['pull', `${host}/interop/oras-dir:v1`, '-o', out]);
  expect(r.code).toBe(0);
  expect(await readFile(join(out, 'docs/readme.txt'), 'utf8')).toBe('read me\n');
  expect(await readFile(join(out, 'docs/sub/deep.txt'), 'utf8')).toBe('deep\n');

  const m = await startMount(cli.env, `${host}/interop/oras-dir`, join(cli.home, 'mnt-oras'));
  expect(await readFile(join(m.mountpoint, 'v1/docs/sub/deep.txt'), 'utf8')).toBe('deep\n');
});
