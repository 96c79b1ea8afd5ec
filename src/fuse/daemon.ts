/**
 * `--daemon`: start the foreground mount command again as a detached process (own session,
 * stdio to a log file or /dev/null), and return once its mount answers, so that scripts can
 * use the mountpoint as soon as `ocifs mount --daemon` returns. If the child dies first, its
 * last log line is the error.
 */
import { spawn } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, OcifsError } from '../errors.js';
import { findMount, OCIFS_FS_TYPE, readMountTable } from './mountinfo.js';
import { canonicalMountpoint } from './paths.js';
import { probeMount } from './probe.js';

export interface DaemonOptions {
  /** Appended with the daemon's stdout and stderr. Without it they go to /dev/null. */
  logFile?: string;
  /** How long the mount may take to appear (default 30 s); then the child is stopped. */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  pollIntervalMs?: number;
}

export interface DaemonInfo {
  pid: number;
  logFile: string | undefined;
}

type ChildEnd = { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null } | { kind: 'error'; error: Error };

/**
 * `argv` is the command that mounts in the foreground: the executable first, e.g.
 * `[process.execPath, ...process.execArgv, script, 'mount', source, mountpoint]` without
 * `--daemon`.
 */
export async function daemonize(argv: string[], mountpoint: string, options: DaemonOptions = {}): Promise<DaemonInfo> {
  const [command, ...args] = argv;
  if (!command) throw new InvalidArgumentError('daemonize needs a command to run');
  const path = await canonicalMountpoint(mountpoint);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  // The mount we wait for is one that answers. A live one there already would fool us.
  const existing = findMount(await readMountTable(), path);
  if (existing && (await probeMount(path, 2000)) !== 'dead') {
    throw new OcifsError('MOUNTPOINT', `mountpoint ${path} is busy: ${existing.fsType} ${existing.source} is mounted there`, {
      hint: `unmount it first (ocifs umount ${path}) or choose another directory`,
    });
  }

  const logFile = options.logFile;
  const log = logFile ? await open(logFile, 'a') : undefined;
  const logStart = log ? (await log.stat()).size : 0;
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log?.fd ?? 'ignore', log?.fd ?? 'ignore'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  await log?.close(); // the child has its own descriptor
  const ended = new Promise<ChildEnd>((resolve) => {
    child.once('exit', (code, signal) => resolve({ kind: 'exit', code, signal }));
    child.once('error', (error) => resolve({ kind: 'error', error }));
  });

  const failure = async (what: string): Promise<OcifsError> => {
    const last = logFile ? await lastLogLine(logFile, logStart) : undefined;
    const why = last ?? (logFile ? `see ${logFile}` : 'run it without --daemon, or with a log file, to see why');
    return new OcifsError('MOUNTPOINT', `${what} before ${path} was mounted: ${why}`);
  };

  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const end = await Promise.race([ended, sleep(options.pollIntervalMs ?? 100).then(() => undefined)]);
      if (end?.kind === 'error') throw new OcifsError('MOUNTPOINT', `could not start the daemon: ${end.error.message}`, { cause: end.error });
      if (end?.kind === 'exit') {
        throw await failure(end.signal ? `the daemon was killed by ${end.signal}` : `the daemon exited with code ${end.code}`);
      }
      const entry = findMount(await readMountTable(), path);
      if (entry?.fsType === OCIFS_FS_TYPE && (await probeMount(path, 1000)) === 'alive') break;
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw await failure(`the daemon did not mount within ${readyTimeoutMs} ms`);
      }
    }
  } finally {
    child.unref();
  }
  if (child.pid === undefined) throw new OcifsError('MOUNTPOINT', 'could not start the daemon');
  return { pid: child.pid, logFile };
}

async function lastLogLine(logFile: string, from: number): Promise<string | undefined> {
  try {
    if ((await stat(logFile)).size <= from) return undefined;
    const text = (await readFile(logFile)).subarray(from).toString('utf8');
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .pop();
  } catch {
    return undefined;
  }
}
