/**
 * Page-aligned buffers for O_DIRECT writes, which need the memory address, the file offset and
 * the length aligned to the device's logical block size (512 or 4096 bytes). Node has no aligned
 * allocation (Buffer memory comes from malloc, 16 bytes past a page boundary), but V8 reserves a
 * WebAssembly.Memory with mmap, so its bytes start on a page boundary: views at multiples of
 * 4096 into it are aligned.
 */

/** The alignment used for direct I/O: a page, which covers every common logical block size. */
export const DIRECT_ALIGNMENT = 4096;

const WASM_PAGE = 65536;

// Node has WebAssembly; the TypeScript libs in use (no DOM) do not declare it.
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

/** `count` buffers of `size` bytes (a multiple of DIRECT_ALIGNMENT), each starting page-aligned. */
export function alignedBuffers(count: number, size: number): Buffer[] {
  if (size <= 0 || size % DIRECT_ALIGNMENT !== 0) throw new RangeError(`aligned buffer size ${size} is not a positive multiple of ${DIRECT_ALIGNMENT}`);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((count * size) / WASM_PAGE) });
  return Array.from({ length: count }, (_, i) => Buffer.from(memory.buffer, i * size, size));
}

/** `n` rounded up to a multiple of DIRECT_ALIGNMENT. */
export function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
}
