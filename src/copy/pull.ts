/**
 * pull: an artifact's titled layers -> files in a directory, as `oras pull --output` does.
 *
 * Each file comes from the source through digest verification (streamed, or held in memory when
 * small) into a temporary file next to its destination and is renamed into place only when whole
 * and verified, so a failure (a full disk, a bad digest, a signal) leaves earlier files intact and
 * no partial file behind. Files are not fsync'ed: complete once pull exits, not guaranteed to
 * survive a power loss. ORAS directory layers (tar+gzip with `io.deis.oras.content.unpack`) are
 * unpacked after both their digests are checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createWriteStream, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Files in flight at once. Pulling many small files is bound by the cost of each request, on
 * the registry (distribution allocates a 4 MiB read buffer per blob GET) and here; more requests
 * in flight amortise both: 2,000 files of 1-64 KiB from a registry on loopback took 8-13 s with
 * 4 at once, 7-11 s with 16 (ocifs CPU 4.2-4.8 s -> 3.9-4.6 s, registry CPU 10-12 s -> 8-10.5 s).
 */
export const DEFAULT_PULL_CONCURRENCY = 16;
/** Files larger than SMALL_FILE_BYTES streamed at once (at most `concurrency`). */
export const LARGE_FILES_AT_ONCE = 4;

export interface PullOptions {
  allowPathTraversal?: boolean;
  /** Refuse to replace files that exist (default: replace them, as ORAS does). */
  keepOldFiles?: boolean;
  /** Files in flight at once (default DEFAULT_PULL_CONCURRENCY; large files: at most 4). */
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
  const prepareDirectory = directoryPreparer(realRoot, options.allowPathTraversal ?? false);

  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  // Each transfer in flight listens to it (bounded by the concurrency): not a leak.
  setMaxListeners(0, signal);
  const concurrency = options.concurrency ?? DEFAULT_PULL_CONCURRENCY;
  const limit = limitConcurrency(concurrency);
  const limitLarge = limitConcurrency(Math.min(concurrency, LARGE_FILES_AT_ONCE));
  let bytes = 0;
  let firstFailure: { error: unknown } | undefined;
  const pullOne = async (file: PlannedFile): Promise<void> => {
    signal.throwIfAborted();
    await prepareDirectory(dirname(file.path), file.title);
    if (options.keepOldFiles) await checkNotExisting(file);
    options.onFileStart?.(file);
    const onBytes = (n: number) => {
      bytes += n;
      options.onFileProgress?.(file, n);
    };
    if (file.unpack) await unpackLayer(src, file, signal, onBytes);
    else if (file.descriptor.size <= SMALL_FILE_BYTES) await writeSmallLayer(src, file, signal, onBytes);
    else await writeLayer(src, file, signal, onBytes);
    logger.debug('pulled', { title: file.title, digest: file.descriptor.digest });
    options.onFileDone?.(file);
  };
  const jobs = plan.files.map((file) => {
    // A large file waits for a large slot first, so it never holds a slot small files could use.
    const gate = file.unpack || file.descriptor.size > SMALL_FILE_BYTES ? limitLarge : now;
    return gate(() => limit(() => pullOne(file))).catch((err: unknown) => {
      firstFailure ??= { error: err };
      controller.abort(err);
    });
  });
  // Every file finishes (or is abandoned) before we return: no temp file is left behind. The
  // error reported is the first one, not the aborts it caused in the others.
  await Promise.all(jobs);
  if (firstFailure) throw firstFailure.error;
  return { descriptor: fetched.descriptor, files: plan.files, untitled: plan.untitled, bytes };
}

const now = <T>(task: () => Promise<T>): Promise<T> => task();

function describeChild(m: Descriptor): string {
  const p = m.platform;
  const name = p ? `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}` : (m.annotations?.[Annotation.RefName] ?? '');
  return name ? `${name} ${m.digest}` : m.digest;
}

/**
 * Creates each destination directory once and refuses one that resolves, through a symbolic
 * link, outside the output directory. Once per directory, not per file: pull itself creates
 * no links (unpacked layers keep files and directories only), so a directory checked stays good.
 */
function directoryPreparer(realRoot: string, allowPathTraversal: boolean): (dir: string, title: string) => Promise<void> {
  const ready = new Map<string, Promise<void>>();
  const prepare = async (dir: string, title: string): Promise<void> => {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw localIOError(err, `cannot create directory for ${title}`);
    }
    if (allowPathTraversal) return;
    const realDir = await realpath(dir);
    if (realDir !== realRoot && !realDir.startsWith(realRoot + sep)) {
      throw new UnsafePathError(title, `its directory leads through a symbolic link to ${realDir}, outside the output directory`, {
        hint: 'remove the link or pass --allow-path-traversal',
      });
    }
  };
  return (dir, title) => {
    let p = ready.get(dir);
    if (!p) {
      p = prepare(dir, title);
      ready.set(dir, p);
    }
    return p;
  };
}

/** --keep-old-files: fail before downloading when the destination exists. */
async function checkNotExisting(file: PlannedFile): Promise<void> {
  if (await lstat(file.path).then(() => true, () => false)) {
    throw new OcifsError('LOCAL_IO', `${file.path} already exists and --keep-old-files is set`, {
      hint: 'remove it or pull without --keep-old-files',
    });
  }
}

/** A directory where a layer's file should go: rename(2) refuses to replace it. */
function directoryInTheWay(err: unknown, file: PlannedFile): OcifsError | undefined {
  const e = err as NodeJS.ErrnoException;
  if (e?.syscall !== 'rename' || (e.code !== 'EISDIR' && e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST')) return undefined;
  return new OcifsError('LOCAL_IO', `${file.path} is a directory; the layer ${file.title} is a file`, { hint: 'move the directory away', cause: err });
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

/**
 * Blobs up to this size are collected in memory (verified by the source stream) and written with
 * synchronous calls: for a file of a few KiB, a thread-pool round trip per open, write, close
 * and rename costs more CPU than the work itself, and pulls of many small files are CPU-bound
 * (this and the registry share the machine's cores). At most `concurrency` of them are in memory.
 */
export const SMALL_FILE_BYTES = 1024 * 1024;

async function writeSmallLayer(src: ReadableTarget, file: PlannedFile, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = await src.fetchBlob(file.descriptor, { signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      onBytes(chunk.length);
    }
  } catch (err) {
    throw asPullError(err, file);
  }
  // The stream ended, so digest and size matched. Temp name + rename: no partial file under
  // the final name, whatever stops us.
  signal.throwIfAborted();
  const tmp = tempPathFor(file.path);
  try {
    writeFileSync(tmp, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file.path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* the error that matters is the one below */
    }
    throw directoryInTheWay(err, file) ?? asPullError(err, file);
  }
}

async function writeLayer(src: ReadableTarget, file: PlannedFile, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
  const tmp = tempPathFor(file.path);
  try {
    const stream = await src.fetchBlob(file.descriptor, { signal });
    await pipeline(stream, counting(onBytes), createWriteStream(tmp, { mode: 0o644 }), { signal });
    await rename(tmp, file.path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw directoryInTheWay(err, file) ?? asPullError(err, file);
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
