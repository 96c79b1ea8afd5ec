/**
 * `ocifs pull REF --output DIR`: each titled layer to DIR/<title>, verified and atomic;
 * `--layout PATH:TAG` pulls into an OCI layout instead.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { positiveInt, splitTagList } from '../args.js';
import { humanSize } from '../format.js';
import { createProgress } from '../progress.js';
import { copyWithProgress, summariseCopy } from './transfer.js';
import { InvalidArgumentError } from '../../errors.js';
import { DEFAULT_PULL_CONCURRENCY, LARGE_FILES_AT_ONCE, pullToDirectory } from '../../copy/pull.js';
import { parseLayoutSpec, LayoutTarget } from '../../layout/index.js';
import { parseTargetSpec, specReference } from '../../targets.js';

interface PullFlags {
  output?: string;
  layout?: string;
  allowPathTraversal?: boolean;
  keepOldFiles?: boolean;
  concurrency: number;
}

export function registerPull(program: Command, wrap: Wrap): void {
  program
    .command('pull')
    .description('pull an artifact\'s files into a directory (or into an OCI layout with --layout)')
    .argument('<ref>', 'REGISTRY/REPO:TAG|@DIGEST or oci-layout:PATH:TAG')
    .option('-o, --output <dir>', 'directory to write the files to', '.')
    .option('--layout <path:tag>', 'write an OCI image layout instead of files')
    .option('--allow-path-traversal', 'allow titles that are absolute or climb out of the output directory')
    .option('-k, --keep-old-files', 'fail instead of replacing files that exist')
    .option(
      '-c, --concurrency <n>',
      `files (or blobs, with --layout) downloaded at once; files over 1 MiB: at most ${LARGE_FILES_AT_ONCE}`,
      positiveInt('--concurrency'),
      DEFAULT_PULL_CONCURRENCY,
    )
    .addHelpText(
      'after',
      `
Examples:
  ocifs pull 127.0.0.1:5000/eo/products:v1 --output ./retrieved
  ocifs pull 127.0.0.1:5000/eo/products:v1 --layout ./eo-copy:v1`,
    )
    .action(wrap(pull));
}

async function pull(ctx: CommandContext, refText: string, opts: PullFlags): Promise<void> {
  const spec = parseTargetSpec(refText);
  const reference = specReference(spec) ?? 'latest';
  const src = await ctx.targets.openForRead(spec);
  if (opts.layout) {
    const { spec: layoutText, tags: listed } = splitTagList(opts.layout);
    const parsed = parseLayoutSpec(layoutText.replace(/^oci-layout:/, ''));
    const tags = listed.length > 0 ? listed : parsed.tag ? [parsed.tag] : spec.kind === 'registry' && spec.reference.tag ? [spec.reference.tag] : [];
    if (parsed.digest) throw new InvalidArgumentError('--layout takes PATH[:TAG], not a digest');
    const dst = await LayoutTarget.open(parsed.path, { create: true });
    const result = await copyWithProgress(ctx, src, reference, dst, tags, { concurrency: opts.concurrency });
    ctx.output.note(summariseCopy(result, 'copied'));
    ctx.output.out(result.descriptor.digest);
    return;
  }
  const progress = await createProgress(ctx.output.isTTY);
  try {
    const result = await pullToDirectory(src, reference, opts.output ?? '.', {
      allowPathTraversal: opts.allowPathTraversal,
      keepOldFiles: opts.keepOldFiles,
      concurrency: opts.concurrency,
      logger: ctx.logger,
      signal: ctx.signal,
      onFileStart: (f) => progress.add(f.title, f.title, f.descriptor.size),
      onFileProgress: (f, n) => progress.advance(f.title, n),
      onFileDone: (f) => progress.finish(f.title),
    });
    progress.stop();
    for (const u of result.untitled) {
      ctx.output.note(`skipped a layer without a title: ${u.digest} (${u.mediaType}, ${humanSize(u.size)})`);
    }
    ctx.output.note(
      `pulled ${result.files.length} file${result.files.length === 1 ? '' : 's'} (${humanSize(result.bytes)}) into ${opts.output ?? '.'}, manifest ${result.descriptor.digest}`,
    );
  } finally {
    progress.stop();
  }
}
