/**
 * Getting a mountpoint ready: it must be an empty directory with nothing alive mounted on it.
 * A mount left behind by a killed daemon ("Transport endpoint is not connected") is cleaned up
 * on the way, as the next mount of mountpoint-s3, rclone or sshfs users expect.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { OcifsError } from '../errors.js';
import type { Logger } from '../log.js';
import { findMount, readMountTable, type MountEntry } from './mountinfo.js';
import { canonicalMountpoint } from './paths.js';
import { DEAD_CONNECTION, probeMount } from './probe.js';
import { fusermountUnmount } from './unmount.js';

export interface PrepareOptions {
  /** Create a missing mountpoint (and its parents). */
  create?: boolean;
  /** How long a mounted filesystem may take to answer a stat before it counts as hung. */
  probeTimeoutMs?: number;
}

/** Returns the mountpoint as the kernel will list it (absolute, parent symlinks resolved). */
export async function prepareMountpoint(mountpoint: string, logger: Logger, options: PrepareOptions = {}): Promise<string> {
  const path = await canonicalMountpoint(mountpoint);
  if (path === '/') throw new OcifsError('MOUNTPOINT', 'cannot mount over /');

  const mounted = findMount(await readMountTable(), path);
  if (mounted) await clearExistingMount(path, mounted, logger, options.probeTimeoutMs ?? 5000);

  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!options.create) {
        throw new OcifsError('MOUNTPOINT', `mountpoint ${path} does not exist`, {
          hint: `create it (mkdir -p ${path}) or pass --create`,
        });
      }
      await mkdir(path, { recursive: true });
      logger.info('created the mountpoint', { mountpoint: path });
      return path;
    }
    if (code && DEAD_CONNECTION.has(code)) {
      // Dead but not in our mount table (e.g. mounted in another namespace): try anyway.
      await removeStaleMount(path, logger);
      return path;
    }
    throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is not usable: ${(err as Error).message}`, { cause: err });
  }
  if (!info.isDirectory()) throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is not a directory`);
  if ((await readdir(path)).length > 0) {
    throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is not empty`, {
      hint: 'FUSE (libfuse 2) will not hide existing files: use an empty directory',
    });
  }
  return path;
}

async function clearExistingMount(path: string, entry: MountEntry, logger: Logger, probeTimeoutMs: number): Promise<void> {
  const probe = await probeMount(path, probeTimeoutMs);
  if (probe === 'dead' && entry.fsType.startsWith('fuse')) {
    await removeStaleMount(path, logger);
    return;
  }
  const what = `${entry.fsType} ${entry.source}`;
  if (probe === 'hung') {
    throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is busy: ${what} is mounted there and does not answer`, {
      hint: `detach it with \`ocifs umount --lazy ${path}\``,
    });
  }
  throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is busy: ${what} is mounted there`, {
    hint: `unmount it first (ocifs umount ${path}) or choose another directory`,
  });
}

async function removeStaleMount(path: string, logger: Logger): Promise<void> {
  logger.warn('cleaning up a stale mount left by a daemon that is gone', { mountpoint: path });
  // Lazy: processes still holding files in it must not keep us from mounting.
  await fusermountUnmount(path, true);
}
