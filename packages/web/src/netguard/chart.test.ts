import { describe, expect, it } from 'vitest';
import { niceScale, plotTraffic, type TrafficPoint } from './chart';

const minute = (n: number): string => new Date(Date.UTC(2026, 2, 12, 10, n)).toISOString();
const point = (n: number, queries: number, blocked: number): TrafficPoint => ({
  at: minute(n),
  queries,
  blocked,
});

/** The points of a path's line, as numbers. */
const points = (line: string): number[][] =>
  line
    .replace(/^M/, '')
    .split('L')
    .map((pair) => pair.split(',').map(Number));

describe('the scale of the traffic plot', () => {
  it('rounds the top up to a readable step of 1, 2 or 5 times a power of ten', () => {
    expect(niceScale(37, 4)).toEqual({ max: 40, step: 10 });
    expect(niceScale(40, 4)).toEqual({ max: 40, step: 10 });
    expect(niceScale(41, 4)).toEqual({ max: 60, step: 20 });
    expect(niceScale(1234, 4)).toEqual({ max: 1500, step: 500 });
  });

  it('never steps by less than one query, however few there were', () => {
    expect(niceScale(3, 4)).toEqual({ max: 3, step: 1 });
    expect(niceScale(1, 4)).toEqual({ max: 1, step: 1 });
  });

  it('still has a scale when nothing was asked', () => {
    expect(niceScale(0, 4)).toEqual({ max: 1, step: 1 });
  });
});

describe('the traffic plot', () => {
  const area = { width: 100, height: 50 };

  it('puts the largest count at the top of the scale and zero on the baseline', () => {
    const plot = plotTraffic([point(0, 40, 10), point(1, 20, 0)], area);
    expect(plot.max).toBe(40);
    expect(plot.queries.line).toBe('M0,0L100,25');
    expect(plot.blocked.line).toBe('M0,37.5L100,50');
  });

  it('closes each curve down to the baseline, so it can be filled', () => {
    const plot = plotTraffic([point(0, 40, 10), point(1, 20, 0)], area);
    expect(plot.queries.area).toBe('M0,50L0,0L100,25L100,50Z');
  });

  it('spreads the points across the width by their time, so a gap in the series shows', () => {
    const plot = plotTraffic([point(0, 10, 0), point(1, 10, 0), point(4, 10, 0)], area);
    expect(points(plot.queries.line).map(([x]) => x)).toEqual([0, 25, 100]);
  });

  it('spreads the points evenly when their times cannot be read', () => {
    const series = [0, 1, 2].map((n) => ({ at: 'unknown', queries: n, blocked: 0 }));
    expect(points(plotTraffic(series, area).queries.line).map(([x]) => x)).toEqual([0, 50, 100]);
  });

  it('draws a lone point as a level line across the whole window', () => {
    const plot = plotTraffic([point(0, 8, 2)], area);
    expect(points(plot.queries.line)).toEqual([
      [0, 0],
      [100, 0],
    ]);
    expect(plot.xTicks).toEqual([]);
  });

  it('draws nothing for an empty window, and keeps a scale of one', () => {
    const plot = plotTraffic([], area);
    expect(plot.queries).toEqual({ line: '', area: '' });
    expect(plot.blocked).toEqual({ line: '', area: '' });
    expect(plot.yTicks).toEqual([
      { value: 0, y: 50 },
      { value: 1, y: 0 },
    ]);
  });

  it('lays the grid lines on the scale’s steps, from the baseline up', () => {
    const plot = plotTraffic([point(0, 37, 3), point(1, 12, 1)], { width: 100, height: 80 });
    expect(plot.yTicks).toEqual([
      { value: 0, y: 80 },
      { value: 10, y: 60 },
      { value: 20, y: 40 },
      { value: 30, y: 20 },
      { value: 40, y: 0 },
    ]);
  });

  it('labels the first and the last moment, and a few evenly between', () => {
    const series = Array.from({ length: 61 }, (_, n) => point(n, n, 0));
    const plot = plotTraffic(series, { width: 600, height: 100 }, { xTicks: 4 });
    expect(plot.xTicks).toEqual([
      { at: minute(0), x: 0 },
      { at: minute(20), x: 200 },
      { at: minute(40), x: 400 },
      { at: minute(60), x: 600 },
    ]);
  });

  it('draws a negative count on the baseline rather than below it', () => {
    const plot = plotTraffic([point(0, 4, -2), point(1, 4, 0)], area);
    expect(points(plot.blocked.line).map(([, y]) => y)).toEqual([50, 50]);
  });

  it('writes coordinates to two decimals at most', () => {
    const plot = plotTraffic([point(0, 3, 1), point(1, 1, 0), point(2, 2, 0)], { width: 100, height: 100 });
    for (const [x, y] of points(plot.queries.line)) {
      expect(Math.round(x! * 100) / 100).toBe(x);
      expect(Math.round(y! * 100) / 100).toBe(y);
    }
    expect(points(plot.queries.line)).toEqual([
      [0, 0],
      [50, 66.67],
      [100, 33.33],
    ]);
  });
});
