import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { DigestMismatchError, InvalidReferenceError } from '../../src/errors.js';
import { Digester, VerifyingStream, digestOf, isDigest, parseDigest, verifyBytes } from '../../src/ref/index.js';

const HELLO = Buffer.from('hello');
const HELLO_SHA256 = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const HELLO_SHA512 =
  'sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043';

describe('parseDigest', () => {
  test.each([
    [HELLO_SHA256, 'sha256'],
    [HELLO_SHA512, 'sha512'],
  ])('%s is a %s digest', (text, algorithm) => {
    expect(parseDigest(text)).toEqual({ algorithm, hex: text.slice(text.indexOf(':') + 1) });
    expect(isDigest(text)).toBe(true);
  });

  test.each([
    ['', /expected ALGORITHM:HEX/],
    ['sha256', /expected ALGORITHM:HEX/],
    [':abc', /expected ALGORITHM:HEX/],
    ['md5:' + 'a'.repeat(32), /unsupported algorithm "md5"/],
    ['SHA256:' + 'a'.repeat(64), /unsupported algorithm/],
    ['sha256:' + 'a'.repeat(63), /exactly 64/],
    ['sha256:' + 'a'.repeat(65), /exactly 64/],
    ['sha256:' + 'A'.repeat(64), /lowercase hex/],
    ['sha256:' + 'g'.repeat(64), /lowercase hex/],
    ['sha512:' + 'a'.repeat(64), /exactly 128/],
  ])('%s is rejected', (text, message) => {
    expect(() => parseDigest(text)).toThrow(InvalidReferenceError);
    expect(() => parseDigest(text)).toThrow(message);
    expect(isDigest(text)).toBe(false);
  });
});

describe('digestOf, Digester, verifyBytes', () => {
  test('digestOf and the incremental Digester agree', () => {
    expect(digestOf(HELLO)).toBe(HELLO_SHA256);
    expect(digestOf(HELLO, 'sha512')).toBe(HELLO_SHA512);
    expect(new Digester().update(Buffer.from('he')).update(Buffer.from('llo')).digest()).toBe(HELLO_SHA256);
  });

  test('verifyBytes accepts the right bytes and rejects a wrong digest or size', () => {
    expect(() => verifyBytes(HELLO, { digest: HELLO_SHA256, size: 5 })).not.toThrow();
    expect(() => verifyBytes(HELLO, { digest: HELLO_SHA512 })).not.toThrow();
    expect(() => verifyBytes(Buffer.from('hellO'), { digest: HELLO_SHA256 })).toThrow(DigestMismatchError);
    expect(() => verifyBytes(HELLO, { digest: HELLO_SHA256, size: 6 })).toThrow(/5 bytes instead of 6/);
  });
});

describe('VerifyingStream', () => {
  async function run(chunks: string[], expected: { digest: string; size: number }): Promise<string> {
    let out = '';
    await pipeline(
      Readable.from(chunks.map((c) => Buffer.from(c))),
      new VerifyingStream(expected),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          out += chunk.toString();
          cb();
        },
      }),
    );
    return out;
  }

  test('passes matching bytes through', async () => {
    expect(await run(['he', 'llo'], { digest: HELLO_SHA256, size: 5 })).toBe('hello');
  });
  test.each([
    [['hellO'], 5, DigestMismatchError],
    [['hell'], 5, /4 bytes instead of 5/],
    [['hello', '!'], 5, /more than 5 bytes/],
  ] as const)('%j with size %d fails', async (chunks, size, error) => {
    await expect(run([...chunks], { digest: HELLO_SHA256, size })).rejects.toThrow(error);
  });
});
