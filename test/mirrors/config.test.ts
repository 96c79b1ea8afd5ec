import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, LocalIOError } from '../../src/errors.js';
import {
  loadMirrorConfigFile,
  resolveMirrorConfig,
  mergeMirrorConfigs,
  mirrorConfigFromFlags,
  mirrorsFor,
  parseMirrorConfig,
  parseMirrorFlag,
  parseMirrorHost,
} from '../../src/mirrors/index.js';

describe('parseMirrorHost', () => {
  it.each([
    ['mirror.local:5000', { host: 'mirror.local:5000', prefix: '', plainHttp: undefined }],
    ['http://10.0.0.5:5000', { host: '10.0.0.5:5000', prefix: '', plainHttp: true }],
    ['https://mirror.example', { host: 'mirror.example', prefix: '', plainHttp: false }],
    ['HTTPS://harbor.example/dockerhub-proxy/', { host: 'harbor.example', prefix: 'dockerhub-proxy', plainHttp: false }],
    ['[::1]:5000/a/b', { host: '[::1]:5000', prefix: 'a/b', plainHttp: undefined }],
  ])('%s', (text, expected) => {
    expect(parseMirrorHost(text)).toEqual({ ...expected, insecure: false, caFile: undefined });
  });

  it.each(['', 'ftp://x', 'mirror:port', 'mirror/UPPER', 'mirror/../x', 'a b', 'http://'])('refuses %j', (text) => {
    expect(() => parseMirrorHost(text)).toThrow(InvalidArgumentError);
  });
});

describe('parseMirrorFlag', () => {
  it.each([
    ['mirror:5000', '*', 'mirror:5000'],
    ['docker.io=mirror:5000', 'docker.io', 'mirror:5000'],
    ['index.docker.io=mirror:5000', 'docker.io', 'mirror:5000'],
    ['registry-1.docker.io=http://mirror:5000', 'docker.io', 'mirror:5000'],
    ['GHCR.io=mirror:5000', 'ghcr.io', 'mirror:5000'],
  ])('%s -> %s via %s', (text, registry, host) => {
    const parsed = parseMirrorFlag(text);
    expect(parsed.registry).toBe(registry);
    expect(parsed.mirror.host).toBe(host);
  });

  it.each(['=mirror', 'bad origin=mirror', 'docker.io='])('refuses %j', (text) => {
    expect(() => parseMirrorFlag(text)).toThrow(InvalidArgumentError);
  });
});

describe('parseMirrorConfig', () => {
  it('reads strings and objects, normalising origins', () => {
    const config = parseMirrorConfig(
      JSON.stringify({
        mirrors: {
          'index.docker.io': ['http://mirror-a:5000', { host: 'mirror-b', prefix: 'hub', insecure: true, caFile: '/etc/ca.pem' }],
          '*': ['cluster-cache:5000'],
        },
      }),
      'hosts.json',
    );
    expect(config.registries.get('docker.io')).toEqual([
      { host: 'mirror-a:5000', prefix: '', plainHttp: true, insecure: false, caFile: undefined },
      { host: 'mirror-b', prefix: 'hub', plainHttp: undefined, insecure: true, caFile: '/etc/ca.pem' },
    ]);
    expect(config.registries.get('*')?.map((m) => m.host)).toEqual(['cluster-cache:5000']);
  });

  it.each([
    ['not json', '{', /hosts.json: not JSON/],
    ['no mirrors key', '{}', /invalid mirror configuration at mirrors/],
    ['unknown key', '{"mirrors": {}, "registries": {}}', /invalid mirror configuration/],
    ['list expected', '{"mirrors": {"docker.io": "m:5000"}}', /at mirrors\.docker\.io/],
    ['unknown option', '{"mirrors": {"docker.io": [{"host": "m", "tls": false}]}}', /at mirrors\.docker\.io\.0: .*tls/],
    ['wrong type', '{"mirrors": {"docker.io": [{"host": "m", "plainHttp": "yes"}]}}', /at mirrors\.docker\.io\.0\.plainHttp/],
    ['bad host', '{"mirrors": {"docker.io": ["m m"]}}', /hosts.json \(docker.io\): invalid mirror host/],
    ['bad origin', '{"mirrors": {"a b": ["m"]}}', /invalid origin registry/],
    ['bad prefix', '{"mirrors": {"docker.io": [{"host": "m", "prefix": "A"}]}}', /invalid repository prefix/],
  ])('%s is a clear error', (_name, text, message) => {
    expect(() => parseMirrorConfig(text, 'hosts.json')).toThrow(message);
    expect(() => parseMirrorConfig(text, 'hosts.json')).toThrow(InvalidArgumentError);
  });
});

describe('mirrorsFor', () => {
  const config = mergeMirrorConfigs(
    mirrorConfigFromFlags(['flag-any:5000', 'docker.io=flag-hub:5000']),
    parseMirrorConfig(JSON.stringify({ mirrors: { 'docker.io': ['file-hub:5000', 'flag-hub:5000'], '*': ['file-any:5000'] } }), 'f'),
  );

  it.each([
    ['docker.io', ['flag-hub:5000', 'file-hub:5000', 'flag-any:5000', 'file-any:5000']],
    ['index.docker.io', ['flag-hub:5000', 'file-hub:5000', 'flag-any:5000', 'file-any:5000']],
    ['ghcr.io', ['flag-any:5000', 'file-any:5000']],
    // A mirror is never a mirror of itself.
    ['flag-any:5000', ['file-any:5000']],
  ])('%s -> %j', (registry, hosts) => {
    expect(mirrorsFor(config, registry).map((m) => m.host)).toEqual(hosts);
  });

  it('is empty without configuration', () => {
    expect(mirrorsFor(mirrorConfigFromFlags([]), 'docker.io')).toEqual([]);
  });
});

describe('resolveMirrorConfig (the file on disk)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('puts --mirror flags before the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocifs-mirrors-'));
    const file = join(dir, 'mirrors.json');
    await writeFile(file, JSON.stringify({ mirrors: { 'docker.io': ['from-file:5000'] } }));
    expect(mirrorsFor(resolveMirrorConfig(['docker.io=from-flag:5000'], file), 'docker.io').map((m) => m.host)).toEqual([
      'from-flag:5000',
      'from-file:5000',
    ]);
    expect(mirrorsFor(resolveMirrorConfig([], undefined), 'docker.io')).toEqual([]);
  });

  it('a missing file is a local I/O error naming it', () => {
    expect(() => loadMirrorConfigFile('/nonexistent/mirrors.json')).toThrow(LocalIOError);
    expect(() => loadMirrorConfigFile('/nonexistent/mirrors.json')).toThrow(/mirrors\.json/);
  });
});
