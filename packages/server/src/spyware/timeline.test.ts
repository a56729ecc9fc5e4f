import type { Detection, TimelineEvent } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndicatorMatcher } from './matcher.js';
import { jsonString, writeJsonReport } from './report.js';
import { ScanRecorder, toldReport } from './scan.js';
import { oneLine, Timeline } from './timeline.js';

const detection = (id: number): Detection => ({
  type: 'domain',
  indicator: `spy${id}.example`,
  indicatorId: `indicator--${id}`,
  source: 'test.stix2',
  malware: id % 2 === 0 ? ['Pegasus'] : [],
  matched: `spy${id}.example`,
});

/** Texts as phones hold them: quotes, controls, line breaks, lone surrogates, emoji, long ones. */
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('a "quoted" \\ word', 'two\nlines\r\n  three', '\u0000\u001f', '\ud800 lone', '👍 ok'),
  fc.integer({ min: 1900, max: 2100 }).map((n) => 'x'.repeat(n)),
);

/** A record as a module adds it: whole or in parts, at a time or none, with or without a detection. */
interface Added {
  ms: number;
  source: number;
  n: number;
  text: string;
  detection: number | undefined;
  /** Whether the text is kept as its span in a store of texts rather than as a string. */
  spanned: boolean;
}

const SOURCES = [
  {
    artifact: 'sms',
    file: 'HomeDomain/Library/SMS/sms.db',
    before: 'message ',
    after: ' received from +32470: ',
  },
  {
    artifact: 'sms',
    file: 'HomeDomain/Library/SMS/sms.db',
    before: 'message ',
    after: ' sent to "x"\n(SMS): ',
  },
  { artifact: 'safari_history', file: 'History.db', before: '', after: '' },
];

const added: fc.Arbitrary<Added> = fc.record({
  ms: fc.oneof(
    fc.integer({ min: 0, max: 10 }).map((s) => 1_700_000_000_000 + s * 1000),
    fc.constant(Number.NaN),
    fc.integer({ min: -8.64e15, max: 8.64e15 }),
    fc.constantFrom(8.64e15 + 1, Number.POSITIVE_INFINITY),
  ),
  source: fc.nat(SOURCES.length - 1),
  n: fc.oneof(fc.constant(Number.NaN), fc.nat(), fc.double({ noNaN: true })),
  text,
  detection: fc.option(fc.nat(5), { nil: undefined }),
  spanned: fc.boolean(),
});

/** Texts kept one after the other, as a database file keeps them, given again by their span. */
class TextStore {
  private all = '';

  put(text: string): [number, number] {
    this.all += text;
    return [this.all.length - text.length, this.all.length];
  }

  text(start: number, end: number): string {
    return this.all.slice(start, end);
  }
}

/** What the timeline must tell of `records`: each event made whole as it was read, then sorted. */
function expected(records: readonly Added[]): TimelineEvent[] {
  return records
    .map((r, i) => {
      const source = SOURCES[r.source]!;
      const time = Number.isFinite(r.ms) && Math.abs(r.ms) <= 8.64e15 ? r.ms : Number.POSITIVE_INFINITY;
      const event: TimelineEvent = {
        at: time === Number.POSITIVE_INFINITY ? null : new Date(time).toISOString(),
        artifact: source.artifact,
        file: source.file,
        record: oneLine(Number.isNaN(r.n) ? r.text : `${source.before}${r.n}${source.after}${r.text}`),
      };
      if (r.detection !== undefined) event.detection = detection(r.detection);
      return { event, time, i };
    })
    .sort((a, b) => a.time - b.time || a.i - b.i)
    .map(({ event }) => event);
}

/**
 * Adds `records` to `timeline` as a module does (a time no date can hold given as is: the timeline
 * takes it for none), the sources asked for again: the same words give the same ids.
 */
function addAll(timeline: Timeline, records: readonly Added[], store = new TextStore()): Timeline {
  const ids = SOURCES.map((s) => timeline.source(s.artifact, s.file, s.before, s.after));
  const spanIds = SOURCES.map((s) => timeline.source(s.artifact, s.file, s.before, s.after, store));
  for (const r of records) {
    const found = r.detection === undefined ? undefined : detection(r.detection);
    if (!r.spanned) timeline.add(r.ms, ids[r.source]!, r.n, r.text, found);
    else {
      // The text given is not the one kept: the span is.
      const [start, end] = store.put(r.text);
      timeline.addSpan(r.ms, spanIds[r.source]!, r.n, 'not kept', start, end, found);
    }
  }
  return timeline;
}

describe('a timeline held in columns', () => {
  it('tells every record as it would have been made whole when read, oldest first, by iteration and by each', () => {
    fc.assert(
      fc.property(fc.array(added, { maxLength: 80 }), (records) => {
        const timeline = addAll(new Timeline(), records);
        const want = expected(records);
        expect(timeline).toHaveLength(records.length);
        expect([...timeline]).toEqual(want);
        const visited: TimelineEvent[] = [];
        timeline.each((at, artifact, file, record, found) =>
          visited.push({ at, artifact, file, record, ...(found === undefined ? {} : { detection: found }) }),
        );
        expect(visited).toEqual(want);
        expect(timeline.found()).toEqual(want.filter((e) => e.detection !== undefined));
        expect(JSON.parse(JSON.stringify(timeline))).toEqual(JSON.parse(JSON.stringify(want)));
      }),
      { numRuns: 300 },
    );
  });

  it('forgets what was added after a point, detections included, and goes on from there', () => {
    fc.assert(
      fc.property(
        fc.array(added, { maxLength: 40 }),
        fc.array(added, { maxLength: 40 }),
        fc.array(added, { maxLength: 20 }),
        (kept, undone, after) => {
          const timeline = addAll(new Timeline(), kept);
          addAll(timeline, undone);
          // Told once before the undo: the order made then must not outlive it.
          expect([...timeline]).toHaveLength(kept.length + undone.length);
          timeline.truncate(kept.length);
          addAll(timeline, after);
          expect([...timeline]).toEqual(expected([...kept, ...after]));
          expect(timeline.found()).toEqual(expected([...kept, ...after]).filter((e) => e.detection));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives a source its id once, the same id for the same module, file and words', () => {
    const timeline = new Timeline();
    const a = timeline.source('sms', 'f', 'message ', ': ');
    expect(timeline.source('sms', 'f', 'message ', ': ')).toBe(a);
    expect(
      new Set([a, timeline.source('sms', 'g', 'message ', ': '), timeline.source('sms', 'f')]).size,
    ).toBe(3);
    // Texts kept as spans in one store or another come from different sources.
    const [one, other] = [new TextStore(), new TextStore()];
    const spanned = timeline.source('sms', 'f', 'message ', ': ', one);
    expect(timeline.source('sms', 'f', 'message ', ': ', one)).toBe(spanned);
    expect(new Set([a, spanned, timeline.source('sms', 'f', 'message ', ': ', other)]).size).toBe(3);
  });

  it('keeps a text given with a span as that span when its source has a store, as the string otherwise', () => {
    const timeline = new Timeline();
    const store = new TextStore();
    const [start, end] = store.put('https://spy.example/x');
    timeline.addSpan(1000, timeline.source('sms', 'f', 'message ', ': ', store), 7, 'ignored', start, end);
    timeline.addSpan(2000, timeline.source('sms', 'f', 'message ', ': '), 8, 'kept', start, end);
    timeline.addSpan(3000, timeline.source('sms', 'f', 'message ', ': ', store), 9, 'no span', -1, -1);
    expect([...timeline].map((e) => e.record)).toEqual([
      'message 7: https://spy.example/x',
      'message 8: kept',
      'message 9: no span',
    ]);
  });
});

describe('a module that reads its table again', () => {
  it('undoes its records and their counts back to its mark, and the other modules keep theirs', async () => {
    const matcher = IndicatorMatcher.from([]);
    const report = await new ScanRecorder('ios-backup', { matcher }).run([
      { name: 'first', run: (artifact) => artifact.record(1000, 'a', 'kept', detection(1)) },
      {
        name: 'second',
        run: (artifact) => {
          artifact.record(2000, 'b', 'before');
          const mark = artifact.mark();
          artifact.record(3000, 'b', 'half-read', [detection(2), detection(3)]);
          artifact.rollback(mark);
          artifact.record(4000, 'b', 'read again', detection(4));
        },
      },
    ]);
    const told = toldReport(report);
    expect(told.timeline.map((e) => e.record)).toEqual(['kept', 'before', 'read again']);
    expect(told.artifacts.map((a) => [a.artifact, a.records, a.detections])).toEqual([
      ['first', 1, 1],
      ['second', 2, 1],
    ]);
    expect(told.detections.map((e) => e.detection?.indicatorId)).toEqual(['indicator--1', 'indicator--4']);
  });
});

describe('the JSON report', () => {
  it('writes in pieces what JSON.stringify writes of the whole report, from a timeline or an array', async () => {
    const matcher = IndicatorMatcher.from([]);
    await fc.assert(
      fc.asyncProperty(fc.array(added, { maxLength: 60 }), async (records) => {
        const report = await new ScanRecorder('ios-backup', { matcher, now: () => new Date(0) }).run([
          {
            name: 'test',
            run: (artifact) => {
              for (const r of records)
                artifact.record(
                  r.ms,
                  SOURCES[r.source]!.file,
                  r.text,
                  r.detection === undefined ? undefined : detection(r.detection),
                );
            },
          },
        ]);
        const whole = JSON.parse(JSON.stringify(toldReport(report))) as unknown;
        for (const source of [report, toldReport(report)]) {
          const pieces: string[] = [];
          writeJsonReport(source, (piece) => pieces.push(piece));
          // The head, the records a thousand at a time, the end.
          expect(pieces).toHaveLength(2 + Math.ceil(records.length / 1000));
          expect(JSON.parse(pieces.join(''))).toEqual(whole);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('writes a string exactly as JSON.stringify does, whatever it holds', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 20 })), (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 1000 },
    );
  });
});
