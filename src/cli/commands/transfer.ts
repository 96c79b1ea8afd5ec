/** What push and cp share: copy() with progress bars and a one-line summary. */
import type { CommandContext } from '../context.js';
import { humanSize, shortDigest } from '../format.js';
import { createProgress } from '../progress.js';
import { copy, type CopyOptions, type CopyResult } from '../../copy/copy.js';
import type { ReadableTarget, WritableTarget } from '../../oci/target.js';
import { Annotation, type Descriptor } from '../../oci/types.js';

export async function copyWithProgress(
  ctx: CommandContext,
  src: ReadableTarget,
  root: string | Descriptor,
  dst: WritableTarget,
  tags: string[],
  options: Pick<CopyOptions, 'concurrency' | 'mountFrom'>,
): Promise<CopyResult> {
  const progress = await createProgress(ctx.output.isTTY);
  try {
    return await copy(src, root, dst, tags, {
      ...options,
      logger: ctx.logger,
      signal: ctx.signal,
      onBlobStart: (d) => progress.add(d.digest, d.annotations?.[Annotation.Title] ?? shortDigest(d.digest), d.size),
      onBlobProgress: (d, n) => progress.advance(d.digest, n),
      onBlobDone: (d, outcome) => progress.finish(d.digest, outcome === 'uploaded' ? undefined : outcome),
    });
  } finally {
    progress.stop();
  }
}

export function summariseCopy(r: CopyResult, verb: string): string {
  const blobs = r.blobsUploaded + r.blobsResumed;
  const parts = [`${verb} ${blobs} blob${blobs === 1 ? '' : 's'} (${humanSize(r.bytesUploaded)})`];
  if (r.blobsResumed) parts.push(`${r.blobsResumed} resumed`);
  if (r.blobsMounted) parts.push(`mounted ${r.blobsMounted} from another repository`);
  parts.push(`skipped ${r.blobsSkipped} existing`);
  parts.push(`manifest ${r.descriptor.digest}`);
  return parts.join(', ');
}
