import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkFuseAvailable, type PreflightOptions } from '../../src/fuse/preflight.js';
import { tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('checkFuseAvailable', () => {
  it('passes on this machine (the tests need FUSE)', async () => {
    await expect(checkFuseAvailable()).resolves.toBeUndefined();
  });

  it.each<[string, (dir: string) => Promise<PreflightOptions>, string]>([
    ['no /dev/fuse', async (dir) => ({ devFuse: join(dir, 'fuse') }), `is missing: load the fuse kernel module (modprobe fuse)`],
    [
      '/dev/fuse that is not a device',
      async (dir) => {
        await writeFile(join(dir, 'fuse'), '');
        return { devFuse: join(dir, 'fuse') };
      },
      'is not a character device',
    ],
    ['no fusermount', async (dir) => ({ searchPath: dir }), 'fusermount not found: apt-get install fuse'],
    [
      'no libfuse.so.2',
      async () => ({
        loadNative: () => {
          throw new Error('libfuse.so.2: cannot open shared object file: No such file or directory');
        },
      }),
      'libfuse.so.2 not found: apt-get install libfuse2',
    ],
    [
      'a broken binding',
      async () => ({
        loadNative: () => {
          throw new Error('invalid ELF header');
        },
      }),
      'the FUSE binding (fuse-native) could not be loaded: invalid ELF header',
    ],
    [
      '--allow-other for a user without user_allow_other',
      async (dir) => {
        await writeFile(join(dir, 'fuse.conf'), '# user_allow_other\nmount_max = 10\n');
        return { allowOther: true, uid: 1000, fuseConf: join(dir, 'fuse.conf') };
      },
      '--allow-other needs user_allow_other in',
    ],
  ])('%s: one clear line', async (_name, setup, message) => {
    const options = await setup(await dirs.make());
    const error = await checkFuseAvailable(options).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'FUSE_UNAVAILABLE' });
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('--allow-other is fine for root, and for users when fuse.conf allows it', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, 'fuse.conf'), 'user_allow_other\n');
    await expect(checkFuseAvailable({ allowOther: true, uid: 1000, fuseConf: join(dir, 'fuse.conf') })).resolves.toBeUndefined();
    await expect(checkFuseAvailable({ allowOther: true, uid: 0, fuseConf: join(dir, 'missing') })).resolves.toBeUndefined();
  });
});
