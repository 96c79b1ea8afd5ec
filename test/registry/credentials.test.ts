/**
 * Docker config.json as a credential store: lookup rules (key forms, Docker Hub aliases,
 * helpers), and store/erase as `ocifs login`/`logout` use them.
 */
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  credentialFromEntry,
  defaultDockerConfigDir,
  helperFor,
  hostnameOfKey,
  matchingAuthKeys,
  serverUrlFor,
} from '../../src/registry/docker-config.js';
import { DockerConfigCredentials, StaticCredentials } from '../../src/registry/index.js';
import { writeHelper } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-creds-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('config.json rules', () => {
  test.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'],
    ['Registry.Example.com:443', 'registry.example.com:443'],
  ])('hostnameOfKey(%s) = %s', (key, expected) => {
    expect(hostnameOfKey(key)).toBe(expected);
  });

  test('Docker Hub is stored under the key docker writes', () => {
    expect(serverUrlFor('docker.io')).toBe('https://index.docker.io/v1/');
    expect(serverUrlFor('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  test.each([
    [{ auth: b64('u:p:with:colons') }, { username: 'u', password: 'p:with:colons' }],
    [{ username: 'u', password: 'p' }, { username: 'u', password: 'p' }],
    [{ identitytoken: 'idt' }, { identityToken: 'idt' }],
    [{ identitytoken: 'idt', username: 'u' }, { identityToken: 'idt', username: 'u' }],
    [{ registrytoken: 'rt' }, { registryToken: 'rt' }],
    [{}, undefined],
    [{ auth: '' }, undefined],
  ])('credentialFromEntry(%j)', (entry, expected) => {
    expect(credentialFromEntry(entry)).toEqual(expected);
  });

  test('an `auth` that is not user:password is an error, not a guess', () => {
    expect(() => credentialFromEntry({ auth: b64('nocolon') })).toThrow(/not base64 of user:password/);
  });

  test('keys and helpers are matched by host', () => {
    const config = {
      auths: { 'https://index.docker.io/v1/': {}, 'ghcr.io': {}, 'https://ghcr.io': {} },
      credHelpers: { 'https://quay.io': 'quayhelper' },
      credsStore: 'desktop',
    };
    expect(matchingAuthKeys(config, 'docker.io')).toEqual(['https://index.docker.io/v1/']);
    expect(matchingAuthKeys(config, 'ghcr.io')).toEqual(['ghcr.io', 'https://ghcr.io']);
    expect(helperFor(config, 'quay.io')).toBe('quayhelper');
    expect(helperFor(config, 'ghcr.io')).toBe('desktop');
    expect(helperFor({}, 'ghcr.io')).toBeUndefined();
  });

  test('default directory: $DOCKER_CONFIG, else ~/.docker', () => {
    expect(defaultDockerConfigDir({ DOCKER_CONFIG: '/x/y' })).toBe('/x/y');
    expect(defaultDockerConfigDir({})).toMatch(/\.docker$/);
  });
});

describe('DockerConfigCredentials', () => {
  test('no config file: no credentials', async () => {
    expect(await new DockerConfigCredentials(join(dir, 'absent')).get('r:1')).toBeUndefined();
  });

  test('Docker Hub credentials under https://index.docker.io/v1/', async () => {
    const cfg = join(dir, 'hub');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:hubpw') } } }));
    expect(await new DockerConfigCredentials(cfg).get('docker.io')).toEqual({ username: 'hubuser', password: 'hubpw' });
  });

  test('a broken config.json is an INVALID_CONTENT error naming the file', async () => {
    const cfg = join(dir, 'broken');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), '{ not json');
    await expect(new DockerConfigCredentials(cfg).get('x')).rejects.toMatchObject({ code: 'INVALID_CONTENT', message: expect.stringContaining('config.json') });
  });

  test('store writes base64 auth, mode 0600, keeps other fields; erase removes it', async () => {
    const cfg = join(dir, 'store');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { 'https://r:5000': { auth: b64('old:old') } }, psFormat: 'table' }));
    const creds = new DockerConfigCredentials(cfg);
    await creds.store('r:5000', 'alice', 's3cret');
    const written = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({ auths: { 'r:5000': { auth: b64('alice:s3cret') } }, psFormat: 'table' });
    expect((await stat(join(cfg, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await creds.get('r:5000')).toEqual({ username: 'alice', password: 's3cret' });

    await creds.erase('r:5000');
    expect(await creds.get('r:5000')).toBeUndefined();
    expect(JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'))).toEqual({ auths: {}, psFormat: 'table' });
  });

  test('store creates the directory and file when missing', async () => {
    const cfg = join(dir, 'fresh', 'docker');
    await new DockerConfigCredentials(cfg).store('docker.io', 'me', 'pw');
    const written = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    expect(Object.keys(written.auths)).toEqual(['https://index.docker.io/v1/']);
  });

  test('with credsStore, store and erase go through the helper; the file keeps an empty entry', async () => {
    const cfg = join(dir, 'store-helper');
    const bin = join(dir, 'bin-store');
    const log = join(dir, 'store-helper.log');
    await writeHelper(bin, 'ocifsstore', log, {});
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credsStore: 'ocifsstore' }));
    const creds = new DockerConfigCredentials(cfg, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    await creds.store('r:7000', 'bob', 'pw');
    expect(JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'))).toEqual({ credsStore: 'ocifsstore', auths: { 'r:7000': {} } });
    // the helper holds nothing for it (our test helper does not remember): get says so without error
    expect(await creds.get('r:7000')).toBeUndefined();
    await creds.erase('r:7000');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls[0]).toBe('store {"ServerURL":"r:7000","Username":"bob","Secret":"pw"}');
    expect(calls).toContain('get r:7000');
    expect(calls).toContain('erase r:7000');
  });

  test('a helper that is not installed gives a hint', async () => {
    const cfg = join(dir, 'missing-helper');
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { 'r:1': 'doesnotexist' } }));
    const err = await new DockerConfigCredentials(cfg, { env: { PATH: '/nonexistent' } }).get('r:1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', hint: expect.stringContaining('docker-credential-doesnotexist') });
  });

  test('an identity token from a helper (user <token>)', async () => {
    const cfg = join(dir, 'helper-token');
    const bin = join(dir, 'bin-token');
    await writeHelper(bin, 'ocifstoken', join(dir, 'token.log'), { 'r:2': { Username: '<token>', Secret: 'refresh-xyz' } });
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { 'r:2': 'ocifstoken' } }));
    const creds = new DockerConfigCredentials(cfg, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(await creds.get('r:2')).toEqual({ identityToken: 'refresh-xyz' });
  });
});

test('StaticCredentials', async () => {
  const s = new StaticCredentials({ 'a:1': { username: 'u', password: 'p' } });
  expect(await s.get('a:1')).toEqual({ username: 'u', password: 'p' });
  expect(await s.get('b:1')).toBeUndefined();
});
