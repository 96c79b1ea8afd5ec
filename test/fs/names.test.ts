import { describe, expect, test } from 'vitest';
import {
  componentProblem,
  digestFromComponent,
  digestNames,
  extensionFor,
  platformName,
  requestedChildName,
  requestedLayerPath,
  splitTitle,
} from '../../src/fs/names.js';
import type { Descriptor } from '../../src/oci/types.js';

const HEX = 'a'.repeat(12) + 'b'.repeat(52);
const layer = (mediaType: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType,
  digest: `sha256:${HEX}`,
  size: 1,
  ...(annotations ? { annotations } : {}),
});

describe('splitTitle', () => {
  test.each([
    ['imagery.tif', ['imagery.tif']],
    ['dir/sub/file.json', ['dir', 'sub', 'file.json']],
    ['dir/', ['dir']],
    ['名前/ファイル.txt', ['名前', 'ファイル.txt']],
    ['with space/and\\backslash', ['with space', 'and\\backslash']],
    ['...', ['...']],
    ['.hidden', ['.hidden']],
    ['x'.repeat(255), ['x'.repeat(255)]],
  ])('%j is usable', (title, components) => {
    expect(splitTitle(title)).toEqual({ components });
  });

  test.each([
    ['', 'empty'],
    ['/', 'absolute'],
    ['/etc/passwd', 'absolute'],
    ['../x', 'dot'],
    ['a/../../x', 'dot'],
    ['./x', 'dot'],
    ['a/./b', 'dot'],
    ['..', 'dot'],
    ['a//b', 'empty'],
    ['a//', 'empty'],
    ['nul\u0000byte', 'control-character'],
    ['new\nline', 'control-character'],
    ['del\u007f', 'control-character'],
    ['lone\uD800surrogate', 'malformed-unicode'],
    ['x'.repeat(256), 'too-long'],
    ['é'.repeat(128), 'too-long'], // 256 bytes in UTF-8
    [('d/').repeat(2048) + 'f', 'too-long'],
  ])('%j is refused (%s)', (title, problem) => {
    expect(splitTitle(title)).toEqual({ problem });
  });
});

describe('componentProblem', () => {
  test.each([
    ['v1', undefined],
    ['@sha256', undefined],
    ['a/b', 'slash'],
    ['.', 'dot'],
    ['', 'empty'],
    ['tab\there', 'control-character'],
  ])('%j -> %s', (name, problem) => {
    expect(componentProblem(name)).toBe(problem);
  });
});

describe('requestedLayerPath', () => {
  test.each([
    [{ 'org.opencontainers.image.title': 'a.tif' }, 'a.tif'],
    [{ 'org.cnai.model.filepath': 'weights/model.safetensors' }, 'weights/model.safetensors'],
    [{ 'org.opencontainers.image.title': 't', 'org.cnai.model.filepath': 'm' }, 't'],
    [{ other: 'x' }, undefined],
    [undefined, undefined],
  ])('%j -> %j', (annotations, expected) => {
    expect(requestedLayerPath(layer('application/octet-stream', annotations))).toBe(expected);
  });
});

describe('extensionFor', () => {
  test.each([
    ['application/vnd.oci.image.layer.v1.tar', '.tar'],
    ['application/vnd.oci.image.layer.v1.tar+gzip', '.tar.gz'],
    ['application/vnd.oci.image.layer.v1.tar+zstd', '.tar.zst'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', '.tar.gz'],
    ['application/vnd.cncf.helm.chart.content.v1.tar+gzip', '.tar.gz'],
    ['application/vnd.cncf.helm.config.v1+json', '.json'],
    ['image/tiff; application=geotiff; profile=cloud-optimized', '.tif'],
    ['application/geo+json', '.geojson'],
    ['application/json', '.json'],
    ['TEXT/PLAIN', '.txt'],
    ['application/octet-stream', ''],
    ['application/vnd.unknown.thing', ''],
    ['', ''],
  ])('%j -> %j', (mediaType, extension) => {
    expect(extensionFor(mediaType)).toBe(extension);
  });
});

describe('digestNames', () => {
  test('short, full, then positional, each with the extension', () => {
    expect(digestNames(layer('application/vnd.oci.image.layer.v1.tar+gzip'), 7, true)).toEqual([
      `sha256-${'a'.repeat(12)}.tar.gz`,
      `sha256-${HEX}.tar.gz`,
      `sha256-${HEX}-7.tar.gz`,
    ]);
  });
  test('index children get no extension', () => {
    expect(digestNames(layer('application/vnd.oci.image.manifest.v1+json'), 0, false)[0]).toBe(`sha256-${'a'.repeat(12)}`);
  });
  test('sha512 digests', () => {
    const d = { mediaType: 'text/plain', digest: `sha512:${'c'.repeat(128)}`, size: 1 };
    expect(digestNames(d, 0, true)[0]).toBe(`sha512-${'c'.repeat(12)}.txt`);
  });
  test('a malformed digest still gives a safe name', () => {
    const d = { mediaType: 'text/plain', digest: 'sha256:../../etc', size: 1 };
    expect(digestNames(d, 3, true)).toEqual(['entry-3.txt']);
  });
});

describe('index child names', () => {
  test.each([
    [{ os: 'linux', architecture: 'amd64' }, 'linux-amd64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux-arm64-v8'],
    [{ os: '..', architecture: '/' }, undefined],
    [{ os: '', architecture: 'amd64' }, undefined],
    [{ os: 'linux', architecture: 'a/b' }, undefined],
    [undefined, undefined],
  ])('platform %j -> %j', (platform, expected) => {
    expect(platformName(platform as never)).toBe(expected);
  });

  test.each([
    [{ platform: { os: 'linux', architecture: 'amd64' }, annotations: { 'org.opencontainers.image.title': 'x' } }, 'linux-amd64'],
    [{ annotations: { 'org.opencontainers.image.title': 'model' } }, 'model'],
    [{ annotations: { 'org.opencontainers.image.ref.name': 'v1' } }, 'v1'],
    [{ annotations: { 'org.opencontainers.image.title': '../up' } }, undefined],
    [{}, undefined],
  ])('child %j -> %j', (extra, expected) => {
    expect(requestedChildName({ ...layer('application/vnd.oci.image.manifest.v1+json'), ...extra })).toBe(expected);
  });
});

describe('digestFromComponent', () => {
  test.each([
    [`@sha256:${HEX}`, `sha256:${HEX}`],
    [`@sha512:${'c'.repeat(128)}`, `sha512:${'c'.repeat(128)}`],
    [`sha256:${HEX}`, undefined],
    [`@sha256:${HEX.slice(1)}`, undefined],
    [`@sha256:${'c'.repeat(128)}`, undefined],
    [`@sha256:${HEX.toUpperCase()}`, undefined],
    ['@latest', undefined],
  ])('%j -> %j', (component, digest) => {
    expect(digestFromComponent(component)).toBe(digest);
  });
});
