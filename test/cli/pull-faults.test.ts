/**
 * `ocifs pull --layout` and `ocifs cp` to a layout when a blob fails mid-stream (wrong bytes,
 * a connection cut again and again), through the fault proxy in front of the real registry:
 * one error line, the documented exit code, no stack trace, nothing half-written in the layout.
 * Concurrency 1 leaves many blobs queued behind the failing one, which is what used to crash
 * (queued copies kept starting on a client being closed; their errors hit a stream nobody read).
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, ocifsBin, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, pseudoRandomBytes, type PushedArtifact } from '../helpers/artifacts.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { RegistryClient } from '../../src/registry/index.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';

const REPO = 'cli-pull-faults/artifact';
let cli: CliEnv;
let proxy: FaultProxy;
let artifact: PushedArtifact;

beforeAll(async () => {
  cli = await cliEnv();
  proxy = await startFaultProxy(`http://${inject('registryHost')}`);
  const client = new RegistryClient(proxy.host);
  try {
    const files = Array.from({ length: 24 }, (_, i) => ({
      title: `f${String(i).padStart(2, '0')}.bin`,
      bytes: pseudoRandomBytes(16 * 1024 + i, 100 + i),
    }));
    artifact = await pushArtifact(client.repository(REPO), ['v1'], files);
  } finally {
    await client.close();
  }
});
afterEach(() => {
  proxy.clearFaults();
});
afterAll(async () => {
  await proxy?.stop();
  await cli?.cleanup();
});

function blobPath(layout: string, d: Descriptor): string {
  return join(layout, 'blobs/sha256', d.digest.slice('sha256:'.length));
}

/** The layout holds no temp files, no entry in index.json, and no blob for `bad`. */
async function expectNothingHalfWritten(layout: string, bad: Descriptor): Promise<void> {
  expect(existsSync(join(layout, 'ingest'))).toBe(false);
  expect(existsSync(blobPath(layout, bad))).toBe(false);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
  expect(index.manifests).toEqual([]);
  // Whatever blob did land is whole and verified: its name is its content's digest.
  for (const name of await readdir(join(layout, 'blobs/sha256'))) {
    const layer = [...artifact.layers].find((l) => l.digest === `sha256:${name}`);
    if (layer) expect((await readFile(join(layout, 'blobs/sha256', name))).length).toBe(layer.size);
  }
}

function expectOneCleanLine(stderr: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ocifs: /);
  expect(stderr).not.toMatch(/\n\s+at |unexpected error|ClientDestroyed|ClientClosed/);
}

describe('pull --layout when a blob fails mid-stream', () => {
  test('wrong bytes in one blob: exit 6, one line, nothing half-written', async () => {
    const bad = artifact.layers[1]!;
    proxy.fault({
      method: 'GET',
      path: new RegExp(`/blobs/${bad.digest}$`),
      times: 100,
      action: { status: 200, body: Buffer.alloc(bad.size, 0x61), headers: { 'content-type': 'application/octet-stream' } },
    });
    const layout = join(cli.home, 'layout-mismatch');
    const r = await cli.run(['pull', `${proxy.host}/${REPO}:v1`, '--layout', `${layout}:v1`, '--concurrency', '1']);
    expect(r.stderr).toMatch(/digest|sha256/i);
    expectOneCleanLine(r.stderr);
    expect(r.code).toBe(6);
    await expectNothingHalfWritten(layout, bad);
    await rm(layout, { recursive: true, force: true });
  });

  test('a connection cut mid-body every time: exit 5, one line, nothing half-written', async () => {
    const bad = artifact.layers[2]!;
    proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${bad.digest}$`), times: 1000, action: { cutAfterBytes: 1000 } });
    const layout = join(cli.home, 'layout-cut');
    const r = await cli.run(['pull', `${proxy.host}/${REPO}:v1`, '--layout', `${layout}:v1`, '--concurrency', '1']);
    expectOneCleanLine(r.stderr);
    expect(r.code).toBe(5);
    await expectNothingHalfWritten(layout, bad);
    await rm(layout, { recursive: true, force: true });
  });

  test('cp to a layout, several blobs in flight: exit 6, one line, nothing half-written; a rerun completes it', async () => {
    const bad = artifact.layers[0]!;
    proxy.fault({
      method: 'GET',
      path: new RegExp(`/blobs/${bad.digest}$`),
      times: 1,
      action: { status: 200, body: Buffer.alloc(bad.size, 0x62), headers: { 'content-type': 'application/octet-stream' } },
    });
    const layout = join(cli.home, 'layout-cp');
    const r = await cli.run(['cp', `${proxy.host}/${REPO}:v1`, `oci-layout:${layout}:v1`, '--concurrency', '3']);
    expectOneCleanLine(r.stderr);
    expect(r.code).toBe(6);
    await expectNothingHalfWritten(layout, bad);

    const again = await cli.run(['cp', `${proxy.host}/${REPO}:v1`, `oci-layout:${layout}:v1`]);
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(artifact.descriptor.digest);
    for (const layer of artifact.layers) expect(existsSync(blobPath(layout, layer))).toBe(true);
    await rm(layout, { recursive: true, force: true });
  });
});

/** Every file under `dir`, relative, temp files included. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('pull --output when a blob fails', () => {
  test('wrong bytes in one blob: exit 6, one line; every file left is whole, no temp file, no file for the bad blob', async () => {
    const bad = artifact.layers[5]!;
    proxy.fault({
      method: 'GET',
      path: new RegExp(`/blobs/${bad.digest}$`),
      times: 100,
      action: { status: 200, body: Buffer.alloc(bad.size, 0x63), headers: { 'content-type': 'application/octet-stream' } },
    });
    const out = join(cli.home, 'out-mismatch');
    const r = await cli.run(['pull', `${proxy.host}/${REPO}:v1`, '-o', out]);
    expectOneCleanLine(r.stderr);
    expect(r.code).toBe(6);
    const files = await listFiles(out);
    expect(files.filter((f) => f.includes('ocifs'))).toEqual([]);
    expect(files).not.toContain('f05.bin');
    const byTitle = new Map(artifact.layers.map((l) => [l.annotations!['org.opencontainers.image.title']!, l]));
    for (const f of files) expect((await readFile(join(out, f))).length).toBe(byTitle.get(f)!.size);
    await rm(out, { recursive: true, force: true });
  });

  test('a directory where a file should go: exit 7, one line naming it; the directory is kept', async () => {
    const out = join(cli.home, 'out-dir-in-the-way');
    await mkdir(join(out, 'f03.bin'), { recursive: true });
    await writeFile(join(out, 'f03.bin', 'mine.txt'), 'mine\n');
    const r = await cli.run(['pull', `${proxy.host}/${REPO}:v1`, '-o', out]);
    expectOneCleanLine(r.stderr);
    expect(r.stderr).toMatch(/f03\.bin is a directory/);
    expect(r.code).toBe(7);
    expect(await readFile(join(out, 'f03.bin', 'mine.txt'), 'utf8')).toBe('mine\n');
    expect((await listFiles(out)).filter((f) => f.includes('ocifs'))).toEqual([]);
    await rm(out, { recursive: true, force: true });
  });

  test('the whole artifact, twice into the same directory (files replaced): every file byte-identical', async () => {
    const out = join(cli.home, 'out-ok');
    for (let i = 0; i < 2; i++) {
      const r = await cli.run(['pull', `${proxy.host}/${REPO}:v1`, '-o', out]);
      expect(r.stderr).toMatch(/pulled 24 files/);
      expect(r.code).toBe(0);
    }
    expect(await listFiles(out)).toEqual(artifact.layers.map((l) => l.annotations!['org.opencontainers.image.title']!).sort());
    for (const l of artifact.layers) {
      expect(digestOf(await readFile(join(out, l.annotations!['org.opencontainers.image.title']!)))).toBe(l.digest);
    }
    await rm(out, { recursive: true, force: true });
  });
});

describe('pull --output interrupted', () => {
  test('SIGINT mid-pull: exit 130; every file under its final name is whole; no temp file left', async () => {
    // Slow blobs keep the pull busy long enough to be interrupted with files done and in flight.
    for (const layer of artifact.layers.slice(8)) {
      proxy.fault({ method: 'GET', path: new RegExp(`/blobs/${layer.digest}$`), action: { delayMs: 400 } });
    }
    const out = join(cli.home, 'out-interrupted');
    const child = spawn(ocifsBin, ['pull', `${proxy.host}/${REPO}:v1`, '-o', out, '-c', '4'], { env: cli.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(out, 'f07.bin'))) {
      if (Date.now() > deadline) throw new Error('the pull wrote nothing in 30 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    const files = await listFiles(out);
    expect(files.filter((f) => f.includes('ocifs'))).toEqual([]);
    expect(files.length).toBeLessThan(artifact.layers.length);
    const byTitle = new Map(artifact.layers.map((l) => [l.annotations!['org.opencontainers.image.title']!, l]));
    for (const f of files) expect(digestOf(await readFile(join(out, f)))).toBe(byTitle.get(f)!.digest);
    await rm(out, { recursive: true, force: true });
  });
});
