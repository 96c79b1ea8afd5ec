/**
 * Credentials from Docker's config.json, as `docker login` and ORAS keep them: `auths` entries
 * (`auth` = base64 user:password, `username`/`password`, `identitytoken`, `registrytoken`),
 * `credHelpers` per registry and a default `credsStore`, both run as `docker-credential-<name>`.
 * `store`/`erase` back `ocifs login`/`logout`. The directory is given by the caller (the CLI reads
 * $DOCKER_CONFIG); only `defaultDockerConfigDir` looks at the environment.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidContentError, localIOError } from '../errors.js';
import { helperErase, helperGet, helperStore } from './credential-helper.js';
import type { Credential, CredentialProvider } from './credentials.js';

export function defaultDockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/** The shape we read; everything else in the file is kept untouched on write. */
export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [other: string]: unknown;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** The key docker writes for Docker Hub, and the server URL its helpers expect. */
export const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/';

/** `https://host:port/v1/` -> `host:port`, as docker's ConvertToHostname; Docker Hub names -> `docker.io`. */
export function hostnameOfKey(key: string): string {
  let host = key.replace(/^https?:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  host = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

/** The key under `auths` and the server URL given to helpers for a registry. */
export function serverUrlFor(registry: string): string {
  return hostnameOfKey(registry) === 'docker.io' ? DOCKER_HUB_SERVER_URL : registry;
}

/** The credential an `auths` entry holds, or undefined when it holds none (e.g. `{}` left by a credsStore login). */
export function credentialFromEntry(entry: AuthEntry): Credential | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) {
    const username = typeof entry.username === 'string' ? entry.username : undefined;
    return username ? { identityToken: entry.identitytoken, username } : { identityToken: entry.identitytoken };
  }
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) return { registryToken: entry.registrytoken };
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidContentError('Docker config.json has an `auth` entry that is not base64 of user:password');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.password) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** The `auths` keys that mean this registry (docker writes `https://host`, `host`, `https://index.docker.io/v1/`...). */
export function matchingAuthKeys(config: DockerConfigFile, registry: string): string[] {
  const want = hostnameOfKey(registry);
  return Object.keys(config.auths ?? {}).filter((k) => hostnameOfKey(k) === want);
}

/** Which helper manages this registry, if any: credHelpers first, then credsStore. */
export function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  const want = hostnameOfKey(registry);
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (hostnameOfKey(key) === want && helper) return helper;
  }
  return config.credsStore || undefined;
}

export interface DockerConfigOptions {
  /** Environment for credential helpers (PATH to find them). Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export class DockerConfigCredentials implements CredentialProvider {
  readonly configDir: string;
  readonly configPath: string;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(configDir: string = defaultDockerConfigDir(), options: DockerConfigOptions = {}) {
    this.configDir = configDir;
    this.configPath = join(configDir, 'config.json');
    this.env = options.env;
  }

  async get(registry: string): Promise<Credential | undefined> {
    const config = await this.read();
    const helper = helperFor(config, registry);
    if (helper) {
      const fromHelper = await helperGet(helper, serverUrlFor(registry), this.env);
      if (fromHelper) return fromHelper;
      // A credsStore that knows nothing of this registry: the file may still hold an entry.
    }
    for (const key of matchingAuthKeys(config, registry)) {
      const entry = config.auths?.[key];
      const credential = entry ? credentialFromEntry(entry) : undefined;
      if (credential) return credential;
    }
    return undefined;
  }

  /** Saves credentials: into the helper when one manages this registry, else base64 into `auths`. */
  async store(registry: string, username: string, password: string): Promise<void> {
    const config = await this.read();
    const key = serverUrlFor(registry);
    const helper = helperFor(config, registry);
    config.auths ??= {};
    for (const old of matchingAuthKeys(config, registry)) delete config.auths[old];
    if (helper) {
      await helperStore(helper, key, username, password, this.env);
      config.auths[key] = {}; // as docker does: records that a login happened, secrets stay in the helper
    } else {
      config.auths[key] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
    }
    await this.write(config);
  }

  async erase(registry: string): Promise<void> {
    const config = await this.read();
    const helper = helperFor(config, registry);
    if (helper) await helperErase(helper, serverUrlFor(registry), this.env);
    const keys = matchingAuthKeys(config, registry);
    if (keys.length === 0) return;
    for (const key of keys) delete config.auths![key];
    await this.write(config);
  }

  private async read(): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.configPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw localIOError(err, `cannot read ${this.configPath}`);
    }
    if (text.trim() === '') return {};
    try {
      const json = JSON.parse(text) as unknown;
      if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not an object');
      return json as DockerConfigFile;
    } catch (err) {
      throw new InvalidContentError(`${this.configPath} is not valid JSON: ${(err as Error).message}`, {
        hint: 'fix or remove that file',
      });
    }
  }

  /** Atomic: a private temp file in the same directory, then rename; mode 0600 (it holds secrets). */
  private async write(config: DockerConfigFile): Promise<void> {
    const tmp = `${this.configPath}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(this.configDir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.configPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw localIOError(err, `cannot write ${this.configPath}`);
    }
  }
}
