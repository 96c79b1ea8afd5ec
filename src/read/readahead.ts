/**
 * Sequential-read detection and the read-ahead window, per open file. Pure data and functions.
 *
 * A handle keeps a few cursors (GDAL reads tiles from several threads, the kernel interleaves
 * its own readahead): a read that lands near a cursor's expected position continues it, any
 * other read starts a new cursor (replacing the least recently used one). A seek therefore resets
 * read-ahead for that stream only.
 *
 * A cursor becomes sequential once reads that continue it add up to `sequentialThreshold` bytes
 * (the read that starts a cursor does not count), so a reader that takes a header and then jumps
 * (gdalinfo) fetches nothing ahead. From then on the window works like
 * Linux readahead: the first batch is `initialWindow` bytes past the read position; when the
 * reader enters the last batch, the next batch, twice as large (up to `maxWindow`), is added after
 * it. A reader that stops after N bytes has caused at most about 2N bytes of read-ahead, and
 * memory stays bounded because the caller only has a few requests in flight per cursor.
 *
 * Before that threshold a miss still fetches a little more than it asked for, growing with the
 * cursor: twice the bytes it has read so far, up to `maxDemandFetch`. Why: the kernel splits a
 * GDAL tile read (~1.3 MB) into 128 KiB FUSE reads that arrive one after the other, and one
 * request per 256 KiB block cost a 4-tile window 25 serial round trips; growing from one block
 * keeps the first read of a cursor (gdalinfo's header, a random 16 KiB read) at one block.
 */

export interface ReadAheadConfig {
  initialWindow: number;
  maxWindow: number;
  /** Contiguous bytes a cursor must have read before read-ahead starts. */
  sequentialThreshold: number;
  /** How far (either way) a read may land from a cursor's position and still continue it. */
  tolerance: number;
  maxCursors: number;
  /** Largest demand fetch that a continuing cursor grows to (0: fetch only what is read). */
  maxDemandFetch: number;
}

export interface Cursor {
  /** Where the next sequential read is expected. */
  next: number;
  /** Start of the latest read that continued this cursor. */
  lastStart: number;
  /** Bytes read by reads that continued this cursor. */
  streak: number;
  /** Current batch size; 0 until the cursor is sequential. */
  window: number;
  /** Read-ahead is wanted up to here. */
  target: number;
  /** Start of the last batch: a read reaching it adds the next batch. */
  trigger: number;
  /** Read-ahead has been requested up to here. */
  requested: number;
  lastUsed: number;
  /** Read-ahead requests in flight for this cursor (kept by the caller). */
  inFlight: number;
}

/** The cursor that a read at `position` continues, or -1. */
export function findCursor(cursors: readonly Cursor[], position: number, tolerance: number): number {
  let best = -1;
  let bestDistance = Infinity;
  cursors.forEach((c, i) => {
    if (position < c.lastStart - tolerance || position > c.next + tolerance) return;
    const distance = Math.abs(position - c.next);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

/** Records a read in `cursors` (mutated) and returns the cursor it belongs to. */
export function trackRead(cursors: Cursor[], position: number, length: number, tick: number, config: ReadAheadConfig): Cursor {
  const end = position + length;
  const i = findCursor(cursors, position, config.tolerance);
  const existing = i >= 0 ? cursors[i] : undefined;
  if (existing) {
    existing.streak += length;
    existing.next = Math.max(existing.next, end);
    existing.lastStart = position;
    existing.lastUsed = tick;
    return existing;
  }
  const cursor: Cursor = { next: end, lastStart: position, streak: 0, window: 0, target: end, trigger: end, requested: end, lastUsed: tick, inFlight: 0 };
  if (cursors.length >= config.maxCursors) {
    let oldest = 0;
    cursors.forEach((c, j) => {
      if (c.lastUsed < (cursors[oldest]?.lastUsed ?? Infinity)) oldest = j;
    });
    cursors.splice(oldest, 1);
  }
  cursors.push(cursor);
  return cursor;
}

/**
 * Advances the cursor's window (mutated) and returns the byte range [start, end) that should be
 * requested now, or undefined. The caller reports what it did request with `noteRequested`.
 */
export function wantedReadAhead(c: Cursor, size: number, config: ReadAheadConfig): { start: number; end: number } | undefined {
  if (c.streak < config.sequentialThreshold || c.next >= size) return undefined;
  if (c.window === 0 || c.target < c.next) {
    c.window = c.window === 0 ? config.initialWindow : c.window;
    c.trigger = c.next;
    c.target = Math.min(size, c.next + c.window);
  } else if (c.next >= c.trigger && c.target < size) {
    c.trigger = c.target;
    c.window = Math.min(config.maxWindow, c.window * 2);
    c.target = Math.min(size, c.target + c.window);
  }
  const start = Math.max(c.requested, c.next);
  return start < c.target ? { start, end: c.target } : undefined;
}

export function noteRequested(c: Cursor, upTo: number): void {
  c.requested = Math.max(c.requested, upTo);
}

/**
 * How many bytes from `position` a missing read of `length` bytes should fetch: the read itself,
 * or twice the cursor's streak (bytes read by reads that continued it, this one included) when
 * larger, capped at `maxDemandFetch`. The caller stops earlier at blocks already present or in
 * flight.
 */
export function demandExtent(c: Cursor, length: number, config: ReadAheadConfig): number {
  return Math.max(length, Math.min(2 * c.streak, config.maxDemandFetch));
}
