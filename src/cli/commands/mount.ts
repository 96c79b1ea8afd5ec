/**
 * `ocifs mount SOURCE MOUNTPOINT`, `ocifs umount MOUNTPOINT`, `ocifs status MOUNTPOINT`.
 * Wires the pieces of the read path together: cache -> BlobReader -> OciFilesystem -> FUSE.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { collect, splitTagList } from '../args.js';
import { parseDuration, parseSize } from '../../config.js';
import { InvalidArgumentError, OcifsError } from '../../errors.js';
import { Cache } from '../../cache/index.js';
import { BlobReader } from '../../read/index.js';
import {
  DEFAULT_NEGATIVE_TTL_MS,
  DEFAULT_TTL_MS,
  OciFilesystem,
  referenceMount,
  registryMount,
  repositoryMount,
  type MountSource,
  type RegistrySource,
} from '../../fs/index.js';
import { daemonize, mountFilesystem, readMountStatus, runUntilSignalled, unmountPath } from '../../fuse/index.js';
import { LayoutTarget, parseLayoutSpec } from '../../layout/index.js';
import { parseReference, parseRegistryHost } from '../../ref/reference.js';
import { isLayoutDirectory } from '../../targets.js';
import { parseMetricsAddress, startMetricsServerOrWarn, timeReads } from '../../metrics/index.js';
import type { ClientStats } from '../../registry/index.js';
import { VERSION } from '../version.js';

interface MountFlags {
  repo: string[];
  ttl?: string;
  negativeTtl?: string;
  cacheMaxSize?: string;
  uid?: string;
  gid?: string;
  umask?: string;
  allowOther?: boolean;
  daemon?: boolean;
  logFile?: string;
  create?: boolean;
  timeout?: string;
  fuseDebug?: boolean;
  metricsAddr?: string;
}

export function registerMount(program: Command, wrap: Wrap): void {
  program
    .command('mount')
    .description('mount a registry, namespace, repository, artifact or OCI layout as a read-only tree')
    .argument('<source>', 'REGISTRY, REGISTRY/NAMESPACE, REGISTRY/REPO, REGISTRY/REPO:TAG|@DIGEST, or oci-layout:PATH[:TAG]')
    .argument('<mountpoint>', 'an empty directory')
    .option('--repo <name>', 'repository to show when mounting a registry whose catalog is off (repeatable)', collect, [])
    .option('--ttl <duration>', `how long tags and listings are trusted before they are checked again (default ${DEFAULT_TTL_MS / 1000}s)`)
    .option('--negative-ttl <duration>', `how long a name that was not found stays not found (default ${DEFAULT_NEGATIVE_TTL_MS / 1000}s)`)
    .option('--cache-max-size <size>', 'cache size limit, e.g. 20G (default: 10G, at most 80% of free space)')
    .option('--uid <uid>', 'owner of every file (default: the mounting user)')
    .option('--gid <gid>', 'group of every file (default: the mounting user\'s group)')
    .option('--umask <octal>', 'mask on the 0444/0555 modes, e.g. 0027', '0')
    .option('--allow-other', 'let other users and containers read the mount (non-root: user_allow_other in /etc/fuse.conf)')
    .option('--create', 'create the mountpoint if it does not exist')
    .option('--timeout <duration>', 'deadline of one filesystem call before it fails (default 120s)')
    .option('-d, --daemon', 'run in the background once mounted')
    .option('--log-file <file>', 'with --daemon: append logs here')
    .option('--fuse-debug', 'print libfuse\'s request trace')
    .option('--metrics-addr <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (HOST defaults to 127.0.0.1; off unless given)')
    .addHelpText(
      'after',
      `
Examples:
  ocifs mount 127.0.0.1:5000/eo/products /mnt/eo         /mnt/eo/<tag>/<file>
  ocifs mount 127.0.0.1:5000 /mnt/reg --repo eo/products   /mnt/reg/<repo>/<tag>/<file>
  ocifs mount 127.0.0.1:5000/eo/products:v1 /mnt/v1        /mnt/v1/<file>
  ocifs mount oci-layout:./eo-layout /mnt/local
  gdalinfo /mnt/eo/v1/imagery.tif

Runs in the foreground; Ctrl-C (SIGINT) or SIGTERM unmounts. Counters: ocifs status MOUNTPOINT.`,
    )
    .action(wrap(mount));
}

export function registerUmount(program: Command, wrap: Wrap): void {
  program
    .command('umount')
    .alias('unmount')
    .description('unmount an ocifs mount (its daemon then exits)')
    .argument('<mountpoint>')
    .option('-l, --lazy', 'detach now even if files are open (they keep working until closed)')
    .addHelpText('after', '\nExamples:\n  ocifs umount /mnt/eo\n  ocifs umount --lazy /mnt/eo     files still open keep working until closed')
    .action(
      wrap(async (ctx: CommandContext, mountpoint: string, opts: { lazy?: boolean }) => {
        await unmountPath(mountpoint, { lazy: opts.lazy });
        ctx.output.note(`unmounted ${mountpoint}`);
      }),
    );
}

export function registerStatus(program: Command, wrap: Wrap): void {
  program
    .command('status')
    .description('show the counters of a running mount (requests, bytes fetched, cache hits)')
    .argument('<mountpoint>')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  ocifs status /mnt/eo\n  ocifs status /mnt/eo --json | jq .reader.bytesFetched')
    .action(
      wrap(async (ctx: CommandContext, mountpoint: string, opts: { json?: boolean }) => {
        const status = await readMountStatus(mountpoint);
        if (opts.json) ctx.output.out(JSON.stringify(status));
        else printStatus(ctx, status);
      }),
    );
}

function printStatus(ctx: CommandContext, status: Record<string, unknown>, prefix = ''): void {
  for (const [key, value] of Object.entries(status)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) printStatus(ctx, value as Record<string, unknown>, `${prefix}${key}.`);
    else ctx.output.out(`${(prefix + key).padEnd(28)} ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  }
}

async function mount(ctx: CommandContext, sourceText: string, mountpoint: string, opts: MountFlags): Promise<void> {
  const ttlMs = opts.ttl ? parseDuration(opts.ttl) : DEFAULT_TTL_MS;
  const negativeTtlMs = opts.negativeTtl ? parseDuration(opts.negativeTtl) : DEFAULT_NEGATIVE_TTL_MS;
  const umask = parseOctal(opts.umask ?? '0');
  const uid = opts.uid !== undefined ? parseId('--uid', opts.uid) : process.getuid?.();
  const gid = opts.gid !== undefined ? parseId('--gid', opts.gid) : process.getgid?.();
  const maxSize = opts.cacheMaxSize ? parseSize(opts.cacheMaxSize) : undefined;
  const operationTimeoutMs = opts.timeout ? parseDuration(opts.timeout) : undefined;
  // Parsed before --daemon forks, so a typo fails the command rather than the daemon.
  const metricsAddress = opts.metricsAddr !== undefined ? parseMetricsAddress(opts.metricsAddr) : undefined;

  if (opts.daemon) {
    const argv = [process.execPath, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2).filter((a) => a !== '--daemon' && a !== '-d')];
    const info = await daemonize(argv, mountpoint, { logFile: opts.logFile });
    ctx.output.note(`mounted ${sourceText} on ${mountpoint} (daemon pid ${info.pid}${info.logFile ? `, logs in ${info.logFile}` : ''})`);
    return;
  }

  const { source, pinned, describe, registryStats } = await openMountSource(ctx, sourceText, opts.repo);
  const cache = Cache.open({ dir: ctx.config.cacheDir, maxSize, logger: ctx.logger.child({ component: 'cache' }) });
  let metrics: Awaited<ReturnType<typeof startMetricsServerOrWarn>>;
  try {
    const reader = new BlobReader({
      cache,
      logger: ctx.logger.child({ component: 'read' }),
      // A COG tile is read front to back (1-2 MiB): that must not start read-ahead, or a GDAL
      // window fetches twice what it needs. Streams (cat, cp) pass 4 MiB almost at once.
      sequentialThreshold: 4 * 1024 * 1024,
    });
    const fs = new OciFilesystem({
      source,
      reader,
      metadata: cache.metadata,
      ttlMs,
      negativeTtlMs,
      uid,
      gid,
      umask,
      logger: ctx.logger.child({ component: 'fs' }),
      statusExtra: () => ({ source: describe, cache: cacheSummary(cache), ...(registryStats ? { registry: { ...registryStats } } : {}) }),
      unpackDir: join(ctx.config.cacheDir, 'unpacked'),
    });
    // A port in use is one warning: the mount works without metrics.
    metrics = metricsAddress
      ? await startMetricsServerOrWarn({
          addr: metricsAddress,
          logger: ctx.logger,
          version: VERSION,
          collect: () => ({ read: reader.counters, registry: registryStats, cache: cache.stats() }),
        })
      : undefined;
    const mounted = await mountFilesystem(metrics ? timeReads(fs, metrics.observeReadLatency) : fs, mountpoint, {
      allowOther: opts.allowOther,
      debug: opts.fuseDebug,
      logger: ctx.logger,
      fsName: `ocifs#${describe}`.slice(0, 200),
      // Digest-pinned trees never change: the page cache may keep everything. Elsewhere the
      // kernel keeps pages while size and mtime stay the same (src/fs derives a file's mtime
      // from its digest, so a moved tag invalidates them).
      kernelCache: pinned,
      autoCache: !pinned,
      createMountpoint: opts.create,
      operationTimeoutMs,
    });
    // Hand signals over from the CLI's abort handlers to the mount's, with no await in between:
    // a SIGTERM that arrived while mounting has aborted ctx.signal and unmounts now.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    if (ctx.signal.aborted) {
      ctx.logger.info('interrupted while mounting: unmounting', { mountpoint: mounted.mountpoint });
      await mounted.unmount();
      return;
    }
    ctx.output.note(`mounted ${describe} on ${mounted.mountpoint}; Ctrl-C or \`ocifs umount ${mounted.mountpoint}\` to unmount`);
    await runUntilSignalled(mounted, ctx.logger);
  } finally {
    await metrics?.close();
    cache.close();
  }
}

function cacheSummary(cache: Cache): Record<string, unknown> {
  const s = cache.stats();
  return { bytes: s.bytes, maxSize: s.maxSize, blobs: s.blobs };
}

interface OpenedSource {
  source: MountSource;
  /** Every path means the same bytes for ever (a digest): the kernel may cache it all. */
  pinned: boolean;
  describe: string;
  /** The registry client's live counters (none for a layout). */
  registryStats?: ClientStats;
}

/** SOURCE as typed -> what the tree is built from. */
async function openMountSource(ctx: CommandContext, text: string, repos: string[]): Promise<OpenedSource> {
  if (text.startsWith('oci-layout:') || isLayoutDirectory(parseLayoutSpec(text).path)) {
    const spec = parseLayoutSpec(text.replace(/^oci-layout:/, ''));
    const layout = await LayoutTarget.open(spec.path);
    const reference = spec.digest ?? spec.tag;
    return {
      source: reference ? referenceMount(layout, reference) : repositoryMount(layout),
      pinned: Boolean(spec.digest),
      describe: `oci-layout:${spec.path}${reference ? (spec.digest ? '@' : ':') + reference : ''}`,
    };
  }
  if (splitTagList(text).tags.length > 1) throw new InvalidArgumentError('mount takes one tag, not a list');

  if (!text.includes('/')) {
    const registry = parseRegistryHost(text);
    const client = ctx.targets.client(registry);
    return {
      source: registryMount(registry, readingThroughMirrors(ctx, registry), repos.length > 0 ? { repositories: repos } : {}),
      pinned: false,
      describe: registry,
      registryStats: client.stats,
    };
  }

  const ref = parseReference(text);
  const client = ctx.targets.client(ref.registry);
  const registryStats = client.stats;
  // Reads go through the configured pull-through mirrors, if any (docs/mirrors.md).
  const repository = ctx.targets.readRepository(ref.registry, ref.repository);
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest || ref.tag) {
    const reference = (ref.digest ?? ref.tag)!;
    return {
      source: referenceMount(repository, reference),
      pinned: Boolean(ref.digest),
      describe: ref.digest ? `${name}@${ref.digest}` : `${name}:${ref.tag}`,
      registryStats,
    };
  }
  // `host/a/b`: a repository if it has tags, else a namespace (the repositories under it).
  try {
    await repository.listTags({ signal: ctx.signal });
  } catch (err) {
    if (err instanceof OcifsError && err.code === 'NOT_FOUND') {
      ctx.logger.info('not a repository: mounting it as a namespace', { namespace: name });
      return {
        source: registryMount(name, readingThroughMirrors(ctx, ref.registry), { namespace: ref.repository, ...(repos.length > 0 ? { repositories: repos } : {}) }),
        pinned: false,
        describe: name,
        registryStats,
      };
    }
    if (!(err instanceof OcifsError && (err.code === 'UNREACHABLE' || err.code === 'REGISTRY_ERROR'))) throw err;
    ctx.logger.warn('registry unreachable at mount time: serving what the cache knows', { repository: name, err: err as Error });
  }
  return { source: repositoryMount(repository), pinned: false, describe: name, registryStats };
}

/** The catalog comes from the registry itself; repositories are read through its mirrors. */
function readingThroughMirrors(ctx: CommandContext, registry: string): RegistrySource {
  const client = ctx.targets.client(registry);
  return { catalog: () => client.catalog(), repository: (name) => ctx.targets.readRepository(registry, name) };
}

function parseOctal(text: string): number {
  if (!/^0?[0-7]{1,3}$/.test(text)) throw new InvalidArgumentError(`invalid --umask ${JSON.stringify(text)}`, { hint: 'use an octal mask like 022' });
  return parseInt(text, 8);
}

function parseId(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`invalid ${flag} ${JSON.stringify(text)}`);
  return n;
}
