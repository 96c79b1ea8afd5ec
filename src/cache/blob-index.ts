/**
 * The blob tables of index.db (blobs, blocks, pins, totals) behind named, prepared statements.
 * No policy here: BlobStore and Cache decide when to call what, and in which transaction.
 */
import type { Database, Statement } from 'better-sqlite3';

export interface BlobRow {
  id: number;
  digest: string;
  size: number;
  complete: boolean;
  bytesPresent: number;
  lastAccess: number;
}

export interface PinRow {
  digest: string;
  owner: string;
  pid: number;
  token: string;
}

interface RawBlobRow {
  id: number;
  digest: string;
  size: number;
  complete: number;
  bytes_present: number;
  last_access: number;
}

const toBlobRow = (r: RawBlobRow): BlobRow => ({
  id: r.id,
  digest: r.digest,
  size: r.size,
  complete: r.complete !== 0,
  bytesPresent: r.bytes_present,
  lastAccess: r.last_access,
});

export class BlobIndex {
  private readonly s: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      byDigest: p('SELECT * FROM blobs WHERE digest = ?'),
      byId: p('SELECT * FROM blobs WHERE id = ?'),
      insert: p('INSERT INTO blobs (digest, size, last_access) VALUES (?, ?, ?)'),
      delete: p('DELETE FROM blobs WHERE id = ?'),
      touch: p('UPDATE blobs SET last_access = ? WHERE id = ?'),
      addBytes: p('UPDATE blobs SET bytes_present = bytes_present + ? WHERE id = ?'),
      complete: p('UPDATE blobs SET complete = 1, bytes_present = size WHERE id = ?'),
      insertBlock: p('INSERT OR IGNORE INTO blocks (blob_id, block) VALUES (?, ?)'),
      blocks: p('SELECT block FROM blocks WHERE blob_id = ?').pluck(),
      blocksIn: p('SELECT block FROM blocks WHERE blob_id = ? AND block BETWEEN ? AND ?').pluck(),
      total: p('SELECT bytes FROM totals WHERE id = 1').pluck(),
      oldestFirst: p('SELECT id, digest, bytes_present AS bytesPresent FROM blobs ORDER BY last_access, id'),
      all: p('SELECT * FROM blobs ORDER BY id'),
      addPin: p('INSERT OR REPLACE INTO pins (digest, owner, pid, token) VALUES (?, ?, ?, ?)'),
      removePin: p('DELETE FROM pins WHERE digest = ? AND owner = ?'),
      removePinsOf: p('DELETE FROM pins WHERE owner = ?'),
      pinsOf: p('SELECT digest, owner, pid, token FROM pins WHERE digest = ?'),
      allPins: p('SELECT digest, owner, pid, token FROM pins'),
      counts: p('SELECT COUNT(*) AS blobs, COALESCE(SUM(complete), 0) AS complete FROM blobs'),
    };
  }

  /** Runs `fn` in a write transaction taken up front (BEGIN IMMEDIATE), waiting for other writers. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get(digest: string): BlobRow | undefined {
    const r = this.s.byDigest!.get(digest) as RawBlobRow | undefined;
    return r && toBlobRow(r);
  }

  getById(id: number): BlobRow | undefined {
    const r = this.s.byId!.get(id) as RawBlobRow | undefined;
    return r && toBlobRow(r);
  }

  insert(digest: string, size: number, now: number): number {
    return Number(this.s.insert!.run(digest, size, now).lastInsertRowid);
  }

  /** Deletes the blob and (by cascade) its blocks; false when the row was already gone. */
  delete(id: number): boolean {
    return this.s.delete!.run(id).changes > 0;
  }

  /** Updates the access time; false when the row is gone (purged or evicted meanwhile). */
  touch(id: number, now: number): boolean {
    return this.s.touch!.run(now, id).changes > 0;
  }

  /** Records blocks as present; returns the indices that were not recorded before. */
  addBlocks(id: number, blocks: Iterable<number>): number[] {
    const added: number[] = [];
    for (const b of blocks) if (this.s.insertBlock!.run(id, b).changes > 0) added.push(b);
    return added;
  }

  addBytes(id: number, bytes: number): void {
    if (bytes !== 0) this.s.addBytes!.run(bytes, id);
  }

  markComplete(id: number): boolean {
    return this.s.complete!.run(id).changes > 0;
  }

  blocks(id: number): number[] {
    return this.s.blocks!.all(id) as number[];
  }

  blocksIn(id: number, first: number, last: number): number[] {
    return this.s.blocksIn!.all(id, first, last) as number[];
  }

  totalBytes(): number {
    return (this.s.total!.get() as number | undefined) ?? 0;
  }

  oldestFirst(): { id: number; digest: string; bytesPresent: number }[] {
    return this.s.oldestFirst!.all() as { id: number; digest: string; bytesPresent: number }[];
  }

  all(): BlobRow[] {
    return (this.s.all!.all() as RawBlobRow[]).map(toBlobRow);
  }

  addPin(digest: string, owner: string, pid: number, token: string): void {
    this.s.addPin!.run(digest, owner, pid, token);
  }

  removePin(digest: string, owner: string): void {
    this.s.removePin!.run(digest, owner);
  }

  removePinsOf(owner: string): void {
    this.s.removePinsOf!.run(owner);
  }

  pinsOf(digest: string): PinRow[] {
    return this.s.pinsOf!.all(digest) as PinRow[];
  }

  allPins(): PinRow[] {
    return this.s.allPins!.all() as PinRow[];
  }

  counts(): { blobs: number; complete: number } {
    return this.s.counts!.get() as { blobs: number; complete: number };
  }
}
