/**
 * The media type of a layer whose type was not given (`FILE:TYPE`): from its first bytes, then
 * its name. Pure: the caller reads the head of the file (and, for a TIFF whose first IFD lies
 * beyond the head, the bytes at `tiffIfdOffset(head)`).
 *
 * The table is MEDIA_TYPE_RULES, first match wins; docs/pack-media-types.md documents it. Content
 * beats extension (a `.tif` that is not a TIFF is not image/tiff); Zarr stores are judged by
 * path first, since their chunks are opaque bytes whatever their compression. Nothing matched:
 * ORAS's default `application/vnd.oci.image.layer.v1.tar`, so unknown files are typed as
 * `oras push` types them.
 */
import { posix } from 'node:path';
import { MediaType } from '../oci/types.js';
import { GEO_KEY_DIRECTORY_TAG, firstIfdTags, hasCogGhostArea, parseTiffHeader, type TiffHeader } from './tiff.js';

/** How many bytes of a file the detection looks at. */
export const SNIFF_BYTES = 64 * 1024;

/** ORAS's default layer media type (oras-go content/file: defaultBlobMediaType). */
export const DEFAULT_MEDIA_TYPE = MediaType.ImageLayer;

export const MEDIA_TYPES = {
  cog: 'image/tiff; application=geotiff; profile=cloud-optimized',
  geotiff: 'image/tiff; application=geotiff',
  tiff: 'image/tiff',
  geojson: 'application/geo+json',
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
  netcdf: 'application/x-netcdf',
  hdf5: 'application/x-hdf5',
  octetStream: 'application/octet-stream',
  /** Docker Model Runner's types (also read by vLLM's OCI loader); no IANA registration exists. */
  gguf: 'application/vnd.docker.ai.gguf.v3',
  safetensors: 'application/vnd.docker.ai.safetensors',
} as const;

export interface SniffContext {
  /** The path as packed (its name and directories matter, not where it is). */
  path: string;
  /** Lowercase base name. */
  name: string;
  /** Lowercase extension with its dot (`.tif`), '' when none. */
  ext: string;
  head: Buffer;
  tiff: TiffHeader | undefined;
  /** Tags of the TIFF's first IFD, when it could be read. */
  tiffTags: number[] | undefined;
}

export interface MediaTypeRule {
  /** What the rule recognises, for docs and tests. */
  what: string;
  mediaType: string;
  matches(ctx: SniffContext): boolean;
}

const ZARR_METADATA = new Set(['.zarray', '.zgroup', '.zattrs', '.zmetadata', 'zarr.json']);
const NETCDF_EXTENSIONS = new Set(['.nc', '.nc4', '.netcdf', '.cdf']);
const GEOJSON_TYPES = /"type"\s*:\s*"(?:Feature|FeatureCollection|Point|MultiPoint|LineString|MultiLineString|Polygon|MultiPolygon|GeometryCollection)"/;

const magic = (bytes: string, at = 0) => (ctx: SniffContext) =>
  ctx.head.length >= at + bytes.length && ctx.head.toString('latin1', at, at + bytes.length) === bytes;
const ext = (...exts: string[]) => (ctx: SniffContext) => exts.includes(ctx.ext);
const headText = (ctx: SniffContext) => ctx.head.toString('utf8');
const isGeo = (ctx: SniffContext) => ctx.tiffTags?.includes(GEO_KEY_DIRECTORY_TAG) === true;

export const MEDIA_TYPE_RULES: readonly MediaTypeRule[] = [
  { what: 'Zarr metadata (.zarray, .zgroup, .zattrs, .zmetadata, zarr.json)', mediaType: MEDIA_TYPES.json, matches: (c) => ZARR_METADATA.has(c.name) },
  {
    what: 'Zarr chunk (any other file inside a *.zarr directory)',
    mediaType: MEDIA_TYPES.octetStream,
    matches: (c) => posix.dirname(c.path).split('/').some((part) => part.toLowerCase().endsWith('.zarr')),
  },
  {
    what: 'Cloud-Optimized GeoTIFF (TIFF/BigTIFF with GDAL ghost area LAYOUT=IFDS_BEFORE_DATA and GeoKeyDirectory)',
    mediaType: MEDIA_TYPES.cog,
    matches: (c) => c.tiff !== undefined && isGeo(c) && hasCogGhostArea(c.tiff, c.head),
  },
  { what: 'GeoTIFF (TIFF/BigTIFF whose first IFD has GeoKeyDirectory, tag 34735)', mediaType: MEDIA_TYPES.geotiff, matches: (c) => c.tiff !== undefined && isGeo(c) },
  { what: 'TIFF (II*\\0, MM\\0*, BigTIFF II+\\0, MM\\0+)', mediaType: MEDIA_TYPES.tiff, matches: (c) => c.tiff !== undefined },
  { what: 'PNG', mediaType: 'image/png', matches: magic('\x89PNG\r\n\x1a\n') },
  { what: 'JPEG', mediaType: 'image/jpeg', matches: magic('\xff\xd8\xff') },
  { what: 'JPEG 2000 (JP2)', mediaType: 'image/jp2', matches: magic('\x00\x00\x00\x0cjP  \r\n\x87\n') },
  { what: 'GIF', mediaType: 'image/gif', matches: (c) => magic('GIF87a')(c) || magic('GIF89a')(c) },
  { what: 'WebP', mediaType: 'image/webp', matches: (c) => magic('RIFF')(c) && magic('WEBP', 8)(c) },
  { what: 'PDF', mediaType: 'application/pdf', matches: magic('%PDF-') },
  { what: 'Parquet (PAR1)', mediaType: MEDIA_TYPES.parquet, matches: magic('PAR1') },
  {
    what: 'NetCDF classic, 64-bit offset, CDF-5 (CDF\\x01, \\x02, \\x05)',
    mediaType: MEDIA_TYPES.netcdf,
    matches: (c) => magic('CDF\x01')(c) || magic('CDF\x02')(c) || magic('CDF\x05')(c),
  },
  {
    what: 'NetCDF-4 (HDF5 signature, .nc/.nc4/.netcdf/.cdf)',
    mediaType: MEDIA_TYPES.netcdf,
    matches: (c) => magic('\x89HDF\r\n\x1a\n')(c) && NETCDF_EXTENSIONS.has(c.ext),
  },
  { what: 'HDF5 (\\x89HDF\\r\\n\\x1a\\n, other names)', mediaType: MEDIA_TYPES.hdf5, matches: magic('\x89HDF\r\n\x1a\n') },
  { what: 'GGUF version 3 (GGUF, uint32 version 3)', mediaType: MEDIA_TYPES.gguf, matches: (c) => magic('GGUF')(c) && c.head.length >= 8 && c.head.readUInt32LE(4) === 3 },
  {
    what: 'safetensors (.safetensors with an 8-byte header length and a JSON header)',
    mediaType: MEDIA_TYPES.safetensors,
    matches: (c) => c.ext === '.safetensors' && c.head.length >= 9 && c.head.readBigUInt64LE(0) < 100_000_000n && c.head[8] === 0x7b,
  },
  { what: 'FlatGeobuf (fgb\\x03)', mediaType: 'application/vnd.flatgeobuf', matches: magic('fgb\x03') },
  { what: 'GeoPackage (SQLite, .gpkg)', mediaType: 'application/geopackage+sqlite3', matches: (c) => magic('SQLite format 3\x00')(c) && c.ext === '.gpkg' },
  { what: 'SQLite', mediaType: 'application/vnd.sqlite3', matches: magic('SQLite format 3\x00') },
  { what: 'LAZ point cloud (LASF, .laz)', mediaType: 'application/vnd.laszip', matches: (c) => magic('LASF')(c) && c.ext === '.laz' },
  { what: 'LAS point cloud (LASF)', mediaType: 'application/vnd.las', matches: magic('LASF') },
  { what: 'ZIP', mediaType: 'application/zip', matches: magic('PK\x03\x04') },
  { what: 'gzip', mediaType: 'application/gzip', matches: magic('\x1f\x8b') },
  { what: 'Zstandard', mediaType: 'application/zstd', matches: magic('\x28\xb5\x2f\xfd') },
  { what: 'bzip2', mediaType: 'application/x-bzip2', matches: magic('BZh') },
  { what: 'xz', mediaType: 'application/x-xz', matches: magic('\xfd7zXZ\x00') },
  { what: 'tar (ustar at offset 257)', mediaType: 'application/x-tar', matches: magic('ustar', 257) },
  {
    what: 'STAC Item (.json/.geojson with "type": "Feature" and "stac_version")',
    mediaType: MEDIA_TYPES.geojson,
    matches: (c) => ext('.json', '.geojson')(c) && /"type"\s*:\s*"Feature"/.test(headText(c)) && /"stac_version"\s*:/.test(headText(c)),
  },
  { what: 'GeoJSON (.geojson)', mediaType: MEDIA_TYPES.geojson, matches: ext('.geojson') },
  {
    what: 'GeoJSON in .json (a GeoJSON "type" and no "stac_version")',
    mediaType: MEDIA_TYPES.geojson,
    matches: (c) => c.ext === '.json' && GEOJSON_TYPES.test(headText(c)) && !/"stac_version"\s*:/.test(headText(c)),
  },
  { what: 'JSON (.json; STAC Collections and Catalogs too)', mediaType: MEDIA_TYPES.json, matches: ext('.json') },
  { what: 'YAML (.yaml, .yml)', mediaType: 'application/yaml', matches: ext('.yaml', '.yml') },
  { what: 'XML (.xml)', mediaType: 'application/xml', matches: ext('.xml') },
  { what: 'CSV (.csv)', mediaType: 'text/csv', matches: ext('.csv') },
  { what: 'TSV (.tsv)', mediaType: 'text/tab-separated-values', matches: ext('.tsv') },
  { what: 'Markdown (.md)', mediaType: 'text/markdown', matches: ext('.md', '.markdown') },
  { what: 'HTML (.html, .htm)', mediaType: 'text/html', matches: ext('.html', '.htm') },
  { what: 'TOML (.toml)', mediaType: 'application/toml', matches: ext('.toml') },
  { what: 'Plain text (.txt)', mediaType: 'text/plain', matches: ext('.txt') },
];

/** The media type of a file from its path and first bytes (see MEDIA_TYPE_RULES). */
export function detectMediaType(path: string, head: Buffer, more?: { offset: number; bytes: Buffer }): string {
  const ctx = sniffContext(path, head, more);
  for (const rule of MEDIA_TYPE_RULES) if (rule.matches(ctx)) return rule.mediaType;
  return DEFAULT_MEDIA_TYPE;
}

/**
 * For a TIFF whose first IFD does not lie within `head`: the file offset to read more bytes at
 * (SNIFF_BYTES of them), to pass to detectMediaType as `more`. Undefined otherwise.
 */
export function tiffIfdOffset(head: Buffer): number | undefined {
  const tiff = parseTiffHeader(head);
  if (!tiff || firstIfdTags(tiff, head) !== undefined) return undefined;
  return tiff.firstIfd;
}

function sniffContext(path: string, head: Buffer, more?: { offset: number; bytes: Buffer }): SniffContext {
  const name = posix.basename(path).toLowerCase();
  const dot = name.lastIndexOf('.');
  const tiff = parseTiffHeader(head);
  let tiffTags: number[] | undefined;
  if (tiff) tiffTags = firstIfdTags(tiff, head) ?? (more ? firstIfdTags(tiff, more.bytes, more.offset) : undefined);
  return { path, name, ext: dot > 0 ? name.slice(dot) : '', head, tiff, tiffTags };
}
