import { describe, expect, test } from 'vitest';
import { rangeLength, requestKind, summarizeRequests } from '../requests.mjs';

describe('requestKind', () => {
  test.each([
    ['/v2/', 'ping'],
    ['/v2/_catalog?n=100', 'catalog'],
    ['/v2/bench/data/tags/list', 'tags'],
    ['/v2/bench/data/manifests/small', 'manifest'],
    ['/v2/bench/data/manifests/sha256:' + 'a'.repeat(64), 'manifest'],
    ['/v2/bench/data/blobs/sha256:' + 'b'.repeat(64), 'blob'],
    ['/v2/bench/data/blobs/uploads/', 'upload'],
    ['/v2/bench/data/blobs/uploads/0f1e-uuid?digest=sha256:abc', 'upload'],
    ['/v2/bench/data/blobs/uploads/?mount=sha256:abc&from=other', 'upload'],
    ['/bench/data/big.bin', 'other'],
  ])('%s -> %s', (path, kind) => {
    expect(requestKind(path)).toBe(kind);
  });
});

test.each([
  ['bytes=0-1023', 1024],
  ['bytes=10-10', 1],
  ['bytes=100-', undefined],
  [undefined, undefined],
])('rangeLength(%s) = %s', (range, n) => {
  expect(rangeLength(range)).toBe(n);
});

test('summarizeRequests totals per kind and the shorthands the targets use', () => {
  const blob = '/v2/r/blobs/sha256:' + 'c'.repeat(64);
  const s = summarizeRequests([
    { method: 'HEAD', path: '/v2/r/manifests/v1', bytesIn: 0, bytesOut: 0 },
    { method: 'GET', path: '/v2/r/manifests/v1', bytesIn: 0, bytesOut: 500 },
    { method: 'GET', path: blob, bytesIn: 0, bytesOut: 4096 },
    { method: 'GET', path: blob, bytesIn: 0, bytesOut: 1024 },
    { method: 'PUT', path: '/v2/r/blobs/uploads/u?digest=x', bytesIn: 700, bytesOut: 0 },
  ]);
  expect(s).toMatchObject({
    requests: 5,
    bytesOut: 5620,
    bytesIn: 700,
    uploadBytes: 700,
    manifestGets: 1,
    manifestHeads: 1,
    blobGets: 2,
    blobBytes: 5120,
    blobResponseSizes: [4096, 1024],
    byKind: { manifest: { HEAD: 1, GET: 1 }, blob: { GET: 2 }, upload: { PUT: 1 } },
  });
});
