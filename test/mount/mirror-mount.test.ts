/**
 * Two "nodes" mount the same repository through a pull-through mirror (a second real
 * docker-registry with proxy.remoteurl): the second node's reads add no blob request at the
 * origin. A counting proxy in front of the origin sees every origin request.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { pushArtifact, pseudoRandomBytes } from '../helpers/artifacts.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startMount, stopAllMounts } from '../helpers/mount.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { RegistryClient } from '../../src/registry/index.js';

let origin: RunningRegistry;
let originFront: FaultProxy;
let mirror: RunningRegistry;
let mirrorFront: FaultProxy;
const nodes: CliEnv[] = [];
const data = pseudoRandomBytes(6 * 1024 * 1024, 21);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  origin = await startRegistry();
  originFront = await startFaultProxy(origin.url);
  mirror = await startRegistry({ extraConfig: `proxy:\n  remoteurl: ${originFront.url}` });
  mirrorFront = await startFaultProxy(mirror.url);
  const client = new RegistryClient(origin.host);
  try {
    await pushArtifact(client.repository('mirrored/data'), ['v1'], [{ title: 'data.bin', bytes: data }]);
  } finally {
    await client.close();
  }
});
afterEach(async () => {
  await stopAllMounts();
});
afterAll(async () => {
  for (const n of nodes) await n.cleanup();
  await mirrorFront?.stop();
  await mirror?.stop();
  await originFront?.stop();
  await origin?.stop();
});

async function readThroughNewNode(name: string): Promise<Buffer> {
  const node = await cliEnv();
  nodes.push(node);
  const m = await startMount(node.env, `${originFront.host}/mirrored/data`, join(node.home, name), ['--mirror', mirrorFront.host]);
  return readFile(join(m.mountpoint, 'v1/data.bin'));
}

/** A cold distribution proxy fetches some blobs upstream late: wait for the origin to go quiet. */
async function settled(): Promise<void> {
  for (let i = 0, seen = -1; i < 40 && seen !== originFront.requests.length; i++) {
    seen = originFront.requests.length;
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('a second node reading through the mirror adds no blob request at the origin', async () => {
  expect(sha(await readThroughNewNode('first'))).toBe(sha(data));
  expect(mirrorFront.requests.some((r) => r.url.includes('/blobs/'))).toBe(true);
  await settled();
  const before = originFront.requests.length;

  expect(sha(await readThroughNewNode('second'))).toBe(sha(data));
  const added = originFront.requests.slice(before);
  expect(added.filter((r) => r.url.includes('/blobs/'))).toEqual([]);
  // Tags are resolved at the origin (HEAD: cheap, not rate-limited); content comes from the mirror.
  expect(added.every((r) => r.method === 'HEAD' || /\/tags\/list|\/v2\/$/.test(r.url))).toBe(true);
});
