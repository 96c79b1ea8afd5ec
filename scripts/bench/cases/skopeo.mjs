/**
 * skopeo as a peer: a private HOME and TMPDIR for every invocation, so that its blob-info cache
 * (which remembers where it pushed a blob and then mounts it across repositories instead of
 * uploading) cannot make a later run cheaper than the first.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function skopeoEnv(ctx) {
  const home = await ctx.tmpDir('skopeo-home-');
  await mkdir(join(home, 'tmp'), { recursive: true });
  return { ...process.env, HOME: home, TMPDIR: join(home, 'tmp'), XDG_RUNTIME_DIR: home };
}

/** `skopeo copy` with TLS off for the loopback registry; resolves seconds. */
export async function skopeoCopy(ctx, run, from, to, env) {
  const args = ['--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', from, to];
  return (await run('skopeo', args, { env: env ?? (await skopeoEnv(ctx)) })).seconds;
}
