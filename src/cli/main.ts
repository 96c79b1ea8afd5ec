/**
 * The ocifs command line: wires commander to one thin module per command. Commands get a
 * CommandContext; errors reach this file only, where they become one line and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { createContext, type CommandContext, type ContextNeeds } from './context.js';
import { ExitCode, exitCodeFor, messageFor } from './exit.js';
import type { GlobalFlags } from '../config.js';
import { VERSION } from './version.js';

export type Action = (ctx: CommandContext, ...args: any[]) => Promise<number | void>;

/** Adapts a command body to commander: builds the context from the global flags, maps errors. */
export type Wrap = (action: Action, needs?: ContextNeeds) => (...args: any[]) => Promise<void>;

type Register = (program: Command, wrap: Wrap) => void;

/**
 * Each command's module, loaded only when that command runs: a short command pays for the
 * modules it uses (module loading was most of the CLI's ~0.8 s start-up: prom-client and the
 * FUSE and SQLite bindings are for `mount`/`cache` only). Help and unknown commands load all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  ls: async () => (await import('./commands/ls.js')).registerLs,
  login: async () => (await import('./commands/login.js')).registerLogin,
  logout: async () => (await import('./commands/login.js')).registerLogout,
  pack: async () => (await import('./commands/pack.js')).registerPack,
  push: async () => (await import('./commands/push.js')).registerPush,
  pull: async () => (await import('./commands/pull.js')).registerPull,
  cp: async () => (await import('./commands/cp.js')).registerCp,
  mount: async () => (await import('./commands/mount.js')).registerMount,
  umount: async () => (await import('./commands/mount.js')).registerUmount,
  unmount: async () => (await import('./commands/mount.js')).registerUmount,
  status: async () => (await import('./commands/mount.js')).registerStatus,
  cache: async () => (await import('./commands/cache.js')).registerCache,
};

/** Global options that take a value as the next argument (their values are not command names). */
const VALUED_GLOBALS = new Set(['--ca-file', '--registry-config', '--cache-dir', '--log-level', '--log-format', '--mirror', '--mirror-config']);

/** The command named in `args` (the arguments after the script), if it is one of ours. */
export function commandIn(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      if (VALUED_GLOBALS.has(arg)) i++;
      continue;
    }
    return Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

export async function buildProgram(
  signal: AbortSignal,
  args: readonly string[] = [],
  env = process.env,
): Promise<{ program: Command; exit: { code: number } }> {
  const exit: { code: number } = { code: ExitCode.Ok };
  const program = new Command('ocifs')
    .description('OCI registries as a filesystem: mount artifacts read-only, pack, push, pull and copy them')
    .version(VERSION, '-V, --version')
    .option('--plain-http', 'use HTTP instead of HTTPS (default for localhost and 127.0.0.1)')
    .option('--insecure', 'use HTTPS without verifying the certificate')
    .option('--ca-file <file>', 'trust this CA certificate (PEM) in addition to the system ones')
    .option('--registry-config <dir>', 'directory of Docker\'s config.json for credentials (default: $DOCKER_CONFIG or ~/.docker)')
    .option('--cache-dir <dir>', 'cache directory (default: $XDG_CACHE_HOME/ocifs)')
    .addOption(new Option('--log-level <level>', 'log detail on stderr').choices(['debug', 'info', 'warn', 'error', 'silent']))
    .addOption(new Option('--log-format <format>', 'log lines as text or JSON').choices(['text', 'json']))
    .option('--debug', 'show debug logs and stack traces')
    .option('--mirror <host>', 'read through this pull-through mirror: HOST, or ORIGIN=HOST (repeatable; see docs/mirrors.md)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--mirror-config <file>', 'JSON file of mirrors per registry (default: $OCIFS_MIRRORS; see docs/mirrors.md)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({
    outputError: (str, write) => write(`ocifs: ${str.replace(/^error: /, '').trim()}\n`),
  });

  const wrap: Wrap =
    (action, needs) =>
    async (...args: any[]) => {
      const cmd = args[args.length - 1] as Command;
      const flags = cmd.optsWithGlobals() as GlobalFlags;
      let ctx: CommandContext | undefined;
      try {
        ctx = await createContext(flags, env, signal, needs);
        const code = await action(ctx, ...args.slice(0, -1));
        exit.code = typeof code === 'number' ? code : ExitCode.Ok;
      } catch (err) {
        process.stderr.write(`ocifs: ${messageFor(err)}\n`);
        if (flags.debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
        exit.code = exitCodeFor(err);
      } finally {
        await ctx?.targets.close().catch(() => {});
      }
    };

  const named = commandIn(args);
  const wanted = named ? [named] : Object.keys(COMMANDS);
  // A Set: aliases (umount/unmount) share one register function, which must run once.
  for (const register of new Set(await Promise.all(wanted.map((name) => COMMANDS[name]!())))) register(program, wrap);
  return { program, exit };
}

export async function main(argv: string[]): Promise<void> {
  const controller = new AbortController();
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted++;
    if (interrupted > 1) process.exit(ExitCode.Interrupted);
    controller.abort(Object.assign(new Error(`interrupted by ${signal}`), { name: 'AbortError' }));
  };
  // `ocifs mount` installs its own handlers (clean unmount); it removes these first.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { program, exit } = await buildProgram(controller.signal, argv.slice(2));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    process.stderr.write(`ocifs: ${messageFor(err)}\n`);
    process.exitCode = exitCodeFor(err);
    return;
  }
  process.exitCode = exit.code;
}
