/**
 * Pushes hand-made artifacts to a registry or layout through the library (not the CLI), so
 * tests can make exactly the manifest they need, hostile titles included.
 */
import { Readable } from 'node:stream';
import { digestOf } from '../../src/ref/digest.js';
import { EMPTY_DESCRIPTOR, EMPTY_JSON, MediaType, type Descriptor } from '../../src/oci/types.js';
import type { WritableTarget } from '../../src/oci/target.js';

export interface FileSpec {
  /** undefined: no title annotation. */
  title?: string;
  bytes: Buffer;
  mediaType?: string;
  annotations?: Record<string, string>;
}

export interface PushedArtifact {
  descriptor: Descriptor;
  manifest: Buffer;
  layers: Descriptor[];
}

export function blobSource(bytes: Buffer) {
  return { open: (offset: number) => Readable.from([bytes.subarray(offset)]) };
}

export async function pushArtifact(
  target: WritableTarget,
  tags: string[],
  files: FileSpec[],
  options: { artifactType?: string; annotations?: Record<string, string> } = {},
): Promise<PushedArtifact> {
  await target.pushBlob(EMPTY_DESCRIPTOR, blobSource(EMPTY_JSON));
  const layers: Descriptor[] = [];
  for (const f of files) {
    const descriptor: Descriptor = {
      mediaType: f.mediaType ?? 'application/octet-stream',
      digest: digestOf(f.bytes),
      size: f.bytes.length,
      ...(f.title !== undefined || f.annotations
        ? { annotations: { ...(f.title !== undefined ? { 'org.opencontainers.image.title': f.title } : {}), ...f.annotations } }
        : {}),
    };
    await target.pushBlob(descriptor, blobSource(f.bytes));
    layers.push(descriptor);
  }
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size },
    layers,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const descriptor: Descriptor = { mediaType: MediaType.ImageManifest, digest: digestOf(manifest), size: manifest.length };
  await target.pushManifest(descriptor, manifest, tags);
  return { descriptor, manifest, layers };
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(length / 4) * 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out.subarray(0, length);
}
