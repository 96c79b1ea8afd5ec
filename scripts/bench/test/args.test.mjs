import { describe, expect, test } from 'vitest';
import { GROUPS, parseArgs, selectGroups } from '../args.mjs';

describe('parseArgs', () => {
  test.each([
    [[], { quick: false, runs: 3, only: [], profile: false, install: true, snapshot: true }],
    [['--quick'], { quick: true, runs: 1 }],
    [['--quick', '--runs', '2'], { quick: true, runs: 2 }],
    [['--only', 'seq,gdal', '--only', 'repush'], { only: ['seq', 'gdal', 'repush'] }],
    [['--no-install', '--no-snapshot', '--profile', '--keep-tmp'], { install: false, snapshot: false, profile: true, keepTmp: true }],
    [['-h'], { help: true }],
    [['--render', '.bench/results-x.json'], { render: '.bench/results-x.json' }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv)).toMatchObject(expected);
  });

  test.each([
    [['--runs', '0'], /positive integer/],
    [['--runs'], /needs a value/],
    [['--only', '--quick'], /needs a value/],
    [['--fast'], /unknown option --fast/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('selectGroups', () => {
  test.each([
    [[], Object.keys(GROUPS)],
    [['seq-hot'], ['seq']],
    [['pack', 'seq'], ['seq', 'pack']],
    [['repush', 'push-big', 'ls-lR-cold'], ['files', 'push']],
  ])('%j -> %j', (only, groups) => {
    expect(selectGroups(only)).toEqual(groups);
  });

  test('an unknown case is an error, not an empty run', () => {
    expect(() => selectGroups(['seq-lukewarm'])).toThrow(/unknown case "seq-lukewarm"/);
  });
});

test('every group named in GROUPS has a runner', async () => {
  const { GROUP_RUNNERS } = await import('../cases/index.mjs');
  expect(Object.keys(GROUP_RUNNERS).sort()).toEqual(Object.keys(GROUPS).sort());
});
