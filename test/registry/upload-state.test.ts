import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FileUploadStateStore, MemoryUploadStateStore, uploadKey } from '../../src/registry/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ocifs-upload-state-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('keys name registry, repository and digest', () => {
  expect(uploadKey('r:5000', 'a/b', 'sha256:ff')).toBe('r:5000/a/b@sha256:ff');
});

test('memory store', async () => {
  const s = new MemoryUploadStateStore();
  await s.set('k', 'u');
  expect(await s.get('k')).toBe('u');
  await s.delete('k');
  expect(await s.get('k')).toBeUndefined();
});

test('file store: concurrent changes all land, the file is private, another instance reads them', async () => {
  const path = join(dir, 'sub', 'state.json');
  const s = new FileUploadStateStore(path);
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.set(`k${i}`, `u${i}`)));
  await Promise.all([s.delete('k3'), s.set('k4', 'changed')]);
  const again = new FileUploadStateStore(path);
  expect(await again.get('k0')).toBe('u0');
  expect(await again.get('k3')).toBeUndefined();
  expect(await again.get('k4')).toBe('changed');
  expect(Object.keys(JSON.parse(await readFile(path, 'utf8')) as object)).toHaveLength(19);
});

test('file store: a missing or corrupt file only costs the resume', async () => {
  expect(await new FileUploadStateStore(join(dir, 'absent.json')).get('k')).toBeUndefined();
  const corrupt = join(dir, 'corrupt.json');
  await writeFile(corrupt, '{ nope');
  const s = new FileUploadStateStore(corrupt);
  expect(await s.get('k')).toBeUndefined();
  await s.set('k', 'u');
  expect(await s.get('k')).toBe('u');
});
