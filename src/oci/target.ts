/**
 * What every store of OCI content offers, whether a registry repository (src/registry) or an
 * OCI image layout on disk (src/layout). Copy, pull, ls and the mount are written against these
 * interfaces only, so each works on both kinds of target (as oras-go's Target does).
 */
import type { Readable } from 'node:stream';
import type { Descriptor, ParsedManifest } from './types.js';

export interface FetchedManifest {
  /** mediaType, digest and size of exactly `bytes`. */
  descriptor: Descriptor;
  /** The raw bytes, verified against the digest (never re-serialised: digests depend on them). */
  bytes: Buffer;
  parsed: ParsedManifest;
}

export interface FetchOptions {
  signal?: AbortSignal;
}

export interface ReadableTarget {
  /** For messages and logs: `127.0.0.1:5000/eo/products`, `oci-layout:./eo-layout`. */
  readonly description: string;

  /** A tag or a digest -> the descriptor of the manifest or index it names. NotFoundError if none. */
  resolve(reference: string, options?: FetchOptions): Promise<Descriptor>;

  /** A manifest or index by tag, digest or descriptor; validated, digest verified. */
  fetchManifest(reference: string | Descriptor, options?: FetchOptions): Promise<FetchedManifest>;

  /**
   * The whole blob as a stream. The stream errors with DigestMismatchError when the bytes do not
   * match `descriptor.digest`/`size`, so a consumer that reaches 'end' has verified bytes.
   */
  fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;

  /**
   * `length` bytes from `offset` (clamped to the blob's size). Range reads cannot be verified
   * against the digest; callers that need integrity verify once the whole blob is assembled.
   */
  fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options?: FetchOptions): Promise<Buffer>;

  /** Whether a blob or manifest with this digest exists here. */
  exists(descriptor: Descriptor, options?: FetchOptions): Promise<boolean>;

  /** All tags, sorted as the store returns them. */
  listTags(options?: FetchOptions): Promise<string[]>;
}

/** Where a pushed blob's bytes come from; `open(offset)` allows resuming a partial upload. */
export interface BlobSource {
  open(offset: number): Readable;
  /**
   * True when a stream from `open(0)` is already checked against the descriptor: it errors with
   * DigestMismatchError before it ends unless its bytes match (a ReadableTarget's fetchBlob).
   * The destination then need not hash the bytes a second time.
   */
  readonly verified?: boolean;
}

export interface PushBlobOptions extends FetchOptions {
  /** Other repositories of the same registry that may hold the blob (cross-repository mount). */
  mountFrom?: string[];
  /** Called with the number of bytes newly sent (not counting bytes skipped by a resume). */
  onProgress?: (bytes: number) => void;
}

export type PushBlobOutcome = 'uploaded' | 'resumed' | 'mounted' | 'exists';

export interface PushBlobResult {
  outcome: PushBlobOutcome;
  /** Bytes sent over the wire by this call. */
  bytesSent: number;
}

export interface WritableTarget extends ReadableTarget {
  /** Store a blob whose descriptor is known in advance; verified against it. */
  pushBlob(descriptor: Descriptor, source: BlobSource, options?: PushBlobOptions): Promise<PushBlobResult>;

  /** Store a manifest or index and point each tag at it (no tag: by digest only). */
  pushManifest(descriptor: Descriptor, bytes: Buffer, tags: string[], options?: FetchOptions): Promise<void>;
}
