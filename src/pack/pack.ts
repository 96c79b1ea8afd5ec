/**
 * Files and directories -> an artifact, as `oras push` makes it: into an OCI layout
 * (packToLayout) or as a source to push from the files themselves (packToSource).
 *
 * Each file is read once for its digest (hashed while it is copied into the layout); only its
 * first bytes are read again, to detect its media type when none was given.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, InvalidReferenceError, LocalIOError, localIOError } from '../errors.js';
import type { LayoutTarget } from '../layout/layout-target.js';
import { identityOf, readAt, sameIdentity, type WrittenBlob } from '../layout/blob-files.js';
import { hashFile } from '../layout/file-copy.js';
import { isValidMediaType } from '../oci/media-type.js';
import type { ReadableTarget } from '../oci/target.js';
import { EMPTY_DESCRIPTOR, EMPTY_JSON, type Descriptor } from '../oci/types.js';
import { isValidTag } from '../ref/reference.js';
import { checkAnnotations, parseAnnotationFile, type AnnotationFile } from './annotations.js';
import { applyCreated, type CreatedOption } from './created.js';
import type { PackInput } from './inputs.js';
import { buildManifest, UNKNOWN_CONFIG_TYPE, type BuiltManifest } from './manifest.js';
import { detectMediaType, SNIFF_BYTES, tiffIfdOffset } from './media-types.js';
import { PackedSource, type BlobOrigin } from './packed-source.js';
import { planFiles, type PlannedFile } from './plan.js';

export interface PackOptions {
  /** The manifest's artifactType (ORAS's default when neither this nor a config is given: application/vnd.unknown.artifact.v1). */
  artifactType?: string;
  /** Manifest annotations (`--annotation k=v`). */
  annotations?: Record<string, string>;
  /** ORAS's annotation file: `$manifest`, `$config` and per-file keys. Not together with `annotations`. */
  annotationFile?: string;
  /** A config blob; without it the OCI empty descriptor. Media type default: application/vnd.unknown.config.v1+json. */
  config?: { path: string; mediaType?: string };
  /** org.opencontainers.image.created: `none` (default, reproducible), `now`, or an RFC 3339 time. */
  created?: CreatedOption;
  /** Bytes hashed (and copied) so far, as deltas. */
  onProgress?: (bytes: number) => void;
  /** Once the files are known, before any is read: their total size (what onProgress adds up to). */
  onTotal?: (bytes: number) => void;
  /** packToLayout: hard-link files into the layout when on the same filesystem. */
  link?: boolean;
  /** Files read at once (default 4). */
  concurrency?: number;
  /** The clock for `created: 'now'`. */
  now?: () => Date;
  signal?: AbortSignal;
}

export interface PackResult {
  /** The manifest's descriptor (with artifactType and annotations, as ORAS lists it in index.json). */
  descriptor: Descriptor;
  /** The manifest's exact bytes. */
  manifest: Buffer;
  layers: Descriptor[];
  config: Descriptor;
}

/** Packs into an OCI layout and points each tag at the manifest (no tags: listed by digest). */
export async function packToLayout(layout: LayoutTarget, inputs: PackInput[], tags: string[], options: PackOptions = {}): Promise<PackResult> {
  for (const tag of tags) {
    if (!isValidTag(tag)) throw new InvalidReferenceError(`invalid tag ${JSON.stringify(tag)}`);
  }
  const prepared = await prepare(inputs, options);
  const ingestOptions = { link: options.link, onProgress: options.onProgress, signal: options.signal };

  const layers = await mapLimited(prepared.files, options.concurrency ?? 4, async (file) => {
    const mediaType = file.mediaType ?? (await sniffMediaType(file));
    const written = await layout.ingestFile(file.path, ingestOptions);
    return layerDescriptor(file, mediaType, written);
  });

  let config: Descriptor | undefined;
  if (options.config) {
    const written = await layout.ingestFile(options.config.path, ingestOptions);
    config = configDescriptor(options.config.mediaType, written, prepared.configAnnotations);
  }

  const built = build(layers, config, prepared, options);
  if (built.usesEmptyBlob && !(await layout.exists(EMPTY_DESCRIPTOR))) {
    await layout.ingest([EMPTY_JSON], { expected: { digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size } });
  }
  await layout.pushManifest(built.descriptor, built.bytes, tags, { signal: options.signal });
  return result(built);
}

/**
 * Hashes the files (one pass each) and returns a target that serves the manifest (by its
 * digest) and the blobs straight from the files, for pushing without a layout in between.
 */
export async function packToSource(inputs: PackInput[], options: PackOptions = {}): Promise<PackResult & { source: ReadableTarget }> {
  const prepared = await prepare(inputs, options);
  const blobs = new Map<string, BlobOrigin>();

  const layers = await mapLimited(prepared.files, options.concurrency ?? 4, async (file) => {
    const mediaType = file.mediaType ?? (await sniffMediaType(file));
    const written = await hashPath(file.path, options);
    if (!blobs.has(written.digest)) blobs.set(written.digest, { kind: 'file', path: file.path });
    return layerDescriptor(file, mediaType, written);
  });

  let config: Descriptor | undefined;
  if (options.config) {
    const written = await hashPath(options.config.path, options);
    config = configDescriptor(options.config.mediaType, written, prepared.configAnnotations);
    if (!blobs.has(written.digest)) blobs.set(written.digest, { kind: 'file', path: options.config.path });
  }

  const built = build(layers, config, prepared, options);
  if (built.usesEmptyBlob) blobs.set(EMPTY_DESCRIPTOR.digest, { kind: 'bytes', bytes: EMPTY_JSON });
  const description = `packed:${inputs.map((i) => i.path).join(',')}`;
  const source = new PackedSource(
    description,
    { descriptor: built.descriptor, bytes: built.bytes, parsed: { kind: 'manifest', mediaType: built.descriptor.mediaType, manifest: built.manifest } },
    blobs,
  );
  return { ...result(built), source };
}

// ---- steps ----

interface Prepared {
  files: PlannedFile[];
  manifestAnnotations: Record<string, string>;
  configAnnotations: Record<string, string>;
}

async function prepare(inputs: PackInput[], options: PackOptions): Promise<Prepared> {
  if (options.artifactType !== undefined && !isValidMediaType(options.artifactType)) {
    throw new InvalidArgumentError(`invalid artifact type ${JSON.stringify(options.artifactType)}: expected type/subtype`);
  }
  if (options.config?.mediaType !== undefined && !isValidMediaType(options.config.mediaType)) {
    throw new InvalidArgumentError(`invalid config media type ${JSON.stringify(options.config.mediaType)}: expected type/subtype`);
  }
  for (const input of inputs) {
    if (input.mediaType !== undefined && !isValidMediaType(input.mediaType)) {
      throw new InvalidArgumentError(`invalid media type ${JSON.stringify(input.mediaType)} for ${input.path}: expected type/subtype`);
    }
  }

  let file: AnnotationFile | undefined;
  if (options.annotationFile !== undefined) {
    if (options.annotations && Object.keys(options.annotations).length > 0) {
      throw new InvalidArgumentError('--annotation and --annotation-file cannot both be given', {
        hint: 'put the manifest annotations under "$manifest" in the annotation file',
      });
    }
    const text = await readFile(options.annotationFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new InvalidArgumentError(`annotation file ${options.annotationFile}: no such file`);
      throw localIOError(err, `cannot read annotation file ${options.annotationFile}`);
    });
    file = parseAnnotationFile(text, options.annotationFile);
  }
  const given = checkAnnotations(options.annotations ?? file?.manifest ?? {}, 'manifest annotations');
  const manifestAnnotations = applyCreated(given, options.created, options.now ?? (() => new Date()));
  const files = await planFiles(inputs, file?.files);
  if (options.onTotal) options.onTotal(await totalSize([...files.map((f) => f.path), ...(options.config ? [options.config.path] : [])]));
  return { files, manifestAnnotations, configAnnotations: file?.config ?? {} };
}

/** The sizes of the files added up; one that cannot be read counts 0 here and fails when it is read. */
async function totalSize(paths: string[]): Promise<number> {
  const sizes = await Promise.all(paths.map((path) => stat(path).then((s) => s.size, () => 0)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

function build(layers: Descriptor[], config: Descriptor | undefined, prepared: Prepared, options: PackOptions): BuiltManifest {
  return buildManifest({
    layers,
    artifactType: options.artifactType,
    config,
    configAnnotations: prepared.configAnnotations,
    annotations: prepared.manifestAnnotations,
  });
}

function result(built: BuiltManifest): PackResult {
  return { descriptor: built.descriptor, manifest: built.bytes, layers: built.manifest.layers, config: built.manifest.config };
}

function layerDescriptor(file: PlannedFile, mediaType: string, written: WrittenBlob): Descriptor {
  return { mediaType, digest: written.digest, size: written.size, annotations: file.annotations };
}

/** ORAS: a --config file's descriptor carries only the `$config` annotations (not a title). */
function configDescriptor(mediaType: string | undefined, written: WrittenBlob, annotations: Record<string, string>): Descriptor {
  const descriptor: Descriptor = { mediaType: mediaType ?? UNKNOWN_CONFIG_TYPE, digest: written.digest, size: written.size };
  if (Object.keys(annotations).length > 0) descriptor.annotations = annotations;
  return descriptor;
}

/** Reads the head of a file (and a TIFF's first IFD when it lies further in) to detect its type. */
export async function sniffMediaType(file: { path: string; title: string }): Promise<string> {
  const handle = await open(file.path, 'r').catch((err: unknown) => {
    throw localIOError(err, `cannot read ${file.path}`);
  });
  try {
    const head = await readAt(handle, 0, SNIFF_BYTES);
    const ifd = tiffIfdOffset(head);
    const more = ifd === undefined ? undefined : { offset: ifd, bytes: await readAt(handle, ifd, SNIFF_BYTES) };
    return detectMediaType(file.title, head, more);
  } catch (err) {
    throw localIOError(err, `cannot read ${file.path}`);
  } finally {
    await handle.close();
  }
}

/** Digest and size of a file in one read pass; fails if the file changes meanwhile. */
async function hashPath(path: string, options: PackOptions): Promise<WrittenBlob> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw localIOError(err, `cannot read ${path}`);
  });
  try {
    const before = await identityOf(handle);
    const written = await hashFile(handle, { sizeHint: before.size, onProgress: options.onProgress, signal: options.signal });
    if (written.size !== before.size || !sameIdentity(before, await identityOf(handle))) {
      throw new LocalIOError(`${path} changed while it was being read`, { hint: 'run again once nothing is writing to it' });
    }
    return written;
  } catch (err) {
    throw localIOError(err, `cannot read ${path}`);
  } finally {
    await handle.close();
  }
}

/**
 * Runs `work` over `items` with at most `limit` at once, keeping the order of results. On a
 * failure no new item starts; the first error is thrown once the running ones have settled.
 */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}
