import { describe, expect, it } from 'vitest';
import { MirrorHealth, type HealthPolicy } from '../../src/mirrors/index.js';

const policy: HealthPolicy = { downBackoffMs: 1_000, maxDownBackoffMs: 4_000, badContentMs: 10_000 };

type Step = ['down' | 'bad' | 'ok' | 'wait', number?];

describe('MirrorHealth', () => {
  it.each<[string, Step[], { usable: boolean; state: string; becameUnusable?: boolean[] }]>([
    ['starts usable', [], { usable: true, state: 'ok' }],
    ['down: skipped during the back-off', [['down'], ['wait', 999]], { usable: false, state: 'down', becameUnusable: [true] }],
    ['down: retried after the back-off', [['down'], ['wait', 1_000]], { usable: true, state: 'down' }],
    // 1s, then 2s, then 4s, capped at 4s.
    ['back-off doubles', [['down'], ['wait', 1_000], ['down'], ['wait', 1_999]], { usable: false, state: 'down', becameUnusable: [true, true] }],
    ['back-off is capped', [['down'], ['wait', 1_000], ['down'], ['wait', 2_000], ['down'], ['wait', 4_000], ['down'], ['wait', 4_000]], { usable: true, state: 'down' }],
    ['an answer resets it', [['down'], ['wait', 1_000], ['ok'], ['down'], ['wait', 1_000]], { usable: true, state: 'down' }],
    ['bad content: benched longer', [['bad'], ['wait', 9_999]], { usable: false, state: 'bad-content', becameUnusable: [true] }],
    ['bad content ends', [['bad'], ['wait', 10_000]], { usable: true, state: 'bad-content' }],
    ['an outage does not shorten bad content', [['bad'], ['down'], ['wait', 5_000]], { usable: false, state: 'bad-content', becameUnusable: [true, false] }],
  ])('%s', (_name, steps, expected) => {
    let now = 0;
    const health = new MirrorHealth(policy, () => now);
    const transitions: boolean[] = [];
    for (const [op, ms] of steps) {
      if (op === 'wait') now += ms ?? 0;
      else if (op === 'ok') health.markOk();
      else transitions.push((op === 'down' ? health.markDown() : health.markBadContent()).becameUnusable);
    }
    expect(health.usable()).toBe(expected.usable);
    expect(health.current).toBe(expected.state);
    if (expected.becameUnusable) expect(transitions).toEqual(expected.becameUnusable);
  });

  it('markOk reports a recovery once', () => {
    const health = new MirrorHealth(policy, () => 0);
    expect(health.markOk()).toBe(false);
    health.markDown();
    expect(health.markOk()).toBe(true);
    expect(health.markOk()).toBe(false);
  });
});
