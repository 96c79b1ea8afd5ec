/**
 * `ocifs push SRC... REF`: an OCI layout (PATH:TAG) or files/directories (packed on the fly)
 * -> a registry. It is copy(): blobs first (HEAD, skip what exists, resume partial uploads),
 * the manifest last, then the tags.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { positiveInt, splitTagList } from '../args.js';
import { addPackFlags, packOptionsFrom, type PackFlags } from './pack.js';
import { copyWithProgress, summariseCopy } from './transfer.js';
import { InvalidArgumentError } from '../../errors.js';
import { LayoutTarget, parseLayoutSpec } from '../../layout/index.js';
import type { ReadableTarget } from '../../oci/target.js';
import type { Descriptor } from '../../oci/types.js';
import { packToSource, parsePackInput } from '../../pack/index.js';
import { parseReference } from '../../ref/reference.js';
import { isLayoutDirectory } from '../../targets.js';

export function registerPush(program: Command, wrap: Wrap): void {
  addPackFlags(
    program
      .command('push')
      .description('push an OCI layout, or files and directories, to a registry')
      .argument('<args...>', 'SRC... REF: a layout PATH:TAG (or oci-layout:PATH:TAG), or FILE[:MEDIATYPE]/DIR...; then REGISTRY/REPO[:TAG[,TAG2]]'),
  )
    .option('-c, --concurrency <n>', 'blobs uploaded at once', positiveInt('--concurrency'), 4)
    .addHelpText(
      'after',
      `
Examples:
  ocifs push ./eo-layout:v1 127.0.0.1:5000/eo/products:v1
  ocifs push ./data 127.0.0.1:5000/eo/products:v2,latest --artifact-type application/vnd.example.eo.v1
  ocifs push model.safetensors:application/vnd.safetensors registry.example.com/models/m:1

An interrupted push resumes: run it again and large blobs continue where the registry stopped.`,
    )
    .action(wrap(push));
}

async function push(ctx: CommandContext, args: string[], opts: PackFlags & { concurrency: number }): Promise<void> {
  if (args.length < 2) throw new InvalidArgumentError('push needs a source and a destination', { hint: 'ocifs push SRC REF' });
  const sources = args.slice(0, -1);
  const { spec: refText, tags: listed } = splitTagList(args[args.length - 1]!);
  const ref = parseReference(refText);
  const tags = listed.length > 0 ? listed : ref.tag ? [ref.tag] : ref.digest ? [] : ['latest'];

  let src: ReadableTarget;
  let root: string | Descriptor;
  const layoutSource = sources.length === 1 ? asLayoutSource(sources[0]!) : undefined;
  if (layoutSource) {
    const layout = await LayoutTarget.open(layoutSource.path);
    src = layout;
    root = layoutSource.digest ?? layoutSource.tag ?? (await onlyTag(layout));
  } else {
    const packed = await packToSource(sources.map(parsePackInput), packOptionsFrom(opts));
    src = packed.source;
    root = packed.descriptor;
  }
  const dst = ctx.targets.repository(ref);
  const result = await copyWithProgress(ctx, src, root, dst, tags, { concurrency: opts.concurrency });
  if (ref.digest && result.descriptor.digest !== ref.digest) {
    throw new InvalidArgumentError(`pushed manifest is ${result.descriptor.digest}, not the ${ref.digest} the reference names`);
  }
  ctx.output.note(summariseCopy(result, 'pushed'));
  ctx.output.out(result.descriptor.digest);
}

function asLayoutSource(text: string): { path: string; tag?: string; digest?: string } | undefined {
  if (text.startsWith('oci-layout:')) return parseLayoutSpec(text.slice('oci-layout:'.length));
  const parsed = parseLayoutSpec(text);
  return isLayoutDirectory(parsed.path) ? parsed : undefined;
}

async function onlyTag(layout: LayoutTarget): Promise<string> {
  const tags = await layout.listTags();
  if (tags.length === 1) return tags[0]!;
  throw new InvalidArgumentError(
    tags.length === 0 ? `${layout.dir} has no tags` : `${layout.dir} has several tags (${tags.join(', ')})`,
    { hint: 'name one: PATH:TAG' },
  );
}
