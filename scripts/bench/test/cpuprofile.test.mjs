import { expect, test } from 'vitest';
import { topSelfTime } from '../cpuprofile.mjs';

test('self time per function, idle apart, shares of busy time', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      { id: 3, callFrame: { functionName: 'copy', url: 'file:///srv/ocifs/dist/read/reader.js', lineNumber: 9 } },
      { id: 4, callFrame: { functionName: '', url: 'file:///srv/ocifs/node_modules/undici/lib/x.js', lineNumber: 0 } },
      { id: 5, callFrame: { functionName: 'copy', url: 'file:///srv/ocifs/dist/read/reader.js', lineNumber: 9 } },
    ],
    samples: [2, 3, 4, 5, 3, 2],
    timeDeltas: [5000, 1000, 1000, 1000, 1000, 5000],
  };
  const { busyMs, idleMs, top } = topSelfTime(profile);
  expect(idleMs).toBe(10);
  expect(busyMs).toBe(4);
  expect(top).toEqual([
    { name: 'copy', where: 'dist/read/reader.js:10', selfMs: 3, share: 75 },
    { name: '(anonymous)', where: 'node_modules/undici/lib/x.js:1', selfMs: 1, share: 25 },
  ]);
});
