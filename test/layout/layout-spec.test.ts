import { describe, expect, test } from 'vitest';
import { parseLayoutSpec } from '../../src/layout/layout-spec.js';
import { InvalidReferenceError } from '../../src/errors.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('parseLayoutSpec', () => {
  test.each([
    ['eo-layout', { path: 'eo-layout' }],
    ['eo-layout:v1', { path: 'eo-layout', tag: 'v1' }],
    ['./eo-layout:v1.2_rc-3', { path: './eo-layout', tag: 'v1.2_rc-3' }],
    ['/abs/eo-layout:latest', { path: '/abs/eo-layout', tag: 'latest' }],
    [`eo-layout@${D}`, { path: 'eo-layout', digest: D }],
    [`dir:with:colons@${D}`, { path: 'dir:with:colons', digest: D }],
    // a path with ':' whose suffix is no tag: the whole text is the path
    ['a:b/c', { path: 'a:b/c' }],
    ['data:2024/x', { path: 'data:2024/x' }],
    ['x:.hidden', { path: 'x:.hidden' }],
    ['x:-dash', { path: 'x:-dash' }],
    // the last ':' decides; the path keeps its own colons
    ['my:dir:v1', { path: 'my:dir', tag: 'v1' }],
    // a trailing ':' means "no tag" (ORAS's escape for names with colons)
    ['dir:v1:', { path: 'dir:v1' }],
    ['plain:', { path: 'plain' }],
    // '@' that is not a digest is part of the path
    ['user@host-dir', { path: 'user@host-dir' }],
    ['user@host-dir:v2', { path: 'user@host-dir', tag: 'v2' }],
    // a tag is at most 128 characters
    [`d:${'t'.repeat(128)}`, { path: 'd', tag: 't'.repeat(128) }],
    [`d:${'t'.repeat(129)}`, { path: `d:${'t'.repeat(129)}` }],
  ])('%s', (text, expected) => {
    expect(parseLayoutSpec(text)).toEqual(expected);
  });

  test.each([
    ['', /path is empty/],
    [':v1', /path is empty/],
    [':', /path is empty/],
    [`@${D}`, /path is empty/],
    ['dir@sha256:abc', /sha256 needs exactly 64/],
    ['dir@sha512:' + 'a'.repeat(64), /sha512 needs exactly 128/],
    ['dir\0x:v1', /NUL/],
  ])('rejects %j', (text, message) => {
    expect(() => parseLayoutSpec(text)).toThrow(InvalidReferenceError);
    expect(() => parseLayoutSpec(text)).toThrow(message);
  });
});
