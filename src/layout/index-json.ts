/**
 * The `index.json` of an OCI image layout as a value: which manifests it lists and under which
 * names (`org.opencontainers.image.ref.name`). Pure: every change returns a new index; reading and
 * writing the file is LayoutTarget's job.
 *
 * Rules (as skopeo's `oci:` transport and umoci keep a layout):
 * - one entry per tag; tagging moves the tag (the entry is replaced in place, order kept);
 * - entries without a ref name (manifests pushed by digest) are kept as they are; a manifest
 *   that gets a tag loses its untagged duplicate;
 * - a manifest whose last tag moves away is no longer listed (its blobs stay on disk).
 */
import { Annotation, MediaType, type Descriptor, type ImageIndex } from '../oci/types.js';

export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
}

export function refNameOf(entry: Descriptor): string | undefined {
  return entry.annotations?.[Annotation.RefName];
}

export function findByRefName(index: ImageIndex, name: string): Descriptor | undefined {
  return index.manifests.find((entry) => refNameOf(entry) === name);
}

export function findByDigest(index: ImageIndex, digest: string): Descriptor | undefined {
  return index.manifests.find((entry) => entry.digest === digest);
}

/** The descriptor an entry stands for, without its ref name (a name belongs to this layout only). */
export function withoutRefName(entry: Descriptor): Descriptor {
  const out: Descriptor = { ...entry };
  if (entry.annotations && Annotation.RefName in entry.annotations) {
    const { [Annotation.RefName]: _dropped, ...rest } = entry.annotations;
    if (Object.keys(rest).length > 0) out.annotations = rest;
    else delete out.annotations;
  }
  return out;
}

/** Points `tag` at `descriptor`: replaces the entry holding the tag, or appends one. */
export function withTag(index: ImageIndex, descriptor: Descriptor, tag: string): ImageIndex {
  const base = withoutRefName(descriptor);
  delete base.data; // embedded bytes belong in manifests, not in the layout's index
  const entry: Descriptor = { ...base, annotations: { ...base.annotations, [Annotation.RefName]: tag } };
  const manifests: Descriptor[] = [];
  let placed = false;
  for (const existing of index.manifests) {
    const name = refNameOf(existing);
    if (name === tag) {
      if (!placed) manifests.push(entry);
      placed = true;
    } else if (name === undefined && existing.digest === descriptor.digest) {
      continue; // the untagged duplicate of a manifest that now has a name
    } else {
      manifests.push(existing);
    }
  }
  if (!placed) manifests.push(entry);
  return { ...index, manifests };
}

/** Removes `tag`; the index is returned unchanged when no entry holds it. */
export function withoutTag(index: ImageIndex, tag: string): ImageIndex {
  return { ...index, manifests: index.manifests.filter((entry) => refNameOf(entry) !== tag) };
}

/** Lists `descriptor` without a name unless the index already lists that digest. */
export function withUntagged(index: ImageIndex, descriptor: Descriptor): ImageIndex {
  if (findByDigest(index, descriptor.digest)) return index;
  const entry = withoutRefName(descriptor);
  delete entry.data;
  return { ...index, manifests: [...index.manifests, entry] };
}

/** Ref names that are usable tags, sorted, without duplicates. */
export function tagsOf(index: ImageIndex, isTag: (name: string) => boolean): string[] {
  const names = new Set<string>();
  for (const entry of index.manifests) {
    const name = refNameOf(entry);
    if (name !== undefined && isTag(name)) names.add(name);
  }
  return [...names].sort();
}

/** Compact JSON with the image-spec's field order (as oras-go and skopeo write it). */
export function serializeIndex(index: ImageIndex): Buffer {
  const ordered = {
    schemaVersion: index.schemaVersion,
    mediaType: index.mediaType,
    artifactType: index.artifactType,
    manifests: index.manifests.map(orderedDescriptor),
    subject: index.subject ? orderedDescriptor(index.subject) : undefined,
    annotations: index.annotations,
  };
  return Buffer.from(JSON.stringify(ordered));
}

function orderedDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    urls: d.urls,
    annotations: d.annotations,
    data: d.data,
    platform: d.platform,
    artifactType: d.artifactType,
  };
}
