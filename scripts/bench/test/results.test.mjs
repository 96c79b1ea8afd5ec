import { expect, test } from 'vitest';
import { createEvidence, errorLine, makeLine } from '../results.mjs';

const base = { case: 'c', title: 'cold read', measure: 'throughput', unit: 'rate' };

test('a ratio target is judged on the paired ratios', () => {
  const line = makeLine({
    ...base,
    subject: { name: 'ocifs', samples: [60, 70, 80] },
    peer: { name: 'curl', samples: [100, 100, 100] },
    target: { text: '>= 0.6x', on: 'ratio', op: '>=', value: 0.6 },
  });
  expect(line.ratio.samples).toEqual([0.6, 0.7, 0.8]);
  expect(line.ratio.summary.median).toBeCloseTo(0.7);
  expect(line.verdict).toBe('PASS');
});

test('a value target is judged on the subject alone', () => {
  const line = makeLine({ ...base, unit: 'count', subject: { name: 'ocifs', samples: [1, 2, 1] }, target: { on: 'value', op: '==', value: 1, worst: true } });
  expect(line.verdict).toBe('MISS');
  expect(line.ratio).toBeUndefined();
});

test('an unavailable peer makes a ratio target n/a and says why', () => {
  const line = makeLine({
    ...base,
    subject: { name: 'ocifs', samples: [1] },
    peer: { name: 'skopeo copy', unavailable: 'skopeo not installed' },
    target: { on: 'ratio', op: '>=', value: 1 },
  });
  expect(line.verdict).toBe('n/a');
  expect(line.peer).toEqual({ name: 'skopeo copy', unavailable: 'skopeo not installed' });
});

test('without a target a line is reported, not judged', () => {
  expect(makeLine({ ...base, subject: { name: 'ocifs', samples: [1] } }).verdict).toBe('report');
});

test('errorLine keeps the first line of the error', () => {
  const line = errorLine('seq-cold', 'seq-cold', new Error('mount failed\nstack...'));
  expect(line).toMatchObject({ verdict: 'ERROR', subject: { unavailable: 'mount failed' } });
});

test('evidence collects one sample per run and drops non-numbers', () => {
  const e = createEvidence();
  e.add('seq-cold', 'requests', 10);
  e.add('seq-cold', 'requests', 14);
  e.add('seq-cold', 'requests', NaN);
  e.add('seq-cold', 'cpu', 2.5, 'seconds');
  const json = e.toJSON();
  expect(json['seq-cold'].requests).toMatchObject({ unit: 'count', samples: [10, 14], summary: { median: 12 } });
  expect(json['seq-cold'].cpu.unit).toBe('seconds');
});
