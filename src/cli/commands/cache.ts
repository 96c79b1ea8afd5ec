/**
 * `ocifs cache stats|prune|verify|clear`: look after the local cache that mounts share.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { humanSize } from '../format.js';
import { parseSize } from '../../config.js';
import { Cache } from '../../cache/index.js';

export function registerCache(program: Command, wrap: Wrap): void {
  const cache = program
    .command('cache')
    .description('inspect and maintain the local cache (blobs by digest, manifests, tags)')
    .addHelpText(
      'after',
      `
Examples:
  ocifs cache stats
  ocifs cache prune --max-size 5G
  ocifs cache verify
  ocifs --cache-dir /var/cache/ocifs cache clear`,
    );
  cache
    .command('stats')
    .description('show what the cache holds')
    .option('--json', 'print JSON')
    .action(wrap(stats));
  cache
    .command('prune')
    .description('evict least recently used blobs down to a size (blobs open in a mount are kept)')
    .option('--max-size <size>', 'target size, e.g. 5G (default: the configured limit)')
    .action(wrap(prune));
  cache
    .command('verify')
    .description('re-hash every complete blob and drop those that do not match their digest')
    .action(wrap(verify));
  cache
    .command('clear')
    .description('remove everything that is not open in a running mount')
    .action(wrap(clear));
}

function withCache<T>(ctx: CommandContext, run: (cache: Cache) => Promise<T> | T): Promise<T> {
  const cache = Cache.open({ dir: ctx.config.cacheDir, logger: ctx.logger });
  return Promise.resolve(run(cache)).finally(() => cache.close());
}

async function stats(ctx: CommandContext, opts: { json?: boolean }): Promise<void> {
  await withCache(ctx, (cache) => {
    const s = cache.stats();
    if (opts.json) {
      ctx.output.out(JSON.stringify(s));
      return;
    }
    const rows: [string, string][] = [
      ['directory', s.dir],
      ['size', `${humanSize(s.bytes)} of ${humanSize(s.maxSize)}`],
      ['blobs', `${s.blobs} (${s.completeBlobs} complete and verified, ${s.pinnedBlobs} open)`],
      ['block size', humanSize(s.blockSize)],
      ['manifests', `${s.manifests} (${humanSize(s.manifestBytes)})`],
      ['tags', String(s.tags)],
      ['listings', String(s.listings)],
    ];
    for (const [key, value] of rows) ctx.output.out(`${key.padEnd(12)} ${value}`);
  });
}

async function prune(ctx: CommandContext, opts: { maxSize?: string }): Promise<void> {
  const target = opts.maxSize ? parseSize(opts.maxSize) : undefined;
  await withCache(ctx, (cache) => {
    const r = cache.prune(target);
    ctx.output.note(
      `evicted ${r.evictedBlobs} blobs (${humanSize(r.freedBytes)}), ${humanSize(r.remainingBytes)} left` +
        (r.skippedPinned ? `, ${r.skippedPinned} kept because they are open` : ''),
    );
  });
}

async function verify(ctx: CommandContext): Promise<number> {
  return withCache(ctx, async (cache) => {
    const r = await cache.verify();
    ctx.output.note(`checked ${r.checked} complete blobs (${humanSize(r.bytesHashed)}): ${r.ok} good, ${r.purged.length} removed`);
    for (const p of r.purged) ctx.output.note(`removed ${p.digest}: ${p.reason}`);
    if (r.orphanFiles || r.resetBlobs) ctx.output.note(`cleaned ${r.orphanFiles} stray files, reset ${r.resetBlobs} partial blobs`);
    // Corruption was found and repaired: say so in the exit code for scripts.
    return r.purged.length > 0 ? 6 : 0;
  });
}

async function clear(ctx: CommandContext): Promise<void> {
  await withCache(ctx, (cache) => {
    const r = cache.clear();
    ctx.output.note(`removed ${r.removedBlobs} blobs (${humanSize(r.freedBytes)})${r.keptPinned ? `, kept ${r.keptPinned} open in a mount` : ''}`);
  });
}
