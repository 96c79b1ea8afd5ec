/**
 * `PATH`, `PATH:TAG` and `PATH@DIGEST` — how a command names an OCI layout (as
 * `oras --oci-layout` does). Pure.
 *
 * Paths may contain ':' and '@', so a suffix only counts when it is well formed:
 * - `@` + a digest at the end is a digest (`@sha256:` + anything else is an error, not a path);
 * - the text after the LAST ':' is a tag when it is a valid tag (it then has no '/');
 * - a trailing ':' means "no tag" and is dropped, so `dir:v1:` is the directory `dir:v1`
 *   (ORAS's escape for file names with colons).
 */
import { InvalidReferenceError } from '../errors.js';
import { isValidTag } from '../ref/reference.js';
import { parseDigest } from '../ref/digest.js';

export interface LayoutSpec {
  path: string;
  tag?: string;
  digest?: string;
}

const DIGEST_SUFFIX = /@((?:sha256|sha512):.*)$/;

export function parseLayoutSpec(text: string): LayoutSpec {
  const fail = (why: string) => new InvalidReferenceError(`invalid OCI layout ${JSON.stringify(text)}: ${why}`);
  if (text.includes('\0')) throw fail('it contains a NUL character');

  const digestMatch = DIGEST_SUFFIX.exec(text);
  if (digestMatch && digestMatch[1] !== undefined) {
    const path = text.slice(0, digestMatch.index);
    parseDigest(digestMatch[1]); // throws InvalidReferenceError saying what is wrong
    if (path === '') throw fail('the path is empty');
    return { path, digest: digestMatch[1] };
  }

  const colon = text.lastIndexOf(':');
  if (colon >= 0) {
    const suffix = text.slice(colon + 1);
    const path = text.slice(0, colon);
    if (suffix === '') {
      if (path === '') throw fail('the path is empty');
      return { path };
    }
    if (isValidTag(suffix)) {
      if (path === '') throw fail('the path is empty');
      return { path, tag: suffix };
    }
  }
  if (text === '') throw fail('the path is empty');
  return { path: text };
}
