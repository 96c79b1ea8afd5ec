import { describe, expect, test } from 'vitest';
import { InvalidReferenceError } from '../../src/errors.js';
import {
  formatReference,
  isLocalRegistry,
  isValidRepository,
  isValidTag,
  parseReference,
  parseRegistryHost,
  registryEndpoint,
  type Reference,
} from '../../src/ref/index.js';

const SHA256 = 'sha256:' + 'a'.repeat(64);
const SHA512 = 'sha512:' + '0123456789abcdef'.repeat(8);

describe('parseReference: valid references', () => {
  const cases: Array<[string, Reference]> = [
    // Docker Hub normalisation
    ['ubuntu', { registry: 'docker.io', repository: 'library/ubuntu' }],
    ['ubuntu:22.04', { registry: 'docker.io', repository: 'library/ubuntu', tag: '22.04' }],
    ['library/ubuntu', { registry: 'docker.io', repository: 'library/ubuntu' }],
    ['docker.io/ubuntu', { registry: 'docker.io', repository: 'library/ubuntu' }],
    ['docker.io/library/ubuntu:latest', { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['index.docker.io/ubuntu', { registry: 'docker.io', repository: 'library/ubuntu' }],
    ['index.docker.io/user/app:v1', { registry: 'docker.io', repository: 'user/app', tag: 'v1' }],
    ['user/app', { registry: 'docker.io', repository: 'user/app' }],
    ['user/nested/app', { registry: 'docker.io', repository: 'user/nested/app' }],
    // registries: dots, ports, localhost, IPv4, IPv6
    ['ghcr.io/org/repo:v1', { registry: 'ghcr.io', repository: 'org/repo', tag: 'v1' }],
    ['ghcr.io/repo', { registry: 'ghcr.io', repository: 'repo' }],
    ['localhost/repo', { registry: 'localhost', repository: 'repo' }],
    ['localhost:5000/eo/products:v1', { registry: 'localhost:5000', repository: 'eo/products', tag: 'v1' }],
    ['127.0.0.1:5000/eo/products', { registry: '127.0.0.1:5000', repository: 'eo/products' }],
    ['myhost:5000/repo', { registry: 'myhost:5000', repository: 'repo' }],
    ['[::1]:5000/repo:tag', { registry: '[::1]:5000', repository: 'repo', tag: 'tag' }],
    ['[::1]/repo', { registry: '[::1]', repository: 'repo' }],
    ['[2001:db8::1]:443/a/b', { registry: '[2001:db8::1]:443', repository: 'a/b' }],
    ['Registry.Example.COM/repo', { registry: 'Registry.Example.COM', repository: 'repo' }],
    ['my-registry.example.com:65535/a', { registry: 'my-registry.example.com:65535', repository: 'a' }],
    // digests, tag + digest
    [`repo@${SHA256}`, { registry: 'docker.io', repository: 'library/repo', digest: SHA256 }],
    [`ghcr.io/a/b@${SHA512}`, { registry: 'ghcr.io', repository: 'a/b', digest: SHA512 }],
    [`localhost:5000/a:v1@${SHA256}`, { registry: 'localhost:5000', repository: 'a', tag: 'v1', digest: SHA256 }],
    // repository separators
    ['example.com/a.b/c_d/e__f/g-h/i---j', { registry: 'example.com', repository: 'a.b/c_d/e__f/g-h/i---j' }],
    ['example.com/0/9', { registry: 'example.com', repository: '0/9' }],
    // tags
    ['example.com/r:_', { registry: 'example.com', repository: 'r', tag: '_' }],
    ['example.com/r:V1.2-rc_3', { registry: 'example.com', repository: 'r', tag: 'V1.2-rc_3' }],
    ['example.com/r:' + 'x'.repeat(128), { registry: 'example.com', repository: 'r', tag: 'x'.repeat(128) }],
  ];
  test.each(cases)('%s', (text, expected) => {
    expect(parseReference(text)).toStrictEqual(expected);
  });
});

describe('parseReference: invalid references say what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /reference is empty/],
    ['Foo/bar', /^invalid reference "Foo\/bar": repository must be lowercase$/],
    ['Ubuntu', /repository must be lowercase/],
    ['example.com/Foo/bar', /repository must be lowercase/],
    ['https://ghcr.io/a/b', /remove "https:\/\/"/],
    [' ubuntu', /whitespace/],
    ['ubuntu ', /whitespace/],
    ['a'.repeat(64), /digest without "sha256:"/],
    // registry-only inputs
    ['localhost:5000', /missing repository/],
    ['localhost', /missing repository/],
    ['example.com', /missing repository/],
    ['127.0.0.1:5000', /missing repository/],
    ['[::1]:5000', /missing repository/],
    ['example.com/', /repository is empty/],
    ['localhost:5000/:v1', /repository is empty/],
    // bad registries
    ['example.com:/repo', /empty port/],
    ['example.com:0/repo', /port 0 is out of range/],
    ['example.com:65536/repo', /port 65536 is out of range/],
    ['example.com:http/repo', /port "http" is not a number/],
    ['::1/repo', /more than one ":".*brackets/],
    ['[::1/repo', /"\[" without "\]"/],
    ['[::g]:5000/repo', /not a valid IPv6/],
    ['[fe80::1%eth0]/repo', /not a valid IPv6/],
    ['[::1]x/repo', /after "\]"/],
    ['-bad.example.com/repo', /registry host "-bad.example.com" is invalid/],
    ['bad_host.com/repo', /registry host "bad_host.com" is invalid/],
    [':5000/repo', /no host before ":"/],
    // bad repositories
    ['example.com/a//b', /empty path component/],
    ['example.com/a/', /ends with "\/"/],
    ['/a', /starts with "\/"/],
    ['example.com/-a', /component "-a" is invalid/],
    ['example.com/a-', /component "a-" is invalid/],
    ['example.com/a..b', /component "a..b" is invalid/],
    ['example.com/a___b', /component "a___b" is invalid/],
    ['example.com/a+b', /component "a\+b" is invalid/],
    ['example.com/é', /component "é" is invalid/],
    ['example.com/' + 'a'.repeat(256), /repository is 256 characters long, more than 255/],
    ['example.com/' + 'a'.repeat(250), /is 262 characters long, more than 255/],
    // bad tags
    ['ubuntu:', /tag after ":" is empty/],
    ['ubuntu:.hidden', /tag ".hidden" is invalid/],
    ['ubuntu:-x', /tag "-x" is invalid/],
    ['ubuntu:a/b', /registry port "a" is not a number/],
    ['ubuntu:a+b', /tag "a\+b" is invalid/],
    ['ubuntu:' + 'x'.repeat(129), /tag is 129 characters long, more than 128/],
    // bad digests
    ['ubuntu@', /digest after "@" is empty/],
    ['ubuntu@sha256:abc', /sha256 needs exactly 64 lowercase hex/],
    ['ubuntu@sha256:' + 'A'.repeat(64), /sha256 needs exactly 64 lowercase hex/],
    ['ubuntu@sha512:' + 'a'.repeat(64), /sha512 needs exactly 128/],
    ['ubuntu@md5:' + 'a'.repeat(32), /unsupported algorithm "md5"/],
    ['ubuntu@' + 'a'.repeat(64), /expected ALGORITHM:HEX/],
    [`@${SHA256}`, /repository is empty/],
    [`ubuntu@${SHA256}@${SHA256}`, /invalid digest/],
  ];
  test.each(cases)('%s', (text, message) => {
    let caught: unknown;
    try {
      parseReference(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidReferenceError);
    const err = caught as InvalidReferenceError;
    expect(err.code).toBe('INVALID_REFERENCE');
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`invalid reference ${JSON.stringify(text)}: `)).toBe(true);
  });
});

describe('formatReference', () => {
  const cases: Array<[Reference, string]> = [
    [{ registry: 'docker.io', repository: 'library/ubuntu' }, 'docker.io/library/ubuntu'],
    [{ registry: 'ghcr.io', repository: 'a/b', tag: 'v1' }, 'ghcr.io/a/b:v1'],
    [{ registry: '[::1]:5000', repository: 'a', digest: SHA256 }, `[::1]:5000/a@${SHA256}`],
    [{ registry: 'localhost:5000', repository: 'a', tag: 't', digest: SHA256 }, `localhost:5000/a:t@${SHA256}`],
  ];
  test.each(cases)('%j -> %s', (ref, text) => {
    expect(formatReference(ref)).toBe(text);
    expect(parseReference(text)).toStrictEqual(ref);
  });

  test.each(['ubuntu', 'user/app:v2', `index.docker.io/x/y@${SHA256}`, '127.0.0.1:5000/eo/products:v1'])(
    'format(parse(%s)) is canonical and stable',
    (text) => {
      const canonical = formatReference(parseReference(text));
      expect(formatReference(parseReference(canonical))).toBe(canonical);
    },
  );
});

describe('registryEndpoint', () => {
  test.each([
    ['docker.io', 'registry-1.docker.io'],
    ['index.docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['[::1]:5000', '[::1]:5000'],
  ])('%s -> %s', (registry, endpoint) => {
    expect(registryEndpoint(registry)).toBe(endpoint);
  });
});

describe('isValidRepository', () => {
  test.each([
    ['library/ubuntu', true],
    ['a', true],
    ['a/b/c/d', true],
    ['a.b_c__d-e--f', true],
    ['a'.repeat(255), true],
    ['a'.repeat(256), false],
    ['', false],
    ['A', false],
    ['a/', false],
    ['/a', false],
    ['a//b', false],
    ['a_', false],
    ['_a', false],
    ['a:b', false],
    ['a@b', false],
  ])('%s -> %s', (name, valid) => {
    expect(isValidRepository(name)).toBe(valid);
  });
});

describe('isValidTag', () => {
  test.each([
    ['latest', true],
    ['v1.0.0-rc.1', true],
    ['_', true],
    ['A_b.C-d', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['.x', false],
    ['-x', false],
    ['a:b', false],
    ['a/b', false],
    ['a b', false],
    ['ä', false],
  ])('%s -> %s', (tag, valid) => {
    expect(isValidTag(tag)).toBe(valid);
  });
});

describe('parseRegistryHost', () => {
  test.each([
    ['localhost', 'localhost'],
    ['localhost:5000', 'localhost:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['ghcr.io', 'ghcr.io'],
    ['index.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['[::1]:5000', '[::1]:5000'],
    ['[::1]', '[::1]'],
    ['registry', 'registry'],
  ])('%s -> %s', (text, host) => {
    expect(parseRegistryHost(text)).toBe(host);
  });

  test.each([
    ['', /registry is empty/],
    ['http://localhost:5000', /remove "http:\/\/"/],
    ['localhost:5000/repo', /has no "\/"/],
    ['localhost:', /empty port/],
    ['localhost:99999', /out of range/],
    ['::1', /brackets/],
    ['[::1', /without "\]"/],
    ['[nope]:1', /not a valid IPv6/],
    ['under_score', /host "under_score" is invalid/],
    ['host name', /whitespace/],
  ])('%s is rejected: %s', (text, message) => {
    expect(() => parseRegistryHost(text)).toThrow(InvalidReferenceError);
    expect(() => parseRegistryHost(text)).toThrow(message);
  });
});

describe('isLocalRegistry', () => {
  test.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['LOCALHOST:5000', true],
    ['127.0.0.1', true],
    ['127.0.0.1:41234', true],
    ['127.1.2.3:5000', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['[0:0:0:0:0:0:0:1]:5000', true],
    ['128.0.0.1:5000', false],
    ['10.0.0.1', false],
    ['[::2]:5000', false],
    ['localhost.example.com', false],
    ['127.0.0.1.example.com', false],
    ['docker.io', false],
    ['ghcr.io', false],
  ])('%s -> %s', (registry, local) => {
    expect(isLocalRegistry(registry)).toBe(local);
  });
});
