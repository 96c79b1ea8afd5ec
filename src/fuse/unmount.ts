/**
 * Unmounting with fusermount (libfuse 2's setuid helper; works for root and for the user who
 * mounted). Three ways out: done, busy (files are open in the mount), or not mounted.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { OcifsError } from '../errors.js';
import type { Logger } from '../log.js';
import { findMount, OCIFS_FS_TYPE, readMountTable } from './mountinfo.js';
import { canonicalMountpoint } from './paths.js';

export type FusermountOutcome = 'unmounted' | 'busy' | 'not-mounted';

/** Runs `fusermount -u [-z]` and classifies the result; other failures throw. */
export async function fusermountUnmount(mountpoint: string, lazy: boolean): Promise<FusermountOutcome> {
  const args = ['-u', ...(lazy ? ['-z'] : []), '--', mountpoint];
  const result = await new Promise<{ error: ExecFileException | null; stderr: string }>((resolve) => {
    execFile('fusermount', args, { timeout: 30_000 }, (error, _stdout, stderr) => resolve({ error, stderr }));
  });
  if (!result.error) return 'unmounted';
  if (result.error.code === 'ENOENT') {
    throw new OcifsError('FUSE_UNAVAILABLE', 'fusermount not found: apt-get install fuse');
  }
  return classifyFusermountFailure(result.stderr, mountpoint);
}

/** fusermount's messages, e.g. `fusermount: failed to unmount /m: Device or resource busy`. */
export function classifyFusermountFailure(stderr: string, mountpoint: string): FusermountOutcome {
  if (/resource busy/i.test(stderr)) return 'busy';
  // Root: umount2 says EINVAL for a path that is not a mount; others: no entry in mtab.
  if (/invalid argument|not found in|not mounted/i.test(stderr)) return 'not-mounted';
  throw new OcifsError('MOUNTPOINT', `could not unmount ${mountpoint}: ${stderr.trim() || 'fusermount failed'}`);
}

/**
 * `ocifs umount`: unmounts an ocifs mount (also a stale one whose daemon died). Busy without
 * `lazy` is an error that says what to do; `lazy` detaches it now and the kernel finishes once
 * the last open file is closed.
 */
export async function unmountPath(mountpoint: string, options: { lazy?: boolean } = {}): Promise<void> {
  const path = await canonicalMountpoint(mountpoint);
  const entry = findMount(await readMountTable(), path);
  if (!entry) throw new OcifsError('MOUNTPOINT', `${path} is not mounted`);
  if (entry.fsType !== OCIFS_FS_TYPE) {
    throw new OcifsError('MOUNTPOINT', `${path} is not an ocifs mount (it is ${entry.fsType} ${entry.source})`);
  }
  const outcome = await fusermountUnmount(path, options.lazy ?? false);
  if (outcome === 'busy') {
    throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is busy: files are open in it`, {
      hint: `close them, or detach it now with \`ocifs umount --lazy ${path}\``,
    });
  }
}

/**
 * Used when a daemon shuts down: unmount `mountId` at `mountpoint` unless it is already gone
 * (or something else now sits there), falling back to a lazy unmount when busy.
 */
export async function unmountOwnMount(mountpoint: string, mountId: number | undefined, logger: Logger): Promise<void> {
  const entry = findMount(await readMountTable(), mountpoint);
  if (!entry || (mountId !== undefined && entry.id !== mountId)) {
    logger.debug('already unmounted', { mountpoint });
    return;
  }
  const outcome = await fusermountUnmount(mountpoint, false);
  if (outcome !== 'busy') return;
  // Detached from the tree at once; files still open in it fail (ENOTCONN) once we exit.
  logger.warn('mountpoint is busy (files are open): unmounting lazily', { mountpoint });
  await fusermountUnmount(mountpoint, true);
}
