/**
 * deploy/systemd/ocifs@.service: systemd-analyze verifies it, and its command lines do what the
 * unit promises when run as systemd would run them (no systemd is PID 1 on these machines):
 * ExecStart mounts from the instance's config, ExecStartPost returns once the mount is there,
 * KillSignal unmounts and exits 0, and ExecStopPost clears the dead mount a killed daemon leaves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostMounts, repoRoot, runCommand, unmountUnder, waitForFuseMount } from '../helpers/podman.js';
import { requireCommand } from '../helpers/require.js';
import { pushSampleArtifact, type PushedArtifact } from './artifact.js';

const unitPath = join(repoRoot, 'deploy/systemd/ocifs@.service');
const ocifsInUnit = '/usr/local/bin/ocifs';
const ocifs = join(repoRoot, 'bin/ocifs');

/** [Section] -> key -> values (a key may repeat, as Exec* lines do). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`unexpected line in the unit: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unit = parseUnit(readFileSync(unitPath, 'utf8'));
const service = unit.get('Service')!;
const one = (key: string) => {
  const values = service.get(key);
  expect(values, `[Service] ${key}=`).toHaveLength(1);
  return values![0]!;
};

/**
 * A command line as systemd expands it: `${VAR}` is one argument, `$VAR` as a word of its own
 * splits at whitespace, `$$` is `$`; `/bin/sh -c '...'` keeps its script whole. A leading `-`
 * (failure ignored) is returned apart.
 */
function expand(commandLine: string, env: Record<string, string>): { argv: string[]; ignoreFailure: boolean } {
  const ignoreFailure = commandLine.startsWith('-');
  const line = ignoreFailure ? commandLine.slice(1) : commandLine;
  const shell = /^(\/bin\/sh) -c '(.*)'$/.exec(line);
  if (shell) return { argv: [shell[1]!, '-c', shell[2]!.replaceAll('$$', '$')], ignoreFailure };
  const argv: string[] = [];
  for (const word of line.split(/\s+/)) {
    const whole = /^\$([A-Z_][A-Z0-9_]*)$/.exec(word);
    if (whole) argv.push(...(env[whole[1]!] ?? '').split(/\s+/).filter(Boolean));
    else argv.push(word.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => env[name] ?? '').replaceAll('$$', '$'));
  }
  return { argv, ignoreFailure };
}

describe('ocifs@.service', () => {
  it('passes systemd-analyze verify (with the ocifs path of this checkout)', async () => {
    requireCommand('systemd-analyze', 'apt-get install systemd');
    const dir = await mkdtemp(join(tmpdir(), 'ocifs-unit-'));
    try {
      // verify checks that ExecStart's program exists: point it at this checkout's bin/ocifs.
      const copy = join(dir, 'ocifs@eo-products.service');
      await writeFile(copy, readFileSync(unitPath, 'utf8').replaceAll(ocifsInUnit, ocifs));
      const r = await runCommand('systemd-analyze', ['verify', '--man=no', copy]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.trim()).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs ocifs in the foreground with SIGTERM as its stop signal and nothing that hides the mount', () => {
    expect(one('Type')).toBe('exec');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('ExecStart').startsWith(`${ocifsInUnit} mount \${SOURCE} \${MOUNTPOINT} `)).toBe(true);
    expect(one('ExecStart')).not.toMatch(/--daemon|-d\b/);
    expect(one('EnvironmentFile')).toBe('/etc/ocifs/%i.conf');
    // Any of these gives the service its own mount namespace: nobody else would see the mount.
    for (const key of ['PrivateTmp', 'ProtectSystem', 'ProtectHome', 'PrivateDevices', 'PrivateMounts', 'ReadOnlyPaths', 'TemporaryFileSystem', 'BindPaths']) {
      expect(service.has(key), `${key}= would hide the mount`).toBe(false);
    }
  });

  describe('its command lines, run as systemd runs them', () => {
    const registryHost = inject('registryHost');
    let work = '';
    let artifact: PushedArtifact;
    let env: Record<string, string>;
    let mountpoint = '';
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      requireCommand('findmnt', 'apt-get install util-linux');
      work = await mkdtemp(join(tmpdir(), 'ocifs-unit-run-'));
      await chmod(work, 0o755);
      artifact = await pushSampleArtifact(registryHost, 'systemd/sample');
      mountpoint = join(work, 'mnt');
      // /etc/ocifs/<instance>.conf; EnvironmentFile= overrides Environment= (the cache dir here).
      const conf = join(work, 'eo-products.conf');
      await writeFile(conf, `SOURCE=${artifact.repository}\nMOUNTPOINT=${mountpoint}\nOCIFS_ARGS=--allow-other --ttl 1m\nOCIFS_CACHE_DIR=${join(work, 'cache')}\n`);
      env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: work };
      for (const assignment of service.get('Environment') ?? []) {
        const [k, ...v] = assignment.split('=');
        env[k!] = v.join('=');
      }
      for (const line of (await readFile(conf, 'utf8')).split('\n').filter(Boolean)) {
        const [k, ...v] = line.split('=');
        env[k!] = v.join('=');
      }
    });

    afterAll(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      if (work) {
        await unmountUnder(work);
        await rm(work, { recursive: true, force: true });
      }
    });

    function start(): { child: ChildProcess; logs: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
      const { argv } = expand(one('ExecStart').replace(ocifsInUnit, ocifs), env);
      expect(argv.slice(1, 5)).toEqual(['mount', artifact.repository, mountpoint, '--create']);
      expect(argv.slice(5)).toEqual(['--allow-other', '--ttl', '1m']);
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let logs = '';
      child.stdout!.on('data', (d) => (logs += d));
      child.stderr!.on('data', (d) => (logs += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      return { child, logs: () => logs, exited };
    }

    /** `promise`, or a failure naming the step that hung, with the daemon's logs (instead of a bare test timeout). */
    async function within<T>(promise: Promise<T>, ms: number, what: string, logs: () => string): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}; daemon logs:\n${logs()}`)), ms);
      });
      try {
        return await Promise.race([promise, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }

    async function until(condition: () => boolean, ms: number, what: string, logs: () => string): Promise<void> {
      const deadline = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}; daemon logs:\n${logs()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    async function runLine(key: 'ExecStartPost' | 'ExecStopPost') {
      const { argv, ignoreFailure } = expand(one(key), env);
      return { ...(await runCommand(argv[0]!, argv.slice(1), { env, timeoutMs: 90_000 })), ignoreFailure };
    }

    it('ExecStart mounts from the config, ExecStartPost returns once it is mounted, SIGTERM unmounts and exits 0', async () => {
      const daemon = start();
      const post = await runLine('ExecStartPost');
      expect(post.code, `${post.stderr}\n${daemon.logs()}`).toBe(0);
      expect(await readFile(join(mountpoint, 'v1/hello.txt'), 'utf8')).toBe(artifact.files.get('hello.txt')!.toString());

      daemon.child.kill(one('KillSignal') as NodeJS.Signals);
      const timeout = Number(one('TimeoutStopSec')) * 1000;
      const end = await Promise.race([daemon.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeout))]);
      expect(end, daemon.logs()).toEqual({ code: 0, signal: null });
      expect((await hostMounts()).filter((m) => m.mountpoint === mountpoint)).toEqual([]);
      // ExecStopPost with nothing to clean: no error.
      expect((await runLine('ExecStopPost')).code).toBe(0);
    });

    it('ExecStopPost clears the dead mount a killed daemon leaves, so a restart can mount again', async () => {
      const daemon = start();
      await waitForFuseMount(mountpoint, daemon.logs);
      // Killed once it says it is mounted (FUSE init done), as a crash in service would be.
      await until(() => /^mounted /m.test(daemon.logs()), 30_000, 'the daemon to log that it is mounted', daemon.logs);
      daemon.child.kill('SIGKILL');
      await within(daemon.exited, 15_000, 'the SIGKILLed daemon to exit', daemon.logs);
      const dead = (await hostMounts()).filter((m) => m.mountpoint === mountpoint);
      expect(dead.map((m) => m.fsType), 'a killed FUSE daemon leaves its mount behind').toEqual(['fuse.ocifs']);

      const post = await runLine('ExecStopPost');
      expect(post.ignoreFailure, 'ExecStopPost= starts with - so a failed cleanup never fails the stop').toBe(true);
      expect(post.code, post.stderr).toBe(0);
      expect((await hostMounts()).filter((m) => m.mountpoint === mountpoint)).toEqual([]);

      // Restart=on-failure then starts it again, on a clean mountpoint.
      await mkdir(mountpoint, { recursive: true });
      const again = start();
      expect((await within(runLine('ExecStartPost'), 40_000, 'ExecStartPost after the restart', again.logs)).code, again.logs()).toBe(0);
      again.child.kill('SIGTERM');
      expect(await within(again.exited, 15_000, 'the restarted daemon to exit on SIGTERM', again.logs)).toEqual({ code: 0, signal: null });
    }, 120_000);
  });
});
