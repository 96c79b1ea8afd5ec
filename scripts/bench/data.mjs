/**
 * The bench's deterministic data, generated once per data version and profile and kept in
 * .bench/data/<version>-<profile>/ (a rerun reuses it; a partial generation is never reused):
 *   files/big.bin   pseudo-random bytes (1 GiB; --quick 64 MiB)
 *   files/cog.tif   3-band uint16 COG, 512 px tiles, DEFLATE, overviews, from 12-bit noise
 *                   (6144 px square, ~300 MB; --quick 2048 px)
 *   files/small/    2,000 files of 1-64 KiB in 10x10 nested folders (--quick 200)
 *   layout/         the same, packed by `ocifs pack --link` (tags big, cog, small), for skopeo
 *   meta.json       sizes, digests, the COG's shape; written last
 * Plans (names, sizes, the COG window) are pure and exported for tests.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ByteStream } from './prng.mjs';
import { run } from './proc.mjs';

/** Bump when generation changes: old data is then regenerated, never mixed. */
export const DATA_VERSION = 'v1';
const SEED = `ocifs-bench-${DATA_VERSION}`;
export const TILE = 512;

export function dataProfile(quick) {
  return quick
    ? { name: 'quick', bigBytes: 64 << 20, cogSize: 2048, smallCount: 200 }
    : { name: 'full', bigBytes: 1 << 30, cogSize: 6144, smallCount: 2000 };
}

/** Names and sizes of the small files: 10 folders of 10 folders, sizes 1-64 KiB. */
export function smallFilePlan(count, seed = SEED) {
  const rng = new ByteStream(seed, 'small-plan');
  const files = [];
  for (let i = 0; i < count; i++) {
    const path = `small/d${i % 10}/d${Math.floor(i / 10) % 10}/f${String(i).padStart(4, '0')}.bin`;
    files.push({ path, size: rng.int(1024, 64 * 1024) });
  }
  return files;
}

/** A size x size window centred on the image: [xoff, yoff, xsize, ysize] (gdal -srcwin). */
export function centreWindow(width, height, size = TILE) {
  return [Math.floor((width - size) / 2), Math.floor((height - size) / 2), size, size];
}

/** How many tiles of `tile` px a window touches. */
export function tilesTouched([x, y, w, h], tile = TILE) {
  const across = Math.floor((x + w - 1) / tile) - Math.floor(x / tile) + 1;
  const down = Math.floor((y + h - 1) / tile) - Math.floor(y / tile) + 1;
  return across * down;
}

/** ENVI header for a raw band-sequential little-endian uint16 file, which GDAL reads as is. */
export function enviHeader(width, height, bands) {
  return ['ENVI', `samples = ${width}`, `lines = ${height}`, `bands = ${bands}`, 'header offset = 0', 'file type = ENVI Standard', 'data type = 12', 'interleave = bsq', 'byte order = 0', ''].join('\n');
}

/** 12-bit noise (as a sensor writes it), little-endian uint16: clear the high nibble of each high byte. */
export function maskTo12Bits(buf) {
  for (let i = 1; i < buf.length; i += 2) buf[i] &= 0x0f;
  return buf;
}

async function writeStream(path, rng, size, transform = (b) => b) {
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, 4 << 20);
      const chunk = transform(rng.next(n));
      hash.update(chunk);
      await file.write(chunk);
      left -= n;
    }
  } finally {
    await file.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

export async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** The data for `profile`, generated if missing. Resolves meta.json plus absolute paths. */
export async function ensureData(dataRoot, profile, { cli, log }) {
  const dir = join(dataRoot, `${DATA_VERSION}-${profile.name}`);
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(await readFile(metaPath, 'utf8'));
    log(`data: reusing ${dir}`);
    return withPaths(dir, meta);
  }
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  const files = join(partial, 'files');
  await mkdir(files, { recursive: true });

  log(`data: generating ${profile.bigBytes / 2 ** 20} MiB of pseudo-random bytes`);
  const bigDigest = await writeStream(join(files, 'big.bin'), new ByteStream(SEED, 'big'), profile.bigBytes);

  log(`data: generating a ${profile.cogSize} px 3-band uint16 COG (GDAL, DEFLATE, overviews)`);
  const cog = await makeCog(partial, files, profile.cogSize);

  log(`data: generating ${profile.smallCount} small files`);
  const plan = smallFilePlan(profile.smallCount);
  const smallRng = new ByteStream(SEED, 'small-data');
  for (const f of plan) {
    await mkdir(dirname(join(files, f.path)), { recursive: true });
    await writeFile(join(files, f.path), smallRng.next(f.size));
  }

  log('data: packing an OCI layout (ocifs pack --link) for skopeo');
  const layout = join(partial, 'layout');
  for (const [tag, input] of [['big', 'big.bin'], ['cog', 'cog.tif'], ['small', 'small']]) {
    await cli.run(['pack', input, '--layout', `${layout}:${tag}`, '--link'], { cwd: files, cacheDir: join(partial, 'cache') });
  }
  await rm(join(partial, 'cache'), { recursive: true, force: true });

  const meta = {
    version: DATA_VERSION,
    profile,
    generatedAt: new Date().toISOString(),
    big: { path: 'big.bin', size: profile.bigBytes, digest: bigDigest },
    cog,
    small: { dir: 'small', count: plan.length, bytes: plan.reduce((n, f) => n + f.size, 0) },
  };
  await writeFile(join(partial, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  await rename(partial, dir);
  return withPaths(dir, meta);
}

async function makeCog(work, files, size) {
  const raw = join(work, 'cog-noise.bsq');
  await writeStream(raw, new ByteStream(SEED, 'cog'), size * size * 3 * 2, maskTo12Bits);
  await writeFile(join(work, 'cog-noise.hdr'), enviHeader(size, size, 3));
  const out = join(files, 'cog.tif');
  const [west, north] = [500000, 5000000];
  await run('gdal_translate', [
    '-q', '-of', 'COG',
    '-a_srs', 'EPSG:32633', '-a_ullr', String(west), String(north), String(west + size * 10), String(north - size * 10),
    '-co', `BLOCKSIZE=${TILE}`, '-co', 'COMPRESS=DEFLATE', '-co', 'OVERVIEWS=AUTO', '-co', 'NUM_THREADS=ALL_CPUS',
    raw, out,
  ]);
  await rm(raw);
  await rm(join(work, 'cog-noise.hdr'));
  const info = JSON.parse((await run('gdalinfo', ['-json', out])).stdout);
  const band = info.bands?.[0] ?? {};
  const { size: bytes } = await stat(out);
  return {
    path: 'cog.tif',
    size: bytes,
    digest: await sha256File(out),
    width: info.size[0],
    height: info.size[1],
    bands: info.bands.length,
    block: band.block,
    overviews: (band.overviews ?? []).length,
    window: centreWindow(info.size[0], info.size[1]),
    tilesInWindow: tilesTouched(centreWindow(info.size[0], info.size[1])),
  };
}

function withPaths(dir, meta) {
  const files = join(dir, 'files');
  return {
    ...meta,
    dir,
    filesDir: files,
    layoutDir: join(dir, 'layout'),
    bigPath: join(files, meta.big.path),
    cogPath: join(files, meta.cog.path),
    smallPath: join(files, meta.small.dir),
  };
}
