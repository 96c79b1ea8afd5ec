/**
 * src/fuse — the kernel edge of the read path, kept thin (as mountpoint-s3's fuse.rs):
 * - operations.ts translates fuse-native callbacks into FilesystemOps calls (src/fs/ops.ts) and
 *   results back; errno.ts is the one place where an error becomes an errno.
 * - the mount lifecycle: preflight (is FUSE here?), mountpoint preparation and stale-mount
 *   recovery, mount/unmount, signals, `ocifs umount`, `ocifs status`, `--daemon`.
 * It owns no behaviour of the tree (names, sizes, caching, registry access: src/fs and below)
 * and never touches the registry, the cache or process exit codes (src/cli).
 */
export { errnoFor, errnoName, Errno } from './errno.js';
export { createFuseOperations, type FuseOperations, type AdapterOptions } from './operations.js';
export { DEFAULT_OPERATION_TIMEOUT_MS, nativeMountConfig, type MountOptions } from './mount-options.js';
export { mountFilesystem, type MountedFilesystem } from './mount.js';
export { prepareMountpoint, type PrepareOptions } from './mountpoint.js';
export { checkFuseAvailable, type PreflightOptions } from './preflight.js';
export { unmountPath } from './unmount.js';
export { runUntilSignalled } from './signals.js';
export { readMountStatus, STATUS_XATTR } from './status.js';
export { daemonize, type DaemonOptions, type DaemonInfo } from './daemon.js';
export { OCIFS_FS_TYPE, readMountTable, findMount, type MountEntry } from './mountinfo.js';
