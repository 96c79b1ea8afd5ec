/**
 * copy(src, dst): the one operation behind push, pull --layout and cp (as oras-go's Copy).
 *
 * Walks the descriptor graph from a root manifest or index: children first, blobs before the
 * manifest that names them, the root manifest last and only then its tags, so a destination never
 * holds a manifest whose blobs are missing. Blobs the destination has are skipped (pushBlob checks
 * first); a blob or manifest reachable twice is copied once. Knows nothing about HTTP or files:
 * it speaks only the Target interfaces.
 */
import { setMaxListeners } from 'node:events';
import { isManifestMediaType, type Descriptor, type ParsedManifest } from '../oci/types.js';
import type { PushBlobOutcome, ReadableTarget, WritableTarget } from '../oci/target.js';
import { silentLogger, type Logger } from '../log.js';
import { blobSourceFrom } from './blob-source.js';
import { limitConcurrency } from './limit.js';

export { blobSourceFrom } from './blob-source.js';

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
  // The first failure stops the rest: queued copies do not start, running ones are aborted.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // Each transfer in flight listens to it (bounded by the concurrency): not a leak.
  setMaxListeners(0, signal);
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
  let firstFailure: { error: unknown } | undefined;
  const failed = (error: unknown): never => {
    if (!firstFailure) {
      firstFailure = { error };
      stop.abort(error);
    }
    throw error;
  };

  const copyBlob = (descriptor: Descriptor): Promise<void> =>
    once(started, descriptor.digest, () =>
      limit(async () => {
        signal.throwIfAborted();
        options.onBlobStart?.(descriptor);
        const pushed = await dst.pushBlob(descriptor, blobSourceFrom(src, descriptor, signal), {
          mountFrom: options.mountFrom,
          signal,
          onProgress: (n) => options.onBlobProgress?.(descriptor, n),
        });
        result.bytesUploaded += pushed.bytesSent;
        if (pushed.outcome === 'exists') result.blobsSkipped++;
        else if (pushed.outcome === 'mounted') result.blobsMounted++;
        else if (pushed.outcome === 'resumed') result.blobsResumed++;
        else result.blobsUploaded++;
        logger.debug('blob copied', { digest: descriptor.digest, outcome: pushed.outcome, bytes: pushed.bytesSent });
        options.onBlobDone?.(descriptor, pushed.outcome);
      }).catch(failed),
    );

  const copyNode = async (ref: string | Descriptor, tagsForThis: string[]): Promise<Descriptor> => {
    signal.throwIfAborted();
    const fetched = await src.fetchManifest(ref, { signal });
    const run = async () => {
      await Promise.all(children(fetched.parsed).map((child) => copyChild(child)));
      await dst.pushManifest(fetched.descriptor, fetched.bytes, tagsForThis, { signal });
      result.manifests++;
    };
    if (tagsForThis.length === 0) await once(started, fetched.descriptor.digest, () => run().catch(failed));
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

  try {
    result.descriptor = await copyNode(reference, tags);
  } catch (err) {
    if (!firstFailure) firstFailure = { error: err };
    stop.abort(firstFailure.error);
    // Return only once every copy that started has finished: none is left writing into the
    // destination (a temp file, an upload) or reading from a client the caller closes next.
    await settleAll(started);
    throw firstFailure.error;
  }
  return result;
}

/** Waits until every promise in `started` has settled, including ones added meanwhile. */
async function settleAll(started: Map<string, Promise<void>>): Promise<void> {
  for (let seen = -1; seen !== started.size; ) {
    seen = started.size;
    await Promise.allSettled(started.values());
  }
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
