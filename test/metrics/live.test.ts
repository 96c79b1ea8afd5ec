/**
 * The metrics of a real read path: the registry client, the cache and the BlobReader under an
 * OciFilesystem (src/fs, no kernel in the loop) against the real test registry, scraped over
 * HTTP while it runs. Checks that the snapshot wiring the CLI will use reports what happened.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Cache } from '../../src/cache/index.js';
import { OciFilesystem, repositoryMount } from '../../src/fs/index.js';
import { startMetricsServer, timeReads, type MetricsServer } from '../../src/metrics/index.js';
import { BlobReader } from '../../src/read/index.js';
import { NO_CREDENTIALS, RegistryClient } from '../../src/registry/index.js';
import { pushSampleArtifact, sha256, type PushedArtifact } from '../containers/artifact.js';
import { parseExposition, sample } from './exposition.js';

const registryHost = inject('registryHost');

let dir = '';
let artifact: PushedArtifact;
let client: RegistryClient;
let cache: Cache;
let reader: BlobReader;
let fs: OciFilesystem;
let metrics: MetricsServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-metrics-live-'));
  artifact = await pushSampleArtifact(registryHost, 'metrics/sample');
  client = new RegistryClient(registryHost, { credentials: NO_CREDENTIALS });
  cache = Cache.open({ dir: join(dir, 'cache') });
  reader = new BlobReader({ cache });
  fs = new OciFilesystem({ source: repositoryMount(client.repository('metrics/sample')), reader, metadata: cache.metadata, unpackDir: join(dir, 'unpacked') });
  // The wiring the CLI uses: plain counters in, one snapshot per scrape.
  metrics = await startMetricsServer({
    addr: '127.0.0.1:0',
    processMetrics: false,
    collect: () => ({ read: reader.counters, registry: client.stats, cache: cache.stats() }),
  });
});

afterAll(async () => {
  await metrics?.close();
  await fs?.close().catch(() => {});
  reader?.close();
  cache?.close();
  await client?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function scrape() {
  const res = await request(metrics.url);
  expect(res.statusCode).toBe(200);
  return parseExposition(await res.body.text());
}

async function readWhole(ops: Pick<OciFilesystem, 'open' | 'read' | 'release'>, path: string, size: number): Promise<Buffer> {
  const handle = await ops.open(path, 0);
  const out = Buffer.alloc(size);
  const chunk = 128 * 1024;
  try {
    for (let pos = 0; pos < size; pos += chunk) {
      const buf = Buffer.alloc(chunk);
      const n = await ops.read(handle, buf, Math.min(chunk, size - pos), pos);
      buf.copy(out, pos, 0, n);
    }
  } finally {
    await ops.release(handle);
  }
  return out;
}

describe('metrics of a live read path', () => {
  it('report the fetch, the bytes, the cache and the read latencies of a first and a second read', async () => {
    const data = artifact.files.get('data.bin')!;
    const timed = timeReads(fs, (s) => metrics.observeReadLatency(s));
    const before = await scrape();
    expect(sample(before, 'ocifs_blob_fetched_bytes_total')).toBe(0);
    expect(sample(before, 'ocifs_read_duration_seconds_count')).toBe(0);

    const size = (await fs.getattr('/v1/data.bin')).size;
    expect(size).toBe(data.length);
    expect(sha256(await readWhole(timed, '/v1/data.bin', size))).toBe(sha256(data));
    const reads = Math.ceil(size / (128 * 1024));

    const first = await scrape();
    expect(sample(first, 'ocifs_blob_fetched_bytes_total')).toBe(reader.counters.bytesFetched);
    expect(sample(first, 'ocifs_blob_fetched_bytes_total')).toBeGreaterThanOrEqual(size);
    expect(sample(first, 'ocifs_blob_fetches_total')).toBeGreaterThan(0);
    expect(sample(first, 'ocifs_read_bytes_total')).toBe(size);
    expect(sample(first, 'ocifs_registry_requests_total')).toBe(client.stats.requests);
    expect(sample(first, 'ocifs_registry_received_bytes_total')).toBeGreaterThanOrEqual(size);
    expect(sample(first, 'ocifs_cache_size_bytes')).toBeGreaterThanOrEqual(size);
    expect(sample(first, 'ocifs_cache_blobs')).toBeGreaterThanOrEqual(1);
    expect(sample(first, 'ocifs_cache_misses_total')).toBeGreaterThan(0);
    expect(sample(first, 'ocifs_read_duration_seconds_count')).toBe(reads);

    // The second read is served by the cache: no new fetch, more hits, twice the bytes served.
    await readWhole(timed, '/v1/data.bin', size);
    const second = await scrape();
    expect(sample(second, 'ocifs_blob_fetched_bytes_total')).toBe(sample(first, 'ocifs_blob_fetched_bytes_total'));
    expect(sample(second, 'ocifs_cache_hits_total')).toBeGreaterThanOrEqual(sample(first, 'ocifs_cache_hits_total') + reads);
    expect(sample(second, 'ocifs_read_bytes_total')).toBe(2 * size);
    expect(sample(second, 'ocifs_read_duration_seconds_count')).toBe(2 * reads);
  });
});
