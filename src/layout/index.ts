/**
 * src/layout — OCI image layouts on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as
 * `oras push --oci-layout`, skopeo's `oci:` transport and umoci write them: a target like a
 * registry repository (read in place, written atomically) and the `PATH[:TAG|@DIGEST]` syntax.
 *
 * Owns: files inside a layout directory. Must not touch: anything outside the layout directory
 * (ingestFile only reads its source), the network, the cache, the CLI's flags.
 */
export { LayoutTarget, LAYOUT_FILE, INDEX_FILE, BLOBS_DIR, INGEST_DIR, LAYOUT_VERSION } from './layout-target.js';
export type { OpenLayoutOptions, IngestOptions, IngestFileOptions } from './layout-target.js';
export type { WrittenBlob } from './blob-files.js';
export { parseLayoutSpec, type LayoutSpec } from './layout-spec.js';
export {
  emptyIndex,
  findByDigest,
  findByRefName,
  refNameOf,
  tagsOf,
  withTag,
  withoutTag,
  withUntagged,
  withoutRefName,
  serializeIndex,
} from './index-json.js';
