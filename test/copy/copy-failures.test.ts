/**
 * copy() and blobSourceFrom when a source blob fails: between two OCI layouts on disk (fast),
 * with a source that fails chosen blobs the ways a registry does (the fetch itself, or the body
 * mid-stream, with undici's own errors). No error may be emitted where nobody listens (that
 * crashed `pull --layout`), errors are typed, and copy() returns only when nothing is in flight.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pushArtifact, pseudoRandomBytes, type PushedArtifact } from '../helpers/artifacts.js';
import { LayoutTarget } from '../../src/layout/layout-target.js';
import { copy } from '../../src/copy/copy.js';
import { blobSourceFrom } from '../../src/copy/blob-source.js';
import { DigestMismatchError, OcifsError } from '../../src/errors.js';
import type { ReadableTarget } from '../../src/oci/target.js';
import type { Descriptor } from '../../src/oci/types.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ocifs-copy-fail-'));
  dirs.push(d);
  return d;
}

async function sourceLayout(count: number): Promise<{ layout: LayoutTarget; artifact: PushedArtifact }> {
  const layout = await LayoutTarget.open(join(await tempDir(), 'src'), { create: true });
  const files = Array.from({ length: count }, (_, i) => ({ title: `f${i}.bin`, bytes: pseudoRandomBytes(8 * 1024 + i, 7 + i) }));
  const artifact = await pushArtifact(layout, ['v1'], files);
  return { layout, artifact };
}

/** An undici-like error (ClientDestroyedError has this name and code). */
function destroyedError(): Error {
  return Object.assign(new Error('The client is destroyed'), { name: 'ClientDestroyedError', code: 'UND_ERR_DESTROYED' });
}

type Failure = 'fetch' | 'body';

/** `inner` with chosen blobs failing: the fetch rejects, or the body errors after its first bytes. */
function failing(inner: ReadableTarget, bad: Map<string, Failure>, seen: string[] = []): ReadableTarget {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'fetchBlob') return Reflect.get(target, prop, receiver) as unknown;
      return async (d: Descriptor, options?: { signal?: AbortSignal }) => {
        seen.push(d.digest);
        const how = bad.get(d.digest);
        if (how === 'fetch') throw destroyedError();
        const stream = await target.fetchBlob(d, options);
        if (how !== 'body') return stream;
        const out = new Readable({ read() {} });
        stream.once('data', (chunk: Buffer) => {
          out.push(chunk.subarray(0, 100));
          stream.destroy();
          setImmediate(() => out.destroy(destroyedError()));
        });
        return out;
      };
    },
  });
}

describe('copy() when a blob fails', () => {
  for (const how of ['fetch', 'body'] as const) {
    test(`a ${how} failure: a typed error, queued blobs not started, no temp file, no tag`, async () => {
      const { layout, artifact } = await sourceLayout(30);
      const bad = artifact.layers[1]!;
      const seen: string[] = [];
      const src = failing(layout, new Map([[bad.digest, how]]), seen);
      const dst = await LayoutTarget.open(join(await tempDir(), 'dst'), { create: true });
      const err = await copy(src, 'v1', dst, ['v1'], { concurrency: 2 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OcifsError);
      expect(err).toMatchObject({ code: 'UNREACHABLE' });
      expect((err as Error).message).toContain(bad.digest);
      // Stopped early: most of the 31 blobs were never fetched.
      expect(seen.length).toBeLessThan(10);
      expect(existsSync(join(dst.dir, 'ingest'))).toBe(false);
      expect(await dst.listTags()).toEqual([]);
      expect(await dst.exists(bad)).toBe(false);
      // What did land is whole: every file in blobs/ has the size of a layer or the config.
      const sizes = new Map([...artifact.layers, { digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }].map((l) => [l.digest, l.size]));
      for (const name of await readdir(join(dst.dir, 'blobs/sha256'))) {
        const d = `sha256:${name}`;
        expect(sizes.has(d)).toBe(true);
        expect(await dst.exists({ mediaType: 'application/octet-stream', digest: d, size: sizes.get(d)! })).toBe(true);
      }
    });
  }

  test('the first error is the one reported, not the aborts it causes', async () => {
    const { layout, artifact } = await sourceLayout(6);
    const bad = artifact.layers[0]!;
    const src = failing(layout, new Map([[bad.digest, 'fetch' as Failure]]));
    const dst = await LayoutTarget.open(join(await tempDir(), 'dst'), { create: true });
    await expect(copy(src, 'v1', dst, ['v1'], { concurrency: 4 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });

  test('a digest mismatch stays a DigestMismatchError', async () => {
    const { layout, artifact } = await sourceLayout(4);
    const bad = artifact.layers[2]!;
    const src = new Proxy(layout, {
      get(target, prop, receiver) {
        if (prop !== 'fetchBlob') return Reflect.get(target, prop, receiver) as unknown;
        return async (d: Descriptor, options?: { signal?: AbortSignal }) =>
          d.digest === bad.digest ? target.fetchBlob({ ...d, digest: artifact.layers[3]!.digest }, options) : target.fetchBlob(d, options);
      },
    });
    const dst = await LayoutTarget.open(join(await tempDir(), 'dst'), { create: true });
    await expect(copy(src, 'v1', dst, ['v1'], { concurrency: 1 })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(existsSync(join(dst.dir, 'ingest'))).toBe(false);
  });
});

describe('blobSourceFrom', () => {
  test('nothing is fetched before the first read; a fetch failure then arrives as a typed stream error', async () => {
    const { layout, artifact } = await sourceLayout(1);
    const d = artifact.layers[0]!;
    const seen: string[] = [];
    const stream = blobSourceFrom(failing(layout, new Map([[d.digest, 'fetch' as Failure]]), seen), d).open(0);
    // No listener yet: an eager fetch would emit its error now and crash the test process.
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
    const chunks: Buffer[] = [];
    const err = await (async () => {
      for await (const c of stream) chunks.push(c as Buffer);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'UNREACHABLE' });
    expect((err as Error).cause).toMatchObject({ code: 'UND_ERR_DESTROYED' });
  });

  test('open(offset) yields the blob from that byte', async () => {
    const { layout, artifact } = await sourceLayout(1);
    const d = artifact.layers[0]!;
    const whole = Buffer.concat(await (await layout.fetchBlob(d)).toArray());
    for (const offset of [0, 1, 5000, d.size - 1, d.size]) {
      const got = Buffer.concat(await blobSourceFrom(layout, d).open(offset).toArray());
      expect(got.equals(whole.subarray(offset))).toBe(true);
    }
  });

  test('destroying the stream releases the source stream', async () => {
    const { layout, artifact } = await sourceLayout(1);
    const d = artifact.layers[0]!;
    let inner: Readable | undefined;
    const src = new Proxy(layout, {
      get(target, prop, receiver) {
        if (prop !== 'fetchBlob') return Reflect.get(target, prop, receiver) as unknown;
        return async (desc: Descriptor) => {
          const s = await target.fetchBlob(desc);
          // A slow body: one chunk, then nothing until destroyed.
          inner = new Readable({ read() {} });
          s.once('data', (c: Buffer) => inner!.push(c.subarray(0, 10)));
          return inner;
        };
      },
    });
    const stream = blobSourceFrom(src, d).open(0);
    await new Promise<void>((r) => stream.once('data', () => r()));
    stream.destroy();
    await new Promise((r) => setImmediate(r));
    expect(inner?.destroyed).toBe(true);
  });
});
