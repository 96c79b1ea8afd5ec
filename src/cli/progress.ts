/**
 * Progress bars on a terminal (cli-progress), nothing otherwise: scripts and CI logs get the
 * one-line summary each command prints at the end. cli-progress is loaded only for a terminal
 * (~20 ms of every start otherwise).
 */
import type { SingleBar } from 'cli-progress';
import { humanSize } from './format.js';

export interface Progress {
  add(id: string, label: string, total: number): void;
  advance(id: string, bytes: number): void;
  finish(id: string, note?: string): void;
  stop(): void;
}

const noProgress: Progress = { add() {}, advance() {}, finish() {}, stop() {} };

export async function createProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Promise<Progress> {
  if (!enabled) return noProgress;
  const { default: cliProgress } = await import('cli-progress');
  const multi = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      format: ' {bar} {percentage}% | {done}/{size} | {label}',
      barsize: 24,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: SingleBar; value: number; total: number; label: string }>();
  const totalBar = multi.create(0, 0, { label: 'total', done: humanSize(0), size: humanSize(0) });
  let total = 0;
  let totalDone = 0;
  return {
    add(id, label, size) {
      if (bars.has(id)) return;
      const shown = label.length > 48 ? '…' + label.slice(-47) : label;
      const bar = multi.create(Math.max(size, 1), 0, { label: shown, done: humanSize(0), size: humanSize(size) });
      bars.set(id, { bar, value: 0, total: size, label: shown });
      total += size;
      totalBar.setTotal(Math.max(total, 1));
      totalBar.update(totalDone, { size: humanSize(total) });
    },
    advance(id, bytes) {
      const b = bars.get(id);
      if (!b) return;
      b.value += bytes;
      totalDone += bytes;
      b.bar.update(b.value, { done: humanSize(b.value) });
      totalBar.update(totalDone, { done: humanSize(totalDone) });
    },
    finish(id, note) {
      const b = bars.get(id);
      if (!b) return;
      totalDone += b.total - b.value;
      b.value = b.total;
      b.bar.update(Math.max(b.total, 1), { done: humanSize(b.total), label: note ? `${b.label} (${note})` : b.label });
      totalBar.update(totalDone, { done: humanSize(totalDone) });
    },
    stop() {
      multi.stop();
    },
  };
}
