/**
 * The one place that turns errors into what the CLI prints and its exit code.
 * Documented in the README ("Exit codes"); keep the two in step.
 */
import { OcifsError, type ErrorCode } from '../errors.js';

export const ExitCode = {
  Ok: 0,
  /** Unexpected failure (a bug: run with --debug and report it). */
  Failure: 1,
  /** Bad usage: invalid reference, flag or argument. */
  Usage: 2,
  /** The repository, tag, manifest or blob does not exist. */
  NotFound: 3,
  /** Authentication or authorisation failed. */
  Auth: 4,
  /** The registry is unreachable, rate-limiting, or answered with an error. */
  Registry: 5,
  /** Content is invalid, does not match its digest, or names unsafe paths. */
  Content: 6,
  /** A local file system problem (disk full, permissions, existing files). */
  LocalIO: 7,
  /** FUSE is not available or the mountpoint cannot be used. */
  Mount: 8,
  /** Interrupted (SIGINT). */
  Interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  INVALID_REFERENCE: ExitCode.Usage,
  INVALID_ARGUMENT: ExitCode.Usage,
  NOT_FOUND: ExitCode.NotFound,
  UNAUTHORIZED: ExitCode.Auth,
  DENIED: ExitCode.Auth,
  TOO_MANY_REQUESTS: ExitCode.Registry,
  UNREACHABLE: ExitCode.Registry,
  REGISTRY_ERROR: ExitCode.Registry,
  UNSUPPORTED: ExitCode.Registry,
  INVALID_CONTENT: ExitCode.Content,
  DIGEST_MISMATCH: ExitCode.Content,
  UNSAFE_PATH: ExitCode.Content,
  LOCAL_IO: ExitCode.LocalIO,
  READ_ONLY: ExitCode.LocalIO,
  NOT_A_DIRECTORY: ExitCode.LocalIO,
  IS_A_DIRECTORY: ExitCode.LocalIO,
  NO_SUCH_ATTRIBUTE: ExitCode.LocalIO,
  BAD_HANDLE: ExitCode.Failure,
  FUSE_UNAVAILABLE: ExitCode.Mount,
  MOUNTPOINT: ExitCode.Mount,
  ABORTED: ExitCode.Interrupted,
};

export function exitCodeFor(err: unknown): number {
  if (err instanceof OcifsError) return BY_CODE[err.code] ?? ExitCode.Failure;
  if ((err as Error)?.name === 'AbortError') return ExitCode.Interrupted;
  return ExitCode.Failure;
}

/** One line: what went wrong, then what to do. */
export function messageFor(err: unknown): string {
  if (err instanceof OcifsError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if ((err as Error)?.name === 'AbortError') return 'interrupted';
  const e = err as NodeJS.ErrnoException;
  const text = e?.message ?? String(err);
  return `unexpected error: ${text.split('\n')[0]} (run again with --debug for details, and please report it)`;
}
