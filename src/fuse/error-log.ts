/**
 * Logging of the errors the adapter answers. An EIO hides its cause from the reader (`cat`
 * says only "Input/output error"), so the cause goes to the log: once per distinct cause and
 * path, because a reader retrying a broken file would otherwise flood it. Expected answers
 * (ENOENT for a sidecar probe, ENODATA for a missing xattr) stay at debug level.
 */
import { LRUCache } from 'lru-cache';
import { OcifsError } from '../errors.js';
import type { Logger } from '../log.js';
import { Errno, errnoFor, errnoName } from './errno.js';

export interface ErrorReporter {
  /** The errno to answer for `err`, logging it as described above. */
  report(op: string, path: string, err: unknown): number;
}

/** How many (path, cause) pairs are remembered as already logged. */
const REMEMBERED_CAUSES = 4096;

export function createErrorReporter(logger: Logger): ErrorReporter {
  const logged = new LRUCache<string, true>({ max: REMEMBERED_CAUSES });
  return {
    report(op, path, err) {
      const errno = errnoFor(err);
      const fields = { op, path, errno: errnoName(errno), err: err instanceof Error ? err : String(err) };
      const noteworthy = errno === Errno.EIO || (err instanceof OcifsError && err.code === 'UNSAFE_PATH');
      if (!noteworthy) {
        logger.debug('answered with an error', fields);
        return errno;
      }
      const key = `${path}\0${causeKey(err)}`;
      if (logged.has(key)) {
        logger.debug('answered with an error (cause logged before)', fields);
        return errno;
      }
      logged.set(key, true);
      if (err instanceof OcifsError) {
        logger.warn(`${op} failed`, { ...fields, code: err.code, cause: describeCause(err.cause) });
      } else {
        // Not one of ours: a bug somewhere below; keep the stack.
        logger.error(`${op} failed with an unexpected error`, {
          ...fields,
          stack: err instanceof Error ? err.stack : undefined,
        });
      }
      return errno;
    },
  };
}

function causeKey(err: unknown): string {
  if (err instanceof OcifsError) return `${err.code}:${err.message}`;
  if (err instanceof Error) return `${err.name}:${err.message}`;
  return String(err);
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return code ? `${cause.message} (${String(code)})` : cause.message;
  }
  return String(cause);
}
