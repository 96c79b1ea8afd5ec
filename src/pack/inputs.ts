/**
 * What to pack, as given on a command line, and the layer titles it gets. Pure.
 *
 * `FILE[:MEDIATYPE]` (as `oras push` takes it): the text after the LAST ':' is a media type
 * only when it looks like one — `type/subtype[; name=value]` with a registered top-level type
 * (application, image, text, ...) or an `x-` one; otherwise the whole text is the path, so
 * `scene:2024/b04.tif` stays a path. A trailing ':' is dropped (`a:b:` is the file `a:b`,
 * ORAS's escape for colons).
 *
 * Titles (`org.opencontainers.image.title`) are ORAS's: the path as given, cleaned, with `/`
 * (oras `cmd/oras/root/file.go` loadFiles: filepath.Clean + ToSlash). A directory contributes
 * each file below it as `<directory as given>/<path inside>` — the titles ORAS gives when the
 * files are listed one by one. Where the path as given cannot be a title (absolute, or going up
 * with `..`), the title is relative to the argument's parent: `/srv/eo/data` -> `data/...`,
 * `../x/img.tif` -> `img.tif`. (ORAS refuses absolute paths without --disable-path-validation
 * and writes `../` titles that every puller must refuse.)
 */
import { posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { isValidMediaType } from '../oci/media-type.js';

export interface PackInput {
  path: string;
  /** Given explicitly; otherwise detected from the content and name. */
  mediaType?: string;
}

export function parsePackInput(text: string): PackInput {
  const empty = () => new InvalidArgumentError(`invalid file ${JSON.stringify(text)}: the path is empty`);
  if (text.endsWith(':')) {
    const path = text.slice(0, -1);
    if (path === '') throw empty();
    return { path };
  }
  const colon = text.lastIndexOf(':');
  if (colon >= 0) {
    const suffix = text.slice(colon + 1);
    if (looksLikeMediaType(suffix)) {
      const path = text.slice(0, colon);
      if (path === '') throw empty();
      return { path, mediaType: suffix };
    }
  }
  if (text === '') throw empty();
  return { path: text };
}

/** IANA's top-level media types (RFC 6838 and later registrations). */
const TOP_LEVEL_TYPES = new Set(['application', 'audio', 'example', 'font', 'haptics', 'image', 'message', 'model', 'multipart', 'text', 'video']);

export function looksLikeMediaType(text: string): boolean {
  if (!isValidMediaType(text)) return false;
  const top = text.slice(0, text.indexOf('/')).toLowerCase();
  return TOP_LEVEL_TYPES.has(top) || top.startsWith('x-');
}

/** Go's filepath.Clean on a POSIX path: no `.`/empty components, `..` resolved, no trailing '/'. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** A title can be used as is: relative, not going up, no NUL. */
export function isUsableAsTitle(cleaned: string): boolean {
  return !cleaned.startsWith('/') && cleaned !== '..' && !cleaned.startsWith('../') && !cleaned.includes('\0');
}

/**
 * The title of a file argument, or the prefix of a directory argument's titles ('' for `.`).
 * `absolute` is the argument resolved against the working directory (needed for `..`, `/`).
 */
export function titleBase(given: string, absolute: string): string {
  const cleaned = cleanPath(given);
  if (cleaned === '.') return '';
  if (isUsableAsTitle(cleaned)) return cleaned;
  return posix.basename(cleanPath(absolute)); // '' for '/'
}

export function joinTitle(base: string, inside: string): string {
  return base === '' ? inside : `${base}/${inside}`;
}

/** Why a title cannot be one, or undefined when it is fine. */
export function titleProblem(title: string): string | undefined {
  if (title === '') return 'it is empty';
  if (title.includes('\0')) return 'it contains a NUL character';
  if (title.startsWith('/')) return 'it is absolute';
  const parts = title.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'it has an empty, "." or ".." component';
  return undefined;
}
