/**
 * The alerts timeline of the server watch: the windows an administrator looks back over, the time
 * buckets of each, hits counted per bucket and per level, and the geometry of the stacked bars
 * (y grows downwards, as in SVG). Pure: the component only draws what this returns.
 */
import type { Severity } from '@rempart/core';
import { niceScale } from '../netguard/chart';

/** The windows offered, in hours: the last hour, day, week and 30 days. */
export const watchWindows = [1, 24, 168, 720] as const;
export type WatchWindow = (typeof watchWindows)[number];
export const DEFAULT_WATCH_WINDOW: WatchWindow = 24;

export function isWatchWindow(value: number): value is WatchWindow {
  return (watchWindows as readonly number[]).includes(value);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The width of a bar: 5 minutes over an hour, an hour over a day, 6 hours over a week, a day over
 * 30 days — 12 to 31 bars, each wide enough to be pointed at.
 */
export function bucketMs(hours: WatchWindow): number {
  switch (hours) {
    case 1:
      return 5 * MINUTE;
    case 24:
      return HOUR;
    case 168:
      return 6 * HOUR;
    case 720:
      return 24 * HOUR;
  }
}

/** The window ending at `now`, as the API takes it (`from` included, `to` excluded). */
export function windowBounds(hours: number, now: number): { from: string; to: string } {
  return { from: new Date(now - hours * HOUR).toISOString(), to: new Date(now).toISOString() };
}

/** The levels stacked in a bar, from the baseline up: the most serious nearest the axis. */
export const timelineLevels = [
  'critical',
  'high',
  'medium',
  'low',
  'info',
] as const satisfies readonly Severity[];

const namedLevels: ReadonlyMap<string, Severity> = new Map([
  ['critical', 'critical'],
  ['high', 'high'],
  ['medium', 'medium'],
  ['low', 'low'],
]);

/**
 * A Sigma rule's level as the alert stream's severity (Sigma's `informational` is `info`; a rule
 * without a level, or with one Sigma does not name, counts as `info`), as the server maps them.
 *
 * @example
 *   severityOfLevel('informational') // → 'info'
 *   severityOfLevel('high')          // → 'high'
 */
export function severityOfLevel(level: string | null | undefined): Severity {
  return namedLevels.get(level?.toLowerCase() ?? '') ?? 'info';
}

/** What a bar counts of a hit: when, how serious, and how many merged duplicates it stands for. */
export interface TimelineHit {
  at: string;
  level: string | null;
  count: number;
}

export interface TimelineBucket {
  /** The bucket's start (included) and end (excluded). */
  start: string;
  end: string;
  counts: Record<Severity, number>;
  total: number;
}

const emptyCounts = (): Record<Severity, number> => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });

/**
 * Hits counted in buckets of `size` ms covering [from, to): bucket edges fall on multiples of
 * `size` since the epoch (whole hours, whole UTC days), so the bars do not shift as time passes;
 * the first and last buckets may reach outside the window. Hits outside the window are left out;
 * a hit counts for its merged duplicates too.
 *
 * @example
 *   bucketHits([{ at: '2026-03-12T10:20:00Z', level: 'high', count: 2 }],
 *              Date.parse('2026-03-12T10:00:00Z'), Date.parse('2026-03-12T11:00:00Z'), 30 * 60_000)
 *   // → [ { start: '…10:00…', total: 2, counts: { high: 2, … } }, { start: '…10:30…', total: 0, … } ]
 */
export function bucketHits(
  hits: readonly TimelineHit[],
  from: number,
  to: number,
  size: number,
): TimelineBucket[] {
  if (!(size > 0) || !(to > from)) return [];
  const first = Math.floor(from / size) * size;
  const count = Math.ceil((to - first) / size);
  const buckets: TimelineBucket[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = first + i * size;
    buckets.push({
      start: new Date(start).toISOString(),
      end: new Date(start + size).toISOString(),
      counts: emptyCounts(),
      total: 0,
    });
  }
  for (const hit of hits) {
    const at = Date.parse(hit.at);
    if (!Number.isFinite(at) || at < from || at >= to) continue;
    const bucket = buckets[Math.floor((at - first) / size)];
    if (bucket === undefined) continue;
    const weight = Math.max(1, Math.floor(hit.count));
    bucket.counts[severityOfLevel(hit.level)] += weight;
    bucket.total += weight;
  }
  return buckets;
}

/** The sum of each level over the buckets. */
export function levelTotals(
  buckets: readonly TimelineBucket[],
): Record<Severity, number> & { total: number } {
  const totals = { ...emptyCounts(), total: 0 };
  for (const bucket of buckets) {
    for (const level of timelineLevels) totals[level] += bucket.counts[level];
    totals.total += bucket.total;
  }
  return totals;
}

export interface BarSegment {
  level: Severity;
  y: number;
  height: number;
  count: number;
}

export interface TimelineBar {
  start: string;
  end: string;
  x: number;
  width: number;
  total: number;
  /** From the baseline up; levels with no hit are left out. */
  segments: BarSegment[];
}

export interface TimelinePlot {
  max: number;
  step: number;
  bars: TimelineBar[];
  yTicks: { value: number; y: number }[];
  /** The bucket starts labelled under the plot, oldest first. */
  xTicks: { at: string; x: number }[];
}

/** Two decimals are finer than a pixel at any size the plot is shown. */
const round = (value: number): number => Math.round(value * 100) / 100 + 0;

/**
 * The stacked bars of `buckets` in a plot area of `width` × `height`: one slot per bucket, a gap
 * of a fifth of the slot between bars, the tallest bar reaching a readable top of the scale.
 */
export function plotTimeline(
  buckets: readonly TimelineBucket[],
  area: { width: number; height: number },
  options: { yTicks?: number; xTicks?: number } = {},
): TimelinePlot {
  const largest = buckets.reduce((most, bucket) => Math.max(most, bucket.total), 0);
  const { max, step } = niceScale(largest, options.yTicks ?? 4);
  const slot = buckets.length === 0 ? 0 : area.width / buckets.length;
  const gap = slot / 5;
  const scale = (value: number): number => (value / max) * area.height;

  const bars = buckets.map((bucket, index): TimelineBar => {
    // Each edge is placed from the running sum, so rounding never makes segments overlap or
    // a bar outgrow the plot.
    let below = 0;
    const segments: BarSegment[] = [];
    for (const level of timelineLevels) {
      const value = bucket.counts[level];
      if (value <= 0) continue;
      const bottom = round(area.height - scale(below));
      below += value;
      const top = round(area.height - scale(below));
      segments.push({ level, y: top, height: round(bottom - top), count: value });
    }
    return {
      start: bucket.start,
      end: bucket.end,
      x: round(index * slot + gap / 2),
      width: round(slot - gap),
      total: bucket.total,
      segments,
    };
  });

  const yTicks: TimelinePlot['yTicks'] = [];
  for (let value = 0; value <= max; value += step)
    yTicks.push({ value, y: round(area.height - scale(value)) });

  const xTicks: TimelinePlot['xTicks'] = [];
  const wanted = Math.min(buckets.length, Math.max(2, options.xTicks ?? 5));
  const seen = new Set<number>();
  for (let tick = 0; tick < wanted && buckets.length > 1; tick += 1) {
    const index = Math.round((tick * (buckets.length - 1)) / (wanted - 1));
    const bucket = buckets[index];
    if (bucket === undefined || seen.has(index)) continue;
    seen.add(index);
    xTicks.push({ at: bucket.start, x: round(index * slot + slot / 2) });
  }
  return { max, step, bars, yTicks, xTicks };
}

/** A hit as the timeline keeps it between readings. */
export interface KnownHit extends TimelineHit {
  id: string;
}

/**
 * The hits known so far with those read since, newest first, each once: a hit read again replaces
 * the one known (merged duplicates raise its count); hits older than `from` (the window's start,
 * which moves on with time) are dropped.
 *
 * @example
 *   mergeHits([{ id: '1', at: '…08:00…', level: 'high', count: 1 }],
 *             [{ id: '1', at: '…08:00…', level: 'high', count: 3 }, { id: '2', at: '…08:05…', level: 'low', count: 1 }],
 *             Date.parse('2026-12-03T07:00:00Z'))
 *   // → [hit 2, hit 1 with count 3]
 */
export function mergeHits(known: readonly KnownHit[], fresh: readonly KnownHit[], from: number): KnownHit[] {
  const byId = new Map<string, KnownHit>();
  for (const hit of known) byId.set(hit.id, hit);
  for (const hit of fresh) byId.set(hit.id, hit);
  return [...byId.values()]
    .filter((hit) => !(Date.parse(hit.at) < from))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id.localeCompare(a.id));
}
