/**
 * The write path against skopeo (issue 3, "Performance"), per run:
 *   push     the packed layout (tags big and small) to a fresh repository, ocifs push then
 *            skopeo copy oci:... docker://... (the same input for both)
 *   re-push  the same push again to the same repository, through the counting proxy: blob bytes
 *            uploaded (request bodies of upload requests) must be 0; skopeo's re-push (minutes
 *            for 2,000 layers) only in the first run
 *   pack     `ocifs pack` of the big file into a fresh layout against node's own sha256 of it
 *            (createReadStream with 1 MiB chunks), page cache warm for both
 */
import { join } from 'node:path';
import { run } from '../proc.mjs';
import { makeLine } from '../results.mjs';
import { formatBytes } from '../table.mjs';
import { peerAvailable, sideOf, timedCat, withRegistryCpu } from './common.mjs';
import { skopeoCopy } from './skopeo.mjs';

export const pushGroup = {
  id: 'push',
  async run(ctx) {
    const { data, evidence } = ctx;
    const skopeo = peerAvailable(ctx, ['skopeo']);
    const layout = data.layoutDir;
    const s = { big: [], skBig: [], small: [], skSmall: [], reTime: [], reBytes: [], reBigBytes: [], skRe: [] };
    const push = (tag, host, repo) => ctx.cli.run(['push', `${layout}:${tag}`, `${host}/${repo}:v1`], { cacheDir: ctx.scratchCache });

    for (let r = 0; r < ctx.opts.runs; r++) {
      const stamp = `${ctx.stamp.toLowerCase()}-${r}`;
      ctx.log(`push: run ${r + 1}/${ctx.opts.runs}: ${formatBytes(data.big.size)} blob, ocifs then skopeo`);
      const perGiB = (cpu) => (cpu * 2 ** 30) / data.big.size;
      const [pushed, cpu] = await withRegistryCpu(ctx, () => push('big', ctx.registry.host, `bench/push-big-ocifs-${stamp}`));
      s.big.push(data.big.size / pushed.seconds);
      evidence.add('push-big', 'registry CPU s per GiB (ocifs)', perGiB(cpu), 'seconds');
      if (skopeo.ok) {
        const [t, skCpu] = await withRegistryCpu(ctx, () => skopeoCopy(ctx, `oci:${layout}:big`, `docker://${ctx.registry.host}/bench/push-big-skopeo-${stamp}:v1`));
        s.skBig.push(data.big.size / t);
        evidence.add('push-big', 'registry CPU s per GiB (skopeo)', perGiB(skCpu), 'seconds');
      }

      ctx.log(`push: run ${r + 1}: ${data.small.count} small files, ocifs then skopeo`);
      const smallRepo = `bench/push-small-ocifs-${stamp}`;
      const [pushedSmall, smallCpu] = await withRegistryCpu(ctx, () => push('small', ctx.registry.host, smallRepo));
      s.small.push(pushedSmall.seconds);
      evidence.add('push-small', 'registry CPU s (ocifs)', smallCpu, 'seconds');
      const skSmallRepo = `bench/push-small-skopeo-${stamp}`;
      if (skopeo.ok) {
        const [t, skCpu] = await withRegistryCpu(ctx, () => skopeoCopy(ctx, `oci:${layout}:small`, `docker://${ctx.registry.host}/${skSmallRepo}:v1`));
        s.skSmall.push(t);
        evidence.add('push-small', 'registry CPU s (skopeo)', skCpu, 'seconds');
      }

      ctx.log(`push: run ${r + 1}: re-push unchanged`);
      let mark = ctx.proxy.mark();
      const again = await push('small', ctx.proxy.host, smallRepo);
      let req = ctx.proxy.since(mark);
      s.reTime.push(again.seconds);
      s.reBytes.push(req.uploadBytes);
      evidence.add('repush', `requests (${data.small.count} files)`, req.requests);
      mark = ctx.proxy.mark();
      await push('big', ctx.proxy.host, `bench/push-big-ocifs-${stamp}`);
      req = ctx.proxy.since(mark);
      s.reBigBytes.push(req.uploadBytes);
      // skopeo's re-push of 2,000 layers takes minutes: once is enough for a line that is only reported.
      if (skopeo.ok && r === 0) s.skRe.push(await skopeoCopy(ctx, `oci:${layout}:small`, `docker://${ctx.registry.host}/${skSmallRepo}:v1`));
    }

    const skSide = (samples) => sideOf('skopeo copy', samples, skopeo);
    const big = `push of a ${formatBytes(data.big.size)} one-file artifact`;
    const small = `push of ${data.small.count} small files`;
    const again = `re-push of an unchanged artifact`;
    return [
      makeLine({ case: 'push-big', title: big, measure: 'throughput', unit: 'rate', subject: { name: 'ocifs push', samples: s.big }, peer: skSide(s.skBig), target: { text: '>= 1x', on: 'ratio', op: '>=', value: 1 } }),
      makeLine({ case: 'push-small', title: small, measure: 'time', unit: 'seconds', subject: { name: 'ocifs push', samples: s.small }, peer: skSide(s.skSmall), target: { text: '<= 0.25x', on: 'ratio', op: '<=', value: 0.25 } }),
      makeLine({ case: 'repush', title: `${again} (${data.small.count} files)`, measure: 'blob bytes uploaded', unit: 'bytes', subject: { name: 'ocifs push', samples: s.reBytes }, target: { text: '0 B (every run)', on: 'value', op: '==', value: 0, worst: true } }),
      makeLine({ case: 'repush', title: `${again} (${data.small.count} files)`, measure: 'time', unit: 'seconds', subject: { name: 'ocifs push', samples: s.reTime }, peer: skSide(s.skRe), target: { text: '< 10 s ("in seconds")', on: 'value', op: '<', value: 10 } }),
      makeLine({ case: 'repush', title: `${again} (${formatBytes(data.big.size)})`, measure: 'blob bytes uploaded', unit: 'bytes', subject: { name: 'ocifs push', samples: s.reBigBytes }, target: { text: '0 B (every run)', on: 'value', op: '==', value: 0, worst: true } }),
    ];
  },
};

const NODE_SHA256 = `
const { createHash } = require('node:crypto');
const h = createHash('sha256');
require('node:fs').createReadStream(process.argv[1], { highWaterMark: 1 << 20 })
  .on('data', (d) => h.update(d))
  .on('end', () => console.log('sha256:' + h.digest('hex')));
`;

export const packGroup = {
  id: 'pack',
  async run(ctx) {
    const { data } = ctx;
    const s = { pack: [], sha: [] };
    await timedCat(data.bigPath); // both sides read from a warm page cache
    for (let r = 0; r < ctx.opts.runs; r++) {
      ctx.log(`pack: run ${r + 1}/${ctx.opts.runs}: ocifs pack, node sha256`);
      const dest = await ctx.tmpDir('pack-');
      const packed = await ctx.cli.run(['pack', data.big.path, '--layout', `${join(dest, 'layout')}:v1`], { cwd: data.filesDir, cacheDir: ctx.scratchCache });
      s.pack.push(data.big.size / packed.seconds);
      await ctx.remove(dest);
      await run('sync', []);
      const sha = await run(process.execPath, ['-e', NODE_SHA256, data.bigPath]);
      if (sha.stdout.trim() !== data.big.digest) throw new Error(`node sha256 gave ${sha.stdout.trim()}, not ${data.big.digest}`);
      s.sha.push(data.big.size / sha.seconds);
    }
    return [
      makeLine({ case: 'pack-big', title: `pack of a ${formatBytes(data.big.size)} file`, measure: 'throughput', unit: 'rate', subject: { name: 'ocifs pack', samples: s.pack }, peer: { name: 'node sha256', samples: s.sha }, target: { text: '>= 0.8x', on: 'ratio', op: '>=', value: 0.8 } }),
    ];
  },
};
