/**
 * The digest of a blob hashed while its blocks arrive, so that the last block's arrival completes
 * verification instead of starting a second pass over the whole file.
 *
 * Bytes are hashed in blob order only: `offer` takes the bytes just written when they continue
 * the hashed prefix (the common case for a sequential reader: no re-read at all); bytes that
 * arrived ahead of a gap are read back from the cache file by `catchUp` once the gap closes.
 * After a restart the prefix already on disk is read back the same way, which costs what the
 * old whole-file pass did. The bytes hashed are the bytes written to the file (the same buffer,
 * or read back from it), so "complete" still means "the file's bytes match the digest".
 */
import { Digester, type DigestAlgorithm } from '../ref/digest.js';

/** Reads `length` bytes at `position` into `buffer` from its start; returns how many. */
export type ReadFn = (buffer: Buffer, length: number, position: number) => Promise<number>;

/** The end of the run of present bytes that starts at `from`, looking no further than `limit`. */
export type PresentEnd = (from: number, limit: number) => number;

const CHUNK = 1024 * 1024;

export class RunningDigest {
  private readonly digester: Digester;
  private position = 0;
  private catching: Promise<void> | undefined;

  constructor(
    algorithm: DigestAlgorithm,
    readonly size: number,
  ) {
    this.digester = new Digester(algorithm);
  }

  /** Bytes [0, hashed) are in the digest. */
  get hashed(): number {
    return this.position;
  }

  /**
   * Hashes `data`, the bytes at `start` just written, when they continue the hashed prefix and
   * no catch-up is reading the file; returns whether it did. Bytes refused here are left to
   * `catchUp`, which finds them on disk.
   */
  offer(start: number, data: Uint8Array): boolean {
    if (this.catching || start !== this.position || start + data.length > this.size) return false;
    this.digester.update(data);
    this.position += data.length;
    return true;
  }

  /**
   * Reads and hashes present bytes that continue the prefix, until the next missing byte.
   * Concurrent calls share one run. A short read rejects (the caller falls back to a full pass).
   */
  catchUp(presentEnd: PresentEnd, read: ReadFn): Promise<void> {
    this.catching ??= this.runCatchUp(presentEnd, read).finally(() => (this.catching = undefined));
    return this.catching;
  }

  /** The digest once every byte is hashed, else undefined. Call once. */
  result(): string | undefined {
    return this.position === this.size ? this.digester.digest() : undefined;
  }

  private async runCatchUp(presentEnd: PresentEnd, read: ReadFn): Promise<void> {
    let buffer: Buffer | undefined;
    for (;;) {
      const end = Math.min(this.size, presentEnd(this.position, this.position + CHUNK));
      if (end <= this.position) return;
      const length = end - this.position;
      buffer ??= Buffer.allocUnsafe(CHUNK);
      const n = await read(buffer, length, this.position);
      if (n !== length) throw new Error(`${n} bytes at ${this.position} instead of ${length}`);
      this.digester.update(buffer.subarray(0, n));
      this.position += n;
    }
  }
}
