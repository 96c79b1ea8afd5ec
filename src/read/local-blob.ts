/**
 * Reading a blob that is already a local file (a blob of an OCI image layout): positional reads
 * of that file in place, no cache, no copy. The layout's own ingest verified it; here only the
 * size is checked against the descriptor.
 */
import { close, fstat, open } from 'node:fs';
import { DigestMismatchError, localIOError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { readAt, readAtSync } from '../cache/file-io.js';
import type { ReadCounters } from './counters.js';
import { OperationGate } from './gate.js';
import type { BlobHandle } from './reader.js';

export async function openLocalBlob(path: string, descriptor: Descriptor, counters: ReadCounters): Promise<BlobHandle> {
  const fd = await new Promise<number>((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd)))).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFoundError(`blob ${descriptor.digest} is not in the layout (${path})`, { cause: err });
      throw localIOError(err, `cannot open ${path}`);
    },
  );
  try {
    const size = await new Promise<number>((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
    if (size !== descriptor.size) {
      throw new DigestMismatchError(descriptor.digest, `a file of ${size} bytes instead of ${descriptor.size}`, 'layout blob');
    }
  } catch (err) {
    close(fd, () => undefined);
    throw localIOError(err, `cannot stat ${path}`);
  }
  return new LocalBlobHandle(fd, path, descriptor.size, counters);
}

class LocalBlobHandle implements BlobHandle {
  private readonly gate = new OperationGate();

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly size: number,
    private readonly counters: ReadCounters,
  ) {}

  read(buffer: Buffer, length: number, position: number): Promise<number> {
    return this.gate.run(async () => {
      const n = Math.min(length, buffer.length, this.size - position);
      if (n <= 0) return 0;
      let got: number;
      try {
        got = await readAt(this.fd, buffer, 0, n, position);
      } catch (err) {
        throw localIOError(err, `cannot read ${this.path}`);
      }
      this.counters.bytesServed += got;
      return got;
    });
  }

  /** A layout blob is always a local, verified file. */
  readSync(buffer: Buffer, length: number, position: number): number | undefined {
    if (this.gate.closed || position < 0) return undefined;
    const n = Math.min(length, buffer.length, this.size - position);
    if (n <= 0) return 0;
    let got: number;
    try {
      got = readAtSync(this.fd, buffer, 0, n, position);
    } catch (err) {
      throw localIOError(err, `cannot read ${this.path}`);
    }
    this.counters.bytesServed += got;
    return got;
  }

  async close(): Promise<void> {
    if (!(await this.gate.close())) return;
    await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }
}
