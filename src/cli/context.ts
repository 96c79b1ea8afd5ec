/**
 * What every command gets: the resolved configuration, a logger, a target factory and the
 * streams to write to. Commands receive it; none of them reads the environment itself.
 */
import { join } from 'node:path';
import { resolveConfig, type Config, type Env, type GlobalFlags } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import type { TargetFactory } from '../targets.js';

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

/** What a command needs besides the basics. */
export interface ContextNeeds {
  /** Registry and layout targets (default true). */
  targets?: boolean;
}

/**
 * For a command declared without targets (`pack`): loading the target factory pulls in the HTTP
 * client and the mirror support, about half of the CLI's start-up, which such a command never
 * uses. Using it is a bug in the command, reported as one.
 */
const NO_TARGETS = new Proxy({} as TargetFactory, {
  get: (_target, key) =>
    key === 'close'
      ? async () => undefined
      : () => {
          throw new Error(`internal error: ctx.targets.${String(key)} used by a command declared without targets`);
        },
});

export async function createContext(flags: GlobalFlags, env: Env, signal: AbortSignal, needs: ContextNeeds = {}): Promise<CommandContext> {
  const config = resolveConfig(flags, env);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const targets =
    needs.targets === false
      ? NO_TARGETS
      : new (await import('../targets.js')).TargetFactory({
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
