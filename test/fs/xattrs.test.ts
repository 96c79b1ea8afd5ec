import { describe, expect, test } from 'vitest';
import { artifactTypeOf, layerXattrs, manifestXattrs } from '../../src/fs/xattrs.js';
import { EMPTY_DESCRIPTOR, MediaType, type ParsedManifest } from '../../src/oci/types.js';

const digest = `sha256:${'a'.repeat(64)}`;

function manifest(extra: { artifactType?: string; configType?: string; annotations?: Record<string, string> } = {}): ParsedManifest {
  return {
    kind: 'manifest',
    mediaType: MediaType.ImageManifest,
    manifest: {
      schemaVersion: 2,
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
      config: { ...EMPTY_DESCRIPTOR, mediaType: extra.configType ?? MediaType.Empty },
      layers: [],
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
  };
}

describe('artifactTypeOf', () => {
  test.each<[string, ParsedManifest, string | undefined]>([
    ['artifactType', manifest({ artifactType: 'application/vnd.example.eo.v1', configType: 'application/x' }), 'application/vnd.example.eo.v1'],
    ['config media type', manifest({ configType: 'application/vnd.cncf.helm.config.v1+json' }), 'application/vnd.cncf.helm.config.v1+json'],
    ['empty config: none', manifest(), undefined],
    ['index with artifactType', { kind: 'index', mediaType: MediaType.ImageIndex, index: { schemaVersion: 2, manifests: [], artifactType: 'a/b' } }, 'a/b'],
    ['index without', { kind: 'index', mediaType: MediaType.ImageIndex, index: { schemaVersion: 2, manifests: [] } }, undefined],
  ])('%s', (_name, parsed, expected) => {
    expect(artifactTypeOf(parsed)).toBe(expected);
  });
});

describe('layer and manifest attributes', () => {
  test('layer: digest, media type, annotations', () => {
    const x = layerXattrs({ mediaType: 'image/tiff', digest, size: 1, annotations: { 'eo:band': 'red' } });
    expect([...x]).toEqual([
      ['user.oci.digest', digest],
      ['user.oci.mediatype', 'image/tiff'],
      ['user.oci.annotation.eo:band', 'red'],
    ]);
  });

  test('manifest: digest, media type, artifact type, annotations', () => {
    const x = manifestXattrs({ mediaType: MediaType.ImageManifest, digest, size: 9 }, manifest({ artifactType: 't/x', annotations: { k: 'v' } }));
    expect([...x.keys()]).toEqual(['user.oci.manifest.digest', 'user.oci.manifest.mediatype', 'user.oci.artifacttype', 'user.oci.annotation.k']);
  });

  test.each([
    ['a name over 255 bytes', { ['k'.repeat(240)]: 'v' }],
    ['a value over 64 KiB', { big: 'v'.repeat(65537) }],
    ['a NUL in the key', { 'a\u0000b': 'v' }],
  ])('%s is left out', (_name, annotations) => {
    const x = layerXattrs({ mediaType: 'text/plain', digest, size: 1, annotations });
    expect([...x.keys()]).toEqual(['user.oci.digest', 'user.oci.mediatype']);
  });
});
