/** Mountpoint paths as the kernel lists them in /proc/self/mountinfo. */
import { realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

/**
 * Absolute, with symlinks of the parent resolved. The mountpoint itself is not resolved: on a
 * stale mount, touching it fails with ENOTCONN, and a mountpoint is never a symlink anyway.
 */
export async function canonicalMountpoint(mountpoint: string): Promise<string> {
  const absolute = resolve(mountpoint);
  if (absolute === '/') return absolute;
  try {
    return resolve(await realpath(dirname(absolute)), basename(absolute));
  } catch {
    return absolute; // a missing parent: the caller reports it
  }
}
