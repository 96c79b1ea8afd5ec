/**
 * Writes ORAS-style artifacts into a real target (a registry repository or an OCI layout) for
 * the tree tests: one titled layer per file, the empty config, then the manifest and its tags.
 */
import { Readable } from 'node:stream';
import type { WritableTarget } from '../../src/oci/target.js';
import { Annotation, EMPTY_DESCRIPTOR, EMPTY_JSON, MediaType, type Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';

export interface PushedFile {
  title: string;
  content: Buffer | string;
  mediaType?: string;
  annotations?: Record<string, string>;
}

function source(bytes: Buffer) {
  return { open: (offset: number) => Readable.from([bytes.subarray(offset)]) };
}

export async function pushBlob(target: WritableTarget, bytes: Buffer, mediaType: string, annotations?: Record<string, string>): Promise<Descriptor> {
  const descriptor: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length, ...(annotations ? { annotations } : {}) };
  await target.pushBlob({ mediaType, digest: descriptor.digest, size: descriptor.size }, source(bytes));
  return descriptor;
}

export async function pushManifestJson(target: WritableTarget, body: object, mediaType: string, tags: string[]): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(body));
  const descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await target.pushManifest(descriptor, bytes, tags);
  return descriptor;
}

export async function pushFiles(
  target: WritableTarget,
  files: PushedFile[],
  tags: string[],
  extra: { annotations?: Record<string, string>; artifactType?: string } = {},
): Promise<Descriptor> {
  await pushBlob(target, EMPTY_JSON, MediaType.Empty);
  const layers: Descriptor[] = [];
  for (const f of files) {
    layers.push(
      await pushBlob(target, Buffer.from(f.content), f.mediaType ?? 'application/octet-stream', {
        [Annotation.Title]: f.title,
        ...f.annotations,
      }),
    );
  }
  return pushManifestJson(
    target,
    {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: extra.artifactType ?? 'application/vnd.ocifs.test',
      config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size },
      layers,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    MediaType.ImageManifest,
    tags,
  );
}
