import { describe, expect, test } from 'vitest';
import { NotFoundError, OcifsError, RegistryError } from '../../src/errors.js';
import { MetadataResolver, isOfflineError } from '../../src/fs/freshness.js';
import { createLogger } from '../../src/log.js';
import { parseManifest } from '../../src/oci/validate.js';
import { ManualClock, MemoryMetadataStore, MemoryRepository, unreachable } from './fakes.js';

function setup(options: { ttlMs?: number; negativeTtlMs?: number } = {}) {
  const clock = new ManualClock();
  const store = new MemoryMetadataStore();
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const resolver = new MetadataResolver({
    metadata: store,
    parseManifest,
    logger,
    now: clock.now,
    ttlMs: options.ttlMs ?? 60_000,
    negativeTtlMs: options.negativeTtlMs ?? 15_000,
  });
  const repo = new MemoryRepository('registry.test/eo');
  return { clock, store, resolver, repo, lines };
}

describe('isOfflineError', () => {
  test.each([
    [new OcifsError('UNREACHABLE', 'x'), true],
    [new OcifsError('TOO_MANY_REQUESTS', 'x'), true],
    [new RegistryError('REGISTRY_ERROR', 'x', { status: 503, url: 'u' }), true],
    [new RegistryError('REGISTRY_ERROR', 'x', { status: 400, url: 'u' }), false],
    [new NotFoundError('x'), false],
    [new OcifsError('UNAUTHORIZED', 'x'), false],
    [new Error('plain'), false],
  ])('%s -> %s', (err, offline) => {
    expect(isOfflineError(err)).toBe(offline);
  });
});

describe('tag resolution', () => {
  test('re-checked at most once per TTL', async () => {
    const { clock, resolver, repo } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'one' }], { tag: 'v1' });
    expect((await resolver.resolveTag(repo, 'v1')).digest).toBe(v1.digest);
    clock.advance(59_000);
    const v2 = repo.addArtifact([{ title: 'a', content: 'two' }], { tag: 'v1' });
    expect((await resolver.resolveTag(repo, 'v1')).digest).toBe(v1.digest);
    expect(repo.calls.resolve).toBe(1);
    clock.advance(2_000);
    expect((await resolver.resolveTag(repo, 'v1')).digest).toBe(v2.digest);
    expect(repo.calls.resolve).toBe(2);
  });

  test('a missing tag is remembered for the negative TTL', async () => {
    const { clock, resolver, repo } = setup();
    for (let i = 0; i < 5; i++) await expect(resolver.resolveTag(repo, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(repo.calls.resolve).toBe(1);
    clock.advance(15_001);
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'nope' });
    await expect(resolver.resolveTag(repo, 'nope')).resolves.toBeDefined();
    expect(repo.calls.resolve).toBe(2);
  });

  test('a name missing from a fresh tag listing needs no request', async () => {
    const { resolver, repo } = setup();
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await resolver.tagListing(repo);
    for (const name of ['imagery.tif.aux.xml', 'v1.ovr', 'v1.msk']) {
      await expect(resolver.resolveTag(repo, name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(repo.calls.resolve).toBe(0);
    expect(resolver.counters.negativeHits).toBe(3);
  });

  test('a name that cannot be a tag is looked up in the listing, not resolved', async () => {
    const { resolver, repo } = setup();
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await expect(resolver.resolveTag(repo, '.Trash-0')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(resolver.resolveTag(repo, 'has space')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(repo.calls.resolve).toBe(0);
    expect(repo.calls.listTags).toBe(1);
  });

  test('concurrent lookups share one request', async () => {
    const { resolver, repo } = setup();
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    repo.delayMs = 20;
    const all = await Promise.all(Array.from({ length: 10 }, () => resolver.resolveTag(repo, 'v1')));
    expect(new Set(all.map((d) => d.digest)).size).toBe(1);
    expect(repo.calls.resolve).toBe(1);
  });

  test('an answer another daemon stored less than a TTL ago is used without a request', async () => {
    const { clock, store, resolver, repo } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }]);
    store.putTag(repo.description, 'v1', v1, clock.now() - 10_000);
    expect((await resolver.resolveTag(repo, 'v1')).digest).toBe(v1.digest);
    expect(repo.calls.resolve).toBe(0);
  });
});

describe('listings', () => {
  test('cached for the TTL, shared while in flight, written to the store', async () => {
    const { clock, store, resolver, repo } = setup();
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    repo.delayMs = 10;
    await Promise.all([resolver.tagListing(repo), resolver.tagListing(repo), resolver.tagListing(repo)]);
    await resolver.tagListing(repo);
    expect(repo.calls.listTags).toBe(1);
    expect(store.getListing(`tags:${repo.description}`)?.names).toEqual(['v1']);
    clock.advance(60_001);
    await resolver.tagListing(repo);
    expect(repo.calls.listTags).toBe(2);
  });
});

describe('offline', () => {
  test('the last known tag and listing are served from memory, with one warning', async () => {
    const { clock, resolver, repo, lines } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await resolver.tagListing(repo);
    await resolver.resolveTag(repo, 'v1');
    clock.advance(120_000);
    repo.failure = unreachable();
    expect(await resolver.tagListing(repo)).toEqual(['v1']);
    expect((await resolver.resolveTag(repo, 'v1')).digest).toBe(v1.digest);
    expect(resolver.isOffline).toBe(true);
    expect(resolver.counters.staleAnswers).toBe(2);
    expect(lines.filter((l) => l.includes('source unreachable'))).toHaveLength(1);
  });

  test('after a restart, the MetadataStore answers however old it is', async () => {
    const { store, resolver, repo } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await resolver.tagListing(repo);
    await resolver.resolveTag(repo, 'v1');
    await resolver.manifest(repo, v1);

    const later = new ManualClock(Date.now() + 86_400_000);
    const restarted = new MetadataResolver({ metadata: store, parseManifest, logger: createLogger({ level: 'silent' }), now: later.now });
    repo.failure = unreachable();
    const before = repo.requestCount;
    expect(await restarted.tagListing(repo)).toEqual(['v1']);
    const descriptor = await restarted.resolveTag(repo, 'v1');
    expect(descriptor.digest).toBe(v1.digest);
    const manifest = await restarted.manifest(repo, descriptor);
    expect(manifest.parsed.kind).toBe('manifest');
    // listing and tag were tried once each; the manifest came from the store without a request.
    expect(repo.requestCount - before).toBe(2);
  });

  test('what was never known fails with the source error, remembered for the negative TTL', async () => {
    const { clock, resolver, repo } = setup();
    repo.failure = unreachable();
    await expect(resolver.resolveTag(repo, 'v1')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    await expect(resolver.resolveTag(repo, 'v1')).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(repo.calls.resolve).toBe(1);
    clock.advance(15_001);
    repo.failure = undefined;
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await expect(resolver.resolveTag(repo, 'v1')).resolves.toBeDefined();
    expect(resolver.isOffline).toBe(false);
  });

  test('while offline the source is retried after the negative TTL, not on every call', async () => {
    const { clock, resolver, repo } = setup();
    repo.addArtifact([{ title: 'a', content: 'x' }], { tag: 'v1' });
    await resolver.resolveTag(repo, 'v1');
    clock.advance(60_001);
    repo.failure = unreachable();
    for (let i = 0; i < 5; i++) await resolver.resolveTag(repo, 'v1');
    expect(repo.calls.resolve).toBe(2);
    clock.advance(15_001);
    await resolver.resolveTag(repo, 'v1');
    expect(repo.calls.resolve).toBe(3);
  });
});

describe('manifests by digest', () => {
  test('never expire, and come from the store before the source', async () => {
    const { clock, store, resolver, repo } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }]);
    await resolver.manifest(repo, v1);
    clock.advance(10 * 86_400_000);
    await resolver.manifest(repo, v1.digest);
    expect(repo.calls.fetchManifest).toBe(1);
    expect(store.getManifest(v1.digest)?.mediaType).toBe(v1.mediaType);
  });

  test('a damaged cached manifest is ignored and fetched again', async () => {
    const { store, resolver, repo, lines } = setup();
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }]);
    store.putManifest(v1.digest, v1.mediaType, Buffer.from('{"schemaVersion":2,"layers":[]}'));
    const fetched = await resolver.manifest(repo, v1);
    expect(fetched.parsed.kind).toBe('manifest');
    expect(repo.calls.fetchManifest).toBe(1);
    expect(lines.some((l) => l.includes('does not verify'))).toBe(true);
  });

  test('a store that throws does not break lookups', async () => {
    const { resolver, repo, store, lines } = setup();
    store.getManifest = () => {
      throw new Error('database is locked');
    };
    const v1 = repo.addArtifact([{ title: 'a', content: 'x' }]);
    await expect(resolver.manifest(repo, v1)).resolves.toBeDefined();
    expect(lines.some((l) => l.includes('database is locked'))).toBe(true);
  });
});
