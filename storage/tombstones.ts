/**
 * Tombstones: the deleted time ranges of one series, as a flat sorted list of disjoint closed
 * intervals `[mint0, maxt0, mint1, maxt1, …]`. Shared by the head and the blocks.
 */

/** Merges [mint, maxt] into sorted disjoint intervals (touching ones join). */
export function mergeInterval(old: readonly number[], mint: number, maxt: number): number[] {
  const merged: number[] = [];
  let a = mint, b = maxt, placed = false;
  for (let i = 0; i < old.length; i += 2) {
    const x = old[i]!, y = old[i + 1]!;
    if (y + 1 < a) merged.push(x, y);
    else if (b + 1 < x) {
      if (!placed) {
        merged.push(a, b);
        placed = true;
      }
      merged.push(x, y);
    } else {
      a = Math.min(a, x);
      b = Math.max(b, y);
    }
  }
  if (!placed) merged.push(a, b);
  return merged;
}

/**
 * For an iterator walking forward in time: the index of the first interval that ends at or
 * after `t`, starting from the previous answer `from` (so a whole walk is linear).
 */
export function tombstoneCursor(tomb: readonly number[], from: number, t: number): number {
  let i = from;
  while (i < tomb.length && tomb[i + 1]! < t) i += 2;
  return i;
}

/** Whether the interval at cursor `i` (from {@link tombstoneCursor}) covers `t`. */
export function coveredAt(tomb: readonly number[], i: number, t: number): boolean {
  return i < tomb.length && tomb[i]! <= t;
}
