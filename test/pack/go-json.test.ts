/**
 * Go encoding/json (Go >= 1.22, HTML escaping on) as oras-go serialises image-spec structs:
 * encode.go appendString / mapEncoder (keys sorted), image-spec specs-go/v1 field order.
 */
import { describe, expect, test } from 'vitest';
import { compareUtf8, goDescriptor, goManifest, goString, goStringMap } from '../../src/pack/go-json.js';
import { EMPTY_DESCRIPTOR, MediaType } from '../../src/oci/types.js';

describe('goString', () => {
  test.each([
    ['plain', '"plain"'],
    ['a<b>c&d', '"a\\u003cb\\u003ec\\u0026d"'],
    ['quote " backslash \\', '"quote \\" backslash \\\\"'],
    ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['\u0000\u0001\u001f', '"\\u0000\\u0001\\u001f"'],
    ['\u007f', '"\u007f"'],
    ['line\u2028para\u2029', '"line\\u2028para\\u2029"'],
    ['é ü 日本 😀', '"é ü 日本 😀"'],
    ['lone \ud800 surrogate', '"lone \ufffd surrogate"'],
    ['/slash/', '"/slash/"'],
  ])('%j', (input, expected) => {
    expect(goString(input)).toBe(expected);
  });
});

describe('goStringMap', () => {
  test('sorts keys bytewise by UTF-8, as Go sorts map keys', () => {
    // JavaScript's default sort compares UTF-16 units: U+1F600 (surrogate 0xD83D) sorts before
    // U+E000. Go compares UTF-8 bytes: U+E000 (0xEE...) sorts before U+1F600 (0xF0...).
    const map = { b: '2', a: '1', B: '0', 'a.b': '3', 'a-b': '4', é: '5', '\u{1F600}': '6', '\uE000': '7' };
    expect(goStringMap(map)).toBe('{"B":"0","a":"1","a-b":"4","a.b":"3","b":"2","é":"5","\uE000":"7","\u{1F600}":"6"}');
    expect(['\u{1F600}', '\uE000'].sort(compareUtf8)).toEqual(['\uE000', '\u{1F600}']);
    expect(['\u{1F600}', '\uE000'].sort()).toEqual(['\u{1F600}', '\uE000']); // why compareUtf8 exists
  });
  test('escapes keys and values', () => {
    expect(goStringMap({ 'k<': 'v&' })).toBe('{"k\\u003c":"v\\u0026"}');
  });
});

describe('goDescriptor / goManifest field order', () => {
  test('descriptor: mediaType, digest, size, urls, annotations, data, platform, artifactType', () => {
    const d = {
      artifactType: 'application/x.a',
      platform: { os: 'linux', architecture: 'amd64', variant: 'v8', 'os.version': '1' },
      data: 'e30=',
      annotations: { z: '1', a: '2' },
      urls: ['https://x/y'],
      size: 2,
      digest: EMPTY_DESCRIPTOR.digest,
      mediaType: 'application/x.m',
    };
    expect(goDescriptor(d)).toBe(
      `{"mediaType":"application/x.m","digest":"${EMPTY_DESCRIPTOR.digest}","size":2,"urls":["https://x/y"],"annotations":{"a":"2","z":"1"},"data":"e30=","platform":{"architecture":"amd64","os":"linux","os.version":"1","variant":"v8"},"artifactType":"application/x.a"}`,
    );
  });
  test('empty optional fields are omitted, mediaType is not', () => {
    expect(goDescriptor({ mediaType: '', digest: EMPTY_DESCRIPTOR.digest, size: 0, annotations: {}, urls: [] })).toBe(
      `{"mediaType":"","digest":"${EMPTY_DESCRIPTOR.digest}","size":0}`,
    );
  });
  test('manifest: schemaVersion, mediaType, artifactType, config, layers, subject, annotations', () => {
    const m = {
      annotations: { k: 'v' },
      subject: { mediaType: MediaType.ImageManifest, digest: EMPTY_DESCRIPTOR.digest, size: 2 },
      layers: [],
      config: EMPTY_DESCRIPTOR,
      artifactType: 'application/x.t',
      mediaType: MediaType.ImageManifest,
      schemaVersion: 2 as const,
    };
    expect(goManifest(m)).toBe(
      `{"schemaVersion":2,"mediaType":"${MediaType.ImageManifest}","artifactType":"application/x.t","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"${EMPTY_DESCRIPTOR.digest}","size":2,"data":"e30="},"layers":[],"subject":{"mediaType":"${MediaType.ImageManifest}","digest":"${EMPTY_DESCRIPTOR.digest}","size":2},"annotations":{"k":"v"}}`,
    );
  });
});
