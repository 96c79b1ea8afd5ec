/**
 * Where each titled layer of a pulled artifact lands under the output directory. Pure: the
 * symlink check needs the disk and lives in pull.ts.
 *
 * Rule (as ORAS, stricter where ORAS is lax): a title is a relative path with `/` separators;
 * it is refused when empty, when it holds NUL, when it is absolute or climbs out with `..`
 * (both allowed by --allow-path-traversal), and when two layers claim the same path.
 */
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { Descriptor } from '../oci/types.js';
import { Annotation } from '../oci/types.js';
import { UnsafePathError } from '../errors.js';

export interface PlannedFile {
  title: string;
  /** Absolute destination path. */
  path: string;
  descriptor: Descriptor;
  /** An ORAS directory layer: a tar+gzip to unpack into `path`. */
  unpack: boolean;
}

export interface OutputPlan {
  files: PlannedFile[];
  /** Layers without a title: not written (reported to the user). */
  untitled: Descriptor[];
}

export function planOutputPaths(layers: Descriptor[], outputDir: string, allowPathTraversal = false): OutputPlan {
  const root = resolve(outputDir);
  const files: PlannedFile[] = [];
  const untitled: Descriptor[] = [];
  const seen = new Map<string, string>();
  for (const layer of layers) {
    const title = layer.annotations?.[Annotation.Title];
    if (title === undefined) {
      untitled.push(layer);
      continue;
    }
    const path = outputPathFor(title, root, allowPathTraversal);
    const key = path;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new UnsafePathError(title, `two layers are titled ${JSON.stringify(earlier)} and would be written to the same file`, {
        hint: 'the artifact is ambiguous; pull it into an OCI layout with --layout instead',
      });
    }
    seen.set(key, title);
    files.push({ title, path, descriptor: layer, unpack: layer.annotations?.[Annotation.OrasUnpack] === 'true' });
  }
  // A file that is also another file's parent directory cannot be written either.
  for (const f of files) {
    for (const g of files) {
      if (f !== g && g.path.startsWith(f.path + sep)) {
        throw new UnsafePathError(g.title, `it would be written inside ${JSON.stringify(f.title)}, which is a file`);
      }
    }
  }
  return { files, untitled };
}

/** The absolute path for one title, or UnsafePathError saying why it is refused. */
export function outputPathFor(title: string, root: string, allowPathTraversal = false): string {
  if (title === '' || title.trim() === '') throw new UnsafePathError(title, 'the title is empty');
  if (title.includes('\0')) throw new UnsafePathError(title, 'the title contains a NUL byte');
  const hint = 'pass --allow-path-traversal to write it anyway (only for artifacts you trust)';
  if (isAbsolute(title)) {
    if (!allowPathTraversal) throw new UnsafePathError(title, 'the title is an absolute path', { hint });
    return normalize(title);
  }
  const path = resolve(root, title);
  const rel = relative(root, path);
  if (rel === '' || rel === '.') throw new UnsafePathError(title, 'the title names the output directory itself');
  if (rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) {
    if (!allowPathTraversal) throw new UnsafePathError(title, 'the title climbs out of the output directory', { hint });
  }
  return join(path);
}
