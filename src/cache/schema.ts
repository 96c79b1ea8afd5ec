/**
 * The SQLite schema of `cacheDir/index.db`, versioned with `PRAGMA user_version`. Each entry of
 * MIGRATIONS moves the schema from version i to i + 1; a newer schema than we know is refused.
 */
import type { Database } from 'better-sqlite3';
import { LocalIOError } from '../errors.js';

const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- id, not digest, is what blocks hang off: a blob purged and fetched again gets a new id, so a
  -- process still holding the old one can tell its rows are gone.
  CREATE TABLE blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    bytes_present INTEGER NOT NULL DEFAULT 0,
    last_access INTEGER NOT NULL
  );
  CREATE INDEX blobs_by_access ON blobs (last_access, id);

  CREATE TABLE blocks (
    blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    block INTEGER NOT NULL,
    PRIMARY KEY (blob_id, block)
  ) WITHOUT ROWID;

  -- One row per (blob, open Cache) that has the blob open; a pin counts while its process lives
  -- (pid, and token = the process's start time, so a reused pid does not count).
  CREATE TABLE pins (
    digest TEXT NOT NULL,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    token TEXT NOT NULL,
    PRIMARY KEY (digest, owner)
  ) WITHOUT ROWID;

  CREATE TABLE manifests (
    digest TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    stored_at INTEGER NOT NULL
  );

  CREATE TABLE tags (
    scope TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (scope, tag)
  ) WITHOUT ROWID;

  CREATE TABLE listings (key TEXT PRIMARY KEY, names TEXT NOT NULL, checked_at INTEGER NOT NULL);

  -- The total of bytes present, kept by triggers so every writer's change is counted exactly once.
  CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
  INSERT INTO totals (id, bytes) VALUES (1, 0);
  CREATE TRIGGER blobs_insert AFTER INSERT ON blobs BEGIN
    UPDATE totals SET bytes = bytes + NEW.bytes_present WHERE id = 1;
  END;
  CREATE TRIGGER blobs_update AFTER UPDATE OF bytes_present ON blobs BEGIN
    UPDATE totals SET bytes = bytes + NEW.bytes_present - OLD.bytes_present WHERE id = 1;
  END;
  CREATE TRIGGER blobs_delete AFTER DELETE ON blobs BEGIN
    UPDATE totals SET bytes = bytes - OLD.bytes_present WHERE id = 1;
  END;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to SCHEMA_VERSION; safe when several processes open the directory at once. */
export function migrate(db: Database, path: string): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new LocalIOError(`cache index ${path} has schema version ${version}, newer than this ocifs understands (${SCHEMA_VERSION})`, {
        hint: 'upgrade ocifs, or use another --cache-dir',
      });
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '');
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
}
