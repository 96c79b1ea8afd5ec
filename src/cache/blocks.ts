/**
 * Block arithmetic and the set of blocks of one blob that are present in the cache. Pure: no I/O.
 *
 * A blob of `size` bytes is cut into blocks of `blockSize` bytes (the last one shorter). The cache
 * records presence per block; readers fetch runs of blocks.
 */

/** An inclusive range of block indices. */
export interface BlockRange {
  first: number;
  last: number;
}

export function blockCountFor(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

/** The blocks that bytes [offset, offset + length) touch. `length` must be > 0. */
export function blocksSpanning(offset: number, length: number, blockSize: number): BlockRange {
  return { first: Math.floor(offset / blockSize), last: Math.floor((offset + length - 1) / blockSize) };
}

/** Byte range [start, end) of blocks first..last of a blob of `size` bytes. */
export function byteRangeOf(range: BlockRange, blockSize: number, size: number): { start: number; end: number } {
  return { start: range.first * blockSize, end: Math.min(size, (range.last + 1) * blockSize) };
}

/** Bytes in block `index` of a blob of `size` bytes (the last block may be shorter). */
export function blockLength(index: number, blockSize: number, size: number): number {
  return Math.max(0, Math.min(blockSize, size - index * blockSize));
}

/** A fixed-size bitmap of present blocks, with a running count so "all present" is O(1). */
export class BlockSet {
  private readonly bits: Uint8Array;
  private present = 0;

  constructor(readonly blockCount: number) {
    this.bits = new Uint8Array(Math.ceil(blockCount / 8));
  }

  get count(): number {
    return this.present;
  }

  get full(): boolean {
    return this.present === this.blockCount;
  }

  has(index: number): boolean {
    return ((this.bits[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  /** Marks a block present; returns true when it was not before. Out-of-range indices are ignored. */
  add(index: number): boolean {
    if (index < 0 || index >= this.blockCount || this.has(index)) return false;
    this.bits[index >> 3] = (this.bits[index >> 3] ?? 0) | (1 << (index & 7));
    this.present++;
    return true;
  }

  /** True when every block of first..last is present. */
  hasRange(first: number, last: number): boolean {
    if (this.present === this.blockCount) return true;
    for (let i = first; i <= last; i++) if (!this.has(i)) return false;
    return true;
  }

  clear(): void {
    this.bits.fill(0);
    this.present = 0;
  }
}
