/**
 * One pass over a local file: each chunk is read once, hashed on the main thread, and the same
 * buffer is then written to the destination, so the digest is that of the bytes written.
 *
 * The three steps overlap (pack of 1 GiB measured against node's own sha256 of the file): the
 * read of chunk n+1 and the writes of chunks n-1, n-2... run on the threadpool while chunk n is
 * hashed, using a small ring of buffers (a buffer is reused only once its write has finished),
 * and the file is flushed in the background as it grows (see writeback.ts) so the final fsync
 * is short. The sha256 on the main thread is then the only long step.
 *
 * With `direct` (a destination opened with O_DIRECT, for big files) the ring is page-aligned,
 * every chunk but the last is full, and the last is written padded to the alignment and then
 * cut back by truncating the file. The bytes go from the ring to the disk without being copied
 * into the page cache: on a 2-core VM, buffered writing of 1 GiB cost 1.5-3.7 s of kernel CPU
 * (copying into, and first-touching, 1 GiB of page cache, and writers spinning on the inode
 * lock) against 0.3-0.6 s direct, and packing a big dataset no longer evicts the page cache.
 */
import type { FileHandle } from 'node:fs/promises';
import { Digester } from '../ref/digest.js';
import { alignedBuffers, alignUp } from './aligned-buffers.js';
import type { WrittenBlob } from './blob-files.js';
import { Writeback, WRITEBACK_EVERY } from './writeback.js';

/** Bytes per read/hash/write step. */
export const COPY_CHUNK = 2 * 1024 * 1024;
/** Buffers in the ring: one being hashed, one being read, the rest being written. */
export const COPY_DEPTH = 4;
/**
 * Files from this size on are written with O_DIRECT. Below it the page-cache copy costs little,
 * and each direct write waiting for the disk would make packs of many small files slower.
 */
export const DIRECT_MIN_SIZE = 64 * 1024 * 1024;
/** Bytes per step with `direct`: each write waits for the disk, so fewer, larger ones. */
export const DIRECT_COPY_CHUNK = 4 * 1024 * 1024;
/**
 * With `direct` there are no dirty pages to flush in the background: a flush would only empty
 * the disk's own write cache early, and measured slower than one fsync at the end (1 GiB:
 * 1.6-1.9 s flushing every 256 MiB, 1.4-1.8 s without).
 */
const DIRECT_WRITEBACK_EVERY = Infinity;

export interface CopyOptions {
  /** The source's size as seen before reading: buffers are no larger than needed for small files. */
  sizeHint?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  chunkSize?: number;
  depth?: number;
  writebackEvery?: number;
  /** `dest` was opened with O_DIRECT: aligned buffers, and a padded last write (see above). */
  direct?: boolean;
}

/**
 * Copies `source` from its start into `dest` (from position 0) while hashing, and returns the
 * digest and size of what was written. Does not fsync at the end: the caller does, before it
 * renames. Every write has finished (or failed) when this returns or throws.
 */
export async function copyHashing(source: FileHandle, dest: FileHandle, options: CopyOptions = {}): Promise<WrittenBlob> {
  const direct = options.direct ?? false;
  const fitted = fittedChunkSize(options.chunkSize ?? (direct ? DIRECT_COPY_CHUNK : COPY_CHUNK), options.sizeHint);
  const chunkSize = direct ? alignUp(fitted) : fitted;
  const depth = Math.max(2, options.depth ?? COPY_DEPTH);
  const ring = direct ? alignedBuffers(depth, chunkSize) : Array.from({ length: depth }, () => Buffer.allocUnsafe(chunkSize));
  /** The write (plus its write-back accounting) of what each buffer last held. */
  const writes: (Promise<void> | undefined)[] = ring.map(() => undefined);
  const writeback = new Writeback(() => dest.datasync(), options.writebackEvery ?? (direct ? DIRECT_WRITEBACK_EVERY : WRITEBACK_EVERY));
  const digester = new Digester();
  let size = 0;
  let reading = readFull(source, ring[0]!, 0);
  try {
    for (let i = 0; ; i++) {
      const bytesRead = await reading;
      if (bytesRead === 0) break;
      options.signal?.throwIfAborted();
      const slot = i % ring.length;
      const bytes = ring[slot]!.subarray(0, bytesRead);
      const at = size;
      size += bytesRead;
      // A chunk that is not full ends the file (a file growing meanwhile is the caller's to notice).
      const last = bytesRead < chunkSize;

      // Read ahead into the next buffer once its previous contents are on their way to disk.
      const next = (i + 1) % ring.length;
      await writes[next];
      reading = last ? Promise.resolve(0) : readFull(source, ring[next]!, size);

      digester.update(bytes);
      const written = direct && last ? ring[slot]!.subarray(0, alignUp(bytesRead)) : bytes;
      writes[slot] = writeAt(dest, written, at).then(() => writeback.wrote(bytesRead));
      writes[slot].catch(() => undefined); // awaited when the buffer comes round again, or below
      options.onProgress?.(bytesRead);
    }
    await Promise.all(writes);
    await writeback.settle();
    if (direct) await dest.truncate(size); // drops the padding of the last write (and the probe block of an empty file)
  } finally {
    // Never return (or throw) with a read or write still using the buffers or the handles.
    await reading.catch(() => 0);
    await Promise.allSettled(writes);
    await writeback.settle().catch(() => undefined);
  }
  return { digest: digester.digest(), size };
}

/**
 * Digest and size of a file from its start, without writing it anywhere (`pack --link`, push of
 * files): one buffer is hashed while the next is read into a second one, and both are reused.
 * Node's own stream-based sha256 allocates a fresh buffer per chunk and took 1.7 s for 1 GiB
 * here; this takes 0.75 s.
 */
export async function hashFile(
  source: FileHandle,
  options: Pick<CopyOptions, 'sizeHint' | 'onProgress' | 'signal' | 'chunkSize'> = {},
): Promise<WrittenBlob> {
  const chunkSize = fittedChunkSize(options.chunkSize ?? COPY_CHUNK, options.sizeHint);
  const pair = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
  const digester = new Digester();
  let size = 0;
  let reading = readFull(source, pair[0]!, 0);
  try {
    for (let i = 0; ; i++) {
      const bytesRead = await reading;
      if (bytesRead === 0) break;
      options.signal?.throwIfAborted();
      size += bytesRead;
      reading = bytesRead < chunkSize ? Promise.resolve(0) : readFull(source, pair[(i + 1) % 2]!, size);
      digester.update(pair[i % 2]!.subarray(0, bytesRead));
      options.onProgress?.(bytesRead);
    }
  } finally {
    await reading.catch(() => 0); // never return with a read still using the handle
  }
  return { digest: digester.digest(), size };
}

/** `wanted`, or less for a small file: no smaller than 64 KiB, in case the file has grown since. */
function fittedChunkSize(wanted: number, sizeHint: number | undefined): number {
  return Math.max(1, Math.min(wanted, Math.max(sizeHint ?? Infinity, 64 * 1024)));
}

/** Reads into `buffer` from `position` until it is full or the file ends; returns the bytes read. */
async function readFull(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, position + offset);
    offset += bytesWritten;
  }
}
