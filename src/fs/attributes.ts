/**
 * stat() answers for the read-only tree. Pure: sizes come from descriptors (never from a blob),
 * times from the manifest's `org.opencontainers.image.created`, modes from the mount options.
 */
import { constants } from 'node:fs';
import type { NodeAttributes } from './ops.js';
import type { ImageIndex, ImageManifest, ParsedManifest } from '../oci/types.js';
import { Annotation } from '../oci/types.js';

export const FILE_MODE = 0o444;
export const DIRECTORY_MODE = 0o555;

export interface Ownership {
  uid: number;
  gid: number;
  /** Bits removed from 0444/0555, as with a mount's `umask=` option. */
  umask: number;
}

export interface NodeFacts {
  mtime: Date;
  immutable: boolean;
}

export function directoryAttributes(owner: Ownership, facts: NodeFacts): NodeAttributes {
  return {
    mode: constants.S_IFDIR | (DIRECTORY_MODE & ~owner.umask),
    size: 0,
    uid: owner.uid,
    gid: owner.gid,
    nlink: 2,
    mtime: facts.mtime,
    atime: facts.mtime,
    ctime: facts.mtime,
    blocks: 0,
    immutable: facts.immutable,
  };
}

export function fileAttributes(owner: Ownership, facts: NodeFacts, size: number): NodeAttributes {
  // A hostile descriptor may claim any size; a negative or fractional one would corrupt stat.
  const safeSize = Number.isSafeInteger(size) && size >= 0 ? size : 0;
  return {
    mode: constants.S_IFREG | (FILE_MODE & ~owner.umask),
    size: safeSize,
    uid: owner.uid,
    gid: owner.gid,
    nlink: 1,
    mtime: facts.mtime,
    atime: facts.mtime,
    ctime: facts.mtime,
    blocks: Math.ceil(safeSize / 512),
    immutable: facts.immutable,
  };
}

/** The manifest's creation time, when it carries a parseable one. */
export function createdTime(parsed: ParsedManifest): Date | undefined {
  const body: ImageManifest | ImageIndex = parsed.kind === 'index' ? parsed.index : parsed.manifest;
  const text = body.annotations?.[Annotation.Created];
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/**
 * A file's mtime: `base` (its manifest's created time, else the mount time) to the second, with
 * the milliseconds taken from the blob digest. The kernel keeps cached pages of a path across
 * opens unless its size or mtime changes (FUSE auto_cache); reproducible artifacts often share
 * one created time, so without this a moved tag with a same-size file could serve old pages.
 */
export function fileTime(base: Date, digest: string): Date {
  const hex = digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 9);
  const fromDigest = /^[0-9a-f]{8}$/.test(hex) ? parseInt(hex, 16) % 1000 : 0;
  return new Date(Math.floor(base.getTime() / 1000) * 1000 + fromDigest);
}
