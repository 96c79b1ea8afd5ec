/**
 * Media type strings (RFC 6838 names, RFC 9110 parameters). ORAS artifacts use parameters
 * (`image/tiff; application=geotiff; profile=cloud-optimized`), so they are allowed here even
 * though the OCI JSON schema's pattern has none. Pure.
 */

/** RFC 6838 restricted-name: a letter or digit, then up to 126 of these characters. */
const RESTRICTED_NAME = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}';
/** RFC 9110 token (parameter names and unquoted values). */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** RFC 9110 quoted-string: printable ASCII (and tab) with backslash escapes. */
const QUOTED_STRING = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
const PARAMETER = `[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING})`;

const MEDIA_TYPE = new RegExp(`^${RESTRICTED_NAME}/${RESTRICTED_NAME}(?:${PARAMETER})*$`);

/** No media type (with its parameters) is longer than this in practice; longer is hostile. */
export const MAX_MEDIA_TYPE_LENGTH = 1024;

/** `type/subtype` with optional `; name=value` parameters, RFC 6838 / RFC 9110 shaped. */
export function isValidMediaType(text: string): boolean {
  return text.length <= MAX_MEDIA_TYPE_LENGTH && MEDIA_TYPE.test(text);
}

/**
 * The `type/subtype` part of a media type or Content-Type header, lowercased, without parameters:
 * `Application/JSON; charset=utf-8` -> `application/json`.
 */
export function baseMediaType(text: string): string {
  const semicolon = text.indexOf(';');
  return (semicolon < 0 ? text : text.slice(0, semicolon)).trim().toLowerCase();
}
