import { describe, expect, it } from 'vitest';
import { timeReads } from '../../src/metrics/index.js';

class FakeFilesystem {
  private opened = 0;
  reads = 0;
  async open(): Promise<number> {
    return ++this.opened;
  }
  async read(handle: number, buffer: Buffer, length: number, position: number): Promise<number> {
    this.reads++;
    if (position < 0) throw new Error('EINVAL');
    buffer.fill(handle, 0, length);
    return length;
  }
  get openedCount(): number {
    return this.opened;
  }
}

describe('timeReads', () => {
  it('reports the duration of each read in seconds, failed reads included', async () => {
    let clock = 1000;
    const observed: number[] = [];
    const fs = new FakeFilesystem();
    const timed = timeReads(fs, (s) => observed.push(s), () => clock);
    const buffer = Buffer.alloc(4);

    const pending = timed.read(7, buffer, 4, 0);
    clock += 250;
    expect(await pending).toBe(4);
    expect([...buffer]).toEqual([7, 7, 7, 7]);

    const failing = timed.read(1, buffer, 4, -1);
    clock += 1500;
    await expect(failing).rejects.toThrow('EINVAL');
    expect(observed).toEqual([0.25, 1.5]);
  });

  it('leaves every other member as the object’s own, bound to it (private state keeps working)', async () => {
    const fs = new FakeFilesystem();
    const timed = timeReads(fs, () => {});
    const open = timed.open;
    expect(await open()).toBe(1);
    expect(await timed.open()).toBe(2);
    expect(timed.openedCount).toBe(2);
    await timed.read(1, Buffer.alloc(1), 1, 0);
    expect(fs.reads).toBe(1);
    expect(timed.reads).toBe(1);
  });
});
