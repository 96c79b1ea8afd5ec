/**
 * buildManifest against fixed vectors.
 *
 * Real ORAS output (bytes and digest published by the ORAS project):
 * - oras-project/oras docs/proposals/formatted-output.md: `oras push ... sbom.spdx vul-scan.json`
 *   reports digest sha256:4a5b8c83... (820 bytes) for the manifest shown there, and the pull
 *   example's sha256:7414904f... is the same manifest with created 2023-12-13T15:08:49Z.
 * - oras-project/oras cmd/oras/root/cp_test.go: the empty artifact (no files) manifest
 *   sha256:1bb05379... that oras-go PackManifest writes without a created annotation.
 *
 * Derived from the oras-go source (pack.go packManifestV1_1_RC4 / packManifestV1_0, the
 * image-spec v1.1 structs, encoding/json rules; digests computed over the hand-written bytes):
 * the seed workflow, a v1.0 manifest with --config, and $config annotations with escaping.
 */
import { describe, expect, test } from 'vitest';
import { buildManifest, UNKNOWN_ARTIFACT_TYPE } from '../../src/pack/manifest.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType, type Descriptor } from '../../src/oci/types.js';

const E = EMPTY_DESCRIPTOR.digest;
const M = MediaType.ImageManifest;
const EMPTY_CONFIG = `{"mediaType":"application/vnd.oci.empty.v1+json","digest":"${E}","size":2,"data":"e30="}`;
const d = (c: string) => `sha256:${c.repeat(64)}`;
const titled = (mediaType: string, digest: string, size: number, title: string): Descriptor => ({
  mediaType,
  digest,
  size,
  annotations: { [Annotation.Title]: title },
});

const orasDocLayers = [
  titled(MediaType.ImageLayer, 'sha256:6cb759c4296e67e35b0367f3c0f51dfdb776a0c99a45f39d0476e43d82696d65', 14477, 'sbom.spdx'),
  titled(MediaType.ImageLayer, 'sha256:54c0e84503c8790e03afe34bfc05a5ce45c933430cfd9c5f8a99d2c89f1f1b69', 6639, 'scan-test-verify-image.json'),
];

describe('buildManifest: real ORAS output', () => {
  test.each([
    ['2023-12-15T09:41:54Z', 'sha256:4a5b8c83d153f52afdfcb422db56c2349aae3bd5ecf8338a58353b5eb6681c45'],
    ['2023-12-13T15:08:49Z', 'sha256:7414904f07f515f48fe4afeaf876e3151039a81e7177b9c66e9e7ed6dd18669b'],
  ])('two files, default media type, created %s', (created, digest) => {
    const built = buildManifest({ layers: orasDocLayers, annotations: { [Annotation.Created]: created } });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","artifactType":"application/vnd.unknown.artifact.v1","config":${EMPTY_CONFIG},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:6cb759c4296e67e35b0367f3c0f51dfdb776a0c99a45f39d0476e43d82696d65","size":14477,"annotations":{"org.opencontainers.image.title":"sbom.spdx"}},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:54c0e84503c8790e03afe34bfc05a5ce45c933430cfd9c5f8a99d2c89f1f1b69","size":6639,"annotations":{"org.opencontainers.image.title":"scan-test-verify-image.json"}}],"annotations":{"org.opencontainers.image.created":"${created}"}}`,
    );
    expect(built.descriptor).toEqual({
      mediaType: M,
      digest,
      size: 820,
      annotations: { [Annotation.Created]: created },
      artifactType: UNKNOWN_ARTIFACT_TYPE,
    });
    expect(built.usesEmptyBlob).toBe(true);
  });

  test('no files: the empty descriptor is the single layer', () => {
    const built = buildManifest({ layers: [] });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","artifactType":"application/vnd.unknown.artifact.v1","config":${EMPTY_CONFIG},"layers":[${EMPTY_CONFIG}]}`,
    );
    expect(built.descriptor.digest).toBe('sha256:1bb053792feb8d8d590001c212f2defad9277e091d2aa868cde2879ff41abb1b');
    expect(built.descriptor.size).toBe(461);
  });
});

describe('buildManifest: derived from oras-go', () => {
  test('the seed workflow: explicit media types and artifact type (oras push --artifact-type ... f:type ...)', () => {
    const built = buildManifest({
      artifactType: 'application/vnd.my-earth-observation-product.v1',
      layers: [
        titled('image/tiff', d('1'), 10485760, 'data/imagery.tif'),
        titled('application/geo+json', d('2'), 2048, 'data/stac_item.json'),
        titled('application/vnd.oci.artifact.config.v1+json', d('3'), 3, 'data/config.json'),
      ],
      annotations: { [Annotation.Created]: '2025-01-01T00:00:00Z' },
    });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","artifactType":"application/vnd.my-earth-observation-product.v1","config":${EMPTY_CONFIG},"layers":[{"mediaType":"image/tiff","digest":"${d('1')}","size":10485760,"annotations":{"org.opencontainers.image.title":"data/imagery.tif"}},{"mediaType":"application/geo+json","digest":"${d('2')}","size":2048,"annotations":{"org.opencontainers.image.title":"data/stac_item.json"}},{"mediaType":"application/vnd.oci.artifact.config.v1+json","digest":"${d('3')}","size":3,"annotations":{"org.opencontainers.image.title":"data/config.json"}}],"annotations":{"org.opencontainers.image.created":"2025-01-01T00:00:00Z"}}`,
    );
    expect(built.descriptor.digest).toBe('sha256:32ef5d0769bb14165c576d904e781c9431e9ca651d0fef287371fe9e1c43090f');
    expect(built.descriptor.size).toBe(1008);
  });

  test('--config without --artifact-type: an image-spec v1.0 manifest (no artifactType)', () => {
    const config = { mediaType: 'application/vnd.oci.artifact.config.v1+json', digest: d('4'), size: 3 };
    const built = buildManifest({
      config,
      layers: [titled('text/plain', d('5'), 3, 'hi.txt')],
      annotations: { [Annotation.Created]: '2024-07-18T14:43:47Z' },
      configAnnotations: { ignored: 'a given config carries its own annotations' },
    });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","config":{"mediaType":"application/vnd.oci.artifact.config.v1+json","digest":"${d('4')}","size":3},"layers":[{"mediaType":"text/plain","digest":"${d('5')}","size":3,"annotations":{"org.opencontainers.image.title":"hi.txt"}}],"annotations":{"org.opencontainers.image.created":"2024-07-18T14:43:47Z"}}`,
    );
    expect(built.descriptor.digest).toBe('sha256:74289d5785a42ca043201d22514a9ff5248a71f9a026b1f2a157ea8526ade2f5');
    // oras-go returns the config media type as the descriptor's artifactType for v1.0
    expect(built.descriptor.artifactType).toBe('application/vnd.oci.artifact.config.v1+json');
    expect(built.usesEmptyBlob).toBe(false);
    // v1.0 with no files: an empty layers array, no placeholder layer
    expect(buildManifest({ config, layers: [] }).bytes.toString()).toContain('"layers":[]');
  });

  test('$config annotations, sorted annotation maps and Go escaping', () => {
    const built = buildManifest({
      artifactType: 'application/vnd.example+type',
      configAnnotations: { 'com.example.b': '2', 'com.example.a': '1' },
      layers: [{ mediaType: 'application/octet-stream', digest: d('6'), size: 0, annotations: { [Annotation.Title]: 'r&d/<x>.bin', 'eo:band': 'B04' } }],
      annotations: { key1: 'val1', [Annotation.Created]: '2024-07-18T14:43:47Z', A: 'é' },
    });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","artifactType":"application/vnd.example+type","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"${E}","size":2,"annotations":{"com.example.a":"1","com.example.b":"2"},"data":"e30="},"layers":[{"mediaType":"application/octet-stream","digest":"${d('6')}","size":0,"annotations":{"eo:band":"B04","org.opencontainers.image.title":"r\\u0026d/\\u003cx\\u003e.bin"}}],"annotations":{"A":"é","key1":"val1","org.opencontainers.image.created":"2024-07-18T14:43:47Z"}}`,
    );
    expect(built.descriptor.digest).toBe('sha256:638231b8b4dd511d419a88c11e9f80ad60f25fd0274b810f2c89f87ef087d6fe');
  });

  test('--config with --artifact-type: v1.1 with that config', () => {
    const config = { mediaType: 'application/vnd.example.config+json', digest: d('7'), size: 9 };
    const built = buildManifest({ artifactType: 'application/vnd.example', config, layers: [] });
    expect(built.bytes.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${M}","artifactType":"application/vnd.example","config":{"mediaType":"application/vnd.example.config+json","digest":"${d('7')}","size":9},"layers":[${EMPTY_CONFIG}]}`,
    );
    expect(built.usesEmptyBlob).toBe(true);
  });

  test.each<[string, Parameters<typeof buildManifest>[0], RegExp]>([
    ['a created time that is not RFC 3339', { layers: [], annotations: { [Annotation.Created]: 'yesterday' } }, /RFC 3339/],
    ['an artifact type that is no media type', { layers: [], artifactType: 'not a type' }, /artifact type/],
    ['a layer media type that is no media type', { layers: [{ mediaType: 'tiff', digest: d('1'), size: 1 }] }, /media type "tiff"/],
  ])('refuses %s', (_name, spec, message) => {
    expect(() => buildManifest(spec)).toThrow(InvalidArgumentError);
    expect(() => buildManifest(spec)).toThrow(message);
  });
});
