/**
 * Validation of untrusted JSON (manifests, indexes, descriptors, an OCI layout's index.json)
 * into the types of ./types.ts. Everything that comes from a registry or a layout directory goes
 * through here before any other code looks at it.
 *
 * Rules: bytes are size-limited before they are parsed; JSON must be UTF-8; unknown fields are
 * allowed (forward compatibility) but dropped from the result, so nothing downstream can trust
 * them; a manifest must be unambiguously a manifest or an index (the image-spec's fix for
 * CVE-2021-41190). Every failure is an InvalidContentError whose message names the JSON path of
 * the first problem found (./json-shape.ts says in which order) and counts the others.
 * Pure: no I/O.
 */
import { InvalidContentError } from '../errors.js';
import { digestOf, isDigest, parseDigest } from '../ref/digest.js';
import {
  array,
  checkShape,
  describe,
  literal,
  number,
  object,
  optional,
  quote,
  record,
  refine,
  string,
  transform,
  truncate,
  type Shape,
} from './json-shape.js';
import { baseMediaType, isValidMediaType } from './media-type.js';
import {
  MAX_MANIFEST_BYTES,
  MediaType,
  isIndexMediaType,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type ParsedManifest,
  type Platform,
} from './types.js';

/** index.json of an OCI layout lists every tag; it may be far larger than a manifest. */
export const MAX_INDEX_JSON_BYTES = 64 * 1024 * 1024;

/** Manifest media types we understand, keyed by their lowercase form. */
const MANIFEST_TYPES = new Map<string, string>(
  [MediaType.ImageManifest, MediaType.ImageIndex, MediaType.DockerManifest, MediaType.DockerManifestList].map((t) => [t, t]),
);

/** Content types that say nothing about the manifest (static file servers, OCI layouts). */
const GENERIC_CONTENT_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain', 'binary/octet-stream']);

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// ---------------------------------------------------------------------------------------------
// Shapes

const mediaTypeString = refine(string(), (value, report) => {
  if (!isValidMediaType(value)) report(`${quote(value)} is not a valid media type (type/subtype[; name=value])`);
});

const digestString = refine(string(), (value, report) => {
  if (value.length > 200) {
    report(`digest is ${value.length} characters long, not ALGORITHM:HEX`);
    return;
  }
  try {
    parseDigest(value);
  } catch (err) {
    report((err as Error).message);
  }
});

const sizeNumber = refine(number(), (value, report) => {
  if (!Number.isInteger(value) || value < 0) {
    report(`must be a non-negative integer, got ${String(value)}`);
  } else if (!Number.isSafeInteger(value)) {
    report(`${String(value)} is larger than the largest safe integer (2^53-1)`);
  }
});

/** string -> string; a `__proto__` key is rejected rather than lost (see record()). */
const annotationsRecord = record(string(), 'this annotation key is not allowed');

const platformObject = object<Platform>({
  architecture: string(),
  os: string(),
  'os.version': optional(string()),
  'os.features': optional(array(string())),
  variant: optional(string()),
  features: optional(array(string())),
});

const base64Data = refine(string(), (value, report) => {
  if (!STRICT_BASE64.test(value)) report('is not valid base64');
});

const descriptorObject = refine(
  object<Descriptor>({
    mediaType: mediaTypeString,
    digest: digestString,
    size: transform(sizeNumber, (n) => n + 0), // -0 -> 0
    urls: optional(array(string())),
    annotations: optional(annotationsRecord),
    data: optional(base64Data),
    platform: optional(platformObject),
    artifactType: optional(mediaTypeString),
  }),
  (d, report) => {
    // Embedded data is content like any other: it must be the bytes the digest names.
    // Refinements run even after other fields failed their own checks: only judge sound ones.
    if (d.data === undefined || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) return;
    const bytes = Buffer.from(d.data, 'base64');
    if (bytes.length !== d.size) {
      report(`decodes to ${bytes.length} bytes but size is ${d.size}`, 'data');
      return;
    }
    const actual = digestOf(bytes, parseDigest(d.digest).algorithm);
    if (actual !== d.digest) report(`does not match the digest: its digest is ${actual}`, 'data');
  },
);

const manifestObject = object<ImageManifest>({
  schemaVersion: literal(2),
  mediaType: optional(mediaTypeString),
  artifactType: optional(mediaTypeString),
  config: descriptorObject,
  layers: array(descriptorObject),
  subject: optional(descriptorObject),
  annotations: optional(annotationsRecord),
});

const indexObject = object<ImageIndex>({
  schemaVersion: literal(2),
  mediaType: optional(mediaTypeString),
  artifactType: optional(mediaTypeString),
  manifests: array(descriptorObject),
  subject: optional(descriptorObject),
  annotations: optional(annotationsRecord),
});

const ociLayoutObject = object<{ imageLayoutVersion: string }>({ imageLayoutVersion: string() });

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Validates a manifest or index fetched from a registry or a layout. `contentType` is the HTTP
 * Content-Type it was served with, when there was one. See the module comment for the rules.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const what = 'manifest';
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new InvalidContentError(`invalid ${what}: it is ${bytes.length} bytes, more than the limit of ${MAX_MANIFEST_BYTES} bytes`);
  }
  const body = parseJsonObject(bytes, what);
  checkSchemaVersion(body, what);
  const mediaType = manifestMediaType(body, contentType);
  if (isIndexMediaType(mediaType)) {
    return { kind: 'index', mediaType, index: validate(indexObject, body, what) };
  }
  return { kind: 'manifest', mediaType, manifest: validate(manifestObject, body, what) };
}

/** Validates one descriptor taken from already-parsed JSON (a config, a referrers entry ...). */
export function parseDescriptor(value: unknown): Descriptor {
  return validate(descriptorObject, value, 'descriptor');
}

/** Validates an OCI image layout's `index.json` (an OCI image index, up to 64 MiB). */
export function parseIndexJson(bytes: Uint8Array): ImageIndex {
  const what = 'index.json';
  if (bytes.length > MAX_INDEX_JSON_BYTES) {
    throw new InvalidContentError(`invalid ${what}: it is ${bytes.length} bytes, more than the limit of ${MAX_INDEX_JSON_BYTES} bytes`);
  }
  const body = parseJsonObject(bytes, what);
  checkSchemaVersion(body, what);
  if (body.mediaType !== undefined && (typeof body.mediaType !== 'string' || baseMediaType(body.mediaType) !== MediaType.ImageIndex)) {
    throw new InvalidContentError(`invalid ${what}: mediaType: must be ${quote(MediaType.ImageIndex)}, got ${describe(body.mediaType)}`);
  }
  return validate(indexObject, body, what);
}

/** Validates an OCI layout's `oci-layout` marker file; callers decide which versions they read. */
export function parseOciLayoutFile(bytes: Uint8Array): { imageLayoutVersion: string } {
  const what = 'oci-layout file';
  if (bytes.length > 64 * 1024) throw new InvalidContentError(`invalid ${what}: it is ${bytes.length} bytes, more than 64 KiB`);
  return validate(ociLayoutObject, parseJsonObject(bytes, what), what);
}

// ---------------------------------------------------------------------------------------------
// Steps

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, so JSON.parse rejects it as other OCI tools do.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new InvalidContentError(`invalid ${what}: it is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidContentError(`invalid ${what}: malformed JSON (${truncate((err as Error).message, 160)})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidContentError(`invalid ${what}: expected a JSON object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkSchemaVersion(body: Record<string, unknown>, what: string): void {
  const version = body.schemaVersion;
  if (version === 2) return;
  if (version === 1) {
    throw new InvalidContentError(`invalid ${what}: schemaVersion is 1 (Docker image manifest schema 1), which is not supported; only schemaVersion 2 is`);
  }
  throw new InvalidContentError(`invalid ${what}: schemaVersion: must be 2, got ${version === undefined ? 'nothing' : describe(version)}`);
}

/**
 * The media type of a manifest: the body's `mediaType`, else the Content-Type, else inferred from
 * the shape. Any two of these that disagree make the manifest invalid: a manifest that could be
 * read as an index (or the other way round) is how CVE-2021-41190 confused clients.
 */
function manifestMediaType(body: Record<string, unknown>, contentType: string | undefined): string {
  const fail = (why: string): InvalidContentError => new InvalidContentError(`invalid manifest: ${why}`);

  let declared: string | undefined;
  if (body.mediaType !== undefined) {
    if (typeof body.mediaType !== 'string') throw fail(`mediaType: expected a string, got ${describe(body.mediaType)}`);
    if (!isValidMediaType(body.mediaType)) throw fail(`mediaType: ${quote(body.mediaType)} is not a valid media type`);
    declared = baseMediaType(body.mediaType);
  }
  const served = contentType === undefined ? undefined : baseMediaType(contentType);
  const servedSays = served === undefined || GENERIC_CONTENT_TYPES.has(served) ? undefined : served;

  const hasManifests = body.manifests !== undefined;
  const hasManifestFields = body.config !== undefined || body.layers !== undefined;
  if (hasManifests && hasManifestFields) {
    throw fail('it has both "manifests" (an index) and "config"/"layers" (a manifest), which is ambiguous');
  }
  const shape = hasManifests ? 'index' : hasManifestFields ? 'manifest' : undefined;

  if (declared !== undefined && servedSays !== undefined && declared !== servedSays) {
    throw fail(`mediaType ${quote(declared)} contradicts the Content-Type ${quote(contentType ?? '')}`);
  }
  const chosen = declared ?? servedSays ?? (shape === 'index' ? MediaType.ImageIndex : shape === 'manifest' ? MediaType.ImageManifest : undefined);
  if (chosen === undefined) throw fail('it has neither "manifests" (an index) nor "config" and "layers" (a manifest)');

  const known = MANIFEST_TYPES.get(chosen);
  if (known === undefined) {
    const source = declared !== undefined ? 'mediaType' : 'Content-Type';
    throw fail(`${source} ${quote(chosen)} is not a supported manifest media type (${[...MANIFEST_TYPES.keys()].join(', ')})`);
  }
  const kind = isIndexMediaType(known) ? 'index' : 'manifest';
  if (shape !== undefined && shape !== kind) {
    throw fail(
      shape === 'index'
        ? `media type ${quote(known)} is a manifest, but the body has "manifests" like an index`
        : `media type ${quote(known)} is an index, but the body has "config"/"layers" like a manifest`,
    );
  }
  return known;
}

function validate<T>(shape: Shape<T>, value: unknown, what: string): T {
  const result = checkShape(shape, value);
  if (result.ok) return result.value;
  const [first] = result.issues;
  const count = result.issues.length;
  const where = first && first.path.length > 0 ? `${formatJsonPath(first.path)}: ` : '';
  const more = count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''})` : '';
  throw new InvalidContentError(`invalid ${what}: ${where}${first?.message ?? 'does not validate'}${more}`);
}

// ---------------------------------------------------------------------------------------------
// Messages

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `["layers", 3, "digest"]` -> `layers[3].digest`; odd keys quoted: `annotations["a.b"]`. */
export function formatJsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${quote(String(key))}]`;
  }
  return out;
}
