/**
 * pull: an artifact's titled layers -> files in a directory, as `oras pull --output` does.
 *
 * Each file is streamed from the source through digest verification into a temporary file next
 * to its destination and renamed into place only when whole and verified, so a failure (a full
 * disk, a bad digest, a signal) leaves earlier files intact and no partial file behind. ORAS
 * directory layers (tar+gzip with `io.deis.oras.content.unpack`) are unpacked after both their
 * digests are checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from '../oci/types.js';
import type { ReadableTarget } from '../oci/target.js';
import { DigestMismatchError, InvalidArgumentError, OcifsError, UnsafePathError, localIOError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { limitConcurrency } from './limit.js';
import { planOutputPaths, type PlannedFile } from './output-paths.js';

export interface PullOptions {
  allowPathTraversal?: boolean;
  /** Refuse to replace files that exist (default: replace them, as ORAS does). */
  keepOldFiles?: boolean;
  concurrency?: number;
  logger?: Logger;
  signal?: AbortSignal;
  onFileStart?(file: PlannedFile): void;
  onFileProgress?(file: PlannedFile, bytes: number): void;
  onFileDone?(file: PlannedFile): void;
}

export interface PullResult {
  descriptor: Descriptor;
  files: PlannedFile[];
  /** Layers with no title, not written. */
  untitled: Descriptor[];
  bytes: number;
}

export async function pullToDirectory(
  src: ReadableTarget,
  reference: string | Descriptor,
  outputDir: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const logger = options.logger ?? silentLogger;
  const fetched = await src.fetchManifest(reference, { signal: options.signal });
  if (fetched.parsed.kind === 'index') {
    const kids = fetched.parsed.index.manifests.map((m) => describeChild(m)).join(', ');
    throw new InvalidArgumentError(
      `${src.description} ${typeof reference === 'string' ? reference : reference.digest} is an image index, not one artifact (${kids})`,
      { hint: 'pull one of its manifests by digest (REPO@sha256:...), or copy the whole index with `ocifs cp` or --layout' },
    );
  }
  const root = resolve(outputDir);
  const plan = planOutputPaths(fetched.parsed.manifest.layers, root, options.allowPathTraversal);
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw localIOError(err, `cannot create output directory ${outputDir}`);
  }
  const realRoot = await realpath(root);

  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const limit = limitConcurrency(options.concurrency ?? 4);
  let bytes = 0;
  const jobs = plan.files.map((file) =>
    limit(async () => {
      signal.throwIfAborted();
      await checkDestination(file, realRoot, options);
      options.onFileStart?.(file);
      const onBytes = (n: number) => {
        bytes += n;
        options.onFileProgress?.(file, n);
      };
      if (file.unpack) await unpackLayer(src, file, signal, onBytes);
      else await writeLayer(src, file, signal, onBytes);
      logger.debug('pulled', { title: file.title, digest: file.descriptor.digest });
      options.onFileDone?.(file);
    }).catch((err) => {
      controller.abort(err);
      throw err;
    }),
  );
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return { descriptor: fetched.descriptor, files: plan.files, untitled: plan.untitled, bytes };
}

function describeChild(m: Descriptor): string {
  const p = m.platform;
  const name = p ? `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}` : (m.annotations?.[Annotation.RefName] ?? '');
  return name ? `${name} ${m.digest}` : m.digest;
}

/** Refuses a destination whose parent resolves, through a symlink, outside the output directory. */
async function checkDestination(file: PlannedFile, realRoot: string, options: PullOptions): Promise<void> {
  const parent = dirname(file.path);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw localIOError(err, `cannot create directory for ${file.title}`);
  }
  if (!options.allowPathTraversal) {
    const realParent = await realpath(parent);
    if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
      throw new UnsafePathError(file.title, `its directory leads through a symbolic link to ${realParent}, outside the output directory`, {
        hint: 'remove the link or pass --allow-path-traversal',
      });
    }
  }
  const existing = await lstat(file.path).catch(() => undefined);
  if (existing && options.keepOldFiles) {
    throw new OcifsError('LOCAL_IO', `${file.path} already exists and --keep-old-files is set`, {
      hint: 'remove it or pull without --keep-old-files',
    });
  }
  if (existing?.isDirectory() && !file.unpack) {
    throw new OcifsError('LOCAL_IO', `${file.path} is a directory; the layer ${file.title} is a file`, { hint: 'move the directory away' });
  }
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.ocifs-${randomBytes(4).toString('hex')}.tmp`);
}

function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

async function writeLayer(src: ReadableTarget, file: PlannedFile, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
  const tmp = tempPathFor(file.path);
  try {
    const stream = await src.fetchBlob(file.descriptor, { signal });
    await pipeline(stream, counting(onBytes), createWriteStream(tmp, { mode: 0o644 }), { signal });
    await rename(tmp, file.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw asPullError(err, file);
  }
}

/**
 * An ORAS directory layer: the tar+gzip blob is verified by the source stream; the tar inside is
 * hashed on the way and checked against `io.deis.oras.content.digest` before anything is moved
 * into place. Only files and directories are extracted: links could point anywhere.
 */
async function unpackLayer(src: ReadableTarget, file: PlannedFile, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
  const tmpDir = tempPathFor(file.path);
  const expectedTar = file.descriptor.annotations?.[Annotation.OrasContentDigest];
  const tarHash = createHash('sha256');
  try {
    await mkdir(tmpDir, { recursive: true });
    const stream = await src.fetchBlob(file.descriptor, { signal });
    const hashTap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        tarHash.update(chunk);
        cb(null, chunk);
      },
    });
    const skipped: string[] = [];
    const extract = tar.x({
      cwd: tmpDir,
      strict: true,
      preservePaths: false,
      filter: (path, entry) => {
        const type = 'type' in entry ? entry.type : undefined;
        const ok = type === 'File' || type === 'OldFile' || type === 'ContiguousFile' || type === 'Directory';
        if (!ok) skipped.push(path);
        return ok;
      },
    });
    await pipeline(stream, counting(onBytes), createGunzip(), hashTap, extract, { signal });
    if (expectedTar) {
      const actual = `sha256:${tarHash.digest('hex')}`;
      if (actual !== expectedTar) throw new DigestMismatchError(expectedTar, actual, `unpacked content of ${file.title}`);
    }
    await moveInto(tmpDir, file.path);
  } catch (err) {
    throw asPullError(err, file);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** Moves the extracted tree into place: a new directory by rename, else merged file by file. */
async function moveInto(from: string, to: string): Promise<void> {
  // ORAS tars hold the directory itself as their top entry (title/...): unwrap it when present.
  const entries = await readdir(from);
  const top = entries.length === 1 && entries[0] === basename(to) ? join(from, entries[0]) : from;
  const existing = await stat(to).catch(() => undefined);
  if (!existing) {
    await rename(top, to);
    return;
  }
  for (const name of await readdir(top)) {
    const source = join(top, name);
    const target = join(to, name);
    const s = await lstat(source);
    const t = await lstat(target).catch(() => undefined);
    if (s.isDirectory() && t?.isDirectory()) await moveInto(source, target);
    else {
      if (t?.isDirectory()) await rm(target, { recursive: true });
      await rename(source, target);
    }
  }
}

function asPullError(err: unknown, file: PlannedFile): unknown {
  if (err instanceof OcifsError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return err;
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return localIOError(err, `cannot write ${relative(process.cwd(), file.path) || file.path}`);
  return err;
}
