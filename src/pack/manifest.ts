/**
 * The manifest `oras push` would write for given layers, config and options — same fields, same
 * order, same bytes, hence the same digest. Pure. Follows oras-go v2 `pack.go`
 * (PackManifest: packManifestV1_1_RC4 and packManifestV1_0) as the oras CLI calls it
 * (`cmd/oras/root/push.go`):
 *
 * - no config given: image-spec v1.1 manifest; config is the OCI empty descriptor
 *   (`application/vnd.oci.empty.v1+json`, `{}`, with `"data":"e30="`), carrying the `$config`
 *   annotations; artifactType defaults to `application/vnd.unknown.artifact.v1`;
 * - a config given with an artifact type: v1.1 manifest with that config;
 * - a config given without an artifact type: image-spec v1.0 manifest (no artifactType field),
 *   as ORAS switches to when `--config` comes without `--artifact-type`;
 * - no layers in a v1.1 manifest: the empty descriptor is the single layer.
 */
import { InvalidArgumentError } from '../errors.js';
import { isValidMediaType } from '../oci/media-type.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType, type Descriptor, type ImageManifest } from '../oci/types.js';
import { digestOf } from '../ref/digest.js';
import { isRfc3339 } from './created.js';
import { goManifest } from './go-json.js';

/** oras-go's MediaTypeUnknownArtifact: the artifact type ORAS uses when none is given. */
export const UNKNOWN_ARTIFACT_TYPE = 'application/vnd.unknown.artifact.v1';
/** oras-go's MediaTypeUnknownConfig: a `--config` file's media type when none is given. */
export const UNKNOWN_CONFIG_TYPE = 'application/vnd.unknown.config.v1+json';

export interface ManifestSpec {
  layers: Descriptor[];
  artifactType?: string;
  /** A config blob's descriptor; absent: the OCI empty descriptor. */
  config?: Descriptor;
  /** Annotations of the empty config descriptor (ORAS's `$config`); a given config carries its own. */
  configAnnotations?: Record<string, string>;
  /** Manifest annotations, `org.opencontainers.image.created` included when wanted. */
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

export interface BuiltManifest {
  manifest: ImageManifest;
  /** The exact bytes to store and push. */
  bytes: Buffer;
  /**
   * The manifest's descriptor as oras-go returns it from PackManifest: with the artifact type
   * (v1.0: the config's media type) and the manifest annotations, as ORAS lists it in index.json.
   */
  descriptor: Descriptor;
  /** The empty blob `{}` is referenced (as config or as the placeholder layer) and must be stored. */
  usesEmptyBlob: boolean;
}

export function buildManifest(spec: ManifestSpec): BuiltManifest {
  const annotations = nonEmpty(spec.annotations);
  const created = annotations?.[Annotation.Created];
  if (created !== undefined && !isRfc3339(created)) {
    throw new InvalidArgumentError(`invalid ${Annotation.Created} ${JSON.stringify(created)}: expected RFC 3339`);
  }
  if (spec.artifactType !== undefined && !isValidMediaType(spec.artifactType)) {
    throw new InvalidArgumentError(`invalid artifact type ${JSON.stringify(spec.artifactType)}: expected type/subtype`);
  }
  for (const d of [...spec.layers, ...(spec.config ? [spec.config] : [])]) {
    if (!isValidMediaType(d.mediaType)) {
      throw new InvalidArgumentError(`invalid media type ${JSON.stringify(d.mediaType)}: expected type/subtype[; name=value]`);
    }
  }

  const v1_0 = spec.config !== undefined && !spec.artifactType;
  let manifest: ImageManifest;
  let usesEmptyBlob = false;
  if (v1_0) {
    if (spec.subject) throw new InvalidArgumentError('a subject needs an artifact type when a config is given (image-spec v1.0 has no subject)');
    manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: spec.config!,
      layers: spec.layers,
      ...(annotations ? { annotations } : {}),
    };
  } else {
    let config = spec.config;
    if (!config) {
      config = { ...EMPTY_DESCRIPTOR };
      const configAnnotations = nonEmpty(spec.configAnnotations);
      if (configAnnotations) config.annotations = configAnnotations;
      usesEmptyBlob = true;
    }
    let layers = spec.layers;
    if (layers.length === 0) {
      layers = [{ ...EMPTY_DESCRIPTOR }];
      usesEmptyBlob = true;
    }
    manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: spec.artifactType || UNKNOWN_ARTIFACT_TYPE,
      config,
      layers,
      ...(spec.subject ? { subject: spec.subject } : {}),
      ...(annotations ? { annotations } : {}),
    };
  }

  const bytes = Buffer.from(goManifest(manifest), 'utf8');
  const descriptor: Descriptor = {
    mediaType: MediaType.ImageManifest,
    digest: digestOf(bytes),
    size: bytes.length,
    ...(annotations ? { annotations } : {}),
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
  };
  return { manifest, bytes, descriptor, usesEmptyBlob };
}

function nonEmpty(map: Record<string, string> | undefined): Record<string, string> | undefined {
  return map && Object.keys(map).length > 0 ? map : undefined;
}
