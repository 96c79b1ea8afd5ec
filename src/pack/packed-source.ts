/**
 * Files packed on the fly (`ocifs push ./data REF`) as a ReadableTarget: the manifest from
 * memory, each layer straight from its file, the config and the empty blob from memory. Nothing
 * is copied to disk first. A file that changed since it was hashed fails the read: its size is
 * checked on open and its digest at the end of the stream (DigestMismatchError).
 */
import { open } from 'node:fs/promises';
import { pipeline, Readable, addAbortSignal } from 'node:stream';
import { DigestMismatchError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { FetchedManifest, FetchOptions, ReadableTarget } from '../oci/target.js';
import type { Descriptor } from '../oci/types.js';
import { VerifyingStream } from '../ref/digest.js';
import { asLocalError, readAt } from '../layout/blob-files.js';

export type BlobOrigin = { kind: 'file'; path: string } | { kind: 'bytes'; bytes: Buffer };

export class PackedSource implements ReadableTarget {
  constructor(
    readonly description: string,
    private readonly manifest: FetchedManifest,
    private readonly blobs: ReadonlyMap<string, BlobOrigin>,
  ) {}

  async resolve(reference: string, _options?: FetchOptions): Promise<Descriptor> {
    if (reference === this.manifest.descriptor.digest) return this.manifest.descriptor;
    throw new NotFoundError(`${reference} is not the packed manifest (${this.manifest.descriptor.digest})`);
  }

  async fetchManifest(reference: string | Descriptor, options?: FetchOptions): Promise<FetchedManifest> {
    const digest = typeof reference === 'string' ? (await this.resolve(reference, options)).digest : reference.digest;
    if (digest !== this.manifest.descriptor.digest) throw new NotFoundError(`manifest ${digest} is not in ${this.description}`);
    return this.manifest;
  }

  async fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Readable> {
    const origin = this.origin(descriptor);
    if (origin.kind === 'bytes') return Readable.from([origin.bytes]);
    const what = `${origin.path} (packed as ${descriptor.digest})`;
    const handle = await open(origin.path, 'r').catch((err: unknown) => {
      throw asLocalError(err, `cannot read ${origin.path}`);
    });
    try {
      await checkUnchanged(handle.stat(), descriptor, what);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const verifier = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size }, what);
    pipeline(handle.createReadStream({ highWaterMark: 1024 * 1024 }), verifier, () => undefined);
    if (options?.signal) addAbortSignal(options.signal, verifier);
    return verifier;
  }

  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number, _options?: FetchOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgumentError(`invalid range: offset ${offset}, length ${length}`);
    }
    const origin = this.origin(descriptor);
    const end = Math.min(descriptor.size, offset + length);
    if (offset >= end) return Buffer.alloc(0);
    if (origin.kind === 'bytes') return origin.bytes.subarray(offset, end);
    const handle = await open(origin.path, 'r').catch((err: unknown) => {
      throw asLocalError(err, `cannot read ${origin.path}`);
    });
    try {
      await checkUnchanged(handle.stat(), descriptor, `${origin.path} (packed as ${descriptor.digest})`);
      return await readAt(handle, offset, end - offset);
    } finally {
      await handle.close();
    }
  }

  async exists(descriptor: Descriptor, _options?: FetchOptions): Promise<boolean> {
    return this.blobs.has(descriptor.digest) || descriptor.digest === this.manifest.descriptor.digest;
  }

  async listTags(_options?: FetchOptions): Promise<string[]> {
    return [];
  }

  private origin(descriptor: Descriptor): BlobOrigin {
    const origin = this.blobs.get(descriptor.digest);
    if (!origin) throw new NotFoundError(`blob ${descriptor.digest} is not in ${this.description}`);
    return origin;
  }
}

async function checkUnchanged(stats: Promise<{ size: number }>, descriptor: Descriptor, what: string): Promise<void> {
  const { size } = await stats;
  if (size !== descriptor.size) {
    throw new DigestMismatchError(descriptor.digest, `${size} bytes instead of ${descriptor.size}: the file changed since it was packed`, what);
  }
}
