/**
 * OciFilesystem: the mount's behaviour (FilesystemOps), without FUSE. Paths are resolved to
 * nodes on every call: registry directories from the catalog, tags through MetadataResolver
 * (TTL, negative and offline answers), manifests by digest, and the artifact tree built from a
 * manifest (artifact-tree.ts). Reads go to handles bound at open() to one blob.
 */
import { constants, readSync } from 'node:fs';
import { lstat, open as openLocal, readdir as readLocalDir } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, OcifsError, isOcifsError, localIOError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Descriptor } from '../oci/types.js';
import { parseManifest } from '../oci/validate.js';
import type { FetchedManifest } from '../oci/target.js';
import {
  buildArtifactTree,
  type ArtifactTree,
  type DirectoryEntry,
  type PackedDirectoryEntry,
  type TreeEntry,
} from './artifact-tree.js';
import { createdTime, directoryAttributes, fileAttributes, fileTime, type Ownership } from './attributes.js';
import { MetadataResolver } from './freshness.js';
import { HandleTable } from './handles.js';
import { NAME_MAX, digestFromComponent, isSafeComponent } from './names.js';
import type { FilesystemOps, FilesystemStats, NodeAttributes } from './ops.js';
import { PackedDirectories } from './packed-directories.js';
import { RepositoryNames, joinRepositoryPath } from './repository-names.js';
import type { BlobHandle, BlobReader, ManifestParser, MetadataStore, MountSource, RepositorySource } from './sources.js';
import { STATUS_XATTR, layerXattrs, manifestXattrs, type Xattrs } from './xattrs.js';

export interface FilesystemOptions {
  source: MountSource;
  reader: BlobReader;
  metadata: MetadataStore;
  /** How long a tag -> digest answer or a listing is used before it is checked again. */
  ttlMs?: number;
  /** How long a failed lookup (not found, unreachable) is remembered. */
  negativeTtlMs?: number;
  uid?: number;
  gid?: number;
  umask?: number;
  logger?: Logger;
  now?: () => number;
  /** More counters for `user.ocifs.status` (e.g. the registry client's stats). */
  statusExtra?: () => Record<string, unknown>;
  /** Validates manifests read back from the MetadataStore; src/oci/validate.ts by default. */
  parseManifest?: ManifestParser;
  /** Where ORAS directory layers are unpacked (e.g. `<cache dir>/unpacked`); a temp dir if unset. */
  unpackDir?: string;
}

/** One manifest as the tree shows it. */
interface Artifact {
  repository: RepositorySource;
  fetched: FetchedManifest;
  tree: ArtifactTree;
  mtime: Date;
}

/** Where a path leads. `pinned`: reached through a digest, so the path always means this. */
type Node =
  | { kind: 'registry-dir'; path: string }
  | { kind: 'repository-root'; repository: RepositorySource }
  | { kind: 'tree-dir'; artifact: Artifact; dir: DirectoryEntry; manifestRoot: boolean; pinned: boolean }
  | { kind: 'file'; artifact: Artifact; layer: Descriptor; pinned: boolean }
  | { kind: 'packed-dir'; artifact: Artifact; layer: Descriptor; prefix: string[]; pinned: boolean }
  | { kind: 'unpacked-dir'; artifact: Artifact; layer: Descriptor; localPath: string; mtime: Date; pinned: boolean }
  | { kind: 'unpacked-file'; artifact: Artifact; layer: Descriptor; localPath: string; mtime: Date; size: number; pinned: boolean };

/** Errors that are answers (ENOENT, ENOTDIR, ...), not trouble: not logged above debug. */
const ANSWER_CODES = new Set(['NOT_FOUND', 'NOT_A_DIRECTORY', 'IS_A_DIRECTORY', 'NO_SUCH_ATTRIBUTE', 'BAD_HANDLE', 'READ_ONLY']);
const WRITE_FLAGS = constants.O_WRONLY | constants.O_RDWR | constants.O_TRUNC | constants.O_APPEND | constants.O_CREAT;

export class OciFilesystem implements FilesystemOps {
  private readonly source: MountSource;
  private readonly reader: BlobReader;
  private readonly resolver: MetadataResolver;
  private readonly packed: PackedDirectories;
  private readonly handles = new HandleTable();
  private readonly owner: Ownership;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly mountedAt: Date;
  /** The time of what has no `created` annotation. */
  private readonly defaultTime: Date;
  private readonly statusExtra: (() => Record<string, unknown>) | undefined;
  private readonly repositories = new Map<string, RepositorySource>();
  private readonly repositoryNames = new WeakMap<readonly string[], RepositoryNames>();
  /** Trees live as long as their manifest stays in the resolver's memory. */
  private readonly trees = new WeakMap<FetchedManifest, { tree: ArtifactTree; created: Date | undefined }>();
  private readonly recentErrors = new Map<string, number>();

  constructor(options: FilesystemOptions) {
    this.source = options.source;
    this.reader = options.reader;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.mountedAt = new Date(this.now());
    // Whole seconds, one back: files add up to 999 ms from their digest to this time, and a
    // time in the future makes `ls -l` print a year instead of the time.
    this.defaultTime = new Date(Math.floor(this.mountedAt.getTime() / 1000) * 1000 - 1000);
    this.statusExtra = options.statusExtra;
    this.owner = {
      uid: options.uid ?? process.getuid?.() ?? 0,
      gid: options.gid ?? process.getgid?.() ?? 0,
      umask: options.umask ?? 0,
    };
    this.resolver = new MetadataResolver({
      metadata: options.metadata,
      parseManifest: options.parseManifest ?? parseManifest,
      logger: this.logger,
      now: this.now,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.negativeTtlMs !== undefined ? { negativeTtlMs: options.negativeTtlMs } : {}),
    });
    this.packed = new PackedDirectories({ reader: this.reader, logger: this.logger, ...(options.unpackDir ? { dir: options.unpackDir } : {}) });
  }

  /** Requests made for metadata, and answers given without one (tests and `ocifs status`). */
  get metadataCounters(): Readonly<MetadataResolver['counters']> {
    return this.resolver.counters;
  }

  getattr(path: string): Promise<NodeAttributes> {
    return this.guard('getattr', path, async () => this.attributesOf(await this.lookup(path)));
  }

  readdir(path: string): Promise<string[]> {
    return this.guard('readdir', path, async () => this.list(await this.lookup(path)));
  }

  open(path: string, flags: number): Promise<number> {
    return this.guard('open', path, async () => {
      const node = await this.lookup(path);
      if (node.kind !== 'file' && node.kind !== 'unpacked-file') {
        throw new OcifsError('IS_A_DIRECTORY', `${path} is a directory`);
      }
      if ((flags & WRITE_FLAGS) !== 0) throw new OcifsError('READ_ONLY', `${path}: the mount is read-only`);
      if (node.kind === 'file') {
        const reader = await this.reader.open(node.layer, node.artifact.repository);
        return this.handles.add({ path, digest: node.layer.digest, reader });
      }
      return this.handles.add({ path, digest: node.layer.digest, reader: await openLocalFile(node.localPath) });
    });
  }

  read(handle: number, buffer: Buffer, length: number, position: number): Promise<number> {
    return this.guard('read', `#${handle}`, async () => {
      const file = this.handles.get(handle);
      if (length <= 0) return 0;
      return file.reader.read(buffer, Math.min(length, buffer.length), position);
    });
  }

  readCached(handle: number, buffer: Buffer, length: number, position: number): number | undefined {
    const file = this.handles.get(handle);
    if (length <= 0) return 0;
    return file.reader.readSync?.(buffer, Math.min(length, buffer.length), position);
  }

  release(handle: number): Promise<void> {
    return this.guard('release', `#${handle}`, async () => {
      await this.handles.remove(handle).reader.close();
    });
  }

  // ---- answers from memory (no I/O, no await), for the adapter's hot path ----

  /** getattr's answer when everything on the way is in memory and fresh; else undefined. */
  getattrCached(path: string): NodeAttributes | undefined {
    const node = this.lookupCached(path);
    return node && this.attributesOf(node);
  }

  /** readdir's answer for a directory of a manifest's tree held in memory; else undefined. */
  readdirCached(path: string): string[] | undefined {
    const node = this.lookupCached(path);
    return node?.kind === 'tree-dir' ? [...node.dir.children.keys()] : undefined;
  }

  /** getxattr's answer from memory: the value, null for "no such attribute", or undefined. */
  getxattrCached(path: string, name: string): Buffer | null | undefined {
    if (path === '/' && name === STATUS_XATTR) return undefined;
    const node = this.lookupCached(path);
    if (!node) return undefined;
    const value = this.xattrsOf(node).get(name);
    return value === undefined ? null : Buffer.from(value);
  }

  getxattr(path: string, name: string): Promise<Buffer> {
    return this.guard('getxattr', path, async () => {
      // Answered without a lookup: `ocifs status` must work while the source is down.
      if (path === '/' && name === STATUS_XATTR) return Buffer.from(JSON.stringify(this.status()));
      const node = await this.lookup(path);
      const value = this.xattrsOf(node).get(name);
      if (value === undefined) throw new OcifsError('NO_SUCH_ATTRIBUTE', `${path} has no attribute ${name}`);
      return Buffer.from(value);
    });
  }

  listxattr(path: string): Promise<string[]> {
    return this.guard('listxattr', path, async () => {
      const names = [...this.xattrsOf(await this.lookup(path)).keys()];
      return path === '/' ? [...names, STATUS_XATTR] : names;
    });
  }

  async statfs(_path: string): Promise<FilesystemStats> {
    return { blockSize: 4096, blocks: 0, blocksFree: 0, files: 0, maxNameLength: NAME_MAX };
  }

  async close(): Promise<void> {
    const open = this.handles.drain();
    await Promise.allSettled(open.map((file) => file.reader.close()));
    await this.packed.close();
  }

  /** The counters behind `user.ocifs.status` on the mount root. */
  status(): Record<string, unknown> {
    return {
      uptimeSeconds: Math.round((this.now() - this.mountedAt.getTime()) / 1000),
      openHandles: this.handles.size,
      offline: this.resolver.isOffline,
      metadata: { ...this.resolver.counters },
      ...(this.reader.counters ? { reader: { ...this.reader.counters } } : {}),
      ...(this.statusExtra?.() ?? {}),
    };
  }

  // ---- path -> node ----

  private async lookup(path: string): Promise<Node> {
    const components = splitMountPath(path);
    switch (this.source.kind) {
      case 'registry':
        return this.walkRegistry(components);
      case 'repository':
        return this.walkRepository(this.source.repository, components);
      case 'reference': {
        const { repository, reference } = this.source;
        const digest = referenceDigest(reference);
        const artifact = digest
          ? await this.artifact(repository, digest, this.defaultTime)
          : await this.artifact(repository, await this.resolver.resolveTag(repository, reference), this.defaultTime);
        return this.walkArtifact(artifact, components, digest !== undefined);
      }
    }
  }

  /**
   * lookup() without I/O: the node when every step is answered from memory (fresh listings and
   * tags, manifests held by the resolver), else undefined and the caller takes the async path.
   * It never answers differently from lookup(): stale or failed steps are left to it, and so are
   * ORAS directory layers (their entries live on disk).
   */
  private lookupCached(path: string): Node | undefined {
    let components: string[];
    try {
      components = splitMountPath(path);
    } catch {
      return undefined;
    }
    switch (this.source.kind) {
      case 'registry':
        return this.walkRegistryCached(components);
      case 'repository':
        return this.walkRepositoryCached(this.source.repository, components);
      case 'reference': {
        const { repository, reference } = this.source;
        const digest = referenceDigest(reference);
        const artifact = this.artifactCached(repository, digest ?? this.resolver.peekTag(repository, reference), this.defaultTime);
        return artifact && this.walkArtifactCached(artifact, components, digest !== undefined);
      }
    }
  }

  private walkRegistryCached(components: string[]): Node | undefined {
    if (components.length === 0) return { kind: 'registry-dir', path: '' };
    if (this.source.kind !== 'registry') return undefined;
    const { repositories, namespace, description } = this.source;
    const list = repositories ?? this.resolver.peekListing(`catalog:${description}`);
    if (!list) return undefined;
    let names = this.repositoryNames.get(list);
    if (!names) this.repositoryNames.set(list, (names = new RepositoryNames(list, namespace)));
    let path = '';
    for (let i = 0; i < components.length; i++) {
      const component = components[i]!;
      if (names.hasChild(path, component)) path = joinRepositoryPath(path, component);
      else if (names.isRepository(path)) return this.walkRepositoryCached(this.repository(path), components.slice(i));
      else return undefined;
    }
    return { kind: 'registry-dir', path };
  }

  private walkRepositoryCached(repository: RepositorySource, components: string[]): Node | undefined {
    const [first, ...rest] = components;
    if (first === undefined) return { kind: 'repository-root', repository };
    const digest = digestFromComponent(first);
    if (digest) {
      const artifact = this.artifactCached(repository, digest, this.defaultTime);
      return artifact && this.walkArtifactCached(artifact, rest, true);
    }
    if (first.startsWith('@')) return undefined;
    const artifact = this.artifactCached(repository, this.resolver.peekTag(repository, first), this.defaultTime);
    return artifact && this.walkArtifactCached(artifact, rest, false);
  }

  private walkArtifactCached(root: Artifact, components: string[], pinned: boolean): Node | undefined {
    let artifact = root;
    let entry: TreeEntry = root.tree.root;
    let manifestRoot = true;
    for (const component of components) {
      if (entry.kind !== 'dir') return undefined;
      const next: TreeEntry | undefined = entry.children.get(component);
      if (next === undefined) return undefined;
      if (next.kind === 'child-manifest') {
        const child = this.artifactCached(artifact.repository, next.descriptor.digest, artifact.mtime);
        if (!child) return undefined;
        artifact = child;
        entry = artifact.tree.root;
        manifestRoot = true;
      } else {
        entry = next;
        manifestRoot = false;
      }
    }
    return treeNode(artifact, entry, manifestRoot, pinned);
  }

  /** artifact() for a manifest the resolver holds in memory whose tree is built; else undefined. */
  private artifactCached(repository: RepositorySource, reference: Descriptor | string | undefined, inherited: Date): Artifact | undefined {
    if (reference === undefined) return undefined;
    const fetched = this.resolver.peekManifest(typeof reference === 'string' ? reference : reference.digest);
    const built = fetched && this.trees.get(fetched);
    if (!fetched || !built) return undefined;
    return { repository, fetched, tree: built.tree, mtime: built.created ?? inherited };
  }

  private async walkRegistry(components: string[]): Promise<Node> {
    if (components.length === 0) return { kind: 'registry-dir', path: '' };
    const names = await this.currentRepositoryNames();
    let path = '';
    for (let i = 0; i < components.length; i++) {
      const component = components[i]!;
      if (names.hasChild(path, component)) {
        path = joinRepositoryPath(path, component);
      } else if (names.isRepository(path)) {
        return this.walkRepository(this.repository(path), components.slice(i));
      } else {
        throw new NotFoundError(`no repository or tag at ${JSON.stringify('/' + components.slice(0, i + 1).join('/'))}`);
      }
    }
    return { kind: 'registry-dir', path };
  }

  private async walkRepository(repository: RepositorySource, components: string[]): Promise<Node> {
    const [first, ...rest] = components;
    if (first === undefined) return { kind: 'repository-root', repository };
    const digest = digestFromComponent(first);
    if (digest) return this.walkArtifact(await this.artifact(repository, digest, this.defaultTime), rest, true);
    if (first.startsWith('@')) throw new NotFoundError(`${first} is not a manifest digest`);
    const descriptor = await this.resolver.resolveTag(repository, first);
    return this.walkArtifact(await this.artifact(repository, descriptor, this.defaultTime), rest, false);
  }

  private async walkArtifact(root: Artifact, components: string[], pinned: boolean): Promise<Node> {
    let artifact = root;
    let entry: TreeEntry = root.tree.root;
    let manifestRoot = true;
    for (let i = 0; i < components.length; i++) {
      const component = components[i]!;
      if (entry.kind === 'file') throw new OcifsError('NOT_A_DIRECTORY', `${component}: a path component is a file`);
      if (entry.kind === 'packed-dir') return this.walkUnpacked(artifact, entry, components.slice(i), pinned);
      if (entry.kind !== 'dir') throw new Error('unreachable: child manifests are entered when reached');
      const next: TreeEntry | undefined = entry.children.get(component);
      if (next === undefined) throw new NotFoundError(`no ${JSON.stringify(component)} in ${artifact.fetched.descriptor.digest}`);
      if (next.kind === 'child-manifest') {
        artifact = await this.artifact(artifact.repository, next.descriptor, artifact.mtime);
        entry = artifact.tree.root;
        manifestRoot = true;
      } else {
        entry = next;
        manifestRoot = false;
      }
    }
    return treeNode(artifact, entry, manifestRoot, pinned);
  }

  private async walkUnpacked(artifact: Artifact, entry: PackedDirectoryEntry, components: string[], pinned: boolean): Promise<Node> {
    const layer = entry.descriptor;
    const base = await this.packed.directory(layer, artifact.repository, entry.prefix);
    if (!components.every(isSafeComponent)) throw new NotFoundError(`no such entry in directory layer ${layer.digest}`);
    const localPath = join(base, ...components);
    let stats;
    try {
      stats = await lstat(localPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new NotFoundError(`no ${components.join('/')} in directory layer ${layer.digest}`);
      if (code === 'ENOTDIR') throw new OcifsError('NOT_A_DIRECTORY', `a component of ${components.join('/')} is a file`);
      throw localIOError(err, `reading unpacked directory layer ${layer.digest}`);
    }
    if (stats.isDirectory()) return { kind: 'unpacked-dir', artifact, layer, localPath, mtime: stats.mtime, pinned };
    if (stats.isFile()) return { kind: 'unpacked-file', artifact, layer, localPath, mtime: stats.mtime, size: stats.size, pinned };
    throw new NotFoundError(`no ${components.join('/')} in directory layer ${layer.digest}`);
  }

  /**
   * The artifact a manifest descriptor or digest names, as reached from `repository` (its blobs
   * are read from there); `inherited` is its mtime when it has no created annotation.
   */
  private async artifact(repository: RepositorySource, reference: Descriptor | string, inherited: Date): Promise<Artifact> {
    const fetched = await this.resolver.manifest(repository, reference);
    let built = this.trees.get(fetched);
    if (!built) {
      const tree = buildArtifactTree(fetched.parsed);
      if (tree.hidden.length > 0) {
        this.logger.warn('manifest entries left out: every name they could get is taken', {
          manifest: fetched.descriptor.digest,
          count: tree.hidden.length,
        });
      }
      built = { tree, created: createdTime(fetched.parsed) };
      this.trees.set(fetched, built);
    }
    return { repository, fetched, tree: built.tree, mtime: built.created ?? inherited };
  }

  private repository(name: string): RepositorySource {
    if (this.source.kind !== 'registry') throw new Error('unreachable: repositories by name exist in registry mounts only');
    const full = this.source.namespace ? `${this.source.namespace.replace(/\/+$/, '')}/${name}` : name;
    let repository = this.repositories.get(full);
    if (!repository) this.repositories.set(full, (repository = this.source.registry.repository(full)));
    return repository;
  }

  private async currentRepositoryNames(): Promise<RepositoryNames> {
    if (this.source.kind !== 'registry') throw new Error('unreachable: repository names exist in registry mounts only');
    const { registry, repositories, namespace, description } = this.source;
    const list = repositories ?? (await this.resolver.listing(`catalog:${description}`, () => registry.catalog()));
    let names = this.repositoryNames.get(list);
    if (!names) this.repositoryNames.set(list, (names = new RepositoryNames(list, namespace)));
    return names;
  }

  // ---- node -> answers ----

  private attributesOf(node: Node): NodeAttributes {
    switch (node.kind) {
      case 'registry-dir':
      case 'repository-root':
        return directoryAttributes(this.owner, { mtime: this.defaultTime, immutable: false });
      case 'tree-dir':
      case 'packed-dir':
        return directoryAttributes(this.owner, { mtime: node.artifact.mtime, immutable: node.pinned });
      case 'file':
        return fileAttributes(this.owner, { mtime: fileTime(node.artifact.mtime, node.layer.digest), immutable: node.pinned }, node.layer.size);
      case 'unpacked-dir':
        return directoryAttributes(this.owner, { mtime: node.mtime, immutable: node.pinned });
      case 'unpacked-file':
        return fileAttributes(this.owner, { mtime: node.mtime, immutable: node.pinned }, node.size);
    }
  }

  private async list(node: Node): Promise<string[]> {
    switch (node.kind) {
      case 'registry-dir': {
        const names = await this.currentRepositoryNames();
        const children = names.childrenOf(node.path);
        if (!names.isRepository(node.path)) return children;
        // A child repository's directory wins over a tag of the same name.
        const taken = new Set(children);
        const tags = await this.tagsOf(this.repository(node.path), true);
        return [...children, ...tags.filter((t) => !taken.has(t))];
      }
      case 'repository-root':
        return this.tagsOf(node.repository, false);
      case 'tree-dir':
        return [...node.dir.children.keys()];
      case 'file':
      case 'unpacked-file':
        throw new OcifsError('NOT_A_DIRECTORY', 'not a directory');
      case 'packed-dir':
        return listLocal(await this.packed.directory(node.layer, node.artifact.repository, node.prefix));
      case 'unpacked-dir':
        return listLocal(node.localPath);
    }
  }

  /** Tags that can be directory names; `missingIsEmpty` for a catalog name with no tags. */
  private async tagsOf(repository: RepositorySource, missingIsEmpty: boolean): Promise<string[]> {
    let tags: string[];
    try {
      tags = await this.resolver.tagListing(repository);
    } catch (err) {
      if (missingIsEmpty && isOcifsError(err) && err.code === 'NOT_FOUND') return [];
      throw err;
    }
    return tags.filter((t) => typeof t === 'string' && isSafeComponent(t) && !t.startsWith('@'));
  }

  private xattrsOf(node: Node): Xattrs {
    switch (node.kind) {
      case 'tree-dir':
        return node.manifestRoot ? manifestXattrs(node.artifact.fetched.descriptor, node.artifact.fetched.parsed) : new Map();
      case 'file':
      case 'packed-dir':
        return layerXattrs(node.layer);
      default:
        return new Map();
    }
  }

  /** Runs one operation; logs the cause of anything that is not a plain answer (it becomes EIO). */
  private async guard<T>(op: string, path: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isOcifsError(err) && ANSWER_CODES.has(err.code)) {
        this.logger.debug(`${op} ${path}: ${err.message}`, { code: err.code });
      } else {
        this.logTrouble(op, path, err);
      }
      throw err;
    }
  }

  /** One log line per distinct failure per negative TTL: an outage must not flood the log. */
  private logTrouble(op: string, path: string, err: unknown): void {
    const key = `${op}\u0000${err instanceof Error ? err.message : String(err)}`;
    const now = this.now();
    const last = this.recentErrors.get(key);
    if (last !== undefined && now - last < this.resolver.negativeTtlMs) return;
    if (this.recentErrors.size > 1000) this.recentErrors.clear();
    this.recentErrors.set(key, now);
    const cause = err instanceof Error ? err.cause : undefined;
    this.logger.error(`${op} ${path} failed`, { error: err, ...(cause !== undefined ? { cause } : {}) });
  }
}

/** `/a/b` -> ['a', 'b']; `/` -> []. The kernel sends clean absolute paths; anything else is ENOENT. */
export function splitMountPath(path: string): string[] {
  if (!path.startsWith('/')) throw new NotFoundError(`not an absolute path: ${JSON.stringify(path)}`);
  if (path === '/') return [];
  const components = path.slice(1).split('/');
  if (components.some((c) => c === '' || c === '.' || c === '..')) {
    throw new NotFoundError(`not a clean path: ${JSON.stringify(path)}`);
  }
  return components;
}

async function listLocal(dir: string): Promise<string[]> {
  try {
    const entries = await readLocalDir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isDirectory()).map((e) => e.name);
  } catch (err) {
    throw localIOError(err, `listing ${dir}`);
  }
}

async function openLocalFile(path: string): Promise<BlobHandle> {
  let file;
  try {
    file = await openLocal(path, 'r');
  } catch (err) {
    throw localIOError(err, `opening ${path}`);
  }
  const fd = file.fd;
  return {
    read: async (buffer, length, position) => (await file.read(buffer, 0, length, position)).bytesRead,
    // Unpacked from a verified layer: always local.
    readSync: (buffer, length, position) => {
      try {
        return readSync(fd, buffer, 0, length, position);
      } catch (err) {
        throw localIOError(err, `reading ${path}`);
      }
    },
    close: () => file.close(),
  };
}


/** The node a walk ends on, whether it walked from memory or with I/O. */
function treeNode(artifact: Artifact, entry: Exclude<TreeEntry, { kind: 'child-manifest' }>, manifestRoot: boolean, pinned: boolean): Node {
  switch (entry.kind) {
    case 'dir':
      return { kind: 'tree-dir', artifact, dir: entry, manifestRoot, pinned };
    case 'file':
      return { kind: 'file', artifact, layer: entry.descriptor, pinned };
    case 'packed-dir':
      return { kind: 'packed-dir', artifact, layer: entry.descriptor, prefix: entry.prefix, pinned };
  }
}

/** The digest a reference mount names (`@sha256:...` or `sha256:...`); undefined for a tag. */
function referenceDigest(reference: string): string | undefined {
  return digestFromComponent(reference.startsWith('@') ? reference : `@${reference}`);
}
