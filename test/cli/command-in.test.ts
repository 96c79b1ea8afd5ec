import { describe, expect, it } from 'vitest';
import { buildProgram, commandIn } from '../../src/cli/main.js';

describe('commandIn: which command module the CLI loads', () => {
  it.each([
    [['pull', 'r/x:1', '-o', 'out'], 'pull'],
    [['--cache-dir', 'pull', 'ls', 'r/x'], 'ls'], // a global option's value is not the command
    [['--plain-http', 'push', 'l:1', 'r/x:1'], 'push'],
    [['--mirror', 'm:5000', '--mirror', 'n:5000', 'mount', 'r/x', '/mnt'], 'mount'],
    [['--log-level=debug', 'cache', 'stats'], 'cache'],
    [['unmount', '/mnt'], 'unmount'],
    [['help', 'pull'], undefined], // commander's help command: load all
    [['pul', 'x'], undefined], // unknown: load all, so commander can suggest
    [['--help'], undefined],
    [['--', 'pull'], undefined],
    [['constructor'], undefined], // not an own key of the command table
    [[], undefined],
  ])('%j -> %s', (args, expected) => {
    expect(commandIn(args)).toBe(expected);
  });
});

describe('buildProgram', () => {
  it('registers every command once when none is named (help, unknown commands, --version)', async () => {
    const { program } = await buildProgram(new AbortController().signal, ['--version']);
    expect(program.commands.map((c) => c.name()).sort()).toEqual(['cache', 'cp', 'login', 'logout', 'ls', 'mount', 'pack', 'pull', 'push', 'status', 'umount']);
  });

  it('registers only the named command', async () => {
    const { program } = await buildProgram(new AbortController().signal, ['unmount', '/mnt']);
    expect(program.commands.map((c) => c.name())).toEqual(['umount']);
  });
});
