/**
 * The artifact of many small files, per run:
 *   ls -lR   of a cold mount through the counting proxy: time, manifest GETs, blob GETs
 *   cp -r    out of a cold mount (straight to the registry), against `ocifs pull` and
 *            `skopeo copy docker://... oci:...` of the same artifact, page cache dropped before
 *            each; every copy is checked (file count and bytes) before it counts
 */
import { join } from 'node:path';
import { mountOcifs } from '../mounts.mjs';
import { run } from '../proc.mjs';
import { makeLine } from '../results.mjs';
import { REPO, countFiles, expectSmallFiles, peerAvailable, sideOf, withRegistryCpu } from './common.mjs';
import { skopeoCopy, skopeoEnv } from './skopeo.mjs';

export const filesGroup = {
  id: 'files',
  async run(ctx) {
    const { data, evidence } = ctx;
    const skopeo = peerAvailable(ctx, ['skopeo']);
    const n = data.small.count;
    const s = { lsTime: [], lsManifests: [], lsBlobs: [], cp: [], pull: [], skopeo: [] };

    for (let r = 0; r < ctx.opts.runs; r++) {
      ctx.log(`files: run ${r + 1}/${ctx.opts.runs}: ls -lR cold`);
      let cacheDir = await ctx.tmpDir('cache-');
      let mount = await mountOcifs(ctx, `${ctx.proxy.host}/${REPO}:small`, { cacheDir });
      ctx.drop();
      const mark = ctx.proxy.mark();
      const ls = await run('ls', ['-lR', mount.mountpoint], { stdout: 'null' });
      const req = ctx.proxy.since(mark);
      s.lsTime.push(ls.seconds);
      s.lsManifests.push(req.manifestGets);
      s.lsBlobs.push(req.blobGets);
      evidence.add('ls-lR-cold', 'requests (all)', req.requests);
      evidence.add('ls-lR-cold', 'manifest HEADs', req.manifestHeads);
      const listed = await countFiles(mount.mountpoint);
      if (listed.files !== n) throw new Error(`ls -lR: the mount shows ${listed.files} files, not ${n}`);
      await mount.unmount();
      await ctx.remove(cacheDir);

      ctx.log(`files: run ${r + 1}: cp -r out of a cold mount`);
      cacheDir = await ctx.tmpDir('cache-');
      mount = await mountOcifs(ctx, `${ctx.registry.host}/${REPO}:small`, { cacheDir });
      let dest = await ctx.tmpDir('cp-');
      ctx.drop();
      const [copied, cpCpu] = await withRegistryCpu(ctx, () => run('cp', ['-r', join(mount.mountpoint, data.small.dir), dest]));
      s.cp.push(copied.seconds);
      evidence.add('cp-r-cold', 'registry CPU s (cp -r)', cpCpu, 'seconds');
      const status = await ctx.cli.status(mount.mountpoint, cacheDir);
      evidence.add('cp-r-cold', 'ocifs range requests', status.reader?.requests);
      evidence.add('cp-r-cold', 'ocifs registry requests', status.registry?.requests);
      await expectSmallFiles(dest, data.small, 'cp -r');
      await mount.unmount();
      await ctx.remove(cacheDir);
      await ctx.remove(dest);

      ctx.log(`files: run ${r + 1}: ocifs pull`);
      dest = await ctx.tmpDir('pull-');
      const pullCache = await ctx.tmpDir('cache-');
      ctx.drop();
      const [pulled, pullCpu] = await withRegistryCpu(ctx, () => ctx.cli.run(['pull', `${ctx.registry.host}/${REPO}:small`, '--output', dest], { cacheDir: pullCache }));
      s.pull.push(pulled.seconds);
      evidence.add('pull-small', 'registry CPU s (ocifs pull)', pullCpu, 'seconds');
      await expectSmallFiles(dest, data.small, 'ocifs pull');
      await ctx.remove(dest);
      await ctx.remove(pullCache);

      if (skopeo.ok) {
        ctx.log(`files: run ${r + 1}: skopeo copy`);
        dest = await ctx.tmpDir('skopeo-');
        const env = await skopeoEnv(ctx);
        ctx.drop();
        const [t, skCpu] = await withRegistryCpu(ctx, () => skopeoCopy(ctx, `docker://${ctx.registry.host}/${REPO}:small`, `oci:${dest}:small`, env));
        s.skopeo.push(t);
        evidence.add('pull-small', 'registry CPU s (skopeo)', skCpu, 'seconds');
        const got = await countFiles(join(dest, 'blobs'));
        if (got.files < n) throw new Error(`skopeo copy wrote ${got.files} blobs, expected at least ${n}`);
        await ctx.remove(dest);
      }
    }

    const title = `${n} small files`;
    const skopeoSide = sideOf('skopeo copy', s.skopeo, skopeo);
    return [
      makeLine({ case: 'ls-lR-cold', title: `ls -lR of the ${title}, cold`, measure: 'time', unit: 'seconds', subject: { name: 'ocifs', samples: s.lsTime }, target: { text: '< 1 s', on: 'value', op: '<', value: 1 } }),
      makeLine({ case: 'ls-lR-cold', title: `ls -lR of the ${title}, cold`, measure: 'manifest GETs', unit: 'count', subject: { name: 'ocifs', samples: s.lsManifests }, target: { text: '1 (every run)', on: 'value', op: '==', value: 1, worst: true } }),
      makeLine({ case: 'ls-lR-cold', title: `ls -lR of the ${title}, cold`, measure: 'blob GETs', unit: 'count', subject: { name: 'ocifs', samples: s.lsBlobs }, target: { text: '0 (every run)', on: 'value', op: '==', value: 0, worst: true } }),
      makeLine({ case: 'cp-r-cold', title: `cp -r of the ${title} out of a cold mount`, measure: 'time', unit: 'seconds', subject: { name: 'cp -r', samples: s.cp }, peer: { name: 'ocifs pull', samples: s.pull }, reference: 'report' }),
      makeLine({ case: 'cp-r-cold', title: `cp -r of the ${title} out of a cold mount`, measure: 'time', unit: 'seconds', subject: { name: 'cp -r', samples: s.cp }, peer: skopeoSide, reference: 'report' }),
      makeLine({ case: 'pull-small', title: `pull of the ${title}`, measure: 'time', unit: 'seconds', subject: { name: 'ocifs pull', samples: s.pull }, peer: skopeoSide, target: { text: '<= 0.5x', on: 'ratio', op: '<=', value: 0.5 } }),
    ];
  },
};
