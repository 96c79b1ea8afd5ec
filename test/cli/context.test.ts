import { describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { TargetFactory } from '../../src/targets.js';

describe('createContext', () => {
  const signal = new AbortController().signal;
  const env = { HOME: '/nonexistent', XDG_CACHE_HOME: '/nonexistent/cache' };

  it('gives a target factory by default', async () => {
    const ctx = await createContext({}, env, signal);
    expect(ctx.targets).toBeInstanceOf(TargetFactory);
    await ctx.targets.close();
  });

  it('a command declared without targets (pack) gets a guard: close() is harmless, any use is a reported bug', async () => {
    const ctx = await createContext({}, env, signal, { targets: false });
    await expect(ctx.targets.close()).resolves.toBeUndefined();
    expect(() => ctx.targets.client('127.0.0.1:5000')).toThrow(/ctx\.targets\.client used by a command declared without targets/);
  });
});
