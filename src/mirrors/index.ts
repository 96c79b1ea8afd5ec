/**
 * src/mirrors — reading registries through pull-through cache mirrors (`--mirror HOST`, a JSON
 * hosts file): which mirrors serve which origin (config, load), whether a mirror is worth asking
 * (health), and MirroredRepository, a ReadableTarget that asks mirrors first and the origin last,
 * verifying everything addressed by digest. See docs/mirrors.md.
 *
 * Owns only that choice of source. It speaks HTTP only through src/registry's public API, never
 * writes (pushes always go to the origin) and does not cache (src/cache) or map errors to exit
 * codes or errno (the edges do).
 */
export {
  ANY_REGISTRY,
  mergeMirrorConfigs,
  mirrorConfigFromFlags,
  mirrorId,
  mirrorsFor,
  normaliseRegistryKey,
  parseMirrorConfig,
  parseMirrorFlag,
  parseMirrorHost,
  type MirrorConfig,
  type MirrorSpec,
} from './config.js';
export { loadMirrorConfigFile, resolveMirrorConfig } from './load.js';
export { DEFAULT_HEALTH_POLICY, MirrorHealth, type HealthPolicy, type MirrorState, type Transition } from './health.js';
export { Mirror, MirrorPool, MIRROR_RETRY_POLICY, MIRROR_TIMEOUTS, type MirrorPoolOptions } from './mirror.js';
export { MirroredRepository, isOutage, type MirroredRepositoryOptions } from './mirrored-repository.js';
