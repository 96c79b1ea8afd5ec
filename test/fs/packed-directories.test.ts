/**
 * ORAS directory layers (tar+gzip, `io.deis.oras.content.unpack`) shown as directories.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Header, c as createTar } from 'tar';
import { OciFilesystem } from '../../src/fs/filesystem.js';
import { repositoryMount, type BlobReader } from '../../src/fs/sources.js';
import { Annotation, MediaType } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { ManualClock, MemoryMetadataStore, MemoryRepository, RangeBlobReader, readAll } from './fakes.js';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'ocifs-fs-packed-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A tarball as ORAS writes it for `oras push REF dir`: entries under `dir/`. */
async function orasTarball(name: string, files: Record<string, string>): Promise<Buffer> {
  const source = join(work, 'source');
  for (const [path, content] of Object.entries(files)) {
    const full = join(source, name, path);
    await mkdir(join(full, '..'), { recursive: true });
    await writeFile(full, content);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of createTar({ cwd: source, portable: true }, [name])) chunks.push(Buffer.from(chunk as Uint8Array));
  await rm(source, { recursive: true, force: true });
  return Buffer.concat(chunks);
}

/** A hand-made tar, for entries no honest tool writes. */
function rawTar(entries: Array<{ path: string; type: 'File' | 'Directory' | 'SymbolicLink' | 'Link'; body?: string; linkpath?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const header = new Header({
      path: e.path,
      type: e.type,
      size: e.type === 'File' ? body.length : 0,
      mode: e.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    });
    header.encode();
    blocks.push(header.block!);
    if (e.type === 'File') blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function pushDirectoryLayer(repo: MemoryRepository, title: string, tarball: Buffer, contentDigest = digestOf(tarball)) {
  const layer = repo.addBlob(gzipSync(tarball), MediaType.ImageLayerGzip, {
    [Annotation.Title]: title,
    [Annotation.OrasUnpack]: 'true',
    [Annotation.OrasContentDigest]: contentDigest,
  });
  const loose = repo.addBlob('loose file', 'text/plain', { [Annotation.Title]: 'readme.txt' });
  repo.tag('v1', repo.addManifest([layer, loose]));
  return layer;
}

function mount(repo: MemoryRepository, reader: BlobReader = new RangeBlobReader(), unpackDir = join(work, 'unpacked')) {
  return new OciFilesystem({
    source: repositoryMount(repo),
    reader,
    metadata: new MemoryMetadataStore(),
    now: new ManualClock().now,
    unpackDir,
  });
}

describe('ORAS directory layers', () => {
  test('appear as directories, unpacked on first access, and read back', async () => {
    const repo = new MemoryRepository('registry.test/dirs');
    const layer = pushDirectoryLayer(repo, 'data', await orasTarball('data', { 'a.txt': 'alpha', 'sub/b.txt': 'beta' }));
    const fs = mount(repo);
    try {
      expect((await fs.getattr('/v1/data')).mode & 0o170000).toBe(0o040000);
      expect((await fs.getxattr('/v1/data', 'user.oci.digest')).toString()).toBe(layer.digest);
      expect(repo.calls.fetchBlobRange).toBe(0);

      expect((await fs.readdir('/v1/data')).sort()).toEqual(['a.txt', 'sub']);
      expect(await fs.readdir('/v1/data/sub')).toEqual(['b.txt']);
      expect((await readAll(fs, '/v1/data/sub/b.txt')).toString()).toBe('beta');
      // Unpacked files are local: read synchronously too (the FUSE adapter's warm path).
      const handle = await fs.open('/v1/data/sub/b.txt', 0);
      const buffer = Buffer.alloc(8);
      expect(fs.readCached(handle, buffer, 8, 1)).toBe(3);
      expect(buffer.subarray(0, 3).toString()).toBe('eta');
      await fs.release(handle);
      expect(() => fs.readCached(handle, buffer, 8, 0)).toThrow(expect.objectContaining({ code: 'BAD_HANDLE' }));
      const st = await fs.getattr('/v1/data/a.txt');
      expect([st.size, st.mode & 0o777]).toEqual([5, 0o444]);
      expect((await readAll(fs, '/v1/readme.txt')).toString()).toBe('loose file');
      await expect(fs.getattr('/v1/data/none')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(fs.getattr('/v1/data/a.txt/x')).rejects.toMatchObject({ code: 'NOT_A_DIRECTORY' });
      await expect(fs.open('/v1/data/sub', 0)).rejects.toMatchObject({ code: 'IS_A_DIRECTORY' });
    } finally {
      await fs.close();
    }
  });

  test('are fetched once; a remount with the same unpack dir fetches nothing', async () => {
    const repo = new MemoryRepository('registry.test/dirs');
    pushDirectoryLayer(repo, 'data', await orasTarball('data', { 'a.txt': 'alpha' }));
    const first = mount(repo);
    await Promise.all([first.readdir('/v1/data'), first.readdir('/v1/data'), first.getattr('/v1/data/a.txt')]);
    const fetches = repo.calls.fetchBlobRange;
    expect(fetches).toBeGreaterThan(0);
    await first.readdir('/v1/data');
    await first.close();
    const second = mount(repo);
    expect((await readAll(second, '/v1/data/a.txt')).toString()).toBe('alpha');
    expect(repo.calls.fetchBlobRange).toBe(fetches);
    await second.close();
  });

  test('a tarball without the title prefix shows its root', async () => {
    const repo = new MemoryRepository('registry.test/dirs');
    pushDirectoryLayer(repo, 'data', rawTar([{ path: 'top.txt', type: 'File', body: 'top' }]));
    const fs = mount(repo);
    expect(await fs.readdir('/v1/data')).toEqual(['top.txt']);
    await fs.close();
  });

  test('entries that climb out, are absolute or are links never escape', async () => {
    const repo = new MemoryRepository('registry.test/evil');
    pushDirectoryLayer(
      repo,
      'data',
      rawTar([
        { path: 'data/', type: 'Directory' },
        { path: 'data/ok.txt', type: 'File', body: 'ok' },
        { path: '../escape.txt', type: 'File', body: 'escaped' },
        { path: 'data/../../escape2.txt', type: 'File', body: 'escaped' },
        { path: '/tmp/absolute-escape.txt', type: 'File', body: 'escaped' },
        { path: 'data/link', type: 'SymbolicLink', linkpath: '/etc/passwd' },
        { path: 'data/hard', type: 'Link', linkpath: '/etc/passwd' },
        { path: 'data/link/through.txt', type: 'File', body: 'through a link' },
      ]),
    );
    const unpackDir = join(work, 'deep', 'unpacked');
    const fs = mount(repo, new RangeBlobReader(), unpackDir);
    const names = await fs.readdir('/v1/data');
    expect(names).toContain('ok.txt');
    expect(names).not.toContain('hard');
    expect((await readAll(fs, '/v1/data/ok.txt')).toString()).toBe('ok');
    // Nothing outside the unpack directory, no links inside it.
    expect((await readdir(join(work, 'deep'))).sort()).toEqual(['unpacked']);
    await expect(lstat('/tmp/absolute-escape.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    for (const path of await walk(unpackDir)) expect((await lstat(path)).isSymbolicLink()).toBe(false);
    await fs.close();
  });

  test('a tar that does not match io.deis.oras.content.digest is refused and leaves nothing', async () => {
    const repo = new MemoryRepository('registry.test/dirs');
    pushDirectoryLayer(repo, 'data', await orasTarball('data', { 'a.txt': 'alpha' }), `sha256:${'0'.repeat(64)}`);
    const unpackDir = join(work, 'unpacked');
    const fs = mount(repo, new RangeBlobReader(), unpackDir);
    await expect(fs.readdir('/v1/data')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await readdir(unpackDir)).toEqual([]);
    await fs.close();
  });

  test('bytes that do not match the layer digest are refused', async () => {
    const repo = new MemoryRepository('registry.test/dirs');
    pushDirectoryLayer(repo, 'data', await orasTarball('data', { 'a.txt': 'alpha' }));
    const honest = new RangeBlobReader();
    const corrupting: BlobReader = {
      open: async (descriptor, source) => {
        const handle = await honest.open(descriptor, source);
        return {
          read: async (buffer, length, position) => {
            const n = await handle.read(buffer, length, position);
            if (n > 20) buffer[20] = buffer[20]! ^ 0xff;
            return n;
          },
          close: () => handle.close(),
        };
      },
    };
    const unpackDir = join(work, 'unpacked');
    const fs = mount(repo, corrupting, unpackDir);
    await expect(fs.readdir('/v1/data')).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await readdir(unpackDir)).toEqual([]);
    expect(honest.counters.closes).toBe(honest.counters.opens);
    await fs.close();
  });
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) out.push(...(await walk(path)));
  }
  return out;
}
