/**
 * Shared by the FUSE tests: temp dirs that are always unmounted before removal, async command
 * runs (the test process itself serves in-process mounts, so it must never block on a
 * synchronous call into one), a capturing logger, the serve.ts child.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../src/log.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Lazily unmounts whatever is at `dir`; never fails. */
export async function forceUnmount(dir: string): Promise<void> {
  await run('fusermount', ['-uz', '--', dir]);
}

/** Temp dirs readable by other users (for --allow-other), unmounted and removed by cleanup(). */
export function tempDirs() {
  const made: string[] = [];
  const mountpoints: string[] = [];
  return {
    async make(prefix = 'ocifs-fuse-'): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      await chmod(dir, 0o755);
      made.push(dir);
      return dir;
    },
    /** A fresh empty directory to mount on, inside a temp dir. */
    async mountpoint(): Promise<string> {
      const dir = join(await this.make(), 'mnt');
      await mkdir(dir, { mode: 0o755 });
      mountpoints.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      for (const dir of mountpoints.splice(0)) await forceUnmount(dir);
      for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(line) }), lines };
}

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const SERVE_ARGV = [process.execPath, '--import', join(fixtures, 'register-ts.mjs'), join(fixtures, 'serve.ts')];

export interface ServeChild {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the child printed `mounted`; rejects if it exits first. */
  mounted: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServe(mountpoint: string, options: object = {}): ServeChild {
  const child = spawn(SERVE_ARGV[0]!, [...SERVE_ARGV.slice(1), mountpoint, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const mounted = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (output.includes('mounted\n')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`serve exited (${code ?? signal}) before mounting:\n${output}`)));
  });
  mounted.catch(() => undefined);
  return { child, output: () => output, mounted, exited };
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
