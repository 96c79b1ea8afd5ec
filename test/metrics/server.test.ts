import { createServer, type Server } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer, startMetricsServerOrWarn, type MetricsServer, type MetricsSnapshot } from '../../src/metrics/index.js';
import { OcifsError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { parseExposition, sample } from './exposition.js';

const snapshot = (): MetricsSnapshot => ({
  read: { requests: 3, bytesFetched: 4096, cacheHits: 9, cacheMisses: 3, bytesServed: 8192 },
  registry: { requests: 5, bytesDownloaded: 5000, bytesUploaded: 0, retries: 0 },
  cache: { bytes: 4096, maxSize: 1 << 30, blobs: 1, completeBlobs: 0, pinnedBlobs: 1, manifests: 1 },
});

const servers: MetricsServer[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const b of blockers.splice(0)) await new Promise((r) => b.close(r));
});

function captureLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) };
}

async function start(options: Partial<Parameters<typeof startMetricsServer>[0]> = {}): Promise<MetricsServer> {
  const server = await startMetricsServer({ addr: '127.0.0.1:0', collect: snapshot, processMetrics: false, ...options });
  servers.push(server);
  return server;
}

async function get(url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(url, { method });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** A port something else listens on. */
async function occupiedPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  return (blocker.address() as { port: number }).port;
}

describe('startMetricsServer', () => {
  it('serves GET /metrics in the Prometheus text format, on loopback', async () => {
    const server = await start();
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.address.port}/metrics`);
    const res = await get(server.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const e = parseExposition(res.body);
    expect(sample(e, 'ocifs_cache_hits_total')).toBe(9);
    expect(sample(e, 'ocifs_registry_requests_total')).toBe(5);
  });

  it('records read latencies handed to observeReadLatency', async () => {
    const server = await start();
    server.observeReadLatency(0.002);
    server.observeReadLatency(0.7);
    const e = parseExposition((await get(server.url)).body);
    expect(sample(e, 'ocifs_read_duration_seconds_count')).toBe(2);
    expect(sample(e, 'ocifs_read_duration_seconds_bucket{le="0.0025"}')).toBe(1);
  });

  it('answers HEAD without a body, / with a pointer, other paths 404, other methods 405', async () => {
    const server = await start();
    const base = `http://127.0.0.1:${server.address.port}`;
    const head = await get(server.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect((await get(`${base}/`)).body).toMatch(/\/metrics/);
    expect((await get(`${base}/metrics/x`)).status).toBe(404);
    const post = await get(server.url, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('answers 500 and logs when collecting fails, and recovers on the next scrape', async () => {
    const { lines, logger } = captureLogger();
    let fail = true;
    const server = await start({
      logger,
      collect: () => {
        if (fail) throw new Error('the cache is closed');
        return snapshot();
      },
    });
    const bad = await get(server.url);
    expect(bad.status).toBe(500);
    expect(bad.body).toMatch(/the cache is closed/);
    expect(lines.some((l) => /collecting metrics failed/.test(l) && /the cache is closed/.test(l))).toBe(true);
    fail = false;
    expect((await get(server.url)).status).toBe(200);
  });

  it('refuses a port in use with a clear INVALID_ARGUMENT error naming the address', async () => {
    const port = await occupiedPort();
    const err = await startMetricsServer({ addr: `127.0.0.1:${port}`, collect: snapshot, processMetrics: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OcifsError);
    expect((err as OcifsError).code).toBe('INVALID_ARGUMENT');
    expect((err as OcifsError).message).toBe(`cannot serve metrics on 127.0.0.1:${port}: the port is in use`);
    expect((err as OcifsError).hint).toMatch(/--metrics-addr/);
  });

  it('refuses an address that is not on this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface; binding fails locally.
    const err = await startMetricsServer({ addr: '192.0.2.1:0', collect: snapshot, processMetrics: false }).catch((e: unknown) => e);
    expect((err as OcifsError).code).toBe('INVALID_ARGUMENT');
    expect((err as OcifsError).message).toMatch(/192\.0\.2\.1 is not an address of this machine/);
  });

  it('refuses a malformed address before listening', async () => {
    await expect(startMetricsServer({ addr: 'localhost:port', collect: snapshot })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('close() frees the port, is idempotent, and drops kept-alive connections', async () => {
    const server = await start();
    await get(server.url); // leaves a keep-alive connection in undici's pool
    const { port } = server.address;
    await Promise.all([server.close(), server.close()]);
    const again = await start({ addr: `127.0.0.1:${port}` });
    expect(again.address.port).toBe(port);
  });
});

describe('startMetricsServerOrWarn', () => {
  it('logs one warning and gives undefined when the port is in use: the mount goes on', async () => {
    const port = await occupiedPort();
    const { lines, logger } = captureLogger();
    const server = await startMetricsServerOrWarn({ addr: `127.0.0.1:${port}`, collect: snapshot, logger, processMetrics: false });
    expect(server).toBeUndefined();
    const warnings = lines.filter((l) => / warn /.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`metrics are off: cannot serve metrics on 127\\.0\\.0\\.1:${port}: the port is in use`));
    expect(warnings[0]).toMatch(/the mount works without them/);
  });

  it('returns the running server when it can listen', async () => {
    const server = await startMetricsServerOrWarn({ addr: '127.0.0.1:0', collect: snapshot, processMetrics: false });
    expect(server).toBeDefined();
    servers.push(server!);
    expect((await get(server!.url)).status).toBe(200);
  });
});
