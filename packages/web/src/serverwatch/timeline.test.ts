import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketHits,
  bucketMs,
  levelTotals,
  mergeHits,
  plotTimeline,
  severityOfLevel,
  timelineLevels,
  watchWindows,
  windowBounds,
  type TimelineHit,
} from './timeline';

const at = (minutes: number): string => new Date(Date.UTC(2026, 11, 3, 8, minutes)).toISOString();
const eight = Date.UTC(2026, 11, 3, 8, 0);
const nine = Date.UTC(2026, 11, 3, 9, 0);

describe('the alerts timeline’s buckets', () => {
  it('counts each hit in its bucket, by level, with its merged duplicates', () => {
    const buckets = bucketHits(
      [
        { at: at(2), level: 'high', count: 1 },
        { at: at(4), level: 'informational', count: 3 },
        { at: at(31), level: 'critical', count: 1 },
      ],
      eight,
      nine,
      30 * 60_000,
    );
    expect(buckets.map((b) => [b.start, b.total, b.counts.high, b.counts.info, b.counts.critical])).toEqual([
      [at(0), 4, 1, 3, 0],
      [at(30), 1, 0, 0, 1],
    ]);
  });

  it('leaves out hits outside the window, and times it cannot read', () => {
    const buckets = bucketHits(
      [
        { at: at(-1), level: 'high', count: 1 },
        { at: at(60), level: 'high', count: 1 },
        { at: 'yesterday', level: 'high', count: 1 },
      ],
      eight,
      nine,
      5 * 60_000,
    );
    expect(levelTotals(buckets).total).toBe(0);
    expect(buckets).toHaveLength(12);
  });

  it('puts bucket edges on whole multiples of their width, so bars do not move as time passes', () => {
    const buckets = bucketHits([], eight + 7 * 60_000, nine + 7 * 60_000, 15 * 60_000);
    expect(buckets[0]!.start).toBe(at(0));
    expect(buckets.at(-1)!.end).toBe(at(75));
  });

  it('gives every window between 12 and 31 bars', () => {
    for (const hours of watchWindows) {
      const { from, to } = windowBounds(hours, nine + 123_456);
      const count = bucketHits([], Date.parse(from), Date.parse(to), bucketMs(hours)).length;
      expect(count).toBeGreaterThanOrEqual(12);
      expect(count).toBeLessThanOrEqual(31);
    }
  });

  it('reads Sigma’s levels as the alert stream’s severities', () => {
    expect(severityOfLevel('informational')).toBe('info');
    expect(severityOfLevel('CRITICAL')).toBe('critical');
    expect(severityOfLevel(null)).toBe('info');
    expect(severityOfLevel('unknown')).toBe('info');
  });

  const hit = fc.record({
    at: fc.integer({ min: eight - 3_600_000, max: nine + 3_600_000 }).map((t) => new Date(t).toISOString()),
    level: fc.constantFrom('critical', 'high', 'medium', 'low', 'informational', null),
    count: fc.integer({ min: 1, max: 50 }),
  });

  it('loses no hit of the window and counts none twice, whatever the hits and bucket width', () => {
    fc.assert(
      fc.property(fc.array(hit, { maxLength: 200 }), fc.integer({ min: 1, max: 90 }), (hits, minutes) => {
        const buckets = bucketHits(hits, eight, nine, minutes * 60_000);
        const inWindow = hits.filter((h: TimelineHit) => {
          const t = Date.parse(h.at);
          return t >= eight && t < nine;
        });
        const expected = inWindow.reduce((sum, h) => sum + h.count, 0);
        expect(levelTotals(buckets).total).toBe(expected);
        for (const bucket of buckets)
          expect(timelineLevels.reduce((sum, level) => sum + bucket.counts[level], 0)).toBe(bucket.total);
        // Contiguous buckets, each as wide as asked.
        for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]!.start).toBe(buckets[i - 1]!.end);
      }),
    );
  });
});

describe('the alerts timeline’s bars', () => {
  const area = { width: 100, height: 50 };

  it('stacks the levels from the baseline up, the most serious first, the tallest bar reaching the top', () => {
    const buckets = bucketHits(
      [
        { at: at(1), level: 'informational', count: 2 },
        { at: at(2), level: 'critical', count: 2 },
        { at: at(40), level: 'high', count: 1 },
      ],
      eight,
      nine,
      30 * 60_000,
    );
    const plot = plotTimeline(buckets, area);
    expect(plot.max).toBe(4);
    const [first, second] = plot.bars;
    expect(first!.segments).toEqual([
      { level: 'critical', y: 25, height: 25, count: 2 },
      { level: 'info', y: 0, height: 25, count: 2 },
    ]);
    expect(second!.segments).toEqual([{ level: 'high', y: 37.5, height: 12.5, count: 1 }]);
    expect(first!.x).toBe(5);
    expect(first!.width).toBe(40);
  });

  it('draws no segment, but still a scale, for a window without hits', () => {
    const plot = plotTimeline(bucketHits([], eight, nine, 5 * 60_000), area);
    expect(plot.bars.every((bar) => bar.segments.length === 0)).toBe(true);
    expect(plot.yTicks.map((tick) => tick.value)).toEqual([0, 1]);
  });

  it('keeps every bar inside the plot, whatever the hits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: eight, max: nine - 1 }).map((t) => new Date(t).toISOString()),
            level: fc.constantFrom('critical', 'high', 'medium', 'low', null),
            count: fc.integer({ min: 1, max: 10_000 }),
          }),
          { maxLength: 100 },
        ),
        (hits) => {
          const plot = plotTimeline(bucketHits(hits, eight, nine, 5 * 60_000), area);
          for (const bar of plot.bars) {
            expect(bar.x).toBeGreaterThanOrEqual(0);
            expect(bar.x + bar.width).toBeLessThanOrEqual(area.width + 0.01);
            for (const segment of bar.segments) {
              expect(segment.y).toBeGreaterThanOrEqual(-0.01);
              expect(segment.y + segment.height).toBeLessThanOrEqual(area.height + 0.01);
            }
          }
        },
      ),
    );
  });
});

describe('the hits the timeline keeps between readings', () => {
  const known = (id: string, minutes: number, count = 1) => ({ id, at: at(minutes), level: 'high', count });

  it('take the hits read since, newest first, a hit read again replacing the one known', () => {
    const merged = mergeHits([known('2', 10), known('1', 5)], [known('3', 20), known('2', 10, 4)], eight);
    expect(merged.map((hit) => [hit.id, hit.count])).toEqual([
      ['3', 1],
      ['2', 4],
      ['1', 1],
    ]);
  });

  it('drop the hits the window has moved past', () => {
    expect(mergeHits([known('1', -5), known('2', 5)], [], eight).map((hit) => hit.id)).toEqual(['2']);
  });

  it('hold each hit once, whatever was read twice', () => {
    const hits = fc.array(
      fc.record({
        id: fc.integer({ min: 1, max: 30 }).map(String),
        minutes: fc.integer({ min: -30, max: 60 }),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(hits, hits, (before, after) => {
        const merged = mergeHits(
          before.map((h) => known(h.id, h.minutes)),
          after.map((h) => known(h.id, h.minutes)),
          eight,
        );
        expect(new Set(merged.map((h) => h.id)).size).toBe(merged.length);
        for (let i = 1; i < merged.length; i += 1)
          expect(Date.parse(merged[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(merged[i]!.at));
        expect(merged.every((h) => Date.parse(h.at) >= eight)).toBe(true);
      }),
    );
  });
});
