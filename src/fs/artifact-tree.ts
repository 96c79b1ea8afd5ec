/**
 * The directory tree of one manifest or index, built from its (untrusted) JSON. Pure.
 *
 * Placement rule, applied in manifest order (the first entry that claims a name keeps it):
 * 1. A layer goes to the path its title (else `org.cnai.model.filepath`) names, creating the
 *    directories along it, when that title is usable (names.ts) and nothing earlier occupies the
 *    path: not the same name, not a file where a directory is needed, not a directory where the
 *    file would go.
 * 2. Otherwise it becomes a file at the artifact root named `sha256-<12 hex><ext>`, else the full
 *    hex, else the full hex plus `-<position>`; if a hostile earlier title took all three, the
 *    layer is left out (reported in `hidden`).
 * An ORAS directory layer at its title is an opaque directory (its content is the unpacked
 * tarball); one that loses its title is shown as its raw tarball file, like any loser.
 * An index child is a directory named by platform, else title/ref.name, else the digest names.
 *
 * Bounded work for hostile input: each layer costs O(its title's components), and at most
 * MAX_DIRECTORIES implicit directories are created per artifact (beyond that, titled layers fall
 * back to root digest names), so a 4 MiB manifest cannot explode memory.
 */
import type { Descriptor, ParsedManifest } from '../oci/types.js';
import {
  digestNames,
  isOrasDirectoryLayer,
  requestedChildName,
  requestedLayerPath,
  splitTitle,
} from './names.js';

export const MAX_DIRECTORIES = 100_000;

/** A layer shown as a file. */
export interface FileEntry {
  kind: 'file';
  descriptor: Descriptor;
}

/** An ORAS directory layer: a directory whose content is the unpacked tarball. */
export interface PackedDirectoryEntry {
  kind: 'packed-dir';
  descriptor: Descriptor;
  /** The title's components: ORAS stores the directory's entries under this prefix. */
  prefix: string[];
}

/** A child of an image index: a directory showing that child manifest's tree. */
export interface ChildManifestEntry {
  kind: 'child-manifest';
  descriptor: Descriptor;
}

/** A directory implied by titles with `/`. */
export interface DirectoryEntry {
  kind: 'dir';
  children: Map<string, TreeEntry>;
}

export type TreeEntry = FileEntry | PackedDirectoryEntry | ChildManifestEntry | DirectoryEntry;

export interface Renamed {
  descriptor: Descriptor;
  /** What the manifest asked for (undefined: no title at all). */
  requested: string | undefined;
  /** The root-level name it got instead. */
  name: string;
  why: 'no-title' | 'unusable-title' | 'taken' | 'too-many-directories';
}

export interface ArtifactTree {
  root: DirectoryEntry;
  /** Entries that did not get the name they asked for (for logs and `ocifs ls`). */
  renamed: Renamed[];
  /** Entries that got no name at all (every fallback name taken by earlier hostile titles). */
  hidden: Descriptor[];
}

export function emptyDirectory(): DirectoryEntry {
  return { kind: 'dir', children: new Map() };
}

export function buildArtifactTree(parsed: ParsedManifest): ArtifactTree {
  return parsed.kind === 'index' ? buildIndexTree(parsed.index.manifests) : buildLayerTree(parsed.manifest.layers);
}

function buildLayerTree(layers: readonly Descriptor[]): ArtifactTree {
  const tree: ArtifactTree = { root: emptyDirectory(), renamed: [], hidden: [] };
  const budget = { directories: MAX_DIRECTORIES };
  layers.forEach((layer, position) => {
    const requested = requestedLayerPath(layer);
    let why: Renamed['why'] = 'no-title';
    if (requested !== undefined) {
      const split = splitTitle(requested);
      if ('problem' in split) {
        why = 'unusable-title';
      } else {
        const entry: TreeEntry = isOrasDirectoryLayer(layer)
          ? { kind: 'packed-dir', descriptor: layer, prefix: split.components }
          : { kind: 'file', descriptor: layer };
        const outcome = placeAtPath(tree.root, split.components, entry, budget);
        if (outcome === 'placed') return;
        why = outcome;
      }
    }
    placeAtRoot(tree, { kind: 'file', descriptor: layer }, digestNames(layer, position, true), requested, why);
  });
  return tree;
}

function buildIndexTree(children: readonly Descriptor[]): ArtifactTree {
  const tree: ArtifactTree = { root: emptyDirectory(), renamed: [], hidden: [] };
  children.forEach((child, position) => {
    const requested = requestedChildName(child);
    const entry: ChildManifestEntry = { kind: 'child-manifest', descriptor: child };
    if (requested !== undefined && !tree.root.children.has(requested)) {
      tree.root.children.set(requested, entry);
      return;
    }
    const why = requested === undefined ? 'no-title' : 'taken';
    placeAtRoot(tree, entry, digestNames(child, position, false), requested, why);
  });
  return tree;
}

function placeAtRoot(
  tree: ArtifactTree,
  entry: TreeEntry,
  candidates: string[],
  requested: string | undefined,
  why: Renamed['why'],
): void {
  for (const name of candidates) {
    if (tree.root.children.has(name)) continue;
    tree.root.children.set(name, entry);
    tree.renamed.push({ descriptor: (entry as FileEntry).descriptor, requested, name, why });
    return;
  }
  tree.hidden.push((entry as FileEntry).descriptor);
}

/**
 * Puts `entry` at `components` under `root`, creating directories, or says why it cannot.
 * Nothing is created unless the whole placement succeeds.
 */
function placeAtPath(
  root: DirectoryEntry,
  components: readonly string[],
  entry: TreeEntry,
  budget: { directories: number },
): 'placed' | 'taken' | 'too-many-directories' {
  let dir = root;
  let depth = 0;
  // Walk the directories that already exist.
  for (; depth < components.length - 1; depth++) {
    const existing = dir.children.get(components[depth]!);
    if (existing === undefined) break;
    if (existing.kind !== 'dir') return 'taken';
    dir = existing;
  }
  const missing = components.length - 1 - depth;
  if (missing === 0 && dir.children.has(components[depth]!)) return 'taken';
  if (missing > budget.directories) return 'too-many-directories';
  budget.directories -= missing;
  for (; depth < components.length - 1; depth++) {
    const created = emptyDirectory();
    dir.children.set(components[depth]!, created);
    dir = created;
  }
  dir.children.set(components[depth]!, entry);
  return 'placed';
}
