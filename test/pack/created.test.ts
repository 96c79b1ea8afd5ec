import { describe, expect, test } from 'vitest';
import { applyCreated, formatRfc3339, isRfc3339 } from '../../src/pack/created.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { Annotation } from '../../src/oci/types.js';

const C = Annotation.Created;
const clock = () => new Date('2026-11-28T15:04:05.678Z');

describe('isRfc3339 (as Go time.Parse(time.RFC3339))', () => {
  test.each([
    ['2026-11-28T15:04:05Z', true],
    ['2026-11-28T15:04:05.123456789Z', true],
    ['2026-11-28T15:04:05+02:00', true],
    ['2026-11-28T15:04:05-23:59', true],
    ['2024-02-29T00:00:00Z', true],
    ['2000-02-29T00:00:00Z', true],
    ['1900-02-29T00:00:00Z', false],
    ['2023-02-29T00:00:00Z', false],
    ['2026-04-31T00:00:00Z', false],
    ['2026-13-01T00:00:00Z', false],
    ['2026-11-28T24:00:00Z', false],
    ['2026-11-28T15:60:00Z', false],
    ['2026-11-28T15:04:60Z', false],
    ['2026-11-28t15:04:05z', false],
    ['2026-11-28 15:04:05Z', false],
    ['2026-11-28T15:04:05', false],
    ['2026-11-28T15:04:05+0200', false],
    ['2026-11-28T15:04:05+24:00', false],
    ['2026-11-28', false],
    ['now', false],
  ])('%s -> %s', (text, ok) => {
    expect(isRfc3339(text)).toBe(ok);
  });
});

test('formatRfc3339 is UTC with whole seconds, as Go prints time.RFC3339', () => {
  expect(formatRfc3339(clock())).toBe('2026-11-28T15:04:05Z');
});

describe('applyCreated', () => {
  test.each<[string, Record<string, string>, string | undefined, Record<string, string>]>([
    ['default: no timestamp', { a: '1' }, undefined, { a: '1' }],
    ['none: no timestamp', {}, 'none', {}],
    ['now: the clock, whole seconds', {}, 'now', { [C]: '2026-11-28T15:04:05Z' }],
    ['a time is kept verbatim', { a: '1' }, '2020-01-02T03:04:05.5+01:00', { a: '1', [C]: '2020-01-02T03:04:05.5+01:00' }],
    ['a created annotation given directly is kept', { [C]: '2020-01-02T03:04:05Z' }, undefined, { [C]: '2020-01-02T03:04:05Z' }],
  ])('%s', (_name, annotations, created, expected) => {
    expect(applyCreated(annotations, created, clock)).toEqual(expected);
  });

  test.each<[string, Record<string, string>, string | undefined, RegExp]>([
    ['a created option that is not RFC 3339', {}, '28/11/2026', /invalid time "28\/11\/2026" for --created/],
    ['a created annotation that is not RFC 3339', { [C]: 'yesterday' }, undefined, /invalid time "yesterday"/],
    ['both an annotation and now', { [C]: '2020-01-02T03:04:05Z' }, 'now', /both/],
  ])('refuses %s', (_name, annotations, created, message) => {
    expect(() => applyCreated(annotations, created, clock)).toThrow(InvalidArgumentError);
    expect(() => applyCreated(annotations, created, clock)).toThrow(message);
  });
});
