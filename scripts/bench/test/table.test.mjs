import { describe, expect, test } from 'vitest';
import { makeLine } from '../results.mjs';
import { formatBytes, formatSummary, formatValue, renderEvidence, renderTable } from '../table.mjs';

describe('formatValue', () => {
  test.each([
    [412.3e6, 'rate', '412 MB/s'],
    [1.234e6, 'rate', '1.23 MB/s'],
    [0.25, 'seconds', '250 ms'],
    [12.34, 'seconds', '12.3 s'],
    [0, 'bytes', '0 B'],
    [1536, 'bytes', '1.50 KiB'],
    [3.5 * 2 ** 20, 'bytes', '3.50 MiB'],
    [2 ** 30, 'bytes', '1.00 GiB'],
    [161e6, 'MB', '161 MB'],
    [3, 'count', '3'],
    [0.5234, 'ratio', '0.52x'],
    [NaN, 'rate', '?'],
  ])('%s %s -> %s', (v, unit, text) => {
    expect(formatValue(v, unit)).toBe(text);
  });
});

test('formatBytes picks the largest unit below 1024', () => {
  expect(formatBytes(1023)).toBe('1023 B');
  expect(formatBytes(300 * 2 ** 20)).toBe('300 MiB');
});

test('formatSummary shows min-max only when runs differ', () => {
  expect(formatSummary({ median: 2, min: 1, max: 3, n: 3 }, 'count')).toBe('2 (1–3)');
  expect(formatSummary({ median: 2, min: 2, max: 2, n: 3 }, 'count')).toBe('2');
  expect(formatSummary(undefined, 'count')).toBe('no data');
});

test('renderTable: one row per line, verdicts, unavailable peers and escaped pipes', () => {
  const lines = [
    makeLine({ case: 'a', title: 'cold read', measure: 'throughput', unit: 'rate', subject: { name: 'ocifs', samples: [50e6, 60e6, 70e6] }, peer: { name: 'curl', samples: [100e6, 100e6, 100e6] }, target: { text: '>= 0.6x', on: 'ratio', op: '>=', value: 0.6 } }),
    makeLine({ case: 'b', title: 'push | small', measure: 'time', unit: 'seconds', subject: { name: 'ocifs', samples: [2] }, peer: { name: 'skopeo', unavailable: 'not installed' }, target: { text: '<= 0.25x', on: 'ratio', op: '<=', value: 0.25 } }),
  ];
  const rows = renderTable(lines).split('\n');
  expect(rows).toHaveLength(4);
  expect(rows[2]).toBe('| cold read — throughput | ocifs 60.0 MB/s (50.0 MB/s–70.0 MB/s) | curl 100 MB/s | 0.60x (0.50x–0.70x) | >= 0.6x | **PASS** |');
  expect(rows[3]).toContain('push \\| small');
  expect(rows[3]).toContain('skopeo: n/a (not installed)');
  expect(rows[3]).toMatch(/\| n\/a \|$/);
});

test('renderEvidence lists medians per case', () => {
  const text = renderEvidence({ 'seq-cold': { requests: { unit: 'count', summary: { median: 14, min: 14, max: 14, n: 3 } } } });
  expect(text).toBe('- **seq-cold**: requests 14');
});
