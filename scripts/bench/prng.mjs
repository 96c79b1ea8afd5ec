/**
 * Deterministic pseudo-random bytes, fast: AES-256-CTR over zeros, keyed by sha256(seed/name).
 * The same seed and name always give the same stream, however it is cut into reads, so the
 * generated data (and so its digests) are the same on every machine. Pure apart from CPU.
 */
import { createCipheriv, createHash } from 'node:crypto';

const ZEROS = Buffer.alloc(4 << 20);

export class ByteStream {
  #cipher;

  constructor(seed, name) {
    const key = createHash('sha256').update(`${seed}/${name}`).digest();
    this.#cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** The next `n` bytes of the stream. */
  next(n) {
    if (n <= ZEROS.length) return this.#cipher.update(ZEROS.subarray(0, n));
    const parts = [];
    for (let left = n; left > 0; left -= ZEROS.length) parts.push(this.#cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.length))));
    return Buffer.concat(parts, n);
  }

  /** An integer in [min, max], from the next 4 bytes. */
  int(min, max) {
    return min + (this.next(4).readUInt32BE(0) % (max - min + 1));
  }
}
