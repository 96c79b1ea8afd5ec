/**
 * What the tree is built from, as the smallest interfaces src/fs uses. A registry repository
 * (src/registry RepositoryTarget) and an OCI layout (src/layout LayoutTarget) both satisfy
 * RepositorySource; src/read's BlobReader and src/cache's MetadataStore satisfy the others.
 * Tests implement them in memory.
 */
import type { Descriptor, ParsedManifest } from '../oci/types.js';
import type { FetchedManifest, FetchOptions } from '../oci/target.js';

type Awaitable<T> = T | Promise<T>;

/** One repository: its tags, tag -> descriptor, manifests, and blob bytes for the reader. */
export interface RepositorySource {
  /** Also the scope under which tags and listings are remembered in the MetadataStore. */
  readonly description: string;
  listTags(options?: FetchOptions): Promise<string[]>;
  /** A tag or digest -> the manifest descriptor (HEAD on registries). */
  resolve(reference: string, options?: FetchOptions): Promise<Descriptor>;
  fetchManifest(reference: string | Descriptor, options?: FetchOptions): Promise<FetchedManifest>;
  fetchBlobRange(descriptor: Descriptor, offset: number, length: number, options?: FetchOptions): Promise<Buffer>;
}

/** A registry: its catalog and its repositories. */
export interface RegistrySource {
  catalog(): Promise<string[]>;
  repository(name: string): RepositorySource;
}

/** An open blob; reads are served by src/read (cache, Range requests, read-ahead). */
export interface BlobHandle {
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  /**
   * Optional: the same read done synchronously when every byte is in a verified local file (a
   * complete cached blob, a layout blob), else undefined without doing anything. One pread,
   * straight into `buffer`: the FUSE adapter serves warm reads with it (no promise, no copy).
   */
  readSync?(buffer: Buffer, length: number, position: number): number | undefined;
  close(): Promise<void>;
}

export interface BlobReader {
  open(descriptor: Descriptor, source: RepositorySource): Promise<BlobHandle>;
  /** Counters shown in `user.ocifs.status` (requests, bytes fetched, cache hits...). */
  readonly counters?: object;
}

export interface StoredManifest {
  mediaType: string;
  bytes: Buffer;
}

/** `checkedAt` in milliseconds since the epoch (a Date is accepted too). */
export interface StoredTag {
  descriptor: Descriptor;
  checkedAt: number | Date;
}

export interface StoredListing {
  names: string[];
  checkedAt: number | Date;
}

/** The persistent metadata of src/cache, sync or async. */
export interface MetadataStore {
  getManifest(digest: string): Awaitable<StoredManifest | undefined | null>;
  putManifest(digest: string, mediaType: string, bytes: Buffer): Awaitable<void>;
  getTag(scope: string, tag: string): Awaitable<StoredTag | undefined | null>;
  putTag(scope: string, tag: string, descriptor: Descriptor, checkedAt: number): Awaitable<void>;
  getListing(key: string): Awaitable<StoredListing | undefined | null>;
  putListing(key: string, names: string[], checkedAt: number): Awaitable<void>;
}

/** Validates manifest bytes read back from the MetadataStore (src/oci/validate.ts). */
export type ManifestParser = (bytes: Buffer, mediaType: string) => ParsedManifest;

/**
 * What a mount shows.
 * - `registry`: `/<repo path>/<tag>/<files>`; repositories from `catalog()`, or the fixed
 *   `repositories` (`--repo`) when given; with `namespace`, only repositories under it, shown
 *   relative to it.
 * - `repository` (a registry repository or an OCI layout): `/<tag>/<files>`.
 * - `reference`: the root is the artifact a tag or digest names.
 */
export type MountSource =
  | {
      kind: 'registry';
      /** `127.0.0.1:5000` or `127.0.0.1:5000/ns`: the MetadataStore key of the catalog. */
      description: string;
      registry: RegistrySource;
      repositories?: readonly string[];
      namespace?: string;
    }
  | { kind: 'repository'; repository: RepositorySource }
  | { kind: 'reference'; repository: RepositorySource; reference: string };

export function registryMount(
  description: string,
  registry: RegistrySource,
  options: { repositories?: readonly string[]; namespace?: string } = {},
): MountSource {
  return { kind: 'registry', description, registry, ...options };
}

export function repositoryMount(repository: RepositorySource): MountSource {
  return { kind: 'repository', repository };
}

export function referenceMount(repository: RepositorySource, reference: string): MountSource {
  return { kind: 'reference', repository, reference };
}
