/**
 * A blob source over a Buffer for reader and cache tests: it stands in for where bytes come from
 * (a registry or layout), not for a registry. It counts calls, tracks concurrency, and can delay,
 * fail or corrupt what it returns.
 */
import { Readable } from 'node:stream';
import { OcifsError } from '../../../src/errors.js';
import type { FetchOptions } from '../../../src/oci/target.js';
import type { Descriptor } from '../../../src/oci/types.js';
import { digestOf } from '../../../src/ref/digest.js';
import type { RangeSource } from '../../../src/read/reader.js';

export interface MemorySourceOptions {
  /** Delay of every fetch, ms. */
  delayMs?: number;
  /** Offer fetchBlob (default true). */
  wholeFetch?: boolean;
}

export class MemorySource implements RangeSource {
  readonly descriptor: Descriptor;
  readonly ranges: { offset: number; length: number }[] = [];
  wholeFetches = 0;
  inFlight = 0;
  maxInFlight = 0;
  delayMs: number;
  /** Errors thrown by the next fetches, in order. */
  readonly failures: Error[] = [];
  /** Changes the bytes handed out (the stored blob stays intact). */
  corrupt: ((bytes: Buffer, offset: number) => void) | undefined;
  fetchBlob?: (descriptor: Descriptor, options?: FetchOptions) => Promise<Readable>;

  constructor(
    readonly data: Buffer,
    options: MemorySourceOptions = {},
  ) {
    this.descriptor = { mediaType: 'application/octet-stream', digest: digestOf(data), size: data.length };
    this.delayMs = options.delayMs ?? 0;
    if (options.wholeFetch !== false) this.fetchBlob = (d, o) => this.whole(d, o);
  }

  get requests(): number {
    return this.ranges.length + this.wholeFetches;
  }

  get bytesSent(): number {
    return this.ranges.reduce((sum, r) => sum + r.length, 0) + this.wholeFetches * this.data.length;
  }

  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options?: FetchOptions): Promise<Buffer> {
    this.check(descriptor);
    const end = Math.min(this.data.length, offset + length);
    this.ranges.push({ offset, length: end - offset });
    await this.enter(options);
    try {
      const failure = this.failures.shift();
      if (failure) throw failure;
      const bytes = Buffer.from(this.data.subarray(offset, end));
      this.corrupt?.(bytes, offset);
      return bytes;
    } finally {
      this.inFlight--;
    }
  }

  private async whole(descriptor: Descriptor, options?: FetchOptions): Promise<Readable> {
    this.check(descriptor);
    this.wholeFetches++;
    await this.enter(options);
    this.inFlight--;
    const failure = this.failures.shift();
    if (failure) throw failure;
    const bytes = Buffer.from(this.data);
    this.corrupt?.(bytes, 0);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 64 * 1024) chunks.push(bytes.subarray(i, i + 64 * 1024));
    return Readable.from(chunks);
  }

  private async enter(options?: FetchOptions): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.delayMs);
          options?.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new OcifsError('ABORTED', 'aborted'));
          });
        });
      }
      if (options?.signal?.aborted) throw new OcifsError('ABORTED', 'aborted');
    } catch (err) {
      this.inFlight--;
      throw err;
    }
  }

  private check(descriptor: Descriptor): void {
    if (descriptor.digest !== this.descriptor.digest) throw new Error(`asked for ${descriptor.digest}, serving ${this.descriptor.digest}`);
  }
}

/** Deterministic pseudo-random bytes (xorshift32), fast enough for tens of MiB. */
export function pseudoRandomBytes(size: number, seed = 1): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}
