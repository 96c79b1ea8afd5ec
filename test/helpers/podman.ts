/**
 * Real containers for the tests: podman + runc with their own configuration and a storage
 * directory per test file (shared/containers.md says what works on these machines and why).
 * Base images never come from a remote registry: busybox from busybox-static, Debian from
 * debootstrap (cached per machine, keyed by its parameters), Node.js from the host's own binary.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { requireCommand } from './require.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

export const PODMAN_INSTALL =
  'apt-get install -y --no-install-recommends podman runc uidmap busybox-static debootstrap';

/** Built images, named as the Containerfile's build args expect them. */
export const Images = {
  busybox: 'localhost/base/busybox',
  debian: 'localhost/base/debian',
  node: 'localhost/base/node',
  ocifs: 'localhost/ocifs:test',
} as const;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
}

export interface Podman {
  /** Holds containers.conf, storage.conf and the storage itself. */
  dir: string;
  env: Record<string, string>;
  /** `podman ARGS`, whatever its exit code. */
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /** `podman ARGS`, failing with podman's stderr unless it exits 0; returns stdout. */
  ok(args: string[], options?: RunOptions): Promise<string>;
  /** Removes every container, then the storage directory. */
  close(): Promise<void>;
}

/**
 * A podman with its own config and storage. Fails (never skips) with what to install or what
 * broke when podman cannot run containers here.
 */
export async function startPodman(): Promise<Podman> {
  for (const cmd of ['podman', 'runc', 'busybox']) requireCommand(cmd, PODMAN_INSTALL);
  if (process.getuid?.() !== 0) throw new Error('the container tests run podman as root (they mount FUSE and make shared bind mounts)');
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-podman-'));
  await writeFile(
    join(dir, 'containers.conf'),
    [
      '[containers]',
      // No network unless a test asks (--network host to reach the loopback registry).
      'netns = "none"',
      // The hard limits here cannot be raised: ask for what the machine allows.
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'runtime = "runc"',
      'events_logger = "file"',
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'storage.conf'),
    ['[storage]', 'driver = "overlay"', `runroot = "${join(dir, 'run')}"`, `graphroot = "${join(dir, 'root')}"`, ''].join('\n'),
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    TMPDIR: join(dir, 'tmp'),
  };
  await mkdir(env.TMPDIR!, { recursive: true });
  const run = (args: string[], options: RunOptions = {}) => runCommand('podman', args, { env, ...options });
  const ok = async (args: string[], options: RunOptions = {}) => {
    const r = await run(args, options);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  const podman: Podman = {
    dir,
    env,
    run,
    ok,
    close: async () => {
      // Not `podman system reset`: removing the directory is enough and touches nothing global.
      await run(['rm', '--all', '--force', '--time', '0']);
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
  const probe = await run(['run', '--rm', '--network', 'none', await importBusybox(podman), 'true']);
  if (probe.code !== 0) {
    await podman.close();
    throw new Error(`podman cannot run containers here (podman run exited ${probe.code}): ${probe.stderr.trim()}`);
  }
  return podman;
}

/** busybox-static as an image with every applet linked and a `nobody` user (~0.1 s). */
export async function importBusybox(podman: Podman): Promise<string> {
  const rootfs = join(podman.dir, 'busybox-rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'etc'));
  await mkdir(join(rootfs, 'tmp'));
  const busybox = realpathSync(await which('busybox'));
  // The image has no libc: only the static build (package busybox-static) runs in it.
  const linked = await runCommand('ldd', [busybox]);
  if (linked.code === 0 && !/not a dynamic executable|statically linked/.test(linked.stdout + linked.stderr)) {
    throw new Error(`${busybox} is dynamically linked: run \`${PODMAN_INSTALL}\` (busybox-static)`);
  }
  await cp(busybox, join(rootfs, 'bin/busybox'));
  const applets = (await runCommand(busybox, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) await symlink('busybox', join(rootfs, 'bin', applet));
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await importRootfs(podman, rootfs, Images.busybox, ['CMD=/bin/sh']);
  await rm(rootfs, { recursive: true, force: true });
  return Images.busybox;
}

/** The packages the ocifs image needs at run time, baked into the test base so its build is offline. */
const DEBIAN_INCLUDE = ['fuse', 'libfuse2', 'tini', 'attr', 'ca-certificates'];

/**
 * Debian bookworm (minbase) from debootstrap, as a tarball cached per machine under
 * $OCIFS_TEST_CACHE (default /var/cache/ocifs-test) and keyed by its parameters: ~1 minute
 * the first time on an idle machine, an import of a few seconds after that.
 */
export async function importDebianBase(podman: Podman): Promise<string> {
  requireCommand('debootstrap', PODMAN_INSTALL);
  const mirror = process.env.OCIFS_TEST_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  const params = { suite: 'bookworm', variant: 'minbase', include: DEBIAN_INCLUDE, mirror, arch: process.arch };
  const key = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16);
  const cacheDir = process.env.OCIFS_TEST_CACHE ?? '/var/cache/ocifs-test';
  const tarball = join(cacheDir, `debian-${params.suite}-${params.variant}-${key}.tar`);
  if (!existsSync(tarball)) {
    await mkdir(cacheDir, { recursive: true });
    const work = await mkdtemp(join(cacheDir, 'debootstrap-'));
    try {
      const rootfs = join(work, 'rootfs');
      const args = [`--variant=${params.variant}`, `--include=${params.include.join(',')}`, params.suite, rootfs, mirror];
      const r = await runCommand('debootstrap', args, { timeoutMs: 15 * 60_000 });
      if (r.code !== 0) {
        const log = await readFile(join(rootfs, 'debootstrap/debootstrap.log'), 'utf8').catch(() => '');
        throw new Error(`debootstrap ${args.join(' ')} exited ${r.code}: ${(r.stderr + log).trim().slice(-2000)}`);
      }
      await tarDirectory(rootfs, join(work, 'rootfs.tar'));
      await rename(join(work, 'rootfs.tar'), tarball);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  await podman.ok(['import', '--change', 'CMD=/bin/bash', tarball, Images.debian], { timeoutMs: 5 * 60_000 });
  return Images.debian;
}

/**
 * The host's Node.js and npm laid out as in the official node images (/usr/local/bin/node,
 * /usr/local/lib/node_modules/npm), for the Containerfile's NODE build arg. A tarball of files
 * only: the Containerfile copies from it and never runs it.
 */
export async function importNodeImage(podman: Podman): Promise<string> {
  const rootfs = join(podman.dir, 'node-rootfs');
  await mkdir(join(rootfs, 'usr/local/bin'), { recursive: true });
  await mkdir(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
  await cp(realpathSync(process.execPath), join(rootfs, 'usr/local/bin/node'));
  await chmod(join(rootfs, 'usr/local/bin/node'), 0o755);
  const npm = findNpm();
  await cp(npm, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
  await importRootfs(podman, rootfs, Images.node, []);
  await rm(rootfs, { recursive: true, force: true });
  return Images.node;
}

function findNpm(): string {
  const candidates = [
    join(dirname(realpathSync(process.execPath)), '../lib/node_modules/npm'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
    '/usr/share/nodejs/npm',
  ];
  const found = candidates.find((c) => existsSync(join(c, 'bin/npm-cli.js')));
  if (!found) throw new Error(`npm not found next to ${process.execPath}: the Containerfile prunes node_modules with it`);
  return found;
}

/**
 * Builds the project's Containerfile on the local bases. Needs a built tree (dist/): one build
 * from ./scripts/test.sh; `--layers=false` because the storage is thrown away after the file.
 */
export async function buildOcifsImage(podman: Podman): Promise<string> {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (./scripts/test.sh does)');
  const [debian, node] = await Promise.all([importDebianBase(podman), importNodeImage(podman)]);
  const r = await podman.run(
    ['build', '--layers=false', '--network', 'none', '--build-arg', `BASE=${debian}`, '--build-arg', `NODE=${node}`, '-t', Images.ocifs, '-f', join(repoRoot, 'Containerfile'), repoRoot],
    { timeoutMs: 10 * 60_000 },
  );
  if (r.code !== 0) throw new Error(`podman build of the Containerfile failed (${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
  return Images.ocifs;
}

async function importRootfs(podman: Podman, rootfs: string, name: string, changes: string[]): Promise<void> {
  const tarball = `${rootfs}.tar`;
  await tarDirectory(rootfs, tarball);
  await podman.ok(['import', ...changes.flatMap((c) => ['--change', c]), tarball, name], { timeoutMs: 5 * 60_000 });
  await rm(tarball, { force: true });
}

async function tarDirectory(dir: string, tarball: string): Promise<void> {
  const r = await runCommand('tar', ['--numeric-owner', '-C', dir, '-cf', tarball, '.'], { timeoutMs: 5 * 60_000 });
  if (r.code !== 0) throw new Error(`tar of ${dir} failed: ${r.stderr}`);
}

async function which(cmd: string): Promise<string> {
  const r = await runCommand('sh', ['-c', `command -v ${cmd}`]);
  return r.stdout.trim();
}

/**
 * A host directory as a shared bind mount of itself, so a FUSE mount made inside a container
 * (`-v DIR:...:rshared`) shows on the host and in other containers.
 */
export async function makeSharedDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const args of [['--bind', dir, dir], ['--make-rshared', dir]]) {
    const r = await runCommand('mount', args);
    if (r.code !== 0) throw new Error(`mount ${args.join(' ')} failed: ${r.stderr.trim()}`);
  }
}

export interface HostMount {
  mountpoint: string;
  fsType: string;
  source: string;
  /** The file system's own options, e.g. `rw,user_id=0,group_id=0,allow_other`. */
  superOptions: string;
}

/** The host's mount table (/proc/self/mountinfo). */
export async function hostMounts(): Promise<HostMount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const unescape = (p: string) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const [fsType = '', source = '', superOptions = ''] = right.split(' ');
      return { mountpoint: unescape(left.split(' ')[4] ?? ''), fsType, source: unescape(source), superOptions };
    });
}

/** Mount points at or below `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const base = resolve(dir);
  return (await hostMounts())
    .map((m) => m.mountpoint)
    .filter((p) => p === base || p.startsWith(base + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Waits until a FUSE file system is mounted exactly at `path`; `logs` explain a timeout. */
export async function waitForFuseMount(path: string, logs: () => Promise<string> | string, timeoutMs = 60_000): Promise<HostMount> {
  const deadline = Date.now() + timeoutMs;
  const target = resolve(path);
  while (Date.now() < deadline) {
    const found = (await hostMounts()).filter((m) => m.mountpoint === target && m.fsType.startsWith('fuse')).pop();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no FUSE mount appeared at ${target} within ${timeoutMs} ms; logs:\n${await logs()}`);
}

/** Lazily unmounts everything at or below `dir` (FUSE first: fusermount -uz), for cleanup. */
export async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const mounts = await mountsUnder(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      const r = await runCommand('umount', ['-l', m]);
      if (r.code !== 0) await runCommand('fusermount', ['-uz', m]);
    }
  }
}

export function runCommand(command: string, args: string[], options: RunOptions & { env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the command may exit before reading its input
      child.stdin.end(options.input);
    }
  });
}

/** Lists a directory, or undefined when reading it fails (e.g. ENOTCONN on a dead FUSE mount). */
export async function tryReaddir(dir: string): Promise<string[] | NodeJS.ErrnoException> {
  try {
    return await readdir(dir);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}
