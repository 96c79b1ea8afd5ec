/**
 * The daemon's life in real child processes (test/fuse/fixtures/serve.ts, TypeScript run
 * through a small loader, no build): SIGTERM unmounts and exits 0, a SIGKILLed daemon leaves a
 * stale mount that the next mount recovers, `--daemon`, `ocifs umount`, `ocifs status`.
 */
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  daemonize,
  mountFilesystem,
  prepareMountpoint,
  readMountStatus,
  unmountPath,
  type MountedFilesystem,
} from '../../src/fuse/index.js';
import { findMount, readMountTable } from '../../src/fuse/mountinfo.js';
import { requireCommand } from '../helpers/require.js';
import { createMemoryFilesystem } from './fixtures/memory-fs.js';
import { captureLogger, run, SERVE_ARGV, startServe, tempDirs, waitFor, type ServeChild } from './helpers.js';

const dirs = tempDirs();
const children: ServeChild[] = [];
const daemonPids: number[] = [];
const mounts: MountedFilesystem[] = [];

beforeAll(() => requireCommand('fusermount', 'apt-get install fuse'));

afterEach(async () => {
  for (const m of mounts.splice(0)) await m.unmount().catch(() => undefined);
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const pid of daemonPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await dirs.cleanup(); // lazily unmounts every mountpoint first
});

function serve(mountpoint: string, options: object = {}): ServeChild {
  const child = startServe(mountpoint, options);
  children.push(child);
  return child;
}

const isMounted = async (mnt: string) => findMount(await readMountTable(), mnt) !== undefined;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the foreground daemon', () => {
  it('SIGTERM unmounts cleanly, closes the filesystem, and the process exits 0 by itself', async () => {
    const mnt = await dirs.mountpoint();
    const daemon = serve(mnt);
    await daemon.mounted;
    expect((await run('cat', [join(mnt, 'hello.txt')])).stdout).toBe('hello, world\n');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(await isMounted(mnt)).toBe(false);
    expect(daemon.output()).toContain('SIGTERM: unmounting');
    expect(daemon.output()).toContain('stopped closed=1');
  });

  it('SIGINT with a file open: unmounts lazily and still exits 0', async () => {
    const mnt = await dirs.mountpoint();
    const daemon = serve(mnt);
    await daemon.mounted;
    const handle = await open(join(mnt, 'hello.txt'));
    try {
      daemon.child.kill('SIGINT');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });
      expect(await isMounted(mnt)).toBe(false);
      expect(daemon.output()).toContain('unmounting lazily');
    } finally {
      await handle.close().catch(() => undefined);
    }
  });

  it('exits 0 when unmounted from outside (ocifs umount)', async () => {
    const mnt = await dirs.mountpoint();
    const daemon = serve(mnt, { watchIntervalMs: 100 });
    await daemon.mounted;
    await unmountPath(mnt);
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.output()).toContain('unmounted from outside');
  });

  it('a daemon killed with SIGKILL leaves a stale mount that the next mount recovers', async () => {
    const mnt = await dirs.mountpoint();
    const daemon = serve(mnt);
    await daemon.mounted;
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    expect(await stat(mnt).then(() => 'ok', (err: NodeJS.ErrnoException) => err.code)).toBe('ENOTCONN');
    expect(await isMounted(mnt)).toBe(true);

    const { logger, lines } = captureLogger();
    await expect(prepareMountpoint(mnt, logger)).resolves.toBe(mnt);
    expect(lines.some((l) => l.includes('cleaning up a stale mount'))).toBe(true);
    expect(await isMounted(mnt)).toBe(false);

    const mounted = await mountFilesystem(createMemoryFilesystem(), mnt);
    mounts.push(mounted);
    expect((await run('cat', [join(mnt, 'hello.txt')])).stdout).toBe('hello, world\n');
  });

  it('reports a mount failure (exit code 1 and one line)', async () => {
    const parent = await dirs.make();
    const daemon = serve(join(parent, 'missing'));
    await expect(daemon.mounted).rejects.toThrow(/does not exist/);
    expect((await daemon.exited).code).toBe(1);
  });
});

describe('daemonize (--daemon)', () => {
  it('returns once the detached daemon has mounted; status and umount work on it', async () => {
    const mnt = await dirs.mountpoint();
    const logFile = join(await dirs.make(), 'daemon.log');
    const info = await daemonize([...SERVE_ARGV, mnt, JSON.stringify({ watchIntervalMs: 100 })], mnt, { logFile });
    daemonPids.push(info.pid);
    expect(info.logFile).toBe(logFile);
    expect(findMount(await readMountTable(), mnt)?.fsType).toBe('fuse.ocifs');
    expect(await readFile(join(mnt, 'hello.txt'), 'utf8')).toBe('hello, world\n');

    const status = await readMountStatus(mnt);
    expect(status).toMatchObject({ mounted: true });
    expect(typeof status.requests).toBe('number');

    await unmountPath(mnt);
    await waitFor(() => !alive(info.pid), 5000, 'the daemon to exit');
    expect(await readFile(logFile, 'utf8')).toContain('unmounted from outside');
  });

  it('replaces a stale mount, waiting for the new one rather than taking the stale one for it', async () => {
    const mnt = await dirs.mountpoint();
    const first = serve(mnt);
    await first.mounted;
    first.child.kill('SIGKILL');
    await first.exited;
    const info = await daemonize([...SERVE_ARGV, mnt], mnt, {});
    daemonPids.push(info.pid);
    expect(await readFile(join(mnt, 'hello.txt'), 'utf8')).toBe('hello, world\n');
  });

  it('reports the child\'s last log line when it fails before mounting', async () => {
    const mnt = join(await dirs.make(), 'missing');
    const logFile = join(await dirs.make(), 'daemon.log');
    await writeFile(logFile, 'an old line from an earlier run\n');
    await expect(daemonize([...SERVE_ARGV, mnt], mnt, { logFile })).rejects.toMatchObject({
      code: 'MOUNTPOINT',
      message: `the daemon exited with code 1 before ${mnt} was mounted: serve: mountpoint ${mnt} does not exist`,
    });
  });

  it('gives up (and stops the child) when the mount does not appear in time', async () => {
    const mnt = await dirs.mountpoint();
    const sleeper = [process.execPath, '-e', 'setTimeout(() => {}, 60000)'];
    await expect(daemonize(sleeper, mnt, { readyTimeoutMs: 300 })).rejects.toMatchObject({
      code: 'MOUNTPOINT',
      message: expect.stringContaining('the daemon did not mount within 300 ms'),
    });
  });
});

describe('unmountPath (ocifs umount) and readMountStatus (ocifs status) errors', () => {
  it('not mounted, not ocifs, busy, and --lazy', async () => {
    const mnt = await dirs.mountpoint();
    await expect(unmountPath(mnt)).rejects.toMatchObject({ code: 'MOUNTPOINT', message: `${mnt} is not mounted` });
    await expect(readMountStatus(mnt)).rejects.toMatchObject({ code: 'MOUNTPOINT', message: `${mnt} is not mounted` });
    await expect(unmountPath('/proc')).rejects.toMatchObject({ message: expect.stringContaining('/proc is not an ocifs mount') });

    const mounted = await mountFilesystem(createMemoryFilesystem(), mnt);
    mounts.push(mounted);
    const handle = await open(join(mnt, 'hello.txt'));
    try {
      await expect(unmountPath(mnt)).rejects.toMatchObject({
        code: 'MOUNTPOINT',
        message: `mountpoint ${mnt} is busy: files are open in it`,
        hint: expect.stringContaining('ocifs umount --lazy'),
      });
      await unmountPath(mnt, { lazy: true });
      expect(await isMounted(mnt)).toBe(false);
    } finally {
      await handle.close().catch(() => undefined);
    }
  });

  it('a stale mount: status says so, umount clears it', async () => {
    const mnt = await dirs.mountpoint();
    const daemon = serve(mnt);
    await daemon.mounted;
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    await expect(readMountStatus(mnt)).rejects.toMatchObject({ message: `${mnt} is a stale mount: its daemon is gone` });
    await unmountPath(mnt);
    expect(await isMounted(mnt)).toBe(false);
  });
});
