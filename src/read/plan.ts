/**
 * Which Range requests to send for a span of blocks: consecutive blocks that are neither present
 * nor already being fetched, merged into runs of at most `maxBlocks`. Pure.
 */
import type { BlockRange } from '../cache/blocks.js';

export function missingRuns(first: number, last: number, available: (block: number) => boolean, maxBlocks: number): BlockRange[] {
  const runs: BlockRange[] = [];
  let start = -1;
  for (let b = first; b <= last; b++) {
    if (available(b)) {
      if (start >= 0) runs.push({ first: start, last: b - 1 });
      start = -1;
      continue;
    }
    if (start < 0) start = b;
    else if (b - start + 1 > maxBlocks) {
      runs.push({ first: start, last: b - 1 });
      start = b;
    }
  }
  if (start >= 0) runs.push({ first: start, last });
  return runs;
}
