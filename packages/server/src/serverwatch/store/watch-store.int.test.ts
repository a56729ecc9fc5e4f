/**
 * The server watch's store on a real database (PGlite here, PostgreSQL when the test script gives
 * one), beyond search: events whose text PostgreSQL cannot hold as is, the hits and their counts
 * per rule, and the retention.
 */
import { WatchHitsQuery, WatchSearchQuery, type WatchHitPage } from '@rempart/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchTerm } from '../../test-support/watch-search.js';
import { ManualClock } from '../../clock.js';
import { openDatabase, type Database } from '../../db/client.js';
import { watchEvents, watchHits } from '../../db/schema.js';
import { testTarget } from '../../test-support/platform.js';
import type { FieldValue, WatchEvent } from '../event.js';
import { hitPage, searchPage } from './pages.js';
import { WatchRetention } from './retention.js';
import { formatSearch, parseSearch, type SearchQuery } from './search.js';
import { type NewWatchEvent, type NewWatchHit, WatchRepository } from './watch.repository.js';

let database: Database;
let repo: WatchRepository;

beforeAll(async () => {
  database = await openDatabase(await testTarget());
  repo = new WatchRepository(database.db, database.copyRows);
}, 60_000);

afterAll(async () => {
  await database.close();
});

describe('awkward events', () => {
  /** What PostgreSQL's text can hold: NUL and unpaired surrogates become U+FFFD. */
  const storable = (text: string): string =>
    (text as string & { toWellFormed(): string }).toWellFormed().replaceAll('\u0000', '\uFFFD');
  const storableDeep = (value: FieldValue): FieldValue => {
    if (typeof value === 'string') return storable(value);
    if (Array.isArray(value)) return value.map(storableDeep);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storableDeep(v)]));
    return value;
  };
  /** The longest prefix of `text` whose UTF-8 takes at most 8192 bytes. */
  const cut = (text: string): string => {
    let bytes = 0;
    let out = '';
    for (const c of text) {
      const size = new TextEncoder().encode(c).length;
      if (bytes + size > 8192) break;
      bytes += size;
      out += c;
    }
    return out;
  };

  const awkward = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '\t',
          '\\',
          '\n',
          '\r',
          '\\N',
          '\u0000',
          '\\u0000',
          '\uD800',
          '\uDC00x',
          '😀',
          '"',
          'é',
        ),
        fc.string({ unit: 'binary', maxLength: 4 }),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join(''));
  const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ value: FieldValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      awkward,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(awkward, tie('value'), { maxKeys: 3 }),
    ),
  })).value;
  const event = fc.record({
    time: fc.integer({ min: Date.parse('1990-01-01'), max: Date.parse('2090-01-01') }),
    raw: fc.oneof(
      awkward,
      awkward.map((a) => `${a}${'界'.repeat(3000)}${a}`),
    ),
    fields: fc.dictionary(awkward, fieldValue, { maxKeys: 4 }),
    src_ip: fc.option(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('fe80::1%eth0', '1.2.3', '::ffff:1.2.3.4')),
      {
        nil: undefined,
      },
    ),
    source: awkward,
    parsed: fc.boolean(),
  });

  it('are stored whatever their text holds, and read back as PostgreSQL can keep them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 20 }), async (events) => {
        await database.db.delete(watchEvents);
        const inputs: NewWatchEvent[] = events.map((e) => ({
          event: {
            time: e.time,
            logsource: { product: 'linux', service: 'sshd' },
            fields: e.src_ip === undefined ? e.fields : { ...e.fields, src_ip: e.src_ip },
            raw: e.raw,
            parsed: e.parsed,
            source: `s${e.source}`,
          },
          format: 'sshd',
          receivedAt: e.time,
        }));
        await repo.appendEvents(inputs);
        const read: WatchEvent[] = [];
        for await (const batch of repo.eachEventBatch({ batch: 7 })) read.push(...batch.events);
        const want = inputs
          .map((i) => i.event)
          .sort((a, b) => a.time - b.time)
          .map((e) => ({
            ...e,
            raw: cut(storable(e.raw)),
            source: storable(e.source!),
            fields: storableDeep(e.fields),
          }));
        expect(read.map((e) => e.time)).toEqual(want.map((e) => e.time));
        // Events of the same time come back in the order they were stored in, which equal times hide.
        expect(read).toHaveLength(want.length);
        expect(read).toEqual(expect.arrayContaining(want));
        for (const e of read) expect(new TextEncoder().encode(e.raw).length).toBeLessThanOrEqual(8192);
      }),
      { numRuns: 25 },
    );
  });

  it('takes an event whose own time is out of range at its arrival time', async () => {
    await database.db.delete(watchEvents);
    const receivedAt = Date.parse('2026-11-20T10:00:00Z');
    for (const time of [Number.NaN, Date.parse('+010000-01-01T00:00:00Z'), -1e15]) {
      await repo.appendEvents([
        { event: { time, logsource: {}, fields: {}, raw: 'x', parsed: false }, format: 'jsonl', receivedAt },
      ]);
    }
    const times: number[] = [];
    for await (const batch of repo.eachEventBatch({})) times.push(...batch.events.map((e) => e.time));
    expect(times).toEqual([receivedAt, receivedAt, receivedAt]);
  });

  it('refuses a batch holding an event received at no time, and writes none of it', async () => {
    await database.db.delete(watchEvents);
    const good = {
      event: { time: 0, logsource: {}, fields: {}, raw: 'a', parsed: false },
      format: 'jsonl' as const,
    };
    await expect(
      repo.appendEvents([
        { ...good, receivedAt: Date.parse('2026-11-20T10:00:00Z') },
        { ...good, receivedAt: Number.NaN },
      ]),
    ).rejects.toMatchObject({ code: 'validation_failed', details: { reason: 'invalid_time', index: 1 } });
    expect((await repo.counts()).events).toBe(0);
  });
});

describe('any search', () => {
  const piece = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.constantFrom('\u0000', '\uD800', '%', '_', '\\', "'", '"', ')', '--', ';'),
  );
  const pattern = fc.array(piece, { minLength: 1, maxLength: 3 });
  const term = searchTerm({
    pattern,
    field: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/),
    address: fc.record({
      address: fc.oneof(fc.ipV4(), fc.ipV6()),
      prefix: fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }),
    }),
  });

  it('runs on the database without an error, whatever the query says or the text holds', async () => {
    await database.db.delete(watchEvents);
    await repo.appendEvents(
      ['a\u0000b', 'x%y_z', 'C:\\inetpub', '\uD800', 'plain'].map((raw, i) => ({
        event: {
          time: Date.parse('2026-11-20T10:00:00Z') + i,
          logsource: { product: 'linux', service: 'sshd' },
          fields: { user: raw, src_ip: i % 2 ? '203.0.113.5' : '2001:db8::1' },
          raw,
          parsed: true,
          source: raw,
        },
        format: 'sshd' as const,
        receivedAt: Date.parse('2026-11-20T10:00:00Z'),
      })),
    );
    // A NUL in a search matches the replacement character it was stored as.
    expect((await searchPage(repo, WatchSearchQuery.parse({ q: '"a\u0000b"' }))).events).toHaveLength(1);
    expect((await searchPage(repo, WatchSearchQuery.parse({ q: 'user:"a\u0000b"' }))).events).toHaveLength(1);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.array(term, { maxLength: 5 }).map((terms) => formatSearch({ terms })),
          fc.string({ maxLength: 80 }),
        ),
        async (q) => {
          let query: SearchQuery;
          try {
            query = parseSearch(q);
          } catch (error) {
            expect(error).toMatchObject({ code: 'validation_failed' });
            return;
          }
          const { rows } = await repo.search({ query, limit: 10 });
          expect(rows.length).toBeLessThanOrEqual(5);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('retention', () => {
  it('purges only the events and hits older than their days', async () => {
    await database.db.delete(watchEvents);
    await database.db.delete(watchHits);
    const now = Date.parse('2026-12-03T12:00:00Z');
    const day = 86_400_000;
    const ages = [0, 1, 29, 29.99, 30.01, 31, 200, 364, 366, 1000];
    const ids = await repo.appendEvents(
      ages.map((age) => ({
        event: { time: now - age * day, logsource: {}, fields: {}, raw: `age ${age}`, parsed: false },
        format: 'jsonl',
        receivedAt: now,
      })),
    );
    const hitIds: string[] = [];
    for (const age of ages)
      hitIds.push(
        await repo.appendHit({
          hit: {
            rule: { id: 'r', title: 'R', level: 'high', kind: 'detection', file: 'r.yml' },
            time: now - age * day,
          },
          eventIds: [],
        }),
      );
    // Three at a time: the purge's batches are followed to the last.
    const retention = new WatchRetention(
      new WatchRepository(database.db, database.copyRows, { purgeBatch: 3 }),
      new ManualClock(new Date(now)),
    );
    expect([retention.eventDays, retention.hitDays]).toEqual([30, 365]);
    expect(await retention.purge()).toEqual({
      events: ages.filter((a) => a > 30).length,
      hits: ages.filter((a) => a > 365).length,
    });
    const left: string[] = [];
    for await (const batch of repo.eachEventBatch({})) left.push(...batch.ids);
    expect(left.sort()).toEqual(ids.filter((_, i) => ages[i]! < 30).sort());
    const hits = await repo.hits({ limit: 100 });
    expect(hits.rows.map((h) => String(h.id)).sort()).toEqual(hitIds.filter((_, i) => ages[i]! < 365).sort());
    // Run again, nothing more goes.
    expect(await retention.purge()).toEqual({ events: 0, hits: 0 });
  });

  it('refuses retention days that are not whole days of at least one', () => {
    const clock = new ManualClock();
    expect(() => new WatchRetention(repo, clock, { eventDays: 0 })).toThrow();
    expect(() => new WatchRetention(repo, clock, { hitDays: 1.5 })).toThrow();
    expect(new WatchRetention(repo, clock, { eventDays: 7 }).eventDays).toBe(7);
  });
});

describe('the hits', () => {
  const HOUR = 3_600_000;
  const start = Date.parse('2026-11-20T00:00:00Z');
  const rules = [
    {
      id: 'spray',
      title: 'Password spraying',
      level: 'high',
      kind: 'correlation' as const,
      file: 'mail/spray.yml',
    },
    {
      id: 'brute',
      title: 'Brute force',
      level: 'medium',
      kind: 'correlation' as const,
      file: 'mail/brute.yml',
    },
    {
      id: 'webshell',
      title: 'Web shell',
      level: 'critical',
      kind: 'detection' as const,
      file: 'iis/webshell.yml',
    },
    { id: 'nolevel', title: 'No level', level: undefined, kind: 'detection' as const, file: 'x.yml' },
  ];
  const stored: { id: string; input: NewWatchHit }[] = [];

  beforeAll(async () => {
    await database.db.delete(watchHits);
    for (let i = 0; i < 150; i++) {
      const rule = rules[i % 7 === 0 ? 2 : i % 5 === 0 ? 3 : i % 2]!;
      const input: NewWatchHit = {
        // Pairs share a time: ties are ordered by id.
        hit: {
          rule,
          time: start + Math.floor(i / 2) * HOUR,
          ...(rule.kind === 'correlation' ? { group: { src_ip: `203.0.113.${i % 9}` }, value: 10 + i } : {}),
        },
        eventIds: [String(i + 1), String(i + 2)],
        alertId: i % 3 === 0 ? null : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        count: 1 + (i % 4),
        hunt: i % 10 === 9 ? 'hunt-1' : null,
      };
      stored.push({ id: await repo.appendHit(input), input });
    }
  }, 30_000);

  const newestFirst = (a: { id: string; input: NewWatchHit }, b: { id: string; input: NewWatchHit }) =>
    b.input.hit.time - a.input.hit.time || Number(b.id) - Number(a.id);

  async function allHits(query: Record<string, unknown>): Promise<WatchHitPage['hits']> {
    const all: WatchHitPage['hits'] = [];
    let before: string | undefined;
    for (;;) {
      const page = await hitPage(repo, WatchHitsQuery.parse({ ...query, before }));
      all.push(...page.hits);
      if (page.next === null) return all;
      before = page.next;
    }
  }

  it('lists the live hits newest first, page after page, without a duplicate or a gap', async () => {
    const want = stored.filter((s) => s.input.hunt === null).sort(newestFirst);
    const got = await allHits({ limit: 7 });
    expect(got.map((h) => h.id)).toEqual(want.map((s) => s.id));
    const first = got[0]!;
    const source = want[0]!.input;
    expect(first).toEqual({
      id: want[0]!.id,
      at: new Date(source.hit.time).toISOString(),
      rule: { ...source.hit.rule, level: source.hit.rule.level ?? null },
      group: source.hit.group ?? null,
      value: source.hit.value ?? null,
      count: source.count,
      eventIds: source.eventIds,
      alertId: source.alertId,
      hunt: null,
    });
  });

  it("lists one rule's hits, one hunt's hits, and a time window's", async () => {
    const brute = await allHits({ ruleId: 'brute', limit: 500 });
    expect(brute.map((h) => h.id)).toEqual(
      stored
        .filter((s) => s.input.hit.rule.id === 'brute' && s.input.hunt === null)
        .sort(newestFirst)
        .map((s) => s.id),
    );
    const hunt = await allHits({ hunt: 'hunt-1', limit: 500 });
    expect(hunt.map((h) => h.id)).toEqual(
      stored
        .filter((s) => s.input.hunt === 'hunt-1')
        .sort(newestFirst)
        .map((s) => s.id),
    );
    expect(hunt.every((h) => h.hunt === 'hunt-1')).toBe(true);
    const from = start + 10 * HOUR;
    const to = start + 20 * HOUR;
    const window = await allHits({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      limit: 3,
    });
    expect(window.map((h) => h.id)).toEqual(
      stored
        .filter((s) => s.input.hunt === null && s.input.hit.time >= from && s.input.hit.time < to)
        .sort(newestFirst)
        .map((s) => s.id),
    );
  });

  it('counts the hits of each rule, duplicates included, with its last hit', async () => {
    const from = new Date(start + 5 * HOUR);
    const to = new Date(start + 60 * HOUR);
    const inWindow = stored.filter(
      (s) => s.input.hunt === null && s.input.hit.time >= from.getTime() && s.input.hit.time < to.getTime(),
    );
    const want = new Map<string, { hits: number; last: number; title: string; level: string | null }>();
    for (const { input } of inWindow) {
      const entry = want.get(input.hit.rule.id) ?? { hits: 0, last: 0, title: '', level: null };
      entry.hits += input.count ?? 1;
      entry.last = Math.max(entry.last, input.hit.time);
      entry.title = input.hit.rule.title;
      entry.level = input.hit.rule.level ?? null;
      want.set(input.hit.rule.id, entry);
    }
    const counts = await repo.ruleCounts({ from, to });
    expect(counts.map((c) => c.ruleId).sort()).toEqual([...want.keys()].sort());
    for (const c of counts) {
      const w = want.get(c.ruleId)!;
      expect(c).toEqual({
        ruleId: c.ruleId,
        title: w.title,
        level: w.level,
        kind: rules.find((r) => r.id === c.ruleId)!.kind,
        hits: w.hits,
        lastHitAt: new Date(w.last),
      });
    }
    // The most frequent first.
    const hits = counts.map((c) => c.hits);
    expect(hits).toEqual([...hits].sort((a, b) => b - a));
    const hunt = await repo.ruleCounts({ hunt: 'hunt-1' });
    expect(hunt.reduce((n, c) => n + c.hits, 0)).toBe(
      stored.filter((s) => s.input.hunt === 'hunt-1').reduce((n, s) => n + (s.input.count ?? 1), 0),
    );
  });

  it('merges a duplicate into a hit, keeping its latest events, and records its alert', async () => {
    const { id, input } = stored[4]!;
    expect(await repo.mergeIntoHit(id, { count: 2, eventIds: ['900', '901', '902'], maxEventIds: 4 })).toBe(
      true,
    );
    expect(await repo.setHitAlert(id, '11111111-1111-4111-8111-111111111111')).toBe(true);
    const { rows } = await repo.hits({ ruleId: input.hit.rule.id, limit: 500 });
    const row = rows.find((r) => String(r.id) === id)!;
    expect(row.count).toBe((input.count ?? 1) + 2);
    expect(row.eventIds.map(String)).toEqual([input.eventIds[1], '900', '901', '902']);
    expect(row.alertId).toBe('11111111-1111-4111-8111-111111111111');
    expect(await repo.mergeIntoHit('999999999', { count: 1 })).toBe(false);
  });

  it('refuses an id that is not one, and changes nothing', async () => {
    await expect(repo.mergeIntoHit('1 or 1=1', { count: 1 })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { reason: 'invalid_id' },
    });
    await expect(
      repo.appendHit({ hit: { rule: rules[0]!, time: start }, eventIds: ['12', 'x'] }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    expect(
      (await repo.hits({ limit: 500 })).rows.length +
        (await repo.hits({ hunt: 'hunt-1', limit: 500 })).rows.length,
    ).toBe(stored.length);
  });
});
