/**
 * Just enough TIFF to tell a Cloud-Optimized GeoTIFF, a GeoTIFF and a plain TIFF apart from the
 * first bytes of a file. Pure.
 *
 * - header: `II*\0` / `MM\0*` (classic, 4-byte offsets) or `II+\0` / `MM\0+` (BigTIFF, 8-byte);
 * - GeoTIFF: the first IFD has the GeoKeyDirectory tag (34735);
 * - COG: GDAL's "ghost area" right after the header, `GDAL_STRUCTURAL_METADATA_SIZE=N bytes`
 *   followed by `LAYOUT=IFDS_BEFORE_DATA` (GDAL >= 3.1, COG driver or COPY_SRC_OVERVIEWS), and
 *   not `KNOWN_INCOMPATIBLE_EDITION=YES` (a COG edited in place is no longer one).
 */

export const GEO_KEY_DIRECTORY_TAG = 34735;

export interface TiffHeader {
  littleEndian: boolean;
  bigTiff: boolean;
  /** File offset of the first IFD. */
  firstIfd: number;
  /** Bytes of the header (8, or 16 for BigTIFF): where GDAL's ghost area starts. */
  headerSize: number;
}

export function parseTiffHeader(head: Buffer): TiffHeader | undefined {
  if (head.length < 8) return undefined;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const littleEndian = order === 'II';
  const magic = littleEndian ? head.readUInt16LE(2) : head.readUInt16BE(2);
  if (magic === 42) {
    return { littleEndian, bigTiff: false, firstIfd: littleEndian ? head.readUInt32LE(4) : head.readUInt32BE(4), headerSize: 8 };
  }
  if (magic === 43 && head.length >= 16) {
    const offsetSize = littleEndian ? head.readUInt16LE(4) : head.readUInt16BE(4);
    if (offsetSize !== 8) return undefined;
    const firstIfd = littleEndian ? head.readBigUInt64LE(8) : head.readBigUInt64BE(8);
    if (firstIfd > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    return { littleEndian, bigTiff: true, firstIfd: Number(firstIfd), headerSize: 16 };
  }
  return undefined;
}

/**
 * Tag numbers of the first IFD, read from `bytes` that hold the file from `bytesOffset` on.
 * Undefined when the IFD is not (entirely) inside `bytes`.
 */
export function firstIfdTags(header: TiffHeader, bytes: Buffer, bytesOffset = 0): number[] | undefined {
  const start = header.firstIfd - bytesOffset;
  const countSize = header.bigTiff ? 8 : 2;
  const entrySize = header.bigTiff ? 20 : 12;
  if (start < 0 || start + countSize > bytes.length) return undefined;
  const count = header.bigTiff
    ? Number(header.littleEndian ? bytes.readBigUInt64LE(start) : bytes.readBigUInt64BE(start))
    : header.littleEndian
      ? bytes.readUInt16LE(start)
      : bytes.readUInt16BE(start);
  if (start + countSize + count * entrySize > bytes.length) return undefined;
  const tags: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + countSize + i * entrySize;
    tags.push(header.littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  }
  return tags;
}

const GHOST_PREFIX = 'GDAL_STRUCTURAL_METADATA_SIZE=';

/** Whether GDAL's ghost area after the header declares a cloud-optimized layout. */
export function hasCogGhostArea(header: TiffHeader, head: Buffer): boolean {
  const start = header.headerSize;
  if (head.toString('latin1', start, start + GHOST_PREFIX.length) !== GHOST_PREFIX) return false;
  const sizeMatch = /^(\d{6}) bytes\n/.exec(head.toString('latin1', start + GHOST_PREFIX.length, start + GHOST_PREFIX.length + 13));
  if (!sizeMatch?.[1]) return false;
  const bodyStart = start + GHOST_PREFIX.length + sizeMatch[0].length;
  const body = head.toString('latin1', bodyStart, bodyStart + Number(sizeMatch[1]));
  const layout = /(?:^|\n)LAYOUT=(IFDS_BEFORE_DATA|COG)(?:\n|$)/.test(body);
  return layout && !/(?:^|\n)KNOWN_INCOMPATIBLE_EDITION=YES(?:\n|$)/.test(body);
}
