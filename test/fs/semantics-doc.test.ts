/**
 * docs/SEMANTICS.md's naming examples are the behaviour: this reads the table and checks each
 * row against the tree the code builds, so the document cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { buildArtifactTree, type DirectoryEntry, type TreeEntry } from '../../src/fs/artifact-tree.js';
import { Annotation, EMPTY_DESCRIPTOR, MediaType, type Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';

interface Row {
  number: number;
  title: string | undefined;
  mediaType: string;
  shownAs: string;
}

function exampleRows(): Row[] {
  const doc = readFileSync(new URL('../../docs/SEMANTICS.md', import.meta.url), 'utf8');
  const section = /<!-- naming-examples:start -->([\s\S]*?)<!-- naming-examples:end -->/.exec(doc)?.[1];
  if (!section) throw new Error('docs/SEMANTICS.md has no naming-examples table');
  return section
    .split('\n')
    .filter((line) => /^\|\s*\d+\s*\|/.test(line))
    .map((line) => {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      const [number, title, mediaType, shownAs] = cells as [string, string, string, string];
      const code = (cell: string) => /^`(.*)`$/.exec(cell)?.[1] ?? cell;
      return {
        number: Number(number),
        title: title === 'none' ? undefined : (JSON.parse(code(title)) as string),
        mediaType: code(mediaType),
        shownAs: code(shownAs),
      };
    });
}

function pathsOf(dir: DirectoryEntry, prefix = ''): Map<string, Descriptor> {
  const out = new Map<string, Descriptor>();
  for (const [name, entry] of dir.children) {
    const e: TreeEntry = entry;
    if (e.kind === 'dir') for (const [p, d] of pathsOf(e, `${prefix}${name}/`)) out.set(p, d);
    else out.set(prefix + name, e.descriptor);
  }
  return out;
}

describe('docs/SEMANTICS.md naming examples', () => {
  const rows = exampleRows();
  // Each row is its own blob, so each has its own digest.
  const layers: Descriptor[] = rows.map((row) => ({
    mediaType: row.mediaType,
    digest: digestOf(Buffer.from(`layer ${row.number}`)),
    size: 10,
    ...(row.title !== undefined ? { annotations: { [Annotation.Title]: row.title } } : {}),
  }));
  const tree = buildArtifactTree({
    kind: 'manifest',
    mediaType: MediaType.ImageManifest,
    manifest: { schemaVersion: 2, config: EMPTY_DESCRIPTOR, layers },
  });
  const shown = pathsOf(tree.root);

  test('the table has its rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(shown.size).toBe(rows.length);
  });

  test.each(rows.map((row, i) => [row.number, row.title, row.shownAs, i] as const))(
    'row %i: %j is shown as %s',
    (_n, _title, shownAs, i) => {
      const layer = layers[i]!;
      const expected = shownAs.replace('<hex12>', layer.digest.slice('sha256:'.length, 'sha256:'.length + 12));
      expect(shown.get(expected)?.digest).toBe(layer.digest);
    },
  );
});
