/**
 * One base error for the whole project, one stable `code` per condition.
 *
 * Layers throw these; only the edges translate them: src/cli/exit.ts into exit codes and one-line
 * messages, src/fuse/errno.ts into errno values. Nothing in between inspects messages.
 */

export type ErrorCode =
  /** A reference (`registry/repo:tag@digest`) or target spec that does not parse. */
  | 'INVALID_REFERENCE'
  /** A bad flag, argument or combination of them. */
  | 'INVALID_ARGUMENT'
  /** The manifest, repository, tag or blob does not exist. */
  | 'NOT_FOUND'
  /** Credentials are missing or wrong (HTTP 401). */
  | 'UNAUTHORIZED'
  /** Credentials are valid but not allowed to do this (HTTP 403). */
  | 'DENIED'
  /** The registry is rate-limiting us (HTTP 429) and retries ran out. */
  | 'TOO_MANY_REQUESTS'
  /** The registry could not be reached (DNS, refused, reset, TLS, timeout). */
  | 'UNREACHABLE'
  /** The registry answered with an error we have no better code for. */
  | 'REGISTRY_ERROR'
  /** JSON (manifest, index, token, config) that is malformed, oversized or not what it claims. */
  | 'INVALID_CONTENT'
  /** Bytes whose digest or size is not the one they were asked for. */
  | 'DIGEST_MISMATCH'
  /** The operation is not supported by this target or registry. */
  | 'UNSUPPORTED'
  /** A file name from a manifest that would land outside its directory or shadow another. */
  | 'UNSAFE_PATH'
  /** A local file system problem (ENOSPC, EACCES on the output, ...). */
  | 'LOCAL_IO'
  /** FUSE is not usable here (no /dev/fuse, no fusermount, no libfuse.so.2). */
  | 'FUSE_UNAVAILABLE'
  /** The mountpoint is missing, busy, or not a directory. */
  | 'MOUNTPOINT'
  /** A write to the read-only tree. */
  | 'READ_ONLY'
  /** A path component that should be a directory is a file (ENOTDIR). */
  | 'NOT_A_DIRECTORY'
  /** A file operation on a directory (EISDIR). */
  | 'IS_A_DIRECTORY'
  /** An extended attribute that the node does not have (ENODATA). */
  | 'NO_SUCH_ATTRIBUTE'
  /** A file handle that is not open (EBADF). */
  | 'BAD_HANDLE'
  /** Something was cancelled (signal, abort). */
  | 'ABORTED';

export interface OcifsErrorOptions {
  /** What the user can do about it, one short sentence. */
  hint?: string;
  cause?: unknown;
}

export class OcifsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: OcifsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

export class InvalidReferenceError extends OcifsError {
  constructor(message: string, options?: OcifsErrorOptions) {
    super('INVALID_REFERENCE', message, options);
  }
}

export class InvalidArgumentError extends OcifsError {
  constructor(message: string, options?: OcifsErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

export class NotFoundError extends OcifsError {
  constructor(message: string, options?: OcifsErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

export class InvalidContentError extends OcifsError {
  constructor(message: string, options?: OcifsErrorOptions) {
    super('INVALID_CONTENT', message, options);
  }
}

export class DigestMismatchError extends OcifsError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, what = 'content', options?: OcifsErrorOptions) {
    super('DIGEST_MISMATCH', `${what} does not match its digest: expected ${expected}, got ${actual}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

export class UnsafePathError extends OcifsError {
  readonly path: string;
  constructor(path: string, why: string, options?: OcifsErrorOptions) {
    super('UNSAFE_PATH', `unsafe path ${JSON.stringify(path)}: ${why}`, options);
    this.path = path;
  }
}

export class LocalIOError extends OcifsError {
  /** The Node system error code (ENOSPC, EACCES, ...) when there is one. */
  readonly syscallCode: string | undefined;
  constructor(message: string, options?: OcifsErrorOptions) {
    super('LOCAL_IO', message, options);
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    this.syscallCode = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** Distribution-spec error code from a registry's error body, e.g. MANIFEST_UNKNOWN. */
export interface WireError {
  code: string;
  message?: string;
  detail?: unknown;
}

/**
 * An HTTP answer from a registry that is an error. `code` is derived from the status and the
 * distribution error codes; `wireErrors` keeps what the registry said.
 */
export class RegistryError extends OcifsError {
  readonly status: number;
  readonly wireErrors: WireError[];
  readonly url: string;

  constructor(
    code: ErrorCode,
    message: string,
    details: { status: number; url: string; wireErrors?: WireError[] },
    options?: OcifsErrorOptions,
  ) {
    super(code, message, options);
    this.status = details.status;
    this.url = details.url;
    this.wireErrors = details.wireErrors ?? [];
  }

  /** True when the registry named this distribution error code (MANIFEST_UNKNOWN, ...). */
  hasWireCode(code: string): boolean {
    return this.wireErrors.some((e) => e.code === code);
  }
}

export function isOcifsError(err: unknown): err is OcifsError {
  return err instanceof OcifsError;
}

/** Wrap a Node system error from local file work in a LocalIOError with a readable message. */
export function localIOError(err: unknown, what: string): OcifsError {
  if (err instanceof OcifsError) return err;
  const e = err as NodeJS.ErrnoException;
  const hint =
    e?.code === 'ENOSPC'
      ? 'free some disk space and run the command again'
      : e?.code === 'EACCES' || e?.code === 'EPERM'
        ? 'check the permissions of that path'
        : undefined;
  return new LocalIOError(`${what}: ${e?.message ?? String(err)}`, { cause: err, hint });
}
