/**
 * ORAS directory layers (tar+gzip with `io.deis.oras.content.unpack: "true"`) as directories.
 *
 * On first use the whole blob is read through the BlobReader into a temp file and checked
 * against the layer digest, its uncompressed tar against `io.deis.oras.content.digest` (when
 * given), then unpacked with node-tar into `<dir>/<alg>-<hex>` by temp dir + rename, so a
 * directory that exists is complete and verified (it survives restarts: it is keyed by digest).
 * Only regular files and directories are extracted: links, devices and FIFOs are dropped, and
 * node-tar refuses absolute and `..` paths, so nothing lands outside the layer's directory.
 * Modes are normalised (0644/0755) so the daemon can always read what it unpacked.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { x as extractTar } from 'tar';
import { DigestMismatchError, localIOError } from '../errors.js';
import type { Logger } from '../log.js';
import { Annotation, type Descriptor } from '../oci/types.js';
import { Digester, parseDigest, type DigestAlgorithm } from '../ref/digest.js';
import type { BlobHandle, BlobReader, RepositorySource } from './sources.js';

const READ_CHUNK = 1024 * 1024;
const EXTRACTED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

export interface PackedDirectoriesOptions {
  /** Where unpacked layers live (e.g. `<cache dir>/unpacked`); a temp dir removed on close if unset. */
  dir?: string;
  reader: BlobReader;
  logger: Logger;
}

export class PackedDirectories {
  private readonly reader: BlobReader;
  private readonly logger: Logger;
  private readonly configuredDir: string | undefined;
  private rootDir: Promise<string> | undefined;
  private ownsRoot = false;
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(options: PackedDirectoriesOptions) {
    this.reader = options.reader;
    this.logger = options.logger;
    this.configuredDir = options.dir;
  }

  /**
   * The local directory showing the layer's content, unpacking it first if needed. ORAS writes
   * the entries under the title (`<title>/...`): that directory is shown when present, else the
   * whole archive (a tarball made by another tool).
   */
  async directory(layer: Descriptor, source: RepositorySource, prefix: readonly string[]): Promise<string> {
    const unpacked = await this.unpacked(layer, source);
    const underPrefix = join(unpacked, ...prefix);
    return prefix.length > 0 && (await isDirectory(underPrefix)) ? underPrefix : unpacked;
  }

  /** The whole unpacked archive of a layer, keyed by its digest. */
  unpacked(layer: Descriptor, source: RepositorySource): Promise<string> {
    const running = this.inflight.get(layer.digest);
    if (running) return running;
    const started = this.unpackOnce(layer, source).finally(() => this.inflight.delete(layer.digest));
    this.inflight.set(layer.digest, started);
    return started;
  }

  async close(): Promise<void> {
    if (this.ownsRoot && this.rootDir) await rm(await this.rootDir, { recursive: true, force: true });
  }

  private root(): Promise<string> {
    this.rootDir ??= (async () => {
      if (this.configuredDir) {
        await mkdir(this.configuredDir, { recursive: true });
        return this.configuredDir;
      }
      this.ownsRoot = true;
      return mkdtemp(join(tmpdir(), 'ocifs-unpacked-'));
    })();
    return this.rootDir;
  }

  private async unpackOnce(layer: Descriptor, source: RepositorySource): Promise<string> {
    const { algorithm, hex } = parseDigest(layer.digest);
    const root = await this.root();
    const final = join(root, `${algorithm}-${hex}`);
    if (await isDirectory(final)) return final;
    const work = await mkdtemp(join(root, `.unpacking-${hex.slice(0, 12)}-`));
    try {
      const blobFile = join(work, 'blob');
      const tree = join(work, 'tree');
      await mkdir(tree);
      await this.download(layer, source, blobFile, algorithm);
      await this.extract(layer, blobFile, tree);
      await normaliseModes(tree);
      try {
        await rename(tree, final);
      } catch (err) {
        // Another daemon sharing the cache finished first: its copy is as good as ours.
        if (!(await isDirectory(final))) throw err;
      }
      this.logger.debug('unpacked directory layer', { digest: layer.digest, dir: final });
      return final;
    } catch (err) {
      throw localIOError(err, `unpacking directory layer ${layer.digest}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Reads the whole blob through the BlobReader into `file`, verifying size and digest. */
  private async download(layer: Descriptor, source: RepositorySource, file: string, algorithm: DigestAlgorithm): Promise<void> {
    const handle = await this.reader.open(layer, source);
    const digester = new Digester(algorithm);
    try {
      await pipeline(Readable.from(readWhole(handle, layer.size)), tapDigest(digester), createWriteStream(file));
    } finally {
      await handle.close();
    }
    const actual = digester.digest();
    if (actual !== layer.digest) throw new DigestMismatchError(layer.digest, actual, 'directory layer');
  }

  /** Unpacks the verified blob, checking the uncompressed tar against the ORAS content digest. */
  private async extract(layer: Descriptor, file: string, into: string): Promise<void> {
    const expected = layer.annotations?.[Annotation.OrasContentDigest];
    const tarDigester = expected ? new Digester(parseDigest(expected).algorithm) : undefined;
    const unpack = extractTar({
      cwd: into,
      strict: false,
      preservePaths: false,
      filter: (path, entry) => {
        const type = 'type' in entry ? entry.type : entry.isDirectory() ? 'Directory' : 'File';
        const keep = EXTRACTED_TYPES.has(type);
        if (!keep) this.logger.debug('directory layer: skipping entry', { digest: layer.digest, path, type });
        return keep;
      },
      onwarn: (code, message) => this.logger.debug('directory layer: tar warning', { digest: layer.digest, code, message }),
    });
    const finished = new Promise<void>((resolve, reject) => {
      unpack.on('close', () => resolve());
      unpack.on('error', reject);
    });
    const gzipped = /gzip/i.test(layer.mediaType);
    await pipeline(
      createReadStream(file),
      gzipped ? createGunzip() : new PassThrough(),
      tapDigest(tarDigester),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          if (!unpack.write(chunk)) await Promise.race([once(unpack, 'drain'), finished]);
        }
        unpack.end();
        await finished;
      },
    );
    if (tarDigester && expected) {
      const actual = tarDigester.digest();
      if (actual !== expected) throw new DigestMismatchError(expected, actual, 'unpacked directory layer (io.deis.oras.content.digest)');
    }
  }
}

async function* readWhole(handle: BlobHandle, size: number): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
    const n = await handle.read(buffer, buffer.length, position);
    if (n <= 0) break; // short: the digest check reports it
    position += n;
    yield buffer.subarray(0, n);
  }
}

function tapDigest(digester: Digester | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      digester?.update(chunk);
      callback(null, chunk);
    },
  });
}

/** Regular files 0644, directories 0755; anything else (there should be none) is removed. */
async function normaliseModes(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await chmod(path, 0o755);
      await normaliseModes(path);
    } else if (entry.isFile()) {
      await chmod(path, 0o644);
    } else {
      await rm(path, { force: true });
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
