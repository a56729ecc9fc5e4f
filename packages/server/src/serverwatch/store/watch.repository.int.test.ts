/**
 * The server watch's store on a real database (PGlite here, PostgreSQL when the test script gives
 * one): ten thousand events appended in bulk, then searched with every operator of the language,
 * each result compared with what a plain JavaScript reading of the same events finds.
 */
import { BlockList, isIP } from 'node:net';
import { RempartError, WatchSearchQuery } from '@rempart/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchTerm } from '../../test-support/watch-search.js';
import { openDatabase, type Database } from '../../db/client.js';
import { watchEvents } from '../../db/schema.js';
import { testTarget } from '../../test-support/platform.js';
import type { FieldValue, WatchEvent } from '../event.js';
import { searchPage } from './pages.js';
import { formatSearch, parseSearch, type SearchQuery, type SearchTerm } from './search.js';
import { type NewWatchEvent, WatchRepository } from './watch.repository.js';

let database: Database;
let repo: WatchRepository;

beforeAll(async () => {
  database = await openDatabase(await testTarget());
  repo = new WatchRepository(database.db, database.copyRows);
}, 60_000);

afterAll(async () => {
  await database.close();
});

/** A small seeded generator: the same day of events at every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY_START = Date.parse('2026-11-20T00:00:00.000Z');
const USERS = ['alice', 'Bob', 'carol', 'a b', 'x%y', 'under_score', 'back\\slash', 'admin', 'administrator'];
const ADDRESSES = [
  '203.0.113.5',
  '203.0.113.77',
  '203.0.113.200',
  '198.51.100.7',
  '198.51.100.250',
  '192.0.2.1',
  '2001:db8::5',
  '2001:db8:1::9',
  '2001:db8:ffff::1',
  'unknown',
];
const SOURCES = ['syslog-udp', 'syslog-tcp', '/var/log/mail.log', 'http'];
const HOSTS = ['mx1', 'mx2', 'imap.example.org'];
const WORDS = [
  'Failed',
  'password',
  'for',
  'ok',
  '100%',
  'a_b',
  'C:\\inetpub',
  'timeout',
  '名前',
  'session',
  'imap',
  'pop3',
  'smtp',
  'rejected',
  'quota',
  'lmtp',
  'auth',
  'TLS',
];

/** One event of the day, of every shape the parsers give. */
function makeEvent(next: () => number, i: number): NewWatchEvent {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  // Runs of events share a millisecond: ties are ordered by id.
  const time = DAY_START + Math.floor(i / 3) * 7919;
  const parsed = next() > 0.15;
  const format = pick(['dovecot', 'sshd', 'postfix', 'iis', 'windows'] as const);
  const fields: Record<string, FieldValue> = {};
  if (parsed) {
    if (next() > 0.1) fields.user = pick(USERS);
    if (next() > 0.1) fields.src_ip = pick(ADDRESSES);
    fields.action = pick(['login', 'logout', 'connect']);
    if (fields.action === 'login') fields.outcome = pick(['success', 'failure']);
    if (next() > 0.5) fields.host = pick(HOSTS);
    if (next() > 0.7) fields.src_port = Math.floor(next() * 65536);
    if (format === 'windows')
      fields.Event = {
        System: { EventID: 4625, Channel: 'Security' },
        EventData: { TargetUserName: pick(USERS) },
      };
    if (next() > 0.9) fields.flags = [true, null, 'TLS', 1.5];
  }
  const words = Array.from({ length: 1 + Math.floor(next() * 5) }, () => pick(WORDS));
  const user = typeof fields.user === 'string' ? fields.user : '-';
  const rip = typeof fields.src_ip === 'string' ? fields.src_ip : '-';
  const raw = `${new Date(time).toISOString()} ${format} ${words.join(' ')} user=${user} rip=${rip}`;
  const logsource =
    format === 'iis'
      ? { category: 'webserver', product: 'windows', service: 'iis' }
      : format === 'windows'
        ? { product: 'windows', service: 'security' }
        : { product: 'linux', service: format };
  const event: WatchEvent = { time, logsource, fields, raw, parsed, source: pick(SOURCES) };
  return { event, format, receivedAt: time + 250 };
}

interface Stored {
  id: string;
  input: NewWatchEvent;
}

// --------------------------------------------------------------------------------------------
// The reference: what each term means, read on the events in JavaScript.

function wildcardRegExp(pattern: readonly string[]): RegExp {
  const body = pattern.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 'is');
}

function textMatches(value: string | null | undefined, pattern: readonly string[]): boolean {
  if (value === null || value === undefined) return false;
  if (pattern.length === 1) return value.toLowerCase() === pattern[0]!.toLowerCase();
  return wildcardRegExp(pattern).test(value);
}

/** A field's value as the database's `->>` gives it: text as is, anything else as JSON. */
function fieldText(value: FieldValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function addressMatches(value: FieldValue | undefined, address: string, prefix: number | undefined): boolean {
  if (typeof value !== 'string' || isIP(value) === 0) return false;
  const family = (text: string) => (isIP(text) === 4 ? 'ipv4' : 'ipv6');
  if (family(value) !== family(address)) return false;
  const list = new BlockList();
  list.addSubnet(address, prefix ?? (family(address) === 'ipv4' ? 32 : 128), family(address));
  return list.check(value, family(value));
}

function termMatches(term: SearchTerm, { input }: Stored): boolean {
  const { event } = input;
  const positive = (() => {
    switch (term.kind) {
      case 'text':
        return wildcardRegExp(['', ...term.pattern, '']).test(event.raw);
      case 'field':
        return textMatches(fieldText(event.fields[term.field]), term.pattern);
      case 'column':
        return textMatches(
          term.column === 'source' ? event.source : (input.host ?? fieldText(event.fields.host)),
          term.pattern,
        );
      case 'logsource':
        return textMatches(event.logsource[term.key], term.pattern);
      case 'format':
        return (event.parsed ? input.format : 'raw') === term.format;
      case 'parsed':
        return event.parsed === term.parsed;
      case 'address':
        return addressMatches(event.fields.src_ip, term.address, term.prefix);
    }
  })();
  return term.negated ? !positive : positive;
}

/** The ids `query` should find among `stored`, newest first. */
function expected(
  stored: readonly Stored[],
  query: SearchQuery,
  window: { from?: Date; to?: Date } = {},
): string[] {
  return stored
    .filter((s) => window.from === undefined || s.input.event.time >= window.from.getTime())
    .filter((s) => window.to === undefined || s.input.event.time < window.to.getTime())
    .filter((s) => query.terms.every((term) => termMatches(term, s)))
    .sort((a, b) => b.input.event.time - a.input.event.time || Number(b.id) - Number(a.id))
    .map((s) => s.id);
}

/** Every page of a search, followed to its end, as ids in the order given. */
async function allPages(
  q: string,
  limit: number,
  window: { from?: string; to?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await searchPage(repo, WatchSearchQuery.parse({ q, limit, ...window, before }));
    expect(page.events.length).toBeLessThanOrEqual(limit);
    ids.push(...page.events.map((e) => e.id));
    if (page.next === null) return ids;
    before = page.next;
  }
  throw new Error('the pages never ended');
}

// --------------------------------------------------------------------------------------------

describe('the stored events', () => {
  const stored: Stored[] = [];

  beforeAll(async () => {
    await database.db.delete(watchEvents);
    const next = random(7);
    const inputs = Array.from({ length: 10_000 }, (_, i) => makeEvent(next, i));
    const ids = await repo.appendEvents(inputs);
    ids.forEach((id, i) => stored.push({ id, input: inputs[i]! }));
  }, 60_000);

  it('appends ten thousand events in bulk and gives their ids in order, each once', async () => {
    expect(stored).toHaveLength(10_000);
    const numbers = stored.map((s) => Number(s.id));
    expect(new Set(numbers).size).toBe(10_000);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]!);
    const counts = await repo.counts();
    expect(counts.events).toBe(10_000);
    expect(counts.unparsed).toBe(stored.filter((s) => !s.input.event.parsed).length);
    const bySource: Record<string, number> = {};
    for (const s of stored) bySource[s.input.event.source!] = (bySource[s.input.event.source!] ?? 0) + 1;
    expect(counts.bySource).toEqual(bySource);
    // Each id names its own event.
    const sample = [stored[0]!, stored[4321]!, stored[9999]!];
    const rows = await repo.eventsByIds(sample.map((s) => s.id));
    expect(rows.map((r) => r.raw)).toEqual(sample.map((s) => s.input.event.raw));
  });

  it.each([
    ['a free word, in any case', 'FAILED'],
    ['two free words, both required', 'failed timeout'],
    ['a quoted phrase', '"password for"'],
    ['a word with % and _ taken literally', '100%'],
    ['an underscore taken literally', 'a_b'],
    ['a backslash taken literally', '"C:\\\\inetpub"'],
    ['a word outside ASCII', '名前'],
    ['a field equal to a value, in any case', 'user:bob'],
    ['a quoted field value', 'user:"a b"'],
    ['a field value with % taken literally', 'user:x%y'],
    ['a field value with _ taken literally', 'user:under_score'],
    ['a field value with a backslash', 'user:back\\\\slash'],
    ['a wildcard at the end', 'user:admin*'],
    ['wildcards on both sides', 'user:*o*'],
    ['action and outcome together', 'action:login outcome:failure'],
    ['a numeric field', 'src_port:22'],
    ['a negated field, keeping events without it', '-outcome:success user:bob'],
    ['a negated word', '-password user:alice'],
    ['an address', 'src_ip:203.0.113.5'],
    ['an IPv6 address in another spelling', 'src_ip:2001:0db8:0:0::5'],
    ['an IPv4 range', 'src_ip:203.0.113.0/24'],
    ['a range given with host bits', 'src_ip:198.51.100.9/24'],
    ['an IPv6 range', 'src_ip:2001:db8::/32'],
    ['a negated range', '-src_ip:203.0.113.0/24 action:login'],
    ['a source address that is not one', 'src_ip:unknown'],
    ['the format', 'format:dovecot'],
    ['unparsed lines', 'parsed:false'],
    ['unparsed lines as the raw format', 'format:raw'],
    ['the receiver', 'source:syslog-udp'],
    ['a receiver by wildcard', 'source:/var/log/*'],
    ['the host', 'host:mx1'],
    ['the log source', 'service:sshd product:linux'],
    ['the log source category', 'category:webserver'],
    ['a field of Windows events, as JSON text', 'Event:*4625*'],
  ])('finds %s (%s), every page without a duplicate or a gap', async (_what, q) => {
    const want = expected(stored, parseSearch(q));
    const got = await allPages(q, 500);
    expect(got).toEqual(want);
  });

  it('holds both ends of a time range: from included, to excluded', async () => {
    const from = new Date(stored[3000]!.input.event.time);
    const to = new Date(stored[3600]!.input.event.time);
    const q = 'action:login';
    const want = expected(stored, parseSearch(q), { from, to });
    expect(want.length).toBeGreaterThan(0);
    expect(await allPages(q, 500, { from: from.toISOString(), to: to.toISOString() })).toEqual(want);
  });

  it('pages through ties of time without repeating or losing an event', async () => {
    const q = 'action:login -src_ip:203.0.113.0/24';
    const want = expected(stored, parseSearch(q));
    expect(want.length).toBeGreaterThan(1000);
    expect(await allPages(q, 97)).toEqual(want);
  });

  it('finds with any query the language can say what the events hold, and never fails', async () => {
    const piece = fc.constantFrom(
      '',
      'a',
      'o',
      'ALICE',
      'b',
      'login',
      'fail',
      '%',
      '_',
      '\\',
      'mx',
      'sys',
      '5',
      'log',
    );
    const pattern = fc.array(piece, { minLength: 1, maxLength: 3 });
    const term = searchTerm({
      pattern,
      field: fc.constantFrom('user', 'action', 'outcome', 'src_ip', 'src_port', 'missing', 'Event', 'flags'),
      format: fc.constantFrom('dovecot' as const, 'sshd' as const, 'raw' as const, 'jsonl' as const),
      parsed: true,
      address: fc.record({
        address: fc.constantFrom('203.0.113.5', '198.51.100.0', '2001:db8::', '2001:db8::5', '0.0.0.0'),
        prefix: fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }),
      }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(term, { maxLength: 4 }), async (terms) => {
        const q = formatSearch({ terms });
        const page = await searchPage(repo, WatchSearchQuery.parse({ q, limit: 50 }));
        expect(page.events.map((e) => e.id)).toEqual(expected(stored, { terms }).slice(0, 50));
      }),
      { numRuns: 40 },
    );
  });

  it('shows each event as the API contract says', async () => {
    const page = await searchPage(repo, WatchSearchQuery.parse({ q: 'format:windows user:alice', limit: 1 }));
    const event = page.events[0]!;
    const source = stored.find((s) => s.id === event.id)!.input;
    expect(event).toEqual({
      id: event.id,
      at: new Date(source.event.time).toISOString(),
      receivedAt: new Date(source.receivedAt).toISOString(),
      source: source.event.source,
      format: 'windows',
      logsource: source.event.logsource,
      host: typeof source.event.fields.host === 'string' ? source.event.fields.host : null,
      fields: source.event.fields,
      raw: source.event.raw,
      parsed: true,
    });
  });

  it('refuses a bad search and a cursor no page gave with a validation error', async () => {
    await expect(searchPage(repo, WatchSearchQuery.parse({ q: 'user:"open' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: { reason: 'unterminated_quote', position: 5 },
    });
    await expect(
      searchPage(repo, WatchSearchQuery.parse({ q: '', before: '9999999999999999_1' })),
    ).rejects.toBeInstanceOf(RempartError);
    expect(WatchSearchQuery.safeParse({ q: '', before: '1; drop table watch_events' }).success).toBe(false);
    expect(WatchSearchQuery.safeParse({ q: '', limit: 501 }).success).toBe(false);
    await expect(
      searchPage(
        repo,
        WatchSearchQuery.parse({ q: '', from: '2026-11-21T00:00:00Z', to: '2026-11-20T00:00:00Z' }),
      ),
    ).rejects.toMatchObject({ code: 'validation_failed', details: { reason: 'empty_range' } });
  });

  it('reads every stored event back in time order, rebuilt as it was given, batch by batch', async () => {
    const read: { id: string; event: WatchEvent }[] = [];
    let batches = 0;
    for await (const batch of repo.eachEventBatch({ batch: 777 })) {
      batches++;
      expect(batch.events.length).toBe(batch.ids.length);
      batch.events.forEach((event, i) => read.push({ id: batch.ids[i]!, event }));
    }
    expect(batches).toBe(Math.ceil(10_000 / 777));
    const want = [...stored].sort(
      (a, b) => a.input.event.time - b.input.event.time || Number(a.id) - Number(b.id),
    );
    expect(read.map((r) => r.id)).toEqual(want.map((s) => s.id));
    expect(read.map((r) => r.event)).toEqual(want.map((s) => s.input.event));
  });

  it('reads back only the events of a window', async () => {
    const from = new Date(stored[100]!.input.event.time);
    const to = new Date(stored[200]!.input.event.time);
    const ids: string[] = [];
    for await (const batch of repo.eachEventBatch({ from, to, batch: 10 })) ids.push(...batch.ids);
    const want = stored
      .filter((s) => s.input.event.time >= from.getTime() && s.input.event.time < to.getTime())
      .map((s) => s.id);
    expect(ids).toEqual(want);
  });
});
