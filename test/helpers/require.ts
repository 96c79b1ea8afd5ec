import { execFileSync } from 'node:child_process';

/**
 * Fails (never skips) when a tool the test needs is missing, saying how to install it.
 */
export function requireCommand(command: string, install: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${command} is not installed: run \`${install}\` (./scripts/test.sh does this)`);
  }
}
