/**
 * skopeo as a peer, with a blob-info cache that starts empty every time.
 *
 * skopeo remembers in which repository it has seen each blob, and on a later push to another
 * repository of the same registry it mounts the blob (`?mount=&from=`) instead of uploading it:
 * without isolation, runs 2 and 3 of "push 1 GiB" measured a mount (0.05 s of registry CPU), not
 * an upload. Run as root, that cache lives in /var/lib/containers/cache whatever HOME says, so
 * each skopeo runs in a private mount namespace with an empty tmpfs there (`unshare --mount`);
 * run as another user it lives under HOME, so a private HOME is enough.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../proc.mjs';

const ROOT_CACHE = '/var/lib/containers/cache';
let isolation;

/** How to start skopeo so its cache is empty: { prefix: argv before skopeo's args, isolated }. */
async function isolated() {
  if (isolation) return isolation;
  if (process.getuid?.() !== 0) return (isolation = { prefix: ['skopeo'], isolated: true });
  await mkdir(ROOT_CACHE, { recursive: true }); // what skopeo itself creates on its first run as root
  const prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs ${ROOT_CACHE} && exec skopeo "$@"`, 'skopeo'];
  const probe = await run(prefix[0], [...prefix.slice(1), '--version'], { allowFailure: true });
  isolation = probe.code === 0 ? { prefix, isolated: true } : { prefix: ['skopeo'], isolated: false };
  return isolation;
}

export async function skopeoEnv(ctx) {
  const home = await ctx.tmpDir('skopeo-home-');
  await mkdir(join(home, 'tmp'), { recursive: true });
  return { ...process.env, HOME: home, TMPDIR: join(home, 'tmp'), XDG_RUNTIME_DIR: home };
}

/** `skopeo copy` with TLS off for the loopback registry and an empty blob-info cache; resolves seconds. */
export async function skopeoCopy(ctx, from, to, env) {
  const { prefix, isolated: ok } = await isolated();
  if (!ok && !ctx.extra.skopeoCacheShared) {
    ctx.extra.skopeoCacheShared = true;
    ctx.log(`skopeo: cannot give it a private ${ROOT_CACHE} (unshare --mount failed): later pushes may mount blobs instead of uploading`);
  }
  const args = [...prefix.slice(1), '--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', from, to];
  return (await run(prefix[0], args, { env: env ?? (await skopeoEnv(ctx)) })).seconds;
}
