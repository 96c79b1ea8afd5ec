/**
 * ocifs with real containers (podman + runc), images built here from the project's Containerfile
 * on locally made bases, against the real test registry on the host's loopback:
 * (a) ocifs in a container mounts the registry; another container reads through a shared bind mount;
 * (b) a container running as uid 65534 reads a host mount made with --allow-other (and not one without);
 * (c) stopping the ocifs container unmounts: no dead mount is left on the host;
 * and the clear failures when the container lacks /dev/fuse or CAP_SYS_ADMIN.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildOcifsImage,
  hostMounts,
  importBusybox,
  makeSharedDirectory,
  mountsUnder,
  repoRoot,
  startPodman,
  unmountUnder,
  waitForFuseMount,
  type Podman,
} from '../helpers/podman.js';
import { pushSampleArtifact, sha256, type PushedArtifact } from './artifact.js';

const registryHost = inject('registryHost');

let podman: Podman | undefined;
let image = '';
let busybox = '';
let work = '';
let artifact: PushedArtifact;
const daemons: ChildProcess[] = [];

beforeAll(async () => {
  const started = Date.now();
  work = await mkdtemp(join(tmpdir(), 'ocifs-containers-'));
  artifact = await pushSampleArtifact(registryHost, 'containers/sample');
  podman = await startPodman();
  busybox = await importBusybox(podman);
  image = await buildOcifsImage(podman);
  console.info(`container images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 20 * 60_000);

afterAll(async () => {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  await podman?.close();
  if (work) {
    await unmountUnder(work);
    await rm(work, { recursive: true, force: true });
  }
}, 120_000);

function ocifsContainerArgs(name: string, shared: string, extra: string[] = []): string[] {
  return [
    'run', '-d', '--name', name,
    '--device', '/dev/fuse', '--cap-add', 'SYS_ADMIN',
    // The registry listens on the host's loopback.
    '--network', 'host',
    '-v', `${shared}:/mnt/oci:rshared`,
    ...extra,
    image, artifact.repository, '/mnt/oci/sample', '--create', '--allow-other',
  ];
}

async function containerLogs(name: string): Promise<string> {
  const r = await podman!.run(['logs', name]);
  return r.stdout + r.stderr;
}

describe('ocifs in a container', () => {
  const name = 'ocifs-shared';
  let shared = '';

  it('(a) mounts the registry, and another container reads a file through the shared bind mount, byte-identical', async () => {
    shared = join(work, 'shared');
    await makeSharedDirectory(shared);
    await podman!.ok(ocifsContainerArgs(name, shared));
    await waitForFuseMount(join(shared, 'sample'), () => containerLogs(name));

    const data = artifact.files.get('data.bin')!;
    const reader = await podman!.ok(
      ['run', '--rm', '-v', `${shared}:/data:rslave`, busybox, 'sh', '-c', 'sha256sum /data/sample/v1/data.bin; wc -c < /data/sample/v1/data.bin; cat /data/sample/v1/hello.txt'],
      { timeoutMs: 60_000 },
    );
    const [sumLine = '', sizeLine = '', ...rest] = reader.split('\n');
    expect(sumLine.split(/\s+/)[0]).toBe(sha256(data));
    expect(Number(sizeLine.trim())).toBe(data.length);
    expect(rest.join('\n')).toBe(artifact.files.get('hello.txt')!.toString());

    // The daemon's counters, from inside its container (the image has getfattr for this).
    const status = JSON.parse(await podman!.ok(['exec', name, 'ocifs', 'status', '--json', '/mnt/oci/sample'])) as Record<string, any>;
    expect(status.registry?.requests, JSON.stringify(status)).toBeGreaterThan(0);
  });

  it('(c) stopping the container unmounts cleanly: exit 0, and no dead mount left on the host', async () => {
    expect(shared, 'test (a) must have started the container').not.toBe('');
    await podman!.ok(['stop', '--time', '30', name], { timeoutMs: 60_000 });
    const exit = (await podman!.ok(['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
    expect(exit, await containerLogs(name)).toBe('0');

    const left = (await hostMounts()).filter((m) => m.mountpoint.startsWith(join(shared, 'sample')));
    expect(left).toEqual([]);
    // A dead FUSE mount would answer ENOTCONN here; the plain directory answers (empty).
    expect(await readdir(join(shared, 'sample'))).toEqual([]);
    await podman!.ok(['rm', name]);
  });
});

describe('a host mount read from a container', () => {
  async function hostMount(mountpoint: string, flags: string[]): Promise<ChildProcess> {
    const home = join(work, 'home');
    await mkdir(home, { recursive: true });
    const child = spawn(process.execPath, [join(repoRoot, 'bin/ocifs'), 'mount', artifact.repository, mountpoint, '--create', ...flags], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, OCIFS_CACHE_DIR: join(work, `cache-${daemons.length}`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemons.push(child);
    let logs = '';
    child.stdout!.on('data', (d) => (logs += d));
    child.stderr!.on('data', (d) => (logs += d));
    await waitForFuseMount(mountpoint, () => logs);
    return child;
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  it('(b) as uid 65534 reads a mount made with --allow-other, and is refused one made without', async () => {
    const open = join(work, 'allow-other');
    const closed = join(work, 'private');
    const running = [await hostMount(open, ['--allow-other']), await hostMount(closed, [])];
    try {
      const data = artifact.files.get('data.bin')!;
      const asNobody = (dir: string) =>
        podman!.run(['run', '--rm', '--user', '65534:65534', '-v', `${dir}:/data:ro`, busybox, 'sha256sum', '/data/v1/data.bin'], { timeoutMs: 60_000 });

      const allowed = await asNobody(open);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout.split(/\s+/)[0]).toBe(sha256(data));

      const refused = await asNobody(closed);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr + refused.stdout).toMatch(/permission denied/i);
    } finally {
      for (const d of running) await stop(d);
    }
    expect(await mountsUnder(open)).toEqual([]);
    expect(await mountsUnder(closed)).toEqual([]);
  });
});

describe('a container without what FUSE needs fails with a clear message', () => {
  it('no /dev/fuse: says to pass --device /dev/fuse', async () => {
    const r = await podman!.run(['run', '--rm', '--network', 'host', image, artifact.repository, '/mnt/oci/sample', '--create'], { timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\/dev\/fuse/);
    expect(r.stderr).toMatch(/--device \/dev\/fuse/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
  });

  it('no CAP_SYS_ADMIN: says to add it', async () => {
    const r = await podman!.run(['run', '--rm', '--network', 'host', '--device', '/dev/fuse', image, artifact.repository, '/mnt/oci/sample', '--create'], {
      timeoutMs: 60_000,
    });
    expect(r.code).not.toBe(0);
    // libfuse fails silently here: ocifs has to notice CAP_SYS_ADMIN missing from CapBnd itself.
    expect(r.stderr, 'the message must name the missing CAP_SYS_ADMIN').toMatch(/SYS_ADMIN/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
