/**
 * How fresh the tree's metadata is, and what happens when the source cannot be reached.
 *
 * - Listings (catalog, tags) and tag -> digest are answered from memory for `ttlMs` after they
 *   were checked, then checked again (tags with `resolve()`, a HEAD on registries).
 * - A failed lookup (not found, or any other error) is remembered for `negativeTtlMs`, so
 *   GDAL's sidecar probes and repeated `ls` of a missing name do not reach the source each time.
 * - Manifests are addressed by digest and never expire: memory, then the MetadataStore, then the
 *   source (written back to the store).
 * - Concurrent lookups of the same thing share one request.
 * - Offline: when the source fails with UNREACHABLE, TOO_MANY_REQUESTS or a 5xx, the last known
 *   answer (memory, else MetadataStore, whatever its age) is served and a warning is logged once
 *   per outage; the source is tried again after `negativeTtlMs`. With nothing known, the error
 *   is thrown (and remembered for `negativeTtlMs`).
 * The MetadataStore also seeds memory: an answer another daemon checked less than `ttlMs` ago is
 * used without a request.
 */
import { LRUCache } from 'lru-cache';
import { NotFoundError, OcifsError, RegistryError, isOcifsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Descriptor } from '../oci/types.js';
import type { FetchedManifest } from '../oci/target.js';
import { verifyBytes } from '../ref/digest.js';
import { isTagShaped } from './names.js';
import type { ManifestParser, MetadataStore, RepositorySource } from './sources.js';

export const DEFAULT_TTL_MS = 60_000;
export const DEFAULT_NEGATIVE_TTL_MS = 15_000;
/** Manifest bytes kept in memory (parsed manifests and their trees cost a few times more). */
const MANIFEST_MEMORY_BYTES = 64 * 1024 * 1024;

export interface FreshnessOptions {
  metadata: MetadataStore;
  parseManifest: ManifestParser;
  logger: Logger;
  ttlMs?: number;
  negativeTtlMs?: number;
  now?: () => number;
}

/** Requests made to the source, and answers served without one. */
export interface FreshnessCounters {
  listingRequests: number;
  tagRequests: number;
  manifestRequests: number;
  /** Answers from the MetadataStore or memory because the source was unreachable. */
  staleAnswers: number;
  /** Lookups answered "not found" without a request (negative cache or fresh listing). */
  negativeHits: number;
}

interface Remembered<T> {
  value?: T;
  error?: unknown;
  /** Until when this answer is used without asking the source (ms since the epoch). */
  freshUntil: number;
}

interface StoredAnswer<T> {
  value: T;
  checkedAt: number;
}

export function isOfflineError(err: unknown): boolean {
  if (!isOcifsError(err)) return false;
  if (err.code === 'UNREACHABLE' || err.code === 'TOO_MANY_REQUESTS') return true;
  return err instanceof RegistryError && err.status >= 500;
}

export function tagListingKey(repository: RepositorySource): string {
  return `tags:${repository.description}`;
}

export class MetadataResolver {
  readonly counters: FreshnessCounters = {
    listingRequests: 0,
    tagRequests: 0,
    manifestRequests: 0,
    staleAnswers: 0,
    negativeHits: 0,
  };
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  private readonly now: () => number;
  private readonly metadata: MetadataStore;
  private readonly parseManifest: ManifestParser;
  private readonly logger: Logger;
  private readonly listings = new LRUCache<string, Remembered<string[]>>({ max: 10_000 });
  private readonly tags = new LRUCache<string, Remembered<Descriptor>>({ max: 100_000 });
  private readonly manifests = new LRUCache<string, FetchedManifest>({
    maxSize: MANIFEST_MEMORY_BYTES,
    sizeCalculation: (m) => Math.max(1, m.bytes.length),
  });
  private readonly failedManifests = new LRUCache<string, Remembered<never>>({ max: 10_000 });
  private readonly listingSets = new WeakMap<string[], Set<string>>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private offline = false;

  constructor(options: FreshnessOptions) {
    this.metadata = options.metadata;
    this.parseManifest = options.parseManifest;
    this.logger = options.logger;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.negativeTtlMs = options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** True while the source is failing and cached answers are being served. */
  get isOffline(): boolean {
    return this.offline;
  }

  /** A listing (catalog or tags) under `key`, loaded with `load` when not fresh. */
  listing(key: string, load: () => Promise<string[]>): Promise<string[]> {
    return this.remembered('listing', key, this.listings, {
      load: () => {
        this.counters.listingRequests++;
        return load();
      },
      read: async () => {
        const stored = await this.metadata.getListing(key);
        return stored ? { value: stored.names, checkedAt: toMs(stored.checkedAt) } : undefined;
      },
      write: (names, at) => this.metadata.putListing(key, names, at),
    });
  }

  /** The listing under `key` when it is fresh in memory; no I/O. */
  freshListing(key: string): ReadonlySet<string> | undefined {
    const hit = this.listings.get(key);
    if (!hit || hit.value === undefined || hit.freshUntil <= this.now()) return undefined;
    return this.setOf(hit.value);
  }

  /** The listing under `key` when it is fresh in memory, as listed; no I/O. */
  peekListing(key: string): string[] | undefined {
    const hit = this.listings.get(key);
    return hit && hit.value !== undefined && hit.freshUntil > this.now() ? hit.value : undefined;
  }

  /**
   * What `resolveTag` would answer from memory without any I/O: the descriptor when the tag's
   * answer is fresh, else undefined (also for remembered failures: the async path throws them).
   */
  peekTag(repository: RepositorySource, tag: string): Descriptor | undefined {
    const hit = this.tags.get(`${repository.description}\u0000${tag}`);
    return hit && hit.value !== undefined && hit.freshUntil > this.now() ? hit.value : undefined;
  }

  /** A manifest held in memory (manifests never expire), else undefined; no I/O. */
  peekManifest(digest: string): FetchedManifest | undefined {
    return this.manifests.get(digest);
  }

  tagListing(repository: RepositorySource): Promise<string[]> {
    return this.listing(tagListingKey(repository), () => repository.listTags());
  }

  /**
   * The manifest descriptor a tag names now (within the TTL). A name missing from a fresh tag
   * listing, or that cannot be a tag and is missing from the listing, is NOT_FOUND without a
   * request for it.
   */
  async resolveTag(repository: RepositorySource, tag: string): Promise<Descriptor> {
    const key = `${repository.description}\u0000${tag}`;
    const hit = this.tags.get(key);
    if (!hit || hit.freshUntil <= this.now()) {
      const listing = this.freshListing(tagListingKey(repository));
      if (listing && !listing.has(tag)) throw this.notFoundWithoutRequest(repository, tag);
      if (!listing && !isTagShaped(tag)) {
        const names = this.setOf(await this.tagListing(repository));
        if (!names.has(tag)) throw this.notFoundWithoutRequest(repository, tag);
      }
    }
    return this.remembered('tag', key, this.tags, {
      load: () => {
        this.counters.tagRequests++;
        return repository.resolve(tag);
      },
      read: async () => {
        const stored = await this.metadata.getTag(repository.description, tag);
        return stored ? { value: stored.descriptor, checkedAt: toMs(stored.checkedAt) } : undefined;
      },
      write: (descriptor, at) => this.metadata.putTag(repository.description, tag, descriptor, at),
    });
  }

  /** A manifest by digest: memory, the MetadataStore, then the source. Never expires. */
  manifest(repository: RepositorySource, reference: Descriptor | string): Promise<FetchedManifest> {
    const digest = typeof reference === 'string' ? reference : reference.digest;
    const cached = this.manifests.get(digest);
    if (cached) return Promise.resolve(cached);
    const failed = this.failedManifests.get(digest);
    if (failed && failed.freshUntil > this.now()) {
      this.counters.negativeHits++;
      return Promise.reject(failed.error);
    }
    return this.singleFlight(`manifest:${digest}`, async () => {
      const fromStore = await this.storedManifest(digest);
      if (fromStore) {
        this.manifests.set(digest, fromStore);
        return fromStore;
      }
      try {
        this.counters.manifestRequests++;
        const fetched = await repository.fetchManifest(reference);
        if (fetched.descriptor.digest !== digest) {
          throw new OcifsError('DIGEST_MISMATCH', `asked ${repository.description} for ${digest}, got ${fetched.descriptor.digest}`);
        }
        this.manifests.set(digest, fetched);
        this.sourceAnswered();
        await this.safely('store manifest', () => this.metadata.putManifest(digest, fetched.descriptor.mediaType, fetched.bytes));
        return fetched;
      } catch (err) {
        if (isOfflineError(err)) this.sourceFailed(repository.description, err);
        this.failedManifests.set(digest, { error: err, freshUntil: this.now() + this.negativeTtlMs });
        throw err;
      }
    });
  }

  private async storedManifest(digest: string): Promise<FetchedManifest | undefined> {
    const stored = await this.safely('read manifest', () => this.metadata.getManifest(digest));
    if (!stored) return undefined;
    try {
      // The store is local and shared: a damaged row must not become a wrong tree.
      verifyBytes(stored.bytes, { digest }, 'cached manifest');
      const parsed = this.parseManifest(stored.bytes, stored.mediaType);
      return { descriptor: { mediaType: stored.mediaType, digest, size: stored.bytes.length }, bytes: stored.bytes, parsed };
    } catch (err) {
      this.logger.warn('ignoring a cached manifest that does not verify', { digest, error: err });
      return undefined;
    }
  }

  private async remembered<T>(
    kind: string,
    key: string,
    memory: LRUCache<string, Remembered<T>>,
    io: {
      load: () => Promise<T>;
      read: () => Promise<StoredAnswer<T> | undefined>;
      write: (value: T, checkedAt: number) => unknown;
    },
  ): Promise<T> {
    const hit = memory.get(key);
    if (hit && hit.freshUntil > this.now()) {
      if (hit.value !== undefined) return hit.value;
      this.counters.negativeHits++;
      throw hit.error;
    }
    return this.singleFlight(`${kind}:${key}`, async () => {
      const stored = hit ? undefined : await this.safely(`read ${kind}`, io.read);
      if (stored && stored.checkedAt + this.ttlMs > this.now()) {
        memory.set(key, { value: stored.value, freshUntil: stored.checkedAt + this.ttlMs });
        return stored.value;
      }
      try {
        const value = await io.load();
        const at = this.now();
        memory.set(key, { value, freshUntil: at + this.ttlMs });
        this.sourceAnswered();
        await this.safely(`store ${kind}`, () => io.write(value, at));
        return value;
      } catch (err) {
        if (isOfflineError(err)) {
          const last = hit?.value ?? stored?.value ?? (hit ? (await this.safely(`read ${kind}`, io.read))?.value : undefined);
          this.sourceFailed(key, err);
          if (last !== undefined) {
            this.counters.staleAnswers++;
            memory.set(key, { value: last, freshUntil: this.now() + this.negativeTtlMs });
            return last;
          }
        }
        memory.set(key, { error: err, freshUntil: this.now() + this.negativeTtlMs });
        throw err;
      }
    });
  }

  private singleFlight<T>(key: string, run: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const started = run().finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }

  private notFoundWithoutRequest(repository: RepositorySource, tag: string): NotFoundError {
    this.counters.negativeHits++;
    return new NotFoundError(`${repository.description}: no tag ${JSON.stringify(tag)}`);
  }

  private setOf(names: string[]): Set<string> {
    let set = this.listingSets.get(names);
    if (!set) this.listingSets.set(names, (set = new Set(names)));
    return set;
  }

  private sourceFailed(what: string, err: unknown): void {
    if (this.offline) return;
    this.offline = true;
    this.logger.warn('source unreachable: serving cached metadata, uncached lookups fail', { what, error: err });
  }

  private sourceAnswered(): void {
    if (!this.offline) return;
    this.offline = false;
    this.logger.info('source reachable again');
  }

  /** MetadataStore trouble (disk full, locked database) must not break reads: log and go on. */
  private async safely<T>(what: string, run: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      this.logger.warn(`metadata store: cannot ${what}`, { error: err });
      return undefined;
    }
  }
}

function toMs(at: number | Date): number {
  return at instanceof Date ? at.getTime() : at;
}
