/**
 * BlobReader: `read(buffer, length, position)` on a blob of a given digest, served from the cache
 * and fetched on a miss.
 *
 * - The unit of caching is the cache's block (256 KiB by default); the unit of fetching is a run
 *   of consecutive missing blocks, merged into one closed Range request of at most
 *   `maxRequestSize`. The first read of a cursor fetches only the blocks it touches; a miss that
 *   continues a cursor fetches up to twice what it has read (`maxDemandFetch`).
 * - Blocks being fetched are in a per-blob in-flight map: readers of the same block, from any
 *   handle, wait for the one request.
 * - Each handle tracks a few sequential cursors (./readahead.ts); a sequential cursor keeps up
 *   to `maxInFlight` read-ahead requests going, and the whole reader at most
 *   `maxTotalReadAhead`, so memory stays bounded. A source that streams (streamBlobRange) gets
 *   read-ahead requests of up to `maxStreamRequestSize`, written to the cache in ~2 MiB batches
 *   as they arrive; otherwise bodies of at most `maxRequestSize` are buffered, then written.
 * - A cached read is one positional read from the cache file into the caller's buffer, with no
 *   SQLite and no network; synchronous for blocks this process wrote (in the page cache). Blobs up to `smallBlobSize` are fetched whole and verified before any
 *   byte is served; larger ones are verified once their last block arrives (./../cache).
 * - A source with `blobPath` (an OCI layout) is read in place, without the cache.
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import { DigestMismatchError, InvalidArgumentError, InvalidContentError, type OcifsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { FetchOptions } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';
import { parseDigest, verifyBytes } from '../ref/digest.js';
import type { BlobEntry, Cache } from '../cache/index.js';
import { blocksSpanning, byteRangeOf, type BlockRange } from '../cache/blocks.js';
import { createReadCounters, type ReadCounters } from './counters.js';
import { BufferPool } from './buffer-pool.js';
import { OperationGate } from './gate.js';
import { openLocalBlob } from './local-blob.js';
import { missingRuns } from './plan.js';
import { demandExtent, noteRequested, trackRead, wantedReadAhead, type Cursor, type ReadAheadConfig } from './readahead.js';

/** Where blob bytes come from; a ReadableTarget satisfies it. */
export interface RangeSource {
  fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options?: FetchOptions): Promise<Buffer>;
  /**
   * Optional: the same bytes written into `target` (as many as fit, clamped to the blob), their
   * count returned. When present the reader recycles its request buffers (./buffer-pool.ts).
   */
  fetchBlobRangeInto?(descriptor: Descriptor, offset: number, target: Buffer, options?: FetchOptions): Promise<number>;
  /**
   * Optional: the same bytes handed to `sink` in order as they arrive (pieces the sink may keep),
   * their count returned; a sink's promise pauses the answer. When present, read-ahead requests
   * are streamed into the cache in batches: they can be large (few requests, little registry
   * CPU) while memory stays bounded by the batches, not by the request size.
   */
  streamBlobRange?(
    descriptor: Descriptor,
    offset: number,
    length: number,
    sink: (piece: Buffer) => void | Promise<void>,
    options?: FetchOptions,
  ): Promise<number>;
  /**
   * The verified whole blob as a stream, used for small blobs. Optional so that sources that only
   * range-read also work: small blobs are then fetched with one Range request and hashed.
   */
  fetchBlob?(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;
  /**
   * Optional: told when bytes it served for `digest` failed verification once the blob was
   * whole, so it can stop trusting where they came from (a pull-through mirror is benched).
   */
  reportBadContent?(digest: string): void;
  /** A local OCI layout has one: the blob's file is read in place, without the cache. */
  blobPath?(digest: string): string;
}

export interface ReaderOptions {
  cache: Cache;
  logger?: Logger;
  /** Must equal the cache's block size when given (the cache directory fixes it). */
  blockSize?: number;
  /** Largest Range request, in bytes; default 8 MiB. */
  maxRequestSize?: number;
  /**
   * Largest streamed read-ahead request (sources with streamBlobRange), in bytes; default
   * 32 MiB. The registry spends ~10 ms of CPU per request whatever its size.
   */
  maxStreamRequestSize?: number;
  /** Read-ahead requests in flight per sequential cursor; default 4. */
  maxInFlight?: number;
  /** Largest read-ahead window per cursor, in bytes; default 64 MiB. */
  maxReadAhead?: number;
  /** Blobs up to this size are fetched whole and verified before serving; default 1 MiB. */
  smallBlobSize?: number;
  /** Read-ahead requests in flight across all handles; default 8. */
  maxTotalReadAhead?: number;
  /** First read-ahead batch, in bytes; default twice sequentialThreshold, at least 1 MiB. */
  initialReadAhead?: number;
  /** Contiguous bytes read before read-ahead starts; default 512 KiB. */
  sequentialThreshold?: number;
  /** Sequential cursors per handle; default 4. */
  maxCursors?: number;
  /**
   * A miss on a cursor that has been read contiguously fetches up to twice those bytes, at most
   * this many (./readahead.ts demandExtent); default 2 MiB, 0 fetches only the blocks read.
   */
  maxDemandFetch?: number;
  counters?: ReadCounters;
}

export interface BlobHandle {
  /** Reads up to `length` bytes at `position` into `buffer` (from its start); 0 at or past the end. */
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  /**
   * The same read done synchronously when every byte is in a verified local file (a complete
   * cached blob, a layout blob), else undefined without doing anything (the caller uses read).
   * One pread straight into `buffer`; it may wait for the disk (the FUSE adapter serves warm
   * reads this way).
   */
  readSync(buffer: Buffer, length: number, position: number): number | undefined;
  /** Waits for reads in progress, then releases the blob (unpins it). Idempotent. */
  close(): Promise<void>;
}

const KiB = 1024;
const EMPTY = Buffer.alloc(0);
const MiB = 1024 * KiB;

interface Settings {
  blockSize: number;
  maxRequestBlocks: number;
  maxStreamBlocks: number;
  maxInFlight: number;
  maxTotalReadAhead: number;
  smallBlobSize: number;
  readAhead: ReadAheadConfig;
}

/**
 * A Range response for blocks first.. of a blob; `persisted` false when the cache write failed.
 * A persisted run's `data` may be empty: its buffer went back to the pool.
 */
interface FetchedRun {
  first: number;
  data: Buffer;
  persisted: boolean;
}

interface InFlight {
  promise: Promise<FetchedRun>;
  readAhead: boolean;
  /** Streamed runs store blocks in order: settles once `block` is stored, or the run failed. */
  until?: (block: number) => Promise<FetchedRun>;
}

/** A streamed answer is written to the cache file in batches of about this many bytes. */
const STREAM_BATCH = 2 * 1024 * 1024;
/** ... or of this many pieces, well below writev's IOV_MAX. */
const STREAM_BATCH_PIECES = 256;

/** The state shared by every handle of one blob in this reader. */
class BlobSession {
  readonly inflight = new Map<number, InFlight>();
  readonly abort = new AbortController();
  handles = 0;
  whole: Promise<void> | undefined;

  constructor(
    readonly entry: BlobEntry,
    readonly descriptor: Descriptor,
  ) {
    // Every request of the blob listens to this signal: read-ahead plus the demand reads of many
    // handles pass Node's default of 10 in normal use, which is not a leak.
    setMaxListeners(0, this.abort.signal);
  }
}

export class BlobReader {
  readonly counters: ReadCounters;
  private readonly cache: Cache;
  private readonly logger: Logger;
  private readonly settings: Settings;
  private readonly sessions = new Map<string, BlobSession>();
  private readonly buffers: BufferPool;
  private readAheadInFlight = 0;
  private tick = 0;

  constructor(options: ReaderOptions) {
    this.cache = options.cache;
    this.logger = options.logger ?? silentLogger;
    this.counters = options.counters ?? createReadCounters();
    const blockSize = this.cache.blockSize;
    if (options.blockSize !== undefined && options.blockSize !== blockSize) {
      throw new InvalidArgumentError(`block size ${options.blockSize} differs from the cache's ${blockSize}`, {
        hint: 'the cache directory fixes the block size; use another --cache-dir to change it',
      });
    }
    const positive = (name: string, value: number | undefined, fallback: number) => {
      const v = value ?? fallback;
      if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`invalid ${name} ${String(value)}: expected a positive integer`);
      return v;
    };
    const maxRequestSize = positive('maxRequestSize', options.maxRequestSize, 8 * MiB);
    const sequentialThreshold = options.sequentialThreshold ?? 512 * KiB;
    const maxDemandFetch = options.maxDemandFetch ?? 2 * MiB;
    if (!Number.isSafeInteger(maxDemandFetch) || maxDemandFetch < 0) {
      throw new InvalidArgumentError(`invalid maxDemandFetch ${String(options.maxDemandFetch)}: expected an integer >= 0`);
    }
    this.settings = {
      blockSize,
      maxRequestBlocks: Math.max(1, Math.floor(maxRequestSize / blockSize)),
      maxStreamBlocks: Math.max(1, Math.floor(positive('maxStreamRequestSize', options.maxStreamRequestSize, 32 * MiB) / blockSize)),
      maxInFlight: positive('maxInFlight', options.maxInFlight, 4),
      maxTotalReadAhead: positive('maxTotalReadAhead', options.maxTotalReadAhead, 8),
      smallBlobSize: options.smallBlobSize ?? 1 * MiB,
      readAhead: {
        // A stream that proved sequential over T bytes starts with 2T ahead (still the
        // "at most ~2N read ahead" bound): growing from 1 MiB cost a cold 256 MiB read 10-30%.
        initialWindow: positive('initialReadAhead', options.initialReadAhead, Math.max(1 * MiB, 2 * sequentialThreshold)),
        maxWindow: positive('maxReadAhead', options.maxReadAhead, 64 * MiB),
        sequentialThreshold,
        tolerance: Math.max(256 * KiB, blockSize),
        maxCursors: positive('maxCursors', options.maxCursors, 4),
        maxDemandFetch: Math.min(maxRequestSize, maxDemandFetch),
      },
    };
    // Free buffers kept beyond those in use: one cursor's worth of read-ahead.
    this.buffers = new BufferPool(this.settings.maxRequestBlocks * blockSize, this.settings.maxInFlight);
  }

  /**
   * Opens a blob for reading; the handle stays bound to this digest. Pins the blob in the cache
   * until the handle is closed. A source with `blobPath` is read in place.
   */
  async open(descriptor: Descriptor, source: RangeSource): Promise<BlobHandle> {
    parseDigest(descriptor.digest);
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
      throw new InvalidContentError(`blob ${descriptor.digest} has an invalid size ${String(descriptor.size)}`);
    }
    if (source.blobPath) return openLocalBlob(source.blobPath(descriptor.digest), descriptor, this.counters);

    let session = this.sessions.get(descriptor.digest);
    if (session && !session.entry.failure) {
      if (session.descriptor.size !== descriptor.size) {
        throw new DigestMismatchError(descriptor.digest, `a descriptor of ${descriptor.size} bytes for a blob of ${session.descriptor.size}`, 'descriptor size');
      }
    } else {
      session = new BlobSession(this.cache.blobs.acquire(descriptor), descriptor);
      this.sessions.set(descriptor.digest, session);
      // Every block arrived but the hash never finished (a daemon killed while verifying): no
      // write will come to trigger it, so verify now.
      if (session.entry.allPresent && !session.entry.complete && session.entry.size > 0) this.verifyInBackground(session.entry, source);
    }
    session.handles++;
    return new CachedBlobHandle(this, session, source);
  }

  /** Aborts every fetch in progress. Handles should be closed first. */
  close(): void {
    for (const session of this.sessions.values()) session.abort.abort();
  }

  /** @internal */
  nextTick(): number {
    return ++this.tick;
  }

  /** @internal */
  async readCached(session: BlobSession, source: RangeSource, cursors: Cursor[], buffer: Buffer, length: number, position: number): Promise<number> {
    const { entry } = session;
    if (entry.failure) throw entry.failure;
    const n = Math.min(length, buffer.length, entry.size - position);
    if (n <= 0 || position < 0) return 0;

    if (entry.complete) return this.serve(entry, buffer, n, position, true);

    if (entry.size <= this.settings.smallBlobSize) {
      await this.fetchWhole(session, source);
      return this.serve(entry, buffer, n, position, false);
    }

    const { first, last } = blocksSpanning(position, n, this.settings.blockSize);
    const cursor = trackRead(cursors, position, n, this.nextTick(), this.settings.readAhead);
    let hit = entry.hasBlocks(first, last);
    let runs: FetchedRun[] = [];
    if (!hit) {
      entry.refresh(first, last);
      hit = entry.hasBlocks(first, last);
    }
    if (!hit) {
      const extent = Math.min(demandExtent(cursor, n, this.settings.readAhead), entry.size - position);
      const demand = this.awaitBlocks(session, source, first, last, blocksSpanning(position, extent, this.settings.blockSize).last);
      this.startReadAhead(session, source, cursor);
      runs = await demand;
      if (entry.failure) throw entry.failure;
    } else {
      this.startReadAhead(session, source, cursor);
    }
    if (entry.hasBlocks(first, last)) return this.serve(entry, buffer, n, position, hit);
    return this.assemble(entry, runs, buffer, n, position);
  }

  /** @internal The synchronous read of a complete blob; undefined when it is not (yet). */
  readCachedSync(session: BlobSession, buffer: Buffer, length: number, position: number): number | undefined {
    const { entry } = session;
    if (!entry.complete || entry.failure || position < 0) return undefined;
    const n = Math.min(length, buffer.length, entry.size - position);
    if (n <= 0) return 0;
    const got = entry.readSync(buffer, 0, n, position);
    this.counters.cacheHits++;
    this.counters.bytesServed += got;
    return got;
  }

  /** @internal */
  async release(session: BlobSession): Promise<void> {
    session.handles--;
    if (session.handles > 0) return;
    session.abort.abort();
    if (this.sessions.get(session.entry.digest) === session) this.sessions.delete(session.entry.digest);
    session.entry.release();
  }

  private async serve(entry: BlobEntry, buffer: Buffer, n: number, position: number, hit: boolean): Promise<number> {
    const got = entry.readWrittenSync(buffer, 0, n, position) ?? (await entry.read(buffer, 0, n, position));
    if (hit) this.counters.cacheHits++;
    else this.counters.cacheMisses++;
    this.counters.bytesServed += got;
    return got;
  }

  /** Serves a read whose bytes could not all be stored (cache write failed): from the responses. */
  private async assemble(entry: BlobEntry, runs: FetchedRun[], buffer: Buffer, n: number, position: number): Promise<number> {
    const bs = this.settings.blockSize;
    let p = position;
    while (p < position + n) {
      const block = Math.floor(p / bs);
      const end = Math.min(position + n, (block + 1) * bs);
      const run = runs.find((r) => block >= r.first && block < r.first + Math.ceil(r.data.length / bs));
      if (run) {
        const base = run.first * bs;
        run.data.copy(buffer, p - position, p - base, end - base);
      } else if (entry.hasBlock(block)) {
        await entry.read(buffer, p - position, end - p, p);
      } else {
        throw new InvalidContentError(`block ${block} of blob ${entry.digest} is neither cached nor fetched`);
      }
      p = end;
    }
    this.counters.cacheMisses++;
    this.counters.bytesServed += n;
    return n;
  }

  /**
   * Fetches the missing blocks of first..last (joining fetches already in flight) and waits for
   * them; the fetch runs on past `last` up to `extendTo` while blocks are missing, without
   * waiting for those. A failed fetch that another reader started for read-ahead is retried once
   * as ours.
   */
  private async awaitBlocks(session: BlobSession, source: RangeSource, first: number, last: number, extendTo = last): Promise<FetchedRun[]> {
    const { entry } = session;
    for (let attempt = 0; ; attempt++) {
      const available = (b: number) => entry.hasBlock(b) || session.inflight.has(b);
      let stop = last;
      if (!available(last)) while (stop < extendTo && !available(stop + 1)) stop++;
      for (const run of missingRuns(first, stop, available, this.settings.maxRequestBlocks)) {
        this.startFetch(session, source, run, false);
      }
      // Per fetch, the last block we need of it (a streamed run settles block by block).
      const waits = new Map<InFlight, number>();
      for (let b = first; b <= last; b++) {
        const f = session.inflight.get(b);
        if (f && !entry.hasBlock(b)) waits.set(f, b);
      }
      const flights = [...waits.keys()];
      const settled = await Promise.allSettled(flights.map((f) => (f.until ? f.until(waits.get(f) ?? last) : f.promise)));
      const failures = flights.filter((_, i) => settled[i]?.status === 'rejected');
      if (failures.length === 0) {
        return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      }
      const failure = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
      if (entry.failure) throw entry.failure;
      if (attempt > 0 || failures.some((f) => !f.readAhead)) throw failure.reason;
    }
  }

  /** Tops up the cursor's read-ahead, within the per-cursor and reader-wide request limits. */
  private startReadAhead(session: BlobSession, source: RangeSource, cursor: Cursor): void {
    const { entry } = session;
    const wanted = wantedReadAhead(cursor, entry.size, this.settings.readAhead);
    if (!wanted) return;
    const bs = this.settings.blockSize;
    const span = blocksSpanning(wanted.start, wanted.end - wanted.start, bs);
    let slots = Math.min(this.settings.maxInFlight - cursor.inFlight, this.settings.maxTotalReadAhead - this.readAheadInFlight);
    const available = (b: number) => entry.hasBlock(b) || session.inflight.has(b);
    let covered = wanted.end;
    const maxBlocks = source.streamBlobRange ? this.settings.maxStreamBlocks : this.settings.maxRequestBlocks;
    for (const run of missingRuns(span.first, span.last, available, maxBlocks)) {
      if (slots <= 0) {
        covered = run.first * bs;
        break;
      }
      slots--;
      this.startFetch(session, source, run, true, cursor);
    }
    noteRequested(cursor, covered);
  }

  /** Sends one Range request for a run and registers it in the in-flight map. */
  private startFetch(session: BlobSession, source: RangeSource, run: BlockRange, readAhead: boolean, cursor?: Cursor): void {
    if (readAhead && source.streamBlobRange) return this.startStreamFetch(session, source, run, cursor);
    const { entry } = session;
    const { start, end } = byteRangeOf(run, this.settings.blockSize, entry.size);
    if (readAhead) this.readAheadInFlight++;
    entry.retain();
    const flight: InFlight = { promise: undefined as unknown as Promise<FetchedRun>, readAhead };
    if (cursor) cursor.inFlight++;
    flight.promise = (async (): Promise<FetchedRun> => {
      try {
        this.counters.requests++;
        const data = await this.fetchRange(session, source, start, end - start);
        this.counters.bytesFetched += data.length;
        let persisted = true;
        try {
          await entry.writeBlocks(run.first, data);
        } catch (err) {
          if (entry.failure) {
            if (source.fetchBlobRangeInto) this.buffers.give(data);
            throw entry.failure;
          }
          persisted = false;
          this.logger.warn('could not store fetched bytes in the cache; serving them from memory', { digest: entry.digest, error: err });
        }
        if (persisted && entry.allPresent && !entry.complete) this.verifyInBackground(entry, source);
        if (!persisted || !source.fetchBlobRangeInto) return { first: run.first, data, persisted };
        // The bytes are in the cache file: readers are served from there, the buffer is reused.
        this.buffers.give(data);
        return { first: run.first, data: EMPTY, persisted };
      } finally {
        for (let b = run.first; b <= run.last; b++) if (session.inflight.get(b) === flight) session.inflight.delete(b);
        if (readAhead) this.readAheadInFlight--;
        if (cursor) cursor.inFlight--;
        entry.release();
      }
    })();
    // Read-ahead nobody waits for must not surface as an unhandled rejection.
    flight.promise.catch((err: unknown) => {
      if (readAhead && !session.abort.signal.aborted) this.logger.debug('read-ahead failed', { digest: entry.digest, error: err as Error });
    });
    for (let b = run.first; b <= run.last; b++) session.inflight.set(b, flight);
  }

  /**
   * A read-ahead run streamed into the cache: pieces are gathered into batches of whole blocks,
   * each written with one writev and recorded, and waiters of those blocks are let go, while the
   * rest of the answer is still arriving. No copy of the bytes in JS. A failed batch write fails
   * the run: its readers retry with a buffered request, which can serve from memory.
   */
  private startStreamFetch(session: BlobSession, source: RangeSource, run: BlockRange, cursor?: Cursor): void {
    const { entry } = session;
    const bs = this.settings.blockSize;
    const { start, end } = byteRangeOf(run, bs, entry.size);
    this.readAheadInFlight++;
    entry.retain();
    if (cursor) cursor.inFlight++;
    const done: FetchedRun = { first: run.first, data: EMPTY, persisted: true };
    let stored = run.first; // blocks before this one are in the cache
    let failure: unknown;
    const waiters: { block: number; resolve: (r: FetchedRun) => void; reject: (err: unknown) => void }[] = [];
    const flight: InFlight = {
      promise: undefined as unknown as Promise<FetchedRun>,
      readAhead: true,
      until: (block) => {
        if (block < stored) return Promise.resolve(done);
        if (failure !== undefined) return Promise.reject(failure);
        return new Promise((resolve, reject) => waiters.push({ block, resolve, reject }));
      },
    };
    let pieces: Buffer[] = [];
    let pending = 0;
    const flush = async (final: boolean): Promise<void> => {
      const length = final ? pending : pending - (pending % bs);
      if (length === 0) return;
      const batch: Buffer[] = [];
      let need = length;
      let used = 0;
      while (need > 0) {
        const piece = pieces[used] as Buffer;
        if (piece.length <= need) {
          batch.push(piece);
          need -= piece.length;
          used++;
        } else {
          batch.push(piece.subarray(0, need));
          pieces[used] = piece.subarray(need);
          need = 0;
        }
      }
      pieces = pieces.slice(used);
      pending -= length;
      const count = Math.ceil(length / bs);
      await entry.writeBlocks(stored, batch);
      this.counters.bytesFetched += length;
      for (let b = stored; b < stored + count; b++) if (session.inflight.get(b) === flight) session.inflight.delete(b);
      stored += count;
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i] as (typeof waiters)[number];
        if (w.block < stored) {
          waiters.splice(i, 1);
          w.resolve(done);
        }
      }
    };
    const sink = (piece: Buffer): Promise<void> | undefined => {
      pieces.push(piece);
      pending += piece.length;
      return pending >= STREAM_BATCH || pieces.length >= STREAM_BATCH_PIECES ? flush(false) : undefined;
    };
    flight.promise = (async (): Promise<FetchedRun> => {
      try {
        this.counters.requests++;
        const got = await (source.streamBlobRange as NonNullable<RangeSource['streamBlobRange']>)(session.descriptor, start, end - start, sink, {
          signal: session.abort.signal,
        });
        if (got !== end - start) {
          throw new DigestMismatchError(entry.digest, `${got} bytes at offset ${start} instead of ${end - start}`, 'blob range');
        }
        await flush(true);
        if (entry.allPresent && !entry.complete) this.verifyInBackground(entry, source);
        return done;
      } catch (err) {
        failure = entry.failure ?? err;
        for (const w of waiters.splice(0)) w.reject(failure);
        throw failure;
      } finally {
        for (let b = run.first; b <= run.last; b++) if (session.inflight.get(b) === flight) session.inflight.delete(b);
        this.readAheadInFlight--;
        if (cursor) cursor.inFlight--;
        entry.release();
      }
    })();
    flight.promise.catch((err: unknown) => {
      if (!session.abort.signal.aborted) this.logger.debug('read-ahead failed', { digest: entry.digest, error: err as Error });
    });
    for (let b = run.first; b <= run.last; b++) session.inflight.set(b, flight);
  }

  /** Exactly `length` bytes at `start`: into a pooled buffer when the source can fill one. */
  private async fetchRange(session: BlobSession, source: RangeSource, start: number, length: number): Promise<Buffer> {
    const options = { signal: session.abort.signal };
    let data: Buffer;
    let got: number;
    if (source.fetchBlobRangeInto) {
      data = this.buffers.take(length);
      try {
        got = await source.fetchBlobRangeInto(session.descriptor, start, data, options);
      } catch (err) {
        this.buffers.give(data);
        throw err;
      }
    } else {
      data = await source.fetchBlobRange(session.descriptor, start, length, options);
      got = data.length;
    }
    if (got !== length) {
      throw new DigestMismatchError(session.entry.digest, `${got} bytes at offset ${start} instead of ${length}`, 'blob range');
    }
    return data;
  }

  private verifyInBackground(entry: BlobEntry, source: RangeSource): void {
    entry.verify().catch((err: OcifsError) => {
      // A mismatch is logged by the cache and fails the entry; the source learns where bad bytes
      // came from. Anything else is worth a warning.
      if (err instanceof DigestMismatchError) source.reportBadContent?.(entry.digest);
      else this.logger.warn('could not verify a cached blob', { digest: entry.digest, error: err });
    });
  }

  /** Makes a small blob complete, fetched whole and verified, before any of it is served. */
  private fetchWhole(session: BlobSession, source: RangeSource): Promise<void> {
    const { entry } = session;
    const signal = session.abort.signal;
    session.whole ??= (async () => {
      try {
        this.counters.requests++;
        if (source.fetchBlob) {
          const fetched = await entry.ensureComplete({ fetchBlob: source.fetchBlob.bind(source) }, { signal });
          if (fetched) this.counters.bytesFetched += entry.size;
          return;
        }
        if (entry.size === 0) {
          await entry.ensureComplete({ fetchBlob: () => Promise.reject(new Error('unreachable')) });
          return;
        }
        const data = await source.fetchBlobRange(session.descriptor, 0, entry.size, { signal });
        this.counters.bytesFetched += data.length;
        try {
          verifyBytes(data, entry, 'blob');
        } catch (err) {
          source.reportBadContent?.(entry.digest);
          throw err;
        }
        await entry.writeBlocks(0, data);
        await entry.verify();
      } finally {
        session.whole = undefined;
      }
    })();
    return session.whole;
  }
}

class CachedBlobHandle implements BlobHandle {
  private readonly gate = new OperationGate();
  private readonly cursors: Cursor[] = [];

  constructor(
    private readonly reader: BlobReader,
    private readonly session: BlobSession,
    private readonly source: RangeSource,
  ) {}

  read(buffer: Buffer, length: number, position: number): Promise<number> {
    return this.gate.run(() => this.reader.readCached(this.session, this.source, this.cursors, buffer, length, position));
  }

  readSync(buffer: Buffer, length: number, position: number): number | undefined {
    // A closed handle: undefined, and read() gives the error.
    if (this.gate.closed) return undefined;
    return this.reader.readCachedSync(this.session, buffer, length, position);
  }

  async close(): Promise<void> {
    if (await this.gate.close()) await this.reader.release(this.session);
  }
}
