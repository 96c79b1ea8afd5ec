/**
 * Inputs -> the list of files to pack, with titles and per-file annotations, before anything is
 * read or written. Reads directories and file types only.
 *
 * - A file argument is one layer (symlinks given as arguments are followed, as ORAS does).
 * - A directory argument contributes every regular file below it, sorted bytewise by title, so
 *   the same tree always gives the same manifest. Empty subdirectories contribute nothing (a
 *   layer is a file); a directory argument without any file is an error.
 * - Symlinks inside a directory argument: followed when they point to a regular file inside the
 *   same argument (the layer holds the target's bytes under the link's title); refused when they
 *   point outside it, to a directory (no loops, no surprises), or nowhere.
 * - FIFOs, sockets and devices are refused; so are names that are not valid UTF-8 (a title is
 *   a JSON string) and titles that repeat.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { InvalidArgumentError, localIOError } from '../errors.js';
import { Annotation } from '../oci/types.js';
import { compareUtf8 } from './go-json.js';
import { joinTitle, titleBase, titleProblem, type PackInput } from './inputs.js';

export interface PlannedFile {
  /** Where to read the bytes. */
  path: string;
  title: string;
  /** Given for this file (or its directory argument); undefined: detect. */
  mediaType: string | undefined;
  /** Layer annotations, the title included. */
  annotations: Record<string, string>;
}

interface Found {
  path: string;
  /** Path inside the directory argument, with '/'. */
  inside: string;
}

export async function planFiles(inputs: PackInput[], perFile: Map<string, Record<string, string>> = new Map()): Promise<PlannedFile[]> {
  const used = new Set<string>();
  const planned: PlannedFile[] = [];
  for (const input of inputs) {
    const absolute = resolve(input.path);
    const kind = await kindOf(input.path);
    const base = titleBase(input.path, absolute);
    const argumentAnnotations = perFile.get(input.path);
    if (argumentAnnotations) used.add(input.path);

    let found: { path: string; title: string }[];
    if (kind === 'file') {
      if (base === '') throw new InvalidArgumentError(`${input.path} cannot be titled`);
      found = [{ path: input.path, title: base }];
    } else {
      const root = await realpath(absolute).catch((err: unknown) => {
        throw localIOError(err, `cannot read ${input.path}`);
      });
      const files: Found[] = [];
      await walk(input.path, root, '', input.path, files);
      if (files.length === 0) {
        throw new InvalidArgumentError(`${input.path} has no files to pack`, { hint: 'a layer is a file: empty directories cannot be packed' });
      }
      files.sort((a, b) => compareUtf8(a.inside, b.inside));
      found = files.map((f) => ({ path: f.path, title: joinTitle(base, f.inside) }));
    }

    for (const f of found) {
      const own = perFile.get(f.title);
      if (own) used.add(f.title);
      planned.push({
        path: f.path,
        title: f.title,
        mediaType: input.mediaType,
        annotations: { [Annotation.Title]: f.title, ...argumentAnnotations, ...own },
      });
    }
  }

  const unknown = [...perFile.keys()].filter((k) => !used.has(k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`the annotation file names ${unknown.map((k) => JSON.stringify(k)).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not packed`, {
      hint: 'per-file keys are file arguments as given or layer titles',
    });
  }

  const byTitle = new Map<string, PlannedFile>();
  for (const file of planned) {
    const title = file.annotations[Annotation.Title] ?? '';
    const problem = titleProblem(title);
    if (problem) throw new InvalidArgumentError(`${file.path} cannot be packed with the title ${JSON.stringify(title)}: ${problem}`);
    const first = byTitle.get(title);
    if (first) {
      throw new InvalidArgumentError(`${first.path} and ${file.path} would both be titled ${JSON.stringify(title)}`, {
        hint: 'pack each file once; files with the same name in different arguments collide',
      });
    }
    byTitle.set(title, file);
  }
  return planned;
}

async function kindOf(path: string): Promise<'file' | 'directory'> {
  try {
    const s = await stat(path);
    if (s.isFile()) return 'file';
    if (s.isDirectory()) return 'directory';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InvalidArgumentError(`${path}: no such file or directory`);
    if (code === 'ELOOP') throw new InvalidArgumentError(`${path}: too many levels of symbolic links`);
    throw localIOError(err, `cannot read ${path}`);
  }
  throw new InvalidArgumentError(`${path} is neither a regular file nor a directory`);
}

async function walk(dir: string, root: string, inside: string, argument: string, out: Found[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
    // Node decodes names as UTF-8, turning invalid bytes into U+FFFD: such a name could be
    // neither opened again nor written as a title. Check the raw bytes only when it may matter.
    if (entries.some((e) => e.name.includes('\uFFFD'))) {
      const raw = await readdir(dir, { encoding: 'buffer' });
      const invalid = raw.find((name) => !Buffer.from(name.toString('utf8'), 'utf8').equals(name));
      if (invalid) {
        throw new InvalidArgumentError(
          `a file name in ${dir} is not valid UTF-8 (${JSON.stringify(invalid.toString('utf8'))}), so it cannot be a title`,
          { hint: 'rename it' },
        );
      }
    }
  } catch (err) {
    throw localIOError(err, `cannot read directory ${dir}`);
  }
  for (const entry of entries) {
    const name = entry.name;
    const path = join(dir, name);
    const below = inside === '' ? name : `${inside}/${name}`;
    if (entry.isDirectory()) await walk(path, root, below, argument, out);
    else if (entry.isFile()) out.push({ path, inside: below });
    else if (entry.isSymbolicLink()) out.push({ path: await followLink(path, root, argument), inside: below });
    else throw new InvalidArgumentError(`${path} is not a regular file (a FIFO, socket or device) and cannot be packed`);
  }
}

/** A symlink inside a directory argument: the path to read, or an error saying why not. */
async function followLink(path: string, root: string, argument: string): Promise<string> {
  let target: string;
  try {
    target = await realpath(path);
  } catch {
    throw new InvalidArgumentError(`${path} is a symlink that points nowhere`);
  }
  if (target !== root && !target.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new InvalidArgumentError(`${path} is a symlink to ${target}, outside ${argument}: refusing to pack it`, {
      hint: 'copy the file into the directory, or give it as an argument of its own',
    });
  }
  const s = await stat(target).catch((err: unknown) => {
    throw localIOError(err, `cannot read ${path}`);
  });
  if (s.isDirectory()) throw new InvalidArgumentError(`${path} is a symlink to a directory; such links are not followed`);
  if (!s.isFile()) throw new InvalidArgumentError(`${path} points to something that is not a regular file`);
  return path;
}
