/** Table tests for the small pure modules of src/registry. */
import { describe, expect, test } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { clampRange, parseContentRange, rangeHeader, uploadedBytes } from '../../src/registry/content-range.js';
import { nextPageUrl } from '../../src/registry/link.js';
import { backoffDelay, isRetryableNetworkError, isRetryableStatus, nextRetryDelay, parseRetryAfter, type RetryPolicy } from '../../src/registry/retry.js';
import { normalizeScopes, repositoryScope, scopeKey } from '../../src/registry/scope.js';
import { expiryMargin, TokenCache } from '../../src/registry/token-cache.js';
import { withDigestParam } from '../../src/registry/upload.js';
import { connectionError, errorCodeFor, parseWireErrors, registryError } from '../../src/registry/wire-errors.js';

describe('scopes', () => {
  test.each([
    [['repository:a:pull', 'repository:a:push'], ['repository:a:pull,push']],
    [['repository:a:push,pull', 'repository:a:pull'], ['repository:a:pull,push']],
    [['repository:b:pull', 'repository:a:pull'], ['repository:a:pull', 'repository:b:pull']],
    [['repository:a:pull', 'repository:a:*'], ['repository:a:*']],
    [['repository:a:pull repository:b:push'], ['repository:a:pull', 'repository:b:push']],
    [['registry:catalog:*', ''], ['registry:catalog:*']],
    [['weird'], ['weird']],
    [['repository(plugin):p:pull'], ['repository(plugin):p:pull']],
  ])('normalizeScopes(%j)', (input, expected) => {
    expect(normalizeScopes(input)).toEqual(expected);
  });

  test('equal sets give equal keys', () => {
    expect(scopeKey(['repository:a:push', 'repository:a:pull'])).toBe(scopeKey([repositoryScope('a', ['pull', 'push'])]));
  });
});

describe('retry policy', () => {
  const policy: RetryPolicy = { attempts: 4, minDelayMs: 100, maxDelayMs: 1000, budgetMs: 5000 };

  test.each([
    [408, true], [429, true], [500, true], [502, true], [503, true], [504, true],
    [501, false], [505, false], [400, false], [401, false], [403, false], [404, false], [200, false],
  ])('status %i retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });

  test.each([
    [{ code: 'ECONNREFUSED' }, true],
    [{ code: 'ECONNRESET' }, true],
    [{ code: 'UND_ERR_SOCKET' }, true],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, true],
    [{ code: 'X', cause: { code: 'ECONNRESET' } }, true],
    [{ code: 'ENOTFOUND' }, false],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, false],
    [new Error('plain'), false],
  ])('network error %j retryable: %s', (err, expected) => {
    expect(isRetryableNetworkError(err)).toBe(expected);
  });

  test.each([
    ['3', 3000],
    ['0', 0],
    ['Thu, 01 Jan 1970 00:00:10 GMT', 5000],
    ['Thu, 01 Jan 1970 00:00:01 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('Retry-After %s -> %s ms', (value, expected) => {
    expect(parseRetryAfter(value, 5000)).toBe(expected);
  });

  test('full jitter stays under an exponential ceiling capped at max', () => {
    expect(backoffDelay(policy, 0, () => 0.999)).toBe(99);
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(200);
    expect(backoffDelay(policy, 10, () => 0.999)).toBe(999);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });

  test.each([
    [{ triesMade: 1, elapsedMs: 0 }, 50],
    [{ triesMade: 3, elapsedMs: 0 }, 200],
    [{ triesMade: 4, elapsedMs: 0 }, undefined], // attempts used up
    [{ triesMade: 1, elapsedMs: 4990 }, undefined], // the wait would pass the budget
    [{ triesMade: 1, elapsedMs: 0, retryAfterMs: 2000 }, 2000], // Retry-After wins over backoff
    [{ triesMade: 1, elapsedMs: 0, retryAfterMs: 60_000 }, undefined], // too long to wait: give up now
  ])('nextRetryDelay(%j) = %s', (state, expected) => {
    expect(nextRetryDelay(policy, state, () => 0.5)).toBe(expected);
  });
});

describe('Link pagination', () => {
  test.each([
    ['</v2/_catalog?last=b&n=2>; rel="next"', 'http://r:5000/v2/_catalog?n=2', 'http://r:5000/v2/_catalog?last=b&n=2'],
    ['<https://other/v2/x/tags/list?last=t>; rel=next', 'http://r/v2/x/tags/list', 'https://other/v2/x/tags/list?last=t'],
    ['</a>; rel="prev", </b>; rel="next"', 'http://r/', 'http://r/b'],
    ['</a,b>; rel="next"', 'http://r/', 'http://r/a,b'],
    ['</a>; rel="prev"', 'http://r/', undefined],
    [undefined, 'http://r/', undefined],
  ])('%s', (link, base, expected) => {
    expect(nextPageUrl(link, base)).toBe(expected);
  });
});

describe('ranges', () => {
  test.each([
    [100, 0, 10, { start: 0, end: 9 }],
    [100, 95, 10, { start: 95, end: 99 }],
    [100, 99, 1, { start: 99, end: 99 }],
    [100, 100, 10, undefined],
    [100, 5, 0, undefined],
    [0, 0, 10, undefined],
  ])('clampRange(size %i, %i, %i)', (size, offset, length, expected) => {
    expect(clampRange(size, offset, length)).toEqual(expected);
  });

  test('invalid offsets throw', () => {
    expect(() => clampRange(10, -1, 5)).toThrow(RangeError);
    expect(() => clampRange(10, 1.5, 5)).toThrow(RangeError);
  });

  test('rangeHeader is closed', () => {
    expect(rangeHeader({ start: 5, end: 9 })).toBe('bytes=5-9');
  });

  test.each([
    ['bytes 0-9/100', { kind: 'range', start: 0, end: 9, total: 100 }],
    ['bytes 5-9/*', { kind: 'range', start: 5, end: 9, total: undefined }],
    ['bytes */100', { kind: 'unsatisfied', total: 100 }],
    ['bytes 9-5/100', undefined],
    ['bytes 0-100/100', undefined],
    ['items 0-9/100', undefined],
    [undefined, undefined],
  ])('parseContentRange(%s)', (value, expected) => {
    expect(parseContentRange(value)).toEqual(expected);
  });

  test.each([
    ['0-0', 0],
    ['0-1023', 1024],
    ['bytes=0-99', 100],
    ['5-10', undefined],
    [undefined, undefined],
  ])('uploadedBytes(%s) = %s', (value, expected) => {
    expect(uploadedBytes(value)).toBe(expected);
  });
});

describe('wire errors', () => {
  test('parse the distribution error body', () => {
    expect(parseWireErrors('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}')).toEqual([
      { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } },
    ]);
    expect(parseWireErrors('not json')).toEqual([]);
    expect(parseWireErrors('{"errors":[{"nocode":1}, "x"]}')).toEqual([]);
  });

  test.each([
    [404, [], 'NOT_FOUND'],
    [404, ['MANIFEST_UNKNOWN'], 'NOT_FOUND'],
    [400, ['NAME_UNKNOWN'], 'NOT_FOUND'],
    [404, ['BLOB_UNKNOWN'], 'NOT_FOUND'],
    [401, [], 'UNAUTHORIZED'],
    [401, ['UNAUTHORIZED'], 'UNAUTHORIZED'],
    [403, [], 'DENIED'],
    [403, ['DENIED'], 'DENIED'],
    [429, [], 'TOO_MANY_REQUESTS'],
    [503, ['TOOMANYREQUESTS'], 'TOO_MANY_REQUESTS'],
    [500, [], 'REGISTRY_ERROR'],
    [400, ['DIGEST_INVALID'], 'REGISTRY_ERROR'],
  ])('status %i with %j -> %s', (status, codes, expected) => {
    expect(errorCodeFor(status, codes.map((code) => ({ code })))).toBe(expected);
  });

  test('messages name the registry, repository and reference, and say what to do', () => {
    const subject = { registry: 'r:5000', repository: 'eo/products', reference: 'v9', action: 'fetch manifest' };
    const nf = registryError(404, 'http://r:5000/v2/eo/products/manifests/v9', [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }], subject);
    expect(nf).toBeInstanceOf(RegistryError);
    expect(nf.message).toContain('r:5000/eo/products:v9');
    expect(nf.hint).toContain('ocifs ls r:5000/eo/products');
    expect(nf.hasWireCode('MANIFEST_UNKNOWN')).toBe(true);
    expect(nf.status).toBe(404);

    const anon = registryError(401, 'u', [], subject, { withCredentials: false });
    expect(anon.code).toBe('UNAUTHORIZED');
    expect(anon.hint).toContain('ocifs login r:5000');

    const wrong = registryError(401, 'u', [], subject, { withCredentials: true, username: 'bob' });
    expect(wrong.message).toContain('rejected the credentials of bob');

    const scope = registryError(401, 'u', [], { ...subject, action: 'push blob' }, { withCredentials: true, username: 'reader', challengeError: 'insufficient_scope' });
    expect(scope.code).toBe('DENIED');
    expect(scope.message).toContain('denied for reader');

    const digestRef = registryError(404, 'u', [], { ...subject, reference: 'sha256:' + 'a'.repeat(64) });
    expect(digestRef.message).toContain('eo/products@sha256:');
  });

  test.each([
    [{ code: 'ECONNREFUSED' }, 'cannot reach r:1: connection refused'],
    [{ code: 'ENOTFOUND' }, 'cannot reach r:1: host not found'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'cannot reach r:1: connection timed out'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'cannot reach r:1: its TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)'],
  ])('connection failure %j', (err, message) => {
    const e = connectionError(Object.assign(new Error('x'), err), 'r:1');
    expect(e?.code).toBe('UNREACHABLE');
    expect(e?.message).toBe(message);
    expect(e?.hint).toBeTruthy();
  });

  test('errors that are not connection failures are left alone', () => {
    expect(connectionError(new Error('boom'), 'r')).toBeUndefined();
  });
});

describe('token cache', () => {
  test('tokens expire before their lifetime ends, by a margin', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('k', 't', 60);
    expect(expiryMargin(60)).toBe(12);
    now = 47_999;
    expect(cache.get('k')).toBe('t');
    now = 48_000;
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 't2', 0); // no expires_in: 60 s
    expect(cache.get('k')).toBe('t2');
    cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
  });

  test('concurrent fetches of one key share one promise', async () => {
    const cache = new TokenCache();
    let calls = 0;
    const fetch = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return 'tok';
    };
    const all = await Promise.all([cache.shared('k', fetch), cache.shared('k', fetch), cache.shared('k', fetch)]);
    expect(all).toEqual(['tok', 'tok', 'tok']);
    expect(calls).toBe(1);
    await cache.shared('k', fetch);
    expect(calls).toBe(2);
  });
});

describe('upload URLs', () => {
  test.each([
    ['http://r/v2/a/blobs/uploads/u?_state=abc%3D', 'http://r/v2/a/blobs/uploads/u?_state=abc%3D&digest=sha256%3Aff'],
    ['http://r/v2/a/blobs/uploads/u', 'http://r/v2/a/blobs/uploads/u?digest=sha256%3Aff'],
  ])('digest appended without touching the registry state: %s', (loc, expected) => {
    expect(withDigestParam(loc, 'sha256:ff')).toBe(expected);
  });
});
