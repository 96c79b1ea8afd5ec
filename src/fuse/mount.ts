/**
 * A mounted filesystem: mount, unmount (once, however many times asked), and notice when
 * someone else unmounted us (`ocifs umount`, `fusermount -u`), so that the daemon can exit.
 */
import { OcifsError } from '../errors.js';
import type { FilesystemOps } from '../fs/ops.js';
import { silentLogger, type Logger } from '../log.js';
import { findMount, OCIFS_FS_TYPE, readMountTable } from './mountinfo.js';
import { nativeMountConfig, type MountOptions } from './mount-options.js';
import { prepareMountpoint } from './mountpoint.js';
import { createFuseSession } from './native.js';
import { createFuseOperations } from './operations.js';
import { checkFuseAvailable } from './preflight.js';
import { unmountOwnMount } from './unmount.js';

export interface MountedFilesystem {
  /** As the kernel lists it (absolute, parent symlinks resolved). */
  readonly mountpoint: string;
  /** Unmounts (lazily if files are open), then closes the filesystem. Idempotent. */
  unmount(): Promise<void>;
  /** Resolves once unmounted and closed, whoever unmounted it. */
  closed: Promise<void>;
}

export async function mountFilesystem(
  ops: FilesystemOps,
  mountpoint: string,
  options: MountOptions = {},
): Promise<MountedFilesystem> {
  const logger = (options.logger ?? silentLogger).child({ component: 'fuse' });
  const config = nativeMountConfig(options);
  await checkFuseAvailable({ allowOther: options.allowOther ?? false });
  const path = await prepareMountpoint(mountpoint, logger, { create: options.createMountpoint ?? false });

  let mountId: number | undefined;
  const fuseOps = createFuseOperations(ops, { logger, timeoutMs: config.operationTimeoutMs });
  const session = createFuseSession(path, fuseOps, {
    nativeOptions: config.nativeOptions,
    rawOptions: config.rawOptions,
    unmount: (mnt) => unmountOwnMount(mnt, mountId, logger),
  });
  try {
    await session.mount();
  } catch (err) {
    throw mountFailure(path, err);
  }
  mountId = findMount(await readMountTable(), path)?.id;
  logger.info('mounted', { mountpoint: path, timeoutMs: config.operationTimeoutMs, options: config.rawOptions });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let unmounting: Promise<void> | undefined;

  const unmount = (): Promise<void> => {
    unmounting ??= (async () => {
      clearInterval(watcher);
      try {
        await session.unmount();
      } catch (err) {
        unmounting = undefined; // let a later call try again
        throw err;
      }
      logger.info('unmounted', { mountpoint: path });
      await ops.close().catch((err: unknown) => logger.warn('closing the filesystem failed', { err: err as Error }));
      resolveClosed();
    })();
    return unmounting;
  };

  const watcher = setInterval(() => {
    void readMountTable().then((table) => {
      const entry = findMount(table, path);
      const ours = entry && (mountId === undefined ? entry.fsType === OCIFS_FS_TYPE : entry.id === mountId);
      if (ours) return;
      if (unmounting) return;
      logger.info('unmounted from outside', { mountpoint: path });
      unmount().catch((err: unknown) => logger.error('cleaning up after an outside unmount failed', { err: err as Error }));
    }, () => undefined);
  }, options.watchIntervalMs ?? 1000);
  watcher.unref();

  return { mountpoint: path, unmount, closed };
}

/** fuse-native only says "fuse failed"; libfuse wrote the reason to stderr already. */
function mountFailure(path: string, err: unknown): OcifsError {
  const message = err instanceof Error ? err.message : String(err);
  if (/in use/i.test(message)) {
    return new OcifsError('MOUNTPOINT', `mountpoint ${path} is busy: something is mounted there`, { cause: err });
  }
  return new OcifsError('MOUNTPOINT', `mounting ${path} failed (${message}); libfuse's reason is printed above`, {
    cause: err,
    hint: `check that ${path} is an empty directory you own and that no ${OCIFS_FS_TYPE} mount is left there`,
  });
}
