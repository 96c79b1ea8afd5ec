import { expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../src/cli/version.js';

test('ocifs --version is the package version', () => {
  expect(VERSION).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
});
