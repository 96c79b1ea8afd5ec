/**
 * Driving ocifs the way a user does: the built CLI (`bin/ocifs` over dist/), as child processes.
 *
 * By default the bench copies bin/, dist/ and package.json to .bench/build at start and runs that
 * copy: other engineers rebuild dist/ while a 20-minute bench runs, and every number of one run
 * must come from the same code. Packages still resolve from the repository's node_modules
 * (.bench/build is inside the repository).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './proc.mjs';

export async function prepareCli(root, benchDir, { snapshot = true } = {}) {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  let base = root;
  if (snapshot) {
    base = join(benchDir, 'build');
    await rm(base, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    await cp(join(root, 'dist'), join(base, 'dist'), { recursive: true });
    await cp(join(root, 'bin'), join(base, 'bin'), { recursive: true });
    await cp(join(root, 'package.json'), join(base, 'package.json'));
  }
  return new OcifsCli(join(base, 'bin', 'ocifs'));
}

export class OcifsCli {
  constructor(bin) {
    this.bin = bin;
  }

  /** The environment of every ocifs process: its own cache directory, quiet logs. */
  env(cacheDir, extra = {}) {
    return { ...process.env, OCIFS_CACHE_DIR: cacheDir, OCIFS_LOG_LEVEL: 'warn', ...extra };
  }

  /** argv for spawning ocifs (node options first, e.g. --cpu-prof). */
  argv(args, nodeArgs = []) {
    return [...nodeArgs, this.bin, ...args];
  }

  run(args, { cacheDir, cwd, stdout = 'pipe', allowFailure, nodeArgs } = {}) {
    return run(process.execPath, this.argv(args, nodeArgs), { cwd, env: this.env(cacheDir), stdout, allowFailure });
  }

  /** `ocifs status MOUNTPOINT --json`: the daemon's counters (reader.*, registry.*, metadata.*). */
  async status(mountpoint, cacheDir) {
    const { stdout } = await this.run(['status', mountpoint, '--json'], { cacheDir });
    return JSON.parse(stdout);
  }
}
