import { constants } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createdTime, directoryAttributes, fileAttributes, fileTime } from '../../src/fs/attributes.js';
import { MediaType, type ParsedManifest } from '../../src/oci/types.js';

const owner = { uid: 1, gid: 2, umask: 0o022 };
const at = new Date('2024-05-01T00:00:00Z');

describe('modes and sizes', () => {
  test.each([
    [0, 0o444, 0o555],
    [0o022, 0o444, 0o555],
    [0o027, 0o440, 0o550],
    [0o077, 0o400, 0o500],
    [0o777, 0, 0],
  ])('umask %o -> files %o, directories %o', (umask, file, dir) => {
    expect(fileAttributes({ ...owner, umask }, { mtime: at, immutable: true }, 1).mode).toBe(constants.S_IFREG | file);
    expect(directoryAttributes({ ...owner, umask }, { mtime: at, immutable: false }).mode).toBe(constants.S_IFDIR | dir);
  });

  test.each([
    [0, 0, 0],
    [1, 1, 1],
    [512, 512, 1],
    [513, 513, 2],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Math.ceil(Number.MAX_SAFE_INTEGER / 512)],
    [-1, 0, 0],
    [1.5, 0, 0],
    [Number.MAX_SAFE_INTEGER + 2, 0, 0],
  ])('descriptor size %d -> size %d, %d blocks', (size, shown, blocks) => {
    const st = fileAttributes(owner, { mtime: at, immutable: true }, size);
    expect([st.size, st.blocks]).toEqual([shown, blocks]);
  });
});

describe('times', () => {
  const manifest = (annotations?: Record<string, string>): ParsedManifest => ({
    kind: 'manifest',
    mediaType: MediaType.ImageManifest,
    manifest: { schemaVersion: 2, config: { mediaType: MediaType.Empty, digest: 'sha256:x', size: 2 }, layers: [], ...(annotations ? { annotations } : {}) },
  });

  test.each([
    [{ 'org.opencontainers.image.created': '2023-04-05T06:07:08Z' }, '2023-04-05T06:07:08.000Z'],
    [{ 'org.opencontainers.image.created': '2023-04-05T06:07:08+02:00' }, '2023-04-05T04:07:08.000Z'],
    [{ 'org.opencontainers.image.created': 'yesterday' }, undefined],
    [{}, undefined],
    [undefined, undefined],
  ])('created %j -> %s', (annotations, expected) => {
    expect(createdTime(manifest(annotations))?.toISOString()).toBe(expected);
  });

  test('a file time keeps the second and takes its milliseconds from the digest', () => {
    const base = new Date('2023-04-05T06:07:08.999Z');
    const a = fileTime(base, `sha256:${'0'.repeat(7)}1${'0'.repeat(56)}`);
    const b = fileTime(base, `sha256:${'0'.repeat(7)}2${'0'.repeat(56)}`);
    expect(a.toISOString()).toBe('2023-04-05T06:07:08.001Z');
    expect(b.toISOString()).toBe('2023-04-05T06:07:08.002Z');
    expect(fileTime(base, 'garbage').toISOString()).toBe('2023-04-05T06:07:08.000Z');
  });
});
