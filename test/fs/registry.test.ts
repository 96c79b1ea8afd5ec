/**
 * The tree over the real registry (Debian's docker-registry) through RegistryClient: listings
 * and stat fetch no blob, a moved tag is seen after the TTL while open handles keep the old
 * blob, and a registry that stops answering still serves what is known.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { OciFilesystem } from '../../src/fs/filesystem.js';
import { registryMount, repositoryMount } from '../../src/fs/sources.js';
import type { FilesystemOps } from '../../src/fs/ops.js';
import { createLogger } from '../../src/log.js';
import { RegistryClient, StaticCredentials } from '../../src/registry/index.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { ManualClock, MemoryMetadataStore, RangeBlobReader, readAll, readHandle } from './fakes.js';
import { pushFiles } from './push.js';

const host = inject('registryHost');
const NS = 'fs-tree';
const imagery = randomBytes(2 * 1024 * 1024);

let client: RegistryClient;

beforeAll(async () => {
  client = new RegistryClient(host, { credentials: new StaticCredentials({}) });
  await pushFiles(
    client.repository(`${NS}/eo/products`),
    [
      { title: 'imagery.bin', content: imagery, mediaType: 'image/tiff', annotations: { 'eo:band': 'nir' } },
      { title: 'stac/item.json', content: '{"type":"Feature"}', mediaType: 'application/geo+json' },
    ],
    ['v1'],
  );
  await pushFiles(client.repository(`${NS}/eo`), [{ title: 'readme.txt', content: 'eo' }], ['latest']);
});

afterAll(async () => {
  await client?.close();
});

/** `ls -lR`: every name listed and stat'ed. */
async function listRecursively(fs: FilesystemOps, path = '/'): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await fs.readdir(path)).sort()) {
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    const st = await fs.getattr(child);
    out.push(child);
    if ((st.mode & constants.S_IFMT) === constants.S_IFDIR) out.push(...(await listRecursively(fs, child)));
  }
  return out;
}

describe('a namespace of the real registry', () => {
  test('ls -lR and stat download no blob; reading does', async () => {
    const fs = new OciFilesystem({
      source: registryMount(`${host}/${NS}`, client, { namespace: NS }),
      reader: new RangeBlobReader(),
      metadata: new MemoryMetadataStore(),
    });
    const before = { ...client.stats };
    expect(await listRecursively(fs)).toEqual([
      '/eo',
      '/eo/latest',
      '/eo/latest/readme.txt',
      '/eo/products',
      '/eo/products/v1',
      '/eo/products/v1/imagery.bin',
      '/eo/products/v1/stac',
      '/eo/products/v1/stac/item.json',
    ]);
    expect((await fs.getattr('/eo/products/v1/imagery.bin')).size).toBe(imagery.length);
    expect((await fs.getxattr('/eo/products/v1/imagery.bin', 'user.oci.annotation.eo:band')).toString()).toBe('nir');
    const listed = client.stats.bytesDownloaded - before.bytesDownloaded;
    // Catalog, tag lists and manifests only: a few KiB, nothing like the 2 MiB blob.
    expect(listed).toBeLessThan(32 * 1024);

    const content = await readAll(fs, '/eo/products/v1/imagery.bin');
    expect(content.equals(imagery)).toBe(true);
    expect(client.stats.bytesDownloaded - before.bytesDownloaded - listed).toBeGreaterThanOrEqual(imagery.length);
    await fs.close();
  });

  test('a tag moved on the registry is seen after the TTL; an open handle keeps its blob', async () => {
    const repo = client.repository(`${NS}/moving`);
    await pushFiles(repo, [{ title: 'data.txt', content: 'first version' }], ['latest']);
    const clock = new ManualClock();
    const fs = new OciFilesystem({
      source: repositoryMount(repo),
      reader: new RangeBlobReader(),
      metadata: new MemoryMetadataStore(),
      now: clock.now,
      ttlMs: 30_000,
    });
    const handle = await fs.open('/latest/data.txt', constants.O_RDONLY);
    await pushFiles(repo, [{ title: 'data.txt', content: 'second version, moved tag' }], ['latest']);
    expect((await readAll(fs, '/latest/data.txt')).toString()).toBe('first version');
    clock.advance(30_001);
    expect((await readAll(fs, '/latest/data.txt')).toString()).toBe('second version, moved tag');
    expect((await readHandle(fs, handle)).toString()).toBe('first version');
    await fs.release(handle);
    await fs.close();
  });
});

describe('a registry that stops answering', () => {
  let registry: RunningRegistry | undefined;
  let ownClient: RegistryClient | undefined;

  afterAll(async () => {
    await ownClient?.close();
    await registry?.stop();
  });

  test('serves known listings, tags and manifests; unknown lookups fail UNREACHABLE', async () => {
    registry = await startRegistry();
    ownClient = new RegistryClient(registry.host, {
      credentials: new StaticCredentials({}),
      retry: { attempts: 2, minDelayMs: 10, maxDelayMs: 20, budgetMs: 500 },
    });
    const repo = ownClient.repository('offline/eo');
    await pushFiles(repo, [{ title: 'a.txt', content: 'cached' }], ['v1']);
    const clock = new ManualClock();
    const lines: string[] = [];
    const fs = new OciFilesystem({
      source: repositoryMount(repo),
      reader: new RangeBlobReader(),
      metadata: new MemoryMetadataStore(),
      now: clock.now,
      logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
    });
    expect(await fs.readdir('/')).toEqual(['v1']);
    expect(await fs.readdir('/v1')).toEqual(['a.txt']);

    await registry.stop();
    clock.advance(3_600_000);
    expect(await fs.readdir('/')).toEqual(['v1']);
    expect((await fs.getattr('/v1/a.txt')).size).toBe(6);
    await expect(fs.getattr(`/@sha256:${'2'.repeat(64)}`)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    await expect(fs.open('/v1/a.txt', 0).then((h) => fs.read(h, Buffer.alloc(6), 6, 0))).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
    expect(lines.some((l) => l.includes('source unreachable'))).toBe(true);
    await fs.close();
  });
});
