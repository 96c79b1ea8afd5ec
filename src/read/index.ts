/**
 * src/read — BlobReader: positional reads of a blob by digest, served from src/cache and fetched
 * with Range requests on a miss (merged runs, shared in-flight blocks, per-handle sequential
 * read-ahead with a bounded window).
 *
 * Owns: when and what to fetch, and serving bytes into the caller's buffer. Does not own the
 * cache's files or index (src/cache), HTTP (the source does it: src/registry or src/layout), or
 * paths and FUSE (src/fs, src/fuse).
 */
export { BlobReader, type BlobHandle, type RangeSource, type ReaderOptions } from './reader.js';
export { createReadCounters, type ReadCounters } from './counters.js';
export { missingRuns } from './plan.js';
export { demandExtent, findCursor, noteRequested, trackRead, wantedReadAhead, type Cursor, type ReadAheadConfig } from './readahead.js';
