/**
 * Configuration is read here, once: command-line flags first, then OCIFS_* environment
 * variables, then defaults. Everything below receives plain values; no module reads
 * process.env on its own.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import type { LogLevel } from './log.js';
// Not the mirrors barrel: it would load the HTTP client for every command, pack included.
import { resolveMirrorConfig } from './mirrors/load.js';
import type { MirrorConfig } from './mirrors/config.js';

export interface ConnectionConfig {
  /** Speak HTTP, not HTTPS (default for localhost and 127.0.0.0/8, as ORAS). */
  plainHttp: boolean | undefined;
  /** HTTPS without certificate verification. */
  insecure: boolean;
  caFile: string | undefined;
  /** Directory of Docker's config.json (credentials). */
  dockerConfigDir: string;
}

export interface Config extends ConnectionConfig {
  cacheDir: string;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  debug: boolean;
  /** Pull-through mirrors to read through (docs/mirrors.md); undefined when none are configured. */
  mirrors: MirrorConfig | undefined;
}

export interface GlobalFlags {
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  registryConfig?: string;
  cacheDir?: string;
  logLevel?: string;
  logFormat?: string;
  debug?: boolean;
  mirror?: string[];
  mirrorConfig?: string;
}

export type Env = Record<string, string | undefined>;

export function resolveConfig(flags: GlobalFlags, env: Env = process.env): Config {
  const home = env.HOME || homedir();
  const logLevel = (flags.logLevel ?? env.OCIFS_LOG_LEVEL ?? (flags.debug ? 'debug' : 'info')) as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new InvalidArgumentError(`invalid log level ${JSON.stringify(logLevel)}`, { hint: 'use debug, info, warn, error or silent' });
  }
  const logFormat = flags.logFormat ?? env.OCIFS_LOG_FORMAT ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new InvalidArgumentError(`invalid log format ${JSON.stringify(logFormat)}`, { hint: 'use text or json' });
  }
  const caFile = flags.caFile ?? env.OCIFS_CA_FILE;
  const insecure = flags.insecure ?? false;
  return {
    // Unset: HTTP for localhost and 127.0.0.0/8 (as ORAS), HTTPS elsewhere. Asking for a CA or
    // for unverified TLS means HTTPS, wherever the registry is.
    plainHttp: flags.plainHttp ? true : caFile || insecure ? false : undefined,
    insecure,
    caFile,
    dockerConfigDir: flags.registryConfig ?? env.DOCKER_CONFIG ?? join(home, '.docker'),
    cacheDir: flags.cacheDir ?? env.OCIFS_CACHE_DIR ?? join(env.XDG_CACHE_HOME || join(home, '.cache'), 'ocifs'),
    logLevel,
    logFormat,
    debug: flags.debug ?? false,
    mirrors: mirrorsFrom(flags.mirror ?? [], flags.mirrorConfig ?? env.OCIFS_MIRRORS),
  };
}

function mirrorsFrom(flags: string[], file: string | undefined): MirrorConfig | undefined {
  return flags.length > 0 || file ? resolveMirrorConfig(flags, file) : undefined;
}

/** `10G`, `512M`, `1.5GiB`, `1000000` -> bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new InvalidArgumentError(`invalid size ${JSON.stringify(text)}`, { hint: 'use a number with an optional K, M, G or T suffix, e.g. 10G' });
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * unit);
}

/** `30s`, `5m`, `1h`, `250ms`, `0`, or plain seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`invalid duration ${JSON.stringify(text)}`, { hint: 'use e.g. 30s, 5m, 1h or 0' });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
