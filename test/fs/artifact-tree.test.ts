import { describe, expect, test } from 'vitest';
import { MAX_DIRECTORIES, buildArtifactTree, type DirectoryEntry, type TreeEntry } from '../../src/fs/artifact-tree.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType, type Descriptor, type ParsedManifest } from '../../src/oci/types.js';

function hex(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** A layer whose digest encodes `n`; `title` undefined means no annotation at all. */
function layer(n: number, title?: string, extra: Record<string, string> = {}, mediaType = 'text/plain'): Descriptor {
  return {
    mediaType,
    digest: `sha256:${hex(n)}`,
    size: n,
    annotations: { ...(title !== undefined ? { [Annotation.Title]: title } : {}), ...extra },
  };
}

function manifest(layers: Descriptor[]): ParsedManifest {
  return { kind: 'manifest', mediaType: MediaType.ImageManifest, manifest: { schemaVersion: 2, config: EMPTY_DESCRIPTOR, layers } };
}

/** The tree as `path -> digest number` (files), `path/` (directories), `path/@` (packed dirs). */
function flatten(dir: DirectoryEntry, prefix = ''): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [name, entry] of dir.children) {
    const path = prefix + name;
    const e: TreeEntry = entry;
    if (e.kind === 'dir') Object.assign(out, { [path + '/']: 'dir' }, flatten(e, path + '/'));
    else out[e.kind === 'packed-dir' ? path + '/@' : path] = parseInt(e.descriptor.digest.slice(7), 16);
  }
  return out;
}

const short = (n: number) => `sha256-${hex(n).slice(0, 12)}`;

describe('layer placement (first in manifest order wins; losers get digest names at the root)', () => {
  test.each<[string, Descriptor[], Record<string, number | string>]>([
    ['plain titles', [layer(1, 'a.tif'), layer(2, 'b.json')], { 'a.tif': 1, 'b.json': 2 }],
    ['nested titles share directories', [layer(1, 'd/x'), layer(2, 'd/y'), layer(3, 'd/e/z')], { 'd/': 'dir', 'd/x': 1, 'd/y': 2, 'd/e/': 'dir', 'd/e/z': 3 }],
    ['no title', [layer(1)], { [`${short(1)}.txt`]: 1 }],
    ['model file path', [layer(1, undefined, { [Annotation.ModelFilepath]: 'w/model.bin' })], { 'w/': 'dir', 'w/model.bin': 1 }],
    ['absolute title', [layer(1, '/etc/passwd')], { [`${short(1)}.txt`]: 1 }],
    ['dot-dot title', [layer(1, '../../x')], { [`${short(1)}.txt`]: 1 }],
    ['empty title', [layer(1, '')], { [`${short(1)}.txt`]: 1 }],
    ['NUL in title', [layer(1, 'a\u0000b')], { [`${short(1)}.txt`]: 1 }],
    ['duplicate title: the first keeps it', [layer(1, 'same'), layer(2, 'same')], { same: 1, [`${short(2)}.txt`]: 2 }],
    ['file then directory of the same name', [layer(1, 'a'), layer(2, 'a/b')], { a: 1, [`${short(2)}.txt`]: 2 }],
    ['directory then file of the same name', [layer(1, 'a/b'), layer(2, 'a')], { 'a/': 'dir', 'a/b': 1, [`${short(2)}.txt`]: 2 }],
    [
      'the same blob twice with one title',
      [layer(1, 'x'), layer(1, 'x')],
      { x: 1, [`${short(1)}.txt`]: 1 },
    ],
    [
      'a title that claims a digest name pushes the untitled layer to the full hex',
      [layer(1, `${short(2)}.txt`), layer(2)],
      { [`${short(2)}.txt`]: 1, [`sha256-${hex(2)}.txt`]: 2 },
    ],
    [
      'same digest, no titles: short, full, positional',
      [layer(5), layer(5), layer(5)],
      { [`${short(5)}.txt`]: 5, [`sha256-${hex(5)}.txt`]: 5, [`sha256-${hex(5)}-2.txt`]: 5 },
    ],
    [
      'trailing slash is tolerated',
      [layer(1, 'dir/')],
      { dir: 1 },
    ],
    [
      'ORAS directory layer is an opaque directory',
      [layer(1, 'data', { [Annotation.OrasUnpack]: 'true' }, MediaType.ImageLayerGzip), layer(2, 'data/inside')],
      { 'data/@': 1, [`${short(2)}.txt`]: 2 },
    ],
    [
      'an ORAS directory layer that loses its title is its raw tarball',
      [layer(1, 'data'), layer(2, 'data', { [Annotation.OrasUnpack]: 'true' }, MediaType.ImageLayerGzip)],
      { data: 1, [`${short(2)}.tar.gz`]: 2 },
    ],
  ])('%s', (_name, layers, expected) => {
    expect(flatten(buildArtifactTree(manifest(layers)).root)).toEqual(expected);
  });

  test('renamed entries say why', () => {
    const tree = buildArtifactTree(manifest([layer(1, 'a'), layer(2, 'a'), layer(3, '../x'), layer(4)]));
    expect(tree.renamed.map((r) => [r.requested, r.why])).toEqual([
      ['a', 'taken'],
      ['../x', 'unusable-title'],
      [undefined, 'no-title'],
    ]);
  });

  test('every fallback name taken by earlier hostile titles: hidden, not shadowing', () => {
    const victim = layer(9);
    const names = [`${short(9)}.txt`, `sha256-${hex(9)}.txt`, `sha256-${hex(9)}-3.txt`];
    const tree = buildArtifactTree(manifest([layer(1, names[0]), layer(2, names[1]), layer(3, names[2]), victim]));
    expect(flatten(tree.root)).toEqual({ [names[0]!]: 1, [names[1]!]: 2, [names[2]!]: 3 });
    expect(tree.hidden).toEqual([victim]);
  });
});

describe('hostile sizes of manifests', () => {
  test('30,000 layers with duplicate titles build (no quadratic blow-up: the test timeout guards it)', () => {
    const layers = Array.from({ length: 30_000 }, (_, i) => layer(i + 1, i % 2 === 0 ? `f${i}` : 'dup'));
    const tree = buildArtifactTree(manifest(layers));
    expect(tree.root.children.size).toBe(30_000);
    expect(tree.root.children.get('dup')).toMatchObject({ kind: 'file', descriptor: { size: 2 } });
  });

  test('deep titles are bounded by the directory budget', () => {
    const deep = (n: number) => `d${n}/` + 'x/'.repeat(1000) + 'f';
    const layers = Array.from({ length: 300 }, (_, i) => layer(i + 1, deep(i)));
    const tree = buildArtifactTree(manifest(layers));
    const placed = [...tree.root.children.keys()].filter((k) => k.startsWith('d')).length;
    expect(placed).toBe(Math.floor(MAX_DIRECTORIES / 1001));
    expect(tree.renamed.every((r) => r.why === 'too-many-directories')).toBe(true);
    expect(tree.root.children.size).toBe(300);
  });

  test('a size of 2^53-1 is kept as it is', () => {
    const huge = { ...layer(1, 'big'), size: Number.MAX_SAFE_INTEGER };
    expect(buildArtifactTree(manifest([huge])).root.children.get('big')).toMatchObject({ descriptor: { size: Number.MAX_SAFE_INTEGER } });
  });
});

describe('index children', () => {
  const child = (n: number, extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: MediaType.ImageManifest,
    digest: `sha256:${hex(n)}`,
    size: 100,
    ...extra,
  });
  const index = (manifests: Descriptor[]): ParsedManifest => ({
    kind: 'index',
    mediaType: MediaType.ImageIndex,
    index: { schemaVersion: 2, manifests },
  });

  test.each<[string, Descriptor[], string[]]>([
    ['platforms', [child(1, { platform: { os: 'linux', architecture: 'amd64' } }), child(2, { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } })], ['linux-amd64', 'linux-arm-v7']],
    ['title and ref.name', [child(1, { annotations: { [Annotation.Title]: 'cog' } }), child(2, { annotations: { [Annotation.RefName]: 'stac' } })], ['cog', 'stac']],
    ['nothing: digest', [child(1)], [short(1)]],
    ['duplicate platforms', [child(1, { platform: { os: 'unknown', architecture: 'unknown' } }), child(2, { platform: { os: 'unknown', architecture: 'unknown' } })], ['unknown-unknown', short(2)]],
    ['unsafe title', [child(1, { annotations: { [Annotation.Title]: '../../etc' } })], [short(1)]],
  ])('%s', (_name, children, names) => {
    const tree = buildArtifactTree(index(children));
    expect([...tree.root.children.keys()]).toEqual(names);
    expect([...tree.root.children.values()].every((e) => e.kind === 'child-manifest')).toBe(true);
  });
});
