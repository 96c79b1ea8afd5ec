import { describe, expect, test } from 'vitest';
import { InvalidContentError } from '../../src/errors.js';
import {
  EMPTY_DESCRIPTOR,
  MAX_INDEX_JSON_BYTES,
  MAX_MANIFEST_BYTES,
  MediaType,
  formatJsonPath,
  parseDescriptor,
  parseIndexJson,
  parseManifest,
  parseOciLayoutFile,
} from '../../src/oci/index.js';
import { digestOf } from '../../src/ref/index.js';

const enc = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);
const COG = 'image/tiff; application=geotiff; profile=cloud-optimized';

const layer = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  mediaType: COG,
  digest: D1,
  size: 1234,
  annotations: { 'org.opencontainers.image.title': 'imagery.tif' },
  ...over,
});

/** An artifact manifest as `oras push` writes it. */
const orasManifest = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemaVersion: 2,
  mediaType: MediaType.ImageManifest,
  artifactType: 'application/vnd.example.eo.v1',
  config: { ...EMPTY_DESCRIPTOR },
  layers: [layer(), layer({ mediaType: 'application/geo+json', digest: D2, size: 10, annotations: { 'org.opencontainers.image.title': 'stac/item.json' } })],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  ...over,
});

const ociIndex = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schemaVersion: 2,
  mediaType: MediaType.ImageIndex,
  manifests: [
    { mediaType: MediaType.ImageManifest, digest: D1, size: 500, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.ImageManifest, digest: D2, size: 501, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ],
  ...over,
});

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, digest: D1, size: 1469 },
  layers: [{ mediaType: MediaType.DockerLayerGzip, digest: D2, size: 2814446 }],
};

const dockerList = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [{ mediaType: MediaType.DockerManifest, digest: D1, size: 528, platform: { architecture: 'amd64', os: 'linux', features: ['sse4'] } }],
};

function expectInvalid(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidContentError);
  expect((caught as InvalidContentError).code).toBe('INVALID_CONTENT');
  expect((caught as Error).message).toMatch(message);
}

describe('parseManifest: accepted documents', () => {
  const cases: Array<[string, unknown, string | undefined, 'manifest' | 'index', string]> = [
    ['ORAS artifact manifest', orasManifest(), MediaType.ImageManifest, 'manifest', MediaType.ImageManifest],
    ['OCI index', ociIndex(), MediaType.ImageIndex, 'index', MediaType.ImageIndex],
    ['Docker schema2 manifest', dockerManifest, MediaType.DockerManifest, 'manifest', MediaType.DockerManifest],
    ['Docker manifest list', dockerList, MediaType.DockerManifestList, 'index', MediaType.DockerManifestList],
    ['content type with parameters', orasManifest(), `${MediaType.ImageManifest}; charset=utf-8`, 'manifest', MediaType.ImageManifest],
    ['no content type (OCI layout)', orasManifest(), undefined, 'manifest', MediaType.ImageManifest],
    ['generic content type', ociIndex(), 'application/octet-stream', 'index', MediaType.ImageIndex],
    ['no body mediaType: from the content type', orasManifest({ mediaType: undefined }), MediaType.DockerManifest, 'manifest', MediaType.DockerManifest],
    ['no body mediaType, no content type: manifest by shape', orasManifest({ mediaType: undefined }), undefined, 'manifest', MediaType.ImageManifest],
    ['no body mediaType, no content type: index by shape', ociIndex({ mediaType: undefined }), 'application/json', 'index', MediaType.ImageIndex],
    ['no layers at all', orasManifest({ layers: [] }), undefined, 'manifest', MediaType.ImageManifest],
    ['empty index', ociIndex({ manifests: [] }), undefined, 'index', MediaType.ImageIndex],
    ['with subject (a referrer)', orasManifest({ subject: { mediaType: MediaType.ImageManifest, digest: D2, size: 7 } }), undefined, 'manifest', MediaType.ImageManifest],
    ['sha512 digests', orasManifest({ layers: [layer({ digest: 'sha512:' + 'f'.repeat(128) })] }), undefined, 'manifest', MediaType.ImageManifest],
    ['size 0 and max safe size', orasManifest({ layers: [layer({ size: 0 }), layer({ size: Number.MAX_SAFE_INTEGER })] }), undefined, 'manifest', MediaType.ImageManifest],
    ['urls and descriptor artifactType', orasManifest({ layers: [layer({ urls: ['https://example.com/x'], artifactType: 'application/x-y' })] }), undefined, 'manifest', MediaType.ImageManifest],
    ['quoted media type parameter', orasManifest({ layers: [layer({ mediaType: 'text/plain; charset="utf-8"' })] }), undefined, 'manifest', MediaType.ImageManifest],
    ['unknown fields everywhere', orasManifest({ future: { x: 1 }, layers: [layer({ future: [1, 2] })] }), undefined, 'manifest', MediaType.ImageManifest],
    ['annotation key "constructor"', orasManifest({ annotations: { constructor: 'x', toString: 'y' } }), undefined, 'manifest', MediaType.ImageManifest],
  ];
  test.each(cases)('%s', (_name, body, contentType, kind, mediaType) => {
    const parsed = parseManifest(enc(body), contentType);
    expect(parsed.kind).toBe(kind);
    expect(parsed.mediaType).toBe(mediaType);
    const doc = parsed.kind === 'index' ? parsed.index : parsed.manifest;
    expect(doc.schemaVersion).toBe(2);
  });

  test('keeps every known field and drops unknown ones', () => {
    const body = orasManifest({ future: 'x', layers: [layer({ future: 'y', data: undefined })] });
    const parsed = parseManifest(enc(body));
    expect(parsed.kind === 'manifest' && parsed.manifest).toStrictEqual({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: 'application/vnd.example.eo.v1',
      config: { ...EMPTY_DESCRIPTOR },
      layers: [layer()],
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
  });

  test('platform fields of an index entry survive', () => {
    const parsed = parseManifest(enc(ociIndex()));
    expect(parsed.kind === 'index' && parsed.index.manifests[1]?.platform).toStrictEqual({ architecture: 'arm64', os: 'linux', variant: 'v8' });
  });

  test('a descriptor whose data matches its digest and size is accepted', () => {
    const data = Buffer.from('{"hello":"world"}');
    const config = { mediaType: 'application/json', digest: digestOf(data), size: data.length, data: data.toString('base64') };
    const parsed = parseManifest(enc(orasManifest({ config })));
    expect(parsed.kind === 'manifest' && parsed.manifest.config.data).toBe(config.data);
  });

  test('a manifest of ~15,000 titled layers just under 4 MiB parses', () => {
    const layers = Array.from({ length: 15_000 }, (_, i) =>
      layer({ digest: 'sha256:' + i.toString(16).padStart(64, '0'), annotations: { 'org.opencontainers.image.title': `dir/file-${i}.tif` } }),
    );
    const bytes = enc(orasManifest({ layers }));
    expect(bytes.length).toBeLessThan(MAX_MANIFEST_BYTES);
    // No timing assertion (shared, noisy machines): the test timeout catches a pathological parse.
    const parsed = parseManifest(bytes);
    expect(parsed.kind === 'manifest' && parsed.manifest.layers.length).toBe(15_000);
  });
});

describe('parseManifest: rejected documents name what is wrong', () => {
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
  const cases: Array<[string, Uint8Array, string | undefined, RegExp]> = [
    // bytes and JSON
    ['5 MiB body', Buffer.alloc(5 * 1024 * 1024, 0x20), undefined, /it is 5242880 bytes, more than the limit of 4194304 bytes/],
    ['one byte over the limit', Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), undefined, /4194305 bytes, more than the limit/],
    ['empty body', Buffer.alloc(0), undefined, /malformed JSON/],
    ['truncated JSON', Buffer.from('{"schemaVersion": 2, "layers": ['), undefined, /malformed JSON/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), undefined, /not valid UTF-8/],
    ['UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), enc(orasManifest())]), undefined, /malformed JSON/],
    ['JSON array', enc([orasManifest()]), undefined, /expected a JSON object, got an array/],
    ['JSON null', Buffer.from('null'), undefined, /expected a JSON object, got null/],
    ['JSON string', enc('manifest'), undefined, /expected a JSON object, got the string "manifest"/],
    // schemaVersion
    ['schema 1', enc({ schemaVersion: 1, name: 'x', fsLayers: [] }), undefined, /schemaVersion is 1 .*not supported/],
    ['no schemaVersion', enc(orasManifest({ schemaVersion: undefined })), undefined, /schemaVersion: must be 2, got nothing/],
    ['schemaVersion "2"', enc(orasManifest({ schemaVersion: '2' })), undefined, /schemaVersion: must be 2, got the string "2"/],
    ['schemaVersion 3', enc(orasManifest({ schemaVersion: 3 })), undefined, /schemaVersion: must be 2, got the number 3/],
    // media type and shape
    ['mediaType not a string', enc(orasManifest({ mediaType: 5 })), undefined, /mediaType: expected a string, got the number 5/],
    ['mediaType not a media type', enc(orasManifest({ mediaType: 'manifest' })), undefined, /mediaType: "manifest" is not a valid media type/],
    ['OCI artifact manifest', enc(orasManifest({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json' })), undefined, /mediaType "application\/vnd.oci.artifact.manifest.v1\+json" is not a supported manifest media type/],
    ['unknown content type, no body type', enc(orasManifest({ mediaType: undefined })), 'text/html', /Content-Type "text\/html" is not a supported manifest media type/],
    ['body type contradicts content type', enc(orasManifest()), MediaType.DockerManifest, /mediaType "application\/vnd.oci.image.manifest.v1\+json" contradicts the Content-Type/],
    ['index body served as manifest', enc(ociIndex()), MediaType.ImageManifest, /contradicts the Content-Type/],
    ['index mediaType with config and layers', enc(orasManifest({ mediaType: MediaType.ImageIndex })), undefined, /is an index, but the body has "config"\/"layers"/],
    ['manifest mediaType with manifests', enc(ociIndex({ mediaType: MediaType.ImageManifest })), undefined, /is a manifest, but the body has "manifests"/],
    ['index content type, manifest shape', enc(orasManifest({ mediaType: undefined })), MediaType.ImageIndex, /is an index, but the body has "config"/],
    ['both manifests and layers', enc({ ...orasManifest(), manifests: [] }), undefined, /both "manifests" .* and "config"\/"layers" .* ambiguous/],
    ['neither manifests nor layers', enc({ schemaVersion: 2 }), undefined, /neither "manifests" .* nor "config" and "layers"/],
    // structure
    ['config missing', enc(orasManifest({ config: undefined })), undefined, /^invalid manifest: config: is missing \(expected object\)$/],
    ['layers not an array', enc(orasManifest({ layers: {} })), undefined, /layers: expected array, got an object/],
    ['layer is null', enc(orasManifest({ layers: [null] })), undefined, /layers\[0\]: expected object, got null/],
    ['artifactType invalid', enc(orasManifest({ artifactType: 'nope' })), undefined, /artifactType: "nope" is not a valid media type/],
    ['top-level annotation not a string', enc(orasManifest({ annotations: { a: true } })), undefined, /annotations\.a: expected string, got true/],
    ['annotations an array', enc(orasManifest({ annotations: ['x'] })), undefined, /annotations: expected record, got an array/],
    ['subject without digest', enc(orasManifest({ subject: { mediaType: MediaType.ImageManifest, size: 1 } })), undefined, /subject\.digest: is missing/],
    // descriptors
    ['bad digest in layers[3]', enc(orasManifest({ layers: [layer(), layer(), layer(), layer({ digest: 'sha256:xyz' })] })), undefined, /^invalid manifest: layers\[3\]\.digest: invalid digest "sha256:xyz": sha256 needs exactly 64/],
    ['uppercase hex digest', enc(orasManifest({ layers: [layer({ digest: 'sha256:' + 'A'.repeat(64) })] })), undefined, /layers\[0\]\.digest: .*lowercase hex/],
    ['md5 digest', enc(orasManifest({ config: { ...EMPTY_DESCRIPTOR, digest: 'md5:' + 'a'.repeat(32) } })), undefined, /config\.digest: .*unsupported algorithm "md5"/],
    ['huge digest string', enc(orasManifest({ layers: [layer({ digest: 'sha256:' + 'a'.repeat(100_000) })] })), undefined, /layers\[0\]\.digest: digest is 100007 characters long/],
    ['negative size', enc(orasManifest({ layers: [layer({ size: -1 })] })), undefined, /layers\[0\]\.size: must be a non-negative integer, got -1/],
    ['fractional size', enc(orasManifest({ layers: [layer({ size: 1.5 })] })), undefined, /layers\[0\]\.size: must be a non-negative integer, got 1.5/],
    ['size 1e300', Buffer.from(JSON.stringify(orasManifest({ layers: [layer({ size: 7 })] })).replace('"size":7', '"size":1e300')), undefined, /layers\[0\]\.size: 1e\+300 is larger than the largest safe integer/],
    ['size 2^53', Buffer.from(JSON.stringify(orasManifest({ layers: [layer({ size: 7 })] })).replace('"size":7', '"size":9007199254740993')), undefined, /layers\[0\]\.size: 9007199254740992 is larger than the largest safe integer/],
    ['size 1e400 (Infinity)', Buffer.from(JSON.stringify(orasManifest({ layers: [layer({ size: 7 })] })).replace('"size":7', '"size":1e400')), undefined, /layers\[0\]\.size: expected number, got the number Infinity/],
    ['size as a string', enc(orasManifest({ layers: [layer({ size: '1234' })] })), undefined, /layers\[0\]\.size: expected number, got the string "1234"/],
    ['annotation value a number', enc(orasManifest({ layers: [layer({ annotations: { 'org.opencontainers.image.title': 1 } })] })), undefined, /layers\[0\]\.annotations\["org\.opencontainers\.image\.title"\]: expected string, got the number 1/],
    ['annotation value an object', enc(orasManifest({ layers: [layer({ annotations: { k: { v: 1 } } })] })), undefined, /layers\[0\]\.annotations\.k: expected string, got an object/],
    ['__proto__ annotation key', Buffer.from(JSON.stringify(orasManifest()).replace('"annotations":{"org.opencontainers.image.created"', '"annotations":{"__proto__":"x","org.opencontainers.image.created"')), undefined, /annotations\.__proto__: this annotation key is not allowed/],
    ['__proto__ annotation object', Buffer.from(JSON.stringify(orasManifest()).replace('"annotations":{"org.opencontainers.image.created"', '"annotations":{"__proto__":{"polluted":"yes"},"org.opencontainers.image.created"')), undefined, /annotations\.__proto__: this annotation key is not allowed/],
    ['urls not strings', enc(orasManifest({ layers: [layer({ urls: [1] })] })), undefined, /layers\[0\]\.urls\[0\]: expected string, got the number 1/],
    ['platform without os', enc(ociIndex({ manifests: [{ mediaType: MediaType.ImageManifest, digest: D1, size: 1, platform: { architecture: 'amd64' } }] })), undefined, /manifests\[0\]\.platform\.os: is missing/],
    ['empty layer media type', enc(orasManifest({ layers: [layer({ mediaType: '' })] })), undefined, /layers\[0\]\.mediaType: "" is not a valid media type/],
    ['media type with a space in the subtype', enc(orasManifest({ layers: [layer({ mediaType: 'image/ti ff' })] })), undefined, /layers\[0\]\.mediaType: "image\/ti ff" is not a valid media type/],
    ['media type with a control character', enc(orasManifest({ layers: [layer({ mediaType: 'image/tiff\n' })] })), undefined, /layers\[0\]\.mediaType: .*is not a valid media type/],
    ['data not base64', enc(orasManifest({ config: { ...EMPTY_DESCRIPTOR, data: 'e30' } })), undefined, /config\.data: is not valid base64/],
    ['data of the wrong size', enc(orasManifest({ config: { ...EMPTY_DESCRIPTOR, data: Buffer.from('{ }').toString('base64') } })), undefined, /config\.data: decodes to 3 bytes but size is 2/],
    ['data that does not match the digest', enc(orasManifest({ config: { ...EMPTY_DESCRIPTOR, data: Buffer.from('[]').toString('base64') } })), undefined, /config\.data: does not match the digest: its digest is sha256:/],
    ['several problems are counted', enc(orasManifest({ layers: [layer({ size: -1 }), layer({ size: -2 }), layer({ size: -3 })] })), undefined, /layers\[0\]\.size: .* \(and 2 more problems\)$/],
    // hostile nesting
    ['deeply nested annotation value', Buffer.from(JSON.stringify(orasManifest({ annotations: { k: 'PLACEHOLDER' } })).replace('"PLACEHOLDER"', nested(100_000))), undefined, /annotations\.k: expected string, got an array/],
    ['deeply nested layer', Buffer.from(JSON.stringify(orasManifest({ layers: ['PLACEHOLDER'] })).replace('"PLACEHOLDER"', nested(100_000))), undefined, /layers\[0\]: expected object, got an array/],
  ];
  test.each(cases)('%s', (_name, bytes, contentType, message) => {
    expectInvalid(() => parseManifest(bytes, contentType), message);
  });

  test('messages never echo a huge value', () => {
    const body = enc(orasManifest({ layers: [layer({ mediaType: 'x'.repeat(1_000_000) })] }));
    let message = '';
    try {
      parseManifest(body);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/layers\[0\]\.mediaType: "x+\.\.\." is not a valid media type/);
    expect(message.length).toBeLessThan(300);
  });
});

describe('parseManifest: hostile inputs that must not hurt', () => {
  test('a top-level __proto__ key is dropped and pollutes nothing', () => {
    const bytes = Buffer.from(JSON.stringify(orasManifest()).replace('{', '{"__proto__":{"polluted":"yes"},'));
    const parsed = parseManifest(bytes);
    expect(parsed.kind === 'manifest' && Object.getPrototypeOf(parsed.manifest)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed.kind === 'manifest' ? parsed.manifest : {})).not.toContain('__proto__');
  });

  test('deep nesting in an unknown field is ignored', () => {
    const depth = 500_000;
    const text = JSON.stringify(orasManifest({ future: 'PLACEHOLDER' })).replace('"PLACEHOLDER"', '['.repeat(depth) + ']'.repeat(depth));
    const parsed = parseManifest(Buffer.from(text));
    expect(parsed.kind).toBe('manifest');
  });

  test('deeply nested objects in a platform are dropped', () => {
    const depth = 100_000;
    const entry = { mediaType: MediaType.ImageManifest, digest: D1, size: 1, platform: { architecture: 'amd64', os: 'linux', extra: 'PLACEHOLDER' } };
    const text = JSON.stringify(ociIndex({ manifests: [entry] })).replace('"PLACEHOLDER"', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    const parsed = parseManifest(Buffer.from(text));
    expect(parsed.kind === 'index' && parsed.index.manifests[0]?.platform).toStrictEqual({ architecture: 'amd64', os: 'linux' });
  });

  test('-0 as a size becomes 0', () => {
    const parsed = parseManifest(Buffer.from(JSON.stringify(orasManifest({ layers: [layer({ size: 7 })] })).replace('"size":7', '"size":-0')));
    expect(Object.is(parsed.kind === 'manifest' && parsed.manifest.layers[0]?.size, 0)).toBe(true);
  });
});

describe('parseDescriptor', () => {
  test('accepts a full descriptor', () => {
    const d = { ...EMPTY_DESCRIPTOR, annotations: { a: 'b' }, urls: ['u'], artifactType: 'application/x' };
    expect(parseDescriptor(d)).toStrictEqual(d);
  });
  test.each([
    [null, /^invalid descriptor: expected object, got null$/],
    ['sha256:x', /expected object, got the string/],
    [{ digest: D1, size: 1 }, /^invalid descriptor: mediaType: is missing \(expected string\)$/],
    [{ mediaType: 'a/b', size: 1 }, /^invalid descriptor: digest: is missing/],
    [{ mediaType: 'a/b', digest: D1 }, /^invalid descriptor: size: is missing/],
    [{ mediaType: 'a/b', digest: D1, size: -5 }, /size: must be a non-negative integer, got -5/],
    [{ mediaType: 'a/b', digest: D1, size: 1, annotations: { 'a b': 2 } }, /annotations\["a b"\]: expected string/],
  ])('%j is rejected', (value, message) => {
    expectInvalid(() => parseDescriptor(value), message);
  });
});

describe('parseIndexJson', () => {
  const layoutIndex = {
    schemaVersion: 2,
    manifests: [{ mediaType: MediaType.ImageManifest, digest: D1, size: 100, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  };
  test('accepts an OCI layout index.json, with or without mediaType', () => {
    expect(parseIndexJson(enc(layoutIndex)).manifests[0]?.annotations).toStrictEqual({ 'org.opencontainers.image.ref.name': 'v1' });
    expect(parseIndexJson(enc({ ...layoutIndex, mediaType: MediaType.ImageIndex })).mediaType).toBe(MediaType.ImageIndex);
  });
  test('accepts an index.json larger than a manifest may be', () => {
    const manifests = Array.from({ length: 40_000 }, (_, i) => ({
      mediaType: MediaType.ImageManifest,
      digest: 'sha256:' + i.toString(16).padStart(64, '0'),
      size: 100,
      annotations: { 'org.opencontainers.image.ref.name': `tag-${i}` },
    }));
    const bytes = enc({ schemaVersion: 2, manifests });
    expect(bytes.length).toBeGreaterThan(MAX_MANIFEST_BYTES);
    expect(parseIndexJson(bytes).manifests).toHaveLength(40_000);
  });
  test.each([
    ['over 64 MiB', new Uint8Array(MAX_INDEX_JSON_BYTES + 1), /more than the limit of 67108864 bytes/],
    ['malformed', Buffer.from('{'), /^invalid index.json: malformed JSON/],
    ['a manifest media type', enc({ ...layoutIndex, mediaType: MediaType.ImageManifest }), /mediaType: must be "application\/vnd.oci.image.index.v1\+json"/],
    ['schemaVersion 1', enc({ ...layoutIndex, schemaVersion: 1 }), /schemaVersion is 1/],
    ['no manifests', enc({ schemaVersion: 2 }), /^invalid index.json: manifests: is missing \(expected array\)$/],
    ['a bad entry', enc({ schemaVersion: 2, manifests: [{ mediaType: MediaType.ImageManifest, digest: D1, size: 'big' }] }), /manifests\[0\]\.size: expected number/],
  ])('%s is rejected', (_name, bytes, message) => {
    expectInvalid(() => parseIndexJson(bytes), message);
  });
});

describe('parseOciLayoutFile', () => {
  test('accepts the marker', () => {
    expect(parseOciLayoutFile(enc({ imageLayoutVersion: '1.0.0' }))).toStrictEqual({ imageLayoutVersion: '1.0.0' });
  });
  test.each([
    [enc({}), /imageLayoutVersion: is missing/],
    [enc({ imageLayoutVersion: 1 }), /imageLayoutVersion: expected string, got the number 1/],
    [Buffer.from('1.0.0'), /malformed JSON|expected a JSON object/],
  ])('%s is rejected', (bytes, message) => {
    expectInvalid(() => parseOciLayoutFile(bytes), message);
  });
});

describe('formatJsonPath', () => {
  test.each([
    [[], ''],
    [['layers', 3, 'digest'], 'layers[3].digest'],
    [['annotations', 'org.opencontainers.image.title'], 'annotations["org.opencontainers.image.title"]'],
    [['platform', 'os.version'], 'platform["os.version"]'],
    [[0, 'a'], '[0].a'],
  ] as Array<[PropertyKey[], string]>)('%j -> %s', (path, text) => {
    expect(formatJsonPath(path)).toBe(text);
  });
});
