import { describe, expect, it } from 'vitest';
import { commandIn } from '../../src/cli/main.js';

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
