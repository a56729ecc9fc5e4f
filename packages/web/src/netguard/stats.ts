/**
 * The overview's figures as the console shows them: the windows an administrator can look back
 * over, shares of blocked queries, bar lengths, and what blocked a name (a shipped category or
 * an uploaded list).
 */
import { netguardCategoryIds, type CategoryId } from '@rempart/core';

/** The windows offered, in hours: the last hour, day and week. */
export const statsWindows = [1, 24, 168] as const;
export type StatsWindow = (typeof statsWindows)[number];

/** How often the overview asks again while it is shown. */
export const STATS_REFRESH_MS = 10_000;

export function isStatsWindow(value: number): value is StatsWindow {
  return (statsWindows as readonly number[]).includes(value);
}

/** A plot over a day or less is read in times of day; over longer, in dates and times. */
export function timeScale(hours: number): 'time' | 'dateTime' {
  return hours <= 24 ? 'time' : 'dateTime';
}

/**
 * `part` as a fraction of `whole`, from 0 to 1; 0 when there is no whole.
 *
 * @example
 *   share(25, 200) // → 0.125
 */
export function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(1, Math.max(0, part / whole)) : 0;
}

/**
 * Each value's bar as a percentage of `largest` (of the largest value when not given), so the
 * first of a sorted list fills its row; never past a full row.
 *
 * @example
 *   barLengths([40, 10, 0])   // → [100, 25, 0]
 *   barLengths([5, 1], 40)    // → [12.5, 2.5]
 */
export function barLengths(values: readonly number[], largest = Math.max(0, ...values)): number[] {
  return values.map((value) =>
    largest > 0 ? Math.min(100, Math.round((Math.max(0, value) / largest) * 1000) / 10) : 0,
  );
}

/** Where a block came from: one of the categories that ship with Rempart, or a stored list by its name. */
export type BlockSource = { kind: 'category'; id: CategoryId } | { kind: 'list'; name: string };

const categoryIds: ReadonlySet<string> = new Set(netguardCategoryIds);
/** Whether `value` names one of the categories that ship with Rempart. */
export const isCategoryId = (value: string): value is CategoryId => categoryIds.has(value);

/**
 * The source of a block as the query log names it: the shipped categories are logged under
 * their ids, the stored lists under their names.
 *
 * @example
 *   blockSource('spyware')      // → { kind: 'category', id: 'spyware' }
 *   blockSource('ads-network')  // → { kind: 'list', name: 'ads-network' }
 */
export function blockSource(list: string, category?: CategoryId): BlockSource {
  if (category !== undefined) return { kind: 'category', id: category };
  return isCategoryId(list) ? { kind: 'category', id: list } : { kind: 'list', name: list };
}
