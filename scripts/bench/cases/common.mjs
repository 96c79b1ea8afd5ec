/**
 * What the case groups share: the repository the data is pushed to, timed reads, peers that
 * may be missing, and checks that a copy is whole (a fast copy of the wrong bytes is no result).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../proc.mjs';
import { cpuSeconds } from '../system.mjs';

/** The repository holding the bench data, tags `big`, `cog` and `small`. */
export const REPO = 'bench/data';

/** `cat FILE > /dev/null`; resolves seconds. */
export async function timedCat(file) {
  return (await run('cat', [file], { stdout: 'null' })).seconds;
}

/** A side of a result line: samples, or why this peer could not be measured. */
export function sideOf(name, samples, availability = { ok: true }) {
  return availability.ok ? { name, samples } : { name, unavailable: availability.reason };
}

/** Availability of a peer that needs all of `tools` (from ensureTools) and maybe a service. */
export function peerAvailable(ctx, tools, service) {
  for (const tool of tools) if (!ctx.tools[tool]?.ok) return { ok: false, reason: ctx.tools[tool]?.reason ?? `${tool} missing` };
  if (service && !service.ok) return service;
  return { ok: true };
}

/** { files, bytes } below `dir` (regular files only). */
export async function countFiles(dir) {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return { files, bytes };
}

/** Throws unless `dir` holds exactly the small files (count and total size). */
export async function expectSmallFiles(dir, small, what) {
  const got = await countFiles(dir);
  if (got.files !== small.count || got.bytes !== small.bytes) {
    throw new Error(`${what}: expected ${small.count} files / ${small.bytes} bytes in ${dir}, found ${got.files} / ${got.bytes}`);
  }
}

export function blobUrl(host, digest) {
  return `http://${host}/v2/${REPO}/blobs/${digest}`;
}

/** Runs `fn` and resolves [its result, the registry's CPU seconds meanwhile]. */
export async function withRegistryCpu(ctx, fn) {
  const before = cpuSeconds(ctx.registry.pid);
  const result = await fn();
  return [result, cpuSeconds(ctx.registry.pid) - before];
}
