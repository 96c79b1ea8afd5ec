/**
 * A V8 .cpuprofile (node --cpu-prof) -> where the time went: self time per function, largest
 * first. Shares are of the busy time: (idle) is reported on its own, (garbage collector) and
 * (program) count as busy. Pure.
 */

/** { busyMs, idleMs, top: [{ name, where, selfMs, share (% of busy) }] }. */
export function topSelfTime(profile, top = 20) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; it is charged to the sample it leads to.
    const delta = Math.max(0, timeDeltas[i] ?? 0);
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + delta);
  }
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const name = frame.functionName || '(anonymous)';
    const file = frame.url ? frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/') : '';
    const where = file ? `${file}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const item = byFunction.get(key) ?? { name, where, selfMs: 0 };
    item.selfMs += us / 1000;
    byFunction.set(key, item);
  }
  const ranked = [...byFunction.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top)
    .map((f) => ({ ...f, selfMs: Math.round(f.selfMs), share: total ? Math.round((f.selfMs * 1000 * 1000) / total) / 10 : 0 }));
  return { busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), top: ranked };
}
