/**
 * File and directory names derived from untrusted manifests: which titles are usable, and the
 * names given to what has no usable title. Pure: no I/O, no state.
 *
 * A name produced here is always a single safe path component (no `/`, not `.`/`..`, no NUL or
 * control characters, at most NAME_MAX bytes, well-formed Unicode), so nothing a registry serves
 * can make the tree escape its directory.
 */
import type { Descriptor, Platform } from '../oci/types.js';
import { Annotation } from '../oci/types.js';
import { isValidTag } from '../ref/reference.js';

/** Linux limits: bytes per path component, bytes per path. */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

const CONTROL = /[\u0000-\u001f\u007f]/;
// A lone surrogate has no UTF-8 form: the kernel would hand back U+FFFD and the lookup would miss.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a name or title is refused; undefined when it is usable. */
export type NameProblem =
  | 'empty'
  | 'dot'
  | 'slash'
  | 'control-character'
  | 'malformed-unicode'
  | 'too-long';

/** Checks one path component (a file name, a tag, a platform directory name). */
export function componentProblem(name: string): NameProblem | undefined {
  if (name === '') return 'empty';
  if (name === '.' || name === '..') return 'dot';
  if (name.includes('/')) return 'slash';
  if (CONTROL.test(name)) return 'control-character';
  if (LONE_SURROGATE.test(name)) return 'malformed-unicode';
  if (Buffer.byteLength(name, 'utf8') > NAME_MAX) return 'too-long';
  return undefined;
}

export function isSafeComponent(name: string): boolean {
  return componentProblem(name) === undefined;
}

export type TitleProblem = NameProblem | 'absolute';

/**
 * Splits a layer title (`dir/file.tif`) into components, or says why it cannot be used.
 * One trailing `/` is tolerated (ORAS directory titles are sometimes written `dir/`); anything
 * else that is not a plain relative path is refused, never repaired: a repaired name could
 * collide with a real one.
 */
export function splitTitle(title: string): { components: string[] } | { problem: TitleProblem } {
  if (title.startsWith('/')) return { problem: 'absolute' };
  const trimmed = title.endsWith('/') ? title.slice(0, -1) : title;
  if (trimmed === '') return { problem: 'empty' };
  if (Buffer.byteLength(trimmed, 'utf8') >= PATH_MAX) return { problem: 'too-long' };
  const components = trimmed.split('/');
  for (const c of components) {
    const problem = componentProblem(c);
    if (problem) return { problem };
  }
  return { components };
}

/** The name a layer asks for: its title, else the model-artifact file path, else none. */
export function requestedLayerPath(layer: Descriptor): string | undefined {
  const annotations = layer.annotations;
  if (!annotations) return undefined;
  const title = annotations[Annotation.Title];
  if (typeof title === 'string') return title;
  const modelPath = annotations[Annotation.ModelFilepath];
  return typeof modelPath === 'string' ? modelPath : undefined;
}

/** True for an ORAS directory layer (a tarball that ORAS unpacks into a directory). */
export function isOrasDirectoryLayer(layer: Descriptor): boolean {
  return layer.annotations?.[Annotation.OrasUnpack] === 'true';
}

// Exact media types first, then suffix rules; the media type's parameters are ignored.
const EXTENSION_BY_MEDIA_TYPE: Record<string, string> = {
  'application/json': '.json',
  'application/geo+json': '.geojson',
  'application/x-netcdf': '.nc',
  'application/netcdf': '.nc',
  'application/vnd.apache.parquet': '.parquet',
  'application/x-parquet': '.parquet',
  'application/yaml': '.yaml',
  'application/x-yaml': '.yaml',
  'application/zip': '.zip',
  'application/gzip': '.gz',
  'application/x-tar': '.tar',
  'application/pdf': '.pdf',
  'application/xml': '.xml',
  'image/tiff': '.tif',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'text/plain': '.txt',
  'text/csv': '.csv',
  'text/markdown': '.md',
};

const EXTENSION_BY_SUFFIX: Array<[string, string]> = [
  ['tar+gzip', '.tar.gz'],
  ['tar.gzip', '.tar.gz'],
  ['tar+zstd', '.tar.zst'],
  ['tar.zstd', '.tar.zst'],
  ['.tar', '.tar'],
  ['+tar', '.tar'],
  ['+json', '.json'],
  ['.json', '.json'],
  ['+yaml', '.yaml'],
  ['+gzip', '.gz'],
  ['+zstd', '.zst'],
];

/** A file extension for a media type (`.tar.gz`, `.json`, ...), or `''` when none is known. */
export function extensionFor(mediaType: string): string {
  const base = (mediaType.split(';')[0] ?? '').trim().toLowerCase();
  const exact = EXTENSION_BY_MEDIA_TYPE[base];
  if (exact !== undefined) return exact;
  for (const [suffix, extension] of EXTENSION_BY_SUFFIX) {
    if (base.endsWith(suffix)) return extension;
  }
  return '';
}

const DIGEST_SHAPE = /^(?:(sha256):([a-f0-9]{64})|(sha512):([a-f0-9]{128}))$/;

/**
 * Names derived from a descriptor's digest, shortest first: `sha256-<12 hex><ext>`, then the
 * full hex, then the full hex with a `-<n>` suffix (n: the entry's position in its manifest,
 * unique within it). Only the first is normally needed; the others settle collisions.
 */
export function digestNames(descriptor: Descriptor, position: number, withExtension: boolean): string[] {
  const extension = withExtension ? extensionFor(descriptor.mediaType) : '';
  const match = DIGEST_SHAPE.exec(descriptor.digest);
  if (!match) return [`entry-${position}${extension}`];
  const algorithm = match[1] ?? match[3] ?? '';
  const hex = match[2] ?? match[4] ?? '';
  return [
    `${algorithm}-${hex.slice(0, 12)}${extension}`,
    `${algorithm}-${hex}${extension}`,
    `${algorithm}-${hex}-${position}${extension}`,
  ];
}

/** `linux-arm64-v8` for a platform, or undefined when it gives no safe name. */
export function platformName(platform: Platform | undefined): string | undefined {
  if (!platform || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') return undefined;
  if (platform.os === '' || platform.architecture === '') return undefined;
  const name = [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join('-');
  return isSafeComponent(name) ? name : undefined;
}

/**
 * The name an image index child asks for: its platform, else its title or ref.name annotation.
 * The caller falls back to digestNames() when this is undefined or already taken.
 */
export function requestedChildName(child: Descriptor): string | undefined {
  const fromPlatform = platformName(child.platform);
  if (fromPlatform) return fromPlatform;
  for (const key of [Annotation.Title, Annotation.RefName]) {
    const value = child.annotations?.[key];
    if (typeof value === 'string' && isSafeComponent(value)) return value;
  }
  return undefined;
}

/** The distribution-spec tag grammar: anything else cannot be a registry tag. */
export function isTagShaped(name: string): boolean {
  return isValidTag(name);
}

/** `@sha256:<hex>` -> `sha256:<hex>` when the component names a manifest by digest. */
export function digestFromComponent(component: string): string | undefined {
  if (!component.startsWith('@')) return undefined;
  const digest = component.slice(1);
  return DIGEST_SHAPE.test(digest) ? digest : undefined;
}
