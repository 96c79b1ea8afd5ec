/**
 * The one place where an error becomes an errno (the CLI's exit codes are the other edge).
 * Values are negative, as fuse-native callbacks expect (`cb(-ENOENT)`), and come from the
 * platform's own table (os.constants.errno), so this module loads nothing native.
 */
import { constants } from 'node:os';
import { LocalIOError, OcifsError, type ErrorCode } from '../errors.js';

const E = constants.errno;

/** Negative errno values the adapter answers with. */
export const Errno = {
  ENOENT: -E.ENOENT,
  EIO: -E.EIO,
  EROFS: -E.EROFS,
  ENOTDIR: -E.ENOTDIR,
  EISDIR: -E.EISDIR,
  ENODATA: -E.ENODATA,
  EBADF: -E.EBADF,
  EACCES: -E.EACCES,
  EINVAL: -E.EINVAL,
  ENOSPC: -E.ENOSPC,
  EOPNOTSUPP: -E.EOPNOTSUPP,
  ECANCELED: -E.ECANCELED,
  ETIMEDOUT: -E.ETIMEDOUT,
  ERANGE: -E.ERANGE,
  E2BIG: -E.E2BIG,
} as const;

/**
 * Every code must be decided here: a new ErrorCode without an entry fails to compile.
 * Codes absent from this table by design (none today) would fall back to EIO.
 */
const BY_CODE: Record<ErrorCode, number> = {
  NOT_FOUND: Errno.ENOENT,
  // A path component that is not a valid digest or tag names nothing in the tree.
  INVALID_REFERENCE: Errno.ENOENT,
  READ_ONLY: Errno.EROFS,
  NOT_A_DIRECTORY: Errno.ENOTDIR,
  IS_A_DIRECTORY: Errno.EISDIR,
  NO_SUCH_ATTRIBUTE: Errno.ENODATA,
  BAD_HANDLE: Errno.EBADF,
  UNAUTHORIZED: Errno.EACCES,
  DENIED: Errno.EACCES,
  // A title refused for safety: "permission denied" says it is deliberate (and it is logged).
  UNSAFE_PATH: Errno.EACCES,
  INVALID_ARGUMENT: Errno.EINVAL,
  UNSUPPORTED: Errno.EOPNOTSUPP,
  // Not EINTR: readers such as cat retry EINTR forever; a cancelled read is over.
  ABORTED: Errno.ECANCELED,
  UNREACHABLE: Errno.EIO,
  REGISTRY_ERROR: Errno.EIO,
  DIGEST_MISMATCH: Errno.EIO,
  INVALID_CONTENT: Errno.EIO,
  TOO_MANY_REQUESTS: Errno.EIO,
  FUSE_UNAVAILABLE: Errno.EIO,
  MOUNTPOINT: Errno.EIO,
  LOCAL_IO: Errno.EIO, // refined by the system error below
};

/** Local system errors that mean the same thing to the reader of the mount. */
const PASSED_THROUGH_LOCAL = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM']);

/** The (negative) errno for an error thrown by src/fs. Anything unknown is EIO. */
export function errnoFor(err: unknown): number {
  if (!(err instanceof OcifsError)) return Errno.EIO;
  if (err instanceof LocalIOError && err.syscallCode && PASSED_THROUGH_LOCAL.has(err.syscallCode)) {
    const value = (E as Record<string, number | undefined>)[err.syscallCode];
    if (value !== undefined) return -value;
  }
  return BY_CODE[err.code] ?? Errno.EIO;
}

/** errno value -> its first name in the platform's table (built once: error logs are hot). */
const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(E)) if (!NAMES.has(value)) NAMES.set(value, name);

/** `ENOENT` for -2: for logs and test messages. */
export function errnoName(errno: number): string {
  return NAMES.get(-errno) ?? String(errno);
}

