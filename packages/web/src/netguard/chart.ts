/**
 * The geometry of the traffic plot: queries and blocks over time mapped to SVG path data in a
 * plot area of a given size (y grows downwards, as in SVG), a vertical scale rounded up to a
 * readable number, and the ticks of both axes. Pure: the component only draws what this returns.
 */

export interface TrafficPoint {
  at: string;
  queries: number;
  blocked: number;
}

/** The plot area, in the units of the SVG's viewBox; the axes' labels sit outside it. */
export interface PlotArea {
  width: number;
  height: number;
}

/** One curve: its line, and the same line closed down to the baseline to be filled. */
export interface Curve {
  line: string;
  area: string;
}

export interface TrafficPlot {
  /** The top of the vertical scale: a multiple of `step`, at least the largest count. */
  max: number;
  step: number;
  queries: Curve;
  blocked: Curve;
  /** Horizontal grid lines, from the baseline up. */
  yTicks: { value: number; y: number }[];
  /** The moments labelled under the plot, oldest first. */
  xTicks: { at: string; x: number }[];
}

/** Two decimals are finer than a pixel at any size the plot is shown. */
const round = (value: number): number => Math.round(value * 100) / 100 + 0;

/**
 * A scale from 0 with about `ticks` steps of 1, 2 or 5 times a power of ten, reaching `largest`.
 * Counts are whole numbers, so a step is never less than 1.
 *
 * @example
 *   niceScale(37, 4)  // → { max: 40, step: 10 }
 *   niceScale(0, 4)   // → { max: 1, step: 1 }
 */
export function niceScale(largest: number, ticks: number): { max: number; step: number } {
  if (!(largest > 0)) return { max: 1, step: 1 };
  const raw = largest / Math.max(1, ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, ([1, 2, 5, 10].find((factor) => factor * power >= raw) ?? 10) * power);
  return { max: Math.ceil(largest / step) * step, step };
}

/**
 * Where each point lies across the plot: by its time, so a gap in the series shows as one; by
 * its rank when the times cannot be read or are all the same.
 */
function horizontal(series: readonly TrafficPoint[], width: number): number[] {
  const times = series.map((point) => Date.parse(point.at));
  const first = times[0] ?? 0;
  const span = (times[times.length - 1] ?? 0) - first;
  if (times.every(Number.isFinite) && span > 0) return times.map((time) => ((time - first) / span) * width);
  const last = Math.max(1, series.length - 1);
  return series.map((_, index) => (index / last) * width);
}

function curve(xs: readonly number[], ys: readonly number[], baseline: number): Curve {
  if (xs.length === 0) return { line: '', area: '' };
  const points = xs.map((x, index) => `${round(x)},${round(ys[index] ?? baseline)}`);
  const line = `M${points.join('L')}`;
  const first = round(xs[0] ?? 0);
  const last = round(xs[xs.length - 1] ?? 0);
  return { line, area: `M${first},${round(baseline)}L${points.join('L')}L${last},${round(baseline)}Z` };
}

/**
 * Maps a series to the paths of its two curves in `area`. A lone point is drawn as a level line
 * across the plot; an empty series draws nothing. Negative counts are drawn as 0.
 *
 * @example
 *   plotTraffic(
 *     [
 *       { at: '2026-03-12T10:00:00Z', queries: 40, blocked: 10 },
 *       { at: '2026-03-12T10:01:00Z', queries: 20, blocked: 0 },
 *     ],
 *     { width: 100, height: 50 },
 *   ).queries.line // → 'M0,0L100,25'
 */
export function plotTraffic(
  series: readonly TrafficPoint[],
  area: PlotArea,
  options: { yTicks?: number; xTicks?: number } = {},
): TrafficPlot {
  const largest = series.reduce((most, point) => Math.max(most, point.queries, point.blocked), 0);
  const { max, step } = niceScale(largest, options.yTicks ?? 4);
  const y = (value: number): number => area.height - (Math.max(0, value) / max) * area.height;

  // A lone point has no extent in time: it stands for the whole window.
  const drawn = series.length === 1 && series[0] ? [series[0], series[0]] : series;
  const xs = series.length === 1 ? [0, area.width] : horizontal(drawn, area.width);

  const yTicks: TrafficPlot['yTicks'] = [];
  for (let value = 0; value <= max; value += step) yTicks.push({ value, y: round(y(value)) });

  const xTicks: TrafficPlot['xTicks'] = [];
  const wanted = Math.min(series.length, Math.max(2, options.xTicks ?? 5));
  const seen = new Set<number>();
  for (let tick = 0; tick < wanted && series.length > 1; tick += 1) {
    const index = Math.round((tick * (series.length - 1)) / (wanted - 1));
    const point = series[index];
    if (point === undefined || seen.has(index)) continue;
    seen.add(index);
    xTicks.push({ at: point.at, x: round(xs[index] ?? 0) });
  }

  return {
    max,
    step,
    queries: curve(
      xs,
      drawn.map((point) => y(point.queries)),
      area.height,
    ),
    blocked: curve(
      xs,
      drawn.map((point) => y(point.blocked)),
      area.height,
    ),
    yTicks,
    xTicks,
  };
}
