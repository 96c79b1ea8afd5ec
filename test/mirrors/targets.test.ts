/** The wiring in src/targets.ts: reads go through mirrors only when some are configured; writes never. */
import { inject } from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { MirroredRepository, mirrorConfigFromFlags } from '../../src/mirrors/index.js';
import { RepositoryTarget } from '../../src/registry/index.js';
import { parseTargetSpec, TargetFactory } from '../../src/targets.js';

const connection = { plainHttp: undefined, insecure: false, caFile: undefined, dockerConfigDir: '/nonexistent' };
let factory: TargetFactory | undefined;
afterEach(async () => {
  await factory?.close();
  factory = undefined;
});

describe('TargetFactory with mirrors', () => {
  it.each([
    ['no mirror configuration', undefined, RepositoryTarget],
    ['a mirror for another registry', mirrorConfigFromFlags(['ghcr.io=mirror:5000']), RepositoryTarget],
    ['a mirror for this registry', mirrorConfigFromFlags([`${inject('registryHost')}=mirror:5000`]), MirroredRepository],
    ['a mirror for every registry', mirrorConfigFromFlags(['mirror:5000']), MirroredRepository],
  ])('%s', async (_name, mirrors, kind) => {
    factory = new TargetFactory({ connection, ...(mirrors ? { mirrors } : {}) });
    const spec = parseTargetSpec(`${inject('registryHost')}/mirrors/wiring:v1`);
    expect(await factory.openForRead(spec)).toBeInstanceOf(kind);
    expect(await factory.open(spec)).toBeInstanceOf(RepositoryTarget); // writes: always the origin
  });
});
