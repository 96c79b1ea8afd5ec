/**
 * The CLI under faults and in its less travelled commands: a push interrupted mid-blob and
 * resumed, a full disk during pull and during pack, --keep-old-files, login/logout against a registry with Basic auth,
 * the cache commands on a corrupted cache, and `mount --daemon`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, pseudoRandomBytes } from '../helpers/artifacts.js';
import { forceUnmount, isMounted, startMount, stopAllMounts } from '../helpers/mount.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { RegistryClient } from '../../src/registry/index.js';

const host = inject('registryHost');
let cli: CliEnv;

beforeAll(async () => {
  cli = await cliEnv();
});
afterEach(async () => {
  await stopAllMounts();
});
afterAll(async () => {
  await cli?.cleanup();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a push interrupted mid-blob', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('Ctrl-C stops at a chunk boundary; the rerun resumes from what the registry holds; no manifest lands before its blobs', async () => {
    const dir = join(cli.home, 'resume');
    await mkdir(dir, { recursive: true });
    const size = 96 * 1024 * 1024;
    await writeFile(join(dir, 'big.bin'), pseudoRandomBytes(size, 3));
    const ref = `${registry.host}/resume/big:v1`;
    const push = spawn(process.execPath, [join(import.meta.dirname, '../../bin/ocifs'), 'push', 'big.bin', ref], {
      cwd: dir,
      env: cli.env,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => push.once('exit', (code) => r(code)));
    // Interrupt it (as Ctrl-C does) once the registry holds at least one chunk of the upload.
    // A SIGKILL mid-chunk cannot be resumed on distribution 2.8 (it cancels an upload whose data
    // ran ahead of its signed state); SIGINT lets the chunk on the wire finish first.
    const uploads = join(registry.storageDir, 'docker/registry/v2/repositories/resume/big/_uploads');
    await waitFor('a partial upload on the registry', async () => {
      if (!existsSync(uploads)) return undefined;
      for (const id of await readdir(uploads)) {
        const data = await stat(join(uploads, id, 'data')).catch(() => undefined);
        if (data && data.size >= 16 * 1024 * 1024) return true;
      }
      return undefined;
    });
    push.kill('SIGINT');
    expect(await exited).toBe(130);
    const client = new RegistryClient(registry.host);
    try {
      await expect(client.repository('resume/big').resolve('v1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await client.close();
    }

    const again = await cli.run(['push', 'big.bin', ref], { cwd: dir });
    expect(again.stderr).toMatch(/1 resumed/);
    const sent = /pushed \d+ blobs? \(([\d.]+) (MiB|KiB|B)\)/.exec(again.stderr);
    expect(sent).not.toBeNull();
    const sentMiB = sent![2] === 'MiB' ? Number(sent![1]) : 0;
    expect(sentMiB).toBeLessThan(size / 1024 / 1024 - 15);
    expect(again.code).toBe(0);
    const pulled = await cli.run(['pull', ref, '-o', join(dir, 'out')]);
    expect(pulled.code).toBe(0);
    expect((await readFile(join(dir, 'out/big.bin'))).equals(await readFile(join(dir, 'big.bin')))).toBe(true);
  });
});

describe('pull onto a full disk', () => {
  const small = join('/tmp', `ocifs-full-${process.pid}`);
  afterAll(() => {
    try {
      execFileSync('umount', [small]);
    } catch {
      /* not mounted */
    }
  });

  test('fails with a clear error, exit 7, and leaves no partial file', async () => {
    const client = new RegistryClient(host);
    try {
      await pushArtifact(client.repository('faults/full'), ['v1'], [
        { title: 'a-small.txt', bytes: Buffer.from('small\n') },
        { title: 'b-big.bin', bytes: pseudoRandomBytes(4 * 1024 * 1024, 5) },
      ]);
    } finally {
      await client.close();
    }
    await mkdir(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    const r = await cli.run(['pull', `${host}/faults/full:v1`, '-o', small, '--concurrency', '1']);
    expect(r.code).toBe(7);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ENOSPC|no space/i);
    const left = await readdir(small);
    expect(left.filter((n) => n.includes('ocifs') || n === 'b-big.bin')).toEqual([]);
  });
});

describe('pack onto a full disk', () => {
  const small = join('/tmp', `ocifs-full-pack-${process.pid}`);
  afterAll(() => {
    try {
      execFileSync('umount', [small]);
    } catch {
      /* not mounted */
    }
  });

  test('a big file (the O_DIRECT path) fails with exit 7, leaves no partial blob, and keeps the tag already packed', async () => {
    const big = join(cli.home, 'big.bin');
    await writeFile(big, pseudoRandomBytes(65 * 1024 * 1024 + 3, 9)); // over the 64 MiB from which pack writes direct
    const note = join(cli.home, 'note.txt');
    await writeFile(note, 'packed first\n');
    await mkdir(small, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', small]);
    const layout = join(small, 'layout');
    expect((await cli.run(['pack', note, '--layout', `${layout}:v1`])).code).toBe(0);
    const indexBefore = await readFile(join(layout, 'index.json'), 'utf8');
    const blobsBefore = (await readdir(join(layout, 'blobs', 'sha256'))).sort();

    const r = await cli.run(['pack', big, '--layout', `${layout}:v2`]);
    expect(r.code).toBe(7);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ENOSPC|no space/i);
    expect(await readFile(join(layout, 'index.json'), 'utf8')).toBe(indexBefore);
    expect((await readdir(join(layout, 'blobs', 'sha256'))).sort()).toEqual(blobsBefore);
    expect(await readdir(layout)).not.toContain('ingest');
    const pulled = join(cli.home, 'from-full-layout');
    expect((await cli.run(['pull', `oci-layout:${layout}:v1`, '-o', pulled])).code).toBe(0);
    expect(await readFile(join(pulled, 'note.txt'), 'utf8')).toBe('packed first\n');
  });
});

describe('pull --keep-old-files', () => {
  test('refuses to replace a file, and keeps it', async () => {
    const client = new RegistryClient(host);
    try {
      await pushArtifact(client.repository('faults/keep'), ['v1'], [{ title: 'k.txt', bytes: Buffer.from('from registry\n') }]);
    } finally {
      await client.close();
    }
    const out = join(cli.home, 'keep');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'k.txt'), 'mine\n');
    const r = await cli.run(['pull', `${host}/faults/keep:v1`, '-o', out, '--keep-old-files']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/already exists/);
    expect(await readFile(join(out, 'k.txt'), 'utf8')).toBe('mine\n');
  });
});

describe('login and logout against Basic auth', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    const dir = join(cli.home, 'htpasswd');
    await mkdir(dir, { recursive: true });
    const line = execFileSync('htpasswd', ['-Bbn', 'alice', 's3cret']).toString().trim();
    await writeFile(join(dir, 'htpasswd'), line + '\n');
    registry = await startRegistry({
      extraConfig: ['auth:', '  htpasswd:', '    realm: ocifs-test', `    path: ${join(dir, 'htpasswd')}`].join('\n'),
    });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('wrong credentials exit 4 and store nothing; right ones are stored and used; logout forgets them', async () => {
    const wrong = await cli.run(['login', registry.host, '-u', 'alice', '--password-stdin'], { input: 'nope\n' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cli.env.DOCKER_CONFIG!, 'config.json'))).toBe(false);

    const anonymous = await cli.run(['ls', `${registry.host}/any/repo`]);
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/login/);

    const ok = await cli.run(['login', registry.host, '-u', 'alice', '--password-stdin'], { input: 's3cret\n' });
    expect(ok.code).toBe(0);
    const config = JSON.parse(await readFile(join(cli.env.DOCKER_CONFIG!, 'config.json'), 'utf8'));
    expect(Buffer.from(config.auths[registry.host].auth, 'base64').toString()).toBe('alice:s3cret');

    const work = join(cli.home, 'auth-push');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'f.txt'), 'authenticated\n');
    expect((await cli.run(['push', 'f.txt', `${registry.host}/team/data:v1`], { cwd: work })).code).toBe(0);
    const ls = await cli.run(['ls', `${registry.host}/team/data`]);
    expect(ls.stdout.trim()).toBe('v1');

    expect((await cli.run(['logout', registry.host])).code).toBe(0);
    expect((await cli.run(['ls', `${registry.host}/team/data`])).code).toBe(4);
  });
});

describe('cache commands and --daemon', () => {
  test('stats, verify finds a corrupted blob, prune and clear empty the cache', async () => {
    const blob = pseudoRandomBytes(3 * 1024 * 1024, 9);
    const client = new RegistryClient(host);
    try {
      await pushArtifact(client.repository('faults/cache'), ['v1'], [{ title: 'c.bin', bytes: blob }]);
    } finally {
      await client.close();
    }
    const mountpoint = join(cli.home, 'mnt-cache');
    const m = await startMount(cli.env, `${host}/faults/cache`, mountpoint);
    expect((await readFile(join(mountpoint, 'v1/c.bin'))).equals(blob)).toBe(true);
    await m.stop();

    const stats = JSON.parse((await cli.run(['cache', 'stats', '--json'])).stdout);
    expect(stats.completeBlobs).toBeGreaterThanOrEqual(1);
    expect(stats.bytes).toBeGreaterThanOrEqual(blob.length);
    expect((await cli.run(['cache', 'verify'])).code).toBe(0);

    const { createHash } = await import('node:crypto');
    const hex = createHash('sha256').update(blob).digest('hex');
    const file = join(cli.env.XDG_CACHE_HOME!, 'ocifs/blobs/sha256', hex);
    const bytes = await readFile(file);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await writeFile(file, bytes);
    const verify = await cli.run(['cache', 'verify']);
    expect(verify.code).toBe(6);
    expect(verify.stderr).toContain(hex);

    expect((await cli.run(['cache', 'prune', '--max-size', '0'])).code).toBe(0);
    expect((await cli.run(['cache', 'clear'])).code).toBe(0);
    const after = JSON.parse((await cli.run(['cache', 'stats', '--json'])).stdout);
    expect(after.blobs).toBe(0);
  });

  test('mount --daemon returns once mounted; umount stops the daemon', async () => {
    const mountpoint = join(cli.home, 'mnt-daemon');
    await mkdir(mountpoint, { recursive: true });
    try {
      const r = await cli.run(['mount', '--daemon', `${host}/faults/cache`, mountpoint, '--log-file', join(cli.home, 'daemon.log')]);
      expect(r.code).toBe(0);
      expect(isMounted(mountpoint)).toBe(true);
      expect((await readdir(mountpoint))).toContain('v1');
      const status = JSON.parse((await cli.run(['status', mountpoint, '--json'])).stdout);
      expect(status.source).toBe(`${host}/faults/cache`);
      expect((await cli.run(['umount', mountpoint])).code).toBe(0);
      await waitFor('the daemon to go', () => (isMounted(mountpoint) ? undefined : true), 10_000);
    } finally {
      forceUnmount(mountpoint);
      await rm(join(cli.home, 'daemon.log'), { force: true });
    }
  });
});
