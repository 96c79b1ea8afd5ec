/**
 * src/pack — files and directories -> an ORAS-style artifact (one titled layer per file), with
 * the manifest byte-identical to what `oras push` writes for the same files and options.
 *
 * Owns: media type detection, titles, the Go-compatible manifest encoding, packing into a layout
 * (via src/layout) or into a source to push from. Must not touch: the network, the cache, the
 * CLI's flags and output (progress is a callback), the input files (read only).
 */
export { packToLayout, packToSource, sniffMediaType, type PackOptions, type PackResult } from './pack.js';
export { parsePackInput, cleanPath, titleBase, titleProblem, type PackInput } from './inputs.js';
export {
  detectMediaType,
  tiffIfdOffset,
  MEDIA_TYPE_RULES,
  MEDIA_TYPES,
  DEFAULT_MEDIA_TYPE,
  SNIFF_BYTES,
  type MediaTypeRule,
} from './media-types.js';
export { buildManifest, UNKNOWN_ARTIFACT_TYPE, UNKNOWN_CONFIG_TYPE, type ManifestSpec, type BuiltManifest } from './manifest.js';
export { goManifest, goDescriptor, goString, goStringMap } from './go-json.js';
export { applyCreated, formatRfc3339, isRfc3339, type CreatedOption } from './created.js';
export { parseAnnotationFile, MANIFEST_KEY, CONFIG_KEY, type AnnotationFile } from './annotations.js';
export { planFiles, type PlannedFile } from './plan.js';
export { PackedSource, type BlobOrigin } from './packed-source.js';
