import { afterAll, beforeAll, expect, test } from 'vitest';
import { cliEnv, type CliEnv } from '../helpers/cli.js';

let cli: CliEnv;
beforeAll(async () => {
  cli = await cliEnv();
});
afterAll(async () => {
  await cli?.cleanup();
});

test('every command answers --help with usage and examples, exit 0', async () => {
  const commands = ['ls', 'login', 'logout', 'pack', 'push', 'pull', 'cp', 'mount', 'umount', 'status', 'cache'];
  const results = await Promise.all(commands.map((c) => cli.run([c, '--help'])));
  results.forEach((r, i) => {
    expect(r.code, commands[i]).toBe(0);
    expect(r.stdout, commands[i]).toMatch(/^Usage: ocifs /m);
    expect(r.stdout, commands[i]).toMatch(/Examples:\n {2}(ocifs|echo)/);
  });
});
