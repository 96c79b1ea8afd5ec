/**
 * The counting proxy in front of the real registry (docker-registry, started by the bench's own
 * services module): what passes through is unchanged, and what it counts is what was sent.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Cleanup } from '../proc.mjs';
import { startCountingProxy } from '../proxy.mjs';
import { startRegistry } from '../services.mjs';

const cleanup = new Cleanup();
let dir;
let proxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-bench-test-'));
  const registry = await startRegistry(cleanup, join(dir, 'registry'));
  proxy = await startCountingProxy('127.0.0.1', registry.host.split(':')[1]);
  cleanup.add(proxy.stop, 'proxy');
});

afterAll(async () => {
  await cleanup.runAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('an upload and a Range read through the proxy: bodies unchanged, bytes and kinds counted', async () => {
  const blob = Buffer.alloc(100_000, 7);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const base = `http://${proxy.host}/v2/bench/proxy-test`;
  const mark = proxy.mark();

  const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
  expect(started.status).toBe(202);
  // The registry builds Location from the Host header: it must point back at the proxy.
  const location = new URL(started.headers.get('location'), base);
  expect(location.host).toBe(proxy.host);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
  expect(put.status).toBe(201);

  const ranged = await fetch(`${base}/blobs/${digest}`, { headers: { range: 'bytes=1000-1999' } });
  expect(ranged.status).toBe(206);
  expect(Buffer.from(await ranged.arrayBuffer()).equals(blob.subarray(1000, 2000))).toBe(true);
  const head = await fetch(`${base}/blobs/${digest}`, { method: 'HEAD' });
  expect(head.headers.get('content-length')).toBe('100000');

  const s = proxy.since(mark);
  expect(s.requests).toBe(4);
  expect(s.uploadBytes).toBe(100_000);
  expect(s.blobGets).toBe(1);
  expect(s.blobResponseSizes).toEqual([1000]);
  expect(s.byKind).toMatchObject({ upload: { POST: 1, PUT: 1 }, blob: { GET: 1, HEAD: 1 } });
  expect(proxy.entriesSince(mark)[2]).toMatchObject({ method: 'GET', status: 206, range: 'bytes=1000-1999' });
});

test('a request the registry refuses is passed through and counted', async () => {
  const mark = proxy.mark();
  const res = await fetch(`http://${proxy.host}/v2/bench/proxy-test/manifests/missing`);
  expect(res.status).toBe(404);
  await res.arrayBuffer();
  const s = proxy.since(mark);
  expect(s).toMatchObject({ requests: 1, manifestGets: 1, blobGets: 0 });
  expect(s.bytesOut).toBeGreaterThan(0);
});
