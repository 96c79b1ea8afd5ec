/**
 * In-process stand-ins for src/fs's small interfaces (RepositorySource, RegistrySource,
 * BlobReader, MetadataStore), counting every call so tests can assert what reached the source.
 * Manifests go through the real validator, as they would from a registry or a layout.
 */
import { NotFoundError, OcifsError } from '../../src/errors.js';
import type { FetchedManifest } from '../../src/oci/target.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType, type Descriptor } from '../../src/oci/types.js';
import { parseManifest } from '../../src/oci/validate.js';
import { digestOf } from '../../src/ref/digest.js';
import type {
  BlobHandle,
  BlobReader,
  MetadataStore,
  RegistrySource,
  RepositorySource,
  StoredListing,
  StoredManifest,
  StoredTag,
} from '../../src/fs/sources.js';

export interface FileSpec {
  title?: string;
  content: string | Buffer;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export class MemoryRepository implements RepositorySource {
  readonly calls = { listTags: 0, resolve: 0, fetchManifest: 0, fetchBlobRange: 0 };
  /** When set, every call fails with it (a registry that went away). */
  failure: OcifsError | undefined;
  /** Added to every call, to let concurrent callers overlap. */
  delayMs = 0;
  private readonly blobs = new Map<string, Buffer>();
  private readonly manifests = new Map<string, { mediaType: string; bytes: Buffer }>();
  private readonly tags = new Map<string, Descriptor>();

  constructor(readonly description: string) {}

  addBlob(content: string | Buffer, mediaType = 'application/octet-stream', annotations?: Record<string, string>): Descriptor {
    const bytes = Buffer.from(content);
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length, ...(annotations ? { annotations } : {}) };
  }

  /** Stores any JSON as a manifest (hostile ones too); returns its descriptor. */
  addManifestJson(body: object, mediaType: string = MediaType.ImageManifest): Descriptor {
    const bytes = Buffer.from(JSON.stringify(body));
    const digest = digestOf(bytes);
    this.manifests.set(digest, { mediaType, bytes });
    return { mediaType, digest, size: bytes.length };
  }

  addManifest(layers: Descriptor[], extra: { annotations?: Record<string, string>; artifactType?: string } = {}): Descriptor {
    return this.addManifestJson({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
      config: EMPTY_DESCRIPTOR,
      layers,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    });
  }

  /** One manifest with a layer per file, titled; tagged when `tag` is given. */
  addArtifact(files: FileSpec[], options: { tag?: string; annotations?: Record<string, string>; artifactType?: string } = {}): Descriptor {
    const layers = files.map((f) =>
      this.addBlob(f.content, f.mediaType ?? 'application/octet-stream', {
        ...(f.title !== undefined ? { [Annotation.Title]: f.title } : {}),
        ...f.annotations,
      }),
    );
    const descriptor = this.addManifest(layers, options);
    if (options.tag) this.tag(options.tag, descriptor);
    return descriptor;
  }

  addIndex(children: Descriptor[], annotations?: Record<string, string>): Descriptor {
    return this.addManifestJson(
      { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: children, ...(annotations ? { annotations } : {}) },
      MediaType.ImageIndex,
    );
  }

  tag(name: string, descriptor: Descriptor): void {
    this.tags.set(name, descriptor);
  }

  untag(name: string): void {
    this.tags.delete(name);
  }

  async listTags(): Promise<string[]> {
    this.calls.listTags++;
    await this.enter();
    return [...this.tags.keys()];
  }

  async resolve(reference: string): Promise<Descriptor> {
    this.calls.resolve++;
    await this.enter();
    const found = this.tags.get(reference);
    if (!found) throw new NotFoundError(`${this.description}: no tag ${reference}`);
    return { mediaType: found.mediaType, digest: found.digest, size: found.size };
  }

  async fetchManifest(reference: string | Descriptor): Promise<FetchedManifest> {
    this.calls.fetchManifest++;
    await this.enter();
    const digest = typeof reference === 'string' ? (this.tags.get(reference)?.digest ?? reference) : reference.digest;
    const stored = this.manifests.get(digest);
    if (!stored) throw new NotFoundError(`${this.description}: no manifest ${digest}`);
    return {
      descriptor: { mediaType: stored.mediaType, digest, size: stored.bytes.length },
      bytes: stored.bytes,
      parsed: parseManifest(stored.bytes, stored.mediaType),
    };
  }

  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number): Promise<Buffer> {
    this.calls.fetchBlobRange++;
    await this.enter();
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new NotFoundError(`${this.description}: no blob ${descriptor.digest}`);
    return bytes.subarray(offset, Math.min(bytes.length, offset + length));
  }

  /** Requests that reached this repository, all kinds. */
  get requestCount(): number {
    return this.calls.listTags + this.calls.resolve + this.calls.fetchManifest + this.calls.fetchBlobRange;
  }

  private async enter(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failure) throw this.failure;
  }
}

export class MemoryRegistry implements RegistrySource {
  catalogCalls = 0;
  failure: OcifsError | undefined;
  readonly repositories = new Map<string, MemoryRepository>();

  constructor(readonly host = 'registry.test') {}

  add(name: string): MemoryRepository {
    const repository = new MemoryRepository(`${this.host}/${name}`);
    this.repositories.set(name, repository);
    return repository;
  }

  async catalog(): Promise<string[]> {
    this.catalogCalls++;
    if (this.failure) throw this.failure;
    return [...this.repositories.keys()];
  }

  repository(name: string): RepositorySource {
    const found = this.repositories.get(name);
    if (found) return found;
    return this.add(name);
  }
}

/** Reads through fetchBlobRange, as src/read does on a cache miss; counts opens and closes. */
export class RangeBlobReader implements BlobReader {
  readonly counters = { opens: 0, closes: 0, reads: 0 };

  async open(descriptor: Descriptor, source: RepositorySource): Promise<BlobHandle> {
    this.counters.opens++;
    return {
      read: async (buffer, length, position) => {
        this.counters.reads++;
        if (position >= descriptor.size) return 0;
        const bytes = await source.fetchBlobRange(descriptor, position, Math.min(length, descriptor.size - position));
        bytes.copy(buffer, 0);
        return bytes.length;
      },
      close: async () => {
        this.counters.closes++;
      },
    };
  }
}

export class MemoryMetadataStore implements MetadataStore {
  readonly manifests = new Map<string, StoredManifest>();
  readonly tags = new Map<string, StoredTag>();
  readonly listings = new Map<string, StoredListing>();

  getManifest(digest: string): StoredManifest | undefined {
    return this.manifests.get(digest);
  }
  putManifest(digest: string, mediaType: string, bytes: Buffer): void {
    this.manifests.set(digest, { mediaType, bytes });
  }
  getTag(scope: string, tag: string): StoredTag | undefined {
    return this.tags.get(`${scope} ${tag}`);
  }
  putTag(scope: string, tag: string, descriptor: Descriptor, checkedAt: number): void {
    this.tags.set(`${scope} ${tag}`, { descriptor, checkedAt });
  }
  getListing(key: string): StoredListing | undefined {
    return this.listings.get(key);
  }
  putListing(key: string, names: string[], checkedAt: number): void {
    this.listings.set(key, { names, checkedAt });
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public ms = Date.parse('2024-05-01T12:00:00Z')) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function unreachable(): OcifsError {
  return new OcifsError('UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:1');
}

/** Reads a whole file through the ops, as cat would. */
export async function readAll(
  fs: { open(p: string, f: number): Promise<number>; read(h: number, b: Buffer, l: number, p: number): Promise<number>; release(h: number): Promise<void> },
  path: string,
): Promise<Buffer> {
  const handle = await fs.open(path, 0);
  try {
    return await readHandle(fs, handle);
  } finally {
    await fs.release(handle);
  }
}

export async function readHandle(
  fs: { read(h: number, b: Buffer, l: number, p: number): Promise<number> },
  handle: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const buffer = Buffer.alloc(128 * 1024); // what the kernel asks for at a time
    const n = await fs.read(handle, buffer, buffer.length, position);
    if (n === 0) break;
    chunks.push(buffer.subarray(0, n));
    position += n;
  }
  return Buffer.concat(chunks);
}
