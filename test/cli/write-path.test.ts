/**
 * The write path as users run it: the seed article's workflow (pack the EO example, push it,
 * pull it back) with ocifs alone, against the real registry, plus the CLI's answers to bad input.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, ocifsBin, runCommand, type CliEnv } from '../helpers/cli.js';
import { requireCommand } from '../helpers/require.js';
import { pushArtifact } from '../helpers/artifacts.js';
import { RegistryClient } from '../../src/registry/index.js';

const host = inject('registryHost');
let cli: CliEnv;
let work: string;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  requireCommand('gdal_translate', 'apt-get install --no-install-recommends gdal-bin');
  cli = await cliEnv();
  work = join(cli.home, 'work');
  await mkdir(join(work, 'data'), { recursive: true });
  // Step 1 of the seed: an imagery TIFF (a real small COG), a STAC item and a config.
  execFileSync('gdal_create', ['-of', 'GTiff', '-outsize', '256', '256', '-bands', '3', '-ot', 'UInt16', '-burn', '7', join(work, 'src.tif')]);
  execFileSync('gdal_translate', ['-q', '-of', 'COG', '-co', 'COMPRESS=DEFLATE', join(work, 'src.tif'), join(work, 'data/imagery.tif')]);
  await writeFile(
    join(work, 'data/stac_item.json'),
    JSON.stringify({ type: 'Feature', stac_version: '1.0.0', id: 'eo-1', geometry: null, properties: { datetime: '2026-01-01T00:00:00Z' }, assets: {}, links: [] }),
  );
  await writeFile(join(work, 'data/config.json'), '{}\n');
});

afterAll(async () => {
  await cli?.cleanup();
});

describe("the seed article's workflow", () => {
  const artifactType = 'application/vnd.my-earth-observation-product.v1';

  test('pack -> push -> pull gives back byte-identical files', async () => {
    const pack = await cli.run(
      [
        'pack',
        'data/imagery.tif:image/tiff',
        'data/stac_item.json:application/geo+json',
        'data/config.json:application/vnd.oci.artifact.config.v1+json',
        '--layout',
        'eo-layout:v1',
        '--artifact-type',
        artifactType,
      ],
      { cwd: work },
    );
    expect(pack.stderr + pack.stdout).not.toMatch(/Error|at .*\.js/);
    expect(pack.code).toBe(0);
    const manifestDigest = pack.stdout.trim();
    expect(manifestDigest).toMatch(/^sha256:[a-f0-9]{64}$/);

    const push = await cli.run(['push', './eo-layout:v1', `${host}/eo/products:v1`], { cwd: work });
    expect(push.stderr).toMatch(/pushed 4 blobs .* skipped 0 existing, manifest sha256:/);
    expect(push.code).toBe(0);
    expect(push.stdout.trim()).toBe(manifestDigest);

    const ls = await cli.run(['ls', `${host}/eo/products:v1`, '--json']);
    expect(ls.code).toBe(0);
    const listing = JSON.parse(ls.stdout);
    expect(listing.artifactType).toBe(artifactType);
    expect(listing.files.map((f: { title: string }) => f.title).sort()).toEqual(['data/config.json', 'data/imagery.tif', 'data/stac_item.json']);

    const pull = await cli.run(['pull', `${host}/eo/products:v1`, '--output', './retrieved'], { cwd: work });
    expect(pull.stderr).toMatch(/pulled 3 files/);
    expect(pull.code).toBe(0);
    for (const name of ['imagery.tif', 'stac_item.json', 'config.json']) {
      const original = await readFile(join(work, 'data', name));
      const retrieved = await readFile(join(work, 'retrieved/data', name));
      expect(sha256(retrieved)).toBe(sha256(original));
    }
  });

  test('pushing the same artifact again uploads no blob', async () => {
    const again = await cli.run(['push', './eo-layout:v1', `${host}/eo/products:v1`], { cwd: work });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/pushed 0 blobs \(0 B\).*skipped 4 existing/);
  });

  test('push straight from a directory, several tags at once', async () => {
    const push = await cli.run(['push', './data', `${host}/eo/direct:v1,latest`, '--artifact-type', artifactType], { cwd: work });
    expect(push.code).toBe(0);
    const tags = await cli.run(['ls', `${host}/eo/direct`]);
    expect(tags.stdout.split('\n').filter(Boolean).sort()).toEqual(['latest', 'v1']);
    const pull = await cli.run(['pull', `${host}/eo/direct:latest`, '-o', 'direct-out'], { cwd: work });
    expect(pull.code).toBe(0);
    const original = await readFile(join(work, 'data/imagery.tif'));
    const titles = JSON.parse((await cli.run(['ls', `${host}/eo/direct:v1`, '--json'])).stdout).files.map((f: { title: string }) => f.title);
    const tif = titles.find((t: string) => t.endsWith('imagery.tif'));
    expect(sha256(await readFile(join(work, 'direct-out', tif)))).toBe(sha256(original));
  });

  test('cp registry -> registry (same registry) and registry -> layout keep the digest', async () => {
    const digest = (await cli.run(['ls', `${host}/eo/products:v1`, '--json'])).stdout;
    const want = JSON.parse(digest).digest;
    const cp1 = await cli.run(['cp', `${host}/eo/products:v1`, `${host}/mirror/products:v1`]);
    expect(cp1.code).toBe(0);
    expect(cp1.stdout.trim()).toBe(want);
    const cp2 = await cli.run(['cp', `${host}/mirror/products:v1`, `oci-layout:${join(work, 'copy-layout')}:v1`]);
    expect(cp2.code).toBe(0);
    expect(cp2.stdout.trim()).toBe(want);
    const ls = await cli.run(['ls', `oci-layout:${join(work, 'copy-layout')}:v1`, '--json']);
    expect(JSON.parse(ls.stdout).digest).toBe(want);
  });
});

describe('progress', () => {
  test('pack and push draw bars on a terminal, and print only their summary otherwise', async () => {
    requireCommand('script', 'apt-get install bsdutils');
    const onTerminal = (args: string[]) => {
      const line = [ocifsBin, ...args].map((a) => `'${a}'`).join(' ');
      // script(1) runs the command on a pseudo-terminal; its output is what the terminal showed.
      return runCommand('script', ['-qec', line, '/dev/null'], { cwd: work, env: cli.env });
    };
    const packed = await onTerminal(['pack', 'data/config.json', '--layout', 'tty-layout:v1']);
    expect(packed.code, packed.stdout).toBe(0);
    expect(packed.stdout).toMatch(/100% \| 3 B\/3 B \| total/); // config.json: "{}\n"
    expect(packed.stdout).toMatch(/100% \| 3 B\/3 B \| packing into tty-layout/);
    const pushed = await onTerminal(['push', 'tty-layout:v1', `${host}/write/tty:v1`]);
    expect(pushed.code, pushed.stdout).toBe(0);
    expect(pushed.stdout).toMatch(/100% \| .* \| total/);

    const plain = await cli.run(['push', 'tty-layout:v1', `${host}/write/tty:v2`], { cwd: work });
    expect(plain.code).toBe(0);
    expect(plain.stderr + plain.stdout).not.toMatch(/%/);
    expect(plain.stderr).toMatch(/^pushed 0 blobs \(0 B\), skipped 2 existing, manifest sha256:[a-f0-9]{64}$/m);
  });
});

describe('bad input: one line, a documented exit code', () => {
  const oneLine = (s: string) => s.trim().split('\n').filter(Boolean);

  test.each([
    [['ls', 'Not/A:Valid:Ref'], 2, /invalid reference/],
    [['pull', '127.0.0.1:1/x:y', '-o', '/tmp/never'], 5, /127\.0\.0\.1:1/],
    [['ls', '127.0.0.1:1/x'], 5, /cannot reach|unreachable|refused/i],
  ])('ocifs %j exits %i', async (args, code, message) => {
    const r = await cli.run(args);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(code);
  });

  test('an unknown tag exits 3 and names it', async () => {
    const r = await cli.run(['pull', `${host}/eo/products:nope`, '-o', join(work, 'nope')]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/nope/);
  });

  test('an unknown command or flag exits 2', async () => {
    expect((await cli.run(['frobnicate'])).code).toBe(2);
    expect((await cli.run(['pull', '--no-such-flag', 'x'])).code).toBe(2);
  });

  test('pull refuses a title that climbs out, and writes nothing', async () => {
    // ocifs pack refuses such titles, so the hostile manifest is made by hand.
    const client = new RegistryClient(host);
    try {
      await pushArtifact(client.repository('hostile/t'), ['v1'], [
        { title: 'fine.txt', bytes: Buffer.from('fine') },
        { title: '../escape.txt', bytes: Buffer.from('x') },
      ]);
    } finally {
      await client.close();
    }
    const r = await cli.run(['pull', `${host}/hostile/t:v1`, '-o', join(work, 'hostile/out')]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/climbs out/);
    await expect(readFile(join(work, 'hostile/escape.txt'))).rejects.toThrow();
    await expect(readFile(join(work, 'hostile/out/fine.txt'))).rejects.toThrow();
  });

  test('pack refuses a title override that climbs out', async () => {
    await mkdir(join(work, 'hostile'), { recursive: true });
    await writeFile(join(work, 'hostile/x.txt'), 'x');
    await writeFile(join(work, 'hostile/ann.json'), JSON.stringify({ 'x.txt': { 'org.opencontainers.image.title': '../escape.txt' } }));
    const r = await cli.run(['push', 'x.txt', `${host}/hostile/p:v1`, '--annotation-file', 'ann.json'], { cwd: join(work, 'hostile') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/escape\.txt/);
  });

  test('pull refuses to write through a symlink that leads out of the output directory', async () => {
    const out = join(work, 'linked-out');
    await mkdir(out, { recursive: true });
    await symlink('/tmp', join(out, 'data'));
    const r = await cli.run(['pull', `${host}/eo/products:v1`, '-o', out]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/symbolic link/);
  });
});
