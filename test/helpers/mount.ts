/**
 * Runs `ocifs mount` as a real daemon process for tests, and always takes it down again:
 * SIGTERM first (the clean path), then `fusermount -uz` in case the daemon could not.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { ocifsBin, runCommand, type CliResult } from './cli.js';

export interface RunningMount {
  mountpoint: string;
  child: ChildProcess;
  logs(): string;
  /** `ocifs status --json` of this mount. */
  status(): Promise<Status>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface Status {
  reader?: { requests: number; bytesFetched: number; cacheHits: number; cacheMisses: number; bytesServed: number };
  registry?: { requests: number; bytesDownloaded: number };
  [key: string]: unknown;
}

const live = new Set<RunningMount>();

export function isMounted(mountpoint: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === mountpoint);
}

export async function startMount(env: Record<string, string>, source: string, mountpoint: string, args: string[] = []): Promise<RunningMount> {
  await mkdir(mountpoint, { recursive: true });
  const child = spawn(ocifsBin, ['mount', source, mountpoint, '--log-level', 'debug', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  // The CLI says `mounted ... on ...` once the new mount is up (a stale one may be listed before).
  while (!isMounted(mountpoint) || !/^mounted /m.test(output)) {
    if (child.exitCode !== null) throw new Error(`ocifs mount exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ocifs mount did not mount ${mountpoint} within 20 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const mount: RunningMount = {
    mountpoint,
    child,
    logs: () => output,
    status: async () => {
      const r: CliResult = await runCommand(ocifsBin, ['status', mountpoint, '--json'], { env });
      if (r.code !== 0) throw new Error(`ocifs status failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Status;
    },
    stop: async () => {
      live.delete(mount);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      forceUnmount(mountpoint);
      return code;
    },
  };
  live.add(mount);
  return mount;
}

/** Unmounts whatever is left at `mountpoint` (a stale mount of a killed daemon too). */
export function forceUnmount(mountpoint: string): void {
  if (!isMounted(mountpoint)) return;
  try {
    execFileSync('fusermount', ['-uz', mountpoint], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/** For afterEach/afterAll: stops every mount a test started, failed tests included. */
export async function stopAllMounts(): Promise<void> {
  await Promise.all([...live].map((m) => m.stop().catch(() => undefined)));
}
