/**
 * SQLite databases of a backup (Manifest.db, sms.db, History.db…), read with sql.js: SQLite
 * compiled to WebAssembly, so that reading evidence needs no native module and no network. A
 * database is opened from its bytes, in memory: the backup on disk is never written to. The largest
 * tables (messages, Safari's history) are read from the same bytes by a reader of the file format
 * (sqlite-file.ts), faster, with sql.js as its fallback.
 */
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { SqliteFile, SqliteFileError, type SqliteTable } from './sqlite-file.js';

export type { Database, SqlValue };
export type Row = Record<string, SqlValue>;

/** The 16-byte header every SQLite 3 database opens with (SQLite file format §1.3.1). */
const SQLITE_HEADER = 'SQLite format 3\u0000';

let engine: Promise<SqlJsStatic> | undefined;

/** sql.js, loaded once: it compiles its WebAssembly module from node_modules. */
function sqlite(): Promise<SqlJsStatic> {
  engine ??= initSqlJs().catch((error: unknown) => {
    engine = undefined;
    throw error;
  });
  return engine;
}

/** Whether `bytes` open like a SQLite 3 database. */
export function isSqlite(bytes: Uint8Array): boolean {
  if (bytes.byteLength < SQLITE_HEADER.length) return false;
  for (let i = 0; i < SQLITE_HEADER.length; i++) if (bytes[i] !== SQLITE_HEADER.charCodeAt(i)) return false;
  return true;
}

/** How a database is opened. */
export interface OpenOptions {
  /**
   * Whether its largest tables may be read straight from the file (sqlite-file.ts) rather than
   * through sql.js; true unless said otherwise. False reads everything through sql.js.
   */
  fileReader?: boolean;
}

/** The bytes each open database was opened from, for the file reader. */
const sources = new WeakMap<Database, Uint8Array>();
/** The file reader of each database, once made (null: the file is not one it reads). */
const readers = new WeakMap<Database, SqliteFile | null>();

/**
 * A database opened from its bytes, refusing writes. Throws when the bytes are not a SQLite
 * database; a database damaged further in fails at its first query.
 */
export async function openDatabase(
  bytes: Uint8Array,
  name: string,
  options: OpenOptions = {},
): Promise<Database> {
  if (!isSqlite(bytes)) throw new Error(`${name} is not a SQLite database`);
  const SQL = await sqlite();
  const db = new SQL.Database(bytes);
  try {
    db.exec('PRAGMA query_only = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  if (options.fileReader !== false) sources.set(db, bytes);
  return db;
}

/**
 * The reader of the file `db` was opened from, to read a large table faster than sql.js does;
 * undefined when the database was opened without it or its file is not one it reads (then
 * sql.js reads everything). A reader can still refuse a table: its callers then use sql.js.
 */
export function sqliteFileOf(db: Database): SqliteFile | undefined {
  let reader = readers.get(db);
  if (reader === undefined) {
    const bytes = sources.get(db);
    if (bytes === undefined) return undefined;
    try {
      reader = new SqliteFile(bytes);
    } catch {
      reader = null;
    }
    readers.set(db, reader);
  }
  return reader ?? undefined;
}

/**
 * The table `name` as the file reader reads it, when its columns are those SQLite itself lists, in
 * the same order, and a column named like the rowid, if any, is the rowid. Otherwise the reader
 * could read other values than SQLite: throws a SqliteFileError, and the caller uses sql.js.
 */
export function fileTable(db: Database, file: SqliteFile, name: string): SqliteTable {
  const table = file.table(name);
  if (table === undefined) throw new SqliteFileError(`no table ${name}`);
  const listed = [...columns(db, name)];
  const read = table.columns.map((c) => c.name.toLowerCase());
  if (read.length !== listed.length || read.some((column, i) => column !== listed[i]))
    throw new SqliteFileError(`the columns of ${name} read otherwise than SQLite lists them`);
  if (table.columns.some((c) => ['rowid', 'oid', '_rowid_'].includes(c.name.toLowerCase()) && !c.rowidAlias))
    throw new SqliteFileError(`${name} has a column named like the rowid that is not the rowid`);
  return table;
}

/** Every row of a query, as objects keyed by column name. */
export function rows(db: Database, sql: string, params: SqlValue[] = []): Row[] {
  const found: Row[] = [];
  eachRow(db, sql, params, (row) => found.push(row));
  return found;
}

/**
 * Calls `visit` with each row of a query in turn, without holding them all. The column names are
 * read once: sql.js's `getAsObject` reads and decodes them again for every row, which costs more
 * than the values on a table of a million messages.
 */
export function eachRow(db: Database, sql: string, params: SqlValue[], visit: (row: Row) => void): void {
  const statement = db.prepare(sql, params);
  try {
    const names = statement.getColumnNames();
    while (statement.step()) {
      const values = statement.get();
      const row: Row = {};
      // A name given twice keeps its last value, as getAsObject does.
      for (let i = 0; i < names.length; i++) row[names[i]!] = values[i] ?? null;
      visit(row);
    }
  } finally {
    statement.free();
  }
}

/**
 * Calls `visit` with the values of each row of a query, in the order of its columns: the fastest
 * way sql.js has through a large table (no object, no column name per row).
 */
export function eachValues(
  db: Database,
  sql: string,
  params: SqlValue[],
  visit: (values: readonly SqlValue[]) => void,
): void {
  const statement = db.prepare(sql, params);
  try {
    while (statement.step()) visit(statement.get());
  } finally {
    statement.free();
  }
}

/** The tables of a database. */
export function tables(db: Database): Set<string> {
  return new Set(
    rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) =>
      (asText(r.name) ?? '').toLowerCase(),
    ),
  );
}

/**
 * The columns of a table, lower-cased: iOS adds and renames columns between versions (sms.db's
 * `attributedBody`, TCC.db's `allowed` become `auth_value`), so queries ask only for what is there.
 */
export function columns(db: Database, table: string): Set<string> {
  return new Set(
    rows(db, `PRAGMA table_info("${table.replaceAll('"', '""')}")`).map((r) =>
      (asText(r.name) ?? '').toLowerCase(),
    ),
  );
}

/** `column` when the table has it, otherwise NULL under the same name: for optional columns. */
export function optional(
  have: Set<string>,
  qualified: string,
  alias = qualified.replace(/^.*\./, ''),
): string {
  const column = qualified.replace(/^.*\./, '');
  return have.has(column.toLowerCase()) ? `${qualified} AS ${alias}` : `NULL AS ${alias}`;
}

/** A column's value as text (numbers written out, blobs read as UTF-8), or undefined. */
export function asText(value: SqlValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return undefined;
}

/** A column's value as a finite number, or undefined. */
export function asNumber(value: SqlValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** A Unix time in seconds (TCC.db, WebKit's observations.db) as a date; null for 0 or nothing. */
export function unixTime(value: SqlValue | undefined): Date | null {
  const seconds = asNumber(value);
  if (seconds === undefined || seconds === 0) return null;
  const date = new Date(seconds * 1000);
  return Number.isFinite(date.getTime()) ? date : null;
}
