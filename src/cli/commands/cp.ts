/**
 * `ocifs cp SRC DST`: copy an artifact (manifest, index and everything below) between any two
 * targets: registry to registry, layout to registry, registry to layout.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { positiveInt, splitTagList } from '../args.js';
import { copyWithProgress, summariseCopy } from './transfer.js';
import { parseTargetSpec, specReference } from '../../targets.js';
import { InvalidArgumentError } from '../../errors.js';

export function registerCp(program: Command, wrap: Wrap): void {
  program
    .command('cp')
    .description('copy an artifact between registries and OCI layouts, following image indexes')
    .argument('<src>', 'REGISTRY/REPO:TAG|@DIGEST or oci-layout:PATH:TAG')
    .argument('<dst>', 'REGISTRY/REPO[:TAG[,TAG2]] or oci-layout:PATH[:TAG]')
    .option('-c, --concurrency <n>', 'blobs copied at once', positiveInt('--concurrency'), 4)
    .addHelpText(
      'after',
      `
Examples:
  ocifs cp oci-layout:./eo-layout:v1 127.0.0.1:5000/eo/products:v1
  ocifs cp 127.0.0.1:5000/eo/products:v1 127.0.0.1:5000/mirror/products:v1
  ocifs cp 127.0.0.1:5000/charts/web:1.0 oci-layout:./charts:1.0`,
    )
    .action(wrap(cp));
}

async function cp(ctx: CommandContext, srcText: string, dstText: string, opts: { concurrency: number }): Promise<void> {
  const srcSpec = parseTargetSpec(srcText);
  const reference = specReference(srcSpec);
  if (!reference) throw new InvalidArgumentError(`${srcText} names no tag or digest`, { hint: 'add :TAG or @sha256:...' });
  const { spec: dstSpecText, tags: listed } = splitTagList(dstText);
  const dstSpec = parseTargetSpec(dstSpecText);
  const dstRef = specReference(dstSpec);
  const srcTag = srcSpec.kind === 'registry' ? srcSpec.reference.tag : srcSpec.tag;
  const tags = listed.length > 0 ? listed : dstRef && !dstRef.includes(':') ? [dstRef] : srcTag ? [srcTag] : [];
  const src = await ctx.targets.openForRead(srcSpec);
  const dst = await ctx.targets.open(dstSpec, { create: true });
  // Same registry: blobs can be mounted from the source repository instead of re-uploaded.
  const mountFrom =
    srcSpec.kind === 'registry' && dstSpec.kind === 'registry' && srcSpec.reference.registry === dstSpec.reference.registry
      ? [srcSpec.reference.repository]
      : undefined;
  const result = await copyWithProgress(ctx, src, reference, dst, tags, { concurrency: opts.concurrency, mountFrom });
  ctx.output.note(summariseCopy(result, 'copied'));
  ctx.output.out(result.descriptor.digest);
}
