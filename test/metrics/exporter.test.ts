import { describe, expect, it } from 'vitest';
import { createMetricsExporter, READ_LATENCY_BUCKETS, type MetricsSnapshot } from '../../src/metrics/index.js';
import { createReadCounters } from '../../src/read/index.js';
import { parseExposition, sample } from './exposition.js';

const full = (): MetricsSnapshot => ({
  read: { requests: 7, bytesFetched: 9_000_000, cacheHits: 40, cacheMisses: 3, bytesServed: 12_345_678 },
  registry: { requests: 11, bytesDownloaded: 9_100_000, bytesUploaded: 0, retries: 2 },
  cache: { bytes: 8_388_608, maxSize: 10 * 1024 ** 3, blobs: 5, completeBlobs: 4, pinnedBlobs: 1, manifests: 6 },
});

describe('createMetricsExporter', () => {
  const expected: [string, string, number][] = [
    ['ocifs_registry_requests_total', 'counter', 11],
    ['ocifs_registry_retries_total', 'counter', 2],
    ['ocifs_registry_received_bytes_total', 'counter', 9_100_000],
    ['ocifs_registry_sent_bytes_total', 'counter', 0],
    ['ocifs_blob_fetches_total', 'counter', 7],
    ['ocifs_blob_fetched_bytes_total', 'counter', 9_000_000],
    ['ocifs_cache_hits_total', 'counter', 40],
    ['ocifs_cache_misses_total', 'counter', 3],
    ['ocifs_read_bytes_total', 'counter', 12_345_678],
    ['ocifs_cache_size_bytes', 'gauge', 8_388_608],
    ['ocifs_cache_limit_bytes', 'gauge', 10 * 1024 ** 3],
    ['ocifs_cache_blobs', 'gauge', 5],
    ['ocifs_cache_complete_blobs', 'gauge', 4],
    ['ocifs_cache_open_blobs', 'gauge', 1],
    ['ocifs_cache_manifests', 'gauge', 6],
  ];

  it('mirrors every field of the snapshot, with the right type', async () => {
    const text = await createMetricsExporter({ collect: full, processMetrics: false }).render();
    const exposition = parseExposition(text);
    for (const [name, type, value] of expected) {
      expect(exposition.types.get(name), name).toBe(type);
      expect(sample(exposition, name), name).toBe(value);
    }
    expect(sample(exposition, 'ocifs_build_info{version="unknown"}')).toBe(1);
  });

  it('follows the live counters from one scrape to the next (never adds them up twice)', async () => {
    const read = createReadCounters();
    const exporter = createMetricsExporter({ collect: () => ({ read }), processMetrics: false });
    read.requests = 2;
    read.bytesFetched = 100;
    expect(sample(parseExposition(await exporter.render()), 'ocifs_blob_fetched_bytes_total')).toBe(100);
    expect(sample(parseExposition(await exporter.render()), 'ocifs_blob_fetched_bytes_total')).toBe(100);
    read.bytesFetched = 250;
    const third = parseExposition(await exporter.render());
    expect(sample(third, 'ocifs_blob_fetched_bytes_total')).toBe(250);
    expect(sample(third, 'ocifs_blob_fetches_total')).toBe(2);
  });

  it('reads 0 for parts the snapshot does not have (a layout mount has no registry client)', async () => {
    const exposition = parseExposition(await createMetricsExporter({ collect: () => ({ read: full().read }), processMetrics: false }).render());
    expect(sample(exposition, 'ocifs_registry_requests_total')).toBe(0);
    expect(sample(exposition, 'ocifs_cache_size_bytes')).toBe(0);
    expect(sample(exposition, 'ocifs_cache_hits_total')).toBe(40);
  });

  it('may be async, and takes one snapshot per scrape', async () => {
    let calls = 0;
    const exporter = createMetricsExporter({
      collect: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return full();
      },
      processMetrics: false,
    });
    await exporter.render();
    await exporter.render();
    expect(calls).toBe(2);
  });

  it('puts read latencies into cumulative buckets, and ignores nonsense durations', async () => {
    const exporter = createMetricsExporter({ collect: () => ({}), processMetrics: false });
    for (const s of [0.00005, 0.0003, 0.004, 0.004, 0.2, 45]) exporter.observeReadLatency(s);
    for (const s of [-1, Number.NaN, Number.POSITIVE_INFINITY]) exporter.observeReadLatency(s);
    const e = parseExposition(await exporter.render());
    expect(e.types.get('ocifs_read_duration_seconds')).toBe('histogram');
    const bucket = (le: string) => sample(e, `ocifs_read_duration_seconds_bucket{le="${le}"}`);
    expect(bucket('0.0001')).toBe(1);
    expect(bucket('0.0005')).toBe(2);
    expect(bucket('0.005')).toBe(4);
    expect(bucket('0.25')).toBe(5);
    expect(bucket('30')).toBe(5);
    expect(bucket('+Inf')).toBe(6);
    expect(sample(e, 'ocifs_read_duration_seconds_count')).toBe(6);
    expect(sample(e, 'ocifs_read_duration_seconds_sum')).toBeCloseTo(45.20835, 6);
    expect(READ_LATENCY_BUCKETS.every((b, i, all) => i === 0 || b > all[i - 1]!)).toBe(true);
  });

  it('adds the given labels to every series, and the version to build_info', async () => {
    const e = parseExposition(
      await createMetricsExporter({ collect: full, labels: { mountpoint: '/mnt/eo' }, version: '0.1.0', processMetrics: false }).render(),
    );
    expect(sample(e, 'ocifs_cache_hits_total{mountpoint="/mnt/eo"}')).toBe(40);
    expect(sample(e, 'ocifs_build_info{version="0.1.0",mountpoint="/mnt/eo"}')).toBe(1);
    expect([...e.samples.keys()].filter((k) => k.startsWith('ocifs_') && !k.includes('mountpoint="/mnt/eo"'))).toEqual([]);
  });

  it("includes Node's process metrics unless asked not to", async () => {
    const withProcess = parseExposition(await createMetricsExporter({ collect: () => ({}) }).render());
    expect(withProcess.samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    const without = parseExposition(await createMetricsExporter({ collect: () => ({}), processMetrics: false }).render());
    expect(without.samples.has('process_resident_memory_bytes')).toBe(false);
  });
});
