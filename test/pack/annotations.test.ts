import { describe, expect, test } from 'vitest';
import { checkAnnotations, parseAnnotationFile } from '../../src/pack/annotations.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('parseAnnotationFile (ORAS format)', () => {
  test('splits $manifest, $config and per-file keys', () => {
    const parsed = parseAnnotationFile(
      JSON.stringify({
        $manifest: { 'org.opencontainers.image.source': 'https://example.com' },
        $config: { hello: 'world' },
        'data/imagery.tif': { 'eo:band': 'B04' },
      }),
      'a.json',
    );
    expect(parsed.manifest).toEqual({ 'org.opencontainers.image.source': 'https://example.com' });
    expect(parsed.config).toEqual({ hello: 'world' });
    expect([...parsed.files]).toEqual([['data/imagery.tif', { 'eo:band': 'B04' }]]);
  });

  test('missing sections are empty', () => {
    expect(parseAnnotationFile('{}', 'a.json')).toEqual({ manifest: {}, config: {}, files: new Map() });
  });

  test.each([
    ['not JSON', '{', /malformed JSON/],
    ['an array', '[]', /top level must be a JSON object/],
    ['a number value', '{"$manifest":{"k":1}}', /"\$manifest": the value of "k" must be a string, got number/],
    ['a null section', '{"$config":null}', /must be an object of string values/],
    ['an empty file key', '{"":{}}', /file key is empty/],
    ['an empty annotation key', '{"$manifest":{"":"x"}}', /annotation key is empty/],
    ['a __proto__ key', '{"$manifest":{"__proto__":"x"}}', /__proto__/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseAnnotationFile(text, 'a.json')).toThrow(InvalidArgumentError);
    expect(() => parseAnnotationFile(text, 'a.json')).toThrow(message);
  });

  test('checkAnnotations copies valid maps and refuses non-strings', () => {
    expect(checkAnnotations({ a: 'b' }, 'manifest annotations')).toEqual({ a: 'b' });
    expect(() => checkAnnotations({ a: 1 } as unknown as Record<string, string>, 'manifest annotations')).toThrow(/must be a string/);
  });
});
