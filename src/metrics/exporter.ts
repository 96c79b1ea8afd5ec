/**
 * The Prometheus metrics of one daemon, on prom-client with a registry of its own (never the
 * library's global one, so two exporters in one process, as in tests, never collide).
 *
 * The counters themselves live where the work is done (src/read, src/registry, src/cache) as
 * plain numbers; here each scrape takes one snapshot and mirrors it into prom-client metrics.
 * The read latency histogram is the exception: it is observed here, by the FUSE read path.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollectSnapshot, MetricsSnapshot } from './snapshot.js';

/** Seconds: from a page-cache-speed hit (100 µs) to a slow registry on a cold cache (30 s). */
export const READ_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ExporterOptions {
  collect: CollectSnapshot;
  /** Shown as `ocifs_build_info{version="..."} 1`. */
  version?: string;
  /** Labels on every series, e.g. `{ mountpoint: '/mnt/eo' }` when several daemons share one node. */
  labels?: Record<string, string>;
  /** Node's process metrics (CPU, memory, event loop lag, fds); default true. */
  processMetrics?: boolean;
}

export interface MetricsExporter {
  /** Content-Type of `render()`'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** Records how long one FUSE read took to answer, in seconds (errors included). */
  observeReadLatency(seconds: number): void;
  /** Takes a snapshot and renders every metric as Prometheus text. */
  render(): Promise<string>;
}

type Read = (s: MetricsSnapshot) => number | undefined;

export function createMetricsExporter(options: ExporterOptions): MetricsExporter {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  // The snapshot of the scrape in progress; the collect hooks below read it.
  let current: MetricsSnapshot = {};

  // prom-client counters only go up by inc(): mirroring an external cumulative value means
  // resetting and adding it back on each collect. A part absent from the snapshot reads 0.
  const counter = (name: string, help: string, read: Read) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const value = read(current);
        if (value !== undefined) this.inc(value);
      },
    });
  const gauge = (name: string, help: string, read: Read) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read(current);
        if (value === undefined) this.reset();
        else this.set(value);
      },
    });

  counter('ocifs_registry_requests_total', 'HTTP requests sent to the registry (retries included).', (s) => s.registry?.requests);
  counter('ocifs_registry_retries_total', 'HTTP requests to the registry that were retries.', (s) => s.registry?.retries);
  counter('ocifs_registry_received_bytes_total', 'Bytes received from the registry (blobs, manifests, listings).', (s) => s.registry?.bytesDownloaded);
  counter('ocifs_registry_sent_bytes_total', 'Bytes uploaded to the registry.', (s) => s.registry?.bytesUploaded);

  counter('ocifs_blob_fetches_total', 'Blob fetches (Range or whole) made by the read path on cache misses.', (s) => s.read?.requests);
  counter('ocifs_blob_fetched_bytes_total', 'Blob bytes fetched by the read path.', (s) => s.read?.bytesFetched);
  counter('ocifs_cache_hits_total', 'Reads served from the cache without waiting for a fetch.', (s) => s.read?.cacheHits);
  counter('ocifs_cache_misses_total', 'Reads that waited for a fetch.', (s) => s.read?.cacheMisses);
  counter('ocifs_read_bytes_total', 'Bytes returned to readers of the mount.', (s) => s.read?.bytesServed);

  gauge('ocifs_cache_size_bytes', 'Blob bytes present in the cache.', (s) => s.cache?.bytes);
  gauge('ocifs_cache_limit_bytes', 'The cache size limit.', (s) => s.cache?.maxSize);
  gauge('ocifs_cache_blobs', 'Blobs in the cache, whole or partial.', (s) => s.cache?.blobs);
  gauge('ocifs_cache_complete_blobs', 'Blobs in the cache that are whole and verified.', (s) => s.cache?.completeBlobs);
  gauge('ocifs_cache_open_blobs', 'Blobs held open (pinned against eviction) by some process.', (s) => s.cache?.pinnedBlobs);
  gauge('ocifs_cache_manifests', 'Manifests in the cache.', (s) => s.cache?.manifests);

  const build = new Gauge({ name: 'ocifs_build_info', help: 'Always 1; the version is a label.', labelNames: ['version'], registers: [registry] });
  build.set({ version: options.version ?? 'unknown' }, 1);

  const readLatency = new Histogram({
    name: 'ocifs_read_duration_seconds',
    help: 'Time to answer one read() on the mount, from the kernel request to the reply.',
    buckets: READ_LATENCY_BUCKETS,
    registers: [registry],
  });

  return {
    contentType: registry.contentType,
    observeReadLatency(seconds) {
      if (Number.isFinite(seconds) && seconds >= 0) readLatency.observe(seconds);
    },
    async render() {
      // Set and read in one synchronous stretch: prom-client runs every collect hook before its
      // first await, so overlapping scrapes each see their own snapshot.
      current = await options.collect();
      return registry.metrics();
    },
  };
}
