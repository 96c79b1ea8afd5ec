/**
 * MountOptions, and their translation into fuse-native options plus raw `-o` options. Pure.
 *
 * Caching, given what fuse-native exposes (no per-file keep_cache, one attr/entry timeout for
 * the whole mount, so NodeAttributes.immutable cannot be honoured per node):
 * - `kernelCache` -> `kernel_cache`: the page cache keeps file contents across opens. Right
 *   when every path always means the same bytes (a mount pinned to a digest).
 * - `autoCache` -> `auto_cache`: kept across opens while size and mtime are unchanged. A tag
 *   that moves to content of the same size *and* mtime would keep serving the old pages (a
 *   test shows it), so it is off by default: turn it on where src/fs guarantees that a path
 *   whose bytes change also changes its mtime or size.
 * - neither (default): pages live while a file is open; each open re-reads (from our cache).
 * - `attr_timeout`/`entry_timeout` (libfuse default 1 s) and `negative_timeout` (default 0;
 *   a few seconds spare the registry GDAL's sidecar probes for `.aux.xml`, `.ovr`, `.msk`).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../log.js';

export interface MountOptions {
  /** `allow_other`: other users (and containers) may read the mount. */
  allowOther?: boolean;
  /** libfuse's request trace on stderr. */
  debug?: boolean;
  logger?: Logger;
  /**
   * Deadline for one kernel request (a read, a lookup, a listing), after which it is answered
   * ETIMEDOUT. Longer than the registry client's retries, so that a failing registry shows up
   * as EIO with its cause logged rather than as a bare timeout. 0 waits for ever.
   * Default DEFAULT_OPERATION_TIMEOUT_MS.
   */
  operationTimeoutMs?: number;
  /** The source column of /proc/mounts, e.g. `ocifs#127.0.0.1:5000/eo`. */
  fsName?: string;
  /** Immutable content: let the page cache keep it across opens (`kernel_cache`). */
  kernelCache?: boolean;
  /** `auto_cache` when kernelCache is off (default false); see above. */
  autoCache?: boolean;
  attrTimeoutS?: number;
  entryTimeoutS?: number;
  /** How long the kernel remembers that a name does not exist. */
  negativeTimeoutS?: number;
  /**
   * Mount read-only in the kernel (`-o ro`, default true): writes fail with EROFS before they
   * reach us. The adapter answers EROFS to every write as well; false lets tests reach it.
   */
  readOnly?: boolean;
  /** Create a missing mountpoint instead of failing. */
  createMountpoint?: boolean;
  /** Raw `-o` options fuse-native does not expose (`max_readahead=1048576`, ...). */
  extraFuseOptions?: string[];
  /** How often to check whether someone else unmounted us (default 1000 ms). */
  watchIntervalMs?: number;
}

/** Two minutes: above the registry client's retry budget, below a user's patience. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 120_000;
export const FS_SUBTYPE = 'ocifs';
/** fuse-native copies the whole option string into a 1024-byte buffer. */
const MAX_FSNAME_LENGTH = 256;

export interface NativeMountConfig {
  nativeOptions: Record<string, unknown>;
  rawOptions: string[];
  operationTimeoutMs: number;
}

export function nativeMountConfig(options: MountOptions): NativeMountConfig {
  const operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
  if (!Number.isInteger(operationTimeoutMs) || operationTimeoutMs < 0) {
    throw new InvalidArgumentError(`operation timeout must be a whole number of milliseconds >= 0, got ${operationTimeoutMs}`);
  }
  const kernelCache = options.kernelCache ?? false;
  const nativeOptions: Record<string, unknown> = {
    debug: options.debug ?? false,
    allowOther: options.allowOther ?? false,
    // The kernel checks modes (0444/0555 and --umask) itself, also for other users.
    defaultPermissions: true,
    fsname: escapeOptionValue((options.fsName ?? FS_SUBTYPE).slice(0, MAX_FSNAME_LENGTH)),
    subtype: FS_SUBTYPE,
    kernelCache,
    autoCache: !kernelCache && (options.autoCache ?? false),
    // The adapter enforces its own deadline (see operations.ts); fuse-native's would let a late
    // read write into a buffer the kernel has already been given back.
    timeout: false,
  };
  const rawOptions: string[] = [];
  if (options.readOnly ?? true) rawOptions.push('ro');
  pushSeconds(rawOptions, 'attr_timeout', options.attrTimeoutS);
  pushSeconds(rawOptions, 'entry_timeout', options.entryTimeoutS);
  pushSeconds(rawOptions, 'negative_timeout', options.negativeTimeoutS);
  for (const raw of options.extraFuseOptions ?? []) rawOptions.push(validRawOption(raw));
  return { nativeOptions, rawOptions, operationTimeoutMs };
}

function pushSeconds(out: string[], name: string, seconds: number | undefined): void {
  if (seconds === undefined) return;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(`${name} must be a number of seconds >= 0, got ${seconds}`);
  }
  out.push(`${name}=${seconds}`);
}

function validRawOption(option: string): string {
  if (!/^[a-z_]+(=[^,\\\s]+)?$/.test(option)) {
    throw new InvalidArgumentError(`not a FUSE mount option: ${JSON.stringify(option)}`);
  }
  return option;
}

/** libfuse splits options at commas and unescapes backslashes. */
export function escapeOptionValue(value: string): string {
  return value.replace(/[\\,]/g, (c) => `\\${c}`);
}
