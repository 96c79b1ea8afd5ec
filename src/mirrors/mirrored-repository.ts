/**
 * One origin repository read through its pull-through mirrors: a ReadableTarget that asks each
 * usable mirror in order and the origin last.
 *
 * Tags are mutable and a pull-through cache may serve a stale one, so tags (resolve, tag
 * manifests, tag lists) are answered by the origin whenever it is reachable (a HEAD, cheap and
 * not counted by Docker Hub's pull limits); the mirror's tag answer is used only when the origin
 * is down. Everything addressed by digest comes from the mirrors first and is verified:
 * manifests always (RepositoryTarget checks them), small whole blobs before they are handed out,
 * large whole blobs by the verifying stream. Range reads cannot be verified here: the reader
 * verifies the assembled blob and calls `reportBadContent(digest)` when it fails, which benches
 * every mirror that served ranges of that blob.
 */
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { NotFoundError, OcifsError, RegistryError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { FetchedManifest, FetchOptions, ReadableTarget } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';
import { isDigest } from '../ref/digest.js';
import type { RepositoryTarget } from '../registry/index.js';
import type { Mirror } from './mirror.js';

export interface MirroredRepositoryOptions {
  logger?: Logger;
  /**
   * Whole blobs up to this size are read from a mirror into memory and verified before they are
   * returned, so a corrupt mirror costs a transparent retry at the origin. Larger ones are
   * streamed: a mismatch then fails that stream (and benches the mirror; the next try uses the
   * origin). Default 8 MiB.
   */
  bufferedVerifyMax?: number;
}

const DEFAULT_BUFFERED_VERIFY_MAX = 8 * 1024 * 1024;
/** Larger configs are real image configs a client reads anyway; not worth a background fetch. */
const PRIME_CONFIG_MAX = 64 * 1024;

interface Served<T> {
  value: T;
  mirror: Mirror;
}

export class MirroredRepository implements ReadableTarget {
  /** The origin's description: caches keyed by it are shared with and without mirrors. */
  readonly description: string;
  private readonly logger: Logger;
  private readonly bufferedVerifyMax: number;
  private readonly mirrorRepos = new Map<Mirror, RepositoryTarget>();
  /** Digest -> mirrors that served unverified ranges of it, for reportBadContent. */
  private readonly rangeServers = new LRUCache<string, Set<Mirror>>({ max: 4096 });

  constructor(
    readonly origin: RepositoryTarget,
    readonly mirrors: readonly Mirror[],
    options: MirroredRepositoryOptions = {},
  ) {
    this.description = origin.description;
    this.logger = (options.logger ?? silentLogger).child({ repository: origin.description });
    this.bufferedVerifyMax = options.bufferedVerifyMax ?? DEFAULT_BUFFERED_VERIFY_MAX;
  }

  async resolve(reference: string, options: FetchOptions = {}): Promise<Descriptor> {
    if (isDigest(reference)) {
      const hit = await this.fromMirrors(`resolve ${reference}`, options, (r) => r.resolve(reference, options));
      return hit ? hit.value : this.origin.resolve(reference, options);
    }
    return this.tagAtOrigin(reference, options, () => this.origin.resolve(reference, options), (r) => r.resolve(reference, options));
  }

  async fetchManifest(reference: string | Descriptor, options: FetchOptions = {}): Promise<FetchedManifest> {
    let target: string | Descriptor = reference;
    if (typeof reference === 'string' && !isDigest(reference)) {
      let resolved: Descriptor | FetchedManifest;
      resolved = await this.tagAtOrigin(reference, options, () => this.origin.resolve(reference, options), (r) => r.fetchManifest(reference, options));
      if ('bytes' in resolved) return resolved; // the origin is down: the mirror's answer for the tag
      target = resolved;
    }
    const what = `manifest ${typeof target === 'string' ? target : target.digest}`;
    const hit = await this.fromMirrors(what, options, (r) => r.fetchManifest(target, options));
    if (!hit) return this.origin.fetchManifest(target, options);
    this.primeManifest(hit.mirror, hit.value);
    return hit.value;
  }

  /**
   * Distribution's proxy keeps a manifest it fetched upstream only if the blobs it names that
   * are checked on upload (the config) are already held; ocifs never reads the config of an
   * artifact, so the mirror would ask the origin for the manifest on every node. Once per
   * manifest and mirror, in the background: GET the (small) config through the mirror, then the
   * manifest again, which the mirror can now keep.
   */
  private primeManifest(mirror: Mirror, fetched: FetchedManifest): void {
    if (fetched.parsed.kind !== 'manifest') return;
    const config = fetched.parsed.manifest.config;
    if (config.size > PRIME_CONFIG_MAX || mirror.primed.has(fetched.descriptor.digest)) return;
    mirror.primed.add(fetched.descriptor.digest);
    const repo = this.mirrorRepository(mirror);
    void (async () => {
      await readAll(await repo.fetchBlob(config));
      await repo.fetchManifest(fetched.descriptor);
    })().catch((err: unknown) => this.logger.debug('could not prime the mirror with a manifest', { mirror: mirror.id, error: err as Error }));
  }

  async fetchBlob(descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    const what = `blob ${descriptor.digest}`;
    if (descriptor.size <= this.bufferedVerifyMax) {
      // Reading it all here lets the verifying stream fail inside the attempt: a bad mirror
      // falls through to the next source and the caller never sees the bad bytes.
      const hit = await this.fromMirrors(what, options, async (r) => readAll(await r.fetchBlob(descriptor, options)));
      return hit ? Readable.from([hit.value]) : this.origin.fetchBlob(descriptor, options);
    }
    const hit = await this.fromMirrors(what, options, (r) => r.fetchBlob(descriptor, options));
    if (!hit) return this.origin.fetchBlob(descriptor, options);
    hit.value.on('error', (err) => this.noteFailure(hit.mirror, err, what));
    return hit.value;
  }

  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options: FetchOptions = {}): Promise<Buffer> {
    const hit = await this.fromMirrors(`blob ${descriptor.digest}`, options, (r) => r.fetchBlobRange(descriptor, offset, length, options));
    if (!hit) return this.origin.fetchBlobRange(descriptor, offset, length, options);
    this.noteRangeServer(descriptor.digest, hit.mirror);
    return hit.value;
  }

  /**
   * fetchBlobRange into the caller's buffer, so a reader recycles its buffers through mirrors too.
   * A mirror that fails half-way may have written part of `target`; the origin then rewrites it all.
   */
  async fetchBlobRangeInto(descriptor: Descriptor, offset: number, target: Buffer, options: FetchOptions = {}): Promise<number> {
    const hit = await this.fromMirrors(`blob ${descriptor.digest}`, options, (r) => r.fetchBlobRangeInto(descriptor, offset, target, options));
    if (!hit) return this.origin.fetchBlobRangeInto(descriptor, offset, target, options);
    this.noteRangeServer(descriptor.digest, hit.mirror);
    return hit.value;
  }

  async exists(descriptor: Descriptor, options: FetchOptions = {}): Promise<boolean> {
    // A mirror's "no" may only mean it cannot reach its upstream: only "yes" is final.
    const hit = await this.fromMirrors(`check ${descriptor.digest}`, options, async (r) => {
      if (await r.exists(descriptor, options)) return true;
      throw new NotFoundError(`${descriptor.digest} is not on the mirror`);
    });
    return hit ? true : this.origin.exists(descriptor, options);
  }

  async listTags(options: FetchOptions = {}): Promise<string[]> {
    return this.tagAtOrigin('(tag list)', options, () => this.origin.listTags(options), (r) => r.listTags(options));
  }

  /**
   * The bytes of `digest`, assembled from ranges, failed verification: every mirror that served
   * ranges of it is skipped from now on (for the bad-content period). Returns their ids. The
   * origin may have served some ranges too, but a mirror that might be wrong is not worth the risk.
   */
  reportBadContent(digest: string): string[] {
    const servers = this.rangeServers.get(digest);
    this.rangeServers.delete(digest);
    if (!servers) return [];
    for (const mirror of servers) this.benchForBadContent(mirror, `blob ${digest} failed verification after range reads`);
    return [...servers].map((m) => m.id);
  }

  /** A tag question: the origin answers unless it is down, then the first mirror that can. */
  private async tagAtOrigin<T, U>(
    tag: string,
    options: FetchOptions,
    atOrigin: () => Promise<T>,
    atMirror: (repo: RepositoryTarget) => Promise<U>,
  ): Promise<T | U> {
    try {
      return await atOrigin();
    } catch (err) {
      if (!isOutage(err) || options.signal?.aborted || this.mirrors.length === 0) throw err;
      const hit = await this.fromMirrors(`tag ${tag}`, options, atMirror);
      if (!hit) throw err;
      this.logger.warn('origin unreachable: using the mirror\'s answer for a tag, which may be stale', { tag, mirror: hit.mirror.id, error: err as Error });
      return hit.value;
    }
  }

  /** Asks each usable mirror in turn; undefined when none could answer (the caller asks the origin). */
  private async fromMirrors<T>(what: string, options: FetchOptions, attempt: (repo: RepositoryTarget) => Promise<T>): Promise<Served<T> | undefined> {
    for (const mirror of this.mirrors) {
      if (!mirror.health.usable()) continue;
      try {
        const value = await attempt(this.mirrorRepository(mirror));
        this.noteAnswer(mirror);
        return { value, mirror };
      } catch (err) {
        if (options.signal?.aborted || (err instanceof OcifsError && err.code === 'ABORTED')) throw err;
        this.noteFailure(mirror, err, what);
      }
    }
    return undefined;
  }

  /** Remembers who served unverified ranges of `digest`, for reportBadContent. */
  private noteRangeServer(digest: string, mirror: Mirror): void {
    const servers = this.rangeServers.get(digest) ?? new Set<Mirror>();
    servers.add(mirror);
    this.rangeServers.set(digest, servers);
  }

  private mirrorRepository(mirror: Mirror): RepositoryTarget {
    let repo = this.mirrorRepos.get(mirror);
    if (!repo) {
      repo = mirror.repository(this.origin.repository);
      this.mirrorRepos.set(mirror, repo);
    }
    return repo;
  }

  private noteAnswer(mirror: Mirror): void {
    if (mirror.health.markOk()) this.logger.info('mirror is answering again', { mirror: mirror.id });
  }

  private noteFailure(mirror: Mirror, err: unknown, what: string): void {
    const code = err instanceof OcifsError ? err.code : undefined;
    if (code === 'DIGEST_MISMATCH' || code === 'INVALID_CONTENT') {
      this.benchForBadContent(mirror, `${what}: ${(err as Error).message}`);
      return;
    }
    if (code === 'NOT_FOUND') {
      // The mirror is up but cannot serve this (not cached and its upstream lacks it, or it
      // mirrors another registry): no penalty, the origin decides.
      this.noteAnswer(mirror);
      this.logger.debug('mirror does not have it: asking the next source', { mirror: mirror.id, what });
      return;
    }
    const { becameUnusable, until } = mirror.health.markDown();
    const fields = { mirror: mirror.id, what, error: err as Error, retryAt: new Date(until).toISOString() };
    if (becameUnusable) this.logger.warn('mirror failed: reading from the origin until it is retried', fields);
    else this.logger.debug('mirror still failing', fields);
  }

  private benchForBadContent(mirror: Mirror, why: string): void {
    const { becameUnusable, until } = mirror.health.markBadContent();
    const fields = { mirror: mirror.id, why, retryAt: new Date(until).toISOString() };
    if (becameUnusable) this.logger.warn('mirror served bytes that do not match their digest: rejected, reading from the origin', fields);
    else this.logger.debug('mirror served bad bytes again', fields);
  }
}

/** The origin is down or refusing for now (not: "it has no such tag"). */
export function isOutage(err: unknown): boolean {
  if (!(err instanceof OcifsError)) return false;
  if (err.code === 'UNREACHABLE' || err.code === 'TOO_MANY_REQUESTS') return true;
  return err instanceof RegistryError && err.status >= 500;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
