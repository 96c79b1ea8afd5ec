/**
 * What the exporter reads on each scrape: the plain counters the daemon already keeps, taken as
 * they are (no copies kept here). Every part is optional: a mount of an OCI layout has no
 * registry client; the metrics of an absent part read 0.
 */
import type { CacheStats } from '../cache/index.js';
import type { ReadCounters } from '../read/index.js';
import type { ClientStats } from '../registry/index.js';

export interface MetricsSnapshot {
  /** The BlobReader's `counters` (src/read/counters.ts): cumulative since the reader started. */
  read?: ReadCounters;
  /** The RegistryClient's `stats`: cumulative HTTP requests and bytes. */
  registry?: ClientStats;
  /** The Cache's `stats()` (or the fields of it below): sizes right now. */
  cache?: Pick<CacheStats, 'bytes' | 'maxSize' | 'blobs' | 'completeBlobs' | 'pinnedBlobs' | 'manifests'>;
}

/** Called once per scrape; may be async. A throw answers the scrape with 500 and is logged. */
export type CollectSnapshot = () => MetricsSnapshot | Promise<MetricsSnapshot>;
