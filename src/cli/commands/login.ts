/**
 * `ocifs login` / `ocifs logout`: check credentials against the registry, then keep them in
 * Docker's config.json (or its credential store), where docker, podman, skopeo and oras look too.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../main.js';
import { InvalidArgumentError } from '../../errors.js';
import { parseRegistryHost } from '../../ref/reference.js';
import { DockerConfigCredentials, RegistryClient, StaticCredentials } from '../../registry/index.js';

export function registerLogin(program: Command, wrap: Wrap): void {
  program
    .command('login')
    .description('check credentials for a registry and store them in Docker\'s config.json')
    .argument('<registry>', 'registry host, e.g. 127.0.0.1:5000 or ghcr.io')
    .requiredOption('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password or token (visible to other users of this machine; prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from standard input')
    .addHelpText(
      'after',
      `
Examples:
  echo "$TOKEN" | ocifs login ghcr.io -u me --password-stdin
  ocifs login 127.0.0.1:5000 -u alice -p secret`,
    )
    .action(wrap(login));
}

export function registerLogout(program: Command, wrap: Wrap): void {
  program
    .command('logout')
    .description('remove stored credentials for a registry')
    .argument('<registry>', 'registry host')
    .addHelpText('after', '\nExamples:\n  ocifs logout ghcr.io')
    .action(wrap(logout));
}

async function login(
  ctx: CommandContext,
  registryText: string,
  opts: { username: string; password?: string; passwordStdin?: boolean },
): Promise<void> {
  const registry = parseRegistryHost(registryText);
  let password = opts.password;
  if (opts.passwordStdin) {
    if (password !== undefined) throw new InvalidArgumentError('--password and --password-stdin cannot be used together');
    password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
  }
  if (!password) {
    throw new InvalidArgumentError('no password given', { hint: 'pipe it in with --password-stdin, or pass -p' });
  }
  const c = ctx.config;
  const client = new RegistryClient(registry, {
    plainHttp: c.plainHttp,
    insecure: c.insecure,
    caFile: c.caFile,
    credentials: new StaticCredentials({ [registry]: { username: opts.username, password } }),
    logger: ctx.logger,
  });
  try {
    await client.ping();
  } finally {
    await client.close();
  }
  await new DockerConfigCredentials(c.dockerConfigDir).store(registry, opts.username, password);
  ctx.output.note(`Login succeeded: credentials for ${registry} stored in ${c.dockerConfigDir}`);
}

async function logout(ctx: CommandContext, registryText: string): Promise<void> {
  const registry = parseRegistryHost(registryText);
  await new DockerConfigCredentials(ctx.config.dockerConfigDir).erase(registry);
  ctx.output.note(`Removed credentials for ${registry}`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
