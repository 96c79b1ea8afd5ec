import { describe, expect, test } from 'vitest';
import { parseChallenges, preferredChallenge } from '../../src/registry/challenge.js';

describe('parseChallenges', () => {
  test.each([
    ['Basic realm="registry"', [{ scheme: 'basic', params: { realm: 'registry' } }]],
    [
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' } }],
    ],
    // several scopes in one quoted value, commas inside quotes
    [
      'Bearer realm="https://a/t",scope="repository:x:pull,push repository:y:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://a/t', scope: 'repository:x:pull,push repository:y:pull' } }],
    ],
    // error param, spaces around separators, unquoted values
    [
      'Bearer realm=https://a/t , service = reg, error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'https://a/t', service: 'reg', error: 'insufficient_scope' } }],
    ],
    // two challenges in one header
    [
      'Bearer realm="https://a/t",service="s", Basic realm="fallback"',
      [
        { scheme: 'bearer', params: { realm: 'https://a/t', service: 's' } },
        { scheme: 'basic', params: { realm: 'fallback' } },
      ],
    ],
    // escaped quote inside a quoted string
    ['Basic realm="say \\"hi\\", ok"', [{ scheme: 'basic', params: { realm: 'say "hi", ok' } }]],
    // scheme case and parameter name case are normalised
    ['BEARER Realm="r"', [{ scheme: 'bearer', params: { realm: 'r' } }]],
    // token68
    ['Negotiate abc123==', [{ scheme: 'negotiate', params: {}, token68: 'abc123==' }]],
    ['Negotiate abc==, Basic realm="x"', [{ scheme: 'negotiate', params: {}, token68: 'abc==' }, { scheme: 'basic', params: { realm: 'x' } }]],
    // a scheme with no params followed by another challenge
    ['Basic, Bearer realm="r"', [{ scheme: 'basic', params: {} }, { scheme: 'bearer', params: { realm: 'r' } }]],
    // unterminated quote: take what there is
    ['Basic realm="open', [{ scheme: 'basic', params: { realm: 'open' } }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  test('repeated headers (as undici gives them) are all parsed', () => {
    expect(parseChallenges(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parseChallenges(undefined)).toEqual([]);
  });

  test('Bearer is preferred over Basic', () => {
    expect(preferredChallenge(parseChallenges('Basic realm="a", Bearer realm="b"'))?.scheme).toBe('bearer');
    expect(preferredChallenge(parseChallenges('Basic realm="a"'))?.scheme).toBe('basic');
    expect(preferredChallenge(parseChallenges('Negotiate x'))).toBeUndefined();
  });
});
