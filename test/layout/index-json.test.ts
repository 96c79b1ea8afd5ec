import { describe, expect, test } from 'vitest';
import {
  emptyIndex,
  serializeIndex,
  tagsOf,
  withTag,
  withUntagged,
  withoutRefName,
  withoutTag,
} from '../../src/layout/index-json.js';
import { Annotation, MediaType, type Descriptor, type ImageIndex } from '../../src/oci/types.js';

const REF = Annotation.RefName;
const desc = (hexChar: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: MediaType.ImageManifest,
  digest: `sha256:${hexChar.repeat(64)}`,
  size: 100,
  ...extra,
});
const tagged = (d: Descriptor, tag: string): Descriptor => ({ ...d, annotations: { ...d.annotations, [REF]: tag } });
const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, manifests });

const A = desc('a');
const B = desc('b');

describe('index.json rules', () => {
  test.each<[string, ImageIndex, (i: ImageIndex) => ImageIndex, Descriptor[]]>([
    ['tag on an empty index appends', index(), (i) => withTag(i, A, 'v1'), [tagged(A, 'v1')]],
    ['a second tag on the same manifest is a second entry', index(tagged(A, 'v1')), (i) => withTag(i, A, 'latest'), [tagged(A, 'v1'), tagged(A, 'latest')]],
    ['retagging moves the tag in place', index(tagged(A, 'v1'), tagged(B, 'v2')), (i) => withTag(i, B, 'v1'), [tagged(B, 'v1'), tagged(B, 'v2')]],
    ['the moved-from manifest is no longer listed', index(tagged(A, 'v1')), (i) => withTag(i, B, 'v1'), [tagged(B, 'v1')]],
    ['tagging drops the untagged duplicate', index(A, tagged(B, 'x')), (i) => withTag(i, A, 'v1'), [tagged(B, 'x'), tagged(A, 'v1')]],
    ['untagged entries of other manifests are kept', index(B), (i) => withTag(i, A, 'v1'), [B, tagged(A, 'v1')]],
    ['a stale ref name on the descriptor is replaced', index(), (i) => withTag(i, tagged(A, 'old'), 'new'), [tagged(A, 'new')]],
    ['data is not copied into the index', index(), (i) => withTag(i, desc('a', { data: 'e30=' }), 'v1'), [tagged(A, 'v1')]],
    ['push by digest adds an untagged entry', index(tagged(B, 'v1')), (i) => withUntagged(i, A), [tagged(B, 'v1'), A]],
    ['push by digest of a listed manifest changes nothing', index(tagged(A, 'v1')), (i) => withUntagged(i, A), [tagged(A, 'v1')]],
    ['untag removes the entry', index(tagged(A, 'v1'), tagged(A, 'v2')), (i) => withoutTag(i, 'v1'), [tagged(A, 'v2')]],
    ['untag of an absent tag changes nothing', index(tagged(A, 'v1')), (i) => withoutTag(i, 'nope'), [tagged(A, 'v1')]],
  ])('%s', (_name, before, change, after) => {
    expect(change(before).manifests).toEqual(after);
  });

  test('other annotations and fields survive tagging', () => {
    const rich = desc('a', { artifactType: 'application/x.t', annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' } });
    const [entry] = withTag(emptyIndex(), rich, 'v1').manifests;
    expect(entry).toEqual({ ...rich, annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', [REF]: 'v1' } });
    expect(withoutRefName(entry!)).toEqual(rich);
  });

  test('tagsOf lists valid tags only, sorted and unique', () => {
    const i = index(tagged(A, 'v2'), tagged(B, 'v1'), tagged(A, '../etc'), tagged(B, 'docker.io/library/x:1'), A, tagged(B, 'v1'));
    expect(tagsOf(i, (t) => /^[\w][\w.-]{0,127}$/.test(t))).toEqual(['v1', 'v2']);
  });

  test('serializeIndex writes compact JSON in the image-spec field order', () => {
    const i: ImageIndex = {
      manifests: [{ size: 2, digest: A.digest, annotations: { [REF]: 'v1' }, mediaType: MediaType.ImageManifest, artifactType: 'application/x.t' }],
      mediaType: MediaType.ImageIndex,
      schemaVersion: 2,
    };
    expect(serializeIndex(i).toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${A.digest}","size":2,"annotations":{"org.opencontainers.image.ref.name":"v1"},"artifactType":"application/x.t"}]}`,
    );
    expect(serializeIndex(emptyIndex()).toString()).toBe('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
  });
});
