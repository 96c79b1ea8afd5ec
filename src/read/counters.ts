/**
 * Read-path counters: plain numbers, updated in place, read by whoever reports them (the status
 * command, a metrics exporter). Cumulative since the reader was created.
 */
export interface ReadCounters {
  /** Requests sent to sources (Range GETs and whole-blob GETs). */
  requests: number;
  /** Bytes received from sources. */
  bytesFetched: number;
  /** Reads served without waiting for any fetch. */
  cacheHits: number;
  /** Reads that had to wait for a fetch. */
  cacheMisses: number;
  /** Bytes returned to callers. */
  bytesServed: number;
}

export function createReadCounters(): ReadCounters {
  return { requests: 0, bytesFetched: 0, cacheHits: 0, cacheMisses: 0, bytesServed: 0 };
}
