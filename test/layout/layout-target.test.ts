import { appendFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile, symlink } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as readAll } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createTempFile } from '../../src/layout/blob-files.js';
import { DIRECT_MIN_SIZE } from '../../src/layout/file-copy.js';
import { LayoutTarget } from '../../src/layout/layout-target.js';
import {
  DigestMismatchError,
  InvalidArgumentError,
  InvalidContentError,
  InvalidReferenceError,
  LocalIOError,
  NotFoundError,
  OcifsError,
} from '../../src/errors.js';
import { Annotation, MediaType } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { artifact, blob, tempDir, type Artifact } from './fixtures.js';

let tmp: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.remove();
});

const source = (bytes: Buffer) => ({ open: (offset: number) => Readable.from([bytes.subarray(offset)]) });

async function store(layout: LayoutTarget, a: Artifact, tags: string[]): Promise<void> {
  for (const b of [...a.layers, a.config]) await layout.pushBlob(b.descriptor, source(b.bytes));
  await layout.pushManifest(a.manifest.descriptor, a.manifest.bytes, tags);
}

async function indexJson(dir: string): Promise<{ manifests: { digest: string; annotations?: Record<string, string> }[] }> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
}

describe('LayoutTarget.open', () => {
  test('creates a layout that has the three parts', async () => {
    const dir = join(tmp.path, 'new', 'layout');
    const layout = await LayoutTarget.open(dir, { create: true });
    expect(layout.dir).toBe(dir);
    expect(layout.description).toBe(`oci-layout:${dir}`);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      manifests: [],
    });
    expect((await stat(join(dir, 'blobs', 'sha256'))).isDirectory()).toBe(true);
    expect(await readdir(dir)).toEqual(['blobs', 'index.json', 'oci-layout']);
    // and opens again without create
    expect((await (await LayoutTarget.open(dir)).listTags())).toEqual([]);
  });

  test('create makes a layout in an existing directory without one', async () => {
    await writeFile(join(tmp.path, 'unrelated.txt'), 'x');
    await LayoutTarget.open(tmp.path, { create: true });
    expect((await readdir(tmp.path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout', 'unrelated.txt']);
  });

  test('a missing directory is NotFoundError without create', async () => {
    await expect(LayoutTarget.open(join(tmp.path, 'nope'))).rejects.toThrow(NotFoundError);
  });

  test.each<[string, (dir: string) => Promise<void>, RegExp, boolean?]>([
    ['a file, not a directory', async (dir) => writeFile(dir, 'x'), /not a directory/],
    ['no oci-layout file', async (dir) => mkdir(dir), /no oci-layout file/],
    ['index.json but no oci-layout (even with create)', async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    }, /no oci-layout file/, true],
    ['oci-layout that is not JSON', async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'oci-layout'), 'hello');
    }, /not an OCI layout.*JSON/],
    ['an unknown layout version', async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    }, /imageLayoutVersion "2.0.0"/],
    ['malformed index.json', async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[');
    }, /index.json is not a valid OCI index.*malformed JSON/],
    ['index.json with a hostile digest', async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await writeFile(join(dir, 'index.json'), JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: MediaType.ImageManifest, digest: 'sha256:../../../etc/passwd', size: 1 }],
      }));
    }, /manifests\[0\]\.digest/],
  ])('%s is InvalidContentError', async (_name, make, message, create) => {
    const dir = join(tmp.path, 'bad');
    await make(dir);
    const opening = LayoutTarget.open(dir, { create: create ?? false });
    await expect(opening).rejects.toThrow(InvalidContentError);
    await expect(LayoutTarget.open(dir, { create: create ?? false })).rejects.toThrow(message);
  });

  test('a layout without index.json reads as empty', async () => {
    await writeFile(join(tmp.path, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const layout = await LayoutTarget.open(tmp.path);
    expect(await layout.listTags()).toEqual([]);
  });
});

describe('LayoutTarget as a target', () => {
  test('push, resolve, fetch and list round-trip', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'hello', 'dir/b.txt': 'world!' });
    await store(layout, a, ['v1', 'latest']);

    expect(await layout.listTags()).toEqual(['latest', 'v1']);
    const resolved = await layout.resolve('v1');
    expect(resolved).toEqual(a.manifest.descriptor);
    expect(await layout.resolve(a.manifest.descriptor.digest)).toEqual(a.manifest.descriptor);

    const fetched = await layout.fetchManifest('latest');
    expect(fetched.bytes.equals(a.manifest.bytes)).toBe(true);
    expect(fetched.descriptor).toMatchObject(a.manifest.descriptor);
    expect(fetched.parsed.kind).toBe('manifest');
    if (fetched.parsed.kind === 'manifest') expect(fetched.parsed.manifest.layers).toHaveLength(2);

    for (const l of a.layers) {
      expect(await layout.exists(l.descriptor)).toBe(true);
      expect((await readAll(await layout.fetchBlob(l.descriptor))).equals(l.bytes)).toBe(true);
      expect(await readFile(layout.blobPath(l.descriptor.digest))).toEqual(l.bytes);
    }
    const b = a.layers[1]!;
    expect((await layout.fetchBlobRange(b.descriptor, 1, 3)).toString()).toBe('orl');
    expect((await layout.fetchBlobRange(b.descriptor, 4, 100)).toString()).toBe('d!');
    expect((await layout.fetchBlobRange(b.descriptor, 6, 10)).length).toBe(0);
    expect((await layout.fetchBlobRange(b.descriptor, 600, 10)).length).toBe(0);

    // the blobs live where the image-spec says
    const files = (await readdir(join(tmp.path, 'blobs', 'sha256'))).sort();
    expect(files).toEqual([...new Set([...a.layers, a.config, a.manifest].map((x) => x.descriptor.digest.slice(7)))].sort());
    // no temp files or ingest directory stay behind
    expect((await readdir(tmp.path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('pushing a blob that exists is skipped', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const b = blob('same bytes');
    expect(await layout.pushBlob(b.descriptor, source(b.bytes))).toEqual({ outcome: 'uploaded', bytesSent: b.bytes.length });
    expect(await layout.pushBlob(b.descriptor, source(b.bytes))).toEqual({ outcome: 'exists', bytesSent: 0 });
  });

  test('pushBlob reports progress and verifies what it stores', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const b = blob(Buffer.alloc(3_000_000, 7));
    let progress = 0;
    await layout.pushBlob(b.descriptor, source(b.bytes), { onProgress: (n) => (progress += n) });
    expect(progress).toBe(b.bytes.length);

    const liar = blob('the real bytes');
    await expect(layout.pushBlob(liar.descriptor, source(Buffer.from('other bytes!!!')))).rejects.toThrow(DigestMismatchError);
    await expect(layout.pushBlob(liar.descriptor, source(Buffer.from('the real bytes and more')))).rejects.toThrow(/more than 14 bytes/);
    await expect(layout.pushBlob(liar.descriptor, source(Buffer.from('the real')))).rejects.toThrow(/8 bytes instead of 14/);
    expect(await layout.exists(liar.descriptor)).toBe(false);
    expect((await readdir(tmp.path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('an aborted push stores nothing', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const b = blob('abort me');
    const controller = new AbortController();
    controller.abort();
    const err = await layout.pushBlob(b.descriptor, source(b.bytes), { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OcifsError);
    expect((err as OcifsError).code).toBe('ABORTED');
    expect(await layout.exists(b.descriptor)).toBe(false);
  });

  test('pushManifest by digest only adds an untagged entry', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'x.txt': 'x' });
    await store(layout, a, []);
    expect(await layout.listTags()).toEqual([]);
    const index = await indexJson(tmp.path);
    expect(index.manifests).toEqual([a.manifest.descriptor]);
    expect(await layout.resolve(a.manifest.descriptor.digest)).toEqual(a.manifest.descriptor);
  });

  test('pushManifest refuses bytes that do not match or are not a manifest', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'x.txt': 'x' });
    await expect(layout.pushManifest(a.manifest.descriptor, Buffer.from('{}'), ['v1'])).rejects.toThrow(DigestMismatchError);
    const notManifest = blob('{"hello":"world"}', MediaType.ImageManifest);
    await expect(layout.pushManifest(notManifest.descriptor, notManifest.bytes, ['v1'])).rejects.toThrow(InvalidContentError);
    expect(await layout.listTags()).toEqual([]);
  });

  test('retagging moves a tag; untag removes it; tagging an absent manifest fails', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    const b = artifact({ 'a.txt': 'two' });
    await store(layout, a, ['v1', 'stable']);
    await store(layout, b, ['v1']);
    expect((await layout.resolve('v1')).digest).toBe(b.manifest.descriptor.digest);
    expect((await layout.resolve('stable')).digest).toBe(a.manifest.descriptor.digest);
    expect((await indexJson(tmp.path)).manifests.map((m) => m.annotations?.[Annotation.RefName])).toEqual(['v1', 'stable']);

    await layout.tag(a.manifest.descriptor, 'v1');
    expect((await layout.resolve('v1')).digest).toBe(a.manifest.descriptor.digest);

    await layout.untag('stable');
    expect(await layout.listTags()).toEqual(['v1']);
    await expect(layout.untag('stable')).rejects.toThrow(NotFoundError);

    const absent = artifact({ 'a.txt': 'never stored' });
    await expect(layout.tag(absent.manifest.descriptor, 'v9')).rejects.toThrow(NotFoundError);
  });

  test('many concurrent tag updates are all kept', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    await store(layout, a, []);
    const tags = Array.from({ length: 25 }, (_, i) => `t${i}`);
    await Promise.all(tags.map((t) => layout.tag(a.manifest.descriptor, t)));
    // a second LayoutTarget on the same directory shares the lock
    const other = await LayoutTarget.open(tmp.path);
    await Promise.all([layout.tag(a.manifest.descriptor, 'x1'), other.tag(a.manifest.descriptor, 'x2')]);
    expect(await layout.listTags()).toEqual([...tags, 'x1', 'x2'].sort());
  });

  test.each(['', '../x', 'a/b', '.hidden', '-dash', 'x'.repeat(129), 'tag with space', 'a:b', 'ü'])('hostile tag %j is refused', async (tag) => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    await store(layout, a, []);
    await expect(layout.tag(a.manifest.descriptor, tag)).rejects.toThrow(InvalidReferenceError);
    await expect(layout.pushManifest(a.manifest.descriptor, a.manifest.bytes, ['ok', tag])).rejects.toThrow(InvalidReferenceError);
    expect(await layout.listTags()).toEqual([]);
  });

  test('hostile ref names written by others are not listed as tags', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    await store(layout, a, ['good']);
    const index = await indexJson(tmp.path);
    index.manifests.push({ ...index.manifests[0]!, annotations: { [Annotation.RefName]: '../../etc' } });
    index.manifests.push({ ...index.manifests[0]!, annotations: { [Annotation.RefName]: 'docker.io/library/x:1' } });
    await writeFile(join(tmp.path, 'index.json'), JSON.stringify(index));
    expect(await layout.listTags()).toEqual(['good']);
    // a full name is still resolvable by its exact text (buildkit writes those)
    expect((await layout.resolve('docker.io/library/x:1')).digest).toBe(a.manifest.descriptor.digest);
    await expect(layout.resolve('../nope')).rejects.toThrow(InvalidReferenceError);
  });
});

describe('LayoutTarget on bad content', () => {
  test('unknown tags and digests are NotFoundError, with the tags as a hint', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    await store(layout, artifact({ 'a.txt': 'one' }), ['v1']);
    const err = await layout.resolve('v2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).hint).toBe('tags in this layout: v1');
    await expect(layout.resolve('sha256:' + 'f'.repeat(64))).rejects.toThrow(NotFoundError);
  });

  test('a missing blob is NotFoundError', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const b = blob('never stored');
    await expect(layout.fetchBlob(b.descriptor)).rejects.toThrow(NotFoundError);
    await expect(layout.fetchBlobRange(b.descriptor, 0, 4)).rejects.toThrow(NotFoundError);
    expect(await layout.exists(b.descriptor)).toBe(false);
  });

  test('a tag whose manifest blob is gone is NotFoundError on fetch', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    await store(layout, a, ['v1']);
    execFileSync('rm', [layout.blobPath(a.manifest.descriptor.digest)]);
    await expect(layout.fetchManifest('v1')).rejects.toThrow(NotFoundError);
  });

  test('a blob whose bytes changed on disk fails with DigestMismatchError', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'hello' });
    await store(layout, a, ['v1']);
    const layer = a.layers[0]!.descriptor;
    await writeFile(layout.blobPath(layer.digest), 'HELLO'); // same size, other bytes
    await expect(readAll(await layout.fetchBlob(layer))).rejects.toThrow(DigestMismatchError);
    await writeFile(layout.blobPath(layer.digest), 'hello, longer'); // other size: fails before streaming
    await expect(layout.fetchBlob(layer)).rejects.toThrow(/13 bytes instead of 5/);
    await expect(layout.fetchBlobRange(layer, 0, 2)).rejects.toThrow(DigestMismatchError);
    expect(await layout.exists(layer)).toBe(false);

    const tampered = Buffer.from(a.manifest.bytes);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 3) ^ 1, tampered.length - 3); // same size, other bytes
    await writeFile(layout.blobPath(a.manifest.descriptor.digest), tampered);
    await expect(layout.fetchManifest('v1')).rejects.toThrow(DigestMismatchError);
  });

  test('a manifest not listed in index.json resolves by digest from its bytes', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const a = artifact({ 'a.txt': 'one' });
    for (const b of [...a.layers, a.config, a.manifest]) await layout.ingest([b.bytes]);
    expect(await layout.resolve(a.manifest.descriptor.digest)).toEqual(a.manifest.descriptor);
  });
});

describe('LayoutTarget.ingest', () => {
  test('returns the digest and size, and verifies what is expected', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const bytes = Buffer.from('ingest me');
    expect(await layout.ingest(Readable.from([bytes]))).toEqual({ digest: digestOf(bytes), size: bytes.length });
    await expect(layout.ingest(Readable.from([bytes]), { expected: { digest: digestOf(Buffer.from('x')), size: 9 } })).rejects.toThrow(
      DigestMismatchError,
    );
  });

  test('sha512 blobs land under blobs/sha512', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const bytes = Buffer.from('five hundred and twelve');
    const digest = digestOf(bytes, 'sha512');
    await layout.ingest([bytes], { expected: { digest, size: bytes.length } });
    expect(await readFile(join(tmp.path, 'blobs', 'sha512', digest.slice(7)))).toEqual(bytes);
  });

  test('concurrent ingests of one digest never corrupt it, and readers never see a partial blob', async () => {
    const layout = await LayoutTarget.open(tmp.path, { create: true });
    const bytes = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    const expected = { digest: digestOf(bytes), size: bytes.length };
    // slow writers: 64 KiB chunks with a pause, so they overlap
    const slow = () =>
      Readable.from(
        (async function* () {
          for (let o = 0; o < bytes.length; o += 65536) {
            await new Promise((r) => setImmediate(r));
            yield bytes.subarray(o, o + 65536);
          }
        })(),
      );
    let done = false;
    const seen: number[] = [];
    const reader = (async () => {
      while (!done) {
        const content = await readFile(layout.blobPath(expected.digest)).catch(() => undefined);
        if (content) seen.push(content.equals(bytes) ? 1 : 0);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const results = await Promise.all(Array.from({ length: 6 }, () => layout.ingest(slow(), { expected })));
    done = true;
    await reader;
    expect(results.every((r) => r.digest === expected.digest)).toBe(true);
    expect(seen.every((ok) => ok === 1)).toBe(true);
    expect((await readFile(layout.blobPath(expected.digest))).equals(bytes)).toBe(true);
    expect((await readdir(tmp.path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });
});

describe('LayoutTarget.ingestFile', () => {
  test('copies (one read pass) and reports progress', async () => {
    const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
    const file = join(tmp.path, 'data.bin');
    const bytes = Buffer.alloc(2_500_000, 3);
    await writeFile(file, bytes);
    let progress = 0;
    const written = await layout.ingestFile(file, { onProgress: (n) => (progress += n) });
    expect(written).toEqual({ digest: digestOf(bytes), size: bytes.length });
    expect(progress).toBe(bytes.length);
    const blobStat = await stat(layout.blobPath(written.digest));
    expect(blobStat.ino).not.toBe((await stat(file)).ino);
    expect((await readFile(layout.blobPath(written.digest))).equals(bytes)).toBe(true);
  });

  test('a file of DIRECT_MIN_SIZE or more (written with O_DIRECT) is stored byte for byte', async () => {
    const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
    const file = join(tmp.path, 'big.bin');
    const bytes = randomBytes(DIRECT_MIN_SIZE + 4097); // ends mid-block: the padded last write is cut back
    await writeFile(file, bytes);
    const written = await layout.ingestFile(file);
    expect(written).toEqual({ digest: digestOf(bytes), size: bytes.length });
    const stored = await readFile(layout.blobPath(written.digest));
    expect(stored.length).toBe(bytes.length);
    expect(stored.equals(bytes)).toBe(true);
    expect(await readdir(join(tmp.path, 'layout'))).not.toContain('ingest');
  });

  test('on a filesystem that refuses O_DIRECT (ramfs), a big file gets the ordinary copy', async () => {
    const ramfs = join(tmp.path, 'ramfs');
    await mkdir(ramfs);
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', ramfs]); // needs root, as the FUSE tests do
    try {
      const probe = await createTempFile(join(ramfs, 'probe'), { direct: true });
      await probe.handle.close();
      expect(probe.direct).toBe(false);
      const layout = await LayoutTarget.open(join(ramfs, 'layout'), { create: true });
      const file = join(tmp.path, 'big.bin');
      const bytes = randomBytes(DIRECT_MIN_SIZE + 1);
      await writeFile(file, bytes);
      const written = await layout.ingestFile(file);
      expect(written).toEqual({ digest: digestOf(bytes), size: bytes.length });
      expect((await readFile(layout.blobPath(written.digest))).equals(bytes)).toBe(true);
    } finally {
      execFileSync('umount', [ramfs]);
    }
  });

  test('link places the blob as a hard link on the same filesystem', async () => {
    const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
    const file = join(tmp.path, 'data.bin');
    await writeFile(file, 'linked content');
    const written = await layout.ingestFile(file, { link: true });
    const fileStat = await stat(file);
    expect((await stat(layout.blobPath(written.digest))).ino).toBe(fileStat.ino);
    expect(fileStat.nlink).toBe(2);
    expect((await readdir(join(tmp.path, 'layout'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('link falls back to a copy across filesystems', async () => {
    // /dev/shm is a tmpfs; the layout is on the temp directory's filesystem
    const shm = await mkdtempIn('/dev/shm');
    try {
      const file = join(shm, 'data.bin');
      await writeFile(file, 'across filesystems');
      const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
      const written = await layout.ingestFile(file, { link: true });
      expect(await readFile(layout.blobPath(written.digest), 'utf8')).toBe('across filesystems');
    } finally {
      execFileSync('rm', ['-rf', shm]);
    }
  });

  test('a file that changes while being read fails and stores nothing', async () => {
    const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
    const file = join(tmp.path, 'growing.bin');
    await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 1));
    let appended = false;
    const err = await layout
      .ingestFile(file, {
        onProgress: () => {
          if (!appended) appendFileSync(file, 'more');
          appended = true;
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalIOError);
    expect((err as Error).message).toMatch(/changed while it was being read/);
    expect(await readdir(join(tmp.path, 'layout', 'blobs', 'sha256'))).toEqual([]);
  });

  test.each<[string, (path: string) => Promise<unknown>, new (...args: never[]) => OcifsError]>([
    ['a missing file', async () => undefined, LocalIOError],
    ['a directory', async (p) => mkdir(p), InvalidArgumentError],
    ['a FIFO', async (p) => void execFileSync('mkfifo', [p]), InvalidArgumentError],
    ['a dangling symlink', async (p) => symlink(join(tmp.path, 'nowhere'), p), LocalIOError],
  ])('%s is refused', async (_name, make, errorClass) => {
    const layout = await LayoutTarget.open(join(tmp.path, 'layout'), { create: true });
    const path = join(tmp.path, 'input');
    await make(path);
    await expect(layout.ingestFile(path)).rejects.toThrow(errorClass);
  });
});

async function mkdtempIn(dir: string): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  return mkdtemp(join(dir, 'ocifs-'));
}
