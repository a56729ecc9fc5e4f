import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attributedBody,
  backupContentPath,
  CLEAN_IOS_BACKUP,
  IOS_ARTIFACT_FILES,
  writeIosBackup,
  type IosBackupFixture,
} from '../../test-support/ios-backup.js';
import { IndicatorMatcher } from '../matcher.js';
import { eachMessage, messagesFromFile, type SmsMessage } from './messages.js';
import { eachVisit, visitsFromFile, type SafariVisit } from './safari.js';
import { parseCreateTable, SqliteFile, SqliteFileError } from './sqlite-file.js';
import { columns, openDatabase, sqliteFileOf } from './sqlite.js';

let SQL: SqlJsStatic;
const dirs: string[] = [];
beforeAll(async () => {
  SQL = await initSqlJs();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The reader's answer when the schema it read has no such table (damage can rename one). */
class MissingTable extends Error {}

/**
 * Every row of `table` as the reader reads it: the rowid, then each column (`check`: a checking
 * pass). Each value's place in the file, when the reader gives one, must hold that value; `spans`
 * counts the values given with one.
 */
function readerRows(bytes: Uint8Array, table: string, check = false, spans = { count: 0 }): SqlValue[][] {
  const file = new SqliteFile(bytes);
  const found = file.table(table);
  if (found === undefined) throw new MissingTable(table);
  const out: SqlValue[][] = [];
  file.eachRow(
    found,
    ['rowid', ...found.columns.map((c) => c.name)],
    (_rowid, values, places) => {
      values.forEach((value, k) => {
        const [start, end] = [places[2 * k]!, places[2 * k + 1]!];
        if (start === -1) return;
        spans.count++;
        if (typeof value === 'string') expect(file.text(start, end)).toBe(value);
        else expect(bytes.subarray(start, end)).toEqual(value);
      });
      out.push([...values]);
    },
    check,
  );
  return out;
}

/** The same rows through sql.js. */
function sqlJsRows(bytes: Uint8Array, table: string, names: string[]): SqlValue[][] {
  const db = new SQL.Database(bytes);
  try {
    const list = ['rowid', ...names.map((n) => `"${n.replaceAll('"', '""')}"`)].join(', ');
    const statement = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY rowid`);
    const out: SqlValue[][] = [];
    while (statement.step()) out.push(statement.get());
    statement.free();
    return out;
  } finally {
    db.close();
  }
}

const PAGE_SIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const TYPES = [
  '',
  'INTEGER',
  'TEXT',
  'REAL',
  'BLOB',
  'NUMERIC',
  'VARCHAR(10)',
  'DECIMAL(10, 2)',
  'unsigned big int',
];
const CONSTRAINTS = [
  '',
  'CHECK (length(1) > 0)',
  'COLLATE NOCASE',
  "DEFAULT 'x'",
  'DEFAULT (1 + (2 * 3))',
  'NULL',
];

/** A column name quoted one of the ways SQL allows. */
function quote(name: string, style: number): string {
  if (style === 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name;
  if (style === 1 && !name.includes(']')) return `[${name}]`;
  if (style === 2) return `\`${name.replaceAll('`', '``')}\``;
  return `"${name.replaceAll('"', '""')}"`;
}

const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\u0000', ''));
const value: fc.Arbitrary<SqlValue | bigint> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.integer({ min: -200, max: 200 }),
  fc.double({ noNaN: true }),
  text,
  fc.uint8Array({ maxLength: 40 }),
  // Long values, past a page: they spill onto overflow pages.
  fc
    .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }), fc.integer({ min: 100, max: 3_000 }))
    .map(([s, n]) => s.replaceAll('\u0000', 'z').repeat(n)),
  fc.integer({ min: 500, max: 20_000 }).map((n) => new Uint8Array(n).map((_b, i) => (i * 7) & 0xff)),
);

interface TableCase {
  pageSize: number;
  columns: { name: string; style: number; type: string; constraint: string }[];
  aliasFirst: boolean;
  rows: (SqlValue | bigint)[][];
  copies: number;
  deleteEvery: number;
  added: { name: string; type: string }[];
  laterRows: (SqlValue | bigint)[][];
}

const tableCase: fc.Arbitrary<TableCase> = fc
  .record({
    pageSize: fc.constantFrom(...PAGE_SIZES),
    columns: fc.array(
      fc.record({
        name: fc.string({ unit: 'binary', maxLength: 8 }).map((s) => s.replaceAll('\u0000', '')),
        style: fc.integer({ min: 0, max: 3 }),
        type: fc.constantFrom(...TYPES),
        constraint: fc.constantFrom(...CONSTRAINTS),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    aliasFirst: fc.boolean(),
    rows: fc.array(fc.array(value, { minLength: 7, maxLength: 7 }), { maxLength: 25 }),
    copies: fc.integer({ min: 1, max: 20 }),
    deleteEvery: fc.integer({ min: 0, max: 5 }),
    added: fc.array(fc.record({ name: fc.string({ maxLength: 5 }), type: fc.constantFrom(...TYPES) }), {
      maxLength: 2,
    }),
    laterRows: fc.array(fc.array(value, { minLength: 9, maxLength: 9 }), { maxLength: 5 }),
  })
  .map((c) => ({
    ...c,
    // Unique names, never the rowid's: the index keeps them apart whatever the case folding.
    columns: c.columns.map((col, i) => ({ ...col, name: `c${i}${col.name}` })),
    added: c.added.map((col, i) => ({ ...col, name: `a${i}${col.name}` })),
  }));

/** Builds the table of `c` with sql.js; returns the database's bytes. */
function build(c: TableCase): Uint8Array {
  const db = new SQL.Database();
  try {
    db.exec(`PRAGMA page_size = ${c.pageSize}`);
    const defs = c.columns.map((col, i) =>
      i === 0 && c.aliasFirst
        ? `${quote(col.name, col.style)} INTEGER PRIMARY KEY`
        : `${quote(col.name, col.style)} ${col.type} ${col.constraint}`,
    );
    db.exec(`CREATE TABLE t (${defs.join(', ')})`);
    const insert = (values: (SqlValue | bigint)[], count: number) => {
      const marks = values.slice(0, count).map(() => '?');
      const statement = db.prepare(`INSERT INTO t VALUES (${marks.join(', ')})`);
      const bound = values.slice(0, count);
      // The INTEGER PRIMARY KEY takes only integers (NULL: the next rowid).
      if (c.aliasFirst) bound[0] = null;
      statement.run(bound as SqlValue[]);
      statement.free();
    };
    for (let copy = 0; copy < c.copies; copy++) for (const row of c.rows) insert(row, c.columns.length);
    if (c.deleteEvery > 0) db.exec(`DELETE FROM t WHERE rowid % ${c.deleteEvery + 1} = 0`);
    for (const col of c.added) db.exec(`ALTER TABLE t ADD COLUMN ${quote(col.name, 3)} ${col.type}`);
    for (const row of c.laterRows) insert(row, c.columns.length + c.added.length);
    return db.export();
  } finally {
    db.close();
  }
}

describe('the SQLite file reader', () => {
  it('reads every random table exactly as sql.js does, page sizes, overflow pages, deletions and added columns included', () => {
    fc.assert(
      fc.property(tableCase, (c) => {
        const bytes = build(c);
        const names = [...c.columns.map((col) => col.name), ...c.added.map((col) => col.name)];
        const file = new SqliteFile(bytes);
        expect(file.pageSize).toBe(c.pageSize);
        expect(file.table('t')!.columns.map((col) => col.name)).toEqual(names);
        expect(readerRows(bytes, 't')).toEqual(sqlJsRows(bytes, 't', names));
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('decodes malformed UTF-8 text, a byte order mark and NUL bytes as sql.js does', () => {
    const bytesOf = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((b) => Uint8Array.from([0xef, 0xbb, 0xbf, ...b])),
      fc
        .array(fc.constantFrom(0x00, 0x41, 0x80, 0xbf, 0xc2, 0xe2, 0xed, 0xf0, 0xf4, 0xff), { maxLength: 30 })
        .map((b) => Uint8Array.from(b)),
    );
    fc.assert(
      fc.property(fc.array(bytesOf, { minLength: 1, maxLength: 20 }), (texts) => {
        const db = new SQL.Database();
        db.exec('CREATE TABLE t (a TEXT)');
        for (const text of texts) db.run('INSERT INTO t VALUES (CAST(? AS TEXT))', [text]);
        const bytes = db.export();
        db.close();
        // Short texts lie in their page: each is given with its place in the file.
        const spans = { count: 0 };
        expect(readerRows(bytes, 't', false, spans)).toEqual(sqlJsRows(bytes, 't', ['a']));
        expect(spans.count).toBe(texts.length);
      }),
      { numRuns: 200 },
    );
  });

  it('reads tables deep enough for interior pages over interior pages', () => {
    const bytes = build({
      pageSize: 512,
      columns: [{ name: 'a', style: 0, type: 'TEXT', constraint: '' }],
      aliasFirst: false,
      rows: [['a fairly long text so that few rows fit on a page of 512 bytes'], [42n], [null]],
      copies: 3000,
      deleteEvery: 3,
      added: [],
      laterRows: [],
    });
    const file = new SqliteFile(bytes);
    const root = file.table('t')!.rootPage;
    // The root is an interior page whose first child is itself an interior page.
    const rootAt = (root - 1) * 512;
    expect(bytes[rootAt]).toBe(0x05);
    const child = new DataView(bytes.buffer, bytes.byteOffset).getUint32(
      rootAt + new DataView(bytes.buffer, bytes.byteOffset).getUint16(rootAt + 12),
    );
    expect(bytes[(child - 1) * 512]).toBe(0x05);
    expect(readerRows(bytes, 't')).toEqual(sqlJsRows(bytes, 't', ['a']));
  });

  it('refuses a record written before ADD COLUMN when the added column has a DEFAULT, which sql.js reads', () => {
    const db = new SQL.Database();
    db.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1); ALTER TABLE t ADD COLUMN b DEFAULT 'late'");
    const bytes = db.export();
    db.close();
    expect(() => readerRows(bytes, 't')).toThrow(SqliteFileError);
  });

  it('refuses WITHOUT ROWID tables, other text encodings and a write-ahead log with content', () => {
    const db = new SQL.Database();
    db.exec('CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID; CREATE TABLE t (a)');
    const bytes = db.export();
    db.close();
    expect(() => new SqliteFile(bytes).table('w')).toThrow(/WITHOUT ROWID/);
    expect(() => new SqliteFile(bytes, new Uint8Array(4096))).toThrow(/write-ahead log/);
    const utf16 = new SQL.Database();
    utf16.exec("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t (a); INSERT INTO t VALUES ('x')");
    const utf16Bytes = utf16.export();
    utf16.close();
    expect(() => new SqliteFile(utf16Bytes)).toThrow(/not UTF-8/);
  });

  it("takes the database's size from its header when SQLite does, and reads past it as SQLite does", () => {
    const db = new SQL.Database();
    db.exec('PRAGMA page_size = 512; CREATE TABLE t (a TEXT)');
    for (let i = 0; i < 60; i++) db.run('INSERT INTO t VALUES (?)', [`row ${i} `.repeat(8)]);
    const bytes = db.export();
    db.close();
    const pages = bytes.byteLength / 512;
    expect(pages).toBeGreaterThan(4);
    const withCount = (count: number, fresh: boolean) => {
      const copy = Uint8Array.from(bytes);
      const view = new DataView(copy.buffer);
      view.setUint32(28, count);
      // Fresh: its version-valid-for number (offset 92) is the change counter (offset 24).
      view.setUint32(92, fresh ? view.getUint32(24) : view.getUint32(24) + 1);
      return copy;
    };
    const names = ['a'];
    const outcome = (read: () => SqlValue[][]) => {
      try {
        return read();
      } catch (error) {
        return error instanceof SqliteFileError ? 'refused' : `sql.js: ${(error as Error).message}`;
      }
    };
    // A fresh count of fewer pages than the file holds: the table's later pages lie past the end.
    const short = withCount(3, true);
    expect(outcome(() => sqlJsRows(short, 't', names))).toMatch(/malformed/);
    expect(outcome(() => readerRows(short, 't'))).toBe('refused');
    // A fresh count of more pages than the file holds: the file was cut short.
    const long = withCount(pages + 5, true);
    expect(outcome(() => sqlJsRows(long, 't', names))).toMatch(/malformed/);
    expect(() => new SqliteFile(long)).toThrow(/header counts/);
    // A stale count is not used: the file's size says how many pages there are.
    const stale = withCount(3, false);
    expect(readerRows(stale, 't')).toEqual(sqlJsRows(stale, 't', names));
    expect(readerRows(stale, 't')).toHaveLength(60);
  });

  it('reads the rowid of an INTEGER PRIMARY KEY column, declared in the column or in the table', () => {
    expect(parseCreateTable('CREATE TABLE t (id INTEGER PRIMARY KEY, x)').columns[0]!.rowidAlias).toBe(true);
    expect(parseCreateTable('CREATE TABLE t (id integer, x, PRIMARY KEY (id))').columns[0]!.rowidAlias).toBe(
      true,
    );
    expect(parseCreateTable('CREATE TABLE t (id INTEGER PRIMARY KEY DESC, x)').columns[0]!.rowidAlias).toBe(
      false,
    );
    expect(parseCreateTable('CREATE TABLE t (id INT PRIMARY KEY, x)').columns[0]!.rowidAlias).toBe(false);
    const parsed = parseCreateTable(
      'CREATE TABLE "a""b" ([x y] DECIMAL(10, 2) CHECK (x > (1)), `z` TEXT DEFAULT \'(,)\', "q""" /* c, d */ -- e\n, CONSTRAINT k UNIQUE (x, z))',
    );
    expect(parsed.columns.map((c) => [c.name, c.type, c.hasDefault])).toEqual([
      ['x y', 'DECIMAL', false],
      ['z', 'TEXT', true],
      ['q"', '', false],
    ]);
  });

  it('never hangs, never reads out of range: a damaged or hostile file gives rows or a SqliteFileError, fast', () => {
    const base = build({
      pageSize: 512,
      columns: [
        { name: 'a', style: 0, type: 'TEXT', constraint: '' },
        { name: 'b', style: 0, type: '', constraint: '' },
      ],
      aliasFirst: false,
      rows: [
        ['short', 1n],
        ['a long text '.repeat(200), new Uint8Array(3000).fill(7)],
        [null, 2.5],
      ],
      copies: 200,
      deleteEvery: 2,
      added: [],
      laterRows: [],
    });
    const pages = base.length / 512;
    const damage = fc.oneof(
      fc
        .array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 20 })
        .map((flips) => (bytes: Uint8Array) => {
          for (const [at, b] of flips) bytes[at] = b;
          return bytes;
        }),
      fc.nat(base.length).map((n) => (bytes: Uint8Array) => bytes.subarray(0, n)),
      // A page pointer (child, right-most or overflow) rewritten: to itself, its parent, out of range.
      fc
        .tuple(fc.nat(pages - 1), fc.nat(511), fc.oneof(fc.nat(pages + 2), fc.constant(0xffffffff)))
        .map(([page, offset, target]) => (bytes: Uint8Array) => {
          const at = Math.min(page * 512 + offset, bytes.length - 4);
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, target);
          return bytes;
        }),
    );
    fc.assert(
      fc.property(damage, (hurt) => {
        const bytes = hurt(Uint8Array.from(base));
        const started = performance.now();
        // The checking pass refuses exactly what the read refuses, and passes as many rows.
        const outcome = (check: boolean) => {
          try {
            return readerRows(bytes, 't', check).length;
          } catch (error) {
            if (error instanceof MissingTable) return 'no such table';
            expect(error).toBeInstanceOf(SqliteFileError);
            return 'refused';
          }
        };
        expect(outcome(true)).toBe(outcome(false));
        expect(performance.now() - started).toBeLessThan(2000);
      }),
      { numRuns: 400 },
    );
  });

  it('stops at a cycle of pages, and at an overflow chain that loops, with a SqliteFileError', () => {
    const base = build({
      pageSize: 512,
      columns: [{ name: 'a', style: 0, type: 'TEXT', constraint: '' }],
      aliasFirst: false,
      rows: [['x'.repeat(5000)]],
      copies: 40,
      deleteEvery: 0,
      added: [],
      laterRows: [],
    });
    const root = new SqliteFile(base).table('t')!.rootPage;
    const looped = Uint8Array.from(base);
    const view = new DataView(looped.buffer);
    // The root's right-most child pointing back at the root.
    view.setUint32((root - 1) * 512 + 8, root);
    expect(() => readerRows(looped, 't')).toThrow(SqliteFileError);
    // Every overflow page pointing at page 2: the chain loops, and is cut by the payload's size.
    const chain = Uint8Array.from(base);
    for (let page = 2; page <= base.length / 512; page++)
      if (chain[(page - 1) * 512] === 0) new DataView(chain.buffer).setUint32((page - 1) * 512, 2);
    const started = performance.now();
    try {
      readerRows(chain, 't');
    } catch (error) {
      expect(error).toBeInstanceOf(SqliteFileError);
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

/** sms.db and History.db of a backup written from `fixture`. */
async function backupDatabases(fixture: IosBackupFixture): Promise<{ sms: Uint8Array; history: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'rempart-sqlite-file-'));
  dirs.push(dir);
  await writeIosBackup(dir, fixture);
  const path = (file: { domain: string; path: string }) => backupContentPath(dir, file.domain, file.path);
  return {
    sms: readFileSync(path(IOS_ARTIFACT_FILES.sms)),
    history: readFileSync(path(IOS_ARTIFACT_FILES.safariHistory)),
  };
}

/** eachMessage and eachVisit through sql.js, then through the reader (which must not refuse). */
async function bothWays(bytes: { sms: Uint8Array; history: Uint8Array }, readable = true) {
  const result = {
    sqlJs: { messages: [] as SmsMessage[], visits: [] as SafariVisit[] },
    file: { messages: [] as SmsMessage[], visits: [] as SafariVisit[] },
    /** How many messages the reader gave with their text's place in the file. */
    spans: 0,
    /** How many it left undecoded when only the texts that may name an indicator were wanted. */
    undecoded: 0,
  };
  for (const [way, fileReader] of [
    ['sqlJs', false],
    ['file', true],
  ] as const) {
    const sms = await openDatabase(bytes.sms, 'sms.db', { fileReader });
    const history = await openDatabase(bytes.history, 'History.db', { fileReader });
    try {
      expect(sqliteFileOf(sms) !== undefined).toBe(fileReader);
      if (fileReader && readable) {
        // The reader reads both queries itself, rather than leaving them to sql.js.
        expect(messagesFromFile(sqliteFileOf(sms)!, sms, columns(sms, 'message'), () => undefined)).toBe(
          true,
        );
        const visits = columns(history, 'history_visits');
        expect(
          visitsFromFile(sqliteFileOf(history)!, history, visits.has('title'), visits.has('redirect_source')),
        ).toBeDefined();
      }
      const file = sqliteFileOf(sms);
      eachMessage(sms, (m) => {
        // A text read in place is given with its place in the file, where the file gives it
        // again; sql.js gives none. Compared apart, then left out.
        if (m.textStart !== -1) {
          expect(file!.text(m.textStart, m.textEnd)).toBe(m.text);
          result.spans++;
        }
        result[way].messages.push({ ...m, textStart: -1, textEnd: -1 });
      });
      if (file !== undefined) {
        // Texts left undecoded unless wanted: the same messages, an unwanted text in place given
        // as '' with the span of the text that is there.
        const told = result[way].messages;
        let i = 0;
        eachMessage(
          sms,
          (m) => {
            const whole = told[i++]!;
            if (m.textStart !== -1) expect(file.text(m.textStart, m.textEnd)).toBe(whole.text);
            const wanted =
              m.textStart === -1 || IndicatorMatcher.utf8MayName(file.bytes, m.textStart, m.textEnd);
            if (!wanted) result.undecoded++;
            expect({ ...m, textStart: -1, textEnd: -1 }).toEqual({
              ...whole,
              text: wanted ? whole.text : '',
            });
          },
          () => undefined,
          IndicatorMatcher.utf8MayName,
        );
        expect(i).toBe(told.length);
      }
      eachVisit(history, (v) => result[way].visits.push(v));
    } finally {
      sms.close();
      history.close();
    }
  }
  return result;
}

describe('eachMessage and eachVisit through the file reader', () => {
  it('give what sql.js gives on the clean backup fixture', async () => {
    const { sqlJs, file, spans, undecoded } = await bothWays(await backupDatabases(CLEAN_IOS_BACKUP));
    expect(sqlJs.messages.length).toBeGreaterThan(0);
    expect(sqlJs.visits.length).toBeGreaterThan(0);
    expect(file).toEqual(sqlJs);
    expect(spans).toBe(sqlJs.messages.filter((m) => m.text !== '').length);
    // 'Your code is 123456', 'ok'… name nothing; 'See https://www.wikipedia.org/ tonight' may.
    expect(undecoded).toBeGreaterThan(0);
    expect(undecoded).toBeLessThan(spans);
  });

  it('leave to sql.js the tables whose join values SQLite compares by its own rules, with the same result', async () => {
    const bytes = await backupDatabases(CLEAN_IOS_BACKUP);
    const edit = (source: Uint8Array, sql: string) => {
      const db = new SQL.Database(source);
      db.exec(sql);
      const out = db.export();
      db.close();
      return out;
    };
    const sms = edit(
      bytes.sms,
      "UPDATE message SET handle_id = 'one' WHERE ROWID = (SELECT min(ROWID) FROM message)",
    );
    const history = edit(
      bytes.history,
      "UPDATE history_visits SET history_item = 'x' || history_item WHERE id = (SELECT min(id) FROM history_visits)",
    );
    const refused = await openDatabase(sms, 'sms.db');
    const refusedHistory = await openDatabase(history, 'History.db');
    try {
      expect(
        messagesFromFile(sqliteFileOf(refused)!, refused, columns(refused, 'message'), () => undefined),
      ).toBe(false);
      expect(visitsFromFile(sqliteFileOf(refusedHistory)!, refusedHistory, true, true)).toBeUndefined();
    } finally {
      refused.close();
      refusedHistory.close();
    }
    const { sqlJs, file } = await bothWays({ sms, history }, false);
    expect(sqlJs.messages.length).toBeGreaterThan(0);
    expect(file).toEqual(sqlJs);
  });

  it('give what sql.js gives on random messages and visits, redirects and attributedBody included', async () => {
    const when = fc.date({
      min: new Date('2001-01-02T00:00:00Z'),
      max: new Date('2035-01-01T00:00:00Z'),
      noInvalidDate: true,
    });
    const fixture = fc.record({
      sms: fc.array(
        fc.record({
          text: fc.option(
            fc.string({ unit: 'binary', maxLength: 300 }).map((s) => s.replaceAll('\u0000', '')),
          ),
          handle: fc.option(fc.constantFrom('+33600000001', 'agent@example.org', ''), { nil: undefined }),
          at: when,
          unit: fc.constantFrom('ns' as const, 's' as const),
          fromMe: fc.boolean(),
          service: fc.constantFrom('SMS' as const, 'iMessage' as const),
          attributedBody: fc.option(
            fc.oneof(
              fc.uint8Array({ maxLength: 2000 }),
              // iOS 16+'s form, its string opening with a byte order mark or not, of every length
              // form (one byte, 0x81 and two, 0x82 and four).
              fc
                .tuple(
                  fc.boolean(),
                  fc.uint8Array({ maxLength: 400 }),
                  fc.constantFrom(0 as const, 0x81 as const, 0x82 as const),
                )
                .map(([mark, bytes, form]) =>
                  attributedBody(Buffer.concat([Buffer.from(mark ? [0xef, 0xbb, 0xbf] : []), bytes]), form),
                ),
            ),
            { nil: undefined },
          ),
        }),
        { maxLength: 40 },
      ),
      safariVisits: fc
        .array(
          fc.record({
            url: fc.webUrl(),
            title: fc.option(text, { nil: undefined }),
            at: when,
            from: fc.nat(50),
          }),
          {
            maxLength: 30,
          },
        )
        // A visit is the redirect source of one visit at most (redirect_source is UNIQUE).
        .map((visits) =>
          visits.map(({ from, ...v }, i) => (i > 0 && from % 3 === 0 ? { ...v, redirectedFrom: i - 1 } : v)),
        ),
    });
    await fc.assert(
      fc.asyncProperty(fixture, async (f) => {
        const { sqlJs, file } = await bothWays(await backupDatabases({ ...CLEAN_IOS_BACKUP, ...f }));
        expect(file).toEqual(sqlJs);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('give what sql.js gives on damaged databases: the same messages and visits, or the same error', async () => {
    const build = (sql: string, fill: (db: Database) => void) => {
      const db = new SQL.Database();
      db.exec(`PRAGMA page_size = 512; ${sql}`);
      fill(db);
      const out = db.export();
      db.close();
      return out;
    };
    const sms = build(
      `CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);
       CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, attributedBody BLOB, handle_id INTEGER,
         date INTEGER, is_from_me INTEGER, service TEXT)`,
      (db) => {
        for (let i = 1; i < 20; i++) db.run('INSERT INTO handle VALUES (?, ?)', [i, `+3361234${i}`]);
        for (let i = 1; i < 600; i++)
          db.run('INSERT INTO message VALUES (NULL, ?, ?, ?, ?, ?, ?)', [
            i % 5 === 0 ? null : i % 7 === 0 ? 'a long message '.repeat(60) : `message ${i}`,
            i % 5 === 0 ? Uint8Array.from(Buffer.from(`NSString+\u0005hello ${i}`)) : null,
            i % 23,
            i * 1e9,
            i % 2,
            'iMessage',
          ]);
      },
    );
    const history = build(
      `CREATE TABLE history_items (id INTEGER PRIMARY KEY, url TEXT, visit_count INTEGER);
       CREATE TABLE history_visits (id INTEGER PRIMARY KEY, history_item INTEGER, visit_time REAL, title TEXT,
         redirect_source INTEGER, redirect_destination INTEGER)`,
      (db) => {
        for (let i = 1; i < 60; i++)
          db.run('INSERT INTO history_items VALUES (?, ?, ?)', [i, `https://site${i}.example/`, i]);
        for (let i = 1; i < 400; i++)
          db.run('INSERT INTO history_visits VALUES (?, ?, ?, ?, ?, ?)', [
            i,
            (i % 59) + 1,
            (i * 7919) % 1000,
            i % 3 === 0 ? null : `page ${i}`,
            i % 4 === 0 ? i - 1 : null,
            i % 4 === 3 ? i + 1 : null,
          ]);
      },
    );
    const outcome = async (
      bytes: Uint8Array,
      fileReader: boolean,
      read: (db: Database, out: unknown[]) => void,
    ) => {
      try {
        const db = await openDatabase(bytes, 'damaged', { fileReader });
        const out: unknown[] = [];
        try {
          read(db, out);
        } finally {
          db.close();
        }
        return out;
      } catch (error) {
        return `error: ${(error as Error).message}`;
      }
    };
    const damage = (length: number) =>
      fc.oneof(
        fc
          .array(fc.tuple(fc.nat(length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 })
          .map((flips) => (bytes: Uint8Array) => {
            for (const [at, b] of flips) bytes[at] = b;
            return bytes;
          }),
        fc.nat(length).map((n) => (bytes: Uint8Array) => bytes.subarray(0, n)),
        // A page number written over a page header or a cell: a child, a right-most or an overflow pointer.
        fc
          .tuple(fc.nat(length / 512 - 1), fc.nat(508), fc.nat(length / 512 + 2))
          .map(([page, offset, target]) => (bytes: Uint8Array) => {
            new DataView(bytes.buffer, bytes.byteOffset).setUint32(page * 512 + offset, target);
            return bytes;
          }),
      );
    const readers = {
      // What the file reader told before it stumbled is undone, and sql.js tells it all again.
      sms: (db: Database, out: unknown[]) =>
        eachMessage(
          db,
          // Where a text lies in the file is the reader's alone: compared in the tests above.
          (m) => out.push({ ...m, textStart: -1, textEnd: -1 }),
          () => (out.length = 0),
        ),
      history: (db: Database, out: unknown[]) => eachVisit(db, (v) => out.push(v)),
    };
    for (const [name, base] of [
      ['sms', sms],
      ['history', history],
    ] as const)
      await fc.assert(
        fc.asyncProperty(damage(base.length), async (hurt) => {
          const bytes = hurt(Uint8Array.from(base));
          expect(await outcome(Uint8Array.from(bytes), true, readers[name])).toEqual(
            await outcome(bytes, false, readers[name]),
          );
        }),
        { numRuns: 300 },
      );
  }, 60_000);
});
