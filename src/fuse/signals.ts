/**
 * The foreground daemon's life: serve until SIGINT, SIGTERM or SIGHUP (or until someone else
 * unmounts us), then unmount cleanly (lazily if files are open) and resolve. A second signal
 * stops waiting for a slow shutdown: the mount is detached and the promise resolves at once.
 * Exiting (with 0) is the caller's job.
 */
import type { Logger } from '../log.js';
import type { MountedFilesystem } from './mount.js';
import { unmountPath } from './unmount.js';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function runUntilSignalled(mounted: MountedFilesystem, logger: Logger): Promise<void> {
  const { mountpoint } = mounted;
  let stopping = false;
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      mounted.closed.then(resolve, reject);
      onSignal = (signal) => {
        if (!stopping) {
          stopping = true;
          logger.info(`${signal}: unmounting`, { mountpoint });
          mounted.unmount().catch((err: unknown) => {
            logger.error('unmount failed', { mountpoint, err: err as Error });
            reject(err);
          });
          return;
        }
        logger.warn(`${signal} again: detaching the mount and exiting without waiting`, { mountpoint });
        unmountPath(mountpoint, { lazy: true }).then(resolve, () => resolve());
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}
