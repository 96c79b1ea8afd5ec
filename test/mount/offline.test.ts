/**
 * Offline: a registry that goes away. What the cache knows is still served after a remount;
 * what it does not know fails with EIO instead of hanging or serving anything else.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, pseudoRandomBytes } from '../helpers/artifacts.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { RegistryClient } from '../../src/registry/index.js';

let cli: CliEnv;
let registry: RunningRegistry;
const cached = pseudoRandomBytes(3 * 1024 * 1024, 11);
const uncached = pseudoRandomBytes(2 * 1024 * 1024, 12);

beforeAll(async () => {
  cli = await cliEnv();
  registry = await startRegistry();
  const client = new RegistryClient(registry.host);
  await pushArtifact(client.repository('off/line'), ['v1'], [
    { title: 'cached.bin', bytes: cached },
    { title: 'uncached.bin', bytes: uncached },
  ]);
  await client.close();
});

afterEach(async () => {
  await stopAllMounts();
});

afterAll(async () => {
  await registry?.stop();
  await cli?.cleanup();
});

test('a stopped registry: cached listings and bytes still served after a remount, uncached reads EIO', async () => {
  const mountpoint = join(cli.home, 'mnt');
  const source = `${registry.host}/off/line`;
  const first = await startMount(cli.env, source, mountpoint);
  expect((await readdir(join(mountpoint, 'v1'))).sort()).toEqual(['cached.bin', 'uncached.bin']);
  // Buffer.equals: vitest's deep equality on megabytes takes tens of seconds.
  expect((await readFile(join(mountpoint, 'v1/cached.bin'))).equals(cached)).toBe(true);
  expect(await first.stop()).toBe(0);

  await registry.stop();
  const second = await startMount(cli.env, source, mountpoint);
  expect((await readdir(join(mountpoint, 'v1'))).sort()).toEqual(['cached.bin', 'uncached.bin']);
  expect((await readFile(join(mountpoint, 'v1/cached.bin'))).equals(cached)).toBe(true);
  await expect(readFile(join(mountpoint, 'v1/uncached.bin'))).rejects.toMatchObject({ code: 'EIO' });
  expect(second.logs()).toMatch(/unreach|refused|offline/i);
});
