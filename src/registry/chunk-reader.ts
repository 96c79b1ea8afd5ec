/**
 * Reads a stream in pieces of a chosen size (the chunks of a chunked upload), holding one piece
 * in memory at a time so a chunk can be sent with a known Content-Length.
 */
import type { Readable } from 'node:stream';

export class ChunkReader {
  private readonly iterator: AsyncIterator<unknown>;
  private pending: Buffer | undefined;
  private ended = false;

  constructor(private readonly stream: Readable) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** Up to `size` bytes: fewer only at the end of the stream, empty once it has ended. */
  async read(size: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < size) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        if (this.ended) break;
        const next = await this.iterator.next();
        if (next.done) {
          this.ended = true;
          break;
        }
        chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      }
      const take = Math.min(size - have, chunk.length);
      parts.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      have += take;
      if (take < chunk.length) this.pending = chunk.subarray(take);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
  }

  /** Stops reading and releases the stream (closing its file). */
  close(): void {
    if (!this.stream.destroyed) this.stream.destroy();
  }
}
