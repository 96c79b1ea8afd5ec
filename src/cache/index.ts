/**
 * src/cache — the digest-keyed local store under one directory that several daemons may share
 * and that survives restarts and SIGKILL:
 * - `index.db` (SQLite, WAL): blobs and their present blocks, pins of open blobs, manifests by
 *   digest, tag -> digest with the time checked, listings;
 * - `blobs/<alg>/<hex>`: blob bytes at their own offsets (sparse files).
 *
 * Owns: that directory, its schema, eviction and verification. Does not fetch anything itself
 * (callers pass a source), decide freshness (TTLs are the caller's), or know about FUSE paths.
 * Depends only on src/ref, src/oci types, src/errors and src/log.
 */
export { Cache, DEFAULT_BLOCK_SIZE, type CacheOptions, type CacheStats, type ClearResult, type PruneResult, type VerifyResult } from './cache.js';
export { BlobEntry, BlobStore, type BlobDescriptor, type BlobInfo, type WholeBlobSource } from './blob-store.js';
export { MetadataStore, type CachedListing, type CachedManifest, type CachedTag } from './metadata-store.js';
export { BlockSet, blockCountFor, blockLength, blocksSpanning, byteRangeOf, type BlockRange } from './blocks.js';
export { chooseVictims, defaultMaxSize } from './eviction.js';
