/**
 * Every kind of SOURCE `ocifs mount` takes, mounted for real: a whole registry (catalog), a
 * registry with --repo, a namespace, one reference, a digest, and a local OCI layout. Also the
 * daemon's JSON log lines and the owner/mode flags.
 */
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, type PushedArtifact } from '../helpers/artifacts.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { RegistryClient } from '../../src/registry/index.js';

const host = inject('registryHost');
let cli: CliEnv;
let pushed: PushedArtifact;

beforeAll(async () => {
  cli = await cliEnv();
  const client = new RegistryClient(host);
  try {
    pushed = await pushArtifact(client.repository('srcs/ns/alpha'), ['v1'], [{ title: 'a.txt', bytes: Buffer.from('alpha\n') }]);
    await pushArtifact(client.repository('srcs/ns/beta'), ['v2'], [{ title: 'b.txt', bytes: Buffer.from('beta\n') }]);
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

test('a whole registry from its catalog: /<repo path>/<tag>/<file>', async () => {
  const m = await startMount(cli.env, host, join(cli.home, 'reg'));
  expect(await readdir(join(m.mountpoint, 'srcs/ns'))).toEqual(expect.arrayContaining(['alpha', 'beta']));
  expect(await readFile(join(m.mountpoint, 'srcs/ns/beta/v2/b.txt'), 'utf8')).toBe('beta\n');
});

test('a registry with --repo shows only those repositories', async () => {
  const m = await startMount(cli.env, host, join(cli.home, 'reg-repo'), ['--repo', 'srcs/ns/alpha']);
  expect(await readdir(m.mountpoint)).toEqual(['srcs']);
  expect(await readdir(join(m.mountpoint, 'srcs/ns'))).toEqual(['alpha']);
  expect(await readFile(join(m.mountpoint, 'srcs/ns/alpha/v1/a.txt'), 'utf8')).toBe('alpha\n');
});

test('a namespace: the repositories under it', async () => {
  const m = await startMount(cli.env, `${host}/srcs/ns`, join(cli.home, 'ns'));
  expect((await readdir(m.mountpoint)).sort()).toEqual(['alpha', 'beta']);
  expect(await readFile(join(m.mountpoint, 'alpha/v1/a.txt'), 'utf8')).toBe('alpha\n');
});

test('one reference, and one digest: the root is the artifact', async () => {
  const byTag = await startMount(cli.env, `${host}/srcs/ns/alpha:v1`, join(cli.home, 'ref'));
  expect(await readdir(byTag.mountpoint)).toEqual(['a.txt']);
  const byDigest = await startMount(cli.env, `${host}/srcs/ns/alpha@${pushed.descriptor.digest}`, join(cli.home, 'digest'));
  expect(await readFile(join(byDigest.mountpoint, 'a.txt'), 'utf8')).toBe('alpha\n');
});

test('a local OCI layout, with JSON logs and owner/mode flags', async () => {
  const work = join(cli.home, 'layout-src');
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'l.txt'), 'from a layout\n');
  expect((await cli.run(['pack', 'l.txt', '--layout', 'lay:v1'], { cwd: work })).code).toBe(0);
  const m = await startMount(cli.env, `oci-layout:${join(work, 'lay')}`, join(cli.home, 'lay-mnt'), [
    '--log-format', 'json', '--uid', '65534', '--gid', '65534', '--umask', '027',
  ]);
  expect(await readFile(join(m.mountpoint, 'v1/l.txt'), 'utf8')).toBe('from a layout\n');
  const st = await stat(join(m.mountpoint, 'v1/l.txt'));
  expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o440]);
  const lines = m.logs().split('\n').filter((l) => l.startsWith('{'));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(JSON.parse(line)).toHaveProperty('level');
});
