/**
 * Test data for registry tests: blobs from buffers, artifacts (ORAS-style manifests) built and
 * pushed through the client under test.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobSource } from '../../src/oci/target.js';
import { EMPTY_DESCRIPTOR, EMPTY_JSON, MediaType, type Descriptor, type ImageManifest } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import type { RepositoryTarget } from '../../src/registry/index.js';

export function blobOf(bytes: Buffer, mediaType = 'application/octet-stream'): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

/** A BlobSource over a buffer, in pieces of `piece` bytes (like a file stream). */
export function bufferSource(bytes: Buffer, piece = 64 * 1024): BlobSource & { opened: number[] } {
  const opened: number[] = [];
  return {
    opened,
    open(offset: number) {
      opened.push(offset);
      const pieces: Buffer[] = [];
      for (let i = offset; i < bytes.length; i += piece) pieces.push(bytes.subarray(i, Math.min(bytes.length, i + piece)));
      return Readable.from(pieces, { objectMode: false });
    },
  };
}

export function randomBlob(size: number): { bytes: Buffer; desc: Descriptor } {
  const bytes = randomBytes(size);
  return { bytes, desc: blobOf(bytes) };
}

export interface Artifact {
  manifest: Buffer;
  desc: Descriptor;
  layers: { bytes: Buffer; desc: Descriptor }[];
}

/** Pushes the empty config, the layers and the manifest; returns what was pushed. */
export async function pushArtifact(repo: RepositoryTarget, files: Record<string, Buffer>, tags: string[]): Promise<Artifact> {
  await repo.pushBlob(EMPTY_DESCRIPTOR, bufferSource(EMPTY_JSON));
  const layers = [];
  for (const [title, bytes] of Object.entries(files)) {
    const desc: Descriptor = { ...blobOf(bytes), annotations: { 'org.opencontainers.image.title': title } };
    await repo.pushBlob(desc, bufferSource(bytes));
    layers.push({ bytes, desc });
  }
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    artifactType: 'application/vnd.ocifs.test',
    config: { mediaType: EMPTY_DESCRIPTOR.mediaType, digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size },
    layers: layers.map((l) => l.desc),
  };
  const manifest = Buffer.from(JSON.stringify(m));
  const desc = blobOf(manifest, MediaType.ImageManifest);
  await repo.pushManifest(desc, manifest, tags);
  return { manifest, desc, layers };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function writeConfig(configDir: string, config: unknown): Promise<void> {
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
}

/** Single-quotes a string for sh. */
function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A docker-credential-<name> shell script that answers `get` from a fixed table and logs its calls. */
export async function writeHelper(binDir: string, name: string, log: string, table: Record<string, { Username: string; Secret: string }>): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const path = join(binDir, `docker-credential-${name}`);
  const cases = Object.entries(table)
    .map(([server, entry]) => `      ${sq(server)}) printf '%s' ${sq(JSON.stringify({ ServerURL: server, ...entry }))} ;;`)
    .join('\n');
  const script = `#!/bin/sh
verb="$1"
input=$(cat)
printf '%s %s\\n' "$verb" "$input" >> ${sq(log)}
case "$verb" in
  get)
    case "$input" in
${cases}
      *) echo "credentials not found in native keychain"; exit 1 ;;
    esac ;;
  store|erase) ;;
  *) exit 2 ;;
esac
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
}
