/**
 * Retries, timeouts and odd-but-real registry behaviour, with a fault-injecting proxy in front
 * of the real registry: 503s, Retry-After, connection resets, a slow answer, a registry that is
 * down, Range ignored, Accept-Ranges missing, paginated tag lists.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { RegistryClient, StaticCredentials, type RegistryClientOptions, type RepositoryTarget } from '../../src/registry/index.js';
import { freePort } from '../helpers/registry.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { pushArtifact, randomBlob, readAll, type Artifact } from './fixtures.js';

const upstream = `http://${inject('registryHost')}`;
const fast = { attempts: 4, minDelayMs: 5, maxDelayMs: 20, budgetMs: 5_000 };
const REPO = 'registry-resilience/artifact';

let proxy: FaultProxy;
let artifact: Artifact;
const big = randomBlob(2 * 1024 * 1024);
const clients: RegistryClient[] = [];

function client(options: RegistryClientOptions = {}, host = proxy.host): RegistryClient {
  const c = new RegistryClient(host, { credentials: new StaticCredentials({}), retry: fast, ...options });
  clients.push(c);
  return c;
}

function repo(options: RegistryClientOptions = {}): RepositoryTarget {
  return client(options).repository(REPO);
}

beforeAll(async () => {
  proxy = await startFaultProxy(upstream);
  const setup = new RegistryClient(proxy.host, { credentials: new StaticCredentials({}) });
  artifact = await pushArtifact(setup.repository(REPO), { 'big.bin': big.bytes }, ['v1']);
  await setup.close();
});

afterEach(async () => {
  proxy.clearFaults();
  proxy.ignoreRange = false;
  proxy.dropAcceptRanges = false;
  proxy.tagPageSize = undefined;
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await proxy?.stop();
});

describe('retries', () => {
  test('503 twice, then the answer', async () => {
    const r = repo();
    proxy.fault({ method: 'GET', path: /manifests\/v1$/, times: 2, action: { status: 503 } });
    const m = await r.fetchManifest('v1');
    expect(m.bytes.equals(artifact.manifest)).toBe(true);
    expect(r.client.stats.retries).toBe(2);
  });

  test('Retry-After is honoured', async () => {
    const r = repo({ retry: { ...fast, maxDelayMs: 10 } });
    proxy.fault({ method: 'HEAD', path: /manifests\/v1$/, action: { status: 429, headers: { 'retry-after': '1' } } });
    const started = Date.now();
    expect((await r.resolve('v1')).digest).toBe(artifact.desc.digest);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test('a Retry-After beyond the budget gives up at once with TOO_MANY_REQUESTS', async () => {
    const r = repo();
    proxy.fault({ method: 'GET', path: /manifests\/v1$/, action: { status: 429, headers: { 'retry-after': '3600' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' } });
    const started = Date.now();
    const err = await r.fetchManifest('v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429 });
    expect((err as { hasWireCode(c: string): boolean }).hasWireCode('TOOMANYREQUESTS')).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000); // not the hour it asked for
  });

  test('persistent 500 -> REGISTRY_ERROR after the attempts, naming the reference', async () => {
    const r = repo();
    proxy.fault({ method: 'GET', path: /manifests\/v1$/, times: 100, action: { status: 500, body: '{"errors":[{"code":"UNKNOWN","message":"boom"}]}' } });
    const err = await r.fetchManifest('v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'REGISTRY_ERROR', status: 500 });
    expect((err as Error).message).toContain(`${REPO}:v1`);
    expect(r.client.stats.retries).toBe(3);
  });

  test('a connection reset is retried', async () => {
    const r = repo();
    proxy.fault({ method: 'GET', path: /blobs\/sha256/, action: { reset: true } });
    const got = await r.fetchBlobRange(big.desc, 10, 100);
    expect(got.equals(big.bytes.subarray(10, 110))).toBe(true);
    expect(r.client.stats.retries).toBe(1);
  });

  test('a blob stream broken mid-way continues with a Range from where it stopped', async () => {
    const r = repo();
    proxy.fault({ method: 'GET', path: /blobs\/sha256:/, action: { cutAfterBytes: 700_000 } });
    const before = proxy.requests.length;
    expect((await readAll(await r.fetchBlob(big.desc))).equals(big.bytes)).toBe(true);
    const blobGets = proxy.requests.slice(before).filter((q) => q.method === 'GET' && q.url.includes('/blobs/'));
    expect(blobGets).toHaveLength(2);
    expect(blobGets[1]!.headers.range).toMatch(new RegExp(`^bytes=\\d+-${big.bytes.length - 1}$`));
    expect(r.client.stats.retries).toBe(1);
    expect(r.client.stats.bytesDownloaded).toBe(big.bytes.length);
  });

  test('a slow answer times out and is retried', async () => {
    const r = repo({ timeouts: { headersMs: 1000 } });
    proxy.fault({ method: 'HEAD', path: /manifests\/v1$/, action: { delayMs: 6000 } });
    const started = Date.now();
    expect((await r.resolve('v1')).digest).toBe(artifact.desc.digest);
    expect(Date.now() - started).toBeLessThan(5000); // did not wait for the slow answer
    expect(r.client.stats.retries).toBeGreaterThanOrEqual(1);
  });

  test('a registry that is down: UNREACHABLE quickly, within the retry budget', async () => {
    const port = await freePort();
    const c = client({}, `127.0.0.1:${port}`);
    const started = Date.now();
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE', message: `cannot reach 127.0.0.1:${port}: connection refused` });
    expect((err as { hint: string }).hint).toBeTruthy();
    expect(c.stats.retries).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000); // within the (fast) retry budget
  });

  test('an abort signal stops waiting', async () => {
    const r = repo({ retry: { ...fast, minDelayMs: 5000, maxDelayMs: 5000 } });
    proxy.fault({ method: 'HEAD', path: /manifests\/v1$/, times: 10, action: { status: 503 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(r.resolve('v1', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(4500); // before the 5 s back-off ran out
  });
});

describe('Range behaviour of real registries', () => {
  test('a registry that ignores Range: the slice is cut from the 200, the rest is not downloaded', async () => {
    proxy.ignoreRange = true;
    const r = repo();
    const got = await r.fetchBlobRange(big.desc, 1000, 5000);
    expect(got.equals(big.bytes.subarray(1000, 6000))).toBe(true);
    expect(r.client.rangeSupport).toBe('ignored');
    expect(r.client.stats.bytesDownloaded).toBeLessThan(big.bytes.length / 2);
    const tail = await r.fetchBlobRange(big.desc, big.bytes.length - 10, 100);
    expect(tail.equals(big.bytes.subarray(big.bytes.length - 10))).toBe(true);
  });

  test('no Accept-Ranges header: ranges are still asked for and honoured', async () => {
    proxy.dropAcceptRanges = true;
    const r = repo();
    expect((await r.fetchBlobRange(big.desc, 123, 456)).equals(big.bytes.subarray(123, 579))).toBe(true);
    expect(r.client.rangeSupport).toBe('supported');
    const ranged = proxy.requests.filter((q) => q.headers.range === 'bytes=123-578');
    expect(ranged).toHaveLength(1);
    expect(ranged[0]!.headers['accept-encoding']).toBe('identity');
  });

  test('whole blob fetch is verified as it streams', async () => {
    const r = repo();
    expect((await readAll(await r.fetchBlob(big.desc))).equals(big.bytes)).toBe(true);
    expect(r.client.stats.bytesDownloaded).toBe(big.bytes.length);
  });
});

describe('pagination', () => {
  test('tags follow Link pages until the last', async () => {
    const r = repo();
    const tags = Array.from({ length: 10 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await r.pushManifest(artifact.desc, artifact.manifest, tags);
    proxy.tagPageSize = 3;
    const before = proxy.requests.length;
    const listed = await r.listTags({ pageSize: 3 });
    expect(listed).toEqual([...tags, 'v1'].sort());
    expect(proxy.requests.slice(before).filter((q) => q.url.includes('/tags/list'))).toHaveLength(4);
  });
});
