/**
 * Result lines: what a case measured (the subject, e.g. ocifs), against what (the peer, e.g.
 * curl, measured in the same runs), the paired ratio, the target and its verdict. Pure.
 *
 * A line's `unit` says how its samples are written: `rate` (bytes/s), `seconds`, `bytes`,
 * `count`, `MB` (10^6 bytes, for memory).
 */
import { judge, pairedRatios, summarize } from './stats.mjs';

/**
 * @param {object} spec
 *   case, title, measure, unit;
 *   subject: { name, samples } | { name, unavailable };
 *   peer?: the same shape;
 *   target?: { text, on: 'ratio' | 'value', op, value, worst? } (no target: verdict 'report');
 *   reference?: text shown in the target column of a line that is only reported;
 *   note?: shown under the table.
 */
export function makeLine(spec) {
  const subject = side(spec.subject);
  const peer = spec.peer ? side(spec.peer) : undefined;
  const ratioSamples = subject.samples && peer?.samples ? pairedRatios(subject.samples, peer.samples) : undefined;
  const ratio = ratioSamples ? { samples: ratioSamples, summary: summarize(ratioSamples) } : undefined;
  let verdict = 'report';
  if (spec.target) {
    const judged = spec.target.on === 'ratio' ? ratio?.summary : subject.summary;
    verdict = judge(spec.target, judged);
  }
  return {
    case: spec.case,
    title: spec.title,
    measure: spec.measure,
    unit: spec.unit,
    subject,
    ...(peer ? { peer } : {}),
    ...(ratio ? { ratio } : {}),
    ...(spec.target ? { target: spec.target } : {}),
    ...(spec.reference ? { reference: spec.reference } : {}),
    ...(spec.note ? { note: spec.note } : {}),
    verdict,
  };
}

/** A case that could not be measured at all: one line saying why. */
export function errorLine(caseId, title, error) {
  return {
    case: caseId,
    title,
    measure: 'error',
    unit: 'count',
    subject: { name: 'ocifs', unavailable: String(error?.message ?? error).split('\n')[0] },
    verdict: 'ERROR',
  };
}

function side(s) {
  if (s.unavailable) return { name: s.name, unavailable: s.unavailable };
  const samples = s.samples.map((x) => (typeof x === 'number' ? x : NaN));
  return { name: s.name, samples, summary: summarize(samples) };
}

/**
 * Counters and other observations per case (requests, CPU seconds, ...), one sample per run,
 * kept with the results so that a reading of the numbers can point at them.
 */
export function createEvidence() {
  const byCase = {};
  return {
    add(caseId, key, value, unit = 'count') {
      if (typeof value !== 'number' || !Number.isFinite(value)) return;
      const items = (byCase[caseId] ??= {});
      (items[key] ??= { unit, samples: [] }).samples.push(value);
    },
    toJSON() {
      const out = {};
      for (const [caseId, items] of Object.entries(byCase)) {
        out[caseId] = {};
        for (const [key, item] of Object.entries(items)) out[caseId][key] = { ...item, summary: summarize(item.samples) };
      }
      return out;
    },
  };
}
