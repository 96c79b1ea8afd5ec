/**
 * Pushes a small ORAS-style artifact (one titled layer per file, the empty config) to the real
 * test registry with the project's registry client, for the container and helper tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { NO_CREDENTIALS, RegistryClient } from '../../src/registry/index.js';
import { Annotation, EMPTY_DESCRIPTOR, EMPTY_JSON, MediaType, type Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';

export interface PushedArtifact {
  /** `HOST/REPO` */
  repository: string;
  tag: string;
  /** title -> bytes */
  files: Map<string, Buffer>;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Pushes `data.bin` (random, a few MiB so reads cross several blocks) and `hello.txt`. */
export async function pushSampleArtifact(registryHost: string, repository: string, tag = 'v1'): Promise<PushedArtifact> {
  const files = new Map<string, Buffer>([
    ['data.bin', randomBytes(3 * 1024 * 1024 + 12_345)],
    ['hello.txt', Buffer.from('hello from a registry\n')],
  ]);
  const client = new RegistryClient(registryHost, { credentials: NO_CREDENTIALS });
  try {
    const repo = client.repository(repository);
    const source = (bytes: Buffer) => ({ open: (offset: number) => Readable.from([bytes.subarray(offset)]) });
    await repo.pushBlob(EMPTY_DESCRIPTOR, source(EMPTY_JSON));
    const layers: Descriptor[] = [];
    for (const [title, bytes] of files) {
      const layer: Descriptor = { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length };
      await repo.pushBlob(layer, source(bytes));
      layers.push({ ...layer, annotations: { [Annotation.Title]: title } });
    }
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, artifactType: 'application/vnd.example.test', config: EMPTY_DESCRIPTOR, layers }),
    );
    await repo.pushManifest({ mediaType: MediaType.ImageManifest, digest: digestOf(manifest), size: manifest.length }, manifest, [tag]);
  } finally {
    await client.close();
  }
  return { repository: `${registryHost}/${repository}`, tag, files };
}
