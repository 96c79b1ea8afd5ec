/**
 * TLS with a test CA (--ca-file, --insecure, --plain-http mistakes) and blob GETs redirected to
 * another origin that refuses Authorization and can expire its signed URLs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { RegistryClient, StaticCredentials, type RegistryClientOptions } from '../../src/registry/index.js';
import { startBasicRegistry, type AuthRegistry } from '../helpers/auth-registries.js';
import { startRedirectingRegistry, type RedirectingRegistry } from '../helpers/redirect-origin.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { makeTestCA, type TestCA } from '../helpers/tls.js';
import { pushArtifact, randomBlob, readAll, type Artifact } from './fixtures.js';

const fast = { attempts: 2, minDelayMs: 5, maxDelayMs: 20, budgetMs: 5_000 };
const clients: RegistryClient[] = [];

function client(host: string, options: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient(host, { credentials: new StaticCredentials({}), retry: fast, ...options });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('TLS', () => {
  let ca: TestCA;
  let registry: RunningRegistry;

  beforeAll(async () => {
    ca = await makeTestCA();
    registry = await startRegistry({ tls: { certificate: ca.serverCert, key: ca.serverKey } });
  });
  afterAll(async () => {
    await registry?.stop();
    await ca?.cleanup();
  });

  test('with the CA file: push and pull over HTTPS', async () => {
    const c = client(registry.host, { plainHttp: false, caFile: ca.caCert });
    await c.ping();
    const a = await pushArtifact(c.repository('tls/artifact'), { 'f.txt': Buffer.from('over tls') }, ['v1']);
    expect((await readAll(await c.repository('tls/artifact').fetchBlob(a.layers[0]!.desc))).toString()).toBe('over tls');
  });

  test('without it: UNREACHABLE, untrusted certificate, hint --ca-file/--insecure, not retried', async () => {
    const c = client(registry.host, { plainHttp: false });
    const err = await c.ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE' });
    expect((err as Error).message).toContain('TLS certificate is not trusted');
    expect((err as { hint: string }).hint).toContain('--ca-file');
    expect(c.stats.retries).toBe(0);
  });

  test('--insecure skips verification', async () => {
    await client(registry.host, { plainHttp: false, insecure: true }).ping();
  });

  test('plain HTTP to an HTTPS registry says to drop --plain-http', async () => {
    const err = await client(registry.host, { plainHttp: true }).ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE' });
    expect((err as { hint: string }).hint).toContain('--plain-http');
  });

  test('HTTPS to a plain HTTP registry says to use --plain-http', async () => {
    const err = await client(inject('registryHost'), { plainHttp: false }).ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE' });
    expect((err as { hint: string }).hint).toContain('--plain-http');
  });

  test('a CA file that does not exist is a LOCAL_IO error naming it', () => {
    expect(() => new RegistryClient(registry.host, { caFile: '/nonexistent/ca.pem' })).toThrow(/\/nonexistent\/ca\.pem/);
  });

  test('localhost and 127.x default to plain HTTP, other hosts to HTTPS', () => {
    expect(client('127.0.0.1:5000').repository('a').blobUrl('sha256:x')).toMatch(/^http:\/\//);
    expect(client('localhost:5000').repository('a').blobUrl('sha256:x')).toMatch(/^http:\/\//);
    expect(client('[::1]:5000').repository('a').blobUrl('sha256:x')).toBe('http://[::1]:5000/v2/a/blobs/sha256:x');
    expect(client('ghcr.io').repository('a').blobUrl('sha256:x')).toBe('https://ghcr.io/v2/a/blobs/sha256:x');
    expect(client('docker.io').repository('library/ubuntu').blobUrl('sha256:x')).toBe('https://registry-1.docker.io/v2/library/ubuntu/blobs/sha256:x');
  });
});

describe('blob GETs redirected to another origin', () => {
  let basic: AuthRegistry;
  let redirecting: RedirectingRegistry;
  let artifact: Artifact;
  const blob = randomBlob(500_000);
  const creds = () => new StaticCredentials({ [redirecting.host]: { username: 'alice', password: 'alice-pw' } });

  beforeAll(async () => {
    basic = await startBasicRegistry({ alice: 'alice-pw', storage: 'storage-pw' });
    redirecting = await startRedirectingRegistry(basic.registry.url, { originCredentials: { username: 'storage', password: 'storage-pw' } });
    const setup = new RegistryClient(redirecting.host, { credentials: creds() });
    artifact = await pushArtifact(setup.repository('redirect/artifact'), { 'blob.bin': blob.bytes }, ['v1']);
    await setup.close();
  });
  afterAll(async () => {
    await redirecting?.stop();
    await basic?.stop();
  });

  test('whole blob: the redirect is followed without Authorization', async () => {
    const c = client(redirecting.host, { credentials: creds() });
    const before = redirecting.originRequests.length;
    const got = await readAll(await c.repository('redirect/artifact').fetchBlob(artifact.layers[0]!.desc));
    expect(got.equals(blob.bytes)).toBe(true);
    const seen = redirecting.originRequests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ hadAuthorization: false, status: 200 });
  });

  test('range read through the redirect', async () => {
    const c = client(redirecting.host, { credentials: creds() });
    const got = await c.repository('redirect/artifact').fetchBlobRange(artifact.layers[0]!.desc, 4096, 10_000);
    expect(got.equals(blob.bytes.subarray(4096, 14_096))).toBe(true);
    expect(redirecting.originRequests.at(-1)).toMatchObject({ hadAuthorization: false, range: 'bytes=4096-14095', status: 206 });
  });

  test('an expired signed URL (403) is re-resolved once from the registry', async () => {
    const c = client(redirecting.host, { credentials: creds() });
    const redirects = redirecting.redirects;
    redirecting.expireNext(1);
    const got = await c.repository('redirect/artifact').fetchBlobRange(artifact.layers[0]!.desc, 0, 100);
    expect(got.equals(blob.bytes.subarray(0, 100))).toBe(true);
    expect(redirecting.redirects - redirects).toBe(2);
    expect(redirecting.originRequests.slice(-2).map((r) => r.status)).toEqual([403, 206]);
  });

  test('expired twice: DENIED, not an endless loop', async () => {
    const c = client(redirecting.host, { credentials: creds() });
    redirecting.expireNext(2);
    await expect(c.repository('redirect/artifact').fetchBlobRange(artifact.layers[0]!.desc, 0, 100)).rejects.toMatchObject({ code: 'DENIED', status: 403 });
  });

  test('the registry still answers 401 to a client without credentials, before any redirect', async () => {
    const c = client(redirecting.host);
    const redirects = redirecting.redirects;
    await expect(c.repository('redirect/artifact').fetchBlob(artifact.layers[0]!.desc)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(redirecting.redirects).toBe(redirects);
  });
});
