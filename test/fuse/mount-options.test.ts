import { describe, expect, it } from 'vitest';
import { DEFAULT_OPERATION_TIMEOUT_MS, nativeMountConfig, type MountOptions } from '../../src/fuse/mount-options.js';
import { escapeOptionValue } from '../../src/fuse/mount-options.js';

describe('nativeMountConfig', () => {
  it('defaults: read-only, default permissions, no cross-open caching, our own deadline instead of fuse-native\'s', () => {
    const config = nativeMountConfig({});
    expect(config.operationTimeoutMs).toBe(DEFAULT_OPERATION_TIMEOUT_MS);
    expect(config.rawOptions).toEqual(['ro']);
    expect(config.nativeOptions).toMatchObject({
      allowOther: false,
      defaultPermissions: true,
      fsname: 'ocifs',
      subtype: 'ocifs',
      kernelCache: false,
      autoCache: false,
      timeout: false,
    });
  });

  it.each<[string, MountOptions, Record<string, unknown>, string[]]>([
    ['kernelCache', { kernelCache: true }, { kernelCache: true, autoCache: false }, ['ro']],
    ['kernelCache wins over autoCache', { kernelCache: true, autoCache: true }, { kernelCache: true, autoCache: false }, ['ro']],
    ['autoCache', { autoCache: true }, { autoCache: true }, ['ro']],
    ['allowOther and debug', { allowOther: true, debug: true }, { allowOther: true, debug: true }, ['ro']],
    ['readOnly false drops ro', { readOnly: false }, {}, []],
    [
      'timeouts, including 0 (which fuse-native would drop)',
      { attrTimeoutS: 0, entryTimeoutS: 30, negativeTimeoutS: 2.5 },
      {},
      ['ro', 'attr_timeout=0', 'entry_timeout=30', 'negative_timeout=2.5'],
    ],
    ['extra raw options', { extraFuseOptions: ['max_readahead=1048576'] }, {}, ['ro', 'max_readahead=1048576']],
    ['a source name with commas is escaped', { fsName: 'ocifs#a,b\\c' }, { fsname: 'ocifs#a\\,b\\\\c' }, ['ro']],
  ])('%s', (_name, options, native, raw) => {
    const config = nativeMountConfig(options);
    expect(config.nativeOptions).toMatchObject(native);
    expect(config.rawOptions).toEqual(raw);
  });

  it.each<[string, MountOptions]>([
    ['a negative timeout', { operationTimeoutMs: -1 }],
    ['a fractional timeout', { operationTimeoutMs: 1.5 }],
    ['a negative attr timeout', { attrTimeoutS: -1 }],
    ['an infinite entry timeout', { entryTimeoutS: Infinity }],
    ['an option that smuggles another', { extraFuseOptions: ['ro,allow_other'] }],
    ['an empty option', { extraFuseOptions: [''] }],
  ])('rejects %s', (_name, options) => {
    expect(() => nativeMountConfig(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('caps the source name (fuse-native copies all options into 1024 bytes)', () => {
    expect(String(nativeMountConfig({ fsName: 'x'.repeat(5000) }).nativeOptions.fsname)).toHaveLength(256);
  });

  it('accepts 0 as "no deadline"', () => {
    expect(nativeMountConfig({ operationTimeoutMs: 0 }).operationTimeoutMs).toBe(0);
  });
});

describe('escapeOptionValue', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', 'a\\,b'],
    ['a\\b', 'a\\\\b'],
  ])('%s', (input, expected) => expect(escapeOptionValue(input)).toBe(expected));
});
