import { describe, expect, test } from 'vitest';
import { cleanPath, parsePackInput, titleBase, titleProblem } from '../../src/pack/inputs.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('parsePackInput (FILE[:MEDIATYPE])', () => {
  test.each([
    ['data/imagery.tif', { path: 'data/imagery.tif' }],
    ['data/imagery.tif:image/tiff', { path: 'data/imagery.tif', mediaType: 'image/tiff' }],
    ['data/stac_item.json:application/geo+json', { path: 'data/stac_item.json', mediaType: 'application/geo+json' }],
    ['x.tif:image/tiff; application=geotiff; profile=cloud-optimized', { path: 'x.tif', mediaType: 'image/tiff; application=geotiff; profile=cloud-optimized' }],
    ['cfg.json:application/vnd.oci.artifact.config.v1+json', { path: 'cfg.json', mediaType: 'application/vnd.oci.artifact.config.v1+json' }],
    // the last ':' only counts when a media type follows
    ['a:b', { path: 'a:b' }],
    ['2024-01-01T10:00:00.tif', { path: '2024-01-01T10:00:00.tif' }],
    ['dir:with/slash', { path: 'dir:with/slash' }],
    ['scene:2024/b04.tif', { path: 'scene:2024/b04.tif' }],
    ['f.bin:x-custom/thing', { path: 'f.bin', mediaType: 'x-custom/thing' }],
    ['sbom.spdx:example/sbom', { path: 'sbom.spdx', mediaType: 'example/sbom' }],
    ['m.glb:model/gltf-binary', { path: 'm.glb', mediaType: 'model/gltf-binary' }],
    ['a:b:text/plain', { path: 'a:b', mediaType: 'text/plain' }],
    // a trailing ':' means "no media type" (ORAS's escape): the rest is the path, colons and all
    ['hi:txt:', { path: 'hi:txt' }],
    ['a:text/plain:', { path: 'a:text/plain' }],
    ['file:', { path: 'file' }],
    ['./data/', { path: './data/' }],
  ])('%j', (text, expected) => {
    expect(parsePackInput(text)).toEqual(expected);
  });

  test.each(['', ':', ':text/plain'])('refuses %j', (text) => {
    expect(() => parsePackInput(text)).toThrow(InvalidArgumentError);
  });
});

describe('cleanPath (Go filepath.Clean)', () => {
  test.each([
    ['', '.'],
    ['.', '.'],
    ['./data/', 'data'],
    ['data//x/./y', 'data/x/y'],
    ['a/../b', 'b'],
    ['a/../../b', '../b'],
    ['/abs/./x/', '/abs/x'],
    ['/', '/'],
  ])('%j -> %j', (path, cleaned) => {
    expect(cleanPath(path)).toBe(cleaned);
  });
});

describe('titleBase (ORAS titles; relative to the parent when the path cannot be one)', () => {
  test.each([
    ['data/imagery.tif', '/w/data/imagery.tif', 'data/imagery.tif'],
    ['./data/imagery.tif', '/w/data/imagery.tif', 'data/imagery.tif'],
    ['data', '/w/data', 'data'],
    ['./data/', '/w/data', 'data'],
    ['.', '/w', ''],
    ['/srv/eo/data', '/srv/eo/data', 'data'],
    ['/srv/eo/img.tif', '/srv/eo/img.tif', 'img.tif'],
    ['../x/img.tif', '/x/img.tif', 'img.tif'],
    ['..', '/home/me', 'me'],
    ['/', '/', ''],
  ])('%j', (given, absolute, title) => {
    expect(titleBase(given, absolute)).toBe(title);
  });
});

describe('titleProblem', () => {
  test.each([
    ['data/imagery.tif', undefined],
    ['a b/ü.txt', undefined],
    ['', 'it is empty'],
    ['/etc/passwd', 'it is absolute'],
    ['../x', 'it has an empty, "." or ".." component'],
    ['a/./b', 'it has an empty, "." or ".." component'],
    ['a//b', 'it has an empty, "." or ".." component'],
    ['a/', 'it has an empty, "." or ".." component'],
    ['a\0b', 'it contains a NUL character'],
  ])('%j', (title, problem) => {
    expect(titleProblem(title)).toBe(problem);
  });
});
