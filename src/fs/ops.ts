/**
 * The contract between the filesystem behaviour (src/fs) and the FUSE adapter (src/fuse).
 * Paths are absolute within the mount (`/`, `/v1/imagery.tif`). Every method either resolves or
 * throws an OcifsError; the adapter alone turns those into errno values.
 */

export interface NodeAttributes {
  /** Full st_mode, type bits included (S_IFDIR | 0o555, S_IFREG | 0o444). */
  mode: number;
  size: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: Date;
  atime: Date;
  ctime: Date;
  /** Blocks of 512 bytes, for `du`. */
  blocks: number;
  /**
   * True when this path always names the same content: it was reached through a digest
   * (`@sha256:...`, or a mount of `repo@sha256:...`), so the kernel may cache it for ever. A file
   * reached through a tag is not immutable: the tag may move to another blob.
   */
  immutable: boolean;
}

export interface FilesystemStats {
  blockSize: number;
  blocks: number;
  blocksFree: number;
  files: number;
  maxNameLength: number;
}

export interface FilesystemOps {
  getattr(path: string): Promise<NodeAttributes>;
  readdir(path: string): Promise<string[]>;
  /** Returns a handle bound to the blob the path names now (a moving tag never mixes versions). */
  open(path: string, flags: number): Promise<number>;
  /** Reads into `buffer` at 0; returns bytes read (0 at or past the end). */
  read(handle: number, buffer: Buffer, length: number, position: number): Promise<number>;
  release(handle: number): Promise<void>;
  getxattr(path: string, name: string): Promise<Buffer>;
  listxattr(path: string): Promise<string[]>;
  statfs(path: string): Promise<FilesystemStats>;
  /**
   * Optional answers from memory, with no I/O and no await, for the adapter's hot path (`ls -l`
   * sends a lookup and two or three xattr probes per file). `undefined` means "not known without
   * work": the adapter then calls the async method. They must never disagree with it.
   */
  getattrCached?(path: string): NodeAttributes | undefined;
  readdirCached?(path: string): string[] | undefined;
  /** The value, `null` for "no such attribute", or `undefined`. */
  getxattrCached?(path: string, name: string): Buffer | null | undefined;
  /**
   * Optional: read() done synchronously when the bytes are in a verified local file, else
   * undefined. It writes into `buffer` before returning, so it can serve the kernel's buffer
   * directly: nothing can write into it after the answer. Throws as read() does.
   */
  readCached?(handle: number, buffer: Buffer, length: number, position: number): number | undefined;
  /** Called once after unmount: close caches, abort fetches. */
  close(): Promise<void>;
}
