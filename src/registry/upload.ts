/**
 * Blob uploads (distribution spec "Pushing blobs"): HEAD first; cross-repository mount; small
 * blobs monolithic (POST, then one PUT ?digest=); large ones chunked (POST, PATCH in order
 * following every Location and OCI-Chunk-Min-Length, PUT ?digest=); chunks grow with the blob
 * (about eight per large blob, see chunkSizeFor) and each is streamed from the source as it is
 * sent, so none is held in memory. A chunked session is
 * remembered after every chunk, so the next push of the same digest continues from the offset
 * the registry reports (GET on the session: 204 + `Range: 0-N`) instead of starting over,
 * which ORAS cannot. A PATCH that fails is never repeated blindly: the registry is asked
 * where it stands and the upload goes on from there.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { DigestMismatchError, InvalidContentError, OcifsError, RegistryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { BlobSource, PushBlobOptions, PushBlobResult } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';
import { VerifyingStream } from '../ref/digest.js';
import { ChunkReader, chunkSizeFor } from './chunk-reader.js';
import { uploadedBytes } from './content-range.js';
import { isRetryableStatus, nextRetryDelay, type RetryPolicy } from './retry.js';
import { repositoryScope } from './scope.js';
import type { RegistrySession } from './session.js';
import { abortedError, chain, discard, header, type HttpResponse } from './transport.js';
import { uploadKey, type UploadStateStore } from './upload-state.js';
import type { RequestSubject } from './wire-errors.js';

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/**
 * When a chunked upload is cancelled, the PATCH on the wire may finish for this long: a PATCH
 * cut mid-body leaves the registry holding bytes its session token does not account for, and
 * distribution then refuses to resume that session.
 */
export const ABORT_GRACE_MS = 5_000;
/** A PATCH on the wire gets longer to finish when its chunk is large: as if sent at this rate. */
const SLOWEST_RATE_BYTES_PER_MS = 16 * 1024; // 16 MB/s

/** How long a cancelled PATCH of `length` bytes may go on: a 128 MiB chunk gets ~8 s. */
export function graceFor(length: number): number {
  return Math.max(ABORT_GRACE_MS, Math.ceil(length / SLOWEST_RATE_BYTES_PER_MS));
}
export const DEFAULT_MONOLITHIC_MAX = 32 * 1024 * 1024;

export interface UploadContext {
  session: RegistrySession;
  repository: string;
  uploadState: UploadStateStore;
  chunkSize: number;
  monolithicMax: number;
  retry: RetryPolicy;
  logger: Logger;
  /** HEAD on the blob: whether the repository already has it. */
  exists(descriptor: Descriptor, signal?: AbortSignal): Promise<boolean>;
}

interface UploadSession {
  location: string;
  /** OCI-Chunk-Min-Length: no chunk but the last may be smaller. */
  minChunk: number;
}

export async function pushBlob(ctx: UploadContext, desc: Descriptor, source: BlobSource, options: PushBlobOptions = {}): Promise<PushBlobResult> {
  const { signal } = options;
  if (await ctx.exists(desc, signal)) return { outcome: 'exists', bytesSent: 0 };
  const key = uploadKey(ctx.session.registry, ctx.repository, desc.digest);

  const saved = await ctx.uploadState.get(key);
  if (saved) {
    const resumed = await resume(ctx, desc, source, saved, options);
    if (resumed) return resumed;
  }

  let session: UploadSession | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from === ctx.repository) continue;
    const started = await startUpload(ctx, desc, signal, from);
    if (started === 'mounted') return { outcome: 'mounted', bytesSent: 0 };
    if (session) await cancel(ctx, session, signal);
    session = started; // the registry opened a normal session instead: use it
  }

  if (desc.size <= ctx.monolithicMax) return monolithic(ctx, desc, source, session, options);
  session ??= await startUpload(ctx, desc, signal);
  return chunked(ctx, desc, source, session, 0, 'uploaded', options);
}

function subject(ctx: UploadContext, desc: Descriptor): RequestSubject {
  return { registry: ctx.session.registry, repository: ctx.repository, reference: desc.digest, action: 'push blob' };
}

function pushScopes(ctx: UploadContext, mountFrom?: string): string[] {
  const scopes = [repositoryScope(ctx.repository, ['pull', 'push'])];
  if (mountFrom) scopes.push(repositoryScope(mountFrom, ['pull']));
  return scopes;
}

function uploadsUrl(ctx: UploadContext): string {
  return `${ctx.session.baseUrl}/v2/${ctx.repository}/blobs/uploads/`;
}

/** Appends `digest=` without re-encoding the registry's own query (its `_state` must stay byte-exact). */
export function withDigestParam(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function locationOf(res: HttpResponse, fallback: string): string {
  const loc = header(res, 'location');
  return loc ? new URL(loc, res.url).toString() : fallback;
}

/** POST: a new session, or 'mounted' when `from` is given and the registry linked the blob (201). */
function startUpload(ctx: UploadContext, desc: Descriptor, signal: AbortSignal | undefined): Promise<UploadSession>;
function startUpload(ctx: UploadContext, desc: Descriptor, signal: AbortSignal | undefined, from: string): Promise<UploadSession | 'mounted'>;
async function startUpload(ctx: UploadContext, desc: Descriptor, signal: AbortSignal | undefined, from?: string): Promise<UploadSession | 'mounted'> {
  const url = from
    ? `${uploadsUrl(ctx)}?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`
    : uploadsUrl(ctx);
  // A repeated POST only leaves an unused session behind: safe to retry.
  const res = await ctx.session.send({ method: 'POST', url, headers: { 'content-length': '0' }, scopes: pushScopes(ctx, from), retry: true, signal });
  if (res.status === 201 && from) {
    await discard(res);
    checkRegistryDigest(res, desc);
    return 'mounted';
  }
  if (res.status !== 202) return ctx.session.fail(res, { ...subject(ctx, desc), action: from ? `mount blob from ${from}` : 'push blob' });
  await discard(res);
  const location = header(res, 'location');
  if (!location) throw new InvalidContentError(`${ctx.session.registry} opened an upload without a Location`);
  const minChunk = Number(header(res, 'oci-chunk-min-length'));
  return { location: new URL(location, res.url).toString(), minChunk: Number.isSafeInteger(minChunk) && minChunk > 0 ? minChunk : 0 };
}

async function cancel(ctx: UploadContext, session: UploadSession, signal?: AbortSignal): Promise<void> {
  try {
    const res = await ctx.session.send({ method: 'DELETE', url: session.location, scopes: pushScopes(ctx), retry: false, signal });
    await discard(res);
  } catch {
    /* an abandoned session expires on the registry by itself */
  }
}

function checkRegistryDigest(res: HttpResponse, desc: Descriptor): void {
  const got = header(res, 'docker-content-digest');
  if (got && got !== desc.digest) throw new DigestMismatchError(desc.digest, got, `blob stored by the registry`);
}

/** Counts bytes as they leave, for onProgress and bytesSent. */
class ProgressStream extends Transform {
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.onBytes(chunk.length);
    callback(null, chunk);
  }
}

/**
 * The source from its start, failing with DigestMismatchError when its bytes are not the
 * descriptor's: hashed here unless the source checks them itself (one sha256 per byte, not two:
 * on a 1 GiB push from a layout the second hash was ~7% of the time).
 */
function checkedFromStart(source: BlobSource, desc: Descriptor): Readable {
  const stream = source.open(0);
  return source.verified ? stream : chain(stream, new VerifyingStream(desc, 'blob source'));
}

/** A signal that follows `outer` only after `graceMs`, so a step under way may finish first. */
function lingering(outer: AbortSignal | undefined, graceMs: number): { signal: AbortSignal | undefined; dispose(): void } {
  if (!outer) return { signal: undefined, dispose: () => undefined };
  const inner = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => inner.abort(outer.reason), graceMs);
  };
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: inner.signal,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}

/** Retry decisions for a whole upload step done again from scratch (new session, source reopened). */
class Attempts {
  private tries = 0;
  private readonly started = Date.now();
  constructor(
    private readonly policy: RetryPolicy,
    private readonly signal: AbortSignal | undefined,
  ) {}
  /** Waits and returns true when another try is allowed. */
  async again(): Promise<boolean> {
    this.tries++;
    const delay = nextRetryDelay(this.policy, { triesMade: this.tries, elapsedMs: Date.now() - this.started });
    if (delay === undefined) return false;
    try {
      await sleepFor(delay, undefined, this.signal ? { signal: this.signal } : {});
    } catch {
      throw abortedError(this.signal);
    }
    return true;
  }
}

/** Whether a failed step is worth another go: connection failures and "try later" answers. */
function isTransient(err: unknown): boolean {
  if (err instanceof RegistryError) return isRetryableStatus(err.status);
  return err instanceof OcifsError && err.code === 'UNREACHABLE';
}

async function monolithic(
  ctx: UploadContext,
  desc: Descriptor,
  source: BlobSource,
  firstSession: UploadSession | undefined,
  options: PushBlobOptions,
): Promise<PushBlobResult> {
  const { signal } = options;
  const attempts = new Attempts(ctx.retry, signal);
  let session = firstSession;
  let bytesSent = 0;
  for (;;) {
    try {
      session ??= await startUpload(ctx, desc, signal);
      const url = withDigestParam(session.location, desc.digest);
      session = undefined; // a session is good for one PUT, whatever happens to it
      const res = await ctx.session.send({
        method: 'PUT',
        url,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
        body: () =>
          chain(
            checkedFromStart(source, desc),
            new ProgressStream((n) => {
              bytesSent += n;
              options.onProgress?.(n);
            }),
          ),
        scopes: pushScopes(ctx),
        retry: false,
        signal,
      });
      if (res.status !== 201) return await failUpload(ctx, res, desc);
      await discard(res);
      checkRegistryDigest(res, desc);
      return { outcome: 'uploaded', bytesSent };
    } catch (err) {
      if (!isTransient(err) || !(await attempts.again())) throw err;
      ctx.logger.debug('retrying a monolithic blob upload', { digest: desc.digest, error: err as Error });
    }
  }
}

/** Error answers to a blob PUT; DIGEST_INVALID becomes a DigestMismatchError. */
async function failUpload(ctx: UploadContext, res: HttpResponse, desc: Descriptor): Promise<never> {
  const err = await ctx.session.errorFor(res, subject(ctx, desc));
  if (err instanceof RegistryError && err.hasWireCode('DIGEST_INVALID')) {
    throw new DigestMismatchError(desc.digest, 'different bytes', 'blob received by the registry', { cause: err });
  }
  throw err;
}

/** GET on a remembered session: where it stands, or undefined when the registry no longer has it. */
async function sessionStatus(ctx: UploadContext, location: string, desc: Descriptor, signal?: AbortSignal): Promise<{ location: string; held: number } | undefined> {
  const res = await ctx.session.send({ method: 'GET', url: location, scopes: pushScopes(ctx), retry: true, signal });
  if (res.status === 204 || res.status === 200) {
    await discard(res);
    const held = uploadedBytes(header(res, 'range'));
    if (held === undefined || held > desc.size) return undefined;
    return { location: locationOf(res, location), held };
  }
  // 404 BLOB_UPLOAD_UNKNOWN (expired, purged) or 400 BLOB_UPLOAD_INVALID (state out of step).
  if (res.status === 404 || res.status === 400) {
    await discard(res);
    return undefined;
  }
  return ctx.session.fail(res, { ...subject(ctx, desc), action: 'resume blob upload' });
}

async function resume(ctx: UploadContext, desc: Descriptor, source: BlobSource, saved: string, options: PushBlobOptions): Promise<PushBlobResult | undefined> {
  const key = uploadKey(ctx.session.registry, ctx.repository, desc.digest);
  const status = await sessionStatus(ctx, saved, desc, options.signal);
  if (!status) {
    ctx.logger.info('upload session expired: starting over', { digest: desc.digest });
    await ctx.uploadState.delete(key);
    return undefined;
  }
  ctx.logger.info('resuming blob upload', { digest: desc.digest, offset: status.held, size: desc.size });
  try {
    return await chunked(ctx, desc, source, { location: status.location, minChunk: 0 }, status.held, status.held > 0 ? 'resumed' : 'uploaded', options);
  } catch (err) {
    // What the registry held did not belong to this blob: forget it and upload afresh.
    if (err instanceof DigestMismatchError) {
      ctx.logger.warn('resumed upload did not match its digest: starting over', { digest: desc.digest });
      await ctx.uploadState.delete(key);
      return undefined;
    }
    throw err;
  }
}

async function chunked(
  ctx: UploadContext,
  desc: Descriptor,
  source: BlobSource,
  session: UploadSession,
  startOffset: number,
  outcome: 'uploaded' | 'resumed',
  options: PushBlobOptions,
): Promise<PushBlobResult> {
  const { signal } = options;
  const key = uploadKey(ctx.session.registry, ctx.repository, desc.digest);
  const chunkSize = chunkSizeFor(desc.size, ctx.chunkSize, session.minChunk);
  const attempts = new Attempts(ctx.retry, signal);
  let location = session.location;
  let offset = startOffset;
  let bytesSent = 0;
  // From the start, the bytes are checked as they are read: a wrong source fails before the PUT.
  // Reopened elsewhere (a resume, a chunk sent again), the registry's digest check at the PUT remains.
  const open = (from: number) => new ChunkReader(from === 0 ? checkedFromStart(source, desc) : source.open(from));
  let reader = open(offset);
  /** Where `reader` was opened in the blob. */
  let readerBase = offset;
  /** Where `reader` stands in the blob; -1 after a failed chunk, whose body may have been read partly. */
  let readerAt = offset;
  await ctx.uploadState.set(key, location);
  try {
    while (offset < desc.size) {
      // Stop between chunks: the saved session then matches what the registry holds.
      if (signal?.aborted) throw abortedError(signal);
      if (readerAt !== offset) {
        reader.close();
        reader = open(offset);
        readerBase = readerAt = offset;
      }
      const length = Math.min(chunkSize, desc.size - offset);
      const from = reader;
      const base = readerBase;
      const start = offset;
      const short = () => new DigestMismatchError(desc.digest, `${base + from.position} bytes instead of ${desc.size}`, 'blob source');
      let failure: unknown;
      const patchSignal = lingering(signal, graceFor(length));
      try {
        bytesSent += length;
        const res = await ctx.session.send({
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + length - 1}`,
            'content-length': String(length),
          },
          // Streamed from the source as it is sent: no chunk is held in memory.
          body: () => from.body(length, short),
          scopes: pushScopes(ctx),
          retry: false,
          signal: patchSignal.signal,
        });
        if (res.status === 202) {
          await discard(res);
          location = locationOf(res, location);
          offset += length;
          readerAt = offset;
          options.onProgress?.(length);
          await ctx.uploadState.set(key, location);
          const held = uploadedBytes(header(res, 'range'));
          if (held === undefined || held === offset) continue;
          failure = new InvalidContentError(`${ctx.session.registry} holds ${held} bytes of the upload, expected ${offset}`);
        } else if (isRetryableStatus(res.status) || res.status === 416) {
          failure = await ctx.session.errorFor(res, subject(ctx, desc));
        } else {
          await ctx.session.fail(res, subject(ctx, desc));
        }
      } catch (err) {
        if (!isTransient(err)) throw err;
        failure = err;
      } finally {
        patchSignal.dispose();
      }
      // The body may have been read partly (or not at all): the reader is reopened where needed.
      readerAt = -1;
      // Something went wrong mid-chunk: ask the registry where it stands and go on from there.
      if (!(await attempts.again())) throw failure;
      const status = await sessionStatus(ctx, location, desc, signal);
      if (!status) {
        // The registry dropped the session (distribution 2.8 cancels one whose state token is
        // behind its data, as after a lost answer): start over with a new one.
        ctx.logger.info('upload session lost after a failure: starting the blob over', { digest: desc.digest, error: failure as Error });
        const fresh = await startUpload(ctx, desc, signal);
        location = fresh.location;
        await ctx.uploadState.set(key, location);
        offset = 0;
        outcome = 'uploaded';
        continue;
      }
      ctx.logger.debug('continuing a chunked upload from the registry offset', { digest: desc.digest, offset: status.held, error: failure as Error });
      location = status.location;
      await ctx.uploadState.set(key, location);
      // The chunk may have arrived with only its answer lost; or the registry holds none of it.
      if (status.held === start + length && offset === start) options.onProgress?.(length);
      offset = status.held;
    }
    if (await reader.hasMore()) throw new DigestMismatchError(desc.digest, `more than ${desc.size} bytes`, 'blob source');
  } finally {
    reader.close();
  }

  const res = await ctx.session.send({
    method: 'PUT',
    url: withDigestParam(location, desc.digest),
    headers: { 'content-length': '0' },
    scopes: pushScopes(ctx),
    retry: true,
    signal,
  });
  if (res.status !== 201) {
    // A PUT repeated after a lost answer finds its session gone: the blob may well be there.
    if (res.status === 404 && (await ctx.exists(desc, signal))) {
      await discard(res);
    } else {
      try {
        await failUpload(ctx, res, desc);
      } catch (err) {
        if (err instanceof DigestMismatchError) await ctx.uploadState.delete(key);
        throw err;
      }
    }
  } else {
    await discard(res);
    checkRegistryDigest(res, desc);
  }
  await ctx.uploadState.delete(key);
  return { outcome, bytesSent };
}

