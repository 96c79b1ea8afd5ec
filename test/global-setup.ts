/**
 * Starts one anonymous reference registry for the whole run; tests that need other
 * configurations (auth, TLS, proxy) start their own with test/helpers/registry.ts.
 */
import type { TestProject } from 'vitest/node';
import { startRegistry, type RunningRegistry } from './helpers/registry.js';

let registry: RunningRegistry | undefined;

export async function setup(project: TestProject): Promise<void> {
  registry = await startRegistry();
  project.provide('registryHost', registry.host);
}

export async function teardown(): Promise<void> {
  await registry?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    registryHost: string;
  }
}
