/**
 * Putting bytes into a content-addressed directory without ever exposing a partial file:
 * write (or hard-link) into a private temp file, hash while writing, check size and digest,
 * fsync, then rename onto the final name. rename(2) is atomic, so a reader sees no file or the
 * whole verified blob, and two writers of the same digest each rename identical bytes.
 */
import { randomBytes } from 'node:crypto';
import { constants, link, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DigestMismatchError, OcifsError, localIOError } from '../errors.js';
import { Digester, parseDigest, type DigestAlgorithm } from '../ref/digest.js';
import { alignedBuffers, DIRECT_ALIGNMENT } from './aligned-buffers.js';
import { Writeback } from './writeback.js';

export interface Expected {
  digest: string;
  size: number;
}

export interface WrittenBlob {
  digest: string;
  size: number;
}

export interface WriteOptions {
  expected?: Expected;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface TempFile {
  path: string;
  handle: FileHandle;
  /** Whether the handle was opened with O_DIRECT (see createTempFile). */
  direct: boolean;
}

/**
 * Creates `dir` and an exclusive temp file in it; the caller owns (and must remove) the file.
 * With `direct`, the file is opened with O_DIRECT when the filesystem takes it: writes then go
 * from our buffers to the disk, not through the page cache. One aligned block is written as a
 * probe, so a filesystem that accepts the flag but not our alignment is found here, not halfway
 * through a copy; the caller overwrites (and truncates) that block.
 */
export async function createTempFile(dir: string, options: { direct?: boolean } = {}): Promise<TempFile> {
  if (options.direct) {
    const temp = await openTempFile(dir, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT).catch(
      (err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EINVAL') return undefined; // no O_DIRECT here
        throw err;
      },
    );
    if (temp) {
      try {
        await temp.handle.write(alignedBuffers(1, DIRECT_ALIGNMENT)[0]!, 0, DIRECT_ALIGNMENT, 0);
        return { ...temp, direct: true };
      } catch (err) {
        await temp.handle.close().catch(() => undefined);
        await discard(temp.path);
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
  }
  return { ...(await openTempFile(dir, 'wx')), direct: false };
}

async function openTempFile(dir: string, flags: string | number): Promise<{ path: string; handle: FileHandle }> {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `${randomBytes(12).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      return { path, handle: await open(path, flags, 0o666) };
    } catch (err) {
      // Another writer (another process) removed the (empty) temp directory during our mkdir
      // (a recursive mkdir then fails with ENOENT) or between our mkdir and open.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/**
 * Copies `source` into `handle` (from position 0) while hashing. Fails as soon as the stream is
 * longer than expected, and at the end when size or digest differ.
 */
export async function hashInto(
  source: AsyncIterable<Uint8Array>,
  handle: FileHandle,
  options: WriteOptions & { what?: string } = {},
): Promise<WrittenBlob> {
  const algorithm: DigestAlgorithm = options.expected ? parseDigest(options.expected.digest).algorithm : 'sha256';
  const digester = new Digester(algorithm);
  const what = options.what ?? 'blob';
  let size = 0;
  // One write in flight while the next chunk is read and hashed: reading, hashing and writing
  // overlap. Chunks must not be reused by the source after they are yielded. The file is flushed
  // in the background as it grows, so the caller's final fsync is short.
  let writing: Promise<void> | undefined;
  const writeback = new Writeback(() => handle.datasync());
  try {
    for await (const chunk of source) {
      options.signal?.throwIfAborted();
      const bytes = chunk instanceof Buffer ? chunk : Buffer.from(chunk);
      size += bytes.length;
      if (options.expected && size > options.expected.size) {
        throw new DigestMismatchError(options.expected.digest, `more than ${options.expected.size} bytes`, what);
      }
      digester.update(bytes);
      await writing;
      writing = writeFully(handle, bytes).then(() => writeback.wrote(bytes.length));
      options.onProgress?.(bytes.length);
    }
    await writing;
    await writeback.settle();
  } finally {
    // Never leave a write or flush running on a handle the caller closes.
    await writing?.catch(() => undefined);
    await writeback.settle().catch(() => undefined);
  }
  const digest = digester.digest();
  checkExpected({ digest, size }, options.expected, what);
  return { digest, size };
}

export function checkExpected(actual: WrittenBlob, expected: Expected | undefined, what: string): void {
  if (!expected) return;
  if (actual.size !== expected.size) {
    throw new DigestMismatchError(expected.digest, `${actual.size} bytes instead of ${expected.size}`, what);
  }
  if (actual.digest !== expected.digest) throw new DigestMismatchError(expected.digest, actual.digest, what);
}

async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** Moves a finished temp file onto its content-addressed name. */
export async function commit(tempPath: string, finalPath: string): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  await rename(tempPath, finalPath);
}

/** Removes a temp file, ignoring that it may already be gone. */
export async function discard(tempPath: string): Promise<void> {
  await unlink(tempPath).catch(() => undefined);
}

/**
 * Hard-links `source` to a new temp name in `dir`. Returns undefined when linking is not
 * possible here (another filesystem, a filesystem without links, no permission): the caller
 * copies instead.
 */
export async function linkToTemp(source: string, dir: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `${randomBytes(12).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      await link(source, path);
      return path;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && attempt < 3) continue; // the temp directory was removed meanwhile
      if (code !== undefined && NO_LINK.has(code)) return undefined;
      throw err;
    }
  }
}

/** link(2) failures that mean "cannot link here", not "something is wrong". */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EACCES']);

/** Size and identity of a file, to notice that it changed while we read it. */
export interface FileIdentity {
  size: number;
  ino: number;
  dev: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export async function identityOf(handleOrPath: FileHandle | string): Promise<FileIdentity> {
  const s = typeof handleOrPath === 'string' ? await stat(handleOrPath, { bigint: true }) : await handleOrPath.stat({ bigint: true });
  return { size: Number(s.size), ino: Number(s.ino), dev: Number(s.dev), mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.ino === b.ino && a.dev === b.dev && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Reads exactly `length` bytes at `position` unless the file ends first. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Wraps an error from local file work, keeping our own errors (and aborts) as they are. */
export function asLocalError(err: unknown, what: string): unknown {
  if (err instanceof OcifsError) return err;
  if ((err as Error)?.name === 'AbortError') return new OcifsError('ABORTED', `${what}: aborted`, { cause: err });
  return localIOError(err, what);
}
