/**
 * fuse-native 2.2.6, loaded lazily (only `mount` needs libfuse.so.2), and the few places where
 * it has to be corrected. It is pinned exactly, because this reaches into its internals:
 * - getxattr/listxattr: fuse-native does not tell the handler the caller's buffer size, so
 *   the size-0 probe and ERANGE cannot be answered; we replace `_op_getxattr`/`_op_listxattr`.
 * - options: only a fixed list of camelCase options becomes `-o`; we append raw ones (`ro`,
 *   `attr_timeout=0`, which its truthiness checks would drop, ...) in `_fuseOptions`.
 * - unmount: it always runs `fusermount -uz` (lazy, even when nothing is open) and cannot tell
 *   "busy" from "done"; `_close` runs our unmount and then releases the native side.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FuseOperations } from './operations.js';

type Signal = (code: number, ...values: unknown[]) => void;
type Callback = (err: Error | null) => void;

interface NativeBinding {
  fuse_native_unmount(mountpoint: string, thread: Buffer | null): void;
}

interface FuseNativeInstance {
  readonly mnt: string;
  _thread: Buffer | null;
  _fuseOptions(): string;
  _close(cb: Callback): void;
  mount(cb: Callback): void;
  unmount(cb: Callback): void;
}

type FuseNativeClass = new (mountpoint: string, ops: object, options: object) => FuseNativeInstance;

interface LoadedFuseNative {
  Fuse: FuseNativeClass;
  binding: NativeBinding;
}

let loaded: LoadedFuseNative | undefined;

/** Loads fuse-native and its binding; throws the loader's error (e.g. libfuse.so.2 missing). */
export function loadFuseNative(): LoadedFuseNative {
  if (!loaded) {
    const requireHere = createRequire(import.meta.url);
    const Fuse = requireHere('fuse-native') as FuseNativeClass;
    // The same binding object fuse-native holds (Node caches native modules by path).
    const dir = dirname(requireHere.resolve('fuse-native/package.json'));
    const nodeGypBuild = createRequire(join(dir, 'index.js'))('node-gyp-build') as (dir: string) => NativeBinding;
    loaded = { Fuse, binding: nodeGypBuild(dir) };
  }
  return loaded;
}

export interface SessionConfig {
  /** fuse-native's own (camelCase) options. */
  nativeOptions: Record<string, unknown>;
  /** Extra `-o` options, appended verbatim. */
  rawOptions: string[];
  /** Called to unmount; the native side is released after it resolves. */
  unmount(mountpoint: string): Promise<void>;
}

export interface FuseSession {
  mount(): Promise<void>;
  unmount(): Promise<void>;
}

export function createFuseSession(mountpoint: string, ops: FuseOperations, config: SessionConfig): FuseSession {
  const { Fuse, binding } = loadFuseNative();

  class OcifsFuse extends Fuse {
    override _fuseOptions(): string {
      const base = super._fuseOptions();
      if (config.rawOptions.length === 0) return base;
      const raw = config.rawOptions.join(',');
      return base ? `${base},${raw}` : `-o${raw}`;
    }

    _op_getxattr(signal: Signal, path: string, name: string, valueBuf: Buffer): void {
      ops.getxattr(path, name, valueBuf.length, (code, value) => {
        if (code > 0 && value) value.copy(valueBuf);
        signal(code, valueBuf.buffer);
      });
    }

    _op_listxattr(signal: Signal, path: string, listBuf: Buffer): void {
      ops.listxattr(path, listBuf.length, (code, list) => {
        if (code > 0 && list) list.copy(listBuf);
        signal(code, listBuf.buffer);
      });
    }

    override _close(cb: Callback): void {
      config.unmount(this.mnt).then(
        () => {
          try {
            // Lets go of the event loop handle that kept the process alive while mounted.
            binding.fuse_native_unmount(this.mnt, this._thread);
          } catch (err) {
            return cb(err as Error);
          }
          cb(null);
        },
        (err: Error) => cb(err),
      );
    }
  }

  const fuse = new OcifsFuse(mountpoint, ops, config.nativeOptions);
  return {
    mount: () => new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve()))),
    unmount: () => new Promise<void>((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve()))),
  };
}
