/**
 * Result lines -> a markdown table, and the number formats it uses. Pure.
 */

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '?';
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${IEC[i]}`;
}

function significant(v, digits = 3) {
  if (v === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(v)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return v.toFixed(decimals);
}

/** A sample in its unit, for humans. */
export function formatValue(v, unit) {
  if (!Number.isFinite(v)) return '?';
  switch (unit) {
    case 'rate':
      return `${significant(v / 1e6)} MB/s`;
    case 'seconds':
      return v < 1 ? `${significant(v * 1000)} ms` : `${significant(v)} s`;
    case 'bytes':
      return formatBytes(v);
    case 'MB':
      return `${significant(v / 1e6)} MB`;
    case 'count':
      return String(Math.round(v * 100) / 100);
    case 'ratio':
      return `${significant(v, 2)}x`;
    default:
      return String(v);
  }
}

/** `median (min–max)`, or just the value for a single run. */
export function formatSummary(summary, unit) {
  if (!summary) return 'no data';
  const median = formatValue(summary.median, unit);
  if (summary.n === 1 || summary.min === summary.max) return median;
  return `${median} (${formatValue(summary.min, unit)}–${formatValue(summary.max, unit)})`;
}

function sideCell(side, unit) {
  if (!side) return '';
  if (side.unavailable) return `${side.name}: n/a (${side.unavailable})`;
  return `${side.name} ${formatSummary(side.summary, unit)}`;
}

function escapeCell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

const VERDICT = { PASS: '**PASS**', MISS: '**MISS**', ERROR: '**ERROR**', 'n/a': 'n/a', report: 'report' };

/** One row per line: | case | measured | peer | ratio | target | result |. */
export function renderTable(lines) {
  const rows = [
    '| case | measured | peer (same runs) | ratio | target | result |',
    '|---|---|---|---|---|---|',
  ];
  for (const line of lines) {
    const cells = [
      line.measure && line.measure !== 'error' ? `${line.title} — ${line.measure}` : line.title,
      sideCell(line.subject, line.unit),
      sideCell(line.peer, line.unit),
      line.ratio?.summary ? formatSummary(line.ratio.summary, 'ratio') : '',
      line.target?.text ?? (line.reference ? `(${line.reference})` : '—'),
      VERDICT[line.verdict] ?? line.verdict,
    ];
    rows.push(`| ${cells.map(escapeCell).join(' | ')} |`);
  }
  const notes = lines.filter((l) => l.note).map((l) => `- ${l.title} — ${l.measure}: ${l.note}`);
  return rows.join('\n') + (notes.length ? `\n\n${notes.join('\n')}` : '');
}

/** Evidence (counters per case) as a short markdown list of medians. */
export function renderEvidence(evidence) {
  const out = [];
  for (const [caseId, items] of Object.entries(evidence)) {
    const parts = Object.entries(items).map(([key, { summary, unit }]) => `${key} ${formatSummary(summary, unit)}`);
    if (parts.length) out.push(`- **${caseId}**: ${parts.join('; ')}`);
  }
  return out.join('\n');
}
