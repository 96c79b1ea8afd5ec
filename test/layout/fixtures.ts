/**
 * Small hand-made artifacts for layout tests: a layer, the empty config, a manifest naming them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '../../src/ref/digest.js';
import { Annotation, EMPTY_DESCRIPTOR, EMPTY_JSON, MediaType, type Descriptor } from '../../src/oci/types.js';

export interface Artifact {
  layers: { descriptor: Descriptor; bytes: Buffer }[];
  config: { descriptor: Descriptor; bytes: Buffer };
  manifest: { descriptor: Descriptor; bytes: Buffer };
}

export function blob(bytes: Buffer | string, mediaType = 'application/octet-stream', title?: string): { descriptor: Descriptor; bytes: Buffer } {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const descriptor: Descriptor = { mediaType, digest: digestOf(b), size: b.length };
  if (title) descriptor.annotations = { [Annotation.Title]: title };
  return { descriptor, bytes: b };
}

export function artifact(files: Record<string, string | Buffer>, artifactType = 'application/vnd.ocifs.test.v1'): Artifact {
  const layers = Object.entries(files).map(([title, content]) => blob(content, 'text/plain', title));
  const config = { descriptor: { ...EMPTY_DESCRIPTOR }, bytes: EMPTY_JSON };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType,
      config: config.descriptor,
      layers: layers.map((l) => l.descriptor),
    }),
  );
  return {
    layers,
    config,
    manifest: { descriptor: { mediaType: MediaType.ImageManifest, digest: digestOf(manifestBytes), size: manifestBytes.length }, bytes: manifestBytes },
  };
}

/** A fresh temp directory and its removal. */
export async function tempDir(prefix = 'ocifs-layout-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
