/**
 * Bounded dirty data for a file being written and then fsynced: every `every` bytes written, a
 * flush (fdatasync) of the file starts in the background, so the disk writes while the next
 * bytes are read and hashed, and the final fsync finds little left to do. Measured on ext4 with
 * 1 GiB: writing everything and then fsyncing left the main thread idle for ~0.65 s at the end
 * (and page-cache writes of that much dirty data were often slower too); flushing every 32-128
 * MiB brought the final fsync to a few ms. On this shared VM the copy's run-to-run spread
 * (1-4 s per GiB) was larger than the differences between 32, 64 and 128 MiB. Node has no
 * sync_file_range, so fdatasync is the tool.
 *
 * At most one flush runs at a time; when the next one is due while one still runs, `wrote()`
 * waits for it, which holds back the writer: dirty data stays below about 2 x `every`.
 * The flush itself is injected, so this logic is tested without a disk.
 */

/** Bytes written between two background flushes. */
export const WRITEBACK_EVERY = 64 * 1024 * 1024;

export class Writeback {
  /** Bytes written since the last flush started. */
  private unflushed = 0;
  private flushing: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly every = WRITEBACK_EVERY,
  ) {}

  /** Counts `n` bytes as written; starts a flush when one is due (waiting for a running one first). */
  async wrote(n: number): Promise<void> {
    this.throwIfFailed();
    this.unflushed += n;
    if (this.unflushed < this.every) return;
    if (this.flushing) {
      await this.flushing;
      this.throwIfFailed();
      if (this.unflushed < this.every) return; // another writer started the next flush meanwhile
    }
    this.unflushed = 0;
    const running = this.flush().then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    this.flushing = running;
    void running.then(() => {
      if (this.flushing === running) this.flushing = undefined;
    });
  }

  /** Waits for the flush in progress; throws if any flush failed. The caller still fsyncs at the end. */
  async settle(): Promise<void> {
    await this.flushing;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
