/**
 * FUSE mounts the bench makes: `ocifs mount` (the daemon in the foreground, as a child, so that
 * its pid gives peak memory and CPU time) and `rclone mount --vfs-cache-mode full`. Each mount
 * registers its unmount with the bench's Cleanup; unmounting waits for the daemon to exit, and
 * falls back to SIGTERM and a lazy `fusermount -uz`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startService, waitFor } from './proc.mjs';
import { mountAt } from './system.mjs';

let count = 0;

async function waitForMount(mountpoint, fsType, service, logFile) {
  await waitFor(`${fsType} on ${mountpoint}`, () => {
    if (!service.isRunning()) throw new Error(`${fsType} daemon exited before mounting; see ${logFile}`);
    return mountAt(mountpoint)?.fsType === fsType;
  }, { timeoutMs: 60_000 });
}

function unmounter(ctx, mountpoint, service, unmountCommand) {
  let done;
  const unmount = () =>
    (done ??= (async () => {
      if (mountAt(mountpoint)) await run(unmountCommand[0], unmountCommand.slice(1), { allowFailure: true, timeoutMs: 60_000 });
      await Promise.race([service.exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
      await service.stop(); // a no-op once it has exited; forgets its cleanup step
      if (mountAt(mountpoint)) await run('fusermount', ['-uz', mountpoint], { allowFailure: true });
      ctx.cleanup.forget(unmount);
      ctx.mounts.delete(unmount);
    })());
  ctx.cleanup.add(unmount, `unmount ${mountpoint}`);
  ctx.mounts.add(unmount);
  return unmount;
}

/**
 * `ocifs mount SOURCE MNT` with the cache in `cacheDir`. `nodeArgs` go to node (e.g. --cpu-prof).
 * Resolves { mountpoint, pid, logFile, unmount() }.
 */
export async function mountOcifs(ctx, source, { cacheDir, nodeArgs = [] }) {
  const mountpoint = await ctx.tmpDir('mnt-ocifs-');
  const logFile = join(ctx.tmp, `ocifs-mount-${++count}.log`);
  const service = startService(ctx.cleanup, process.execPath, ctx.cli.argv(['mount', source, mountpoint, '--log-level', 'warn'], nodeArgs), {
    env: ctx.cli.env(cacheDir),
    logFile,
    name: `ocifs mount ${source}`,
  });
  await waitForMount(mountpoint, 'fuse.ocifs', service, logFile);
  const unmount = unmounter(ctx, mountpoint, service, [process.execPath, ctx.cli.bin, 'umount', mountpoint]);
  return { mountpoint, pid: service.pid, logFile, unmount };
}

/** `rclone mount :http: MNT --http-url URL --vfs-cache-mode full --cache-dir cacheDir --read-only`. */
export async function mountRclone(ctx, url, { cacheDir }) {
  const mountpoint = await ctx.tmpDir('mnt-rclone-');
  const logFile = join(ctx.tmp, `rclone-mount-${++count}.log`);
  const config = join(ctx.tmp, 'rclone.conf');
  await writeFile(config, '');
  const args = ['mount', ':http:', mountpoint, '--http-url', url, '--vfs-cache-mode', 'full', '--cache-dir', cacheDir, '--read-only', '--config', config, '--log-level', 'NOTICE'];
  const service = startService(ctx.cleanup, 'rclone', args, { logFile, name: 'rclone mount' });
  await waitForMount(mountpoint, 'fuse.rclone', service, logFile);
  const unmount = unmounter(ctx, mountpoint, service, ['fusermount', '-u', mountpoint]);
  return { mountpoint, pid: service.pid, logFile, unmount };
}
