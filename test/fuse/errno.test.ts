import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { LocalIOError, NotFoundError, OcifsError, RegistryError, type ErrorCode } from '../../src/errors.js';
import { Errno, errnoFor } from '../../src/fuse/errno.js';
import { createErrorReporter } from '../../src/fuse/error-log.js';
import { captureLogger } from './helpers.js';

const byCode: [ErrorCode, string][] = [
  ['NOT_FOUND', 'ENOENT'],
  ['INVALID_REFERENCE', 'ENOENT'],
  ['READ_ONLY', 'EROFS'],
  ['NOT_A_DIRECTORY', 'ENOTDIR'],
  ['IS_A_DIRECTORY', 'EISDIR'],
  ['NO_SUCH_ATTRIBUTE', 'ENODATA'],
  ['BAD_HANDLE', 'EBADF'],
  ['UNAUTHORIZED', 'EACCES'],
  ['DENIED', 'EACCES'],
  ['UNSAFE_PATH', 'EACCES'],
  ['INVALID_ARGUMENT', 'EINVAL'],
  ['UNSUPPORTED', 'EOPNOTSUPP'],
  ['ABORTED', 'ECANCELED'],
  ['UNREACHABLE', 'EIO'],
  ['REGISTRY_ERROR', 'EIO'],
  ['DIGEST_MISMATCH', 'EIO'],
  ['INVALID_CONTENT', 'EIO'],
  ['TOO_MANY_REQUESTS', 'EIO'],
  ['FUSE_UNAVAILABLE', 'EIO'],
  ['MOUNTPOINT', 'EIO'],
  ['LOCAL_IO', 'EIO'],
];

const localIO = (code: string) => new LocalIOError('cache write failed', { cause: Object.assign(new Error(code), { code }) });

describe('errnoFor', () => {
  it.each(byCode)('%s -> %s', (code, errno) => {
    const value = errnoFor(new OcifsError(code, 'x'));
    expect(value).toBeLessThan(0); // fuse-native wants negative values
    expect(value).toBe(-(constants.errno as Record<string, number>)[errno]!);
  });

  it.each([
    ['a LOCAL_IO with ENOSPC', localIO('ENOSPC'), -28],
    ['a LOCAL_IO with EDQUOT', localIO('EDQUOT'), -122],
    ['a LOCAL_IO with EMFILE', localIO('EMFILE'), -24],
    ['a LOCAL_IO with EACCES (the cache dir, not the reader)', localIO('EACCES'), Errno.EIO],
    ['a subclass (NotFoundError)', new NotFoundError('gone'), Errno.ENOENT],
    ['a RegistryError that is DENIED', new RegistryError('DENIED', 'no', { status: 403, url: 'http://x' }), Errno.EACCES],
    ['a plain Error', new Error('bug'), Errno.EIO],
    ['a Node system error', Object.assign(new Error('x'), { code: 'ENOENT' }), Errno.EIO],
    ['a string', 'oops', Errno.EIO],
    ['undefined', undefined, Errno.EIO],
  ])('%s', (_name, err, expected) => {
    expect(errnoFor(err)).toBe(expected);
  });
});

describe('the error reporter', () => {
  it('logs an EIO cause once per path and cause, and expected errors only at debug', () => {
    const { logger, lines } = captureLogger();
    const reporter = createErrorReporter(logger);
    const unreachable = () => new OcifsError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1', { cause: new Error('refused') });

    expect(reporter.report('read', '/a', unreachable())).toBe(Errno.EIO);
    expect(reporter.report('read', '/a', unreachable())).toBe(Errno.EIO);
    expect(reporter.report('read', '/b', unreachable())).toBe(Errno.EIO);
    expect(reporter.report('getattr', '/missing', new NotFoundError('no'))).toBe(Errno.ENOENT);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const warnings = records.filter((r) => r.level === 'warn');
    expect(warnings.map((r) => r.path)).toEqual(['/a', '/b']);
    expect(warnings[0]).toMatchObject({ op: 'read', errno: 'EIO', code: 'UNREACHABLE', cause: 'refused' });
    expect(records.find((r) => r.path === '/missing')).toMatchObject({ level: 'debug', errno: 'ENOENT' });
  });

  it('logs an unexpected (non-ocifs) error at error level with its stack', () => {
    const { logger, lines } = captureLogger();
    expect(createErrorReporter(logger).report('open', '/x', new TypeError('undefined is not a function'))).toBe(Errno.EIO);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record.level).toBe('error');
    expect(String(record.stack)).toContain('TypeError');
  });
});
