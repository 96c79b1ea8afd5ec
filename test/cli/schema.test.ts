/**
 * What ocifs writes validates against the OCI image-spec's own JSON schemas: the manifest of a
 * packed artifact, the layout's index.json and oci-layout, and a layout written by a pull.
 */
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { assertValidAgainstSchema } from '../helpers/oci-schema.js';

let cli: CliEnv;
beforeAll(async () => {
  cli = await cliEnv();
});
afterAll(async () => {
  await cli?.cleanup();
});

async function checkLayout(dir: string): Promise<void> {
  assertValidAgainstSchema('layout', JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assertValidAgainstSchema('index', index);
  expect(index.manifests.length).toBeGreaterThan(0);
  for (const m of index.manifests) {
    const [alg, hex] = m.digest.split(':');
    assertValidAgainstSchema('manifest', JSON.parse(await readFile(join(dir, 'blobs', alg, hex), 'utf8')));
  }
}

test('pack writes a layout and manifest valid under the image-spec schemas; so does pull --layout', async () => {
  const work = join(cli.home, 'schema');
  await mkdir(join(work, 'data'), { recursive: true });
  await writeFile(join(work, 'data/stac.json'), '{"type":"Feature","stac_version":"1.0.0"}');
  await writeFile(join(work, 'data/notes.txt'), 'notes\n');
  // The schema's mediaType pattern allows no parameters, so the media types here are plain ones.
  const packed = await cli.run(
    ['pack', 'data/stac.json:application/geo+json', 'data/notes.txt:text/plain', '--layout', 'lay:v1,latest', '--artifact-type', 'application/vnd.example.v1', '--annotation', 'org.opencontainers.image.description=test', '--created', '2026-01-01T00:00:00Z'],
    { cwd: work },
  );
  expect(packed.code).toBe(0);
  await checkLayout(join(work, 'lay'));

  const host = inject('registryHost');
  expect((await cli.run(['push', './lay:v1', `${host}/schema/check:v1`], { cwd: work })).code).toBe(0);
  expect((await cli.run(['pull', `${host}/schema/check:v1`, '--layout', join(work, 'pulled:v1')])).code).toBe(0);
  await checkLayout(join(work, 'pulled'));
});
