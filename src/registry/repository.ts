/**
 * One repository of a registry as a WritableTarget: resolve tags with HEAD, fetch manifests
 * (size-capped, digest-verified), blobs whole (verified stream) or by closed Range, list tags,
 * push blobs (./upload.ts) and manifests. Blob GETs follow redirects by hand so Authorization
 * never reaches another origin, and an expired signed URL (403) is re-resolved once.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { DigestMismatchError, InvalidContentError, InvalidReferenceError, OcifsError } from '../errors.js';
import type { BlobSource, FetchedManifest, FetchOptions, PushBlobOptions, PushBlobResult, WritableTarget } from '../oci/target.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, isManifestMediaType, type Descriptor } from '../oci/types.js';
import { parseManifest } from '../oci/validate.js';
import { digestOf, isDigest, parseDigest, verifyBytes, VerifyingStream } from '../ref/digest.js';
import { isValidRepository, isValidTag } from '../ref/reference.js';
import type { RegistryClient } from './client.js';
import { clampRange, parseContentRange, rangeHeader, type ByteRange } from './content-range.js';
import { isRetryableNetworkError, nextRetryDelay } from './retry.js';
import { repositoryScope } from './scope.js';
import { abortedError, chain, discard, dropBody, header, type HttpResponse } from './transport.js';
import { pushBlob } from './upload.js';
import type { RequestSubject } from './wire-errors.js';

const MAX_REDIRECTS = 5;
/** ORAS caps tag and catalog pages at 4 MiB too. */
export const MAX_LIST_PAGE_BYTES = 4 * 1024 * 1024;

export class RepositoryTarget implements WritableTarget {
  readonly description: string;

  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
  ) {
    if (!isValidRepository(repository)) {
      throw new InvalidReferenceError(`invalid repository name ${JSON.stringify(repository)}: lowercase path components of [a-z0-9._-] separated by /`);
    }
    this.description = `${client.registry}/${repository}`;
  }

  /** The plain URL of a blob, for benchmarks against curl or GDAL's /vsicurl/. */
  blobUrl(digest: string): string {
    return `${this.client.session.baseUrl}/v2/${this.repository}/blobs/${digest}`;
  }

  manifestUrl(reference: string): string {
    return `${this.client.session.baseUrl}/v2/${this.repository}/manifests/${reference}`;
  }

  private subject(action: string, reference?: string): RequestSubject {
    return { registry: this.client.registry, repository: this.repository, action, ...(reference ? { reference } : {}) };
  }

  private pullScopes(): string[] {
    return [repositoryScope(this.repository, ['pull'])];
  }

  private pushScopes(): string[] {
    return [repositoryScope(this.repository, ['pull', 'push'])];
  }

  private checkReference(reference: string): void {
    if (isDigest(reference) || isValidTag(reference)) return;
    if (reference.includes(':')) parseDigest(reference); // throws with the precise reason
    throw new InvalidReferenceError(`invalid tag ${JSON.stringify(reference)}: up to 128 of [A-Za-z0-9_.-], not starting with . or -`);
  }

  async resolve(reference: string, options: FetchOptions = {}): Promise<Descriptor> {
    this.checkReference(reference);
    const s = this.client.session;
    // HEAD, not GET: Docker Hub counts manifest GETs against pull limits.
    const res = await s.send({
      method: 'HEAD',
      url: this.manifestUrl(reference),
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: this.pullScopes(),
      retry: true,
      signal: options.signal,
    });
    if (res.status !== 200) return s.fail(res, this.subject('resolve', reference));
    await discard(res);
    const digest = header(res, 'docker-content-digest');
    const mediaType = contentType(res);
    const size = Number(header(res, 'content-length'));
    if (isDigest(reference) && digest !== undefined && digest !== reference) {
      throw new DigestMismatchError(reference, digest, `manifest ${this.description}@${reference}`);
    }
    const known = digest ?? (isDigest(reference) ? reference : undefined);
    if (known && mediaType && Number.isSafeInteger(size) && size > 0) return { mediaType, digest: known, size };
    // No digest header (or no type/size): the only way to know is to fetch and hash.
    return (await this.fetchManifest(reference, options)).descriptor;
  }

  async fetchManifest(reference: string | Descriptor, options: FetchOptions = {}): Promise<FetchedManifest> {
    const ref = typeof reference === 'string' ? reference : reference.digest;
    const expected = typeof reference === 'string' ? undefined : reference;
    this.checkReference(ref);
    const accept: string[] = [...MANIFEST_ACCEPT];
    if (expected && !accept.includes(expected.mediaType)) accept.unshift(expected.mediaType);
    const s = this.client.session;
    const res = await s.send({
      method: 'GET',
      url: this.manifestUrl(ref),
      headers: { accept: accept.join(', ') },
      scopes: this.pullScopes(),
      retry: true,
      signal: options.signal,
    });
    if (res.status !== 200) return s.fail(res, this.subject('fetch manifest', ref));
    const what = `manifest ${this.description}${isDigest(ref) ? '@' : ':'}${ref}`;
    const bytes = await s.transport.readBody(res, MAX_MANIFEST_BYTES, what);
    let digest: string;
    if (isDigest(ref)) {
      verifyBytes(bytes, { digest: ref, ...(expected ? { size: expected.size } : {}) }, what);
      digest = ref;
    } else {
      const claimed = header(res, 'docker-content-digest');
      const algorithm = claimed && isDigest(claimed) ? parseDigest(claimed).algorithm : 'sha256';
      digest = digestOf(bytes, algorithm);
      if (claimed && claimed !== digest) throw new DigestMismatchError(claimed, digest, what);
    }
    const parsed = parseManifest(bytes, contentType(res));
    return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, bytes, parsed };
  }

  /**
   * The whole blob as a verified stream. A connection that breaks mid-blob is picked up again
   * with a closed Range from the byte where it stopped (within the retry policy), so a long pull
   * survives a reset; the digest check at the end covers the stitched bytes.
   */
  async fetchBlob(descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> {
    const what = `blob ${this.description}@${descriptor.digest}`;
    const first = await this.getBlob(descriptor, { 'accept-encoding': 'identity' }, options.signal);
    if (first.status !== 200) return this.client.session.fail(first, this.subject('fetch blob', descriptor.digest));
    const declared = Number(header(first, 'content-length'));
    if (Number.isSafeInteger(declared) && declared !== descriptor.size) {
      dropBody(first);
      throw new DigestMismatchError(descriptor.digest, `${declared} bytes instead of ${descriptor.size}`, what);
    }
    const transport = this.client.session.transport;
    const policy = this.client.retryPolicy;
    const resume = (offset: number) => this.resumeBlob(descriptor, offset, options.signal);
    async function* bytes(): AsyncGenerator<Buffer> {
      let res: HttpResponse | undefined = first;
      let offset = 0;
      const started = Date.now();
      for (let tries = 1; ; tries++) {
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            transport.stats.bytesDownloaded += chunk.length;
            offset += chunk.length;
            yield chunk;
          }
          return;
        } catch (err) {
          dropBody(res);
          const delay = isRetryableNetworkError(err) && offset < descriptor.size
            ? nextRetryDelay(policy, { triesMade: tries, elapsedMs: Date.now() - started })
            : undefined;
          if (delay === undefined) throw transport.mapConnectionError(err);
          transport.stats.retries++;
          transport.logger.debug('blob stream broke: continuing with a Range request', { digest: descriptor.digest, offset, error: err as Error });
          try {
            await sleepFor(delay, undefined, options.signal ? { signal: options.signal } : {});
          } catch {
            throw abortedError(options.signal);
          }
          res = await resume(offset);
        }
      }
    }
    return chain(Readable.from(bytes(), { objectMode: false }), new VerifyingStream(descriptor, what));
  }

  /** The rest of a blob from `offset`, for a stream that broke: a 206 starting exactly there. */
  private async resumeBlob(descriptor: Descriptor, offset: number, signal?: AbortSignal): Promise<HttpResponse> {
    const range = { start: offset, end: descriptor.size - 1 };
    const res = await this.getBlob(descriptor, { range: rangeHeader(range), 'accept-encoding': 'identity' }, signal);
    const cr = parseContentRange(header(res, 'content-range'));
    if (res.status === 206 && cr?.kind === 'range' && cr.start === offset) return res;
    if (res.status === 206 || res.status === 200) {
      dropBody(res);
      throw new InvalidContentError(`${this.client.registry} cannot continue ${this.description}@${descriptor.digest} from byte ${offset} (no usable Range answer)`);
    }
    return this.client.session.fail(res, this.subject('fetch blob', descriptor.digest));
  }

  /**
   * Exactly the bytes [offset, offset+length) clamped to the blob's size: a closed Range request;
   * a 206 is checked against Content-Range (a short answer is completed by another request), a
   * 200 means the registry ignores Range (the slice is cut from the stream, which is then
   * dropped, and the client remembers it). A 416 or a blob shorter than its descriptor is a
   * DigestMismatchError: the caller never gets a short read.
   */
  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options: FetchOptions = {}): Promise<Buffer> {
    const wanted = clampRange(descriptor.size, offset, length);
    if (!wanted) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(wanted.end - wanted.start + 1);
    await this.fetchBlobRangeInto(descriptor, offset, out, options);
    return out;
  }

  /**
   * fetchBlobRange into the caller's buffer: the bytes [offset, offset+target.length) clamped to
   * the blob's size land at target[0..], and their count is returned. Why: a fresh multi-MiB
   * Buffer per request costs more CPU in page faults than the whole HTTP parse on this path, so
   * a reader that recycles its buffers must be able to hand them in.
   */
  async fetchBlobRangeInto(descriptor: Descriptor, offset: number, target: Buffer, options: FetchOptions = {}): Promise<number> {
    let filled = 0;
    return this.streamBlobRange(
      descriptor,
      offset,
      target.length,
      (piece) => {
        // Buffer#copy validates and slices in JS; a typed-array set is one memcpy.
        target.set(piece, filled);
        filled += piece.length;
      },
      options,
    );
  }

  /**
   * The bytes [offset, offset+length) clamped to the blob's size, handed to `sink` in blob order
   * as they arrive (pieces of the answer, the sink's to keep; no copy here), with the same checks
   * as fetchBlobRange. A sink that returns a promise pauses the answer until it settles. Returns
   * the count. Why: a reader can then write a large request to its cache while it streams, with
   * memory bounded by what it batches instead of by the request's size.
   */
  async streamBlobRange(
    descriptor: Descriptor,
    offset: number,
    length: number,
    sink: (piece: Buffer) => void | Promise<void>,
    options: FetchOptions = {},
  ): Promise<number> {
    const wanted = clampRange(descriptor.size, offset, length);
    if (!wanted) return 0;
    let next: ByteRange = wanted;
    for (;;) {
      const got = await this.fetchRangeOnce(descriptor, next, sink, options.signal);
      const end = next.start + got;
      if (end > wanted.end) break;
      next = { start: end, end: wanted.end };
    }
    return wanted.end - wanted.start + 1;
  }

  /**
   * One request for `range`: the bytes from range.start on, at most up to range.end, written to
   * `out` from `outAt`; returns how many arrived.
   */
  private async fetchRangeOnce(descriptor: Descriptor, range: ByteRange, sink: (piece: Buffer) => void | Promise<void>, signal?: AbortSignal): Promise<number> {
    const what = `blob ${this.description}@${descriptor.digest}`;
    const res = await this.getBlob(descriptor, { range: rangeHeader(range), 'accept-encoding': 'identity' }, signal);
    if (res.status === 206) {
      this.client.noteRangeSupport(true);
      const cr = parseContentRange(header(res, 'content-range'));
      if (!cr || cr.kind !== 'range' || cr.start !== range.start || (cr.total !== undefined && cr.total !== descriptor.size)) {
        dropBody(res);
        throw new InvalidContentError(
          `${this.client.registry} answered range ${JSON.stringify(header(res, 'content-range') ?? '')} to ${rangeHeader(range)} for ${what}`,
        );
      }
      // A shorter answer is completed by the caller; a longer one is cut.
      return this.readSlice(res, cr.start, { start: range.start, end: Math.min(range.end, cr.end) }, sink, descriptor.digest, what);
    }
    if (res.status === 200) {
      this.client.noteRangeSupport(false);
      const declared = Number(header(res, 'content-length'));
      if (Number.isSafeInteger(declared) && declared !== descriptor.size) {
        dropBody(res);
        throw new DigestMismatchError(descriptor.digest, `${declared} bytes instead of ${descriptor.size}`, what);
      }
      return this.readSlice(res, 0, range, sink, descriptor.digest, what);
    }
    if (res.status === 416) {
      const cr = parseContentRange(header(res, 'content-range'));
      await discard(res);
      const total = cr?.total;
      throw new DigestMismatchError(descriptor.digest, total !== undefined ? `${total} bytes instead of ${descriptor.size}` : `fewer than ${descriptor.size} bytes`, what);
    }
    return this.client.session.fail(res, this.subject('read blob', descriptor.digest));
  }

  /**
   * Bytes `want` of a body that starts at blob offset `bodyStart`, handed to `sink` in order;
   * stops reading (dropping the rest of the body) as soon as they are in: a server that ignored
   * Range sends everything.
   */
  private async readSlice(
    res: HttpResponse,
    bodyStart: number,
    want: ByteRange,
    sink: (piece: Buffer) => void | Promise<void>,
    digest: string,
    what: string,
  ): Promise<number> {
    const stats = this.client.session.transport.stats;
    const count = want.end - want.start + 1;
    let pos = bodyStart; // blob offset of the next byte to arrive
    let filled = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        stats.bytesDownloaded += chunk.length;
        const from = Math.max(want.start - pos, 0);
        const to = Math.min(chunk.length, want.end + 1 - pos);
        if (to > from) {
          const pending = sink(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
          filled += to - from;
          if (pending) await pending;
        }
        pos += chunk.length;
        if (filled === count) break; // leaving the loop destroys the body: the rest is not downloaded
      }
    } catch (err) {
      throw this.client.session.transport.mapConnectionError(err);
    } finally {
      dropBody(res);
    }
    if (filled !== count) throw new DigestMismatchError(digest, `the answer ended at byte ${pos}, before byte ${want.end + 1}`, what);
    return filled;
  }

  /**
   * GET on a blob, following redirects by hand: Authorization goes to the registry only, never
   * to the redirect's origin (S3/CDN signed URLs reject it). A 403 from the redirect target
   * (a signed URL that expired) asks the registry once more for a fresh one.
   */
  private async getBlob(descriptor: Descriptor, headers: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    const s = this.client.session;
    for (let reresolved = 0; ; reresolved++) {
      let url = this.blobUrl(descriptor.digest);
      let res = await s.send({ method: 'GET', url, headers, scopes: this.pullScopes(), retry: true, signal });
      for (let hops = 0; isRedirect(res.status); hops++) {
        const location = header(res, 'location');
        await discard(res);
        if (!location) throw new InvalidContentError(`${this.client.registry} redirected blob ${descriptor.digest} without a Location`);
        if (hops >= MAX_REDIRECTS) {
          throw new OcifsError('REGISTRY_ERROR', `more than ${MAX_REDIRECTS} redirects fetching blob ${this.description}@${descriptor.digest}`);
        }
        url = new URL(location, url).toString();
        // session.send adds Authorization only when the URL is the registry's own origin.
        res = await s.send({ method: 'GET', url, headers, scopes: this.pullScopes(), retry: true, signal });
      }
      if (res.status === 403 && !s.isRegistryOrigin(url) && reresolved === 0) {
        await discard(res);
        s.transport.logger.debug('redirect target refused the blob (expired URL?): asking the registry again', { digest: descriptor.digest });
        continue;
      }
      return res;
    }
  }

  async exists(descriptor: Descriptor, options: FetchOptions = {}): Promise<boolean> {
    const isManifest = isManifestMediaType(descriptor.mediaType);
    const url = isManifest ? this.manifestUrl(descriptor.digest) : this.blobUrl(descriptor.digest);
    const s = this.client.session;
    const res = await s.send({
      method: 'HEAD',
      url,
      ...(isManifest ? { headers: { accept: MANIFEST_ACCEPT.join(', ') } } : {}),
      scopes: this.pullScopes(),
      retry: true,
      signal: options.signal,
    });
    // A redirect means the registry has it (and some redirect targets refuse HEAD).
    if (res.status === 200 || isRedirect(res.status)) {
      await discard(res);
      return true;
    }
    if (res.status === 404) {
      await discard(res);
      return false;
    }
    return s.fail(res, this.subject(isManifest ? 'check manifest' : 'check blob', descriptor.digest));
  }

  /** All tags, following `Link` pages; `pageSize` sets `n` (registries that ignore it answer in one page). */
  async listTags(options: FetchOptions & { pageSize?: number } = {}): Promise<string[]> {
    const first = new URL(`${this.client.session.baseUrl}/v2/${this.repository}/tags/list`);
    if (options.pageSize) first.searchParams.set('n', String(options.pageSize));
    const tags: string[] = [];
    await this.client.paginate(first.toString(), this.pullScopes(), this.subject('list tags'), options.signal, (json) => {
      const page = (json as { tags?: unknown }).tags;
      if (page === null || page === undefined) return;
      if (!Array.isArray(page) || page.some((t) => typeof t !== 'string')) {
        throw new InvalidContentError(`${this.client.registry} answered a tag list that is not a list of strings`);
      }
      tags.push(...(page as string[]));
    });
    return tags;
  }

  pushBlob(descriptor: Descriptor, source: BlobSource, options: PushBlobOptions = {}): Promise<PushBlobResult> {
    return pushBlob(this.client.uploadContext(this), descriptor, source, options);
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tags: string[], options: FetchOptions = {}): Promise<void> {
    for (const tag of tags) if (!isValidTag(tag)) this.checkReference(tag);
    verifyBytes(bytes, descriptor, `manifest ${descriptor.digest}`);
    const s = this.client.session;
    for (const ref of tags.length ? tags : [descriptor.digest]) {
      const res = await s.send({
        method: 'PUT',
        url: this.manifestUrl(ref),
        headers: { 'content-type': descriptor.mediaType },
        body: bytes,
        scopes: this.pushScopes(),
        retry: true,
        signal: options.signal,
      });
      if (res.status !== 201 && res.status !== 200) return s.fail(res, this.subject('push manifest', ref));
      await discard(res);
      const got = header(res, 'docker-content-digest');
      if (got && got !== descriptor.digest) throw new DigestMismatchError(descriptor.digest, got, `manifest stored as ${this.description}:${ref}`);
    }
  }

  /** Deletes a manifest by digest (the registry must allow deletes). */
  async deleteManifest(digest: string, options: FetchOptions = {}): Promise<void> {
    parseDigest(digest);
    const s = this.client.session;
    const res = await s.send({
      method: 'DELETE',
      url: this.manifestUrl(digest),
      scopes: [repositoryScope(this.repository, ['delete'])],
      retry: true,
      signal: options.signal,
    });
    if (res.status !== 202 && res.status !== 200 && res.status !== 204) return s.fail(res, this.subject('delete manifest', digest));
    await discard(res);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The media type of an answer, without parameters (`; charset=utf-8`). */
function contentType(res: HttpResponse): string | undefined {
  const ct = header(res, 'content-type');
  const base = ct?.split(';')[0]?.trim();
  return base ? base : undefined;
}

