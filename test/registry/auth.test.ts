/**
 * Authentication against the real registry in its two real configurations: htpasswd Basic and
 * bearer tokens (distribution `auth.token` + test token server). Credentials come from
 * StaticCredentials and from Docker config.json (`auth`, `identitytoken`, a `credHelpers`
 * helper script).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DockerConfigCredentials, RegistryClient, StaticCredentials, type Credential, type CredentialProvider } from '../../src/registry/index.js';
import { startBasicRegistry, startTokenRegistry, type AuthRegistry, type TokenRegistry } from '../helpers/auth-registries.js';
import { pushArtifact, randomBlob, readAll, bufferSource, writeConfig, writeHelper, type Artifact } from './fixtures.js';

const fast = { attempts: 2, minDelayMs: 5, maxDelayMs: 20, budgetMs: 5_000 };
const USERS = {
  reader: { password: 'reader-pw', role: 'pull' as const },
  writer: { password: 'writer-pw', role: 'push' as const },
  admin: { password: 'admin-pw', role: 'admin' as const },
};

let basic: AuthRegistry;
let token: TokenRegistry;
let dir: string;
const clients: RegistryClient[] = [];

function client(host: string, credentials: CredentialProvider | Record<string, Credential>): RegistryClient {
  const provider = 'get' in credentials && typeof credentials.get === 'function' ? (credentials as CredentialProvider) : new StaticCredentials(credentials as Record<string, Credential>);
  const c = new RegistryClient(host, { credentials: provider, retry: fast });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-auth-test-'));
  [basic, token] = await Promise.all([startBasicRegistry({ alice: 'alice-pw' }), startTokenRegistry(USERS)]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('htpasswd Basic auth', () => {
  test('right credentials: ping, push, pull; later requests carry them up front', async () => {
    const host = basic.registry.host;
    const c = client(host, { [host]: { username: 'alice', password: 'alice-pw' } });
    await c.ping();
    const repo = c.repository('auth/basic');
    const a = await pushArtifact(repo, { 'f.txt': Buffer.from('basic') }, ['v1']);
    const before = c.stats.requests;
    expect((await repo.resolve('v1')).digest).toBe(a.desc.digest);
    expect(c.stats.requests - before).toBe(1); // no 401 round trip any more
    expect((await readAll(await repo.fetchBlob(a.layers[0]!.desc))).toString()).toBe('basic');
  });

  test('no credentials -> UNAUTHORIZED saying to log in', async () => {
    const host = basic.registry.host;
    const err = await client(host, {}).ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect((err as { hint: string }).hint).toContain(`ocifs login ${host}`);
  });

  test('wrong password -> UNAUTHORIZED naming the user', async () => {
    const host = basic.registry.host;
    const err = await client(host, { [host]: { username: 'alice', password: 'nope' } }).ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((err as Error).message).toContain('rejected the credentials of alice');
    const err2 = await client(host, { [host]: { username: 'alice', password: 'nope' } }).repository('auth/basic').resolve('v1').catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  test('Docker config.json `auth` entry (key written with a scheme, as docker does)', async () => {
    const host = basic.registry.host;
    const cfg = join(dir, 'basic-auth');
    await writeConfig(cfg, { auths: { [`https://${host}`]: { auth: Buffer.from('alice:alice-pw').toString('base64') } } });
    await client(host, new DockerConfigCredentials(cfg)).ping();
  });

  test('Docker config.json `credHelpers`: docker-credential-<name> get', async () => {
    const host = basic.registry.host;
    const bin = join(dir, 'bin');
    const log = join(dir, 'helper.log');
    await writeHelper(bin, 'ocifstest', log, { [host]: { Username: 'alice', Secret: 'alice-pw' } });
    const cfg = join(dir, 'basic-helper');
    await writeConfig(cfg, { credHelpers: { [host]: 'ocifstest' }, auths: { [host]: { auth: Buffer.from('alice:wrong').toString('base64') } } });
    const creds = new DockerConfigCredentials(cfg, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    await client(host, creds).ping();
  });
});

describe('bearer token auth', () => {
  let artifact: Artifact;
  const repoName = 'auth/token';

  beforeAll(async () => {
    const host = token.registry.host;
    const c = new RegistryClient(host, { credentials: new StaticCredentials({ [host]: { username: 'writer', password: 'writer-pw' } }), retry: fast });
    artifact = await pushArtifact(c.repository(repoName), { 'data.bin': randomBlob(10_000).bytes }, ['v1']);
    await c.close();
  });

  test('right credentials: a token per scope set, cached', async () => {
    const host = token.registry.host;
    const c = client(host, { [host]: { username: 'reader', password: 'reader-pw' } });
    const repo = c.repository(repoName);
    const tokensBefore = token.tokenServer.requests.length;
    await c.ping();
    expect((await repo.resolve('v1')).digest).toBe(artifact.desc.digest);
    const fetched = await repo.fetchManifest('v1');
    expect(fetched.bytes.equals(artifact.manifest)).toBe(true);
    const blob = await readAll(await repo.fetchBlob(artifact.layers[0]!.desc));
    expect(blob.equals(artifact.layers[0]!.bytes)).toBe(true);
    const tokenRequests = token.tokenServer.requests.slice(tokensBefore);
    // one for /v2/ (no scope), one for repository:auth/token:pull, whatever the number of requests
    expect(tokenRequests.map((r) => r.scopes)).toEqual([[], [`repository:${repoName}:pull`]]);
    expect(tokenRequests.every((r) => r.user === 'reader')).toBe(true);
  });

  test('the token answer may use `access_token`', async () => {
    const host = token.registry.host;
    token.tokenServer.setTokenField('access_token');
    try {
      const c = client(host, { [host]: { username: 'reader', password: 'reader-pw' } });
      expect((await c.repository(repoName).resolve('v1')).digest).toBe(artifact.desc.digest);
    } finally {
      token.tokenServer.setTokenField('both');
    }
  });

  test('wrong credentials -> UNAUTHORIZED at ping', async () => {
    const host = token.registry.host;
    const err = await client(host, { [host]: { username: 'reader', password: 'bad' } }).ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((err as Error).message).toContain('rejected the credentials of reader');
    expect((err as { hint: string }).hint).toContain(`ocifs login ${host}`);
  });

  test('anonymous pull of a private repository -> UNAUTHORIZED saying to log in', async () => {
    const host = token.registry.host;
    const err = await client(host, {}).repository(repoName).resolve('v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((err as { hint: string }).hint).toContain(`ocifs login ${host}`);
  });

  test('pull-only credentials pushing -> DENIED with a clear message', async () => {
    const host = token.registry.host;
    const c = client(host, { [host]: { username: 'reader', password: 'reader-pw' } });
    const blob = randomBlob(1000);
    const err = await c.repository(repoName).pushBlob(blob.desc, bufferSource(blob.bytes)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DENIED' });
    expect((err as Error).message).toMatch(/push blob: access to .*auth\/token.* denied for reader/);
  });

  test('a pull token is upgraded to pull,push when pushing', async () => {
    const host = token.registry.host;
    const c = client(host, { [host]: { username: 'writer', password: 'writer-pw' } });
    const repo = c.repository('auth/token-upgrade');
    const before = token.tokenServer.requests.length;
    const blob = randomBlob(2000);
    expect((await repo.pushBlob(blob.desc, bufferSource(blob.bytes))).outcome).toBe('uploaded');
    const scopes = token.tokenServer.requests.slice(before).map((r) => r.scopes.join(' '));
    expect(scopes).toContain('repository:auth/token-upgrade:pull'); // the HEAD that came first
    expect(scopes).toContain('repository:auth/token-upgrade:pull,push');
  });

  test('a token refused as invalid_token is renewed once', async () => {
    const host = token.registry.host;
    const c = client(host, { [host]: { username: 'reader', password: 'reader-pw' } });
    const repo = c.repository(repoName);
    await c.ping();
    token.tokenServer.issueExpired(1);
    const before = token.tokenServer.requests.length;
    expect((await repo.resolve('v1')).digest).toBe(artifact.desc.digest);
    expect(token.tokenServer.requests.length - before).toBe(2);
  });

  test('cross-repository mount asks for pull on the source too', async () => {
    const host = token.registry.host;
    const c = client(host, { [host]: { username: 'writer', password: 'writer-pw' } });
    const layer = artifact.layers[0]!;
    const before = token.tokenServer.requests.length;
    const result = await c.repository('auth/token-mounted').pushBlob(layer.desc, bufferSource(layer.bytes), { mountFrom: [repoName] });
    expect(result.outcome).toBe('mounted');
    const scopeSets = token.tokenServer.requests.slice(before).map((r) => [...r.scopes].sort());
    expect(scopeSets).toContainEqual(['repository:auth/token-mounted:pull,push', `repository:${repoName}:pull`]);
  });

  test('catalog needs registry:catalog:*', async () => {
    const host = token.registry.host;
    expect(await client(host, { [host]: { username: 'admin', password: 'admin-pw' } }).catalog()).toContain(repoName);
    await expect(client(host, { [host]: { username: 'reader', password: 'reader-pw' } }).catalog()).rejects.toMatchObject({ code: 'DENIED' });
  });

  test('an unknown `identitytoken` -> UNAUTHORIZED from the token service (POST grant)', async () => {
    const host = token.registry.host;
    const cfg = join(dir, 'identity');
    await writeConfig(cfg, { auths: { [host]: { identitytoken: 'refresh-for-reader' } } });
    const c = client(host, new DockerConfigCredentials(cfg));
    const err = await c.repository(repoName).resolve('v1').catch((e: unknown) => e);
    // unknown refresh token: 401 from the token service
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    const posts = token.tokenServer.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
  });

  test('a registry token from config.json is sent as is', async () => {
    const host = token.registry.host;
    // Obtain a real token from the token server as the reader would, then hand it over.
    const res = await fetch(`${token.tokenServer.realm}?service=${token.tokenServer.service}&scope=repository:${repoName}:pull`, {
      headers: { authorization: `Basic ${Buffer.from('reader:reader-pw').toString('base64')}` },
    });
    const { token: raw } = (await res.json()) as { token: string };
    const cfg = join(dir, 'registrytoken');
    await writeConfig(cfg, { auths: { [host]: { registrytoken: raw } } });
    const before = token.tokenServer.requests.length;
    expect((await client(host, new DockerConfigCredentials(cfg)).repository(repoName).resolve('v1')).digest).toBe(artifact.desc.digest);
    expect(token.tokenServer.requests.length).toBe(before);
  });
});

describe('identity tokens', () => {
  let idRegistry: TokenRegistry;
  beforeAll(async () => {
    idRegistry = await startTokenRegistry(USERS, { refreshTokens: { 'refresh-for-writer': 'writer' } });
  });
  afterAll(async () => {
    await idRegistry?.stop();
  });

  test('Docker config.json `identitytoken` is exchanged by POST and works for push', async () => {
    const host = idRegistry.registry.host;
    const cfg = join(dir, 'identity-ok');
    await writeConfig(cfg, { auths: { [host]: { identitytoken: 'refresh-for-writer' } } });
    const c = client(host, new DockerConfigCredentials(cfg));
    const a = await pushArtifact(c.repository('auth/identity'), { 'x': Buffer.from('x') }, ['v1']);
    expect((await c.repository('auth/identity').resolve('v1')).digest).toBe(a.desc.digest);
    const reqs = idRegistry.tokenServer.requests;
    expect(reqs.length).toBeGreaterThan(0);
    expect(reqs.every((r) => r.method === 'POST' && r.user === 'writer')).toBe(true);
  });
});
