/**
 * GDAL on the COG, per run. Every remote reader goes through a counting proxy, so bytes and
 * requests are measured the same way for all of them:
 *   ocifs     `gdal_translate -srcwin` of the 512x512 centre window (4 tiles) from a cold mount;
 *             the same window again from a second process on that mount; `gdalinfo` cold
 *   /vsicurl/ the same commands on the blob URL, page cache dropped (GDAL's recommended
 *             GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR, else it probes the "directory" URL)
 *   local     the window from the local file, hot (after one warm-up run)
 *   rclone    the window from a cold `rclone mount` over nginx (bytes counted in front of nginx)
 * ocifs is used as a user would: no GDAL settings.
 */
import { join } from 'node:path';
import { mountOcifs, mountRclone } from '../mounts.mjs';
import { run } from '../proc.mjs';
import { makeLine } from '../results.mjs';
import { REPO, blobUrl, peerAvailable, sideOf } from './common.mjs';

const VSICURL_ENV = { GDAL_DISABLE_READDIR_ON_OPEN: 'EMPTY_DIR' };

export const gdalGroup = {
  id: 'gdal',
  async run(ctx) {
    const { data, evidence } = ctx;
    const [x, y, w, h] = data.cog.window;
    const source = `${ctx.proxy.host}/${REPO}:cog`;
    const vsicurl = `/vsicurl/${blobUrl(ctx.proxy.host, data.cog.digest)}`;
    const rclone = peerAvailable(ctx, ['rclone', 'nginx'], ctx.nginxStatus);
    const s = {
      winTime: [], winBytes: [], secondTime: [], secondBytes: [], infoBytes: [], infoRequests: [], infoTime: [],
      curlWinTime: [], curlWinBytes: [], curlInfoBytes: [], curlInfoRequests: [], curlInfoTime: [], curlSecondBytes: [],
      localHot: [], rcWinTime: [], rcWinBytes: [],
    };
    let outputs = 0;
    const window = async (src, env = {}) => {
      const out = join(ctx.tmp, `window-${++outputs}.tif`);
      const res = await run('gdal_translate', ['-q', '-srcwin', String(x), String(y), String(w), String(h), src, out], { env: { ...process.env, ...env } });
      await ctx.remove(out);
      return res.seconds;
    };
    const info = async (src, env = {}) => (await run('gdalinfo', [src], { env: { ...process.env, ...env }, stdout: 'null' })).seconds;
    /** Runs `fn` and returns [its result, the requests it caused at `proxy`]. */
    const counted = async (proxy, fn) => {
      const mark = proxy.mark();
      const result = await fn();
      return [result, proxy.since(mark)];
    };

    for (let r = 0; r < ctx.opts.runs; r++) {
      ctx.log(`gdal: run ${r + 1}/${ctx.opts.runs}: ocifs window cold and second process`);
      let cacheDir = await ctx.tmpDir('cache-');
      let mount = await mountOcifs(ctx, source, { cacheDir });
      const cog = join(mount.mountpoint, data.cog.path);
      ctx.drop();
      let [t, req] = await counted(ctx.proxy, () => window(cog));
      s.winTime.push(t);
      s.winBytes.push(req.bytesOut);
      evidence.add('gdal-window-cold', 'ocifs blob GETs', req.blobGets);
      evidence.add('gdal-window-cold', 'ocifs requests (all)', req.requests);
      evidence.add('gdal-window-cold', 'ocifs blob bytes', req.blobBytes, 'bytes');
      [t, req] = await counted(ctx.proxy, () => window(cog));
      s.secondTime.push(t);
      s.secondBytes.push(req.bytesOut);
      await mount.unmount();
      await ctx.remove(cacheDir);

      ctx.log(`gdal: run ${r + 1}: ocifs gdalinfo cold`);
      cacheDir = await ctx.tmpDir('cache-');
      mount = await mountOcifs(ctx, source, { cacheDir });
      ctx.drop();
      [t, req] = await counted(ctx.proxy, () => info(join(mount.mountpoint, data.cog.path)));
      s.infoTime.push(t);
      s.infoBytes.push(req.bytesOut);
      s.infoRequests.push(req.requests);
      evidence.add('gdalinfo-cold', 'ocifs blob GETs', req.blobGets);
      evidence.add('gdalinfo-cold', 'ocifs manifest GETs', req.manifestGets);
      await mount.unmount();
      await ctx.remove(cacheDir);

      ctx.log(`gdal: run ${r + 1}: /vsicurl/`);
      ctx.drop();
      [t, req] = await counted(ctx.proxy, () => window(vsicurl, VSICURL_ENV));
      s.curlWinTime.push(t);
      s.curlWinBytes.push(req.bytesOut);
      evidence.add('gdal-window-cold', '/vsicurl/ blob GETs', req.blobGets);
      evidence.add('gdal-window-cold', '/vsicurl/ requests (all)', req.requests);
      [, req] = await counted(ctx.proxy, () => window(vsicurl, VSICURL_ENV));
      s.curlSecondBytes.push(req.bytesOut);
      ctx.drop();
      [t, req] = await counted(ctx.proxy, () => info(vsicurl, VSICURL_ENV));
      s.curlInfoTime.push(t);
      s.curlInfoBytes.push(req.bytesOut);
      s.curlInfoRequests.push(req.requests);

      ctx.log(`gdal: run ${r + 1}: local file, hot`);
      await window(data.cogPath);
      s.localHot.push(await window(data.cogPath));

      if (rclone.ok) {
        ctx.log(`gdal: run ${r + 1}: rclone mount window cold`);
        const rcCache = await ctx.tmpDir('rclone-cache-');
        const rc = await mountRclone(ctx, ctx.nginxProxy.url, { cacheDir: rcCache });
        ctx.drop();
        [t, req] = await counted(ctx.nginxProxy, () => window(join(rc.mountpoint, data.cog.path)));
        s.rcWinTime.push(t);
        s.rcWinBytes.push(req.bytesOut);
        evidence.add('gdal-window-cold', 'rclone GETs', req.requests);
        await rc.unmount();
        await ctx.remove(rcCache);
      }
    }

    const win = `GDAL ${w}x${h} window at the centre (${data.cog.tilesInWindow} tiles)`;
    const curlSide = (samples) => ({ name: '/vsicurl/', samples });
    return [
      makeLine({ case: 'gdal-window-cold', title: `${win}, cold`, measure: 'time', unit: 'seconds', subject: { name: 'ocifs', samples: s.winTime }, peer: curlSide(s.curlWinTime), target: { text: '<= 1.5x', on: 'ratio', op: '<=', value: 1.5 } }),
      makeLine({ case: 'gdal-window-cold', title: `${win}, cold`, measure: 'bytes fetched', unit: 'bytes', subject: { name: 'ocifs', samples: s.winBytes }, peer: curlSide(s.curlWinBytes), target: { text: '<= 2x', on: 'ratio', op: '<=', value: 2 } }),
      makeLine({ case: 'gdal-window-cold', title: `${win}, cold`, measure: 'bytes fetched, rclone', unit: 'bytes', subject: sideOf('rclone mount', s.rcWinBytes, rclone), peer: curlSide(s.curlWinBytes) }),
      makeLine({ case: 'gdal-window-cold', title: `${win}, cold`, measure: 'time, rclone', unit: 'seconds', subject: sideOf('rclone mount', s.rcWinTime, rclone), peer: curlSide(s.curlWinTime) }),
      makeLine({ case: 'gdal-window-second', title: 'the same window from a second process', measure: 'time', unit: 'seconds', subject: { name: 'ocifs', samples: s.secondTime }, peer: { name: 'local file, hot', samples: s.localHot }, target: { text: '<= 1.2x', on: 'ratio', op: '<=', value: 1.2 } }),
      makeLine({ case: 'gdal-window-second', title: 'the same window from a second process', measure: 'bytes fetched', unit: 'bytes', subject: { name: 'ocifs', samples: s.secondBytes }, peer: curlSide(s.curlSecondBytes), target: { text: '0 B (every run)', on: 'value', op: '==', value: 0, worst: true } }),
      makeLine({ case: 'gdalinfo-cold', title: 'gdalinfo, cold', measure: 'bytes fetched', unit: 'bytes', subject: { name: 'ocifs', samples: s.infoBytes }, peer: curlSide(s.curlInfoBytes), target: { text: '<= 1 MiB', on: 'value', op: '<=', value: 2 ** 20 } }),
      makeLine({ case: 'gdalinfo-cold', title: 'gdalinfo, cold', measure: 'requests', unit: 'count', subject: { name: 'ocifs', samples: s.infoRequests }, peer: curlSide(s.curlInfoRequests), target: { text: '<= 2x', on: 'ratio', op: '<=', value: 2 } }),
      makeLine({ case: 'gdalinfo-cold', title: 'gdalinfo, cold', measure: 'time', unit: 'seconds', subject: { name: 'ocifs', samples: s.infoTime }, peer: curlSide(s.curlInfoTime) }),
    ];
  },
};
