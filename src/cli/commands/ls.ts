/**
 * `ocifs ls REF`: a registry's repositories, a repository's tags, or an artifact's files.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { humanSize, table } from '../format.js';
import { Annotation, type Descriptor } from '../../oci/types.js';
import type { ReadableTarget } from '../../oci/target.js';
import { parseRegistryHost } from '../../ref/reference.js';
import { parseTargetSpec, specReference } from '../../targets.js';
import { OcifsError } from '../../errors.js';

export function registerLs(program: Command, wrap: Wrap): void {
  program
    .command('ls')
    .description("list a registry's repositories, a repository's tags, or an artifact's files")
    .argument('<ref>', 'REGISTRY, REGISTRY/REPO, REGISTRY/REPO:TAG|@DIGEST, or oci-layout:PATH[:TAG]')
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  ocifs ls 127.0.0.1:5000                       repositories (catalog API)
  ocifs ls 127.0.0.1:5000/eo/products           tags
  ocifs ls 127.0.0.1:5000/eo/products:v1        files: title, size, media type, digest
  ocifs ls oci-layout:./eo-layout:v1 --json`,
    )
    .action(wrap(ls));
}

async function ls(ctx: CommandContext, ref: string, opts: { json?: boolean }): Promise<void> {
  const host = registryOnly(ref);
  if (host) return printNames(ctx, await ctx.targets.client(host).catalog(), opts.json, 'repositories');

  const spec = parseTargetSpec(ref);
  const target = await ctx.targets.openForRead(spec);
  const reference = specReference(spec);
  if (reference === undefined) {
    try {
      return printNames(ctx, await target.listTags({ signal: ctx.signal }), opts.json, 'tags');
    } catch (err) {
      // `host/namespace`: not a repository, but maybe a prefix of some.
      if (spec.kind === 'registry' && err instanceof OcifsError && err.code === 'NOT_FOUND') {
        const prefix = spec.reference.repository + '/';
        const repos = await ctx.targets
          .client(spec.reference.registry)
          .catalog()
          .catch(() => [] as string[]);
        const under = repos.filter((r) => r.startsWith(prefix));
        if (under.length > 0) return printNames(ctx, under, opts.json, 'repositories');
      }
      throw err;
    }
  }
  await printArtifact(ctx, target, reference, opts.json);
}

function registryOnly(ref: string): string | undefined {
  if (ref.includes('/') || ref.startsWith('oci')) return undefined;
  // `localhost:5000`, `127.0.0.1:5000`, `[::1]:5000`, `registry.example.com`.
  if (!/[.:]/.test(ref) && ref !== 'localhost') return undefined;
  try {
    return parseRegistryHost(ref);
  } catch {
    return undefined;
  }
}

function printNames(ctx: CommandContext, names: string[], json: boolean | undefined, what: string): void {
  if (json) ctx.output.out(JSON.stringify(names));
  else if (names.length === 0) ctx.output.note(`no ${what}`);
  else for (const n of names) ctx.output.out(n);
}

async function printArtifact(ctx: CommandContext, target: ReadableTarget, reference: string, json?: boolean): Promise<void> {
  const fetched = await target.fetchManifest(reference, { signal: ctx.signal });
  const parsed = fetched.parsed;
  if (parsed.kind === 'index') {
    const rows = parsed.index.manifests.map((m) => ({
      platform: m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? '/' + m.platform.variant : ''}` : undefined,
      name: m.annotations?.[Annotation.RefName] ?? m.annotations?.[Annotation.Title],
      artifactType: m.artifactType,
      mediaType: m.mediaType,
      size: m.size,
      digest: m.digest,
    }));
    if (json) {
      ctx.output.out(JSON.stringify({ digest: fetched.descriptor.digest, mediaType: fetched.descriptor.mediaType, manifests: rows }));
      return;
    }
    ctx.output.note(`${fetched.descriptor.digest} (index of ${rows.length} manifests)`);
    for (const line of table(rows.map((r) => [r.platform ?? r.name ?? '-', humanSize(r.size), r.artifactType ?? r.mediaType, r.digest]))) {
      ctx.output.out(line);
    }
    return;
  }
  const m = parsed.manifest;
  const files = m.layers.map((l: Descriptor) => ({
    title: l.annotations?.[Annotation.Title] ?? l.annotations?.[Annotation.ModelFilepath] ?? null,
    size: l.size,
    mediaType: l.mediaType,
    digest: l.digest,
    annotations: l.annotations ?? {},
  }));
  if (json) {
    ctx.output.out(
      JSON.stringify({
        digest: fetched.descriptor.digest,
        mediaType: fetched.descriptor.mediaType,
        artifactType: m.artifactType ?? m.config.mediaType,
        annotations: m.annotations ?? {},
        files,
      }),
    );
    return;
  }
  ctx.output.note(`${fetched.descriptor.digest}${m.artifactType ? ` (${m.artifactType})` : ''}`);
  for (const line of table(files.map((f) => [f.title ?? '(untitled)', humanSize(f.size), f.mediaType, f.digest]))) {
    ctx.output.out(line);
  }
}
