/**
 * Recycled request buffers. Why: on this path a fresh multi-MiB Buffer per Range request costs
 * more CPU in page faults (the allocator hands large blocks back to the kernel on free) than
 * parsing the HTTP answer; buffers whose bytes are already in the cache file can be reused.
 * Only `size`-byte buffers are pooled, and at most `maxFree` are kept, so memory stays bounded.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Memory this pool allocated: only that may come back. */
  private readonly own = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly size: number,
    readonly maxFree: number,
  ) {}

  /** A buffer of exactly `length` bytes (a view of a pooled one when it fits); contents undefined. */
  take(length: number): Buffer {
    if (length > this.size) return Buffer.allocUnsafeSlow(length);
    let buf = this.free.pop();
    if (!buf) {
      buf = Buffer.allocUnsafeSlow(this.size);
      this.own.add(buf.buffer);
    }
    return length === this.size ? buf : buf.subarray(0, length);
  }

  /** Gives a buffer from `take` back; the caller must hold no other reference to its bytes. */
  give(buf: Buffer): void {
    if (!this.own.has(buf.buffer) || this.free.length >= this.maxFree || this.free.some((b) => b.buffer === buf.buffer)) return;
    this.free.push(Buffer.from(buf.buffer, 0, this.size));
  }

  get freeCount(): number {
    return this.free.length;
  }
}
