/**
 * Content digests (`sha256:<64 hex>`, `sha512:<128 hex>`): parsing, computing, verifying.
 * Pure except for the verifying stream, which only transforms bytes it is given.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, InvalidReferenceError } from '../errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

/** Parses and checks a digest; throws InvalidReferenceError saying what is wrong. */
export function parseDigest(text: string): ParsedDigest {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new InvalidReferenceError(`invalid digest ${JSON.stringify(text)}: expected ALGORITHM:HEX`);
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new InvalidReferenceError(`invalid digest ${JSON.stringify(text)}: unsupported algorithm ${JSON.stringify(algorithm)} (sha256 or sha512)`);
  }
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw new InvalidReferenceError(`invalid digest ${JSON.stringify(text)}: ${algorithm} needs exactly ${want} lowercase hex characters`);
  }
  return { algorithm, hex };
}

export function isDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Incremental digest: `update()` chunks, then `digest()` once. */
export class Digester {
  private readonly hash: Hash;
  constructor(readonly algorithm: DigestAlgorithm = 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): this {
    this.hash.update(chunk);
    return this;
  }
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

/** Throws DigestMismatchError unless `bytes` have exactly this digest (and size, when given). */
export function verifyBytes(bytes: Uint8Array, expected: { digest: string; size?: number }, what = 'content'): void {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new DigestMismatchError(expected.digest, `${bytes.length} bytes instead of ${expected.size}`, what);
  }
  const { algorithm } = parseDigest(expected.digest);
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected.digest) throw new DigestMismatchError(expected.digest, actual, what);
}

/**
 * Passes bytes through unchanged and fails the stream at its end (or as soon as it is too long)
 * when they do not match the expected digest and size. A consumer that sees 'end' has good bytes.
 */
export class VerifyingStream extends Transform {
  private readonly digester: Digester;
  private seen = 0;

  constructor(
    private readonly expected: { digest: string; size: number },
    private readonly what = 'blob',
  ) {
    super();
    this.digester = new Digester(parseDigest(expected.digest).algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected.size) {
      callback(new DigestMismatchError(this.expected.digest, `more than ${this.expected.size} bytes`, this.what));
      return;
    }
    this.digester.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.seen !== this.expected.size) {
      callback(new DigestMismatchError(this.expected.digest, `${this.seen} bytes instead of ${this.expected.size}`, this.what));
      return;
    }
    const actual = this.digester.digest();
    callback(actual === this.expected.digest ? null : new DigestMismatchError(this.expected.digest, actual, this.what));
  }
}
