/**
 * What is mounted where, from /proc/self/mountinfo (one line per mount, see proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent dev root mountpoint options [optional fields...] - fstype source super-options
 * Parsing is pure; reading the file is the one I/O function here.
 */
import { readFile } from 'node:fs/promises';

/** fuse-native mounts with `subtype=ocifs`, so the kernel lists our mounts as this type. */
export const OCIFS_FS_TYPE = 'fuse.ocifs';

export interface MountEntry {
  id: number;
  parentId: number;
  mountpoint: string;
  fsType: string;
  source: string;
  /** Per-mount options (`ro`, `nosuid`, ...). */
  options: string[];
}

/** The kernel writes space, tab, newline, backslash (and `#`) as `\ooo` octal escapes. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 3) continue; // not a line we understand
    const [id, parentId, , , mountpoint, options] = fields;
    entries.push({
      id: Number(id),
      parentId: Number(parentId),
      mountpoint: unescapeMountField(mountpoint ?? ''),
      fsType: unescapeMountField(fields[separator + 1] ?? ''),
      source: unescapeMountField(fields[separator + 2] ?? ''),
      options: (options ?? '').split(','),
    });
  }
  return entries;
}

/** The mount visible at `mountpoint` (the last one mounted there hides the others), if any. */
export function findMount(entries: MountEntry[], mountpoint: string): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const entry of entries) if (entry.mountpoint === mountpoint) found = entry;
  return found;
}

export async function readMountTable(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountInfo(await readFile(file, 'utf8'));
}
