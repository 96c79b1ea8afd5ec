/**
 * `ocifs login`, `ls` and `push` as users run them against the real registry with bearer-token
 * auth (a pull-only and a pull+push user) and with TLS from a test CA.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEnv, type CliEnv } from '../helpers/cli.js';
import { startTokenRegistry, type TokenRegistry } from '../helpers/auth-registries.js';
import { makeTestCA, type TestCA } from '../helpers/tls.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';

let cli: CliEnv;
let work: string;

beforeAll(async () => {
  cli = await cliEnv();
  work = join(cli.home, 'work');
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'f.txt'), 'token-protected\n');
});
afterAll(async () => {
  await cli?.cleanup();
});

describe('bearer-token auth', () => {
  let reg: TokenRegistry;
  beforeAll(async () => {
    reg = await startTokenRegistry({ writer: { password: 'w-pass', role: 'push' }, reader: { password: 'r-pass', role: 'pull' } });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  test('the pushing user pushes; the pull-only user lists but is denied a push (exit 4)', async () => {
    const host = reg.registry.host;
    const ref = `${host}/team/data:v1`;
    // Each user has their own Docker config, as on two machines.
    const writer = { DOCKER_CONFIG: join(cli.home, 'writer') };
    const reader = { DOCKER_CONFIG: join(cli.home, 'reader') };
    expect((await cli.run(['login', host, '-u', 'writer', '--password-stdin'], { input: 'w-pass', env: writer })).code).toBe(0);
    const pushed = await cli.run(['push', 'f.txt', ref], { cwd: work, env: writer });
    expect(pushed.stderr).toMatch(/pushed/);
    expect(pushed.code).toBe(0);

    expect((await cli.run(['login', host, '-u', 'reader', '--password-stdin'], { input: 'wrong', env: reader })).code).toBe(4);
    expect((await cli.run(['login', host, '-u', 'reader', '--password-stdin'], { input: 'r-pass', env: reader })).code).toBe(0);
    const ls = await cli.run(['ls', ref, '--json'], { env: reader });
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout).files[0].title).toBe('f.txt');
    const denied = await cli.run(['push', 'f.txt', `${host}/team/data:v2`], { cwd: work, env: reader });
    expect(denied.code).toBe(4);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);

    const anonymous = await cli.run(['ls', ref], { env: { DOCKER_CONFIG: join(cli.home, 'nobody') } });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/ocifs login/);
  });
});

describe('TLS with a test CA', () => {
  let ca: TestCA;
  let registry: RunningRegistry;
  beforeAll(async () => {
    ca = await makeTestCA();
    registry = await startRegistry({ tls: { certificate: ca.serverCert, key: ca.serverKey } });
  });
  afterAll(async () => {
    await registry?.stop();
    await ca?.cleanup();
  });

  test('--ca-file trusts it; without it the error says what to do; --insecure skips verification', async () => {
    // 127.0.0.1 defaults to plain HTTP (as ORAS): a TLS registry there needs HTTPS asked for,
    // which --ca-file and --insecure do.
    const ref = `${registry.host}/secure/data:v1`;
    const pushed = await cli.run(['--ca-file', ca.caCert, 'push', 'f.txt', ref], { cwd: work });
    expect(pushed.code).toBe(0);
    const untrusted = await cli.run(['ls', `${registry.host}/secure/data`]);
    expect(untrusted.code).toBe(5);
    expect(untrusted.stderr).toMatch(/--ca-file|--insecure|--plain-http|https/i);
    const insecure = await cli.run(['--insecure', 'ls', `${registry.host}/secure/data`]);
    expect(insecure.stdout.trim()).toBe('v1');
    expect(insecure.code).toBe(0);
  });
});
