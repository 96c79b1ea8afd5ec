/**
 * A source target's blob as the BlobSource a destination pushes from.
 *
 * The stream handed out starts fetching only when its consumer first reads, and every failure
 * (of the fetch or of the body: a cut connection, a destroyed client, a digest mismatch) reaches
 * the consumer as an error of that stream, typed. Why lazy: a destination may do other work
 * between open() and its first read (create a temp file, start an upload session); an error
 * that arrived in that window used to be emitted on a stream nobody listened to yet, which
 * crashed the process. Destroying the stream releases the fetched body (and its connection).
 */
import { Readable } from 'node:stream';
import { OcifsError, localIOError } from '../errors.js';
import type { BlobSource, ReadableTarget } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';

/**
 * `open(offset)` skips the first `offset` bytes of the blob (downloaded again, not uploaded
 * again) for a resumed upload. The bytes are verified by the source's fetchBlob (which errors
 * on a mismatch); `verified` tells the destination so (a registry still checks the digest on
 * its final PUT, a layout on its rename).
 */
export function blobSourceFrom(src: ReadableTarget, descriptor: Descriptor, signal?: AbortSignal): BlobSource {
  return {
    // fetchBlob's stream fails before it ends when the bytes are not the descriptor's.
    verified: true,
    open: (offset: number): Readable =>
      new LazyBlobStream(
        () => src.fetchBlob(descriptor, signal ? { signal } : {}),
        offset,
        (err) => asTransferError(err, src, descriptor),
      ),
  };
}

class LazyBlobStream extends Readable {
  private source: Readable | undefined;
  private started = false;

  constructor(
    private readonly fetch: () => Promise<Readable>,
    private toSkip: number,
    private readonly typed: (err: unknown) => Error,
  ) {
    super();
  }

  override _read(): void {
    if (this.source) {
      this.source.resume();
      return;
    }
    if (this.started) return;
    this.started = true;
    this.fetch().then(
      (stream) => this.attach(stream),
      (err) => this.destroy(this.typed(err)),
    );
  }

  private attach(stream: Readable): void {
    // The body's own late errors (an abort while it closes) have nowhere else to go.
    stream.on('error', (err) => this.destroy(this.typed(err)));
    if (this.destroyed) {
      stream.destroy();
      return;
    }
    this.source = stream;
    stream.on('data', (chunk: Buffer) => {
      if (this.toSkip >= chunk.length) {
        this.toSkip -= chunk.length;
        return;
      }
      const rest = this.toSkip > 0 ? chunk.subarray(this.toSkip) : chunk;
      this.toSkip = 0;
      if (!this.push(rest)) stream.pause();
    });
    stream.on('end', () => this.push(null));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.source && !this.source.destroyed) this.source.destroy();
    callback(err);
  }
}

/**
 * Errors of a blob transfer as our typed errors: undici's own (a destroyed or closed client, a
 * socket that broke and was not retried) mean the source could not be read to the end; system
 * errors come from a layout's files. Aborts stay aborts (the CLI maps them to exit 130).
 */
export function asTransferError(err: unknown, src: ReadableTarget, descriptor: Descriptor): Error {
  if (err instanceof OcifsError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.name === 'AbortError') return e;
  const what = `blob ${descriptor.digest} from ${src.description}`;
  if (typeof e?.code === 'string' && e.code.startsWith('UND_ERR')) {
    return new OcifsError('UNREACHABLE', `cannot read ${what}: the transfer broke off (${e.message || e.code})`, {
      cause: err,
      hint: 'run the command again: blobs already copied are kept',
    });
  }
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return localIOError(err, `cannot read ${what}`);
  return err instanceof Error ? err : new Error(String(err));
}
