/** Is the filesystem mounted at a path alive? Asked without trusting it to answer. */
import { statfs } from 'node:fs/promises';

/** Errors of a FUSE mount whose daemon is gone. */
export const DEAD_CONNECTION = new Set(['ENOTCONN', 'ECONNABORTED']);

export type MountHealth = 'alive' | 'dead' | 'hung';

/**
 * Stats the mount root with a deadline: a stopped daemon would block the stat for ever (it
 * then stays blocked in the thread pool, which is the lesser evil).
 */
export async function probeMount(path: string, timeoutMs: number): Promise<MountHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs);
  });
  // statfs, not stat: the kernel always asks the daemon (a stat may be answered from its
  // attribute cache for a second after the daemon died, making a dead mount look alive).
  const probe = statfs(path).then(
    () => 'alive' as const,
    (err: NodeJS.ErrnoException) => (err.code && DEAD_CONNECTION.has(err.code) ? ('dead' as const) : ('alive' as const)),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
