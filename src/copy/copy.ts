/**
 * copy(src, dst): the one operation behind push, pull --layout and cp (as oras-go's Copy).
 *
 * Walks the descriptor graph from a root manifest or index: children first, blobs before the
 * manifest that names them, the root manifest last and only then its tags, so a destination never
 * holds a manifest whose blobs are missing. Blobs the destination has are skipped (pushBlob checks
 * first); a blob or manifest reachable twice is copied once. Knows nothing about HTTP or files:
 * it speaks only the Target interfaces.
 */
import { PassThrough, type Readable } from 'node:stream';
import { isManifestMediaType, type Descriptor, type ParsedManifest } from '../oci/types.js';
import type { BlobSource, PushBlobOutcome, ReadableTarget, WritableTarget } from '../oci/target.js';
import { silentLogger, type Logger } from '../log.js';
import { limitConcurrency } from './limit.js';

export interface CopyProgress {
  /** A blob starts: its descriptor (size for a progress bar). */
  onBlobStart?(descriptor: Descriptor): void;
  /** Bytes newly sent for that blob. */
  onBlobProgress?(descriptor: Descriptor, bytes: number): void;
  onBlobDone?(descriptor: Descriptor, outcome: PushBlobOutcome): void;
}

export interface CopyOptions extends CopyProgress {
  /** Blobs copied at once (default 4). */
  concurrency?: number;
  /** Repositories of the destination registry that may hold the blobs (cross-repo mount). */
  mountFrom?: string[];
  logger?: Logger;
  signal?: AbortSignal;
}

export interface CopyResult {
  /** The root manifest or index as stored at the destination. */
  descriptor: Descriptor;
  blobsUploaded: number;
  blobsResumed: number;
  blobsMounted: number;
  blobsSkipped: number;
  bytesUploaded: number;
  manifests: number;
}

/**
 * Copies the artifact that `reference` (a tag or digest) names in `src` to `dst`, then points
 * each of `tags` at it (no tags: stored by digest only).
 */
export async function copy(
  src: ReadableTarget,
  reference: string | Descriptor,
  dst: WritableTarget,
  tags: string[],
  options: CopyOptions = {},
): Promise<CopyResult> {
  const logger = options.logger ?? silentLogger;
  const limit = limitConcurrency(options.concurrency ?? 4);
  const result: CopyResult = {
    descriptor: undefined as unknown as Descriptor,
    blobsUploaded: 0,
    blobsResumed: 0,
    blobsMounted: 0,
    blobsSkipped: 0,
    bytesUploaded: 0,
    manifests: 0,
  };
  // Digest -> the promise of its copy: a node reachable twice (shared layers, an index listing
  // one manifest twice) is copied once.
  const started = new Map<string, Promise<void>>();

  const copyBlob = (descriptor: Descriptor): Promise<void> =>
    once(started, descriptor.digest, () =>
      limit(async () => {
        options.signal?.throwIfAborted();
        options.onBlobStart?.(descriptor);
        const pushed = await dst.pushBlob(descriptor, blobSourceFrom(src, descriptor, options.signal), {
          mountFrom: options.mountFrom,
          signal: options.signal,
          onProgress: (n) => options.onBlobProgress?.(descriptor, n),
        });
        result.bytesUploaded += pushed.bytesSent;
        if (pushed.outcome === 'exists') result.blobsSkipped++;
        else if (pushed.outcome === 'mounted') result.blobsMounted++;
        else if (pushed.outcome === 'resumed') result.blobsResumed++;
        else result.blobsUploaded++;
        logger.debug('blob copied', { digest: descriptor.digest, outcome: pushed.outcome, bytes: pushed.bytesSent });
        options.onBlobDone?.(descriptor, pushed.outcome);
      }),
    );

  const copyNode = async (ref: string | Descriptor, tagsForThis: string[]): Promise<Descriptor> => {
    options.signal?.throwIfAborted();
    const fetched = await src.fetchManifest(ref, { signal: options.signal });
    const run = async () => {
      await Promise.all(children(fetched.parsed).map((child) => copyChild(child)));
      await dst.pushManifest(fetched.descriptor, fetched.bytes, tagsForThis, { signal: options.signal });
      result.manifests++;
    };
    if (tagsForThis.length === 0) await once(started, fetched.descriptor.digest, run);
    else {
      // The root: its children may already be in flight via another path; wait for them all.
      await run();
    }
    return fetched.descriptor;
  };

  const copyChild = async (child: Descriptor): Promise<void> => {
    // Children of an index are manifests (or nested indexes); nothing else is listed there.
    if (isManifestMediaType(child.mediaType)) {
      await copyNode(child, []);
    } else {
      await copyBlob(child);
    }
  };

  result.descriptor = await copyNode(reference, tags);
  return result;
}

/** What a manifest or index refers to: config and layers, or child manifests (and subjects are not followed). */
export function children(parsed: ParsedManifest): Descriptor[] {
  if (parsed.kind === 'index') return parsed.index.manifests;
  return [parsed.manifest.config, ...parsed.manifest.layers];
}

function once(started: Map<string, Promise<void>>, key: string, run: () => Promise<void>): Promise<void> {
  let p = started.get(key);
  if (!p) {
    p = run();
    started.set(key, p);
  }
  return p;
}

/**
 * A BlobSource over a source target. `open(offset)` starts the fetch lazily; for a resumed upload
 * (offset > 0) it reads from the source's file when there is one, else skips the first bytes of
 * the stream (downloaded again, not uploaded again). The destination verifies the whole digest.
 */
export function blobSourceFrom(src: ReadableTarget, descriptor: Descriptor, signal?: AbortSignal): BlobSource {
  return {
    open(offset: number): Readable {
      const out = new PassThrough();
      src
        .fetchBlob(descriptor, { signal })
        .then((stream) => {
          let toSkip = offset;
          stream.on('error', (err) => out.destroy(err));
          if (toSkip === 0) {
            stream.pipe(out);
            return;
          }
          stream.on('data', (chunk: Buffer) => {
            if (toSkip >= chunk.length) {
              toSkip -= chunk.length;
              return;
            }
            const rest = toSkip > 0 ? chunk.subarray(toSkip) : chunk;
            toSkip = 0;
            if (!out.write(rest)) {
              stream.pause();
              out.once('drain', () => stream.resume());
            }
          });
          stream.on('end', () => out.end());
        })
        .catch((err) => out.destroy(err));
      return out;
    },
  };
}
