/**
 * The cache directory as a whole: opening it (creating the index and running migrations),
 * statistics, pruning, verification and clearing. Blob bytes are BlobStore's job, registry
 * metadata MetadataStore's.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, closeSync, constants, mkdirSync, openSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DigestMismatchError, InvalidArgumentError, LocalIOError, localIOError, OcifsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { parseDigest } from '../ref/digest.js';
import { BlobIndex } from './blob-index.js';
import { BlobStore, type PruneResult, type StoreContext } from './blob-store.js';
import { defaultMaxSize } from './eviction.js';
import { hashFile } from './file-io.js';
import { processStartToken } from './liveness.js';
import { MetadataStore } from './metadata-store.js';
import { migrate } from './schema.js';

export interface CacheOptions {
  dir: string;
  /** Size limit in bytes of blob data; default: 10 GiB, at most 80% of free space plus the cache. */
  maxSize?: number;
  /**
   * Unit of caching in bytes (a power of two, 4 KiB-16 MiB); default 256 KiB. Fixed when the
   * directory is created: a different value for an existing cache is ignored with a warning.
   */
  blockSize?: number;
  logger?: Logger;
  /** Clock in ms (tests inject one). */
  now?: () => number;
}

export interface CacheStats {
  dir: string;
  blockSize: number;
  /** The size limit in bytes. */
  maxSize: number;
  blobs: number;
  completeBlobs: number;
  /** Blobs open in some live process. */
  pinnedBlobs: number;
  /** Bytes of blob data present (whole blocks recorded). */
  bytes: number;
  manifests: number;
  manifestBytes: number;
  tags: number;
  listings: number;
}

export interface VerifyResult {
  /** Complete blobs re-hashed. */
  checked: number;
  ok: number;
  bytesHashed: number;
  /** Blobs removed because their bytes were wrong or missing. */
  purged: { digest: string; reason: string }[];
  /** Data files with no index row, deleted. */
  orphanFiles: number;
  /** Partial blobs whose file was missing or of the wrong size, forgotten. */
  resetBlobs: number;
}

export interface ClearResult {
  removedBlobs: number;
  freedBytes: number;
  /** Blobs kept because they are open somewhere. */
  keptPinned: number;
}

export type { PruneResult };

export const DEFAULT_BLOCK_SIZE = 256 * 1024;
const BUSY_TIMEOUT_MS = 10_000;

export class Cache {
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly blockSize: number;
  readonly maxSize: number;
  private readonly db: Database.Database;
  private readonly index: BlobIndex;
  private readonly logger: Logger;
  private closed = false;

  private constructor(dir: string, db: Database.Database, blockSize: number, maxSize: number, logger: Logger, now: () => number) {
    this.dir = dir;
    this.db = db;
    this.blockSize = blockSize;
    this.maxSize = maxSize;
    this.logger = logger;
    this.index = new BlobIndex(db);
    const token = processStartToken(process.pid) ?? '';
    const ctx: StoreContext = {
      dir,
      index: this.index,
      blockSize,
      maxSize,
      logger,
      now,
      pid: process.pid,
      token,
      owner: `${process.pid}-${randomUUID()}`,
      isClosed: () => this.closed,
    };
    this.blobs = new BlobStore(ctx);
    this.metadata = new MetadataStore(db, now, () => this.closed);
  }

  /** Opens (creating if needed) a cache directory; LocalIOError with a hint when it is unusable. */
  static open(options: CacheOptions): Cache {
    const logger = options.logger ?? silentLogger;
    const now = options.now ?? Date.now;
    const dir = options.dir;
    if (options.blockSize !== undefined) checkBlockSize(options.blockSize);
    if (options.maxSize !== undefined && (!Number.isSafeInteger(options.maxSize) || options.maxSize <= 0)) {
      throw new InvalidArgumentError(`invalid cache size limit ${String(options.maxSize)}: expected a positive number of bytes`);
    }
    try {
      mkdirSync(join(dir, 'blobs'), { recursive: true });
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new LocalIOError(`cannot use cache directory ${dir}: ${(err as Error).message}`, {
        cause: err,
        hint: 'choose another --cache-dir, or fix the permissions of that one',
      });
    }
    const dbPath = join(dir, 'index.db');
    let db: Database.Database | undefined;
    try {
      db = new Database(dbPath, { timeout: BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives a process kill (not a power cut).
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, dbPath);
      const blockSize = settleBlockSize(db, options.blockSize, logger);
      const maxSize = options.maxSize ?? defaultMaxSize(freeBytes(dir), totalBytes(db));
      const cache = new Cache(dir, db, blockSize, maxSize, logger, now);
      cache.blobs.dropDeadPins();
      return cache;
    } catch (err) {
      db?.close();
      if (err instanceof OcifsError) throw err;
      throw new LocalIOError(`cannot open cache index ${dbPath}: ${(err as Error).message}`, {
        cause: err,
        hint: 'if the file is damaged, delete the cache directory (it only holds copies)',
      });
    }
  }

  stats(): CacheStats {
    this.assertOpen();
    const counts = this.index.counts();
    const one = (sql: string) => this.db.prepare(sql).pluck().get() as number;
    return {
      dir: this.dir,
      blockSize: this.blockSize,
      maxSize: this.maxSize,
      blobs: counts.blobs,
      completeBlobs: counts.complete,
      pinnedBlobs: this.blobs.pinnedCount(),
      bytes: this.index.totalBytes(),
      manifests: one('SELECT COUNT(*) FROM manifests'),
      manifestBytes: one('SELECT COALESCE(SUM(LENGTH(bytes)), 0) FROM manifests'),
      tags: one('SELECT COUNT(*) FROM tags'),
      listings: one('SELECT COUNT(*) FROM listings'),
    };
  }

  /** Evicts least recently used blobs not open anywhere, down to `targetBytes` (default: the limit). */
  prune(targetBytes?: number): PruneResult {
    if (targetBytes !== undefined && (!Number.isSafeInteger(targetBytes) || targetBytes < 0)) {
      throw new InvalidArgumentError(`invalid prune target ${String(targetBytes)}: expected a number of bytes`);
    }
    return this.blobs.evict(targetBytes ?? this.maxSize);
  }

  /**
   * Re-hashes every complete blob and purges those that do not match (or whose file is gone);
   * also removes stray files and forgets partial blobs whose file is missing.
   */
  async verify(): Promise<VerifyResult> {
    this.assertOpen();
    const strays = this.blobs.removeStrays();
    const result: VerifyResult = { checked: 0, ok: 0, bytesHashed: 0, purged: [], orphanFiles: strays.orphanFiles, resetBlobs: strays.resetBlobs };
    for (const row of this.index.all()) {
      if (!row.complete || this.closed) continue;
      result.checked++;
      const path = this.blobs.pathOf(row.digest);
      let actual: string;
      try {
        const fd = openSync(path, 'r');
        try {
          actual = await hashFile(fd, row.size, parseDigest(row.digest).algorithm);
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        actual = `unreadable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      }
      if (actual === row.digest) {
        result.ok++;
        result.bytesHashed += row.size;
        continue;
      }
      const error = new DigestMismatchError(row.digest, actual, 'cached blob');
      this.logger.error('cached blob does not match its digest: purged', { digest: row.digest, actual });
      this.blobs.purge(row.digest, error, row.id);
      result.purged.push({ digest: row.digest, reason: error.message });
    }
    return result;
  }

  /** Removes every blob not open anywhere, and all manifests, tags and listings. */
  clear(): ClearResult {
    this.assertOpen();
    const result = this.blobs.clearUnpinned();
    this.index.transaction(() => {
      this.db.exec('DELETE FROM manifests; DELETE FROM tags; DELETE FROM listings;');
    });
    this.metadata.dropHot();
    return result;
  }

  /** Drops this process's pins and closes the index. Entries still open become unusable. */
  close(): void {
    if (this.closed) return;
    this.blobs.closeAll();
    this.closed = true;
    try {
      this.db.close();
    } catch (err) {
      this.logger.warn('could not close the cache index', { error: err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new LocalIOError('the cache is closed');
  }
}

function checkBlockSize(blockSize: number): void {
  const ok = Number.isSafeInteger(blockSize) && blockSize >= 4096 && blockSize <= 16 * 1024 * 1024 && (blockSize & (blockSize - 1)) === 0;
  if (!ok) throw new InvalidArgumentError(`invalid cache block size ${String(blockSize)}: expected a power of two from 4 KiB to 16 MiB`);
}

/** The block size is a property of the directory (blocks already recorded depend on it). */
function settleBlockSize(db: Database.Database, wanted: number | undefined, logger: Logger): number {
  const read = db.prepare("SELECT value FROM meta WHERE key = 'block_size'").pluck();
  const insert = db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('block_size', ?)");
  const stored = db
    .transaction(() => {
      insert.run(String(wanted ?? DEFAULT_BLOCK_SIZE));
      return Number(read.get());
    })
    .immediate();
  if (wanted !== undefined && wanted !== stored) {
    logger.warn('the cache directory already uses another block size; keeping it', { wanted, using: stored });
  }
  return stored;
}

function totalBytes(db: Database.Database): number {
  return (db.prepare('SELECT bytes FROM totals WHERE id = 1').pluck().get() as number | undefined) ?? 0;
}

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch (err) {
    throw localIOError(err, `cannot read free space of ${dir}`);
  }
}
