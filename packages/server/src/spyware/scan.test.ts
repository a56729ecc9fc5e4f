import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndicatorMatcher } from './matcher.js';
import { IsoTimes, ScanRecorder, oneLine } from './scan.js';

describe('times on the timeline', () => {
  it('writes every time exactly as Date does, in any order and any year', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { maxLength: 200 }), (times) => {
        const iso = new IsoTimes();
        for (const t of times) expect(iso.of(t)).toBe(new Date(t).toISOString());
      }),
      { numRuns: 300 },
    );
    const iso = new IsoTimes();
    for (const t of [
      0, 86_399_999, 86_400_000, 253_402_300_799_999, 253_402_300_800_000, -1, 951_782_400_000,
    ])
      expect(iso.of(t)).toBe(new Date(t).toISOString());
  });
});

describe('a scan report', () => {
  it('lists records oldest first, those without a time last, each group in the order read', async () => {
    const matcher = IndicatorMatcher.from([]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }), { maxLength: 60 }),
        async (seconds) => {
          const recorder = new ScanRecorder('sysdiagnose', { matcher });
          const report = await recorder.run([
            {
              name: 'test',
              run: (artifact) => {
                seconds.forEach((s, i) =>
                  artifact.record(s === null ? null : new Date(s * 1000), 'f', `r${i}`),
                );
              },
            },
          ]);
          const expected = seconds
            .map((s, i) => ({ s, i }))
            .sort((a, b) => (a.s ?? Infinity) - (b.s ?? Infinity) || a.i - b.i)
            .map(({ s, i }) => [s === null ? null : new Date(s * 1000).toISOString(), `r${i}`]);
          expect([...report.timeline].map((e) => [e.at, e.record])).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a record on one line, however it was written', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const flat = oneLine(text);
        expect(flat).not.toMatch(/[\r\n]/);
        if (!/[\r\n]/.test(text) && text.length <= 2000) expect(flat).toBe(text);
      }),
    );
  });
});
