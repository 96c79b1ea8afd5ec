import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_MEDIA_TYPE, detectMediaType, MEDIA_TYPE_RULES, MEDIA_TYPES, tiffIfdOffset } from '../../src/pack/media-types.js';
import { sniffMediaType } from '../../src/pack/pack.js';
import { requireCommand } from '../helpers/require.js';

/** A minimal TIFF: header, optional GDAL ghost area, first IFD with the given tags, at `ifdAt` when set. */
function tiff(options: { bigTiff?: boolean; bigEndian?: boolean; tags?: number[]; ghost?: string; ifdAt?: number } = {}): Buffer {
  const le = !options.bigEndian;
  const big = options.bigTiff ?? false;
  const tags = options.tags ?? [256, 257, 258];
  const header = Buffer.alloc(big ? 16 : 8);
  header.write(le ? 'II' : 'MM', 0, 'latin1');
  const u16 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u16(header, big ? 43 : 42, 2);
  let ghost = Buffer.alloc(0);
  if (options.ghost !== undefined) {
    const body = Buffer.from(options.ghost, 'latin1');
    ghost = Buffer.concat([Buffer.from(`GDAL_STRUCTURAL_METADATA_SIZE=${String(body.length).padStart(6, '0')} bytes\n`, 'latin1'), body]);
  }
  const ifdAt = options.ifdAt ?? header.length + ghost.length;
  if (big) {
    u16(header, 8, 4);
    le ? header.writeBigUInt64LE(BigInt(ifdAt), 8) : header.writeBigUInt64BE(BigInt(ifdAt), 8);
  } else {
    le ? header.writeUInt32LE(ifdAt, 4) : header.writeUInt32BE(ifdAt, 4);
  }
  const entrySize = big ? 20 : 12;
  const ifd = Buffer.alloc((big ? 8 : 2) + tags.length * entrySize + (big ? 8 : 4));
  if (big) le ? ifd.writeBigUInt64LE(BigInt(tags.length), 0) : ifd.writeBigUInt64BE(BigInt(tags.length), 0);
  else u16(ifd, tags.length, 0);
  tags.forEach((t, i) => u16(ifd, t, (big ? 8 : 2) + i * entrySize));
  const padding = Buffer.alloc(Math.max(0, ifdAt - header.length - ghost.length));
  return Buffer.concat([header, ghost, padding, ifd]);
}

const COG_GHOST = 'LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\nBLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ';
const GEO = 34735;
const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));
const u32le = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const safetensorsHead = () => {
  const header = Buffer.from('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(4)]);
};
const tarHead = () => {
  const b = Buffer.alloc(512);
  b.write('file.txt', 0);
  b.write('ustar\x0000', 257, 'latin1');
  return b;
};

describe('detectMediaType', () => {
  test.each<[string, string, Buffer, string]>([
    // TIFF family: content decides
    ['COG (ghost area + GeoKeys)', 'imagery.tif', tiff({ ghost: COG_GHOST, tags: [256, 257, GEO] }), MEDIA_TYPES.cog],
    ['BigTIFF COG', 'big.tif', tiff({ bigTiff: true, ghost: COG_GHOST, tags: [256, GEO] }), MEDIA_TYPES.cog],
    ['big-endian COG', 'be.tif', tiff({ bigEndian: true, ghost: COG_GHOST, tags: [256, GEO] }), MEDIA_TYPES.cog],
    ['COG with LAYOUT=COG', 'x.tif', tiff({ ghost: 'LAYOUT=COG\n', tags: [GEO] }), MEDIA_TYPES.cog],
    ['edited COG (KNOWN_INCOMPATIBLE_EDITION=YES)', 'x.tif', tiff({ ghost: COG_GHOST.replace('=NO', '=YES'), tags: [GEO] }), MEDIA_TYPES.geotiff],
    ['ghost area without a COG layout', 'x.tif', tiff({ ghost: 'BLOCK_ORDER=ROW_MAJOR\n', tags: [GEO] }), MEDIA_TYPES.geotiff],
    ['GeoTIFF', 'plain.tif', tiff({ tags: [256, 257, GEO] }), MEDIA_TYPES.geotiff],
    ['BigTIFF GeoTIFF, big-endian', 'x.tiff', tiff({ bigTiff: true, bigEndian: true, tags: [GEO] }), MEDIA_TYPES.geotiff],
    ['TIFF without GeoKeys', 'photo.tif', tiff({ tags: [256, 257] }), MEDIA_TYPES.tiff],
    ['COG layout without GeoKeys is a plain TIFF', 'x.tif', tiff({ ghost: COG_GHOST, tags: [256] }), MEDIA_TYPES.tiff],
    ['TIFF whatever the extension', 'noext', tiff({ tags: [GEO] }), MEDIA_TYPES.geotiff],
    ['.tif that is not a TIFF', 'fake.tif', Buffer.from('hello'), DEFAULT_MEDIA_TYPE],
    // images and documents
    ['PNG', 'a.png', Buffer.from('\x89PNG\r\n\x1a\n....', 'latin1'), 'image/png'],
    ['JPEG', 'a.jpg', Buffer.from('\xff\xd8\xff\xe0', 'latin1'), 'image/jpeg'],
    ['JPEG 2000', 'a.jp2', Buffer.from('\x00\x00\x00\x0cjP  \r\n\x87\n', 'latin1'), 'image/jp2'],
    ['GIF', 'a.gif', Buffer.from('GIF89a'), 'image/gif'],
    ['WebP', 'a.webp', Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'), 'image/webp'],
    ['PDF', 'a.pdf', Buffer.from('%PDF-1.7'), 'application/pdf'],
    // data formats
    ['Parquet', 'a.parquet', Buffer.from('PAR1....'), MEDIA_TYPES.parquet],
    ['NetCDF classic', 'a.nc', Buffer.from('CDF\x01', 'latin1'), MEDIA_TYPES.netcdf],
    ['NetCDF 64-bit offset', 'a.nc', Buffer.from('CDF\x02', 'latin1'), MEDIA_TYPES.netcdf],
    ['NetCDF-4 (HDF5 inside, .nc)', 'a.nc', Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), MEDIA_TYPES.netcdf],
    ['HDF5', 'a.h5', Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'), MEDIA_TYPES.hdf5],
    ['GGUF v3', 'model.gguf', Buffer.concat([Buffer.from('GGUF'), u32le(3)]), MEDIA_TYPES.gguf],
    ['GGUF v2 is not claimed as v3', 'old.gguf', Buffer.concat([Buffer.from('GGUF'), u32le(2)]), DEFAULT_MEDIA_TYPE],
    ['safetensors', 'model.safetensors', safetensorsHead(), MEDIA_TYPES.safetensors],
    ['safetensors bytes under another name', 'model.bin', safetensorsHead(), DEFAULT_MEDIA_TYPE],
    ['FlatGeobuf', 'a.fgb', Buffer.from('fgb\x03fgb\x00', 'latin1'), 'application/vnd.flatgeobuf'],
    ['GeoPackage', 'a.gpkg', Buffer.from('SQLite format 3\x00', 'latin1'), 'application/geopackage+sqlite3'],
    ['SQLite', 'a.db', Buffer.from('SQLite format 3\x00', 'latin1'), 'application/vnd.sqlite3'],
    ['LAS', 'a.las', Buffer.from('LASF'), 'application/vnd.las'],
    ['LAZ', 'a.laz', Buffer.from('LASF'), 'application/vnd.laszip'],
    // archives
    ['zip', 'a.zip', Buffer.from('PK\x03\x04', 'latin1'), 'application/zip'],
    ['gzip', 'a.tar.gz', Buffer.from('\x1f\x8b\x08', 'latin1'), 'application/gzip'],
    ['zstd', 'a.zst', Buffer.from('\x28\xb5\x2f\xfd', 'latin1'), 'application/zstd'],
    ['bzip2', 'a.bz2', Buffer.from('BZh9'), 'application/x-bzip2'],
    ['xz', 'a.xz', Buffer.from('\xfd7zXZ\x00', 'latin1'), 'application/x-xz'],
    ['tar', 'a.tar', tarHead(), 'application/x-tar'],
    // JSON family
    ['STAC Item', 'data/stac_item.json', json({ type: 'Feature', stac_version: '1.0.0', id: 'x', geometry: null }), MEDIA_TYPES.geojson],
    ['STAC Item, compact, stac_version first', 'item.json', Buffer.from('{"stac_version":"1.1.0","type":"Feature"}'), MEDIA_TYPES.geojson],
    ['STAC Collection', 'collection.json', json({ type: 'Collection', stac_version: '1.0.0' }), MEDIA_TYPES.json],
    ['GeoJSON in .json', 'roads.json', json({ type: 'FeatureCollection', features: [] }), MEDIA_TYPES.geojson],
    ['GeoJSON by extension', 'roads.geojson', Buffer.from('{}'), MEDIA_TYPES.geojson],
    ['JSON', 'data/config.json', Buffer.from('{}'), MEDIA_TYPES.json],
    ['JSON with a non-GeoJSON type', 'x.json', json({ type: 'Polygonal' }), MEDIA_TYPES.json],
    // Zarr: path first
    ['Zarr v2 array metadata', 'store.zarr/temp/.zarray', Buffer.from('{}'), MEDIA_TYPES.json],
    ['Zarr group metadata', 'store.zarr/.zgroup', Buffer.from('{}'), MEDIA_TYPES.json],
    ['Zarr attributes', 'store.zarr/temp/.zattrs', Buffer.from('{}'), MEDIA_TYPES.json],
    ['Zarr v3 metadata', 'store.zarr/zarr.json', Buffer.from('{}'), MEDIA_TYPES.json],
    ['Zarr v2 chunk', 'store.zarr/temp/0.0.1', Buffer.from([1, 2, 3]), MEDIA_TYPES.octetStream],
    ['Zarr v3 chunk, gzip-compressed', 'data/store.ZARR/temp/c/0/0', Buffer.from('\x1f\x8b\x08', 'latin1'), MEDIA_TYPES.octetStream],
    // text by extension
    ['YAML', 'a.yaml', Buffer.from('a: 1'), 'application/yaml'],
    ['YML', 'a.YML', Buffer.from('a: 1'), 'application/yaml'],
    ['XML', 'a.xml', Buffer.from('<a/>'), 'application/xml'],
    ['CSV', 'a.csv', Buffer.from('a,b'), 'text/csv'],
    ['TSV', 'a.tsv', Buffer.from('a\tb'), 'text/tab-separated-values'],
    ['Markdown', 'README.md', Buffer.from('# x'), 'text/markdown'],
    ['HTML', 'a.html', Buffer.from('<p>'), 'text/html'],
    ['TOML', 'a.toml', Buffer.from('a = 1'), 'application/toml'],
    ['text', 'notes.txt', Buffer.from('hello'), 'text/plain'],
    // fallback: ORAS's default
    ['unknown binary', 'blob.bin', Buffer.from([0, 1, 2, 3]), DEFAULT_MEDIA_TYPE],
    ['unknown text without extension', 'LICENSE', Buffer.from('Apache'), DEFAULT_MEDIA_TYPE],
    ['empty file', 'empty', Buffer.alloc(0), DEFAULT_MEDIA_TYPE],
  ])('%s', (_name, path, head, expected) => {
    expect(detectMediaType(path, head)).toBe(expected);
  });

  test('the fallback is ORAS default layer type', () => {
    expect(DEFAULT_MEDIA_TYPE).toBe('application/vnd.oci.image.layer.v1.tar');
  });

  test('every rule is documented in docs/pack-media-types.md', async () => {
    const doc = await readFile(join(import.meta.dirname, '../../docs/pack-media-types.md'), 'utf8');
    for (const rule of MEDIA_TYPE_RULES) expect(doc, rule.what).toContain(`\`${rule.mediaType}\``);
    expect(doc).toContain(DEFAULT_MEDIA_TYPE);
  });

  test('a TIFF whose first IFD lies beyond the head needs the bytes there', () => {
    const file = tiff({ tags: [256, GEO], ifdAt: 200_000 });
    const head = file.subarray(0, 65536);
    expect(tiffIfdOffset(head)).toBe(200_000);
    expect(detectMediaType('x.tif', head)).toBe(MEDIA_TYPES.tiff);
    expect(detectMediaType('x.tif', head, { offset: 200_000, bytes: file.subarray(200_000) })).toBe(MEDIA_TYPES.geotiff);
    expect(tiffIfdOffset(tiff({ tags: [GEO] }))).toBeUndefined();
    expect(tiffIfdOffset(Buffer.from('not a tiff'))).toBeUndefined();
  });

  test('truncated and hostile TIFF headers do not throw', () => {
    const heads = [
      Buffer.from('II*\0', 'latin1'),
      Buffer.from('II+\0\x08\0\0\0', 'latin1'),
      Buffer.concat([Buffer.from('II*\0', 'latin1'), u32le(0xffffffff)]),
      (() => {
        const b = tiff({ tags: [GEO] });
        b.writeUInt16LE(0xffff, 8); // an entry count far beyond the data
        return b;
      })(),
      (() => {
        const b = Buffer.alloc(16);
        b.write('II+\0\x08\0', 0, 'latin1');
        b.writeBigUInt64LE(0xffffffffffffffffn, 8);
        return b;
      })(),
    ];
    for (const head of heads) expect(() => detectMediaType('x.tif', head)).not.toThrow();
  });
});

describe('real files made by GDAL', () => {
  let dir: string;
  beforeAll(async () => {
    requireCommand('gdal_translate', 'apt-get install --no-install-recommends gdal-bin');
    dir = await mkdtemp(join(tmpdir(), 'ocifs-gdal-'));
    const gdal = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
    gdal('gdal_create', '-q', '-of', 'GTiff', '-outsize', '256', '256', '-bands', '1', '-burn', '7', '-a_srs', 'EPSG:4326', '-a_ullr', '10', '50', '11', '49', 'geo.tif');
    gdal('gdal_create', '-q', '-of', 'GTiff', '-outsize', '16', '16', '-bands', '1', 'nogeo.tif');
    gdal('gdal_translate', '-q', '-of', 'COG', 'geo.tif', 'cog.tif');
    gdal('gdal_translate', '-q', '-of', 'COG', '-co', 'BIGTIFF=YES', 'geo.tif', 'cog-big.tif');
    gdal('gdal_translate', '-q', '-of', 'GTiff', '-co', 'BIGTIFF=YES', 'geo.tif', 'geo-big.tif');
    gdal('gdal_translate', '-q', '-of', 'netCDF', 'geo.tif', 'geo.nc');
    // GDAL writes the first IFD up front; other writers put it after the pixels (synthetic here).
    await writeFile(join(dir, 'big-then-ifd.tif'), tiff({ tags: [256, GEO], ifdAt: 300_000 }));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test.each([
    ['cog.tif', MEDIA_TYPES.cog],
    ['cog-big.tif', MEDIA_TYPES.cog],
    ['geo.tif', MEDIA_TYPES.geotiff],
    ['geo-big.tif', MEDIA_TYPES.geotiff],
    ['nogeo.tif', MEDIA_TYPES.tiff],
    ['geo.nc', MEDIA_TYPES.netcdf],
    ['big-then-ifd.tif', MEDIA_TYPES.geotiff],
  ])('%s', async (name, expected) => {
    expect(await sniffMediaType({ path: join(dir, name), title: name })).toBe(expected);
  });
});
