/**
 * Times the `read` calls of a filesystem object (src/fs's FilesystemOps or anything with an
 * async `read`) without touching it: a Proxy whose `read` reports its duration, failed reads
 * included, and whose other methods are the object's own, bound to it.
 */
import { performance } from 'node:perf_hooks';

type Reads = { read(...args: never[]): Promise<unknown> };

export function timeReads<T extends Reads>(target: T, observe: (seconds: number) => void, now: () => number = () => performance.now()): T {
  const read = (...args: unknown[]) => {
    const start = now();
    const done = () => observe((now() - start) / 1000);
    return (target.read as (...a: unknown[]) => Promise<unknown>).apply(target, args).finally(done);
  };
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === 'read') return read;
      const value: unknown = Reflect.get(obj, prop, obj);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
    },
  });
}
