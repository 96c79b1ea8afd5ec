/**
 * src/metrics — the daemon's Prometheus endpoint (`--metrics-addr`): an HTTP server on loopback
 * by default, prom-client metrics mirrored from the plain counters that the read path, the
 * registry client and the cache keep, and a read latency histogram fed by the FUSE read path.
 *
 * Owns: metric names, the HTTP endpoint, and turning listen failures into clear errors (or one
 * warning, so a port in use never stops a mount). Does not own the counters (src/read,
 * src/registry, src/cache keep them) nor any flag parsing (src/cli passes the address in).
 */
export { DEFAULT_METRICS_ADDR, DEFAULT_METRICS_PORT, formatMetricsAddress, parseMetricsAddress, type MetricsAddress } from './address.js';
export { createMetricsExporter, READ_LATENCY_BUCKETS, type ExporterOptions, type MetricsExporter } from './exporter.js';
export { listenError, startMetricsServer, startMetricsServerOrWarn, type MetricsServer, type MetricsServerOptions } from './server.js';
export type { CollectSnapshot, MetricsSnapshot } from './snapshot.js';
export { timeReads } from './timing.js';
