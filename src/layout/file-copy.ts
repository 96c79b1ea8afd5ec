/**
 * One pass over a local file: each chunk is read once, hashed on the main thread, and the same
 * buffer is then written to the destination, so the digest is that of the bytes written.
 *
 * The three steps overlap (pack of 1 GiB measured against node's own sha256 of the file): the
 * read of chunk n+1 and the writes of chunks n-1, n-2... run on the threadpool while chunk n is
 * hashed, using a small ring of buffers (a buffer is reused only once its write has finished),
 * and the file is flushed in the background as it grows (see writeback.ts) so the final fsync
 * is short. The sha256 on the main thread is then the only long step.
 */
import type { FileHandle } from 'node:fs/promises';
import { Digester } from '../ref/digest.js';
import type { WrittenBlob } from './blob-files.js';
import { Writeback, WRITEBACK_EVERY } from './writeback.js';

/** Bytes per read/hash/write step. */
export const COPY_CHUNK = 2 * 1024 * 1024;
/** Buffers in the ring: one being hashed, one being read, the rest being written. */
export const COPY_DEPTH = 4;

export interface CopyOptions {
  /** The source's size as seen before reading: buffers are no larger than needed for small files. */
  sizeHint?: number;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  chunkSize?: number;
  depth?: number;
  writebackEvery?: number;
}

/**
 * Copies `source` from its start into `dest` (from position 0) while hashing, and returns the
 * digest and size of what was written. Does not fsync at the end: the caller does, before it
 * renames. Every write has finished (or failed) when this returns or throws.
 */
export async function copyHashing(source: FileHandle, dest: FileHandle, options: CopyOptions = {}): Promise<WrittenBlob> {
  const chunkSize = Math.max(1, Math.min(options.chunkSize ?? COPY_CHUNK, Math.max(options.sizeHint ?? Infinity, 64 * 1024)));
  const ring = Array.from({ length: Math.max(2, options.depth ?? COPY_DEPTH) }, () => Buffer.allocUnsafe(chunkSize));
  /** The write (plus its write-back accounting) of what each buffer last held. */
  const writes: (Promise<void> | undefined)[] = ring.map(() => undefined);
  const writeback = new Writeback(() => dest.datasync(), options.writebackEvery ?? WRITEBACK_EVERY);
  const digester = new Digester();
  let size = 0;
  try {
    let reading = source.read(ring[0]!, 0, chunkSize, 0);
    for (let i = 0; ; i++) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      options.signal?.throwIfAborted();
      const slot = i % ring.length;
      const bytes = ring[slot]!.subarray(0, bytesRead);
      const at = size;
      size += bytesRead;

      // Read ahead into the next buffer once its previous contents are on their way to disk.
      const next = (i + 1) % ring.length;
      await writes[next];
      reading = source.read(ring[next]!, 0, chunkSize, size);

      digester.update(bytes);
      writes[slot] = writeAt(dest, bytes, at).then(() => writeback.wrote(bytesRead));
      writes[slot].catch(() => undefined); // awaited when the buffer comes round again, or below
      options.onProgress?.(bytesRead);
    }
    await Promise.all(writes);
    await writeback.settle();
  } finally {
    // Never return (or throw) with a read or write still using the buffers or the handles.
    await Promise.allSettled(writes);
    await writeback.settle().catch(() => undefined);
  }
  return { digest: digester.digest(), size };
}

async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, position + offset);
    offset += bytesWritten;
  }
}
