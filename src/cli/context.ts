/**
 * What every command gets: the resolved configuration, a logger, a target factory and the
 * streams to write to. Commands receive it; none of them reads the environment itself.
 */
import { join } from 'node:path';
import { resolveConfig, type Config, type Env, type GlobalFlags } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { TargetFactory } from '../targets.js';

export interface Output {
  /** Results (what a script pipes on). */
  out(line: string): void;
  /** Progress and notes (what a person reads). */
  note(line: string): void;
  isTTY: boolean;
}

export interface CommandContext {
  config: Config;
  logger: Logger;
  targets: TargetFactory;
  output: Output;
  env: Env;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

export function createContext(flags: GlobalFlags, env: Env, signal: AbortSignal): CommandContext {
  const config = resolveConfig(flags, env);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const targets = new TargetFactory({
    connection: config,
    mirrors: config.mirrors,
    uploadStateFile: join(config.cacheDir, 'uploads.json'),
    logger,
  });
  const output: Output = {
    out: (line) => process.stdout.write(line + '\n'),
    note: (line) => process.stderr.write(line + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
  return { config, logger, targets, output, env, signal };
}
