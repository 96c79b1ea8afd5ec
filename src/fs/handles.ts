/**
 * Open file handles: number -> what it reads. A handle is bound at open() to one blob (or one
 * unpacked local file) and keeps reading it whatever happens to the tag it was reached through.
 */
import { OcifsError } from '../errors.js';
import type { BlobHandle } from './sources.js';

export interface OpenFile {
  /** The mount path it was opened as, for logs. */
  path: string;
  /** The digest of the blob it reads (the layer's, for files inside a directory layer). */
  digest: string;
  reader: BlobHandle;
}

/** Handle numbers start at 1 and are not reused while open; they wrap below 2^31. */
export class HandleTable {
  private readonly open = new Map<number, OpenFile>();
  private next = 1;

  add(file: OpenFile): number {
    while (this.open.has(this.next)) this.advance();
    const handle = this.next;
    this.advance();
    this.open.set(handle, file);
    return handle;
  }

  get(handle: number): OpenFile {
    const file = this.open.get(handle);
    if (!file) throw new OcifsError('BAD_HANDLE', `file handle ${handle} is not open`);
    return file;
  }

  remove(handle: number): OpenFile {
    const file = this.get(handle);
    this.open.delete(handle);
    return file;
  }

  /** Empties the table, returning what was open (for close-all on unmount). */
  drain(): OpenFile[] {
    const all = [...this.open.values()];
    this.open.clear();
    return all;
  }

  get size(): number {
    return this.open.size;
  }

  private advance(): void {
    this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
  }
}
