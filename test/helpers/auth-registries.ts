/**
 * The real registry in its authenticated configurations: htpasswd Basic (bcrypt, made with
 * `htpasswd -Bbn`) and bearer tokens from test/helpers/token-server.ts. Each returns the
 * running registry plus what the test needs to talk about it, and `stop()` cleans up all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryOptions, type RunningRegistry } from './registry.js';
import { requireCommand } from './require.js';
import { startTokenServer, type TokenServer, type TokenServerOptions, type TokenUser } from './token-server.js';

export interface AuthRegistry {
  registry: RunningRegistry;
  stop(): Promise<void>;
}

export function htpasswdLine(user: string, password: string): string {
  requireCommand('htpasswd', 'apt-get install --no-install-recommends apache2-utils');
  return execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
}

export async function startBasicRegistry(users: Record<string, string>, extra: Omit<RegistryOptions, 'extraConfig'> = {}): Promise<AuthRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-htpasswd-'));
  try {
    const file = join(dir, 'htpasswd');
    await writeFile(file, Object.entries(users).map(([u, p]) => htpasswdLine(u, p)).join('\n') + '\n');
    const registry = await startRegistry({ ...extra, extraConfig: ['auth:', '  htpasswd:', '    realm: ocifs-basic', `    path: ${file}`].join('\n') });
    return {
      registry,
      stop: async () => {
        await registry.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface TokenRegistry extends AuthRegistry {
  tokenServer: TokenServer;
}

export async function startTokenRegistry(
  users: Record<string, TokenUser>,
  options: Omit<TokenServerOptions, 'dir' | 'users'> = {},
): Promise<TokenRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'ocifs-token-'));
  let tokenServer: TokenServer | undefined;
  try {
    tokenServer = await startTokenServer({ ...options, dir, users });
    const registry = await startRegistry({ extraConfig: tokenServer.registryConfig() });
    const ts = tokenServer;
    return {
      registry,
      tokenServer: ts,
      stop: async () => {
        await registry.stop();
        await ts.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
