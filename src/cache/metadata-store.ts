/**
 * Registry metadata kept next to the blobs: manifests by digest (immutable, kept hot in memory),
 * tag -> descriptor and listings with the time they were last checked (mutable, shared with other
 * daemons, so always read from SQLite). Freshness policy (TTLs) belongs to the caller.
 */
import type { Database, Statement } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { LocalIOError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { verifyBytes } from '../ref/digest.js';

export interface CachedManifest {
  mediaType: string;
  bytes: Buffer;
}

export interface CachedTag {
  descriptor: Descriptor;
  checkedAt: number;
}

export interface CachedListing {
  names: string[];
  checkedAt: number;
}

/** Manifests held in memory: at most this many bytes (a manifest is at most 4 MiB). */
const HOT_MANIFEST_BYTES = 32 * 1024 * 1024;

export class MetadataStore {
  private readonly s: Record<string, Statement>;
  private readonly hot = new LRUCache<string, CachedManifest>({
    maxSize: HOT_MANIFEST_BYTES,
    sizeCalculation: (m) => m.bytes.length + 100,
  });

  /** @internal Created by Cache.open. */
  constructor(
    db: Database,
    private readonly now: () => number,
    private readonly isClosed: () => boolean,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      getManifest: p('SELECT media_type AS mediaType, bytes FROM manifests WHERE digest = ?'),
      putManifest: p('INSERT OR IGNORE INTO manifests (digest, media_type, bytes, stored_at) VALUES (?, ?, ?, ?)'),
      getTag: p('SELECT digest, media_type AS mediaType, size, checked_at AS checkedAt FROM tags WHERE scope = ? AND tag = ?'),
      putTag: p('INSERT OR REPLACE INTO tags (scope, tag, digest, media_type, size, checked_at) VALUES (?, ?, ?, ?, ?, ?)'),
      getListing: p('SELECT names, checked_at AS checkedAt FROM listings WHERE key = ?'),
      putListing: p('INSERT OR REPLACE INTO listings (key, names, checked_at) VALUES (?, ?, ?)'),
    };
  }

  getManifest(digest: string): CachedManifest | undefined {
    const hot = this.hot.get(digest);
    if (hot) return hot;
    this.assertOpen();
    const row = this.s.getManifest!.get(digest) as CachedManifest | undefined;
    if (row) this.hot.set(digest, row);
    return row;
  }

  /** Stores a manifest under its digest; throws DigestMismatchError if the bytes are not that digest. */
  putManifest(digest: string, mediaType: string, bytes: Buffer): void {
    verifyBytes(bytes, { digest }, 'manifest');
    if (this.hot.has(digest)) return;
    this.assertOpen();
    const copy = Buffer.from(bytes);
    this.s.putManifest!.run(digest, mediaType, copy, this.now());
    this.hot.set(digest, { mediaType, bytes: copy });
  }

  /** `scope` is `registry/repository`. */
  getTag(scope: string, tag: string): CachedTag | undefined {
    this.assertOpen();
    const row = this.s.getTag!.get(scope, tag) as { digest: string; mediaType: string; size: number; checkedAt: number } | undefined;
    return row && { descriptor: { mediaType: row.mediaType, digest: row.digest, size: row.size }, checkedAt: row.checkedAt };
  }

  putTag(scope: string, tag: string, descriptor: Descriptor, checkedAt: number): void {
    this.assertOpen();
    this.s.putTag!.run(scope, tag, descriptor.digest, descriptor.mediaType, descriptor.size, checkedAt);
  }

  getListing(key: string): CachedListing | undefined {
    this.assertOpen();
    const row = this.s.getListing!.get(key) as { names: string; checkedAt: number } | undefined;
    if (!row) return undefined;
    try {
      const names: unknown = JSON.parse(row.names);
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return undefined;
      return { names, checkedAt: row.checkedAt };
    } catch {
      return undefined;
    }
  }

  putListing(key: string, names: string[], checkedAt: number): void {
    this.assertOpen();
    this.s.putListing!.run(key, JSON.stringify(names), checkedAt);
  }

  private assertOpen(): void {
    if (this.isClosed()) throw new LocalIOError('the cache is closed');
  }

  /** @internal Forgets the in-memory manifests (after `Cache.clear`). */
  dropHot(): void {
    this.hot.clear();
  }
}
