/**
 * ocifs as a library: the pieces under the CLI, as named exports. The CLI (src/cli) uses only
 * what is exported here, so other programs can do everything it does.
 */
export * from './errors.js';
export * from './log.js';
export * from './ref/index.js';
export * from './oci/index.js';
export * from './registry/index.js';
export * from './layout/index.js';
export {
  packToLayout,
  packToSource,
  parsePackInput,
  buildManifest,
  detectMediaType,
  type PackOptions,
  type PackResult,
  type PackInput,
} from './pack/index.js';
export { copy, children, type CopyOptions, type CopyProgress, type CopyResult } from './copy/copy.js';
export { pullToDirectory, type PullOptions, type PullResult } from './copy/pull.js';
export { planOutputPaths, outputPathFor, type OutputPlan } from './copy/output-paths.js';
export { Cache, type CacheOptions, type CacheStats, type PruneResult, type VerifyResult, type ClearResult } from './cache/index.js';
export { BlobReader, createReadCounters, type ReaderOptions, type ReadCounters, type RangeSource } from './read/index.js';
export {
  OciFilesystem,
  registryMount,
  repositoryMount,
  referenceMount,
  DEFAULT_TTL_MS,
  DEFAULT_NEGATIVE_TTL_MS,
  type FilesystemOptions,
  type FilesystemOps,
  type NodeAttributes,
  type MountSource,
} from './fs/index.js';
export {
  mountFilesystem,
  unmountPath,
  readMountStatus,
  checkFuseAvailable,
  runUntilSignalled,
  errnoFor,
  type MountOptions,
  type MountedFilesystem,
} from './fuse/index.js';
export { parseTargetSpec, specReference, TargetFactory, type TargetSpec } from './targets.js';
export { resolveConfig, parseSize, parseDuration, type Config, type ConnectionConfig } from './config.js';
