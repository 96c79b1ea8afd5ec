/**
 * `ocifs mount` as users run it: a real daemon, a real FUSE mount, the real registry, plain
 * tools (ls, stat, cat, cp, getfattr, GDAL) on the mounted tree. Counters from `ocifs status`
 * prove what was (not) fetched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, pseudoRandomBytes } from '../helpers/artifacts.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { requireCommand } from '../helpers/require.js';
import { RegistryClient } from '../../src/registry/index.js';

const execFile = promisify(execFileCb);
const host = inject('registryHost');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let cli: CliEnv;
let client: RegistryClient;
const big = pseudoRandomBytes(5 * 1024 * 1024 + 123, 7);
const stac = Buffer.from(JSON.stringify({ type: 'Feature', stac_version: '1.0.0', id: 'x' }));
const nested = Buffer.from('nested file\n');

beforeAll(async () => {
  requireCommand('fusermount', 'apt-get install --no-install-recommends fuse libfuse2');
  requireCommand('getfattr', 'apt-get install --no-install-recommends attr');
  cli = await cliEnv();
  client = new RegistryClient(host);
  await pushArtifact(
    client.repository('mnt/products'),
    ['v1'],
    [
      { title: 'data.bin', bytes: big, annotations: { 'eo:band': 'B04' } },
      { title: 'stac_item.json', bytes: stac, mediaType: 'application/geo+json' },
      { title: 'dir/nested.txt', bytes: nested, mediaType: 'text/plain' },
    ],
    { artifactType: 'application/vnd.example.eo.v1', annotations: { 'org.opencontainers.image.created': '2026-01-02T03:04:05Z' } },
  );
});

afterEach(async () => {
  await stopAllMounts();
});

afterAll(async () => {
  await client?.close();
  await cli?.cleanup();
});

describe('a mounted repository', () => {
  test('ls -lR and stat show names, sizes and times without fetching a blob', async () => {
    const m = await startMount(cli.env, `${host}/mnt/products`, join(cli.home, 'mnt-ls'));
    const { stdout } = await execFile('ls', ['-lR', '--time-style=+%Y-%m-%d', m.mountpoint]);
    expect(stdout).toMatch(new RegExp(`-r--r--r-- .* ${big.length} 2026-01-02 data\\.bin`));
    expect(stdout).toMatch(/stac_item\.json/);
    expect(stdout).toMatch(/nested\.txt/);
    const st = await stat(join(m.mountpoint, 'v1/data.bin'));
    expect(st.size).toBe(big.length);
    await execFile('du', ['-s', m.mountpoint]);
    const status = await m.status();
    expect(status.reader?.bytesFetched).toBe(0);
    expect(status.reader?.requests).toBe(0);
  });

  test('cat and cp -r give the exact bytes; xattrs show OCI metadata; writes answer EROFS', async () => {
    const m = await startMount(cli.env, `${host}/mnt/products`, join(cli.home, 'mnt-cp'));
    expect(sha256(await readFile(join(m.mountpoint, 'v1/data.bin')))).toBe(sha256(big));
    const out = join(cli.home, 'copied');
    await execFile('cp', ['-r', join(m.mountpoint, 'v1'), out]);
    expect(sha256(await readFile(join(out, 'data.bin')))).toBe(sha256(big));
    expect(await readFile(join(out, 'stac_item.json'))).toEqual(stac);
    expect(await readFile(join(out, 'dir/nested.txt'))).toEqual(nested);

    const { stdout: attrs } = await execFile('getfattr', ['-d', '-m', '-', join(m.mountpoint, 'v1/data.bin')]);
    expect(attrs).toContain(`user.oci.digest="sha256:${sha256(big)}"`);
    expect(attrs).toContain('user.oci.annotation.eo:band="B04"');
    const { stdout: dirAttrs } = await execFile('getfattr', ['-d', '-m', '-', join(m.mountpoint, 'v1')]);
    expect(dirAttrs).toContain('application/vnd.example.eo.v1');

    await expect(writeFile(join(m.mountpoint, 'v1/new.txt'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
    await expect(writeFile(join(m.mountpoint, 'v1/data.bin'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
    await expect(readFile(join(m.mountpoint, 'v1/missing.tif'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFile(join(m.mountpoint, 'nosuchtag/x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('SIGTERM unmounts cleanly and exits 0', async () => {
    const m = await startMount(cli.env, `${host}/mnt/products`, join(cli.home, 'mnt-term'));
    expect(await m.stop()).toBe(0);
    expect(await readdir(m.mountpoint)).toEqual([]);
  });

  test('a daemon killed with SIGKILL leaves a stale mount that the next mount recovers', async () => {
    const mountpoint = join(cli.home, 'mnt-kill');
    const first = await startMount(cli.env, `${host}/mnt/products`, mountpoint);
    await readFile(join(mountpoint, 'v1/stac_item.json'));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    // A listing has to reach the (dead) daemon; a stat could be answered from the kernel's cache.
    await expect(readdir(join(mountpoint, 'v1'))).rejects.toMatchObject({ code: 'ENOTCONN' });
    const second = await startMount(cli.env, `${host}/mnt/products`, mountpoint);
    expect(await readFile(join(mountpoint, 'v1/stac_item.json'))).toEqual(stac);
    expect(second.logs()).toMatch(/stale/i);
  });

  test('another uid reads the mount with --allow-other', async () => {
    await chmod(cli.home, 0o755); // mkdtemp made it 0700: let the other uid reach the mountpoint
    const m = await startMount(cli.env, `${host}/mnt/products`, join(cli.home, 'mnt-other'), ['--allow-other']);
    const { stdout } = await execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', join(m.mountpoint, 'v1/dir/nested.txt')]);
    expect(stdout).toBe(nested.toString());
  });
});

describe('tags move, handles do not', () => {
  test('a moved tag shows new content after the TTL while an open handle keeps the old', async () => {
    const repo = client.repository('mnt/moving');
    const old = Buffer.from('old content\n');
    const fresh = Buffer.from('new content, longer\n');
    await pushArtifact(repo, ['latest'], [{ title: 'f.txt', bytes: old }]);
    const m = await startMount(cli.env, `${host}/mnt/moving`, join(cli.home, 'mnt-move'), ['--ttl', '1s']);
    const path = join(m.mountpoint, 'latest/f.txt');
    const handle = await open(path, 'r');
    try {
      await pushArtifact(repo, ['latest'], [{ title: 'f.txt', bytes: fresh }]);
      await new Promise((r) => setTimeout(r, 2500));
      expect((await stat(path)).size).toBe(fresh.length);
      // The handle opened before the move still reads the old blob...
      const buf = Buffer.alloc(100);
      const { bytesRead } = await handle.read(buf, 0, 100, 0);
      expect(buf.subarray(0, bytesRead)).toEqual(old);
      // ...while a new open sees the new one, once the kernel's attributes (1 s) are fresh again:
      // the short read above made the kernel take the old size for the path (docs/SEMANTICS.md).
      await new Promise((r) => setTimeout(r, 1200));
      expect(await readFile(path)).toEqual(fresh);
    } finally {
      await handle.close();
    }
  });
});

describe('hostile manifests', () => {
  test('unsafe and duplicate titles never escape or shadow, and every layer stays readable', async () => {
    const files = [
      { title: '../escape.txt', bytes: Buffer.from('1') },
      { title: '/etc/passwd', bytes: Buffer.from('2') },
      { title: 'same.txt', bytes: Buffer.from('3') },
      { title: 'same.txt', bytes: Buffer.from('4') },
      { title: '', bytes: Buffer.from('5') },
      { title: 'a/../../b.txt', bytes: Buffer.from('6') },
      { title: 'ok/fine.txt', bytes: Buffer.from('7') },
    ];
    await pushArtifact(client.repository('mnt/hostile'), ['v1'], files);
    const m = await startMount(cli.env, `${host}/mnt/hostile`, join(cli.home, 'mnt-hostile'));
    const { stdout } = await execFile('find', [join(m.mountpoint, 'v1'), '-type', 'f']);
    const found = stdout.trim().split('\n').sort();
    expect(found).toHaveLength(files.length);
    for (const f of found) expect(f.startsWith(join(m.mountpoint, 'v1') + '/')).toBe(true);
    expect(await readFile(join(m.mountpoint, 'v1/same.txt'), 'utf8')).toBe('3');
    expect(await readFile(join(m.mountpoint, 'v1/ok/fine.txt'), 'utf8')).toBe('7');
    const contents = await Promise.all(found.map((f) => readFile(f, 'utf8')));
    expect(contents.sort()).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });
});

describe('GDAL on a mounted Cloud-Optimized GeoTIFF', () => {
  test('gdalinfo and a 512x512 window fetch a small fraction; a second process fetches nothing', async () => {
    requireCommand('gdal_translate', 'apt-get install --no-install-recommends gdal-bin');
    const raw = join(cli.home, 'raw.tif');
    const cog = join(cli.home, 'cog.tif');
    execFileSync('gdal_create', ['-of', 'GTiff', '-outsize', '4096', '4096', '-bands', '1', '-ot', 'UInt16', '-burn', '1234', raw]);
    execFileSync('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=NONE', '-co', 'BLOCKSIZE=512', raw, cog]);
    const bytes = await readFile(cog);
    await pushArtifact(client.repository('mnt/cog'), ['v1'], [{ title: 'imagery.tif', bytes, mediaType: 'image/tiff; application=geotiff; profile=cloud-optimized' }]);
    const m = await startMount(cli.env, `${host}/mnt/cog`, join(cli.home, 'mnt-cog'));
    const tif = join(m.mountpoint, 'v1/imagery.tif');

    const info = await execFile('gdalinfo', [tif]);
    expect(info.stdout).toMatch(/Size is 4096, 4096/);
    expect(info.stdout).toMatch(/LAYOUT=COG/);
    const afterInfo = (await m.status()).reader!;
    expect(afterInfo.bytesFetched).toBeLessThan(2 * 1024 * 1024);

    const env = { ...process.env, GDAL_DISABLE_READDIR_ON_OPEN: 'EMPTY_DIR' };
    await execFile('gdal_translate', ['-q', '-srcwin', '1792', '1792', '512', '512', tif, join(cli.home, 'window1.tif')], { env });
    const afterWindow = (await m.status()).reader!;
    expect(afterWindow.bytesFetched).toBeLessThan(bytes.length / 4);
    expect(afterWindow.bytesFetched).toBeGreaterThan(afterInfo.bytesFetched);

    await execFile('gdal_translate', ['-q', '-srcwin', '1792', '1792', '512', '512', tif, join(cli.home, 'window2.tif')], { env });
    const afterSecond = (await m.status()).reader!;
    expect(afterSecond.bytesFetched).toBe(afterWindow.bytesFetched);
    const local = await execFile('gdal_translate', ['-q', '-srcwin', '1792', '1792', '512', '512', cog, join(cli.home, 'window-local.tif')]);
    expect(local.stderr).toBe('');
    const stats = (f: string) => execFileSync('gdalinfo', ['-stats', '-nomd', f]).toString().match(/Minimum=.*$/m)?.[0];
    expect(stats(join(cli.home, 'window1.tif'))).toBe(stats(join(cli.home, 'window-local.tif')));
  });
});
