/**
 * Blob bytes on disk (`blobs/<alg>/<hex>`, a sparse file with every byte at its own offset) and
 * which blocks of them are present (SQLite), shared safely by several processes.
 *
 * Rules that make a kill at any instant safe:
 * - bytes are written to the data file first, the blocks recorded in SQLite after: a block never
 *   recorded is fetched again, a block recorded is on disk;
 * - a blob is marked complete only after its whole file hashed to its digest; a mismatch purges
 *   the blob (rows and file) and fails every read of it in progress;
 * - a blob open anywhere is pinned (digest + pid + process start time), and eviction, clear and
 *   prune never remove a pinned blob of a live process;
 * - files are created, and removed, inside the same write transaction as their rows, so no
 *   process ever sees a row whose file another process is about to unlink.
 *
 * While a blob is open its state (present blocks, complete flag) lives in memory, so a cached read
 * touches neither SQLite nor the network; SQLite is consulted again only on a miss (another
 * daemon may have fetched the block meanwhile).
 */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { DigestMismatchError, InvalidContentError, LocalIOError, localIOError, type OcifsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { FetchOptions } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';
import { digestOf, Digester, parseDigest, type DigestAlgorithm } from '../ref/digest.js';
import type { BlobIndex } from './blob-index.js';
import { blockCountFor, blockLength, BlockSet } from './blocks.js';
import { chooseVictims } from './eviction.js';
import { hashFile, readAt, readAtSync, syncData, writeAt, writeChunksAt } from './file-io.js';
import { isProcessAlive } from './liveness.js';
import { RunningDigest } from './running-digest.js';

/** What the store needs of a blob: its digest and size (a Descriptor has both). */
export type BlobDescriptor = Pick<Descriptor, 'digest' | 'size'> & Partial<Descriptor>;

/** Where `ensureComplete` gets a whole blob from (a ReadableTarget satisfies it). */
export interface WholeBlobSource {
  fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;
}

export interface BlobInfo {
  digest: string;
  size: number;
  complete: boolean;
  bytesPresent: number;
  lastAccess: number;
}

export interface PruneResult {
  evictedBlobs: number;
  freedBytes: number;
  /** Bytes present after pruning. */
  remainingBytes: number;
  /** Blobs that would have been evicted but are open somewhere. */
  skippedPinned: number;
}

/** What the store shares with Cache; not part of the public API. */
export interface StoreContext {
  readonly dir: string;
  readonly index: BlobIndex;
  readonly blockSize: number;
  readonly maxSize: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly pid: number;
  readonly token: string;
  /** Identifies this Cache instance in pin rows (several may be open in one process). */
  readonly owner: string;
  isClosed(): boolean;
}

const WRITE_BATCH = 1024 * 1024;
/** Automatic eviction goes below the limit by this fraction, so it does not run on every write. */
const LOW_WATER = 0.9;

export class BlobStore {
  /** The live entry per digest in this process (a purged entry is replaced, not reused). */
  private readonly entries = new Map<string, BlobEntry>();
  /** Open count per digest in this process: the pin row exists while it is > 0. */
  private readonly pinCounts = new Map<string, number>();
  /** Present-block sets of recently closed blobs, reused on reopen when SQLite says nothing changed. */
  private readonly closedStates = new LRUCache<string, { id: number; bytesPresent: number; blocks: BlockSet }>({ max: 256 });
  private readonly madeDirs = new Set<string>();
  private evictionScheduled = false;
  private lastOverLimitWarning = 0;

  /** @internal Created by Cache.open. */
  constructor(private readonly ctx: StoreContext) {}

  get blockSize(): number {
    return this.ctx.blockSize;
  }

  /** The data file of a digest (which exists only while the blob is cached). */
  pathOf(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.ctx.dir, 'blobs', algorithm, hex);
  }

  /** What the index knows about a blob, or undefined. */
  info(digest: string): BlobInfo | undefined {
    this.assertOpen();
    const row = this.ctx.index.get(digest);
    return row && { digest: row.digest, size: row.size, complete: row.complete, bytesPresent: row.bytesPresent, lastAccess: row.lastAccess };
  }

  /**
   * Opens (and pins) a blob's cache entry, creating its sparse data file when needed. Every
   * acquire must be matched by one `release()` of the returned entry.
   */
  acquire(descriptor: BlobDescriptor): BlobEntry {
    this.assertOpen();
    const { algorithm } = parseDigest(descriptor.digest);
    const { digest, size } = descriptor;
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidContentError(`blob ${digest} has an invalid size ${String(size)}`);

    const live = this.entries.get(digest);
    if (live && !live.failure) {
      if (live.size !== size) throw sizeConflict(digest, size, live.size);
      live.refs++;
      return live;
    }

    const path = this.pathOf(digest);
    this.ensureDir(join(this.ctx.dir, 'blobs', algorithm));
    const alreadyPinned = (this.pinCounts.get(digest) ?? 0) > 0;
    const now = this.ctx.now();
    const { id, fd, row } = this.ctx.index.transaction(() => {
      let row = this.ctx.index.get(digest);
      if (row && row.size !== size) {
        // A verified blob knows its true size: the descriptor is wrong, not the cache.
        if (row.complete) throw sizeConflict(digest, size, row.size);
        this.removeBlob(row.id, path);
        row = undefined;
      }
      const existed = existsSync(path);
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      } catch (err) {
        throw localIOError(err, `cannot open cache file ${path}`);
      }
      try {
        const fileSize = fstatSync(fd).size;
        // Rows whose file vanished or has the wrong size describe bytes that are not there.
        if (row && ((!existed && row.bytesPresent > 0) || fileSize !== size)) {
          this.ctx.index.delete(row.id);
          row = undefined;
        }
        if (fileSize !== size) ftruncateSync(fd, size);
        const id = row ? row.id : this.ctx.index.insert(digest, size, now);
        if (row) this.ctx.index.touch(id, now);
        if (!alreadyPinned) this.ctx.index.addPin(digest, this.ctx.owner, this.ctx.pid, this.ctx.token);
        return { id, fd, row };
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    });
    this.pinCounts.set(digest, (this.pinCounts.get(digest) ?? 0) + 1);

    const blocks = new BlockSet(blockCountFor(size, this.ctx.blockSize));
    const complete = row?.complete ?? false;
    if (row && !complete && row.bytesPresent > 0) {
      const saved = this.closedStates.get(digest);
      if (saved && saved.id === id && saved.bytesPresent === row.bytesPresent) {
        for (let i = 0; i < blocks.blockCount; i++) if (saved.blocks.has(i)) blocks.add(i);
      } else {
        for (const b of this.ctx.index.blocks(id)) blocks.add(b);
      }
    }
    const entry = new BlobEntry(this, this.ctx, { digest, size, algorithm, path, id, fd, blocks, complete, descriptor });
    this.entries.set(digest, entry);
    return entry;
  }

  /**
   * Makes the whole blob present and verified (fetching it with `source.fetchBlob` if needed) and
   * returns its path. The path stays valid while the blob is pinned: hold an entry from
   * `acquire()` while using it, or accept that a later eviction may remove it.
   */
  async ensureComplete(descriptor: BlobDescriptor, source: WholeBlobSource, options?: FetchOptions): Promise<string> {
    const entry = this.acquire(descriptor);
    try {
      await entry.ensureComplete(source, options);
      return entry.path;
    } finally {
      entry.release();
    }
  }

  /**
   * Evicts least recently used blobs that are not open anywhere until at most `targetBytes` are
   * present. Pins of dead processes are dropped on the way.
   */
  evict(targetBytes: number): PruneResult {
    this.assertOpen();
    const liveness = new Map<string, boolean>();
    const result = this.ctx.index.transaction(() => {
      const total = this.ctx.index.totalBytes();
      const plan = chooseVictims(
        total > targetBytes ? this.ctx.index.oldestFirst() : [],
        total,
        targetBytes,
        (candidate) => this.isPinnedAnywhere(candidate.digest, liveness),
      );
      for (const victim of plan.victims) this.removeBlob(victim.id, this.pathOf(victim.digest));
      return {
        evictedBlobs: plan.victims.length,
        freedBytes: total - plan.remaining,
        remainingBytes: plan.remaining,
        skippedPinned: plan.skippedPinned,
        victims: plan.victims,
      };
    });
    for (const v of result.victims) this.closedStates.delete(v.digest);
    if (result.evictedBlobs > 0) {
      this.ctx.logger.debug('cache eviction', { evicted: result.evictedBlobs, freed: result.freedBytes, remaining: result.remainingBytes });
    }
    const { victims: _victims, ...summary } = result;
    return summary;
  }

  /** @internal Called after a write with the new total; evicts in the background when over the limit. */
  noteTotal(total: number): void {
    if (total <= this.ctx.maxSize || this.evictionScheduled) return;
    this.evictionScheduled = true;
    setImmediate(() => {
      this.evictionScheduled = false;
      if (this.ctx.isClosed()) return;
      try {
        const result = this.evict(Math.floor(this.ctx.maxSize * LOW_WATER));
        if (result.remainingBytes > this.ctx.maxSize && this.ctx.now() - this.lastOverLimitWarning > 60_000) {
          this.lastOverLimitWarning = this.ctx.now();
          this.ctx.logger.warn('cache is over its size limit: the rest is open', { bytes: result.remainingBytes, limit: this.ctx.maxSize });
        }
      } catch (err) {
        this.ctx.logger.warn('cache eviction failed', { error: err });
      }
    });
  }

  /**
   * Removes a blob whose bytes are wrong, even if it is open: open entries of it in this process
   * fail with `error`. Other processes notice on their next write and fail likewise.
   */
  purge(digest: string, error: OcifsError, onlyId?: number): void {
    this.assertOpen();
    const path = this.pathOf(digest);
    this.ctx.index.transaction(() => {
      const row = this.ctx.index.get(digest);
      if (row && (onlyId === undefined || row.id === onlyId)) this.removeBlob(row.id, path);
    });
    this.closedStates.delete(digest);
    const entry = this.entries.get(digest);
    if (entry && (onlyId === undefined || entry.id === onlyId)) entry.fail(error);
  }

  /** Removes every blob that is not open anywhere; returns how many and how many bytes. */
  clearUnpinned(): { removedBlobs: number; freedBytes: number; keptPinned: number } {
    this.assertOpen();
    const liveness = new Map<string, boolean>();
    const result = this.ctx.index.transaction(() => {
      let removedBlobs = 0;
      let freedBytes = 0;
      let keptPinned = 0;
      for (const row of this.ctx.index.oldestFirst()) {
        if (this.isPinnedAnywhere(row.digest, liveness)) {
          keptPinned++;
          continue;
        }
        this.removeBlob(row.id, this.pathOf(row.digest));
        removedBlobs++;
        freedBytes += row.bytesPresent;
      }
      return { removedBlobs, freedBytes, keptPinned };
    });
    this.closedStates.clear();
    return result;
  }

  /**
   * Deletes data files that have no row (left by a kill between file creation and commit, or by
   * an older cache), and rows of partial blobs whose file is missing or has the wrong size.
   */
  removeStrays(): { orphanFiles: number; resetBlobs: number } {
    this.assertOpen();
    return this.ctx.index.transaction(() => {
      let orphanFiles = 0;
      let resetBlobs = 0;
      const known = new Set<string>();
      for (const row of this.ctx.index.all()) {
        const path = this.pathOf(row.digest);
        known.add(path);
        let size: number | undefined;
        try {
          size = statSync(path).size;
        } catch {
          size = undefined;
        }
        if ((size === undefined && row.bytesPresent > 0) || (size !== undefined && size !== row.size)) {
          if (!this.isPinnedAnywhere(row.digest, new Map())) {
            this.removeBlob(row.id, path);
            resetBlobs++;
          }
        }
      }
      for (const path of listDataFiles(join(this.ctx.dir, 'blobs'))) {
        if (known.has(path)) continue;
        unlinkQuietly(path);
        orphanFiles++;
      }
      return { orphanFiles, resetBlobs };
    });
  }

  /** How many distinct blobs are open in some live process (read-only: stats must not need a write lock). */
  pinnedCount(): number {
    this.assertOpen();
    const liveness = new Map<string, boolean>();
    const digests = new Set(this.ctx.index.allPins().map((p) => p.digest));
    let n = 0;
    for (const d of digests) if (this.isPinnedAnywhere(d, liveness, false)) n++;
    return n;
  }

  /** Deletes the pins of processes that died (SIGKILL, crash), which would block eviction forever. */
  dropDeadPins(): void {
    this.assertOpen();
    const liveness = new Map<string, boolean>();
    this.ctx.index.transaction(() => {
      for (const d of new Set(this.ctx.index.allPins().map((p) => p.digest))) this.isPinnedAnywhere(d, liveness);
    });
  }

  /**
   * @internal Drops this process's pins; Cache.close calls it. Files of entries still referenced
   * stay open until their last release: closing a descriptor under a read in flight could let
   * that read land on whatever file reuses the number.
   */
  closeAll(): void {
    this.entries.clear();
    try {
      this.ctx.index.removePinsOf(this.ctx.owner);
    } catch (err) {
      this.ctx.logger.warn('could not drop cache pins on close', { error: err });
    }
    this.pinCounts.clear();
  }

  /** @internal Called by BlobEntry when its last reference is released. */
  released(entry: BlobEntry): void {
    if (this.entries.get(entry.digest) === entry) this.entries.delete(entry.digest);
    const count = (this.pinCounts.get(entry.digest) ?? 1) - 1;
    if (count > 0) this.pinCounts.set(entry.digest, count);
    else this.pinCounts.delete(entry.digest);
    if (this.ctx.isClosed()) return;
    try {
      this.ctx.index.transaction(() => {
        this.ctx.index.touch(entry.id, this.ctx.now());
        if (count <= 0) this.ctx.index.removePin(entry.digest, this.ctx.owner);
      });
    } catch (err) {
      this.ctx.logger.warn('could not unpin a cached blob', { digest: entry.digest, error: err });
    }
    if (!entry.failure && !entry.complete && entry.blocks.count > 0) {
      this.closedStates.set(entry.digest, { id: entry.id, bytesPresent: entry.presentBytes, blocks: entry.blocks });
    }
  }

  /**
   * Pinned by a live process (this one included). Dead pins are deleted unless `dropDead` is
   * false; call inside a write transaction when they are.
   */
  private isPinnedAnywhere(digest: string, liveness: Map<string, boolean>, dropDead = true): boolean {
    let pinned = false;
    for (const pin of this.ctx.index.pinsOf(digest)) {
      let alive: boolean;
      if (pin.owner === this.ctx.owner) {
        alive = (this.pinCounts.get(digest) ?? 0) > 0;
      } else {
        const key = `${pin.pid}:${pin.token}`;
        alive = liveness.get(key) ?? isProcessAlive(pin.pid, pin.token);
        liveness.set(key, alive);
      }
      if (alive) pinned = true;
      else if (dropDead) this.ctx.index.removePin(digest, pin.owner);
    }
    return pinned;
  }

  /** Deletes a blob's row, then its file. Call inside a write transaction. */
  private removeBlob(id: number, path: string): void {
    this.ctx.index.delete(id);
    unlinkQuietly(path);
  }

  private ensureDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw localIOError(err, `cannot create cache directory ${dir}`);
    }
    this.madeDirs.add(dir);
  }

  private assertOpen(): void {
    if (this.ctx.isClosed()) throw new LocalIOError('the cache is closed');
  }
}

interface EntryInit {
  digest: string;
  size: number;
  algorithm: DigestAlgorithm;
  path: string;
  id: number;
  fd: number;
  blocks: BlockSet;
  complete: boolean;
  descriptor: BlobDescriptor;
}

/**
 * One open blob in this process: its data file descriptor and present blocks. Shared by every
 * reader of the digest in the process; reference counted (acquire/retain and release).
 */
export class BlobEntry {
  readonly digest: string;
  readonly size: number;
  readonly path: string;
  readonly blockSize: number;
  readonly blockCount: number;
  /** @internal */ readonly id: number;
  /** @internal */ readonly blocks: BlockSet;
  /** @internal */ refs = 1;
  /** Bytes present according to `blocks`. */
  presentBytes = 0;
  private readonly algorithm: DigestAlgorithm;
  private readonly descriptor: BlobDescriptor;
  private fd: number;
  private completeFlag: boolean;
  private failedWith: OcifsError | undefined;
  private verifying: Promise<void> | undefined;
  private fetchingWhole: Promise<boolean> | undefined;
  /** The digest of the blob's prefix, advanced as blocks arrive (./running-digest.ts). */
  private running: RunningDigest | undefined;
  /** Blocks this entry wrote: their pages were just in the page cache (see readWrittenSync). */
  private readonly written: BlockSet;

  /** @internal */
  constructor(
    private readonly store: BlobStore,
    private readonly ctx: StoreContext,
    init: EntryInit,
  ) {
    this.digest = init.digest;
    this.size = init.size;
    this.path = init.path;
    this.id = init.id;
    this.fd = init.fd;
    this.blocks = init.blocks;
    this.algorithm = init.algorithm;
    this.descriptor = init.descriptor;
    this.completeFlag = init.complete;
    this.blockSize = ctx.blockSize;
    this.blockCount = init.blocks.blockCount;
    for (let i = 0; i < this.blockCount; i++) if (init.blocks.has(i)) this.presentBytes += blockLength(i, this.blockSize, this.size);
    if (!init.complete && init.size > 0) this.running = new RunningDigest(init.algorithm, init.size);
    this.written = new BlockSet(this.blockCount);
  }

  /** Whole, verified against the digest. */
  get complete(): boolean {
    return this.completeFlag;
  }

  /** Every block present (complete, or about to be verified). */
  get allPresent(): boolean {
    return this.completeFlag || this.blocks.full;
  }

  /** Set when the blob was purged (digest mismatch) or removed under us: every read must fail. */
  get failure(): OcifsError | undefined {
    return this.failedWith;
  }

  /** Whether blocks first..last are all present, from memory only. */
  hasBlocks(first: number, last: number): boolean {
    return this.completeFlag || this.blocks.hasRange(first, last);
  }

  hasBlock(index: number): boolean {
    return this.completeFlag || this.blocks.has(index);
  }

  /**
   * Re-reads which of blocks first..last are present from SQLite (another process may have
   * fetched them). Only for misses: a hit never gets here.
   */
  refresh(first: number, last: number): void {
    this.assertUsable();
    const row = this.ctx.index.getById(this.id);
    if (!row) {
      this.fail(removedUnderUs(this.digest));
      throw this.failedWith;
    }
    if (row.complete) {
      this.completeFlag = true;
      return;
    }
    for (const b of this.ctx.index.blocksIn(this.id, first, last)) this.noteBlock(b);
  }

  /** Reads cached bytes with one positional read into `buffer`. The caller checked presence. */
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.assertUsable();
    try {
      return await readAt(this.fd, buffer, offset, length, position);
    } catch (err) {
      throw localIOError(err, `cannot read cache file ${this.path}`);
    }
  }

  /** `read` done synchronously (one pread, which may wait for the disk). The caller checked presence. */
  readSync(buffer: Buffer, offset: number, length: number, position: number): number {
    this.assertUsable();
    try {
      return readAtSync(this.fd, buffer, offset, length, position);
    } catch (err) {
      throw localIOError(err, `cannot read cache file ${this.path}`);
    }
  }

  /**
   * Reads cached bytes synchronously when every block they touch was written by this entry (so
   * its pages are almost surely in the page cache: a cold stream reads what it fetched moments
   * ago); undefined otherwise, and the caller uses `read`. Why: the async read's thread-pool
   * round trip is most of a 128 KiB FUSE read's cost on that path. Under memory pressure the
   * pages may be gone and this blocks the event loop for a disk read: a bounded, rare cost.
   */
  readWrittenSync(buffer: Buffer, offset: number, length: number, position: number): number | undefined {
    if (length <= 0 || this.failedWith || this.fd < 0 || this.ctx.isClosed()) return undefined;
    const first = Math.floor(position / this.blockSize);
    const last = Math.floor((position + length - 1) / this.blockSize);
    for (let b = first; b <= last; b++) if (!this.written.has(b)) return undefined;
    try {
      return readAtSync(this.fd, buffer, offset, length, position);
    } catch (err) {
      throw localIOError(err, `cannot read cache file ${this.path}`);
    }
  }

  /**
   * Stores bytes that start at block `first` and cover whole blocks (the blob's last block may be
   * short): written to the file first, recorded in SQLite after. `data` may be a list of chunks
   * that follow each other (a streamed answer), written with one writev and never concatenated.
   */
  async writeBlocks(first: number, data: Buffer | readonly Buffer[]): Promise<void> {
    this.assertUsable();
    const start = first * this.blockSize;
    const length = Buffer.isBuffer(data) ? data.length : data.reduce((sum, c) => sum + c.length, 0);
    const count = Math.ceil(length / this.blockSize);
    if (length === 0 || first + count > this.blockCount || (start + length !== this.size && length % this.blockSize !== 0)) {
      throw new InvalidContentError(`bytes at ${start} (+${length}) of blob ${this.digest} are not whole blocks`);
    }
    this.retain();
    try {
      try {
        if (Buffer.isBuffer(data)) await writeAt(this.fd, data, start);
        else await writeChunksAt(this.fd, [...data], start);
      } catch (err) {
        throw localIOError(err, `cannot write cache file ${this.path}`);
      }
      this.assertUsable();
      const blocks = Array.from({ length: count }, (_, i) => first + i);
      const total = this.record(blocks);
      this.store.noteTotal(total);
      for (const b of blocks) this.written.add(b);
      this.hashArrived(start, data);
    } finally {
      this.release();
    }
  }

  /**
   * Hashes the whole file once every block is present; marks the blob complete when it matches
   * its digest, purges it and fails its readers when not. Concurrent calls share one run.
   */
  verify(): Promise<void> {
    if (this.completeFlag) return Promise.resolve();
    if (this.failedWith) return Promise.reject(this.failedWith);
    this.verifying ??= this.runVerify().finally(() => (this.verifying = undefined));
    return this.verifying;
  }

  /**
   * Fetches the whole blob with `source.fetchBlob` (unless complete), writing it as it streams and
   * hashing it on the way; complete only when it matches. Returns true when it fetched.
   */
  ensureComplete(source: WholeBlobSource, options?: FetchOptions): Promise<boolean> {
    if (this.completeFlag) return Promise.resolve(false);
    if (this.failedWith) return Promise.reject(this.failedWith);
    if (this.size === 0) return this.completeEmpty();
    this.fetchingWhole ??= this.fetchWhole(source, options).finally(() => (this.fetchingWhole = undefined));
    return this.fetchingWhole;
  }

  /** Takes another reference (an in-flight fetch, a second reader). */
  retain(): this {
    this.refs++;
    return this;
  }

  /** Drops a reference; the last one closes the file and unpins the blob. */
  release(): void {
    if (this.refs <= 0) return;
    this.refs--;
    if (this.refs > 0) return;
    this.closeFile();
    this.store.released(this);
  }

  /** @internal Marks the entry failed; reads of it throw `error` from now on. */
  fail(error: OcifsError): void {
    this.running = undefined;
    this.failedWith ??= error;
    this.blocks.clear();
    this.written.clear();
    this.presentBytes = 0;
    this.completeFlag = false;
  }

  private closeFile(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = -1;
  }

  /**
   * Advances the running digest over bytes just stored (written and recorded, so a catch-up that
   * is reading finds them on disk): hashed from memory when they continue the prefix, otherwise
   * read back later. The catch-up holds a reference so the file stays open under it.
   */
  private hashArrived(start: number, data: Buffer | readonly Buffer[]): void {
    const running = this.running;
    if (!running) return;
    if (Buffer.isBuffer(data)) running.offer(start, data);
    else {
      let at = start;
      for (const chunk of data) {
        if (!running.offer(at, chunk)) break;
        at += chunk.length;
      }
    }
    if (running.hashed >= this.size || !this.hasBlock(Math.floor(running.hashed / this.blockSize))) return;
    this.retain();
    this.catchUp(running)
      .catch((err: unknown) => {
        // verify() falls back to hashing the whole file.
        if (this.running === running) this.running = undefined;
        if (!this.failedWith) this.ctx.logger.debug('running digest dropped', { digest: this.digest, error: err as Error });
      })
      .finally(() => this.release());
  }

  private catchUp(running: RunningDigest): Promise<void> {
    return running.catchUp(
      (from, limit) => {
        const end = Math.min(limit, this.size);
        let b = Math.floor(from / this.blockSize);
        while (b * this.blockSize < end && this.hasBlock(b)) b++;
        return Math.min(end, b * this.blockSize);
      },
      (buffer, length, position) => this.read(buffer, 0, length, position),
    );
  }

  /** The blob's digest from the running digest (reading back what it lacks), else from a full pass. */
  private async digestOfFile(): Promise<string> {
    const running = this.running;
    if (running) {
      try {
        await this.catchUp(running);
        const actual = running.result();
        this.running = undefined;
        if (actual !== undefined) return actual;
      } catch (err) {
        if (this.failedWith) throw this.failedWith;
        this.ctx.logger.debug('running digest failed: hashing the whole file', { digest: this.digest, error: err as Error });
      }
      this.running = undefined;
    }
    return hashFile(this.fd, this.size, this.algorithm);
  }

  private async runVerify(): Promise<void> {
    this.retain();
    try {
      const actual = await this.digestOfFile();
      this.assertUsable();
      if (actual !== this.digest) {
        const error = new DigestMismatchError(this.digest, actual, 'cached blob');
        this.ctx.logger.error('blob does not match its digest: purged from the cache', { digest: this.digest, actual });
        this.store.purge(this.digest, error, this.id);
        this.fail(error);
        throw error;
      }
      await syncData(this.fd);
      this.markComplete(() => undefined);
    } finally {
      this.release();
    }
  }

  private async fetchWhole(source: WholeBlobSource, options?: FetchOptions): Promise<boolean> {
    this.retain();
    try {
      const stream = await source.fetchBlob(this.fullDescriptor(), options);
      const digester = new Digester(this.algorithm);
      let written = 0;
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batchBytes === 0) return;
        this.assertUsable();
        try {
          await writeChunksAt(this.fd, batch, written);
        } catch (err) {
          throw localIOError(err, `cannot write cache file ${this.path}`);
        }
        written += batchBytes;
        batch = [];
        batchBytes = 0;
      };
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (written + batchBytes + chunk.length > this.size) {
          throw new DigestMismatchError(this.digest, `more than ${this.size} bytes`, 'blob');
        }
        digester.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH) await flush();
      }
      await flush();
      if (written !== this.size) throw new DigestMismatchError(this.digest, `${written} bytes instead of ${this.size}`, 'blob');
      const actual = digester.digest();
      if (actual !== this.digest) throw new DigestMismatchError(this.digest, actual, 'blob');
      await syncData(this.fd);
      this.markComplete((blocks) => this.ctx.index.addBlocks(this.id, blocks));
      return true;
    } catch (err) {
      if (err instanceof DigestMismatchError) {
        // Bytes already written over blocks recorded as present may be wrong: drop them all.
        this.ctx.logger.error('blob does not match its digest: purged from the cache', { digest: this.digest, error: err });
        if (!this.ctx.isClosed()) this.store.purge(this.digest, err, this.id);
        this.fail(err);
      }
      throw err;
    } finally {
      this.release();
    }
  }

  private completeEmpty(): Promise<boolean> {
    const actual = digestOf(new Uint8Array(0), this.algorithm);
    if (actual !== this.digest) return Promise.reject(new DigestMismatchError(this.digest, actual, 'empty blob'));
    this.markComplete(() => undefined);
    return Promise.resolve(false);
  }

  /** Records completion (and, first, whatever `recordBlocks` adds) in one transaction. */
  private markComplete(recordBlocks: (blocks: number[]) => void): void {
    const all = Array.from({ length: this.blockCount }, (_, i) => i);
    const total = this.ctx.index.transaction(() => {
      if (!this.ctx.index.touch(this.id, this.ctx.now())) return undefined;
      recordBlocks(all);
      this.ctx.index.markComplete(this.id);
      return this.ctx.index.totalBytes();
    });
    if (total === undefined) {
      this.fail(removedUnderUs(this.digest));
      throw this.failedWith;
    }
    for (const b of all) this.noteBlock(b);
    this.completeFlag = true;
    this.running = undefined;
    this.store.noteTotal(total);
  }

  /** Records blocks as present after their bytes are on disk; returns the cache's new total. */
  private record(blocks: number[]): number {
    const total = this.ctx.index.transaction(() => {
      if (!this.ctx.index.touch(this.id, this.ctx.now())) return undefined;
      const added = this.ctx.index.addBlocks(this.id, blocks);
      this.ctx.index.addBytes(this.id, added.reduce((sum, b) => sum + blockLength(b, this.blockSize, this.size), 0));
      return this.ctx.index.totalBytes();
    });
    if (total === undefined) {
      this.fail(removedUnderUs(this.digest));
      throw this.failedWith;
    }
    for (const b of blocks) this.noteBlock(b);
    return total;
  }

  private noteBlock(index: number): void {
    if (this.blocks.add(index)) this.presentBytes += blockLength(index, this.blockSize, this.size);
  }

  private fullDescriptor(): Descriptor {
    return { mediaType: 'application/octet-stream', ...this.descriptor, digest: this.digest, size: this.size };
  }

  private assertUsable(): void {
    if (this.failedWith) throw this.failedWith;
    if (this.fd < 0 || this.ctx.isClosed()) throw new LocalIOError(`cached blob ${this.digest} is closed`);
  }
}

function sizeConflict(digest: string, claimed: number, actual: number): DigestMismatchError {
  return new DigestMismatchError(digest, `a descriptor of ${claimed} bytes for a blob of ${actual}`, 'descriptor size');
}

function removedUnderUs(digest: string): LocalIOError {
  return new LocalIOError(`cached blob ${digest} was removed by another process while open`, {
    hint: 'open the file again',
  });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw localIOError(err, `cannot remove cache file ${path}`);
  }
}

function* listDataFiles(blobsDir: string): Generator<string> {
  let algorithms: string[];
  try {
    algorithms = readdirSync(blobsDir);
  } catch {
    return;
  }
  for (const alg of algorithms) {
    let names: string[];
    try {
      names = readdirSync(join(blobsDir, alg));
    } catch {
      continue;
    }
    for (const name of names) yield join(blobsDir, alg, name);
  }
}
