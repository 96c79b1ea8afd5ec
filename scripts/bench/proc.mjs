/**
 * Running commands: timed runs (wall time from spawn to exit, measured with hrtime) and
 * long-running services that the bench stops itself. Every service started here is registered
 * with the Cleanup passed in, so a failed or interrupted run leaves no process behind.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/**
 * Runs `cmd args` and resolves { code, signal, stdout, stderr, seconds }. Throws with the tail of
 * stderr when it fails, unless `allowFailure`. `stdout: 'null'` sends it to /dev/null (what
 * `cat > /dev/null` means), 'pipe' collects it.
 */
export async function run(cmd, args, options = {}) {
  const { cwd, env, stdout = 'pipe', timeoutMs = 30 * 60_000, allowFailure = false, input } = options;
  const devnull = stdout === 'null' ? openSync('/dev/null', 'w') : undefined;
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, {
    cwd,
    env: env ?? process.env,
    stdio: [input === undefined ? 'ignore' : 'pipe', devnull ?? 'pipe', 'pipe'],
  });
  if (devnull !== undefined) closeSync(devnull);
  if (input !== undefined) child.stdin.end(input);
  const out = [];
  const err = [];
  child.stdout?.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: -1, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearTimeout(timer);
  const res = { ...result, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), seconds };
  if (!allowFailure && (res.code !== 0 || res.error)) {
    const why = res.error?.message ?? (res.signal ? `killed by ${res.signal}` : `exit code ${res.code}`);
    const tail = res.stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${cmd} ${args.join(' ')}: ${why}${tail ? `\n${tail}` : ''}`);
  }
  return res;
}

/**
 * Starts a long-running process with its output appended to `logFile` and registers its stop
 * with `cleanup`. Resolves { child, pid, stop(), exited }.
 */
export function startService(cleanup, cmd, args, { cwd, env, logFile, name = cmd } = {}) {
  const log = logFile ? openSync(logFile, 'a') : undefined;
  const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', log ?? 'ignore', log ?? 'ignore'] });
  if (log !== undefined) closeSync(log);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: -1, signal: null, error }));
  });
  let stopped;
  const stop = (timeoutMs = 10_000) =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      cleanup.forget(stop);
    })());
  cleanup.add(stop, name);
  return { child, pid: child.pid, stop, exited, isRunning: () => child.exitCode === null && child.signalCode === null };
}

/** Stop functions run last-in first-out, once, also when the bench fails or is interrupted. */
export class Cleanup {
  #steps = [];

  add(fn, name) {
    this.#steps.push({ fn, name });
  }

  forget(fn) {
    this.#steps = this.#steps.filter((s) => s.fn !== fn);
  }

  async runAll(log) {
    while (this.#steps.length) {
      const { fn, name } = this.#steps.pop();
      try {
        await fn();
      } catch (err) {
        log?.(`cleanup of ${name ?? 'a step'} failed: ${err.message}`);
      }
    }
  }
}

export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
