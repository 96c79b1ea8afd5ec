import { expect, test } from 'vitest';
import { missingRuns } from '../../src/read/plan.js';

test.each([
  { name: 'all missing, one run', first: 0, last: 3, present: [], max: 32, runs: [[0, 3]] },
  { name: 'all present, nothing', first: 0, last: 3, present: [0, 1, 2, 3], max: 32, runs: [] },
  { name: 'holes make separate runs', first: 0, last: 6, present: [2, 5], max: 32, runs: [[0, 1], [3, 4], [6, 6]] },
  { name: 'long runs are split at the request limit', first: 0, last: 9, present: [], max: 4, runs: [[0, 3], [4, 7], [8, 9]] },
  { name: 'a window in the middle', first: 10, last: 12, present: [11], max: 4, runs: [[10, 10], [12, 12]] },
  { name: 'limit of one block', first: 0, last: 2, present: [], max: 1, runs: [[0, 0], [1, 1], [2, 2]] },
])('$name', ({ first, last, present, max, runs }) => {
  const result = missingRuns(first, last, (b) => present.includes(b), max);
  expect(result.map((r) => [r.first, r.last])).toEqual(runs);
});
