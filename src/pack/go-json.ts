/**
 * OCI manifests serialised exactly as Go's encoding/json writes image-spec v1.1 structs, so a
 * manifest we pack has the digest `oras push` gives the same content. Pure.
 *
 * What Go does and JSON.stringify does not:
 * - struct fields in declaration order, `omitempty` fields left out when empty;
 * - map keys (annotations) sorted bytewise by their UTF-8 encoding;
 * - `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c \u003e \u0026 \u2028 \u2029;
 * - invalid UTF-16 (lone surrogates) replaced by U+FFFD, as Go's decoder does on input.
 * Both are compact, escape `"` `\` and control characters the same way (\b \f \n \r \t short,
 * the rest as \u00XX with lowercase hex, Go >= 1.22).
 */
import type { Descriptor, ImageManifest, Platform } from '../oci/types.js';

const GO_EXTRA_ESCAPES = /[<>&\u2028\u2029]/g;

/** A JSON string literal as Go's encoding/json writes it (HTML-safe escaping on). */
export function goString(text: string): string {
  // JSON.stringify never emits these characters inside an escape sequence, so a textual
  // replacement on its output is exact.
  return JSON.stringify(toWellFormed(text)).replace(
    GO_EXTRA_ESCAPES,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Bytewise comparison of the UTF-8 encodings, the order Go sorts map keys in. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A map[string]string: keys sorted as Go sorts them. */
export function goStringMap(map: Record<string, string>): string {
  const keys = Object.keys(map)
    .map((k) => [toWellFormed(k), k] as const)
    .sort((x, y) => compareUtf8(x[0], y[0]));
  return `{${keys.map(([sortKey, k]) => `${goString(sortKey)}:${goString(map[k] ?? '')}`).join(',')}}`;
}

/** image-spec v1.1 Descriptor: mediaType, digest, size, urls, annotations, data, platform, artifactType. */
export function goDescriptor(d: Descriptor): string {
  let out = `{"mediaType":${goString(d.mediaType)},"digest":${goString(d.digest)},"size":${goInt(d.size)}`;
  if (d.urls && d.urls.length > 0) out += `,"urls":[${d.urls.map(goString).join(',')}]`;
  if (d.annotations && Object.keys(d.annotations).length > 0) out += `,"annotations":${goStringMap(d.annotations)}`;
  if (d.data) out += `,"data":${goString(d.data)}`;
  if (d.platform) out += `,"platform":${goPlatform(d.platform)}`;
  if (d.artifactType) out += `,"artifactType":${goString(d.artifactType)}`;
  return out + '}';
}

/** image-spec v1.1 Manifest: schemaVersion, mediaType, artifactType, config, layers, subject, annotations. */
export function goManifest(m: ImageManifest): string {
  let out = `{"schemaVersion":${goInt(m.schemaVersion)}`;
  if (m.mediaType) out += `,"mediaType":${goString(m.mediaType)}`;
  if (m.artifactType) out += `,"artifactType":${goString(m.artifactType)}`;
  out += `,"config":${goDescriptor(m.config)}`;
  out += `,"layers":[${m.layers.map(goDescriptor).join(',')}]`;
  if (m.subject) out += `,"subject":${goDescriptor(m.subject)}`;
  if (m.annotations && Object.keys(m.annotations).length > 0) out += `,"annotations":${goStringMap(m.annotations)}`;
  return out + '}';
}

/** image-spec v1.1 Platform (it has no `features` field any more). */
function goPlatform(p: Platform): string {
  let out = `{"architecture":${goString(p.architecture)},"os":${goString(p.os)}`;
  if (p['os.version']) out += `,"os.version":${goString(p['os.version'])}`;
  if (p['os.features'] && p['os.features'].length > 0) out += `,"os.features":[${p['os.features'].map(goString).join(',')}]`;
  if (p.variant) out += `,"variant":${goString(p.variant)}`;
  return out + '}';
}

function goInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n + 0); // -0 -> 0
}

function toWellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed();
}
