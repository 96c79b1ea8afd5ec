/**
 * src/fs — the mount's virtual tree and file operations, with no FUSE import.
 *
 * Owns: path -> node (registry directories, tags, artifacts, files), naming of layers, stat and
 * xattr answers, tag/listing freshness and offline answers, open handles bound to blobs, and
 * unpacking ORAS directory layers. Behaviour is written down in docs/SEMANTICS.md.
 * Must not touch: FUSE or errno (src/fuse maps the OcifsError codes thrown here), HTTP (it uses
 * RepositorySource / RegistrySource), blob bytes and their cache (src/read's BlobReader), the
 * SQLite schema (src/cache's MetadataStore). It only reads; nothing here writes to a source.
 *
 * Module map: filesystem.ts (OciFilesystem, the FilesystemOps of ops.ts) uses
 * freshness.ts (TTL / negative / offline lookups), artifact-tree.ts + names.ts (pure naming),
 * repository-names.ts (pure repository directories), attributes.ts and xattrs.ts (pure answers),
 * handles.ts, packed-directories.ts (ORAS directory layers) and sources.ts (the interfaces).
 */
export type { FilesystemOps, FilesystemStats, NodeAttributes } from './ops.js';
export { OciFilesystem, splitMountPath, type FilesystemOptions } from './filesystem.js';
export {
  registryMount,
  repositoryMount,
  referenceMount,
  type MountSource,
  type RepositorySource,
  type RegistrySource,
  type BlobReader,
  type BlobHandle,
  type MetadataStore,
  type StoredManifest,
  type StoredTag,
  type StoredListing,
  type ManifestParser,
} from './sources.js';
export { DEFAULT_TTL_MS, DEFAULT_NEGATIVE_TTL_MS, MetadataResolver, isOfflineError, type FreshnessCounters } from './freshness.js';
export { buildArtifactTree, MAX_DIRECTORIES, type ArtifactTree, type TreeEntry } from './artifact-tree.js';
export { NAME_MAX, PATH_MAX, splitTitle, digestNames, extensionFor, platformName, componentProblem } from './names.js';
export { STATUS_XATTR } from './xattrs.js';
