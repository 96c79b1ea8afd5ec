/**
 * The library API as the README shows it: everything the CLI does is reachable from the
 * package's main module.
 */
import { afterAll, expect, inject, test } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayoutTarget, RegistryClient, copy, parseReference, pullToDirectory } from '../src/index.js';
import { pushArtifact } from './helpers/artifacts.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test("the README's library example: registry -> layout -> files", async () => {
  const work = await mkdtemp(join(tmpdir(), 'ocifs-lib-'));
  dirs.push(work);
  const ref = parseReference(`${inject('registryHost')}/lib/example:v1`);
  const client = new RegistryClient(ref.registry);
  try {
    const repo = client.repository(ref.repository);
    await pushArtifact(repo, ['v1'], [{ title: 'hello.txt', bytes: Buffer.from('hello\n') }]);

    const layout = await LayoutTarget.open(join(work, 'eo-layout'), { create: true });
    const copied = await copy(repo, ref.tag!, layout, ['v1']);
    expect(copied.descriptor.digest).toBe((await repo.resolve('v1')).digest);
    await pullToDirectory(layout, 'v1', join(work, 'retrieved'));
    expect(await readFile(join(work, 'retrieved/hello.txt'), 'utf8')).toBe('hello\n');
  } finally {
    await client.close();
  }
});
