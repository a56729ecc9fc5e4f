/**
 * The query log's writes on a real database (PGlite here, PostgreSQL when the test script gives
 * one): the embedded database appends with COPY, PostgreSQL with INSERT … unnest; both must keep
 * every character of what the resolver logged, whatever the names and rules hold.
 */
import fc from 'fast-check';
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client.js';
import { netguardQueries } from '../db/schema.js';
import { testTarget } from '../test-support/platform.js';
import { NetguardRepository, type QueryRow } from './netguard.repository.js';

let database: Database;
let repo: NetguardRepository;

beforeAll(async () => {
  database = await openDatabase(await testTarget());
  repo = new NetguardRepository(database.db, database.copyRows);
}, 60_000);

afterAll(async () => {
  await database.close();
});

/** Text as a list or a name may bring it: tabs, backslashes, line breaks, \N, any Unicode but NUL. */
const awkward = fc
  .array(
    fc.oneof(
      fc.constantFrom('\t', '\\', '\n', '\r', '\\N', '\\t', 'é', '名', '😀', ' ', '"', "'", ','),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join('').replaceAll('\u0000', ''));

const row = fc.record({
  at: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map((ms) => new Date(ms)),
  client: fc.constantFrom('127.0.0.1', '::1', '2001:db8::7'),
  protocol: fc.constantFrom('udp' as const, 'tcp' as const, 'doh' as const),
  name: awkward,
  type: fc.constantFrom('A', 'AAAA', 'TYPE65534'),
  groupId: awkward,
  action: fc.constantFrom('allow' as const, 'block' as const),
  list: fc.option(awkward, { nil: null }),
  rule: fc.option(awkward, { nil: null }),
  rcode: fc.constantFrom('NOERROR', 'NXDOMAIN', 'SERVFAIL'),
  cached: fc.boolean(),
  durationMs: fc.integer({ min: 0, max: 60_000 }),
  count: fc.integer({ min: 1, max: 1_000_000 }),
});

const canonical = (rows: QueryRow[]) =>
  rows
    .map((r) =>
      JSON.stringify([
        r.at.getTime(),
        r.client,
        r.protocol,
        r.name,
        r.type,
        r.groupId,
        r.action,
        r.list,
        r.rule,
        r.rcode,
        r.cached,
        r.durationMs,
        r.count,
      ]),
    )
    .sort();

describe('the query log on the database', () => {
  it(`keeps every character of what it writes (${'copyRows'} on PGlite, INSERT on PostgreSQL)`, async () => {
    expect(typeof database.copyRows).toBe(database.kind === 'pglite' ? 'function' : 'undefined');
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 40 }), async (rows) => {
        await database.db.delete(netguardQueries);
        await repo.insertQueries(rows);
        const back = await database.db.select().from(netguardQueries).orderBy(asc(netguardQueries.at));
        expect(canonical(back)).toEqual(canonical(rows));
      }),
      { numRuns: 60 },
    );
  });

  it('writes a batch larger than one statement, and prunes by time with the count', async () => {
    await database.db.delete(netguardQueries);
    const t0 = Date.parse('2026-12-02T08:00:00Z');
    const rows: QueryRow[] = Array.from({ length: 12_345 }, (_, i) => ({
      at: new Date(t0 + i * 1000),
      client: '10.0.0.1',
      protocol: 'udp',
      name: `n${i}.example`,
      type: 'A',
      groupId: 'default',
      action: 'block',
      list: 'bench',
      rule: `||n${i}.example^`,
      rcode: 'NXDOMAIN',
      cached: false,
      durationMs: 0,
      count: 1,
    }));
    await repo.insertQueries(rows);
    expect(await repo.queryTotals(new Date(t0))).toMatchObject({ queries: 12_345, blocked: 12_345 });
    expect(await repo.pruneQueries(new Date(t0 + 10_000 * 1000))).toBe(10_000);
    expect(await repo.queryTotals(new Date(0))).toMatchObject({ queries: 2_345 });
  });
});
