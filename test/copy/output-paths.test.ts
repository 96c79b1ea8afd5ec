import { describe, expect, test } from 'vitest';
import { resolve } from 'node:path';
import { outputPathFor, planOutputPaths } from '../../src/copy/output-paths.js';
import type { Descriptor } from '../../src/oci/types.js';

const root = resolve('/tmp/out');
const layer = (title?: string, extra: Record<string, string> = {}): Descriptor => ({
  mediaType: 'application/octet-stream',
  digest: 'sha256:' + 'a'.repeat(64),
  size: 1,
  annotations: title === undefined ? extra : { 'org.opencontainers.image.title': title, ...extra },
});

describe('outputPathFor', () => {
  test.each([
    ['imagery.tif', '/tmp/out/imagery.tif'],
    ['data/stac_item.json', '/tmp/out/data/stac_item.json'],
    ['a/./b', '/tmp/out/a/b'],
    ['a/../b', '/tmp/out/b'],
  ])('%s lands at %s', (title, path) => {
    expect(outputPathFor(title, root)).toBe(path);
  });

  test.each([
    ['', /empty/],
    ['   ', /empty/],
    ['../x', /climbs out/],
    ['a/../../x', /climbs out/],
    ['/etc/passwd', /absolute/],
    ['x\0y', /NUL/],
    ['.', /output directory itself/],
  ])('%j is refused', (title, why) => {
    expect(() => outputPathFor(title, root)).toThrow(why);
  });

  test('--allow-path-traversal lets absolute and climbing titles through', () => {
    expect(outputPathFor('/etc/x', root, true)).toBe('/etc/x');
    expect(outputPathFor('../x', root, true)).toBe('/tmp/x');
  });
});

describe('planOutputPaths', () => {
  test('untitled layers are set aside, titled ones planned in order', () => {
    const plan = planOutputPaths([layer('a.txt'), layer(undefined), layer('d/b.txt')], root);
    expect(plan.files.map((f) => f.path)).toEqual(['/tmp/out/a.txt', '/tmp/out/d/b.txt']);
    expect(plan.untitled).toHaveLength(1);
  });

  test('duplicate titles are refused', () => {
    expect(() => planOutputPaths([layer('a.txt'), layer('./a.txt')], root)).toThrow(/same file/);
  });

  test('a file that is another title\'s directory is refused', () => {
    expect(() => planOutputPaths([layer('a'), layer('a/b')], root)).toThrow(/inside "a"/);
  });

  test('ORAS directory layers are marked for unpacking', () => {
    const plan = planOutputPaths([layer('dir', { 'io.deis.oras.content.unpack': 'true' })], root);
    expect(plan.files[0]!.unpack).toBe(true);
  });
});
