import { describe, expect, test } from 'vitest';
import { EMPTY_DESCRIPTOR, MediaType, parseManifest } from '../../src/oci/index.js';
import { assertValidAgainstSchema, type OciSchemaKind } from '../helpers/oci-schema.js';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

const orasManifest = {
  schemaVersion: 2,
  mediaType: MediaType.ImageManifest,
  artifactType: 'application/vnd.example.eo.v1',
  config: EMPTY_DESCRIPTOR,
  layers: [
    { mediaType: 'image/tiff', digest: D1, size: 1234, annotations: { 'org.opencontainers.image.title': 'imagery.tif' } },
    { mediaType: 'application/geo+json', digest: D2, size: 10, annotations: { 'org.opencontainers.image.title': 'stac/item.json' } },
  ],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};

const index = {
  schemaVersion: 2,
  mediaType: MediaType.ImageIndex,
  manifests: [
    { mediaType: MediaType.ImageManifest, digest: D1, size: 500, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.ImageManifest, digest: D2, size: 501, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
  ],
};

const config = {
  created: '2024-01-01T00:00:00Z',
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin'], Labels: null },
  rootfs: { type: 'layers', diff_ids: [D1] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'test' }],
};

describe('assertValidAgainstSchema accepts valid documents', () => {
  const cases: Array<[string, OciSchemaKind, unknown]> = [
    ['an ORAS artifact manifest', 'manifest', orasManifest],
    ['a manifest with subject and urls', 'manifest', { ...orasManifest, subject: { mediaType: MediaType.ImageManifest, digest: D2, size: 3 }, layers: [{ ...orasManifest.layers[0], urls: ['https://example.com/a'] }] }],
    ['a Docker schema2 manifest', 'manifest', { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: { mediaType: MediaType.DockerConfig, digest: D1, size: 1 }, layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D2, size: 2 }] }],
    ['an image index', 'index', index],
    ['an OCI layout index.json', 'index', { schemaVersion: 2, manifests: [] }],
    ['an oci-layout file', 'layout', { imageLayoutVersion: '1.0.0' }],
    ['an image config', 'config', config],
    ['raw manifest bytes', 'manifest', Buffer.from(JSON.stringify(orasManifest))],
  ];
  test.each(cases)('%s', (_name, kind, json) => {
    expect(() => assertValidAgainstSchema(kind, json)).not.toThrow();
  });
});

describe('assertValidAgainstSchema rejects invalid documents with ajv errors', () => {
  const cases: Array<[string, OciSchemaKind, unknown, RegExp]> = [
    ['no layers (image-spec requires at least one)', 'manifest', { ...orasManifest, layers: [] }, /\/layers must NOT have fewer than 1 items/],
    ['no config', 'manifest', { ...orasManifest, config: undefined }, /must have required property 'config'/],
    ['schemaVersion 1', 'manifest', { ...orasManifest, schemaVersion: 1 }, /\/schemaVersion must be >= 2/],
    ['a bad digest', 'manifest', { ...orasManifest, layers: [{ ...orasManifest.layers[0], digest: 'sha256:not hex!' }] }, /\/layers\/0\/digest must match pattern/],
    ['a string size', 'manifest', { ...orasManifest, layers: [{ ...orasManifest.layers[0], size: '12' }] }, /\/layers\/0\/size must be integer/],
    ['a non-string annotation', 'manifest', { ...orasManifest, annotations: { a: 1 } }, /\/annotations\/a must be string/],
    ['a relative url', 'manifest', { ...orasManifest, layers: [{ ...orasManifest.layers[0], urls: ['not a url'] }] }, /\/layers\/0\/urls\/0 must match format "uri"/],
    ['a media type with a space', 'manifest', { ...orasManifest, layers: [{ ...orasManifest.layers[0], mediaType: 'image/ti ff' }] }, /\/layers\/0\/mediaType must match pattern/],
    ['an index entry without size', 'index', { ...index, manifests: [{ mediaType: MediaType.ImageManifest, digest: D1 }] }, /\/manifests\/0 must have required property 'size'/],
    ['a platform without os', 'index', { ...index, manifests: [{ mediaType: MediaType.ImageManifest, digest: D1, size: 1, platform: { architecture: 'amd64' } }] }, /\/manifests\/0\/platform must have required property 'os'/],
    ['an unknown layout version', 'layout', { imageLayoutVersion: '2.0.0' }, /\/imageLayoutVersion must be equal to one of the allowed values/],
    ['a layout file without version', 'layout', {}, /must have required property 'imageLayoutVersion'/],
    ['a config without rootfs', 'config', { ...config, rootfs: undefined }, /must have required property 'rootfs'/],
    ['a config with a bad created time', 'config', { ...config, created: 'yesterday' }, /\/created must match format "date-time"/],
    ['the OCI empty config {} is not an image config', 'config', {}, /must have required property 'architecture'/],
  ];
  test.each(cases)('%s', (_name, kind, json, message) => {
    expect(() => assertValidAgainstSchema(kind, json)).toThrow(message);
  });

  test('the message names the kind and the schema file', () => {
    expect(() => assertValidAgainstSchema('index', { schemaVersion: 2 })).toThrow(/^not a valid OCI index per image-index-schema.json: .*'manifests'/);
  });
});

describe('ocifs validation and the image-spec schemas', () => {
  test('a manifest parseManifest accepts also passes the schema', () => {
    const bytes = Buffer.from(JSON.stringify(orasManifest));
    const parsed = parseManifest(bytes);
    expect(parsed.kind).toBe('manifest');
    assertValidAgainstSchema('manifest', parsed.kind === 'manifest' ? parsed.manifest : undefined);
  });

  // A fact the write path must know: the schema's media type pattern has no parameters, so a
  // layer typed `image/tiff; application=geotiff; ...` (as ORAS users write COGs) fails it,
  // although RFC 6838 and ocifs accept it.
  test('a media type with parameters is valid for ocifs but not for the schema pattern', () => {
    const cog = { ...orasManifest, layers: [{ ...orasManifest.layers[0], mediaType: 'image/tiff; application=geotiff; profile=cloud-optimized' }] };
    expect(parseManifest(Buffer.from(JSON.stringify(cog))).kind).toBe('manifest');
    expect(() => assertValidAgainstSchema('manifest', cog)).toThrow(/\/layers\/0\/mediaType must match pattern/);
  });
});
