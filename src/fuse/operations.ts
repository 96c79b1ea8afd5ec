/**
 * The thin adapter: fuse-native's path/handle callbacks in, FilesystemOps calls, results and
 * errnos out. No behaviour of the tree lives here (that is src/fs); this only translates, in
 * the spirit of mountpoint-s3's fuse.rs. Every request is answered once, within the deadline.
 *
 * Signatures follow fuse-native 2.2.6 (`cb(code, value)`, code 0 or a negative errno, or a
 * byte count for read/getxattr/listxattr), except getxattr/listxattr, which also receive the
 * caller's buffer size: fuse-native hides it, and the size-0 probe and ERANGE need it
 * (native.ts passes it in).
 */
import { constants as fsConstants } from 'node:fs';
import type { FilesystemOps, FilesystemStats, NodeAttributes } from '../fs/ops.js';
import type { Logger } from '../log.js';
import { BufferPool } from '../read/buffer-pool.js';
import { Errno } from './errno.js';
import { createErrorReporter } from './error-log.js';
import { settleOnce } from './settle.js';

type Done = (code: number) => void;

/** The stat object fuse-native turns into a struct stat. */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtime: Date;
  atime: Date;
  ctime: Date;
  blocks: number;
}

/** The statvfs object fuse-native turns into a struct statvfs. */
export interface FuseStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

export interface FuseOperations {
  getattr(path: string, cb: (code: number, stat?: FuseStat) => void): void;
  fgetattr(path: string, fd: number, cb: (code: number, stat?: FuseStat) => void): void;
  access(path: string, mode: number, cb: Done): void;
  readdir(path: string, cb: (code: number, names?: string[]) => void): void;
  open(path: string, flags: number, cb: (code: number, fd?: number) => void): void;
  read(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: Done): void;
  release(path: string, fd: number, cb: Done): void;
  statfs(path: string, cb: (code: number, stats?: FuseStatfs) => void): void;
  /** `size` 0 is a probe: answer the value's length. */
  getxattr(path: string, name: string, size: number, cb: (code: number, value?: Buffer) => void): void;
  /** `size` 0 is a probe: answer the list's length. The list is NUL-terminated names. */
  listxattr(path: string, size: number, cb: (code: number, list?: Buffer) => void): void;
  // Every write the kernel can send: EROFS.
  create(path: string, mode: number, cb: Done): void;
  mknod(path: string, mode: number, dev: number, cb: Done): void;
  mkdir(path: string, mode: number, cb: Done): void;
  write(path: string, fd: number, buffer: Buffer, length: number, position: number, cb: Done): void;
  unlink(path: string, cb: Done): void;
  rmdir(path: string, cb: Done): void;
  rename(src: string, dest: string, cb: Done): void;
  link(src: string, dest: string, cb: Done): void;
  symlink(src: string, dest: string, cb: Done): void;
  chmod(path: string, mode: number, cb: Done): void;
  chown(path: string, uid: number, gid: number, cb: Done): void;
  truncate(path: string, size: number, cb: Done): void;
  ftruncate(path: string, fd: number, size: number, cb: Done): void;
  utimens(path: string, atime: number, mtime: number, cb: Done): void;
  setxattr(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void;
  removexattr(path: string, name: string, cb: Done): void;
}

export interface AdapterOptions {
  logger: Logger;
  /** Deadline per request; 0 waits for ever. */
  timeoutMs: number;
  /** Scratch buffers of async reads (tests pass their own to watch them). */
  scratch?: BufferPool;
}

/** The kernel refuses extended attribute values above this (XATTR_SIZE_MAX). */
export const MAX_XATTR_BYTES = 65536;
/** libfuse 2.9 asks for at most 128 KiB per read; larger asks get a buffer of their own. */
const SCRATCH_SIZE = 128 * 1024;
/** Free scratch buffers kept: reads in flight at once rarely exceed libfuse's threads. */
const MAX_FREE_SCRATCH = 16;
/** The only namespace the tree has attributes in; the kernel passes names with their prefix. */
const USER_XATTR_PREFIX = 'user.';
/** Access mode bits of open(2) flags (Node's constants lack O_ACCMODE). */
const O_ACCMODE = 3;
/** fuse-native hands file handles to C as int32. */
const MAX_HANDLE = 0x7fffffff;

export function createFuseOperations(fs: FilesystemOps, options: AdapterOptions): FuseOperations {
  const { logger, timeoutMs } = options;
  const reporter = createErrorReporter(logger);
  // Reused rather than allocated per read: a fresh 128 KiB buffer is an mmap and 32 page faults.
  const scratchBuffers = options.scratch ?? new BufferPool(SCRATCH_SIZE, MAX_FREE_SCRATCH);

  /** Runs one request: `done` on success, an errno on failure or at the deadline. */
  function run<T>(op: string, path: string, work: () => Promise<T>, done: (value: T) => void, fail: Done): void {
    settleOnce(work, timeoutMs, {
      value: done,
      error: (err) => fail(reporter.report(op, path, err)),
      timeout: () => {
        logger.warn(`${op} timed out`, { op, path, timeoutMs });
        fail(Errno.ETIMEDOUT);
      },
      late: (outcome) => logger.debug(`${op} finished after its deadline`, { op, path, ...outcome }),
    });
  }

  const readOnly = (op: string, path: string, cb: Done) => {
    logger.debug('refused a write to the read-only tree', { op, path });
    cb(Errno.EROFS);
  };

  // Answers from memory first (no promise, no timer, no log): `ls -lR` of 2,000 files sends
  // ~6,500 lookups and xattr probes one after the other, so their per-call cost is its time.
  /** A cached answer, or undefined; a bug there must not crash the daemon (the async path then answers). */
  const peek = <T>(op: string, path: string, answer: () => T | undefined): T | undefined => {
    try {
      return answer();
    } catch (err) {
      logger.warn(`${op} from memory failed; answering the slow way`, { op, path, err: err as Error });
      return undefined;
    }
  };

  const getattr = (path: string, cb: (code: number, stat?: FuseStat) => void) => {
    const cached = peek('getattr', path, () => fs.getattrCached?.(path));
    if (cached) return cb(0, toFuseStat(cached));
    run('getattr', path, () => fs.getattr(path), (attrs) => cb(0, toFuseStat(attrs)), cb);
  };

  return {
    getattr,
    fgetattr: (path, _fd, cb) => getattr(path, cb),

    access(path, mode, cb) {
      if (mode & fsConstants.W_OK) return readOnly('access', path, cb);
      if (peek('access', path, () => fs.getattrCached?.(path))) return cb(0);
      run('access', path, () => fs.getattr(path), () => cb(0), cb);
    },

    readdir(path, cb) {
      const cached = peek('readdir', path, () => fs.readdirCached?.(path));
      if (cached) return cb(0, withDotEntries(cached));
      run('readdir', path, () => fs.readdir(path), (names) => cb(0, withDotEntries(names)), cb);
    },

    open(path, flags, cb) {
      // O_WRONLY/O_RDWR (and O_TRUNC, which writes) on a read-only tree.
      if ((flags & O_ACCMODE) !== fsConstants.O_RDONLY || flags & fsConstants.O_TRUNC) {
        return readOnly('open', path, cb);
      }
      run(
        'open',
        path,
        async () => {
          const handle = await fs.open(path, flags);
          if (!Number.isInteger(handle) || handle < 0 || handle > MAX_HANDLE) {
            throw new Error(`filesystem returned an invalid handle ${handle} (must be 0..${MAX_HANDLE})`);
          }
          return handle;
        },
        (handle) => cb(0, handle),
        cb,
      );
    },

    read(path, fd, buffer, length, position, cb) {
      // Warm reads (bytes in a verified local file): one synchronous pread straight into the
      // kernel's buffer. It is finished before we answer, so it needs no deadline and no copy.
      let direct: number | undefined;
      try {
        direct = fs.readCached?.(fd, buffer, length, position);
      } catch (err) {
        return cb(reporter.report('read', path, err));
      }
      if (direct !== undefined) {
        if (!validCount(direct, length)) return cb(reporter.report('read', path, badCount(direct, length)));
        return cb(direct);
      }
      // Otherwise the filesystem reads into a scratch buffer of ours, copied into the kernel's
      // only if we are still within the deadline: a read answered by timeout must never write
      // into the kernel's buffer (libfuse frees it once answered). The scratch goes back to the
      // pool only when the read has finished, so a late read never writes into a reused one.
      const scratch = scratchBuffers.take(length);
      let finished = false;
      run(
        'read',
        path,
        async () => {
          try {
            const count = await fs.read(fd, scratch, length, position);
            if (!validCount(count, length)) throw badCount(count, length);
            return count;
          } finally {
            finished = true;
          }
        },
        (count) => {
          scratch.copy(buffer, 0, 0, count);
          scratchBuffers.give(scratch);
          cb(count);
        },
        (code) => {
          if (finished) scratchBuffers.give(scratch);
          cb(code);
        },
      );
    },

    release(path, fd, cb) {
      // The kernel ignores release's answer; a failure is only worth the log.
      run('release', path, () => fs.release(fd), () => cb(0), () => cb(0));
    },

    statfs(path, cb) {
      run('statfs', path, () => fs.statfs(path), (stats) => cb(0, toFuseStatfs(stats)), cb);
    },

    getxattr(path, name, size, cb) {
      // Every attribute we have is `user.*` (docs/SEMANTICS.md); the other namespaces (security,
      // system, trusted) are not supported, which EOPNOTSUPP says. It is answered at once, and it
      // also stops `ls -l` probing security.selinux and system.posix_acl_* on every file: ls
      // remembers a device that does not support them (4,336 round trips in `ls -lR` of 2,000
      // files with ENODATA, 3 with EOPNOTSUPP).
      if (!name.startsWith(USER_XATTR_PREFIX)) return cb(Errno.EOPNOTSUPP);
      const reply = (value: Buffer) => {
        if (value.length > MAX_XATTR_BYTES) return cb(Errno.E2BIG);
        if (size === 0) return cb(value.length);
        if (value.length > size) return cb(Errno.ERANGE);
        cb(value.length, value);
      };
      const cached = peek('getxattr', path, () => fs.getxattrCached?.(path, name));
      if (cached === null) return cb(Errno.ENODATA);
      if (cached) return reply(cached);
      run('getxattr', path, () => fs.getxattr(path, name), reply, cb);
    },

    listxattr(path, size, cb) {
      run(
        'listxattr',
        path,
        () => fs.listxattr(path),
        (names) => {
          const list = encodeXattrList(names);
          if (list.length > MAX_XATTR_BYTES) return cb(Errno.E2BIG);
          if (size === 0) return cb(list.length);
          if (list.length > size) return cb(Errno.ERANGE);
          cb(list.length, list);
        },
        cb,
      );
    },

    create: (path, _mode, cb) => readOnly('create', path, cb),
    mknod: (path, _mode, _dev, cb) => readOnly('mknod', path, cb),
    mkdir: (path, _mode, cb) => readOnly('mkdir', path, cb),
    write: (path, _fd, _buffer, _length, _position, cb) => readOnly('write', path, cb),
    unlink: (path, cb) => readOnly('unlink', path, cb),
    rmdir: (path, cb) => readOnly('rmdir', path, cb),
    rename: (src, _dest, cb) => readOnly('rename', src, cb),
    link: (_src, dest, cb) => readOnly('link', dest, cb),
    symlink: (_target, path, cb) => readOnly('symlink', path, cb),
    chmod: (path, _mode, cb) => readOnly('chmod', path, cb),
    chown: (path, _uid, _gid, cb) => readOnly('chown', path, cb),
    truncate: (path, _size, cb) => readOnly('truncate', path, cb),
    ftruncate: (path, _fd, _size, cb) => readOnly('ftruncate', path, cb),
    utimens: (path, _atime, _mtime, cb) => readOnly('utimens', path, cb),
    setxattr: (path, _name, _value, _position, _flags, cb) => readOnly('setxattr', path, cb),
    removexattr: (path, _name, cb) => readOnly('removexattr', path, cb),
  };
}

function validCount(count: number, length: number): boolean {
  return Number.isInteger(count) && count >= 0 && count <= length;
}

function badCount(count: number, length: number): Error {
  return new Error(`filesystem read returned ${count} for a ${length}-byte request`);
}


export function toFuseStat(a: NodeAttributes): FuseStat {
  return {
    mode: a.mode,
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    nlink: a.nlink,
    mtime: a.mtime,
    atime: a.atime,
    ctime: a.ctime,
    blocks: a.blocks,
  };
}

export function toFuseStatfs(s: FilesystemStats): FuseStatfs {
  return {
    bsize: s.blockSize,
    frsize: s.blockSize,
    blocks: s.blocks,
    bfree: s.blocksFree,
    bavail: s.blocksFree,
    files: s.files,
    ffree: 0,
    favail: 0,
    namemax: s.maxNameLength,
  };
}

/** `ls -a` expects `.` and `..`; src/fs lists only children. */
export function withDotEntries(names: string[]): string[] {
  const children = names.filter((n) => n !== '.' && n !== '..');
  return ['.', '..', ...children];
}

/** listxattr's wire format: each name followed by a NUL. */
export function encodeXattrList(names: string[]): Buffer {
  return Buffer.concat(names.map((n) => Buffer.from(`${n}\0`, 'utf8')));
}
