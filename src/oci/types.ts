/**
 * OCI image-spec and Docker schema2 shapes, as plain types. Validation of untrusted JSON into
 * these types lives in ./validate.ts; nothing here does I/O.
 */

export const MediaType = {
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  Empty: 'application/vnd.oci.empty.v1+json',
  ImageLayer: 'application/vnd.oci.image.layer.v1.tar',
  ImageLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ImageLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Media types a manifest fetch accepts, most preferred first. */
export const MANIFEST_ACCEPT = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
] as const;

export const Annotation = {
  Title: 'org.opencontainers.image.title',
  Created: 'org.opencontainers.image.created',
  RefName: 'org.opencontainers.image.ref.name',
  /** Model artifacts (ModelPack, CRI-O image volumes) name files with this. */
  ModelFilepath: 'org.cnai.model.filepath',
  /** ORAS directory layers: tar+gzip to unpack, with the digest of the uncompressed tar. */
  OrasUnpack: 'io.deis.oras.content.unpack',
  OrasContentDigest: 'io.deis.oras.content.digest',
} as const;

/** The OCI empty descriptor: `{}` as ORAS writes it when no config is given. */
export const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_DESCRIPTOR: Descriptor = Object.freeze({
  mediaType: MediaType.Empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
}) as Descriptor;

/** The largest manifest or index we accept (the distribution spec guarantees 4 MB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A validated manifest or index, tagged by kind, with the media type it was served as. */
export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ImageIndex || mediaType === MediaType.DockerManifestList;
}

export function isManifestMediaType(mediaType: string): boolean {
  return (
    mediaType === MediaType.ImageManifest ||
    mediaType === MediaType.DockerManifest ||
    isIndexMediaType(mediaType)
  );
}
