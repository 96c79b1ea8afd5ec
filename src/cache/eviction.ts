/**
 * Which blobs to evict: least recently used first, never a pinned one, until the total is at or
 * below the target. Pure: the caller supplies candidates (oldest access first) and a pin check.
 */

export interface EvictionCandidate {
  id: number;
  digest: string;
  bytesPresent: number;
}

export interface EvictionPlan<C extends EvictionCandidate> {
  victims: C[];
  /** Total after evicting the victims. */
  remaining: number;
  /** Candidates passed over because they are pinned. */
  skippedPinned: number;
}

export function chooseVictims<C extends EvictionCandidate>(
  candidatesOldestFirst: Iterable<C>,
  total: number,
  target: number,
  isPinned: (candidate: C) => boolean,
): EvictionPlan<C> {
  const victims: C[] = [];
  let remaining = total;
  let skippedPinned = 0;
  for (const candidate of candidatesOldestFirst) {
    if (remaining <= target) break;
    if (isPinned(candidate)) {
      skippedPinned++;
      continue;
    }
    victims.push(candidate);
    remaining -= candidate.bytesPresent;
  }
  return { victims, remaining, skippedPinned };
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * The default size limit: 10 GiB, but never more than 80% of what the cache could grow into
 * (free space plus what it already holds), so a small disk is not filled; at least 64 MiB.
 */
export function defaultMaxSize(freeBytes: number, cachedBytes: number): number {
  const fraction = Math.floor(0.8 * (freeBytes + cachedBytes));
  return Math.max(64 * MiB, Math.min(10 * GiB, fraction));
}
