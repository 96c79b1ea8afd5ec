/**
 * Kill safety with real processes: a reader killed with SIGKILL mid-fetch leaves a cache where
 * every recorded block holds the right bytes, whose pins no longer count, and that the next
 * process simply continues.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { Cache } from '../../src/cache/index.js';
import { BlobReader } from '../../src/read/index.js';
import { MemorySource, pseudoRandomBytes } from '../read/helpers/memory-source.js';
import { compileForChild } from './helpers/compile-for-child.js';

const SIZE = 8 * 1024 * 1024 + 4321;
const SEED = 5;
const BS = 64 * 1024;

let compiled: { dir: string; entry: string };
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(() => {
  compiled = compileForChild('test/cache/fixtures/kill-child.ts');
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterAll(() => {
  if (compiled) rmSync(compiled.dir, { recursive: true, force: true });
});

/** Starts the child, lets it do `reads` reads, kills it with SIGKILL. */
async function runAndKill(cacheDir: string, reads: number): Promise<void> {
  const child = spawn(process.execPath, [compiled.entry, cacheDir, String(SIZE), String(SEED)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString().split('\n').length - 1;
      if (seen >= reads && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}: ${stderr}`))));
  });
}

test('a reader killed with SIGKILL mid-fetch leaves only blocks that are really on disk', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'ocifs-kill-'));
  dirs.push(cacheDir);
  const data = pseudoRandomBytes(SIZE, SEED);
  for (const reads of [8, 25, 50]) await runAndKill(cacheDir, reads);

  const db = new Database(join(cacheDir, 'index.db'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  db.close();

  const cache = Cache.open({ dir: cacheDir, blockSize: BS });
  try {
    const source = new MemorySource(data);
    // The killed children's pins do not count.
    expect(cache.stats().pinnedBlobs).toBe(0);
    const entry = cache.blobs.acquire(source.descriptor);
    const present = [...Array(entry.blockCount).keys()].filter((b) => entry.hasBlock(b));
    expect(present.length).toBeGreaterThan(10);
    for (const b of present) {
      const length = Math.min(BS, SIZE - b * BS);
      const got = Buffer.alloc(length);
      await entry.read(got, 0, length, b * BS);
      expect(got.equals(data.subarray(b * BS, b * BS + length)), `block ${b}`).toBe(true);
    }
    entry.release();

    // The next process continues: it fetches only what is missing and ends with a verified blob.
    const reader = new BlobReader({ cache });
    const h = await reader.open(source.descriptor, source);
    const all = Buffer.alloc(SIZE);
    await h.read(all, SIZE, 0);
    expect(all.equals(data)).toBe(true);
    expect(source.bytesSent).toBeLessThanOrEqual(SIZE - present.length * BS + BS);
    for (let i = 0; i < 200 && !cache.blobs.info(source.descriptor.digest)?.complete; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cache.blobs.info(source.descriptor.digest)?.complete).toBe(true);
    await h.close();
  } finally {
    cache.close();
  }
});
