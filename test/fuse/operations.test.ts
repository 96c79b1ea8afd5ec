/**
 * The adapter called directly, without a kernel: the protocol details a real mount makes hard
 * to reach (xattr size probes and ERANGE, ftruncate, late reads after a deadline, bad values).
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/fuse/errno.js';
import { OcifsError } from '../../src/errors.js';
import { createFuseOperations, encodeXattrList, type FuseOperations } from '../../src/fuse/operations.js';
import { BufferPool } from '../../src/read/buffer-pool.js';
import { silentLogger } from '../../src/log.js';
import type { FilesystemOps } from '../../src/fs/ops.js';
import { createMemoryFilesystem, FIXED_TIME } from './fixtures/memory-fs.js';
import { captureLogger } from './helpers.js';

/** Calls an op and resolves with the arguments it answered with. */
function call(invoke: (cb: (...args: unknown[]) => void) => void): Promise<unknown[]> {
  return new Promise((resolve) => invoke((...args) => resolve(args)));
}

function adapter(fs: FilesystemOps = createMemoryFilesystem(), timeoutMs = 0): FuseOperations {
  return createFuseOperations(fs, { logger: silentLogger, timeoutMs });
}

describe('FUSE operations over FilesystemOps', () => {
  it('getattr translates attributes and errors', async () => {
    const ops = adapter();
    const [code, stat] = await call((cb) => ops.getattr('/hello.txt', cb));
    expect(code).toBe(0);
    expect(stat).toEqual({ mode: 0o100444, uid: 0, gid: 0, size: 13, nlink: 1, mtime: FIXED_TIME, atime: FIXED_TIME, ctime: FIXED_TIME, blocks: 1 });
    expect(await call((cb) => ops.getattr('/nope', cb))).toEqual([Errno.ENOENT]);
    expect(await call((cb) => ops.fgetattr('/docs', 3, cb))).toEqual([0, expect.objectContaining({ mode: 0o040555 })]);
  });

  it('readdir adds . and .. once', async () => {
    const ops = adapter();
    expect(await call((cb) => ops.readdir('/docs', cb))).toEqual([0, ['.', '..', 'readme.md', 'nested']]);
    expect(await call((cb) => ops.readdir('/hello.txt', cb))).toEqual([Errno.ENOTDIR]);
  });

  it('open, read (into the kernel buffer, at an offset) and release', async () => {
    const ops = adapter();
    const [code, fd] = (await call((cb) => ops.open('/hello.txt', 0, cb))) as [number, number];
    expect(code).toBe(0);
    const buffer = Buffer.alloc(5, '-');
    expect(await call((cb) => ops.read('/hello.txt', fd, buffer, 5, 7, cb))).toEqual([5]);
    expect(buffer.toString()).toBe('world');
    expect(await call((cb) => ops.read('/hello.txt', fd, buffer, 5, 100, cb))).toEqual([0]);
    expect(await call((cb) => ops.release('/hello.txt', fd, cb))).toEqual([0]);
    expect(await call((cb) => ops.read('/hello.txt', fd, buffer, 5, 0, cb))).toEqual([Errno.EBADF]);
    // release's answer is ignored by the kernel: a failure is logged, not returned
    expect(await call((cb) => ops.release('/hello.txt', fd, cb))).toEqual([0]);
  });

  it.each([
    ['O_WRONLY', 1],
    ['O_RDWR', 2],
    ['O_RDONLY|O_TRUNC', 0o1000],
  ])('open with %s is EROFS', async (_name, flags) => {
    expect(await call((cb) => adapter().open('/hello.txt', flags, cb))).toEqual([Errno.EROFS]);
  });

  it('access: W_OK is EROFS, otherwise the node must exist', async () => {
    const ops = adapter();
    expect(await call((cb) => ops.access('/hello.txt', 2, cb))).toEqual([Errno.EROFS]);
    expect(await call((cb) => ops.access('/hello.txt', 4, cb))).toEqual([0]);
    expect(await call((cb) => ops.access('/nope', 0, cb))).toEqual([Errno.ENOENT]);
  });

  it('statfs', async () => {
    expect(await call((cb) => adapter().statfs('/', cb))).toEqual([
      0,
      expect.objectContaining({ bsize: 4096, frsize: 4096, blocks: 1000, bfree: 0, bavail: 0, namemax: 255 }),
    ]);
  });

  describe('extended attributes follow the size protocol', () => {
    const digest = Buffer.from(`sha256:853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020`);
    it.each<[string, number, unknown[]]>([
      ['a size-0 probe answers the length', 0, [digest.length]],
      ['a buffer too small is ERANGE', 10, [Errno.ERANGE]],
      ['an exact buffer gets the value', digest.length, [digest.length, digest]],
      ['a larger buffer gets the value', 4096, [digest.length, digest]],
    ])('getxattr: %s', async (_name, size, expected) => {
      expect(await call((cb) => adapter().getxattr('/hello.txt', 'user.oci.digest', size, cb))).toEqual(expected);
    });

    it('getxattr of a missing attribute is ENODATA', async () => {
      expect(await call((cb) => adapter().getxattr('/hello.txt', 'user.nope', 0, cb))).toEqual([Errno.ENODATA]);
    });

    it.each(['security.selinux', 'system.posix_acl_access', 'system.posix_acl_default', 'trusted.x'])(
      'getxattr of %s is EOPNOTSUPP at once, without asking the filesystem',
      (name) => {
        const fs = { ...createMemoryFilesystem(), getxattr: () => Promise.reject(new Error('must not be asked')) };
        const answers: unknown[][] = [];
        adapter(fs).getxattr('/hello.txt', name, 0, (...args: unknown[]) => answers.push(args));
        expect(answers).toEqual([[Errno.EOPNOTSUPP]]);
      },
    );

    it('getxattr of a value above the kernel limit is E2BIG', async () => {
      const fs = { ...createMemoryFilesystem(), getxattr: async () => Buffer.alloc(70_000) };
      expect(await call((cb) => adapter(fs).getxattr('/', 'user.huge', 0, cb))).toEqual([Errno.E2BIG]);
    });

    const list = encodeXattrList(['user.oci.digest', 'user.oci.mediatype']);
    it.each<[string, number, unknown[]]>([
      ['a size-0 probe answers the length', 0, [list.length]],
      ['a buffer too small is ERANGE', 5, [Errno.ERANGE]],
      ['a large enough buffer gets NUL-terminated names', 100, [list.length, list]],
    ])('listxattr: %s', async (_name, size, expected) => {
      expect(await call((cb) => adapter().listxattr('/hello.txt', size, cb))).toEqual(expected);
    });

    it('listxattr of a node without attributes is empty', async () => {
      expect(await call((cb) => adapter().listxattr('/empty.txt', 0, cb))).toEqual([0]);
    });
  });

  describe('every write is EROFS, without asking the filesystem', () => {
    const ops = adapter({} as FilesystemOps); // any call into it would throw
    const buf = Buffer.from('x');
    it.each<[string, (o: FuseOperations, cb: (code: number) => void) => void]>([
      ['create', (o, cb) => o.create('/new', 0o644, cb)],
      ['mknod', (o, cb) => o.mknod('/fifo', 0o10644, 0, cb)],
      ['mkdir', (o, cb) => o.mkdir('/d', 0o755, cb)],
      ['write', (o, cb) => o.write('/hello.txt', 1, buf, 1, 0, cb)],
      ['unlink', (o, cb) => o.unlink('/hello.txt', cb)],
      ['rmdir', (o, cb) => o.rmdir('/docs', cb)],
      ['rename', (o, cb) => o.rename('/hello.txt', '/b', cb)],
      ['link', (o, cb) => o.link('/hello.txt', '/b', cb)],
      ['symlink', (o, cb) => o.symlink('/hello.txt', '/b', cb)],
      ['chmod', (o, cb) => o.chmod('/hello.txt', 0o777, cb)],
      ['chown', (o, cb) => o.chown('/hello.txt', 1, 1, cb)],
      ['truncate', (o, cb) => o.truncate('/hello.txt', 0, cb)],
      ['ftruncate', (o, cb) => o.ftruncate('/hello.txt', 1, 0, cb)],
      ['utimens', (o, cb) => o.utimens('/hello.txt', 0, 0, cb)],
      ['setxattr', (o, cb) => o.setxattr('/hello.txt', 'user.x', buf, 0, 0, cb)],
      ['removexattr', (o, cb) => o.removexattr('/hello.txt', 'user.oci.digest', cb)],
    ])('%s', async (_name, invoke) => {
      expect(await call((cb) => invoke(ops, cb))).toEqual([Errno.EROFS]);
    });
  });

  describe('answers from memory', () => {
    const attrs = { mode: 0o100444, uid: 1, gid: 2, size: 3, nlink: 1, mtime: FIXED_TIME, atime: FIXED_TIME, ctime: FIXED_TIME, blocks: 1, immutable: false };
    const refuse = () => Promise.reject(new Error('the async path must not be taken'));
    const cachedFs = {
      ...createMemoryFilesystem(),
      getattr: refuse,
      readdir: refuse,
      getxattr: refuse,
      getattrCached: () => attrs,
      readdirCached: () => ['a', 'b'],
      getxattrCached: (_path: string, name: string) => (name === 'user.oci.digest' ? Buffer.from('sha256:x') : null),
    };

    it('are answered synchronously and the async methods are not called', () => {
      const ops = adapter(cachedFs);
      const answers: unknown[][] = [];
      const record = (...args: unknown[]) => answers.push(args);
      ops.getattr('/f', record);
      ops.fgetattr('/f', 1, record);
      ops.access('/f', 4, record);
      ops.readdir('/d', record);
      ops.getxattr('/f', 'user.oci.digest', 0, record);
      ops.getxattr('/f', 'user.oci.digest', 100, record);
      ops.getxattr('/f', 'user.oci.digest', 3, record);
      ops.getxattr('/f', 'user.nope', 100, record);
      const { immutable: _immutable, ...stat } = attrs;
      expect(answers).toEqual([
        [0, stat],
        [0, stat],
        [0],
        [0, ['.', '..', 'a', 'b']],
        [8],
        [8, Buffer.from('sha256:x')],
        [Errno.ERANGE],
        [Errno.ENODATA],
      ]);
    });

    it('undefined falls through to the async path', async () => {
      const fs = { ...createMemoryFilesystem(), getattrCached: () => undefined, readdirCached: () => undefined, getxattrCached: () => undefined };
      const ops = adapter(fs);
      expect(await call((cb) => ops.getattr('/hello.txt', cb))).toEqual([0, expect.objectContaining({ size: 13 })]);
      expect(await call((cb) => ops.getattr('/nope', cb))).toEqual([Errno.ENOENT]);
      expect(await call((cb) => ops.readdir('/docs', cb))).toEqual([0, ['.', '..', 'readme.md', 'nested']]);
      expect(await call((cb) => ops.getxattr('/hello.txt', 'user.nope', 0, cb))).toEqual([Errno.ENODATA]);
    });

    it('one that throws is logged and answered the slow way, not a crash', async () => {
      const { logger, lines } = captureLogger();
      const fs = {
        ...createMemoryFilesystem(),
        getattrCached: () => {
          throw new Error('bug in the cache');
        },
      };
      const ops = createFuseOperations(fs, { logger, timeoutMs: 0 });
      expect(await call((cb) => ops.getattr('/hello.txt', cb))).toEqual([0, expect.objectContaining({ size: 13 })]);
      expect(lines.join('\n')).toContain('bug in the cache');
    });
  });

  describe('reads served synchronously (readCached)', () => {
    it('read straight into the kernel buffer, answered at once, without the async read', () => {
      const fs = {
        ...createMemoryFilesystem(),
        read: () => Promise.reject(new Error('the async path must not be taken')),
        readCached: (_h: number, buffer: Buffer, length: number, position: number) => buffer.write('abcdefgh'.slice(position, position + length)),
      };
      const kernelBuffer = Buffer.alloc(4, '-');
      const answers: unknown[][] = [];
      adapter(fs, 1000).read('/f', 7, kernelBuffer, 4, 2, (...args: unknown[]) => answers.push(args));
      expect(answers).toEqual([[4]]);
      expect(kernelBuffer.toString()).toBe('cdef');
    });

    it('undefined (bytes not local) takes the async path with its deadline', async () => {
      const fs = { ...createMemoryFilesystem(), readCached: () => undefined };
      const ops = adapter(fs, 1000);
      const [, fd] = (await call((cb) => ops.open('/hello.txt', 0, cb))) as [number, number];
      const buffer = Buffer.alloc(5);
      expect(await call((cb) => ops.read('/hello.txt', fd, buffer, 5, 7, cb))).toEqual([5]);
      expect(buffer.toString()).toBe('world');
    });

    it('an error is mapped to its errno, and a count above the ask is EIO', () => {
      const failing = {
        ...createMemoryFilesystem(),
        readCached: () => {
          throw new OcifsError('BAD_HANDLE', 'handle 7 is not open');
        },
      };
      const lying = { ...createMemoryFilesystem(), readCached: () => 10 };
      const answers: unknown[][] = [];
      adapter(failing).read('/f', 7, Buffer.alloc(4), 4, 0, (...args: unknown[]) => answers.push(args));
      adapter(lying).read('/f', 7, Buffer.alloc(4), 4, 0, (...args: unknown[]) => answers.push(args));
      expect(answers).toEqual([[Errno.EBADF], [Errno.EIO]]);
    });
  });

  describe('scratch buffers of async reads', () => {
    it('a read that timed out keeps its scratch buffer out of the pool, even after it ends', async () => {
      const scratch = new BufferPool(128 * 1024, 4);
      const fs = createMemoryFilesystem({ slowReadMs: 200 });
      const ops = createFuseOperations(fs, { logger: silentLogger, timeoutMs: 30, scratch });
      const [, fd] = (await call((cb) => ops.open('/hello.txt', 0, cb))) as [number, number];
      expect(await call((cb) => ops.read('/hello.txt', fd, Buffer.alloc(13), 13, 0, cb))).toEqual([13]);
      expect(scratch.freeCount).toBe(1); // a finished read gives its buffer back
      scratch.take(13); // empty the pool again

      const [, slowFd] = (await call((cb) => ops.open('/slow.bin', 0, cb))) as [number, number];
      expect(await call((cb) => ops.read('/slow.bin', slowFd, Buffer.alloc(14), 14, 0, cb))).toEqual([Errno.ETIMEDOUT]);
      await new Promise((resolve) => setTimeout(resolve, 400)); // the late read has written by now
      expect(scratch.freeCount).toBe(0);
    });
  });

  describe('deadlines', () => {
    it('answers ETIMEDOUT at the deadline and never writes a late read into the kernel buffer', async () => {
      const { logger, lines } = captureLogger();
      const fs = createMemoryFilesystem({ slowReadMs: 1000 });
      const ops = createFuseOperations(fs, { logger, timeoutMs: 30 });
      const [, fd] = (await call((cb) => ops.open('/slow.bin', 0, cb))) as [number, number];
      const kernelBuffer = Buffer.alloc(14, 0);
      const started = Date.now();
      expect(await call((cb) => ops.read('/slow.bin', fd, kernelBuffer, 14, 0, cb))).toEqual([Errno.ETIMEDOUT]);
      // Answered at the deadline, not when the slow read ends (margins for a loaded machine).
      expect(Date.now() - started).toBeLessThan(900);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the read has finished by now
      expect(kernelBuffer.equals(Buffer.alloc(14, 0))).toBe(true);
      const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'read timed out', path: '/slow.bin', timeoutMs: 30 }));
      expect(records).toContainEqual(expect.objectContaining({ level: 'debug', msg: 'read finished after its deadline' }));
    });

    it('answers once when the work finishes within the deadline', async () => {
      const ops = adapter(createMemoryFilesystem(), 1000);
      const answers: unknown[][] = [];
      ops.getattr('/hello.txt', (...args: unknown[]) => answers.push(args));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answers).toHaveLength(1);
      expect(answers[0]?.[0]).toBe(0);
    });
  });

  describe('values the kernel must never see', () => {
    it.each([
      ['a negative handle', -1],
      ['a handle above int32', 2 ** 31],
      ['a fractional handle', 1.5],
    ])('open returning %s is EIO', async (_name, handle) => {
      const fs = { ...createMemoryFilesystem(), open: async () => handle };
      expect(await call((cb) => adapter(fs).open('/hello.txt', 0, cb))).toEqual([Errno.EIO]);
    });

    it('a read claiming more bytes than asked is EIO', async () => {
      const fs = { ...createMemoryFilesystem(), read: async () => 10 };
      expect(await call((cb) => adapter(fs).read('/hello.txt', 1, Buffer.alloc(4), 4, 0, cb))).toEqual([Errno.EIO]);
    });

    it('a filesystem method that throws synchronously is EIO, not a crash', async () => {
      const fs = {
        ...createMemoryFilesystem(),
        getattr: () => {
          throw new Error('sync bug');
        },
      } as unknown as FilesystemOps;
      expect(await call((cb) => adapter(fs).getattr('/', cb))).toEqual([Errno.EIO]);
    });
  });
});
