/**
 * Answers a client must not trust, injected by the proxy in front of the real registry:
 * manifests whose bytes do not match their digest, oversized or malformed manifests, blobs with
 * other bytes, a Content-Range for other bytes, HEAD answers without a digest, something that
 * is not a registry.
 */
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { MediaType } from '../../src/oci/types.js';
import { RegistryClient, StaticCredentials, type RepositoryTarget } from '../../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { pushArtifact, randomBlob, readAll, type Artifact } from './fixtures.js';

const REPO = 'registry-hostile/artifact';
const fast = { attempts: 2, minDelayMs: 5, maxDelayMs: 20, budgetMs: 5_000 };
let proxy: FaultProxy;
let artifact: Artifact;
let other: Artifact;
const blob = randomBlob(100_000);
const clients: RegistryClient[] = [];

function repo(): RepositoryTarget {
  const c = new RegistryClient(proxy.host, { credentials: new StaticCredentials({}), retry: fast });
  clients.push(c);
  return c.repository(REPO);
}

beforeAll(async () => {
  proxy = await startFaultProxy(`http://${inject('registryHost')}`);
  const r = repo();
  artifact = await pushArtifact(r, { 'b.bin': blob.bytes }, ['v1']);
  other = await pushArtifact(r, { 'o.txt': Buffer.from('other') }, ['other']);
});

afterEach(async () => {
  proxy.clearFaults();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await proxy?.stop();
});

const manifestHeaders = (digest: string) => ({ 'content-type': MediaType.ImageManifest, 'docker-content-digest': digest });

test('by tag: bytes that do not match Docker-Content-Digest -> DIGEST_MISMATCH', async () => {
  proxy.fault({ method: 'GET', path: /manifests\/v1$/, action: { status: 200, headers: manifestHeaders(artifact.desc.digest), body: other.manifest.toString() } });
  await expect(repo().fetchManifest('v1')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
});

test('by digest: other bytes -> DIGEST_MISMATCH, whatever the headers say', async () => {
  proxy.fault({ method: 'GET', path: /manifests\/sha256:/, action: { status: 200, headers: { 'content-type': MediaType.ImageManifest }, body: other.manifest.toString() } });
  await expect(repo().fetchManifest(artifact.desc.digest)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
});

test.each([
  ['from its Content-Length, before reading', false, 0],
  ['while reading when it has no Content-Length', true, 4 * 1024 * 1024],
])('an oversized manifest is refused %s', async (_what, chunked, readAtMost) => {
  const huge = 'x'.repeat(5 * 1024 * 1024);
  proxy.fault({ method: 'GET', path: /manifests\/v1$/, action: { status: 200, headers: { 'content-type': MediaType.ImageManifest }, body: huge, chunked } });
  const r = repo();
  await expect(r.fetchManifest('v1')).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
  expect(r.client.stats.bytesDownloaded).toBeLessThanOrEqual(readAtMost + 256 * 1024);
});

test('a malformed manifest -> INVALID_CONTENT', async () => {
  proxy.fault({ method: 'GET', path: /manifests\/v1$/, action: { status: 200, headers: { 'content-type': MediaType.ImageManifest }, body: '{"schemaVersion": 2, "layers": "nope"' } });
  await expect(repo().fetchManifest('v1')).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
});

test('a blob with other bytes of the right length fails the stream at its end', async () => {
  proxy.fault({ method: 'GET', path: /blobs\/sha256:/, action: { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'z'.repeat(blob.bytes.length) } });
  const stream = await repo().fetchBlob(blob.desc);
  await expect(readAll(stream)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
});

test('a 206 for other bytes than asked -> INVALID_CONTENT', async () => {
  proxy.fault({ method: 'GET', path: /blobs\/sha256:/, action: { status: 206, headers: { 'content-range': `bytes 500-509/${blob.bytes.length}` }, body: '0123456789' } });
  await expect(repo().fetchBlobRange(blob.desc, 0, 10)).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
});

test('a 206 for a blob of another size -> INVALID_CONTENT', async () => {
  proxy.fault({ method: 'GET', path: /blobs\/sha256:/, action: { status: 206, headers: { 'content-range': 'bytes 0-9/99' }, body: '0123456789' } });
  await expect(repo().fetchBlobRange(blob.desc, 0, 10)).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
});

test('a short 206 is completed by another request', async () => {
  const part = blob.bytes.subarray(0, 4);
  proxy.fault({ method: 'GET', path: /blobs\/sha256:/, action: { status: 206, headers: { 'content-range': `bytes 0-3/${blob.bytes.length}` }, body: part } });
  const r = repo();
  expect((await r.fetchBlobRange(blob.desc, 0, 10)).equals(blob.bytes.subarray(0, 10))).toBe(true);
  expect(proxy.requests.at(-1)?.headers.range).toBe('bytes=4-9');
});

test('HEAD without Docker-Content-Digest: resolve falls back to GET and hashes', async () => {
  proxy.fault({ method: 'HEAD', path: /manifests\/v1$/, action: { status: 200, headers: { 'content-type': MediaType.ImageManifest } } });
  const r = repo();
  expect(await r.resolve('v1')).toEqual({ mediaType: MediaType.ImageManifest, digest: artifact.desc.digest, size: artifact.manifest.length });
  expect(proxy.requests.at(-1)).toMatchObject({ method: 'GET' });
});

test('HEAD by digest answering another digest -> DIGEST_MISMATCH', async () => {
  proxy.fault({ method: 'HEAD', path: /manifests\/sha256:/, action: { status: 200, headers: { ...manifestHeaders(other.desc.digest), 'content-length': '10' } } });
  await expect(repo().resolve(artifact.desc.digest)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
});

test('something that is not a registry (no /v2/) -> REGISTRY_ERROR with a hint', async () => {
  proxy.fault({ method: 'GET', path: /^\/v2\/$/, action: { status: 404, body: 'not here' } });
  const r = repo();
  await expect(r.client.ping()).rejects.toMatchObject({ code: 'REGISTRY_ERROR', hint: expect.stringContaining('address') });
});

test('a tag list that is not a list of strings -> INVALID_CONTENT', async () => {
  proxy.fault({ method: 'GET', path: /tags\/list/, action: { status: 200, body: '{"name":"x","tags":[1,2]}' } });
  await expect(repo().listTags()).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
});
