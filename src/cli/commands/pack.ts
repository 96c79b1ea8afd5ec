/**
 * `ocifs pack FILE|DIR... --layout PATH:TAG`: files -> an OCI image layout, as
 * `oras push --oci-layout` writes it (same manifest bytes for the same inputs).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { collect, parseAnnotations, splitTagList } from '../args.js';
import { humanSize } from '../format.js';
import { createProgress } from '../progress.js';
import { InvalidArgumentError } from '../../errors.js';
import { LayoutTarget, parseLayoutSpec } from '../../layout/index.js';
import { packToLayout, parsePackInput, type PackOptions } from '../../pack/index.js';

export interface PackFlags {
  artifactType?: string;
  annotation?: string[];
  annotationFile?: string;
  config?: string;
  created?: string;
}

/** The pack flags shared by `pack` and `push FILES...`. */
export function addPackFlags(cmd: Command): Command {
  return cmd
    .option('--artifact-type <type>', 'artifactType of the manifest, e.g. application/vnd.example.eo.v1')
    .option('-a, --annotation <key=value>', 'manifest annotation (repeatable)', collect, [])
    .option('--annotation-file <file>', 'annotations in ORAS\'s JSON format ($manifest, $config, per-file keys)')
    .option('--config <file[:mediatype]>', 'config blob (default: the OCI empty descriptor {})')
    .option('--created <time>', 'org.opencontainers.image.created: an RFC 3339 time, "now", or "none" (default: none, for reproducible digests)');
}

export function packOptionsFrom(flags: PackFlags): PackOptions {
  const config = flags.config ? parsePackInput(flags.config) : undefined;
  return {
    artifactType: flags.artifactType,
    annotations: parseAnnotations(flags.annotation),
    annotationFile: flags.annotationFile,
    config: config ? { path: config.path, mediaType: config.mediaType } : undefined,
    created: flags.created,
  };
}

export function registerPack(program: Command, wrap: Wrap): void {
  addPackFlags(
    program
      .command('pack')
      .description('pack files and directories into an OCI image layout (one layer per file, ORAS-compatible)')
      .argument('<files...>', 'FILE[:MEDIATYPE] or DIR (each file below it becomes a layer titled with its relative path)')
      .requiredOption('--layout <path:tag>', 'layout directory and tag(s), e.g. ./eo-layout:v1 or ./eo-layout:v1,latest'),
  )
    .option('--link', 'hard-link files into the layout instead of copying them (same filesystem only)')
    .addHelpText(
      'after',
      `
Examples:
  ocifs pack data/imagery.tif:image/tiff data/stac_item.json:application/geo+json \\
      --layout ./eo-layout:v1 --artifact-type application/vnd.my-earth-observation-product.v1
  ocifs pack ./model --layout ./model-layout:v2,latest --created now`,
    )
    .action(wrap(pack, { targets: false })); // writes a layout directly: no registry client to load
}

async function pack(ctx: CommandContext, files: string[], opts: PackFlags & { layout: string; link?: boolean }): Promise<void> {
  const { spec, tags: listed } = splitTagList(opts.layout);
  const parsed = parseLayoutSpec(spec.replace(/^oci-layout:/, ''));
  if (parsed.digest) throw new InvalidArgumentError('--layout takes PATH:TAG, not a digest');
  const tags = listed.length > 0 ? listed : parsed.tag ? [parsed.tag] : [];
  if (tags.length === 0) throw new InvalidArgumentError(`--layout ${opts.layout} has no tag`, { hint: 'use PATH:TAG, e.g. ./eo-layout:v1' });
  const layout = await LayoutTarget.open(parsed.path, { create: true });
  const progress = await createProgress(ctx.output.isTTY);
  try {
    const result = await packToLayout(layout, files.map(parsePackInput), tags, {
      ...packOptionsFrom(opts),
      link: opts.link,
      onTotal: (bytes) => progress.add('pack', `packing into ${parsed.path}`, bytes),
      onProgress: (n) => progress.advance('pack', n),
    });
    progress.finish('pack');
    progress.stop();
    const bytes = result.layers.reduce((s, l) => s + l.size, 0);
    ctx.output.note(`packed ${result.layers.length} files (${humanSize(bytes)}) into ${parsed.path}:${tags.join(',')}`);
    ctx.output.out(result.descriptor.digest);
  } finally {
    progress.stop();
  }
}
