/**
 * Runs the built CLI (bin/ocifs -> dist/) as a user would, with its own HOME, Docker config
 * and cache directory so tests never share state through the real home directory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const ocifsBin = join(repoRoot, 'bin/ocifs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  home: string;
  env: Record<string, string>;
  run(args: string[], options?: { input?: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function cliEnv(): Promise<CliEnv> {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (./scripts/test.sh does)');
  }
  const home = await mkdtemp(join(tmpdir(), 'ocifs-cli-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
  };
  return {
    home,
    env,
    run: (args, options = {}) => runCommand(ocifsBin, args, { ...options, env: { ...env, ...options.env } }),
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

export function runCommand(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
