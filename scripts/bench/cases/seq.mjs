/**
 * Sequential reads of the big blob (`cat > /dev/null`), per run:
 *   ocifs   cold (empty cache, page cache dropped), hot (same mount again), warm (remount over
 *           the filled cache, page cache dropped); the daemon's peak RSS (VmHWM) over the cold
 *           stream, its counters and the CPU seconds of the daemon and of the registry
 *   curl    the blob URL, one stream, page cache dropped (the registry reads from disk too)
 *   local   cat of the data file, cold then hot
 *   rclone  `rclone mount --vfs-cache-mode full` over nginx: cold, hot, warm as for ocifs
 * Throughput cases talk to the registry directly (no counting proxy in the way).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { topSelfTime } from '../cpuprofile.mjs';
import { mountOcifs, mountRclone } from '../mounts.mjs';
import { run } from '../proc.mjs';
import { makeLine } from '../results.mjs';
import { formatBytes } from '../table.mjs';
import { cpuSeconds, memoryOf } from '../system.mjs';
import { REPO, blobUrl, peerAvailable, sideOf, timedCat } from './common.mjs';

const GiB = 2 ** 30;

export const seqGroup = {
  id: 'seq',
  async run(ctx) {
    const { data, evidence } = ctx;
    const size = data.big.size;
    const source = `${ctx.registry.host}/${REPO}:big`;
    const curl = peerAvailable(ctx, ['curl']);
    const rclone = peerAvailable(ctx, ['rclone', 'nginx'], ctx.nginxStatus);
    const s = { cold: [], hot: [], warm: [], curl: [], localCold: [], localHot: [], rcCold: [], rcHot: [], rcWarm: [], rss: [], rssWarm: [] };

    for (let r = 0; r < ctx.opts.runs; r++) {
      ctx.log(`seq: run ${r + 1}/${ctx.opts.runs}: ocifs cold, hot, warm`);
      const cacheDir = await ctx.tmpDir('cache-');
      let mount = await mountOcifs(ctx, source, { cacheDir });
      let file = join(mount.mountpoint, data.big.path);
      ctx.drop();
      const before = { daemon: cpuSeconds(mount.pid), registry: cpuSeconds(ctx.registry.pid) };
      const cold = await timedCat(file);
      const daemonCpu = cpuSeconds(mount.pid) - before.daemon;
      const registryCpu = cpuSeconds(ctx.registry.pid) - before.registry;
      s.cold.push(size / cold);
      s.rss.push(memoryOf(mount.pid).VmHWM);
      const status = await ctx.cli.status(mount.mountpoint, cacheDir);
      evidence.add('seq-cold', 'range requests', status.reader?.requests);
      evidence.add('seq-cold', 'bytes per request', status.reader?.bytesFetched / status.reader?.requests, 'bytes');
      evidence.add('seq-cold', 'bytes fetched / file size', status.reader?.bytesFetched / size, 'ratio');
      evidence.add('seq-cold', 'daemon CPU s per GiB', (daemonCpu * GiB) / size, 'seconds');
      evidence.add('seq-cold', 'registry CPU s per GiB (ocifs)', (registryCpu * GiB) / size, 'seconds');
      evidence.add('seq-cold', 'wall s per GiB', (cold * GiB) / size, 'seconds');

      const hotBefore = cpuSeconds(mount.pid);
      s.hot.push(size / (await timedCat(file)));
      evidence.add('seq-hot', 'daemon CPU s per GiB', ((cpuSeconds(mount.pid) - hotBefore) * GiB) / size, 'seconds');
      await mount.unmount();

      mount = await mountOcifs(ctx, source, { cacheDir });
      file = join(mount.mountpoint, data.big.path);
      ctx.drop();
      const warmBefore = cpuSeconds(mount.pid);
      s.warm.push(size / (await timedCat(file)));
      evidence.add('seq-warm', 'daemon CPU s per GiB', ((cpuSeconds(mount.pid) - warmBefore) * GiB) / size, 'seconds');
      const warmStatus = await ctx.cli.status(mount.mountpoint, cacheDir);
      evidence.add('seq-warm', 'range requests', warmStatus.reader?.requests);
      s.rssWarm.push(memoryOf(mount.pid).VmHWM);
      await mount.unmount();
      await ctx.remove(cacheDir);

      if (curl.ok) {
        ctx.log(`seq: run ${r + 1}: curl`);
        ctx.drop();
        const regBefore = cpuSeconds(ctx.registry.pid);
        const res = await run('curl', ['-sSf', '-o', '/dev/null', '-w', '%{size_download}', blobUrl(ctx.registry.host, data.big.digest)]);
        if (Number(res.stdout) !== size) throw new Error(`curl fetched ${res.stdout} bytes, not ${size}`);
        s.curl.push(size / res.seconds);
        evidence.add('seq-cold', 'registry CPU s per GiB (curl)', ((cpuSeconds(ctx.registry.pid) - regBefore) * GiB) / size, 'seconds');
      }

      ctx.log(`seq: run ${r + 1}: local cat`);
      ctx.drop();
      s.localCold.push(size / (await timedCat(data.bigPath)));
      s.localHot.push(size / (await timedCat(data.bigPath)));

      if (rclone.ok) {
        ctx.log(`seq: run ${r + 1}: rclone mount cold, hot, warm`);
        const rcCache = await ctx.tmpDir('rclone-cache-');
        let rc = await mountRclone(ctx, ctx.nginx.url, { cacheDir: rcCache });
        ctx.drop();
        s.rcCold.push(size / (await timedCat(join(rc.mountpoint, data.big.path))));
        s.rcHot.push(size / (await timedCat(join(rc.mountpoint, data.big.path))));
        await rc.unmount();
        rc = await mountRclone(ctx, ctx.nginx.url, { cacheDir: rcCache });
        ctx.drop();
        s.rcWarm.push(size / (await timedCat(join(rc.mountpoint, data.big.path))));
        await rc.unmount();
        await ctx.remove(rcCache);
      }
    }

    if (ctx.opts.profile) ctx.extra.profile = await profileColdRead(ctx, source);

    const what = `sequential read of ${formatBytes(size)}`;
    const curlSide = sideOf('curl', s.curl, curl);
    const localCold = { name: 'local cat, cold', samples: s.localCold };
    const localHot = { name: 'local cat, hot', samples: s.localHot };
    return [
      makeLine({ case: 'seq-cold', title: `cold ${what}`, measure: 'throughput', unit: 'rate', subject: { name: 'ocifs', samples: s.cold }, peer: curlSide, target: { text: '>= 0.6x (aim 0.8x)', on: 'ratio', op: '>=', value: 0.6 } }),
      makeLine({ case: 'seq-cold', title: `cold ${what}`, measure: 'throughput, rclone', unit: 'rate', subject: sideOf('rclone mount', s.rcCold, rclone), peer: curlSide, reference: 'issue 5: rclone 0.45x' }),
      makeLine({ case: 'seq-warm', title: `warm ${what}`, measure: 'throughput', unit: 'rate', subject: { name: 'ocifs', samples: s.warm }, peer: localCold, target: { text: '>= 0.8x', on: 'ratio', op: '>=', value: 0.8 } }),
      makeLine({ case: 'seq-warm', title: `warm ${what}`, measure: 'throughput, rclone', unit: 'rate', subject: sideOf('rclone mount', s.rcWarm, rclone), peer: localCold }),
      makeLine({ case: 'seq-hot', title: `hot ${what}`, measure: 'throughput', unit: 'rate', subject: { name: 'ocifs', samples: s.hot }, peer: localHot, target: { text: '>= 0.8x', on: 'ratio', op: '>=', value: 0.8 } }),
      makeLine({ case: 'seq-hot', title: `hot ${what}`, measure: 'throughput, rclone', unit: 'rate', subject: sideOf('rclone mount', s.rcHot, rclone), peer: localHot, reference: 'issue 5: rclone 0.08x' }),
      makeLine({ case: 'rss', title: `daemon peak RSS while streaming ${formatBytes(size)}`, measure: 'VmHWM, cold', unit: 'MB', subject: { name: 'ocifs', samples: s.rss }, target: { text: '<= 200 MB (every run)', on: 'value', op: '<=', value: 200e6, worst: true } }),
      makeLine({ case: 'rss', title: `daemon peak RSS while streaming ${formatBytes(size)}`, measure: 'VmHWM, warm', unit: 'MB', subject: { name: 'ocifs', samples: s.rssWarm } }),
    ];
  },
};

/** One more cold read with the daemon under `node --cpu-prof`: where its CPU goes. */
async function profileColdRead(ctx, source) {
  ctx.log('seq: profiling one cold read (node --cpu-prof)');
  const cacheDir = await ctx.tmpDir('cache-');
  const profDir = await ctx.tmpDir('cpuprof-');
  const mount = await mountOcifs(ctx, source, { cacheDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  ctx.drop();
  const seconds = await timedCat(join(mount.mountpoint, ctx.data.big.path));
  await mount.unmount();
  await ctx.remove(cacheDir);
  const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { error: 'the daemon wrote no .cpuprofile (did it exit cleanly?)' };
  const saved = join(ctx.benchDir, `profile-${ctx.stamp}.cpuprofile`);
  await run('cp', [join(profDir, file), saved]);
  const profile = JSON.parse(await readFile(saved, 'utf8'));
  return { file: saved, seconds, throughput: ctx.data.big.size / seconds, ...topSelfTime(profile, 25) };
}
