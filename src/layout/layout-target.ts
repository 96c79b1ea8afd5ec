/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as a target:
 * the same ReadableTarget/WritableTarget a registry repository is, so copy, pull, ls and the
 * mount work on both. Reads happen in place (the mount reads blob files directly).
 *
 * Writes are atomic: blobs land by temp file (under `ingest/`, as oras-go does) + verify + rename;
 * index.json is rewritten by temp file + rename, under a per-directory lock within this process.
 * Two processes tagging the same layout at the same instant may lose one tag update (last rename
 * wins) but never leave a torn file.
 */
import { constants, mkdir, open, readFile, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { addAbortSignal, pipeline, type Readable } from 'node:stream';
import {
  DigestMismatchError,
  InvalidArgumentError,
  InvalidContentError,
  InvalidReferenceError,
  LocalIOError,
  NotFoundError,
} from '../errors.js';
import type {
  BlobSource,
  FetchedManifest,
  FetchOptions,
  PushBlobOptions,
  PushBlobResult,
  WritableTarget,
} from '../oci/target.js';
import { MAX_MANIFEST_BYTES, type Descriptor, type ImageIndex } from '../oci/types.js';
import { MAX_INDEX_JSON_BYTES, parseIndexJson, parseManifest, parseOciLayoutFile } from '../oci/validate.js';
import { isDigest, parseDigest, verifyBytes, VerifyingStream } from '../ref/digest.js';
import { isValidTag } from '../ref/reference.js';
import {
  asLocalError,
  commit,
  createTempFile,
  discard,
  hashInto,
  identityOf,
  linkToTemp,
  readAt,
  sameIdentity,
  type WriteOptions,
  type WrittenBlob,
} from './blob-files.js';
import { copyHashing, DIRECT_MIN_SIZE, hashFile } from './file-copy.js';
import {
  emptyIndex,
  findByDigest,
  findByRefName,
  serializeIndex,
  tagsOf,
  withoutRefName,
  withoutTag,
  withTag,
  withUntagged,
} from './index-json.js';

export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const BLOBS_DIR = 'blobs';
/** Temp files of blobs being written; oras-go uses the same name. */
export const INGEST_DIR = 'ingest';
export const LAYOUT_VERSION = '1.0.0';

const READ_CHUNK = 1024 * 1024;

export interface OpenLayoutOptions {
  /** Make the directory (and the layout files) when missing. */
  create?: boolean;
}

export interface IngestOptions extends WriteOptions {}

export interface IngestFileOptions {
  /** Hard-link the file into the layout when on the same filesystem (copy otherwise). */
  link?: boolean;
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** Serialises index.json read-modify-write cycles per layout directory within this process. */
const indexLocks = new Map<string, Promise<unknown>>();

export class LayoutTarget implements WritableTarget {
  /** Ingests of this target in progress: only the last one removes the temp directory. */
  private ingestsInFlight = 0;
  /** Absolute path of the layout directory. */
  readonly dir: string;
  readonly description: string;

  private constructor(dir: string, given: string) {
    this.dir = dir;
    this.description = `oci-layout:${given}`;
  }

  /**
   * Opens a layout. NotFoundError when the directory is missing (and `create` is not set);
   * InvalidContentError when it is not a layout or its `oci-layout`/`index.json` is malformed.
   */
  static async open(dir: string, options: OpenLayoutOptions = {}): Promise<LayoutTarget> {
    const layout = new LayoutTarget(resolvePath(dir), dir);
    const where = JSON.stringify(dir);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(layout.dir)).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw asLocalError(err, `cannot open OCI layout ${where}`);
      if (!options.create) {
        throw new NotFoundError(`no OCI layout at ${where}: the directory does not exist`, {
          hint: 'check the path, or create the layout with `ocifs pack ... --layout PATH:TAG`',
        });
      }
      await layout.initialise();
      return layout;
    }
    if (!isDirectory) throw new InvalidContentError(`${where} is not an OCI layout: it is not a directory`);

    const layoutText = await readFile(join(layout.dir, LAYOUT_FILE)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw asLocalError(err, `cannot read ${where}/${LAYOUT_FILE}`);
    });
    if (layoutText === undefined) {
      const hasIndex = await stat(join(layout.dir, INDEX_FILE)).then(() => true, () => false);
      if (!options.create || hasIndex) {
        throw new InvalidContentError(`${where} is not an OCI layout: it has no ${LAYOUT_FILE} file`, {
          hint: 'give the directory that holds oci-layout, index.json and blobs/',
        });
      }
      await layout.initialise();
      return layout;
    }
    checkLayoutFile(layoutText, where);
    await layout.readIndex(); // a malformed index.json fails now, not on first use
    return layout;
  }

  /** Where the blob with this digest lives (whether or not it exists). Throws on a malformed digest. */
  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.dir, BLOBS_DIR, algorithm, hex);
  }

  // ---- ReadableTarget ----

  async resolve(reference: string, _options?: FetchOptions): Promise<Descriptor> {
    const index = await this.readIndex();
    if (isDigest(reference)) {
      const listed = findByDigest(index, reference);
      if (listed) return withoutRefName(listed);
      // Not listed (a child of an index, or pushed by digest by another tool): its bytes say what it is.
      const size = await this.blobSize(reference);
      if (size === undefined) throw new NotFoundError(`manifest ${reference} not found in ${this.description}`);
      const fetched = await this.fetchManifest({ mediaType: '', digest: reference, size });
      return fetched.descriptor;
    }
    const entry = findByRefName(index, reference);
    if (entry) return withoutRefName(entry);
    if (!isValidTag(reference)) throw new InvalidReferenceError(`invalid tag ${JSON.stringify(reference)}`);
    throw new NotFoundError(`tag ${JSON.stringify(reference)} not found in ${this.description}`, {
      hint: tagsHint(tagsOf(index, isValidTag)),
    });
  }

  async fetchManifest(reference: string | Descriptor, options?: FetchOptions): Promise<FetchedManifest> {
    const descriptor = typeof reference === 'string' ? await this.resolve(reference, options) : reference;
    const what = `manifest ${descriptor.digest} in ${this.description}`;
    if (descriptor.size > MAX_MANIFEST_BYTES) {
      throw new InvalidContentError(`${what} is ${descriptor.size} bytes, more than the ${MAX_MANIFEST_BYTES} bytes a manifest may have`);
    }
    const handle = await this.openBlob(descriptor.digest, what);
    let bytes: Buffer;
    try {
      const size = (await handle.stat()).size;
      if (size > MAX_MANIFEST_BYTES) {
        throw new InvalidContentError(`${what} is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} bytes a manifest may have`);
      }
      bytes = await readAt(handle, 0, size);
    } catch (err) {
      throw asLocalError(err, `cannot read ${what}`);
    } finally {
      await handle.close();
    }
    verifyBytes(bytes, descriptor, what);
    const parsed = parseManifest(bytes, descriptor.mediaType || undefined);
    return { descriptor: { ...descriptor, mediaType: parsed.mediaType, size: bytes.length }, bytes, parsed };
  }

  async fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Readable> {
    const what = `blob ${descriptor.digest} in ${this.description}`;
    const handle = await this.openBlob(descriptor.digest, what);
    try {
      await checkSize(handle, descriptor, what);
    } catch (err) {
      await handle.close();
      throw err;
    }
    const file = handle.createReadStream({ highWaterMark: READ_CHUNK });
    const verifier = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size }, what);
    // pipeline destroys both ends on an error or an early destroy by the consumer.
    pipeline(file, verifier, () => undefined);
    if (options?.signal) addAbortSignal(options.signal, verifier);
    return verifier;
  }

  async fetchBlobRange(descriptor: Descriptor, offset: number, length: number, _options?: FetchOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgumentError(`invalid range: offset ${offset}, length ${length}`);
    }
    const what = `blob ${descriptor.digest} in ${this.description}`;
    const handle = await this.openBlob(descriptor.digest, what);
    try {
      await checkSize(handle, descriptor, what);
      const end = Math.min(descriptor.size, offset + length);
      if (offset >= end) return Buffer.alloc(0);
      return await readAt(handle, offset, end - offset);
    } catch (err) {
      throw asLocalError(err, `cannot read ${what}`);
    } finally {
      await handle.close();
    }
  }

  /** A blob or manifest exists when its file is there with the descriptor's size. */
  async exists(descriptor: Descriptor, _options?: FetchOptions): Promise<boolean> {
    return (await this.blobSize(descriptor.digest)) === descriptor.size;
  }

  /** Ref names of index.json that are valid tags, sorted. Names that are not tags are not listed. */
  async listTags(_options?: FetchOptions): Promise<string[]> {
    return tagsOf(await this.readIndex(), isValidTag);
  }

  // ---- WritableTarget ----

  async pushBlob(descriptor: Descriptor, source: BlobSource, options: PushBlobOptions = {}): Promise<PushBlobResult> {
    if (await this.exists(descriptor)) return { outcome: 'exists', bytesSent: 0 };
    const stream = source.open(0);
    try {
      await this.ingest(stream, {
        expected: { digest: descriptor.digest, size: descriptor.size },
        onProgress: options.onProgress,
        signal: options.signal,
      });
    } finally {
      stream.destroy();
    }
    return { outcome: 'uploaded', bytesSent: descriptor.size };
  }

  async pushManifest(descriptor: Descriptor, bytes: Buffer, tags: string[], options?: FetchOptions): Promise<void> {
    for (const tag of tags) checkTag(tag);
    const what = `manifest ${descriptor.digest}`;
    verifyBytes(bytes, descriptor, what);
    parseManifest(bytes, descriptor.mediaType); // never list something that is not a manifest
    if (!(await this.exists(descriptor))) {
      await this.ingest([bytes], { expected: { digest: descriptor.digest, size: descriptor.size }, signal: options?.signal });
    }
    await this.updateIndex((index) =>
      tags.length === 0 ? withUntagged(index, descriptor) : tags.reduce((acc, tag) => withTag(acc, descriptor, tag), index),
    );
  }

  // ---- Layout-specific ----

  /**
   * Stores what `source` yields as a blob: temp file + hash while writing + rename. Verified
   * against `expected` when given (DigestMismatchError, nothing stored).
   */
  async ingest(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: IngestOptions = {}): Promise<WrittenBlob> {
    const ingestDir = join(this.dir, INGEST_DIR);
    this.ingestsInFlight++;
    const what = options.expected ? `blob ${options.expected.digest}` : 'blob';
    let temp: { path: string; handle: FileHandle } | undefined;
    let committed = false;
    try {
      temp = await createTempFile(ingestDir);
      const written = await hashInto(toAsync(source), temp.handle, { ...options, what });
      await temp.handle.sync();
      await temp.handle.close();
      await commit(temp.path, this.blobPath(written.digest));
      committed = true;
      return written;
    } catch (err) {
      throw asLocalError(err, `cannot store ${what} in ${this.description}`);
    } finally {
      if (temp) {
        await temp.handle.close().catch(() => undefined);
        if (!committed) await discard(temp.path);
      }
      await this.leaveIngestDir(ingestDir);
    }
  }

  /**
   * Stores a local file as a blob, reading it once (hashing while copying). With `link`, the
   * blob is a hard link to the file when both are on one filesystem (the file must then not be
   * modified afterwards: its bytes are the blob's). Fails if the file changes while being read.
   */
  async ingestFile(path: string, options: IngestFileOptions = {}): Promise<WrittenBlob> {
    const ingestDir = join(this.dir, INGEST_DIR);
    this.ingestsInFlight++;
    let handle: FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw asLocalError(err, `cannot read ${path}`);
    }
    let tempPath = '';
    let tempHandle: FileHandle | undefined;
    try {
      if (!(await handle.stat()).isFile()) throw new InvalidArgumentError(`${path} is not a regular file`);
      const changed = () =>
        new LocalIOError(`${path} changed while it was being read`, { hint: 'run again once nothing is writing to it' });

      if (options.link) tempPath = (await linkToTemp(path, ingestDir)) ?? '';
      const before = await identityOf(handle); // after linking: link(2) changes the ctime
      let written: WrittenBlob;
      if (tempPath) {
        const linked = await identityOf(tempPath);
        if (linked.ino !== before.ino || linked.dev !== before.dev) throw changed();
        written = await hashFile(handle, { sizeHint: before.size, onProgress: options.onProgress, signal: options.signal });
      } else {
        const temp = await createTempFile(ingestDir, { direct: before.size >= DIRECT_MIN_SIZE });
        tempPath = temp.path;
        tempHandle = temp.handle;
        const copyOptions = { sizeHint: before.size, direct: temp.direct, onProgress: options.onProgress, signal: options.signal };
        written = await copyHashing(handle, tempHandle, copyOptions);
        await tempHandle.sync();
      }
      if (written.size !== before.size || !sameIdentity(before, await identityOf(handle))) throw changed();
      await tempHandle?.close();
      tempHandle = undefined;
      await commit(tempPath, this.blobPath(written.digest));
      tempPath = '';
      return written;
    } catch (err) {
      throw asLocalError(err, `cannot store ${path} in ${this.description}`);
    } finally {
      await handle.close().catch(() => undefined);
      await tempHandle?.close().catch(() => undefined);
      if (tempPath) await discard(tempPath);
      await this.leaveIngestDir(ingestDir);
    }
  }

  /**
   * The last ingest of this target to finish removes the (then empty) temp directory. Removing it
   * while another of ours sat between its mkdir and its open made packs of hundreds of files fail
   * with ENOENT; ingests of other processes are still covered by createTempFile's retry.
   */
  private async leaveIngestDir(ingestDir: string): Promise<void> {
    if (--this.ingestsInFlight === 0) await rmdir(ingestDir).catch(() => undefined);
  }

  /** Points `tag` at a manifest already stored here (moving the tag if it exists). */
  async tag(descriptor: Descriptor, tag: string): Promise<void> {
    checkTag(tag);
    if (!(await this.exists(descriptor))) {
      throw new NotFoundError(`cannot tag ${descriptor.digest}: it is not in ${this.description}`);
    }
    await this.updateIndex((index) => withTag(index, descriptor, tag));
  }

  /** Removes a tag (the manifest's blobs stay). NotFoundError when there is no such tag. */
  async untag(tag: string): Promise<void> {
    await this.updateIndex((index) => {
      if (!findByRefName(index, tag)) throw new NotFoundError(`tag ${JSON.stringify(tag)} not found in ${this.description}`);
      return withoutTag(index, tag);
    });
  }

  /** The parsed index.json (an empty index when the file does not exist yet). */
  async readIndex(): Promise<ImageIndex> {
    const path = join(this.dir, INDEX_FILE);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw asLocalError(err, `cannot read ${this.description}/${INDEX_FILE}`);
    }
    let bytes: Buffer;
    try {
      const size = (await handle.stat()).size;
      if (size > MAX_INDEX_JSON_BYTES) {
        throw new InvalidContentError(`${this.description}/${INDEX_FILE} is ${size} bytes, more than ${MAX_INDEX_JSON_BYTES}`);
      }
      bytes = await readAt(handle, 0, size);
    } catch (err) {
      throw asLocalError(err, `cannot read ${this.description}/${INDEX_FILE}`);
    } finally {
      await handle.close();
    }
    try {
      return parseIndexJson(bytes);
    } catch (err) {
      throw new InvalidContentError(`${this.description}/${INDEX_FILE} is not a valid OCI index: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  // ---- internals ----

  private async initialise(): Promise<void> {
    try {
      await mkdir(join(this.dir, BLOBS_DIR, 'sha256'), { recursive: true });
      await writeAtomically(this.dir, LAYOUT_FILE, Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })));
      const hasIndex = await stat(join(this.dir, INDEX_FILE)).then(() => true, () => false);
      if (!hasIndex) await writeAtomically(this.dir, INDEX_FILE, serializeIndex(emptyIndex()));
    } catch (err) {
      throw asLocalError(err, `cannot create OCI layout ${this.description}`);
    }
  }

  private async updateIndex(change: (index: ImageIndex) => ImageIndex): Promise<void> {
    const previous = indexLocks.get(this.dir) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const index = await this.readIndex();
      const next = change(index);
      if (next === index) return;
      try {
        await writeAtomically(this.dir, INDEX_FILE, serializeIndex(next));
      } catch (err) {
        throw asLocalError(err, `cannot write ${this.description}/${INDEX_FILE}`);
      }
    });
    indexLocks.set(this.dir, run);
    try {
      await run;
    } finally {
      if (indexLocks.get(this.dir) === run) indexLocks.delete(this.dir);
    }
  }

  private async blobSize(digest: string): Promise<number | undefined> {
    try {
      const s = await stat(this.blobPath(digest));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw asLocalError(err, `cannot read blob ${digest} in ${this.description}`);
    }
  }

  private async openBlob(digest: string, what: string): Promise<FileHandle> {
    const path = this.blobPath(digest);
    try {
      return await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${what} not found: ${path} is missing`);
      throw asLocalError(err, `cannot read ${what}`);
    }
  }
}

function checkLayoutFile(bytes: Buffer, where: string): void {
  let version: string;
  try {
    version = parseOciLayoutFile(bytes).imageLayoutVersion;
  } catch (err) {
    throw new InvalidContentError(`${where} is not an OCI layout: ${(err as Error).message}`, { cause: err });
  }
  if (!/^1\.\d+\.\d+$/.test(version)) {
    throw new InvalidContentError(
      `${where} is not a supported OCI layout: ${LAYOUT_FILE} has imageLayoutVersion ${JSON.stringify(version)} (1.x.y expected)`,
    );
  }
}

function checkTag(tag: string): void {
  if (!isValidTag(tag)) {
    throw new InvalidReferenceError(`invalid tag ${JSON.stringify(tag)}`, {
      hint: 'a tag is 1-128 characters of letters, digits, _ . -, not starting with . or -',
    });
  }
}

async function checkSize(handle: FileHandle, descriptor: Descriptor, what: string): Promise<void> {
  const size = (await handle.stat()).size;
  if (size !== descriptor.size) throw new DigestMismatchError(descriptor.digest, `${size} bytes instead of ${descriptor.size}`, what);
}

function tagsHint(tags: string[]): string {
  if (tags.length === 0) return 'the layout has no tags';
  const shown = tags.slice(0, 10).join(', ');
  return `tags in this layout: ${shown}${tags.length > 10 ? `, ... (${tags.length} in all)` : ''}`;
}

/** Writes `name` in `dir` by temp file + fsync + rename, so readers see the old or the new file. */
async function writeAtomically(dir: string, name: string, bytes: Buffer): Promise<void> {
  const temp = await createTempFile(dir);
  try {
    await temp.handle.writeFile(bytes);
    await temp.handle.sync();
    await temp.handle.close();
    await commit(temp.path, join(dir, name));
  } catch (err) {
    await temp.handle.close().catch(() => undefined);
    await discard(temp.path);
    throw err;
  }
}

async function* toAsync(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source;
}
