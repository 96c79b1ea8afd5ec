/**
 * Extended attributes that show OCI metadata to plain tools (`getfattr -d`). Pure.
 *
 * Files (layers): user.oci.digest, user.oci.mediatype, user.oci.annotation.<key>.
 * Manifest directories (a tag, an `@sha256:` path, an index child, a reference mount's root):
 * user.oci.manifest.digest, user.oci.manifest.mediatype, user.oci.artifacttype,
 * user.oci.annotation.<key> (the manifest's annotations).
 * Attributes whose name exceeds XATTR_NAME_MAX or whose value exceeds XATTR_SIZE_MAX are left
 * out: the kernel could not pass them anyway.
 */
import type { Descriptor, ParsedManifest } from '../oci/types.js';
import { MediaType } from '../oci/types.js';

export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;

export const STATUS_XATTR = 'user.ocifs.status';

export type Xattrs = Map<string, string>;

export function layerXattrs(layer: Descriptor): Xattrs {
  const out: Xattrs = new Map();
  add(out, 'user.oci.digest', layer.digest);
  add(out, 'user.oci.mediatype', layer.mediaType);
  addAnnotations(out, layer.annotations);
  return out;
}

export function manifestXattrs(descriptor: Descriptor, parsed: ParsedManifest): Xattrs {
  const out: Xattrs = new Map();
  add(out, 'user.oci.manifest.digest', descriptor.digest);
  add(out, 'user.oci.manifest.mediatype', parsed.mediaType);
  const artifactType = artifactTypeOf(parsed);
  if (artifactType !== undefined) add(out, 'user.oci.artifacttype', artifactType);
  addAnnotations(out, parsed.kind === 'index' ? parsed.index.annotations : parsed.manifest.annotations);
  return out;
}

/**
 * The artifact type as the image spec defines it: `artifactType`, else (for a manifest) the
 * config media type unless that is the empty descriptor's.
 */
export function artifactTypeOf(parsed: ParsedManifest): string | undefined {
  if (parsed.kind === 'index') return parsed.index.artifactType;
  const { manifest } = parsed;
  if (manifest.artifactType) return manifest.artifactType;
  const configType = manifest.config?.mediaType;
  return configType && configType !== MediaType.Empty ? configType : undefined;
}

function addAnnotations(out: Xattrs, annotations: Record<string, string> | undefined): void {
  if (!annotations) return;
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value === 'string' && !key.includes('\0')) add(out, `user.oci.annotation.${key}`, value);
  }
}

function add(out: Xattrs, name: string, value: string): void {
  if (Buffer.byteLength(name) > XATTR_NAME_MAX) return;
  if (Buffer.byteLength(value) > XATTR_SIZE_MAX) return;
  out.set(name, value);
}
