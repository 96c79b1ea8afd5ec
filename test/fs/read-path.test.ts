/**
 * OciFilesystem wired as the mount wires it: the real registry, RegistryClient, src/cache's Cache
 * (its MetadataStore for tags, listings and manifests) and src/read's BlobReader. Covers what only
 * the whole read path shows: no blob request for ls -lR, cached bytes served again without a
 * request, and a daemon restarted while the registry is down serving what the cache knows.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cache } from '../../src/cache/index.js';
import { OciFilesystem } from '../../src/fs/filesystem.js';
import { repositoryMount } from '../../src/fs/sources.js';
import { createLogger } from '../../src/log.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType } from '../../src/oci/types.js';
import { BlobReader } from '../../src/read/index.js';
import { digestOf } from '../../src/ref/digest.js';
import { RegistryClient, StaticCredentials, type RepositoryTarget } from '../../src/registry/index.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { readAll } from './fakes.js';
import { pushBlob, pushFiles, pushManifestJson } from './push.js';

let work: string;
let registry: RunningRegistry;
let client: RegistryClient;
let repo: RepositoryTarget;
const imagery = randomBytes(3 * 1024 * 1024 + 123);
const openedCaches: Cache[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocifs-fs-readpath-'));
  // Its own registry: the last test stops it.
  registry = await startRegistry();
  client = new RegistryClient(registry.host, {
    credentials: new StaticCredentials({}),
    retry: { attempts: 2, minDelayMs: 10, maxDelayMs: 20, budgetMs: 500 },
  });
  repo = client.repository('readpath/eo');
  await pushFiles(
    repo,
    [
      { title: 'imagery.tif', content: imagery, mediaType: 'image/tiff' },
      { title: 'stac/item.json', content: '{"type":"Feature"}', mediaType: 'application/geo+json' },
    ],
    ['v1'],
  );
  // An ORAS directory layer: `oras push REF data/` stores data/ as tar+gzip under the title.
  const tar = await import('tar');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(join(work, 'src', 'data'), { recursive: true });
  await writeFile(join(work, 'src', 'data', 'band.txt'), 'near infrared');
  const chunks: Buffer[] = [];
  for await (const c of tar.c({ cwd: join(work, 'src'), portable: true }, ['data'])) chunks.push(Buffer.from(c as Uint8Array));
  const tarball = Buffer.concat(chunks);
  const layer = await pushBlob(repo, gzipSync(tarball), MediaType.ImageLayerGzip, {
    [Annotation.Title]: 'data',
    [Annotation.OrasUnpack]: 'true',
    [Annotation.OrasContentDigest]: digestOf(tarball),
  });
  await pushBlob(repo, Buffer.from('{}'), MediaType.Empty);
  await pushManifestJson(
    repo,
    { schemaVersion: 2, mediaType: MediaType.ImageManifest, config: EMPTY_DESCRIPTOR, layers: [layer] },
    MediaType.ImageManifest,
    ['dirs'],
  );
});

afterAll(async () => {
  for (const cache of openedCaches) cache.close();
  await client?.close();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

function daemon(lines: string[] = [], now: () => number = Date.now) {
  const cache = Cache.open({ dir: join(work, 'cache') });
  openedCaches.push(cache);
  const reader = new BlobReader({ cache });
  const fs = new OciFilesystem({
    source: repositoryMount(repo),
    reader,
    metadata: cache.metadata,
    unpackDir: join(work, 'cache', 'unpacked'),
    now,
    logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
  });
  return { fs, reader, cache };
}

describe('the whole read path', () => {
  test('ls -lR sends no blob request; reads are cached and served again without one', async () => {
    const { fs, reader } = daemon();
    const before = client.stats.bytesDownloaded;
    for (const path of ['/', '/v1', '/v1/stac', '/dirs']) {
      for (const name of await fs.readdir(path)) await fs.getattr(`${path === '/' ? '' : path}/${name}`);
    }
    expect(reader.counters.requests).toBe(0);
    expect(client.stats.bytesDownloaded - before).toBeLessThan(16 * 1024);

    expect((await readAll(fs, '/v1/imagery.tif')).equals(imagery)).toBe(true);
    const requests = reader.counters.requests;
    expect(requests).toBeGreaterThan(0);
    expect((await readAll(fs, '/v1/imagery.tif')).equals(imagery)).toBe(true);
    expect(reader.counters.requests).toBe(requests);

    expect((await readAll(fs, '/dirs/data/band.txt')).toString()).toBe('near infrared');
    const status = JSON.parse((await fs.getxattr('/', 'user.ocifs.status')).toString());
    expect(status.reader.bytesFetched).toBeGreaterThanOrEqual(imagery.length);
    await fs.close();
  });

  test('a daemon restarted while the registry is down serves what the cache knows', async () => {
    // A first daemon reads the tags, one manifest and the imagery; then the registry goes away.
    const first = daemon();
    await first.fs.readdir('/');
    await readAll(first.fs, '/v1/imagery.tif');
    await first.fs.readdir('/dirs/data');
    await first.fs.close();
    await registry.stop();

    // An hour later: every stored tag and listing is past its TTL, so the registry is asked first.
    const lines: string[] = [];
    const second = daemon(lines, () => Date.now() + 3_600_000);
    expect((await second.fs.readdir('/')).sort()).toEqual(['dirs', 'v1']);
    expect((await second.fs.getattr('/v1/imagery.tif')).size).toBe(imagery.length);
    expect((await readAll(second.fs, '/v1/imagery.tif')).equals(imagery)).toBe(true);
    expect((await readAll(second.fs, '/dirs/data/band.txt')).toString()).toBe('near infrared');
    // Never fetched: the STAC item's bytes.
    const handle = await second.fs.open('/v1/stac/item.json', constants.O_RDONLY);
    await expect(second.fs.read(handle, Buffer.alloc(64), 64, 0)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    await second.fs.release(handle);
    expect(lines.some((l) => l.includes('source unreachable'))).toBe(true);
    expect(lines.some((l) => l.includes('read') && l.includes('failed'))).toBe(true);
    await second.fs.close();
  });
});
