import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { planFiles } from '../../src/pack/plan.js';
import { InvalidArgumentError } from '../../src/errors.js';

let root: string;
let cwd: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocifs-plan-'));
  cwd = process.cwd();
  process.chdir(root);
});
afterEach(async () => {
  process.chdir(cwd);
  await rm(root, { recursive: true, force: true });
});

async function files(spec: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(spec)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

const titles = async (...args: Parameters<typeof planFiles>) => (await planFiles(...args)).map((f) => f.title);

describe('planFiles: titles and order', () => {
  test('files keep the path as given, cleaned (as ORAS titles them)', async () => {
    await files({ 'data/imagery.tif': 'x', 'data/stac_item.json': '{}', 'config.json': '{}' });
    expect(await titles([{ path: './data/imagery.tif' }, { path: 'data//stac_item.json' }, { path: 'config.json' }])).toEqual([
      'data/imagery.tif',
      'data/stac_item.json',
      'config.json',
    ]);
  });

  test('a directory contributes each file below it, titled <dir>/<relative path>, sorted bytewise', async () => {
    await files({ 'data/b.txt': '', 'data/a.txt': '', 'data/a/z.txt': '', 'data/A.txt': '', 'data/sub/deeper/x': '', 'data/a.b/c': '' });
    await mkdir(join(root, 'data', 'empty', 'dirs'), { recursive: true });
    const expected = ['data/A.txt', 'data/a.b/c', 'data/a.txt', 'data/a/z.txt', 'data/b.txt', 'data/sub/deeper/x'];
    expect(await titles([{ path: 'data' }])).toEqual(expected);
    expect(await titles([{ path: './data/' }])).toEqual(expected);
    process.chdir(join(root, 'data'));
    expect(await titles([{ path: '.' }])).toEqual(expected.map((t) => t.slice('data/'.length)));
    process.chdir(join(root, 'data', 'sub'));
    expect(await titles([{ path: '../a' }])).toEqual(['a/z.txt']); // '..' titles are relative to the parent
  });

  test('absolute paths are titled relative to their parent', async () => {
    await files({ 'data/x.tif': '', 'y.txt': '' });
    expect(await titles([{ path: join(root, 'data') }, { path: join(root, 'y.txt') }])).toEqual(['data/x.tif', 'y.txt']);
  });

  test('arguments keep their order; media types apply to the files of their argument', async () => {
    await files({ 'z.txt': '', 'd/a': '', 'd/b': '' });
    const planned = await planFiles([{ path: 'z.txt' }, { path: 'd', mediaType: 'application/x.d' }]);
    expect(planned.map((f) => [f.title, f.mediaType])).toEqual([
      ['z.txt', undefined],
      ['d/a', 'application/x.d'],
      ['d/b', 'application/x.d'],
    ]);
  });
});

describe('planFiles: symlinks', () => {
  test('a symlink given as an argument is followed', async () => {
    await files({ 'real.txt': 'x' });
    await symlink('real.txt', join(root, 'link.txt'));
    expect(await titles([{ path: 'link.txt' }])).toEqual(['link.txt']);
  });

  test('a symlink to a file inside the directory is followed, titled by the link', async () => {
    await files({ 'd/real.txt': 'x' });
    await symlink('real.txt', join(root, 'd', 'alias.txt'));
    const planned = await planFiles([{ path: 'd' }]);
    expect(planned.map((f) => f.title)).toEqual(['d/alias.txt', 'd/real.txt']);
  });

  test.each<[string, () => Promise<void>, RegExp]>([
    ['outside the directory', async () => {
      await files({ 'secret.txt': 's', 'd/x': '' });
      await symlink('../secret.txt', join(root, 'd', 'leak'));
    }, /outside d: refusing/],
    ['to a directory', async () => {
      await files({ 'd/sub/x': '' });
      await symlink('sub', join(root, 'd', 'loop'));
    }, /symlink to a directory/],
    ['dangling', async () => {
      await files({ 'd/x': '' });
      await symlink('nowhere', join(root, 'd', 'dangling'));
    }, /points nowhere/],
  ])('a symlink %s is refused', async (_name, make, message) => {
    await make();
    await expect(planFiles([{ path: 'd' }])).rejects.toThrow(InvalidArgumentError);
    await expect(planFiles([{ path: 'd' }])).rejects.toThrow(message);
  });
});

describe('planFiles: bad input', () => {
  test.each<[string, () => Promise<unknown>, Parameters<typeof planFiles>[0], RegExp]>([
    ['a missing file', async () => undefined, [{ path: 'missing.tif' }], /missing.tif: no such file or directory/],
    ['a missing parent', async () => files({ f: '' }), [{ path: 'f/x' }], /no such file or directory/],
    ['an empty directory', async () => mkdir(join(root, 'empty')), [{ path: 'empty' }], /empty has no files to pack/],
    ['a FIFO argument', async () => execFileSync('mkfifo', [join(root, 'fifo')]), [{ path: 'fifo' }], /neither a regular file nor a directory/],
    ['a FIFO inside a directory', async () => {
      await files({ 'd/x': '' });
      execFileSync('mkfifo', [join(root, 'd', 'fifo')]);
    }, [{ path: 'd' }], /not a regular file/],
    ['the same file twice', async () => files({ 'a.txt': '' }), [{ path: 'a.txt' }, { path: './a.txt' }], /both be titled "a.txt"/],
    ['a file and the directory holding it', async () => files({ 'd/a.txt': '' }), [{ path: 'd/a.txt' }, { path: 'd' }], /both be titled "d\/a.txt"/],
  ])('%s', async (_name, make, inputs, message) => {
    await make();
    await expect(planFiles(inputs)).rejects.toThrow(InvalidArgumentError);
    await expect(planFiles(inputs)).rejects.toThrow(message);
  });

  test('same names from two absolute directories collide', async () => {
    await files({ 'x/data/a': '', 'y/data/a': '' });
    await expect(planFiles([{ path: join(root, 'x', 'data') }, { path: join(root, 'y', 'data') }])).rejects.toThrow(/both be titled "data\/a"/);
  });

  test('a file name that is not valid UTF-8 is refused', async () => {
    await files({ 'd/ok': '' });
    const bad = Buffer.concat([Buffer.from(join(root, 'd') + '/'), Buffer.from([0x66, 0xff, 0x6f])]);
    writeFileSync(bad, '');
    await expect(planFiles([{ path: 'd' }])).rejects.toThrow(/not valid UTF-8/);
  });

  test('a name with a real U+FFFD character is fine', async () => {
    await files({ 'd/\uFFFD.txt': '' });
    expect(await titles([{ path: 'd' }])).toEqual(['d/\uFFFD.txt']);
  });
});

describe('planFiles: per-file annotations (ORAS annotation file keys)', () => {
  test('keys match a file as given, a directory argument, or a title; later ones win', async () => {
    await files({ 'img.tif': '', 'd/a.json': '', 'd/b.json': '' });
    const perFile = new Map<string, Record<string, string>>([
      ['./img.tif', { 'eo:band': 'B04' }],
      ['d', { kind: 'metadata', level: 'dir' }],
      ['d/b.json', { level: 'file' }],
    ]);
    const planned = await planFiles([{ path: './img.tif' }, { path: 'd' }], perFile);
    expect(planned.map((f) => f.annotations)).toEqual([
      { 'org.opencontainers.image.title': 'img.tif', 'eo:band': 'B04' },
      { 'org.opencontainers.image.title': 'd/a.json', kind: 'metadata', level: 'dir' },
      { 'org.opencontainers.image.title': 'd/b.json', kind: 'metadata', level: 'file' },
    ]);
  });

  test('an annotation may rename a layer (as in ORAS); the new title is checked', async () => {
    await files({ 'a.txt': '', 'b.txt': '' });
    const renamed = await planFiles([{ path: 'a.txt' }], new Map([['a.txt', { 'org.opencontainers.image.title': 'docs/readme.txt' }]]));
    expect(renamed[0]?.annotations['org.opencontainers.image.title']).toBe('docs/readme.txt');
    await expect(planFiles([{ path: 'a.txt' }], new Map([['a.txt', { 'org.opencontainers.image.title': '../x' }]]))).rejects.toThrow(
      /cannot be packed with the title "..\/x"/,
    );
    await expect(
      planFiles([{ path: 'a.txt' }, { path: 'b.txt' }], new Map([['a.txt', { 'org.opencontainers.image.title': 'b.txt' }]])),
    ).rejects.toThrow(/both be titled "b.txt"/);
  });

  test('a key that names nothing packed is an error', async () => {
    await files({ 'a.txt': '' });
    await expect(planFiles([{ path: 'a.txt' }], new Map([['typo.txt', { k: 'v' }]]))).rejects.toThrow(/"typo.txt", which is not packed/);
  });
});
