/**
 * Real mounts of the in-memory filesystem, served by this test process: what users do with a
 * mount (ls, stat, cat, cp -r, getfattr), errno per error code, EROFS per write syscall,
 * deadlines, another uid with --allow-other, and mountpoint errors.
 * Everything that touches the mount is async: a synchronous call would block the very thread
 * that serves it.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountFilesystem, prepareMountpoint, type MountedFilesystem, type MountOptions } from '../../src/fuse/index.js';
import { findMount, readMountTable } from '../../src/fuse/mountinfo.js';
import { requireCommand } from '../helpers/require.js';
import { createMemoryFilesystem, ERROR_CASES, FIXED_TIME, type MemoryFilesystem } from './fixtures/memory-fs.js';
import { captureLogger, run, tempDirs, waitFor } from './helpers.js';

const dirs = tempDirs();
const mounts: MountedFilesystem[] = [];

beforeAll(() => {
  requireCommand('fusermount', 'apt-get install fuse');
  requireCommand('getfattr', 'apt-get install attr');
  requireCommand('setpriv', 'apt-get install util-linux');
});

afterEach(async () => {
  for (const m of mounts.splice(0)) await m.unmount().catch(() => undefined);
  await dirs.cleanup();
});

async function mount(options: MountOptions = {}, fs: MemoryFilesystem = createMemoryFilesystem()) {
  const mountpoint = await dirs.mountpoint();
  const mounted = await mountFilesystem(fs, mountpoint, options);
  mounts.push(mounted);
  return { mounted, mnt: mounted.mountpoint, fs };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

describe('a mounted filesystem', () => {
  it('shows up in the mount table as ocifs, read-only, under its source name', async () => {
    const { mnt } = await mount({ fsName: 'ocifs#127.0.0.1:5000/eo,x' });
    const entry = findMount(await readMountTable(), mnt);
    expect(entry).toMatchObject({ fsType: 'fuse.ocifs', source: 'ocifs#127.0.0.1:5000/eo,x' });
    expect(entry?.options).toContain('ro');
  });

  it('ls, stat and cat work', async () => {
    const { mnt } = await mount();
    const ls = await run('ls', ['-la', mnt]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^-r--r--r-- 1 root root\s+13 .* hello\.txt$/m);
    expect(ls.stdout).toMatch(/^dr-xr-xr-x .* docs$/m);
    expect(ls.stdout).toMatch(/ \.\n/); // `.` and `..` are listed

    const stat = await fsp.stat(join(mnt, 'hello.txt'));
    expect(stat.size).toBe(13);
    expect(stat.mtime.getTime()).toBe(FIXED_TIME.getTime());
    expect(stat.mode).toBe(0o100444);

    expect((await run('cat', [join(mnt, 'hello.txt')])).stdout).toBe('hello, world\n');
    expect(await fsp.readFile(join(mnt, 'empty.txt'))).toHaveLength(0);
  });

  it('cp -r copies a tree byte for byte (several read requests for the big file)', async () => {
    const { mnt, fs } = await mount();
    const target = join(await dirs.make(), 'copy');
    const cp = await run('cp', ['-r', join(mnt, 'docs'), target]);
    expect(cp.stderr).toBe('');
    const copied = await fsp.readFile(join(target, 'nested', 'deep.bin'));
    expect(copied.length).toBe(300 * 1024 + 17);
    expect(sha256(copied)).toBe(sha256(fs.content('/docs/nested/deep.bin')));
    expect(await fsp.readFile(join(target, 'readme.md'), 'utf8')).toBe('# docs\n');
    await waitFor(() => fs.openHandles === 0, 2000, 'every handle to be released');
  });

  it('reads served synchronously (readCached) reach cat and cp byte for byte, without the async read', async () => {
    const { mnt, fs } = await mount({}, createMemoryFilesystem({ syncReads: true }));
    const target = join(await dirs.make(), 'copy.bin');
    expect((await run('cp', [join(mnt, 'docs', 'nested', 'deep.bin'), target])).stderr).toBe('');
    expect(sha256(await fsp.readFile(target))).toBe(sha256(fs.content('/docs/nested/deep.bin')));
    expect((await run('cat', [join(mnt, 'hello.txt')])).stdout).toBe('hello, world\n');
    expect(fs.calls.syncReads.get('/docs/nested/deep.bin')).toBeGreaterThanOrEqual(3); // 300 KiB in 128 KiB requests
    expect([...fs.calls.reads.keys()]).toEqual([]);
    // A file the filesystem cannot serve synchronously still works through the async path.
    expect((await run('cat', [join(mnt, 'slow.bin')])).stdout).toBe('slow but sure\n');
    expect(fs.calls.reads.get('/slow.bin')).toBeGreaterThan(0);
  });

  it('getfattr -d shows the OCI attributes; big values pass the size probe', async () => {
    const { mnt } = await mount();
    const dump = await run('getfattr', ['-d', '--absolute-names', join(mnt, 'hello.txt')]);
    expect(dump.stdout).toContain('user.oci.digest="sha256:853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020"');
    expect(dump.stdout).toContain('user.oci.mediatype="text/plain"');
    const big = await run('getfattr', ['--only-values', '-n', 'user.big', '--absolute-names', join(mnt, 'big-xattr.txt')]);
    expect(big.stdout).toBe('b'.repeat(3000));
    const missing = await run('getfattr', ['-n', 'user.nope', '--absolute-names', join(mnt, 'hello.txt')]);
    expect(missing.stderr).toContain('No such attribute');
  });

  it('security.* and system.* attributes are not supported, and `ls -lR` stops asking for them', async () => {
    const { mnt, fs } = await mount();
    const selinux = await run('getfattr', ['-n', 'security.selinux', '--absolute-names', join(mnt, 'hello.txt')]);
    expect(selinux.stderr).toContain('Operation not supported');
    // ls -l probes security.selinux and the POSIX ACLs of every entry until a device says it
    // does not support them; none of it reaches the filesystem.
    const ls = await run('ls', ['-lR', join(mnt, 'docs')]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/deep\.bin/);
    expect(ls.stdout).not.toMatch(/^-r--r--r--[.+]/m); // no "has an ACL / a context" marker
    expect([...fs.calls.getxattr.keys()]).toEqual([]);
    // user.* still works after that.
    const dump = await run('getfattr', ['-d', '--absolute-names', join(mnt, 'hello.txt')]);
    expect(dump.stdout).toContain('user.oci.mediatype="text/plain"');
  });

  it('statfs answers', async () => {
    const { mnt } = await mount();
    const stats = await fsp.statfs(mnt);
    expect(stats.bsize).toBe(4096);
    expect(stats.blocks).toBe(1000);
  });

  describe('errno per error code', () => {
    const expected: Record<string, string> = {
      NOT_FOUND: 'ENOENT',
      INVALID_REFERENCE: 'ENOENT',
      READ_ONLY: 'EROFS',
      NOT_A_DIRECTORY: 'ENOTDIR',
      IS_A_DIRECTORY: 'EISDIR',
      NO_SUCH_ATTRIBUTE: 'ENODATA',
      BAD_HANDLE: 'EBADF',
      UNAUTHORIZED: 'EACCES',
      DENIED: 'EACCES',
      UNSAFE_PATH: 'EACCES',
      INVALID_ARGUMENT: 'EINVAL',
      UNSUPPORTED: 'ENOTSUP',
      ABORTED: 'ECANCELED',
      UNREACHABLE: 'EIO',
      REGISTRY_ERROR: 'EIO',
      DIGEST_MISMATCH: 'EIO',
      INVALID_CONTENT: 'EIO',
      TOO_MANY_REQUESTS: 'EIO',
      FUSE_UNAVAILABLE: 'EIO',
      MOUNTPOINT: 'EIO',
      LOCAL_IO: 'EIO',
      LOCAL_IO_ENOSPC: 'ENOSPC',
      PLAIN_ERROR: 'EIO',
    };

    it('covers every case of the test double', () => {
      expect(Object.keys(expected).sort()).toEqual(Object.keys(ERROR_CASES).sort());
    });

    it('on lookup (stat) and on read (readFile), with EIO causes in the log', async () => {
      const { logger, lines } = captureLogger();
      const { mnt } = await mount({ logger });
      const seen: Record<string, [string | undefined, string | undefined]> = {};
      for (const code of Object.keys(expected)) {
        seen[code] = [
          await errorCode(fsp.stat(join(mnt, 'errors', code))),
          await errorCode(fsp.readFile(join(mnt, 'read-errors', code))),
        ];
      }
      expect(seen).toEqual(Object.fromEntries(Object.entries(expected).map(([code, errno]) => [code, [errno, errno]])));
      const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.level !== 'debug');
      expect(warned).toContainEqual(expect.objectContaining({ op: 'read', path: '/read-errors/UNREACHABLE', errno: 'EIO', code: 'UNREACHABLE' }));
      expect(warned).toContainEqual(expect.objectContaining({ level: 'error', path: '/read-errors/PLAIN_ERROR' }));
    });

    it('cat says what the errno says', async () => {
      const { mnt } = await mount();
      expect((await run('cat', [join(mnt, 'read-errors', 'UNREACHABLE')])).stderr).toContain('Input/output error');
      expect((await run('cat', [join(mnt, 'errors', 'UNAUTHORIZED')])).stderr).toContain('Permission denied');
      expect((await run('cat', [join(mnt, 'read-errors', 'LOCAL_IO_ENOSPC')])).stderr).toContain('No space left on device');
    });
  });

  // Mounted read-only, as every real mount is. The adapter's own EROFS answers (for a mount
  // without the kernel's ro flag) are tested by direct calls in operations.test.ts: driving them
  // through the kernel from this same process once deadlocked the worker in CI.
  describe.each([['mounted read-only (the kernel refuses)', true]])('every write syscall is EROFS when %s', (_name, readOnly) => {
    const cases: [string, (mnt: string) => Promise<unknown>][] = [
      ['mkdir', (mnt) => fsp.mkdir(join(mnt, 'newdir'))],
      ['create a file', (mnt) => fsp.writeFile(join(mnt, 'new.txt'), 'x')],
      ['open an existing file for writing', (mnt) => fsp.writeFile(join(mnt, 'hello.txt'), 'x')],
      ['open for appending', (mnt) => fsp.appendFile(join(mnt, 'hello.txt'), 'x')],
      ['unlink', (mnt) => fsp.unlink(join(mnt, 'hello.txt'))],
      ['rmdir', (mnt) => fsp.rmdir(join(mnt, 'docs', 'nested'))],
      ['rename', (mnt) => fsp.rename(join(mnt, 'hello.txt'), join(mnt, 'renamed.txt'))],
      ['chmod', (mnt) => fsp.chmod(join(mnt, 'hello.txt'), 0o777)],
      ['chown', (mnt) => fsp.chown(join(mnt, 'hello.txt'), 1, 1)],
      ['truncate', (mnt) => fsp.truncate(join(mnt, 'hello.txt'), 0)],
      ['utimes', (mnt) => fsp.utimes(join(mnt, 'hello.txt'), new Date(), new Date())],
      ['symlink', (mnt) => fsp.symlink('hello.txt', join(mnt, 'link'))],
      ['link', (mnt) => fsp.link(join(mnt, 'hello.txt'), join(mnt, 'hard'))],
    ];
    const commands: [string, (mnt: string) => [string, string[]]][] = [
      ['mknod (mkfifo)', (mnt) => ['mkfifo', [join(mnt, 'fifo')]]],
      ['setxattr (setfattr)', (mnt) => ['setfattr', ['-n', 'user.x', '-v', '1', join(mnt, 'hello.txt')]]],
      ['removexattr (setfattr -x)', (mnt) => ['setfattr', ['-x', 'user.oci.digest', join(mnt, 'hello.txt')]]],
    ];

    it('through node:fs and through the tools', async () => {
      const { mnt, fs } = await mount({ readOnly });
      const results: Record<string, string | undefined> = {};
      for (const [name, attempt] of cases) results[name] = await errorCode(attempt(mnt));
      for (const [name, command] of commands) {
        const [cmd, args] = command(mnt);
        const result = await run(cmd, args);
        results[name] = result.code !== 0 && /Read-only file system/.test(result.stderr) ? 'EROFS' : result.stderr;
      }
      const all = [...cases.map(([n]) => n), ...commands.map(([n]) => n)];
      expect(results).toEqual(Object.fromEntries(all.map((n) => [n, 'EROFS'])));
      expect(await fsp.readFile(join(mnt, 'hello.txt'), 'utf8')).toBe('hello, world\n');
      await waitFor(() => fs.openHandles === 0, 2000, 'the read handle to be released');
    });
  });

  it('a read slower than the deadline fails with ETIMEDOUT, and the mount keeps serving', async () => {
    // The deadline is 15 s in fuse-native by default; here 300 ms against a 1 s read.
    const { logger, lines } = captureLogger();
    const { mnt } = await mount({ operationTimeoutMs: 300, logger }, createMemoryFilesystem({ slowReadMs: 1000 }));
    const started = Date.now();
    expect(await errorCode(fsp.readFile(join(mnt, 'slow.bin')))).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeLessThan(900);
    await new Promise((resolve) => setTimeout(resolve, 900)); // the late read completes meanwhile
    expect(await fsp.readFile(join(mnt, 'hello.txt'), 'utf8')).toBe('hello, world\n');
    expect(lines.some((l) => l.includes('"read timed out"'))).toBe(true);
  });

  describe('kernel caching options reach the kernel', () => {
    const readTwice = async (mnt: string) => {
      for (let i = 0; i < 2; i++) expect(await fsp.readFile(join(mnt, 'hello.txt'), 'utf8')).toBe('hello, world\n');
    };

    it('auto_cache and kernel_cache keep file pages across opens; the default re-reads on each open', async () => {
      const auto = await mount({ autoCache: true });
      await readTwice(auto.mnt);
      expect(auto.fs.calls.reads.get('/hello.txt')).toBe(1);

      const kernel = await mount({ kernelCache: true });
      await readTwice(kernel.mnt);
      expect(kernel.fs.calls.reads.get('/hello.txt')).toBe(1);

      const uncached = await mount();
      await readTwice(uncached.mnt);
      expect(uncached.fs.calls.reads.get('/hello.txt')).toBe(2);
    });

    it('auto_cache re-reads a path whose mtime changed, but not one whose size and mtime stayed', async () => {
      // With attr_timeout 0 libfuse re-checks size and mtime on every open.
      const { mnt, fs } = await mount({ autoCache: true, attrTimeoutS: 0, entryTimeoutS: 0 });
      const file = join(mnt, 'hello.txt');
      expect(await fsp.readFile(file, 'utf8')).toBe('hello, world\n');
      fs.replace('/hello.txt', Buffer.from('HELLO, WORLD\n'), new Date('2025-01-01T00:00:00Z'));
      expect(await fsp.readFile(file, 'utf8')).toBe('HELLO, WORLD\n');
      // Why auto_cache is off by default (mount-options.ts): same size and mtime -> old pages.
      fs.replace('/hello.txt', Buffer.from('hello, again\n'), new Date('2025-01-01T00:00:00Z'));
      expect(await fsp.readFile(file, 'utf8')).toBe('HELLO, WORLD\n');
    });

    it('attr/entry timeouts: long ones spare getattr calls, 0 asks every time', async () => {
      const statThrice = async (mnt: string) => {
        for (let i = 0; i < 3; i++) await fsp.stat(join(mnt, 'docs', 'readme.md'));
      };
      const long = await mount({ attrTimeoutS: 60, entryTimeoutS: 60 });
      await statThrice(long.mnt);
      expect(long.fs.calls.getattr.get('/docs/readme.md')).toBe(1);

      const none = await mount({ attrTimeoutS: 0, entryTimeoutS: 0 });
      await statThrice(none.mnt);
      expect(none.fs.calls.getattr.get('/docs/readme.md')).toBeGreaterThanOrEqual(3);
    });

    it('negative_timeout remembers missing names (GDAL sidecar probes)', async () => {
      const probeTwice = async (mnt: string) => {
        for (let i = 0; i < 2; i++) expect(await errorCode(fsp.stat(join(mnt, 'hello.txt.aux.xml')))).toBe('ENOENT');
      };
      const remembering = await mount({ negativeTimeoutS: 60 });
      await probeTwice(remembering.mnt);
      expect(remembering.fs.calls.getattr.get('/hello.txt.aux.xml')).toBe(1);

      const forgetting = await mount();
      await probeTwice(forgetting.mnt);
      expect(forgetting.fs.calls.getattr.get('/hello.txt.aux.xml')).toBe(2);
    });
  });

  it('--allow-other lets another uid read; without it the kernel refuses that uid', async () => {
    const asNobody = (file: string) => run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', file]);
    const shared = await mount({ allowOther: true });
    const read = await asNobody(join(shared.mnt, 'hello.txt'));
    expect(read.stderr).toBe('');
    expect(read.stdout).toBe('hello, world\n');

    const privateMount = await mount({});
    const refused = await asNobody(join(privateMount.mnt, 'hello.txt'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Permission denied');
  });

  it('closes the filesystem when unmounted, and unmount is idempotent', async () => {
    const { mounted, fs, mnt } = await mount();
    await Promise.all([mounted.unmount(), mounted.unmount()]);
    await mounted.closed;
    expect(fs.closedCount).toBe(1);
    expect(findMount(await readMountTable(), mnt)).toBeUndefined();
  });

  it('notices an unmount from outside and closes', async () => {
    const { mounted, fs, mnt } = await mount({ watchIntervalMs: 50 });
    expect((await run('fusermount', ['-u', mnt])).code).toBe(0);
    await mounted.closed;
    expect(fs.closedCount).toBe(1);
  });

  it('unmounts lazily when files are open', async () => {
    const { logger, lines } = captureLogger();
    const { mounted, mnt } = await mount({ logger });
    const handle = await fsp.open(join(mnt, 'hello.txt'));
    try {
      await mounted.unmount();
      expect(findMount(await readMountTable(), mnt)).toBeUndefined();
      expect(lines.some((l) => l.includes('unmounting lazily'))).toBe(true);
    } finally {
      await handle.close().catch(() => undefined);
    }
  });
});

describe('mountpoint errors', () => {
  it('a missing mountpoint is an error, or created when asked', async () => {
    const missing = join(await dirs.make(), 'nope');
    await expect(mountFilesystem(createMemoryFilesystem(), missing)).rejects.toMatchObject({
      code: 'MOUNTPOINT',
      message: `mountpoint ${missing} does not exist`,
    });
    const { logger } = captureLogger();
    await expect(prepareMountpoint(missing, logger, { create: true })).resolves.toBe(missing);
    expect((await fsp.stat(missing)).isDirectory()).toBe(true);
  });

  it('a file, a non-empty directory, and / are refused', async () => {
    const dir = await dirs.make();
    const { logger } = captureLogger();
    await fsp.writeFile(join(dir, 'file'), 'x');
    await expect(prepareMountpoint(join(dir, 'file'), logger)).rejects.toMatchObject({
      code: 'MOUNTPOINT',
      message: `mountpoint ${join(dir, 'file')} is not a directory`,
    });
    await expect(prepareMountpoint(dir, logger)).rejects.toMatchObject({ message: `mountpoint ${dir} is not empty` });
    await expect(prepareMountpoint('/', logger)).rejects.toMatchObject({ code: 'MOUNTPOINT' });
  });

  it('a mountpoint with a live mount is busy', async () => {
    const { mnt } = await mount();
    const { logger } = captureLogger();
    await expect(prepareMountpoint(mnt, logger)).rejects.toMatchObject({
      code: 'MOUNTPOINT',
      message: expect.stringMatching(new RegExp(`^mountpoint ${mnt} is busy: fuse.ocifs ocifs is mounted there$`)),
    });
    await expect(mountFilesystem(createMemoryFilesystem(), mnt)).rejects.toMatchObject({ code: 'MOUNTPOINT' });
    expect((await run('cat', [join(mnt, 'hello.txt')])).stdout).toBe('hello, world\n'); // untouched
  });

  it('resolves a relative mountpoint and symlinked parents to what the kernel lists', async () => {
    const dir = await dirs.make();
    await fsp.mkdir(join(dir, 'real', 'mnt'), { recursive: true });
    await fsp.symlink(join(dir, 'real'), join(dir, 'alias'));
    const mounted = await mountFilesystem(createMemoryFilesystem(), join(dir, 'alias', 'mnt'));
    mounts.push(mounted);
    expect(mounted.mountpoint).toBe(join(await fsp.realpath(dir), 'real', 'mnt'));
    expect(findMount(await readMountTable(), mounted.mountpoint)).toBeDefined();
  });
});
