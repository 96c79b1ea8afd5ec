/**
 * The Kubernetes examples in deploy/kubernetes/: every document validates against the
 * Kubernetes API's OpenAPI schemas (kubernetes-models: types, required fields, enums such as
 * mountPropagation), and the properties the examples exist for hold (privileged + Bidirectional
 * into the shared volume, /dev/fuse, a graceful stop, consumers with HostToContainer, flags that
 * `ocifs mount` really has).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/podman.js';

const dir = join(repoRoot, 'deploy/kubernetes');

interface Manifest {
  file: string;
  index: number;
  object: Record<string, any>;
}

function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = join(dir, name);
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`${name} document ${index}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as Record<string, any> | null;
      if (object) out.push({ file: relative(repoRoot, file), index, object });
    });
  }
  return out;
}

/** The kubernetes-models class for an apiVersion and kind (`apps/v1` DaemonSet -> kubernetes-models/apps/v1/DaemonSet). */
async function modelFor(apiVersion: string, kind: string): Promise<{ new (data: unknown): { validate(): void } }> {
  if (!/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) throw new Error(`odd apiVersion/kind ${apiVersion} ${kind}`);
  const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, any>;
  const model = module[kind];
  if (typeof model !== 'function') throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return model;
}

async function validate(object: Record<string, any>): Promise<void> {
  const Model = await modelFor(String(object.apiVersion), String(object.kind));
  new Model(object).validate();
}

const manifests = loadManifests();
const find = (kind: string, name: string) => {
  const m = manifests.find((x) => x.object.kind === kind && x.object.metadata?.name === name);
  if (!m) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return m.object;
};

describe('deploy/kubernetes validates against the Kubernetes API schemas', () => {
  it('has the DaemonSet and the sidecar examples', () => {
    expect(existsSync(join(dir, 'daemonset.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'sidecar.yaml'))).toBe(true);
    expect(manifests.map((m) => m.object.kind).sort()).toEqual(['DaemonSet', 'Deployment', 'Namespace', 'Pod']);
  });

  for (const m of manifests) {
    it(`${m.file} #${m.index}: ${m.object.kind} ${m.object.metadata?.name}`, async () => {
      await validate(m.object);
    });
  }

  // The validator must be able to say no, or the checks above prove nothing.
  const broken: [string, (ds: Record<string, any>) => void, RegExp][] = [
    ['a misspelt propagation mode', (ds) => (ds.spec.template.spec.containers[0].volumeMounts[1].mountPropagation = 'Bidirectonal'), /mountPropagation/],
    ['a mountPath that is not a string', (ds) => (ds.spec.template.spec.containers[0].volumeMounts[0].mountPath = 42), /mountPath/],
    ['a container without a name', (ds) => delete ds.spec.template.spec.containers[0].name, /name/],
    ['a DaemonSet without a selector', (ds) => delete ds.spec.selector, /selector/],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`rejects ${what}`, async () => {
      const ds = structuredClone(find('DaemonSet', 'ocifs'));
      breakIt(ds);
      await expect(validate(ds)).rejects.toThrow(message);
    });
  }
});

/** The FUSE mountpoint in an ocifs container's args: SOURCE MOUNTPOINT [flags]. */
function mountpointOf(container: Record<string, any>): string {
  const positional = (container.args as string[]).filter((a) => !a.startsWith('-'));
  expect(positional, 'args start with SOURCE and MOUNTPOINT').toHaveLength(2);
  return positional[1]!;
}

function mountOf(container: Record<string, any>, volume: string): Record<string, any> {
  const m = (container.volumeMounts as Record<string, any>[]).find((v) => v.name === volume);
  expect(m, `${container.name} mounts volume ${volume}`).toBeDefined();
  return m!;
}

function checkOcifsContainer(container: Record<string, any>, volumes: Record<string, any>[]): string {
  expect(container.securityContext?.privileged, 'Bidirectional propagation needs privileged').toBe(true);
  const mountpoint = mountpointOf(container);
  const shared = (container.volumeMounts as Record<string, any>[]).find((v) => v.mountPropagation === 'Bidirectional');
  expect(shared, 'a Bidirectional volume mount').toBeDefined();
  expect(mountpoint.startsWith(shared!.mountPath + '/'), `${mountpoint} is inside the propagated ${shared!.mountPath}`).toBe(true);
  const fuse = volumes.find((v) => v.hostPath?.path === '/dev/fuse');
  expect(fuse?.hostPath.type).toBe('CharDevice');
  expect(mountOf(container, fuse!.name).mountPath).toBe('/dev/fuse');
  expect(container.args).toContain('--allow-other');
  // The probe looks at the mountpoint the args make.
  expect(JSON.stringify(container.startupProbe)).toContain(` ${mountpoint} fuse.ocifs `);
  return shared!.name;
}

describe('what the examples are for', () => {
  it('DaemonSet: privileged, /dev/fuse, Bidirectional into a host path, stops gracefully', () => {
    const ds = find('DaemonSet', 'ocifs');
    const pod = ds.spec.template.spec;
    const container = pod.containers[0];
    const volume = checkOcifsContainer(container, pod.volumes);
    const hostPath = pod.volumes.find((v: any) => v.name === volume).hostPath;
    expect(hostPath.path).toBe('/mnt/oci');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10);
    expect(container.lifecycle.preStop.exec.command).toEqual(['/usr/local/bin/ocifs', 'umount', mountpointOf(container)]);
    // A reader pod on the node sees the mount through the same host path.
    const reader = find('Pod', 'ocifs-reader-example').spec;
    const readerVolume = reader.volumes.find((v: any) => v.hostPath?.path === hostPath.path);
    expect(readerVolume, 'the reader mounts the host path').toBeDefined();
    expect(mountOf(reader.containers[0], readerVolume.name).mountPropagation).toBe('HostToContainer');
  });

  it('sidecar: a native sidecar mounting into an emptyDir the app receives with HostToContainer', () => {
    const pod = find('Deployment', 'eo-notebook').spec.template.spec;
    const sidecar = pod.initContainers[0];
    expect(sidecar.restartPolicy, 'a native sidecar: starts first, stops last').toBe('Always');
    const volume = checkOcifsContainer(sidecar, pod.volumes);
    expect(pod.volumes.find((v: any) => v.name === volume).emptyDir).toBeDefined();
    for (const app of pod.containers) expect(mountOf(app, volume).mountPropagation).toBe('HostToContainer');
    // The cache stays below its volume's limit, or the kubelet evicts the pod.
    const cache = pod.volumes.find((v: any) => v.name === 'cache');
    const limit = /--cache-max-size=(\d+)G/.exec(sidecar.args.join(' '));
    expect(limit, 'the sidecar bounds its cache').not.toBeNull();
    expect(Number(limit![1])).toBeLessThan(Number(/^(\d+)Gi$/.exec(cache.emptyDir.sizeLimit)![1]));
  });

  it('every flag the examples pass exists in `ocifs mount --help`', () => {
    const cli = join(repoRoot, 'bin/ocifs');
    if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (./scripts/test.sh does)');
    const help = execFileSync(process.execPath, [cli, 'help', 'mount'], { encoding: 'utf8' }) + execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    const flags = new Set<string>();
    for (const m of manifests) {
      const spec = m.object.spec?.template?.spec ?? m.object.spec;
      for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
        if (!String(c.image).includes('/ocifs')) continue;
        for (const arg of c.args ?? []) if (arg.startsWith('--')) flags.add(arg.split('=')[0]);
      }
    }
    expect(flags.size).toBeGreaterThan(2);
    const missing = [...flags].filter((f) => !new RegExp(`(^|[\\s,])${f}\\b`).test(help));
    expect(missing, 'flags used in deploy/kubernetes that `ocifs mount` does not know (--metrics-addr: src/metrics, wired in src/cli)').toEqual([]);
  });
});
