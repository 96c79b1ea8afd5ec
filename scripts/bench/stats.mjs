/**
 * Summaries of repeated measurements, and the judgement of a target. Pure.
 *
 * Ratios are paired: run i of the subject against run i of its peer, measured back to back, so
 * that the machine's load (other work on 2 shared cores) affects both sides of a ratio alike.
 */

/** { median, min, max, n } of the finite samples, or undefined when there are none. */
export function summarize(samples) {
  const xs = samples.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { median, min: xs[0], max: xs[xs.length - 1], n: xs.length };
}

/** a[i] / b[i] for every run where both are finite and b[i] is not 0. */
export function pairedRatios(a, b) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isFinite(x) && Number.isFinite(y) && y !== 0) out.push(x / y);
  }
  return out;
}

const COMPARE = {
  '>=': (x, v) => x >= v,
  '<=': (x, v) => x <= v,
  '<': (x, v) => x < v,
  '>': (x, v) => x > v,
  '==': (x, v) => x === v,
};

/**
 * 'PASS' | 'MISS' | 'n/a'. The median decides, unless the target asks for the worst run
 * (`worst: true`, for counts that must hold every time, like "no blob fetch").
 */
export function judge(target, summary) {
  if (!target || !summary) return 'n/a';
  const compare = COMPARE[target.op];
  if (!compare) throw new Error(`unknown comparison ${target.op}`);
  if (!target.worst) return compare(summary.median, target.value) ? 'PASS' : 'MISS';
  const worst = target.op.startsWith('>') ? summary.min : summary.max;
  return compare(worst, target.value) ? 'PASS' : 'MISS';
}
