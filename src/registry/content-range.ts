/**
 * Byte ranges for blob range reads: what to ask for (clamped to the blob) and what the
 * `Content-Range` of an answer says. Pure.
 */

/** Inclusive byte range as HTTP writes it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The closed range covering `length` bytes from `offset` of a blob of `size` bytes; undefined when empty. */
export function clampRange(size: number, offset: number, length: number): ByteRange | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid range: offset ${offset}, length ${length}`);
  }
  if (offset >= size || length === 0) return undefined;
  return { start: offset, end: Math.min(size, offset + length) - 1 };
}

export function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.end}`;
}

export type ContentRange =
  | { kind: 'range'; start: number; end: number; total: number | undefined }
  | { kind: 'unsatisfied'; total: number | undefined };

/** `bytes a-b/total`, `bytes a-b/*` or `bytes *\/total`; undefined when it does not parse. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (m[1] === undefined) return { kind: 'unsatisfied', total };
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { kind: 'range', start, end, total };
}

/** The registry's `Range: 0-N` on an upload session -> bytes it holds (N+1); `0-0` is read as 0. */
export function uploadedBytes(range: string | undefined): number | undefined {
  if (range === undefined) return undefined;
  const m = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(range);
  if (!m) return undefined;
  const end = Number(m[1]);
  // distribution writes 0-0 for an empty session as well as for one byte; chunks are never one byte.
  return end === 0 ? 0 : end + 1;
}
