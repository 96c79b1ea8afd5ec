/**
 * Mirrors against two real registries: an origin, and a second docker-registry configured as a
 * pull-through proxy of it. Counting proxies in front of both show which one served what, so no
 * test here can pass with the mirror unused.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { MirroredRepository, MirrorPool, mirrorConfigFromFlags } from '../../src/mirrors/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { BlobReader } from '../../src/read/index.js';
import { digestOf } from '../../src/ref/digest.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pseudoRandomBytes, pushArtifact } from '../helpers/artifacts.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { freePort, startRegistry, type RunningRegistry } from '../helpers/registry.js';

const REPO = 'mirrors/eo';
const FAST_RETRY = { attempts: 2, minDelayMs: 10, maxDelayMs: 20, budgetMs: 2_000 };
const big = pseudoRandomBytes(3 * 1024 * 1024 + 123, 7);
const small = pseudoRandomBytes(20_000, 8);

let origin: RunningRegistry;
let originFront: FaultProxy; // counts every request that reaches the origin
let manifest: Descriptor;
let bigDesc: Descriptor;
let smallDesc: Descriptor;

// Per test: clients, pools, proxies, registries and temp dirs to close, also on failure.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

beforeAll(async () => {
  origin = await startRegistry();
  originFront = await startFaultProxy(origin.url);
  const pusher = new RegistryClient(origin.host, { retry: FAST_RETRY });
  try {
    const pushed = await pushArtifact(pusher.repository(REPO), ['v1'], [
      { title: 'big.bin', bytes: big },
      { title: 'small.bin', bytes: small },
    ]);
    manifest = pushed.descriptor;
    [bigDesc, smallDesc] = pushed.layers as [Descriptor, Descriptor];
  } finally {
    await pusher.close();
  }
});

afterAll(async () => {
  await originFront?.stop();
  await origin?.stop();
});

interface Captured {
  logger: Logger;
  lines: { level: string; msg: string; [k: string]: unknown }[];
}

function captureLogs(): Captured {
  const lines: Captured['lines'] = [];
  return { lines, logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) }) };
}

async function startMirror(): Promise<{ registry: RunningRegistry; front: FaultProxy }> {
  const registry = await startRegistry({ extraConfig: `proxy:\n  remoteurl: ${originFront.url}` });
  cleanups.push(() => registry.stop());
  const front = await startFaultProxy(registry.url);
  cleanups.push(() => front.stop());
  return { registry, front };
}

/** A "node": its own origin client and mirror pool, as a fresh process would have. */
function node(mirrorHost: string, options: { now?: () => number; logs?: Captured; originHost?: string; bufferedVerifyMax?: number } = {}) {
  const originHost = options.originHost ?? originFront.host;
  const client = new RegistryClient(originHost, { retry: FAST_RETRY });
  const pool = new MirrorPool({
    config: mirrorConfigFromFlags([`${originHost}=${mirrorHost}`]),
    logger: (options.logs ?? captureLogs()).logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.bufferedVerifyMax !== undefined ? { bufferedVerifyMax: options.bufferedVerifyMax } : {}),
  });
  cleanups.push(() => client.close(), () => pool.close());
  const target = pool.wrap(client.repository(REPO));
  expect(target).toBeInstanceOf(MirroredRepository);
  return target as MirroredRepository;
}

const blobGets = (p: FaultProxy, digest?: string) =>
  p.requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/') && (!digest || r.url.endsWith(digest)));

/** The mirror commits a proxied blob to its storage after serving it; wait until it holds it. */
async function waitStored(mirror: RunningRegistry, digest: string): Promise<string> {
  const hex = digest.slice('sha256:'.length);
  return waitFile(join(mirror.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'));
}

/** A manifest is kept once the repository links it (after its blobs are stored). */
async function waitManifestKept(mirror: RunningRegistry, digest: string): Promise<string> {
  const hex = digest.slice('sha256:'.length);
  return waitFile(join(mirror.storageDir, 'docker/registry/v2/repositories', REPO, '_manifests/revisions/sha256', hex, 'link'));
}

async function waitFile(path: string): Promise<string> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await sleep(25);
  expect(existsSync(path), `the mirror never stored ${path}`).toBe(true);
  return path;
}

/** Waits until no request has reached `proxy` for half a second. */
async function settled(proxy: FaultProxy): Promise<void> {
  for (let i = 0, seen = -1; i < 40 && seen !== proxy.requests.length; i++) {
    seen = proxy.requests.length;
    await sleep(500);
  }
}

async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(path, bytes);
}

async function readThrough(target: MirroredRepository, descriptors: Descriptor[]): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-mirror-cache-'));
  const cache = Cache.open({ dir });
  const reader = new BlobReader({ cache });
  cleanups.push(async () => {
    cache.close();
    await rm(dir, { recursive: true, force: true });
  });
  const out: Buffer[] = [];
  for (const d of descriptors) {
    const handle = await reader.open(d, target);
    const buf = Buffer.alloc(d.size);
    for (let pos = 0; pos < d.size; ) pos += await handle.read(buf.subarray(pos), Math.min(256 * 1024, d.size - pos), pos);
    await handle.close();
    out.push(buf);
  }
  return out;
}

describe('reading through a pull-through mirror', () => {
  it('serves range reads through a cold then warm mirror, and resolves tags at the origin', async () => {
    const { registry, front } = await startMirror();
    const target = node(front.host);
    const originBefore = originFront.requests.length;

    const resolved = await target.resolve('v1');
    expect(resolved.digest).toBe(manifest.digest);
    expect(originFront.requests.slice(originBefore).map((r) => `${r.method} ${r.url}`)).toEqual([`HEAD /v2/${REPO}/manifests/v1`]);
    expect(front.requests).toHaveLength(0); // tags are not asked of the mirror while the origin answers

    const fetched = await target.fetchManifest('v1');
    expect(fetched.descriptor.digest).toBe(manifest.digest);
    expect(front.requests.some((r) => r.method === 'GET' && r.url === `/v2/${REPO}/manifests/${manifest.digest}`)).toBe(true);

    // Cold: distribution answers the first Range with 200 and the whole blob.
    const mirrorClient = target.mirrors[0]!.client;
    expectBytes(await target.fetchBlobRange(bigDesc, 1_000_000, 100_000), big.subarray(1_000_000, 1_100_000));
    expect(mirrorClient.rangeSupport).toBe('ignored');
    await waitStored(registry, bigDesc.digest);
    // Warm: 206 for a closed range.
    expectBytes(await target.fetchBlobRange(bigDesc, 3_000_000, 5_000), big.subarray(3_000_000, 3_005_000));
    expect(mirrorClient.rangeSupport).toBe('supported');
    const ranged = blobGets(front, bigDesc.digest);
    expect(ranged.length).toBeGreaterThanOrEqual(2);
    expect(ranged.every((r) => typeof r.headers.range === 'string')).toBe(true);
  });

  it('reads ranges into the caller\'s buffer through the mirror, and falls back to the origin when it fails', async () => {
    const { registry, front } = await startMirror();
    const target = node(front.host);
    await target.fetchBlobRange(bigDesc, 0, 10); // cold mirror: fills it
    await waitStored(registry, bigDesc.digest);
    const originBefore = blobGets(originFront, bigDesc.digest).length;
    const mirrorBefore = blobGets(front, bigDesc.digest).length;

    const buffer = Buffer.alloc(100_000, 0xee);
    expect(await target.fetchBlobRangeInto(bigDesc, 1_500_000, buffer)).toBe(100_000);
    expectBytes(buffer, big.subarray(1_500_000, 1_600_000));
    expect(blobGets(front, bigDesc.digest).length - mirrorBefore).toBe(1);
    expect(blobGets(originFront, bigDesc.digest).length - originBefore).toBe(0);
    expect(target.reportBadContent(bigDesc.digest)).toEqual([front.host]); // it counts as a range server

    front.fault({ path: /./, times: 1_000_000, action: { reset: true } });
    const tail = Buffer.alloc(5_000, 0xee);
    const fresh = node(front.host);
    expect(await fresh.fetchBlobRangeInto(bigDesc, bigDesc.size - 3_000, tail)).toBe(3_000); // clamped to the blob
    expectBytes(tail.subarray(0, 3_000), big.subarray(bigDesc.size - 3_000));
    expect(blobGets(originFront, bigDesc.digest).length - originBefore).toBe(1);
    front.clearFaults();
  });

  it('a second node with an empty cache reads the same files without any origin request', async () => {
    const { registry, front } = await startMirror();
    const nodeA = node(front.host);
    const [bigA, smallA] = await readThrough(nodeA, [bigDesc, smallDesc]);
    expectBytes(bigA, big);
    expectBytes(smallA, small);
    await waitStored(registry, bigDesc.digest);
    await waitStored(registry, smallDesc.digest);
    await nodeA.fetchManifest(manifest);
    await waitManifestKept(registry, manifest.digest); // primed in the background: see MirroredRepository
    await settled(originFront); // a cold distribution proxy fetches some blobs upstream a second time, late

    const originBefore = originFront.requests.length;
    const mirrorBefore = front.requests.length;
    const nodeB = node(front.host);
    const fetched = await nodeB.fetchManifest(manifest); // by digest: a path such as /@sha256:.../
    const [bigB, smallB] = await readThrough(nodeB, fetched.parsed.kind === 'manifest' ? fetched.parsed.manifest.layers : []);
    expectBytes(bigB, big);
    expectBytes(smallB, small);
    expect(originFront.requests.slice(originBefore)).toEqual([]);
    expect(front.requests.length).toBeGreaterThan(mirrorBefore + 2);

    // By tag: one HEAD at the origin, nothing else.
    await nodeB.fetchManifest('v1');
    expect(originFront.requests.slice(originBefore).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('uses the mirror\'s tag answer only when the origin is unreachable, and trusts the origin\'s "not found"', async () => {
    const { front } = await startMirror();
    const deadOrigin = `127.0.0.1:${await freePort()}`;
    const logs = captureLogs();
    const cut = node(front.host, { originHost: deadOrigin, logs });
    expect((await cut.resolve('v1')).digest).toBe(manifest.digest);
    expect((await cut.fetchManifest('v1')).descriptor.digest).toBe(manifest.digest);
    expect(await cut.listTags()).toEqual(['v1']);
    expect(front.requests.some((r) => r.url === `/v2/${REPO}/manifests/v1`)).toBe(true);
    expect(logs.lines.some((l) => l.level === 'warn' && /may be stale/.test(l.msg))).toBe(true);

    const connected = node(front.host);
    const before = front.requests.length;
    await expect(connected.resolve('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(front.requests.length).toBe(before);
  });
});

describe('a mirror that fails', () => {
  it('is down: the origin serves, one warning, the mirror is skipped until its back-off ends', async () => {
    const { front } = await startMirror();
    front.fault({ path: /./, times: 1_000_000, action: { reset: true } });
    let clock = Date.now();
    const logs = captureLogs();
    const target = node(front.host, { now: () => clock, logs });
    const originBefore = blobGets(originFront, smallDesc.digest).length;

    expectBytes(await target.fetchBlobRange(smallDesc, 0, 1000), small.subarray(0, 1000));
    expectBytes(await target.fetchBlobRange(smallDesc, 1000, 1000), small.subarray(1000, 2000));
    expect(await target.exists(smallDesc)).toBe(true);
    expect(front.requests).toHaveLength(1); // one try, then skipped: no retry budget spent per read
    expect(blobGets(originFront, smallDesc.digest).length - originBefore).toBe(2);
    expect(logs.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['mirror failed: reading from the origin until it is retried']);

    front.clearFaults();
    clock += 31_000;
    expectBytes(await target.fetchBlobRange(smallDesc, 0, 1000), small.subarray(0, 1000));
    expect(front.requests).toHaveLength(2);
    expect(logs.lines.some((l) => l.level === 'info' && l.msg === 'mirror is answering again')).toBe(true);
    expect(target.mirrors[0]!.health.current).toBe('ok');
  });

  it('serves corrupt bytes: whole blobs are rejected and read from the origin, the mirror is benched', async () => {
    const { registry, front } = await startMirror();
    const warm = node(front.host);
    expectBytes(await readAll(await warm.fetchBlob(smallDesc)), small);
    await flipByte(await waitStored(registry, smallDesc.digest), 100);

    const logs = captureLogs();
    const target = node(front.host, { logs });
    const originBefore = blobGets(originFront, smallDesc.digest).length;
    const mirrorBefore = blobGets(front, smallDesc.digest).length;
    expectBytes(await readAll(await target.fetchBlob(smallDesc)), small);
    expect(blobGets(front, smallDesc.digest).length - mirrorBefore).toBe(1); // the mirror was asked
    expect(blobGets(originFront, smallDesc.digest).length - originBefore).toBe(1); // and the origin answered
    expect(target.mirrors[0]!.health.current).toBe('bad-content');
    expect(logs.lines.some((l) => l.level === 'warn' && /do not match their digest/.test(l.msg))).toBe(true);

    // Benched: later reads go straight to the origin.
    expectBytes(await target.fetchBlobRange(smallDesc, 50, 100), small.subarray(50, 150));
    expect(blobGets(front, smallDesc.digest).length - mirrorBefore).toBe(1);
  });

  it('serves a corrupt large blob: the stream fails with DIGEST_MISMATCH and the retry reads the origin', async () => {
    const { registry, front } = await startMirror();
    const warm = node(front.host);
    expectBytes(await readAll(await warm.fetchBlob(smallDesc)), small);
    await flipByte(await waitStored(registry, smallDesc.digest), 5);

    const target = node(front.host, { bufferedVerifyMax: 1000 }); // 20 kB counts as large here: streamed
    await expect(readAll(await target.fetchBlob(smallDesc))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(target.mirrors[0]!.health.current).toBe('bad-content');
    const mirrorBefore = front.requests.length;
    expectBytes(await readAll(await target.fetchBlob(smallDesc)), small);
    expect(front.requests.length).toBe(mirrorBefore);
  });

  it('serves corrupt ranges: the reader\'s failed verification benches every mirror that served them', async () => {
    const { registry, front } = await startMirror();
    const warm = node(front.host);
    await warm.fetchBlobRange(bigDesc, 0, 10);
    await flipByte(await waitStored(registry, bigDesc.digest), 2_000_000);

    const target = node(front.host);
    const parts: Buffer[] = [];
    for (let pos = 0; pos < bigDesc.size; pos += 1024 * 1024) parts.push(await target.fetchBlobRange(bigDesc, pos, 1024 * 1024));
    const assembled = Buffer.concat(parts);
    expect(digestOf(assembled)).not.toBe(bigDesc.digest); // a range read cannot know

    expect(target.reportBadContent(bigDesc.digest)).toEqual([front.host]);
    expect(target.reportBadContent(bigDesc.digest)).toEqual([]); // reported once
    const mirrorBefore = front.requests.length;
    expectBytes(await target.fetchBlobRange(bigDesc, 1_999_000, 2_000), big.subarray(1_999_000, 2_001_000));
    expect(front.requests.length).toBe(mirrorBefore);
  });
});

/** Buffer equality without vitest's element-by-element diff (slow on megabytes). */
function expectBytes(actual: Buffer | undefined, expected: Buffer): void {
  expect(actual?.length).toBe(expected.length);
  expect(actual?.equals(expected), 'bytes differ').toBe(true);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}


