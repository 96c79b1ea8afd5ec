/**
 * scripts/bench/ — `npm run bench`: ocifs measured side by side with curl, a local disk, GDAL's
 * /vsicurl/, skopeo and `rclone mount`, in the same runs, against the targets of issues 3 and 5.
 *
 * Owns scripts/bench.mjs, scripts/bench/**, docs/benchmarks.md and the .bench/ output. It never
 * touches src/** or test/**: it runs the built CLI (a snapshot of bin/ + dist/) like a user.
 *
 * Flow: tools (apt-get what is missing) -> snapshot of dist/ -> deterministic data (generated
 * once, kept in .bench/data) -> its own registry, counting proxies and nginx on loopback ports ->
 * `ocifs push` of the data -> the case groups (./cases) -> a markdown table on stdout and
 * .bench/results-<date>.{json,md}. Everything it started is stopped and unmounted in `finally`
 * (also on SIGINT/SIGTERM), and its temporary directory removed.
 *
 * Benchmarks are not tests: nothing here asserts timings; verdicts are reported, not enforced.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, USAGE, parseArgs, selectGroups } from './args.mjs';
import { dataProfile, ensureData } from './data.mjs';
import { prepareCli } from './ocifs.mjs';
import { Cleanup, run } from './proc.mjs';
import { startCountingProxy } from './proxy.mjs';
import { createEvidence, errorLine } from './results.mjs';
import { startNginx, startRegistry } from './services.mjs';
import { dropCaches, loadAverage, machineInfo, mounts } from './system.mjs';
import { formatBytes, renderEvidence, renderTable } from './table.mjs';
import { ensureTools } from './tools.mjs';
import { REPO } from './cases/common.mjs';
import { GROUP_RUNNERS } from './cases/index.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

export async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (opts.list) {
    for (const [group, cases] of Object.entries(GROUPS)) process.stdout.write(`${group}: ${cases.join(', ')}\n`);
    return 0;
  }
  if (opts.render) {
    process.stdout.write(`${renderReport(JSON.parse(await readFile(opts.render, 'utf8')))}\n`);
    return 0;
  }
  const groups = selectGroups(opts.only);

  const benchDir = join(ROOT, '.bench');
  const started = new Date();
  const stamp = started.toISOString().replace(/\..*$/, '').replace(/:/g, '-');
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping, unmounting and cleaning up`);
    cleanup.runAll(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await mkdir(benchDir, { recursive: true });
    const tools = ensureTools({ install: opts.install, log });
    const machine = machineInfo();
    const git = gitInfo();
    const cli = await prepareCli(ROOT, benchDir, { snapshot: opts.snapshot });
    const tmp = await mkdtemp(join(tmpdir(), 'ocifs-bench-'));
    if (!opts.keepTmp) cleanup.add(() => removeTree(tmp), 'remove the temporary directory');
    log(`temporary directory ${tmp}`);

    const ctx = {
      opts, tools, cli, cleanup, tmp, benchDir, stamp, log,
      evidence: createEvidence(),
      extra: {},
      mounts: new Set(),
      pageCacheDropped: true,
      async tmpDir(prefix) {
        return mkdtemp(join(tmp, prefix));
      },
      /** rm -rf, refusing to descend into a mount. */
      async remove(path) {
        const below = mounts().filter((m) => m.mountpoint === path || m.mountpoint.startsWith(`${path}/`));
        if (below.length) throw new Error(`refusing to remove ${path}: ${below[0].mountpoint} is mounted`);
        await rm(path, { recursive: true, force: true });
      },
      drop() {
        if (!dropCaches() && ctx.pageCacheDropped) {
          ctx.pageCacheDropped = false;
          log('cannot drop the page cache (not root?): "cold" and "warm" results are not cold');
        }
      },
    };
    ctx.scratchCache = await ctx.tmpDir('cache-scratch-');

    ctx.data = await ensureData(join(benchDir, 'data'), dataProfile(opts.quick), { cli, log });
    ctx.registry = await startRegistry(cleanup, join(tmp, 'registry'));
    ctx.proxy = await startCountingProxy('127.0.0.1', ctx.registry.host.split(':')[1]);
    cleanup.add(ctx.proxy.stop, 'registry proxy');
    log(`registry ${ctx.registry.url}, counting proxy ${ctx.proxy.host}`);
    ctx.nginxStatus = { ok: false, reason: tools.nginx.ok ? 'not started' : tools.nginx.reason };
    if (tools.nginx.ok && tools.rclone.ok) {
      try {
        ctx.nginx = await startNginx(cleanup, ctx.data.filesDir, join(tmp, 'nginx'));
        ctx.nginxProxy = await startCountingProxy('127.0.0.1', ctx.nginx.port);
        ctx.nginxProxy.url = `http://${ctx.nginxProxy.host}/`;
        cleanup.add(ctx.nginxProxy.stop, 'nginx proxy');
        ctx.nginxStatus = { ok: true };
      } catch (err) {
        ctx.nginxStatus = { ok: false, reason: `nginx did not start: ${err.message.split('\n')[0]}` };
      }
    }

    for (const tag of ['big', 'cog', 'small']) {
      const res = await cli.run(['push', `${ctx.data.layoutDir}:${tag}`, `${ctx.registry.host}/${REPO}:${tag}`], { cacheDir: ctx.scratchCache });
      log(`pushed ${tag} in ${res.seconds.toFixed(1)} s`);
    }

    const lines = [];
    const load = {};
    const base = join(benchDir, `results-${stamp}${opts.quick ? '-quick' : ''}`);
    const buildReport = () => ({
      date: started.toISOString(),
      finished: new Date().toISOString(),
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      git,
      options: { quick: opts.quick, runs: opts.runs, groups, snapshot: opts.snapshot },
      pageCacheDropped: ctx.pageCacheDropped,
      tools: Object.fromEntries(Object.entries(tools).map(([k, v]) => [k, v.ok ? v.version : `n/a: ${v.reason}`])),
      data: { version: ctx.data.version, profile: ctx.data.profile, big: ctx.data.big, cog: ctx.data.cog, small: ctx.data.small },
      loadAverage: load,
      results: lines,
      evidence: ctx.evidence.toJSON(),
      ...ctx.extra,
    });
    for (const id of groups) {
      const before = loadAverage();
      log(`== ${id} (load average ${before.join(' ')})`);
      try {
        lines.push(...(await GROUP_RUNNERS[id].run(ctx)));
      } catch (err) {
        if (interrupted) throw err;
        log(`${id} failed: ${err.stack ?? err}`);
        for (const caseId of GROUPS[id]) lines.push(errorLine(caseId, caseId, err));
      } finally {
        for (const unmount of [...ctx.mounts]) await unmount();
      }
      load[id] = { before, after: loadAverage() };
      // What is measured so far survives a failure or Ctrl-C in a later group.
      await writeFile(`${base}.partial.json`, JSON.stringify(buildReport(), null, 2) + '\n');
    }

    const report = buildReport();
    const markdown = renderReport(report);
    process.stdout.write(`${markdown}\n`);
    await writeFile(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
    await writeFile(`${base}.md`, markdown + '\n');
    await rm(`${base}.partial.json`, { force: true });
    log(`wrote ${base}.json and .md`);
    return lines.some((l) => l.verdict === 'ERROR') ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await cleanup.runAll(log);
  }
}

export function renderReport(r) {
  const m = r.machine;
  const load = (id) => (r.loadAverage[id] ? `${r.loadAverage[id].before[0]}→${r.loadAverage[id].after[0]}` : '');
  const header = [
    `### ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.options.quick ? ' (--quick: smoke run, not a result)' : ''}`,
    '',
    `- machine: ${m.nproc} CPUs (${m.cpuModel}), ${formatBytes(m.memoryBytes)} RAM, Linux ${m.kernel}, node ${m.node}`,
    `- load average (1 min) per group: ${r.options.groups.map((g) => `${g} ${load(g)}`).join(', ')} — the machine is shared`,
    `- code: ${r.git.commit}${r.git.dirtySrc ? ` + uncommitted changes in ${r.git.dirtySrc} src/ files` : ''}; runs per case: ${r.options.runs} (median, min–max; ratios paired per run)`,
    `- data: ${formatBytes(r.data.big.size)} random blob; COG ${r.data.cog.width}x${r.data.cog.height}x${r.data.cog.bands} uint16, ${formatBytes(r.data.cog.size)}, ${r.data.cog.overviews} overviews; ${r.data.small.count} files, ${formatBytes(r.data.small.bytes)}`,
    r.pageCacheDropped ? '' : '- **the page cache could not be dropped: cold and warm numbers are not cold**',
  ].filter((l) => l !== '');
  const out = [...header, '', renderTable(r.results)];
  const evidence = renderEvidence(r.evidence);
  if (evidence) out.push('', 'Counters and CPU (medians, min–max):', '', evidence);
  if (r.profile?.top) {
    const p = r.profile;
    out.push('', `Daemon CPU profile of one cold read (${formatBytes(r.data.big.size)} in ${p.seconds.toFixed(1)} s; whole daemon life: ${(p.busyMs / 1000).toFixed(1)} s busy, ${(p.idleMs / 1000).toFixed(1)} s idle; self time, share of busy):`, '');
    for (const f of r.profile.top.slice(0, 15)) out.push(`- ${f.share}% ${f.name} ${f.where}`);
  }
  return out.join('\n');
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit, dirtySrc: dirty };
  } catch {
    return { commit: 'unknown', dirtySrc: 0 };
  }
}

/** Removes the temporary tree; first lazily detaches anything still mounted below it. */
async function removeTree(dir) {
  for (const m of mounts()) {
    if (m.mountpoint.startsWith(`${dir}/`)) await run('fusermount', ['-uz', m.mountpoint], { allowFailure: true });
  }
  if (mounts().some((m) => m.mountpoint.startsWith(`${dir}/`))) throw new Error(`a mount is left under ${dir}: not removing it`);
  await rm(dir, { recursive: true, force: true });
}
