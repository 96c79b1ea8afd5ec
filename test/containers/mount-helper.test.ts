/**
 * scripts/mount.fuse.ocifs, the mount(8) helper behind `mount -t fuse.ocifs` and /etc/fstab:
 * how -o options become ocifs flags (table, with a stand-in `ocifs` that prints its argv), and
 * real mounts through mount(8) with the helper installed as /sbin/mount.fuse.ocifs.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostMounts, repoRoot, runCommand, unmountUnder, waitForFuseMount } from '../helpers/podman.js';
import { requireCommand } from '../helpers/require.js';
import { pushSampleArtifact, sha256, type PushedArtifact } from './artifact.js';

const helper = join(repoRoot, 'scripts/mount.fuse.ocifs');
const installed = '/sbin/mount.fuse.ocifs';

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocifs-mount-helper-'));
  await chmod(work, 0o755); // another user must reach the mountpoints below it
});
afterAll(async () => {
  if (!work) return;
  await unmountUnder(work);
  await rm(work, { recursive: true, force: true });
});

describe('option mapping', () => {
  let fakeOcifs = '';
  beforeAll(async () => {
    fakeOcifs = join(work, 'fake-ocifs');
    await writeFile(fakeOcifs, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    await chmod(fakeOcifs, 0o755);
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    runCommand(helper, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OCIFS_BIN: fakeOcifs, OCIFS_CACHE_DIR: '/from-env', ...env } });

  const cases: { name: string; args: string[]; argv: string[] }[] = [
    { name: 'no options', args: ['reg:5000/a/b', '/mnt/x'], argv: ['mount', 'reg:5000/a/b', '/mnt/x', '--daemon'] },
    {
      name: 'fstab defaults and generic options are dropped',
      args: ['reg/a', '/mnt/x', '-o', 'rw,defaults,nofail,_netdev,noauto,nosuid,nodev,noatime,x-systemd.automount,comment=x'],
      argv: ['mount', 'reg/a', '/mnt/x', '--daemon'],
    },
    {
      name: 'mount flags',
      args: ['reg/a', '/mnt/x', '-o', 'allow_other,uid=1000,gid=100,umask=027,ttl=30s,negative_ttl=5s,timeout=2m,cache_max_size=2G,fuse_debug'],
      argv: ['mount', 'reg/a', '/mnt/x', '--allow-other', '--uid', '1000', '--gid', '100', '--umask', '027', '--ttl', '30s', '--negative-ttl', '5s', '--timeout', '2m', '--cache-max-size', '2G', '--fuse-debug', '--daemon'],
    },
    {
      name: 'repeated repo, log file and metrics address',
      args: ['reg:5000', '/mnt/r', '-o', 'repo=eo/a,repo=eo/b,log_file=/var/log/o.log,metrics_addr=127.0.0.1:9464'],
      argv: ['mount', 'reg:5000', '/mnt/r', '--repo', 'eo/a', '--repo', 'eo/b', '--log-file', '/var/log/o.log', '--metrics-addr', '127.0.0.1:9464', '--daemon'],
    },
    {
      name: 'global flags go before the command',
      args: ['reg/a', '/mnt/x', '-o', 'cache_dir=/c,log_level=debug,log_format=json,plain_http,insecure,ca_file=/ca.pem,registry_config=/etc/ocifs'],
      argv: ['--cache-dir', '/c', '--log-level', 'debug', '--log-format', 'json', '--plain-http', '--insecure', '--ca-file', '/ca.pem', '--registry-config', '/etc/ocifs', 'mount', 'reg/a', '/mnt/x', '--daemon'],
    },
    {
      name: 'flags mount(8) passes, several -o, and -oOPTS',
      args: ['-n', 'oci-layout:/srv/layout', '/mnt/l', '-v', '-o', 'ro', '-oallow_other', '-t', 'fuse.ocifs'],
      argv: ['mount', 'oci-layout:/srv/layout', '/mnt/l', '--allow-other', '--daemon'],
    },
    { name: 'sloppy drops unknown options', args: ['reg/a', '/mnt/x', '-s', '-o', 'bogus,allow_other'], argv: ['mount', 'reg/a', '/mnt/x', '--allow-other', '--daemon'] },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(c.args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n').slice(0, -1)).toEqual(c.argv);
    });
  }

  it('as root without cache_dir or OCIFS_CACHE_DIR, uses /var/cache/ocifs (boot mounts have HOME=/)', async () => {
    const r = await run(['reg/a', '/mnt/x'], { OCIFS_CACHE_DIR: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['--cache-dir', '/var/cache/ocifs', 'mount']);
  });

  it('-f (fake) prints the command and runs nothing', async () => {
    const r = await run(['reg/a', '/mnt/x', '-f', '-o', 'allow_other']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${fakeOcifs} mount reg/a /mnt/x --allow-other --daemon`);
  });

  const bad: { name: string; args: string[]; message: RegExp }[] = [
    { name: 'an unknown option', args: ['reg/a', '/mnt/x', '-o', 'allow_other,bogus=1'], message: /unknown option bogus=1/ },
    { name: 'an option without its value', args: ['reg/a', '/mnt/x', '-o', 'ttl'], message: /option ttl needs a value/ },
    { name: 'an empty value', args: ['reg/a', '/mnt/x', '-o', 'cache_dir='], message: /option cache_dir needs a value/ },
    { name: 'no mountpoint', args: ['reg/a'], message: /SOURCE and MOUNTPOINT are required/ },
    { name: 'a mount namespace', args: ['reg/a', '/mnt/x', '-N', '1234'], message: /not supported/ },
  ];
  for (const c of bad) {
    it(`refuses ${c.name} with exit 1 and one clear line`, async () => {
      const r = await run(c.args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(c.message);
    });
  }

  it('exits 32 (mount failure) when ocifs fails, passing its message on', async () => {
    const failing = join(work, 'failing-ocifs');
    await writeFile(failing, '#!/bin/sh\necho "ocifs: mountpoint /mnt/x is busy" >&2\nexit 7\n');
    await chmod(failing, 0o755);
    const r = await run(['reg/a', '/mnt/x'], { OCIFS_BIN: failing });
    expect(r.code).toBe(32);
    expect(r.stderr).toContain('ocifs: mountpoint /mnt/x is busy');
  });
});

describe('real mounts through mount(8)', () => {
  const registryHost = inject('registryHost');
  let artifact: PushedArtifact;
  let backup: string | undefined;

  beforeAll(async () => {
    requireCommand('mount', 'apt-get install mount');
    requireCommand('setpriv', 'apt-get install util-linux');
    if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (./scripts/test.sh does)');
    artifact = await pushSampleArtifact(registryHost, 'helper/sample');
    // mount(8) only looks for helpers in /sbin: install ours there, keeping whatever was there.
    if (existsSync(installed) || isSymlink(installed)) {
      if (!(isSymlink(installed) && readlinkSync(installed) === helper)) {
        backup = `${installed}.ocifs-test-backup-${process.pid}`;
        await rename(installed, backup);
      } else {
        await unlink(installed);
      }
    }
    await symlink(helper, installed);
  });

  afterAll(async () => {
    if (isSymlink(installed) && readlinkSync(installed) === helper) await unlink(installed);
    if (backup) await rename(backup, installed);
  });

  async function mountAndCheck(mountpoint: string, mountArgs: string[], logFile: string): Promise<number> {
    const r = await runCommand('mount', mountArgs, { timeoutMs: 60_000 });
    expect(r.code, `${r.stderr}\n${await readFile(logFile, 'utf8').catch(() => '')}`).toBe(0);
    const entry = await waitForFuseMount(mountpoint, () => readFile(logFile, 'utf8').catch(() => ''), 5_000);
    expect(entry.fsType).toBe('fuse.ocifs');
    expect(entry.superOptions.split(',')).toContain('allow_other');

    expect(await readFile(join(mountpoint, 'v1/hello.txt'), 'utf8')).toBe(artifact.files.get('hello.txt')!.toString());
    expect(sha256(await readFile(join(mountpoint, 'v1/data.bin')))).toBe(sha256(artifact.files.get('data.bin')!));
    // allow_other took effect: another user reads it too.
    const other = await runCommand('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', join(mountpoint, 'v1/hello.txt')]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toBe(artifact.files.get('hello.txt')!.toString());

    const pid = Number(/daemon pid (\d+)/.exec(r.stdout + r.stderr)?.[1]);
    expect(pid, `no daemon pid in: ${r.stdout}${r.stderr}`).toBeGreaterThan(0);
    return pid;
  }

  async function umountAndCheck(mountpoint: string, pid: number): Promise<void> {
    const r = await runCommand('umount', [mountpoint]);
    expect(r.code, r.stderr).toBe(0);
    expect((await hostMounts()).filter((m) => m.mountpoint === mountpoint)).toEqual([]);
    // The daemon notices the unmount and exits.
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(alive(pid)).toBe(false);
  }

  it('mount -t fuse.ocifs SOURCE MOUNTPOINT -o allow_other,... mounts; umount stops the daemon', async () => {
    const mountpoint = join(work, 'by-type');
    await mkdir(mountpoint);
    const logFile = join(work, 'by-type.log');
    const options = `allow_other,ttl=5s,cache_dir=${join(work, 'cache')},log_file=${logFile}`;
    const pid = await mountAndCheck(mountpoint, ['-t', 'fuse.ocifs', artifact.repository, mountpoint, '-o', options], logFile);
    await umountAndCheck(mountpoint, pid);
  });

  it('an /etc/fstab line (read from a test fstab with mount -T) mounts by its mountpoint alone', async () => {
    const mountpoint = join(work, 'by-fstab');
    await mkdir(mountpoint);
    const logFile = join(work, 'by-fstab.log');
    const fstab = join(work, 'fstab');
    const line = `${artifact.repository} ${mountpoint} fuse.ocifs ro,allow_other,nofail,_netdev,cache_dir=${join(work, 'cache')},log_file=${logFile} 0 0`;
    await writeFile(fstab, `# test fstab\n${line}\n`);
    const pid = await mountAndCheck(mountpoint, ['-T', fstab, mountpoint], logFile);
    await umountAndCheck(mountpoint, pid);
  });

  it('a bad option fails the mount with exit 1 and the reason, mounting nothing', async () => {
    const mountpoint = join(work, 'bad');
    await mkdir(mountpoint);
    const r = await runCommand('mount', ['-t', 'fuse.ocifs', artifact.repository, mountpoint, '-o', 'allow_other,colour=blue']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown option colour=blue/);
    expect((await hostMounts()).filter((m) => m.mountpoint === mountpoint)).toEqual([]);
  });
});

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

