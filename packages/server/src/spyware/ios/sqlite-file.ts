/**
 * A read-only reader of the SQLite database file format (sqlite.org, "Database File Format"), for
 * the few large tables of a backup read row by row (sms.db's messages, Safari's visits). sql.js
 * copies a whole database into its WebAssembly heap and crosses into JavaScript once per value;
 * this reader walks the table B-tree straight in the file's bytes.
 *
 * It reads only what it can be sure of: a rowid table of a UTF-8 database whose pages are all in
 * bounds. Anything else (a WITHOUT ROWID table, another text encoding, a write-ahead log with
 * content, a damaged page, a generated column…) throws a `SqliteFileError`, and the caller reads
 * the table through sql.js instead. Every offset is checked before it is read, every page is
 * visited at most once and the tree depth is capped, so a hostile file ends in that error, never
 * in a loop or an out-of-range read.
 *
 * Values come as sql.js gives them: integers and reals as numbers (integers beyond 2^53 rounded
 * as SQLite's conversion to double rounds them), text decoded as UTF-8 the way sql.js decodes it
 * (`TextDecoder`, byte order mark dropped, NUL kept), blobs as `Uint8Array` views, NULL as null.
 */
import type { SqlValue } from 'sql.js';

/** Why the reader would not read a file or table: the caller falls back to sql.js. */
export class SqliteFileError extends Error {
  constructor(message: string) {
    super(`SQLite file: ${message}`);
    this.name = 'SqliteFileError';
  }
}

function fail(message: string): never {
  throw new SqliteFileError(message);
}

const MAGIC = 'SQLite format 3\u0000';
/** SQLite's own cursor gives up deeper than this (BTCURSOR_MAX_DEPTH): a deeper tree is damaged. */
const MAX_DEPTH = 20;
const TABLE_INTERIOR = 0x05;
const TABLE_LEAF = 0x0d;

/** A column of a table, as its CREATE TABLE declares it. */
export interface SqliteColumn {
  name: string;
  /** The declared type, as written (words joined by one space), '' when none. */
  type: string;
  /** Whether the column is the INTEGER PRIMARY KEY: stored NULL, read as the rowid. */
  rowidAlias: boolean;
  /** Whether the column has a DEFAULT clause: a record written before ADD COLUMN reads it. */
  hasDefault: boolean;
}

/** A table of the schema. */
export interface SqliteTable {
  name: string;
  rootPage: number;
  columns: SqliteColumn[];
}

/** An entry of `sqlite_schema`. */
export interface SqliteSchemaEntry {
  type: string;
  name: string;
  tableName: string;
  rootPage: number;
  sql: string | null;
}

const decoder = new TextDecoder();
/** What a checking pass gives for every blob. */
const NO_BYTES = new Uint8Array(0);

export class SqliteFile {
  /** The file's bytes (read, never written). */
  readonly bytes: Buffer;
  private readonly view: DataView;
  readonly pageSize: number;
  /** The usable size of a page, U: the page size less the bytes reserved at its end. */
  private readonly usable: number;
  private readonly pageCount: number;
  private schemaCache: SqliteSchemaEntry[] | undefined;

  /**
   * The database of `bytes`. `wal` is the content of its `-wal` file when there is one: a log with
   * frames holds changes not yet in the pages, which only SQLite itself replays.
   */
  constructor(bytes: Uint8Array, wal?: Uint8Array) {
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 100 || this.bytes.toString('latin1', 0, 16) !== MAGIC)
      fail('not a SQLite 3 database');
    if (wal !== undefined && wal.byteLength > 32) fail('a write-ahead log with content lies beside it');
    const rawSize = this.view.getUint16(16);
    const pageSize = rawSize === 1 ? 65536 : rawSize;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
      fail(`invalid page size ${rawSize}`);
    // Read version above 2 is a format this reader (and SQLite itself) does not know.
    if (this.bytes[19]! > 2) fail(`unknown file format read version ${this.bytes[19]}`);
    const reserved = this.bytes[20]!;
    this.pageSize = pageSize;
    this.usable = pageSize - reserved;
    if (this.usable < 480) fail(`usable page size ${this.usable} below 480`);
    const encoding = this.view.getUint32(56);
    if (encoding !== 1) fail(`text encoding ${encoding} is not UTF-8`);
    // The database's size in pages, as SQLite takes it (btree.c, lockBtree): the header's count
    // when it is fresh (not 0, and its version-valid-for number equals the change counter), which
    // must then not exceed the pages the file holds, and a page past it is corruption; otherwise
    // the pages the file holds.
    const filePages = Math.floor(bytes.byteLength / pageSize);
    const headerPages = this.view.getUint32(28);
    const fresh = headerPages !== 0 && this.view.getUint32(24) === this.view.getUint32(92);
    if (fresh && headerPages > filePages)
      fail(`the header counts ${headerPages} pages, the file holds ${filePages}`);
    this.pageCount = fresh ? headerPages : filePages;
    if (this.pageCount < 1) fail('shorter than one page');
  }

  /** The entries of `sqlite_schema` (page 1), in its order. */
  schema(): SqliteSchemaEntry[] {
    if (this.schemaCache !== undefined) return this.schemaCache;
    const entries: SqliteSchemaEntry[] = [];
    this.scanTree(1, [0, 1, 2, 3, 4], (_rowid, v) => {
      const [type, name, tableName, rootPage, sql] = v;
      if (typeof type !== 'string' || typeof name !== 'string' || typeof tableName !== 'string')
        fail('sqlite_schema entry with a non-text type or name');
      entries.push({
        type,
        name,
        tableName,
        rootPage: typeof rootPage === 'number' ? rootPage : 0,
        sql: typeof sql === 'string' ? sql : null,
      });
    });
    this.schemaCache = entries;
    return entries;
  }

  /** The table `name` (matched without regard to ASCII case), or undefined when there is none. */
  table(name: string): SqliteTable | undefined {
    const lower = asciiLower(name);
    const entry = this.schema().find((e) => e.type === 'table' && asciiLower(e.name) === lower);
    if (entry === undefined) return undefined;
    if (entry.sql === null) fail(`table ${entry.name} has no CREATE statement`);
    const parsed = parseCreateTable(entry.sql);
    if (parsed.withoutRowid) fail(`table ${entry.name} is WITHOUT ROWID`);
    if (!Number.isInteger(entry.rootPage) || entry.rootPage < 1 || entry.rootPage > this.pageCount)
      fail(`table ${entry.name} has root page ${entry.rootPage}`);
    return { name: entry.name, rootPage: entry.rootPage, columns: parsed.columns };
  }

  /**
   * Calls `visit` with each row of `table` in rowid order (the B-tree's order), with the values of
   * `select`: column names (without regard to ASCII case), `rowid` for the rowid when no column
   * has that name. The array passed is reused from row to row. Throws a `SqliteFileError` for a
   * column the table does not have.
   *
   * `check` reads every page and record as a read does, and throws where a read would, but leaves
   * text and blob values undecoded (every text '', every blob empty, so their type still shows):
   * a cheap first pass, after which a read of the same table and columns cannot fail.
   *
   * `spans` (also reused) tells where each text or blob value lies in the file: for the k-th column
   * of `select`, `spans[2k]` and `spans[2k + 1]` are its first and end offsets (`text` gives a text
   * again from there), or -1 when the value is not a text or blob read in place (another type, or a
   * record spilled onto overflow pages). A caller that keeps many texts keeps those two numbers
   * rather than strings.
   *
   * `undecoded` names columns of `select` whose texts read in place are given as '' with their span,
   * not decoded: a caller that needs only some of them decodes those (`text`).
   */
  eachRow(
    table: SqliteTable,
    select: readonly string[],
    visit: (rowid: number, values: SqlValue[], spans: Float64Array) => void,
    check = false,
    undecoded: readonly string[] = [],
  ): void {
    const indexes = select.map((name) => {
      // SQLite folds the case of ASCII letters only in names.
      const lower = asciiLower(name);
      let index = table.columns.findIndex((c) => c.name === name);
      if (index === -1) index = table.columns.findIndex((c) => asciiLower(c.name) === lower);
      if (index !== -1) return table.columns[index]!.rowidAlias ? -1 : index;
      if (lower === 'rowid' || lower === 'oid' || lower === '_rowid_') return -1;
      return fail(`table ${table.name} has no column ${name}`);
    });
    const defaults = table.columns.map((c) => c.hasDefault);
    const lazy = Uint8Array.from(select, (name) => (undecoded.includes(name) ? 1 : 0));
    this.scanTree(table.rootPage, indexes, visit, defaults, check, lazy);
  }

  /** The text at `start`…`end` of the file, as `eachRow` read it there (see its `spans`). */
  text(start: number, end: number): string {
    if (!(start >= 0 && start <= end && end <= this.bytes.byteLength)) fail(`no text at ${start}…${end}`);
    return decodeText(this.bytes, start, end);
  }

  /** The offset of page `page`'s B-tree header (page 1 has the database header first). */
  private pageStart(page: number): number {
    if (!Number.isInteger(page) || page < 1 || page > this.pageCount) fail(`page ${page} out of range`);
    return (page - 1) * this.pageSize;
  }

  /**
   * Walks the table B-tree rooted at `root`, depth first, left to right, calling `visit` for each
   * cell of its leaves with the columns at `indexes` (-1: the rowid).
   */
  private scanTree(
    root: number,
    indexes: readonly number[],
    visit: (rowid: number, values: SqlValue[], spans: Float64Array) => void,
    defaults?: readonly boolean[],
    check = false,
    lazy = new Uint8Array(indexes.length),
  ): void {
    const seen = new Uint8Array(this.pageCount + 1);
    const values: SqlValue[] = new Array<SqlValue>(indexes.length).fill(null);
    const spans = new Float64Array(indexes.length * 2);
    const types = new Float64Array(Math.max(...indexes, 0) + 1);
    const offsets = new Float64Array(types.length);
    const recent = new RecentTexts(indexes.length);
    const bytes = this.bytes;
    const usable = this.usable;
    const maxLocal = usable - 35;
    const minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;

    // Rowids must rise strictly, within the bounds the interior keys set (a left child holds the
    // rowids up to its cell's key): SQLite finds a row by its rowid through those keys, so a tree
    // out of order would be read one way here and joined another way there.
    const walk = (page: number, depth: number, low: number, high: number): void => {
      if (depth > MAX_DEPTH) fail('B-tree deeper than SQLite allows');
      const base = this.pageStart(page);
      if (seen[page] === 1) fail(`page ${page} reached twice`);
      seen[page] = 1;
      const header = page === 1 ? base + 100 : base;
      const end = base + usable;
      const kind = bytes[header];
      const interior = kind === TABLE_INTERIOR;
      if (!interior && kind !== TABLE_LEAF) fail(`page ${page} is not a table B-tree page (type ${kind})`);
      const cells = this.view.getUint16(header + 3);
      const pointers = header + (interior ? 12 : 8);
      if (pointers + 2 * cells > end) fail(`page ${page}: cell pointers past the page`);
      // SQLite's own checks as it reads: a page below the root, or an interior page, has cells;
      // none has more than its size could hold.
      if (cells === 0 && (depth > 1 || interior)) fail(`page ${page}: no cells`);
      if (cells > Math.floor((this.pageSize - 8) / 6)) fail(`page ${page}: too many cells`);
      let last = low;
      for (let i = 0; i < cells; i++) {
        const cell = base + this.view.getUint16(pointers + 2 * i);
        if (cell < pointers + 2 * cells || cell >= end) fail(`page ${page}: cell ${i} out of the page`);
        if (interior) {
          if (cell + 4 > end) fail(`page ${page}: cell ${i} past the page`);
          const key = readRowid(bytes, cell + 4, end);
          walk(this.view.getUint32(cell), depth + 1, last, key);
          last = key;
          continue;
        }
        // Leaf cell: payload size, rowid, payload (and the first overflow page when it spills).
        let at = cell;
        let size = 0;
        for (let n = 0; ; n++) {
          if (at >= end) fail(`page ${page}: cell ${i} past the page`);
          const b = bytes[at++]!;
          if (n === 8) {
            size = size * 256 + b;
            break;
          }
          size = size * 128 + (b & 0x7f);
          if (b < 0x80) break;
        }
        const rowid = readRowid(bytes, at, end);
        const afterKey = rowidEnd;
        if (!(rowid > last && rowid <= high)) fail(`page ${page}: rowid ${rowid} out of order`);
        last = rowid;
        at = afterKey;
        let payload: Buffer;
        let start: number;
        if (size <= maxLocal) {
          if (at + size > end) fail(`page ${page}: cell ${i} payload past the page`);
          payload = bytes;
          start = at;
        } else {
          let local = minLocal + ((size - minLocal) % (usable - 4));
          if (local > maxLocal) local = minLocal;
          if (at + local + 4 > end) fail(`page ${page}: cell ${i} payload past the page`);
          payload = this.overflow(bytes.subarray(at, at + local), size, this.view.getUint32(at + local));
          start = 0;
        }
        this.decodeRecord(
          payload,
          start,
          size,
          rowid,
          indexes,
          values,
          spans,
          types,
          offsets,
          recent,
          defaults,
          check,
          lazy,
        );
        visit(rowid, values, spans);
      }
      if (interior) walk(this.view.getUint32(header + 8), depth + 1, last, high);
    };
    walk(root, 1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /** A payload of `size` bytes spilled onto a chain of overflow pages, gathered in one buffer. */
  private overflow(local: Buffer, size: number, first: number): Buffer {
    const perPage = this.usable - 4;
    // A payload cannot be larger than every page of the file could hold: this bounds the buffer.
    if (size - local.length > this.pageCount * perPage) fail(`payload of ${size} bytes larger than the file`);
    const out = Buffer.allocUnsafeSlow(size);
    local.copy(out, 0);
    let filled = local.length;
    let page = first;
    // The loop ends when the payload is full, whatever the chain: one that loops back only repeats
    // pages (as SQLite would read them), at most the pages the size above allows.
    while (filled < size) {
      const base = this.pageStart(page);
      const take = Math.min(perPage, size - filled);
      this.bytes.copy(out, filled, base + 4, base + 4 + take);
      filled += take;
      page = this.view.getUint32(base);
    }
    return out;
  }

  /**
   * Reads the record of `size` bytes at `start` of `payload` into `values` (the columns at
   * `indexes`). A record shorter than the table (written before an ADD COLUMN) reads its missing
   * columns as NULL; one whose column has a DEFAULT is not read here.
   */
  private decodeRecord(
    payload: Buffer,
    start: number,
    size: number,
    rowid: number,
    indexes: readonly number[],
    values: SqlValue[],
    spans: Float64Array,
    types: Float64Array,
    offsets: Float64Array,
    recent: RecentTexts,
    defaults: readonly boolean[] | undefined,
    check: boolean,
    lazy: Uint8Array,
  ): void {
    // Values read in place lie in the file's own bytes; a payload gathered from overflow pages is
    // a copy.
    const inPlace = payload === this.bytes;
    const end = start + size;
    let at = start;
    // Header size: a varint, itself counted.
    let headerSize = 0;
    for (let n = 0; ; n++) {
      if (at >= end || n === 9) fail('record header size unreadable');
      const b = payload[at++]!;
      headerSize = headerSize * 128 + (b & 0x7f);
      if (b < 0x80) break;
    }
    const headerEnd = start + headerSize;
    // SQLite's own bound on a header (98307 bytes), which it reports as corruption.
    if (headerEnd > end || headerEnd < at || headerSize > 98307) fail('record header past the record');
    let body = headerEnd;
    const wanted = types.length;
    let count = 0;
    while (at < headerEnd && count < wanted) {
      let type = payload[at++]!;
      // Serial types below 128 (NULL, numbers, short texts) take one byte: most of them.
      if (type >= 0x80) {
        type &= 0x7f;
        for (let n = 1; ; n++) {
          if (at >= headerEnd || n === 9) fail('record serial type unreadable');
          const b = payload[at++]!;
          type = type * 128 + (b & 0x7f);
          if (b < 0x80) break;
        }
      }
      types[count] = type;
      offsets[count] = body;
      body +=
        type < 12 ? SERIAL_SIZES[type]! : type < 0x80000000 ? (type - 12) >>> 1 : Math.floor((type - 12) / 2);
      if (!(body <= end)) fail('record value past the record, or of a reserved serial type');
      count++;
    }
    // SQLite parses the header as far as the last column asked for; when that reaches its end,
    // the values must fill the record exactly, or it reports the record as corrupt.
    if (at === headerEnd && body !== end) fail('record values do not fill the record');
    for (let k = 0; k < indexes.length; k++) {
      const index = indexes[k]!;
      spans[2 * k] = -1;
      spans[2 * k + 1] = -1;
      if (index === -1) {
        values[k] = rowid;
        continue;
      }
      if (index >= count) {
        if (defaults?.[index] === true)
          fail('record shorter than its table, the missing column has a DEFAULT');
        values[k] = null;
        continue;
      }
      const type = types[index]!;
      const at = offsets[index]!;
      if (check && type >= 12) values[k] = (type & 1) === 1 ? '' : NO_BYTES;
      else if (lazy[k] === 1 && inPlace && (type & 1) === 1 && type >= 13) values[k] = '';
      else if ((type & 1) === 1 && type >= 13 && type < 13 + 2 * SHORT_TEXT)
        values[k] = recent.text(k, payload, at, (type - 13) >>> 1);
      else values[k] = readValue(payload, type, at);
      if (inPlace && type >= 12 && !check) {
        spans[2 * k] = at;
        spans[2 * k + 1] = at + Math.floor((type - 12) / 2);
      }
    }
  }
}

function asciiLower(name: string): string {
  return name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Where the varint `readRowid` read last ends: set by it, so that no pair is made per row. */
let rowidEnd = 0;

/**
 * The rowid varint at `at`: a signed 64-bit integer, as sql.js gives it (a double). Where it ends
 * is left in `rowidEnd`.
 */
function readRowid(bytes: Buffer, at: number, end: number): number {
  let value = 0;
  for (let n = 0; n < 7; n++) {
    if (at >= end) fail('rowid past the page');
    const b = bytes[at++]!;
    value = value * 128 + (b & 0x7f);
    if (b < 0x80) {
      rowidEnd = at;
      return value;
    }
  }
  // Eight or nine bytes: beyond 2^49, exact only as a BigInt, then rounded as SQLite rounds.
  let big = BigInt(value);
  for (let n = 7; n < 9; n++) {
    if (at >= end) fail('rowid past the page');
    const b = bytes[at++]!;
    if (n === 8) {
      big = (big << 8n) | BigInt(b);
      break;
    }
    big = (big << 7n) | BigInt(b & 0x7f);
    if (b < 0x80) break;
  }
  rowidEnd = at;
  return Number(BigInt.asIntN(64, big));
}

/**
 * The size in the record body of a value of each serial type below 12; 10 and 11 are reserved,
 * their size unknown: NaN makes the record fail its bound check.
 */
const SERIAL_SIZES = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, Number.NaN, Number.NaN];

/** A 32-bit big-endian unsigned integer. */
function u32(p: Buffer, at: number): number {
  return ((p[at]! << 24) >>> 0) + ((p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!);
}

/**
 * The value of serial type `type` at `at`, inside the record (its bounds already checked: the
 * integers are read by hand, without Buffer's own checks).
 */
function readValue(payload: Buffer, type: number, at: number): SqlValue {
  const p = payload;
  switch (type) {
    case 0:
      return null;
    case 1:
      return (p[at]! << 24) >> 24;
    case 2:
      return (((p[at]! << 8) | p[at + 1]!) << 16) >> 16;
    case 3:
      return (((p[at]! << 16) | (p[at + 1]! << 8) | p[at + 2]!) << 8) >> 8;
    case 4:
      return (p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!;
    case 5:
      return ((((p[at]! << 8) | p[at + 1]!) << 16) >> 16) * 4294967296 + u32(p, at + 2);
    case 6:
      // Both terms are exact doubles: their sum is rounded once, as SQLite's conversion of the
      // 64-bit integer to a double rounds it.
      return (
        ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) * 4294967296 + u32(p, at + 4)
      );
    case 7: {
      const real = payload.readDoubleBE(at);
      // SQLite reads a stored NaN as NULL.
      return Number.isNaN(real) ? null : real;
    }
    case 8:
      return 0;
    case 9:
      return 1;
    default: {
      const length = Math.floor((type - 12) / 2);
      if ((type & 1) === 0) return new Uint8Array(payload.buffer, payload.byteOffset + at, length);
      return decodeText(payload, at, at + length);
    }
  }
}

/** Texts up to this many bytes are compared with the column's last one before being decoded. */
const SHORT_TEXT = 16;

/**
 * The last short text read in each column, to give the same string again when the next row holds
 * the same bytes: a column such as sms.db's `service` says `SMS` or `iMessage` a million times, and
 * comparing a few bytes costs less than decoding them (a call into the runtime) and than the string
 * each decoding makes.
 */
class RecentTexts {
  private readonly lengths: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly texts: string[];

  constructor(columns: number) {
    this.lengths = new Int32Array(columns).fill(-1);
    this.bytes = new Uint8Array(columns * SHORT_TEXT);
    this.texts = new Array<string>(columns).fill('');
  }

  /** The text of `length` bytes (at most SHORT_TEXT) at `at` of `payload`, in column `k`. */
  text(k: number, payload: Buffer, at: number, length: number): string {
    const base = k * SHORT_TEXT;
    const { bytes } = this;
    if (this.lengths[k] === length) {
      let same = true;
      for (let i = 0; i < length; i++)
        if (bytes[base + i] !== payload[at + i]) {
          same = false;
          break;
        }
      if (same) return this.texts[k]!;
    }
    const text = decodeText(payload, at, at + length);
    this.lengths[k] = length;
    for (let i = 0; i < length; i++) bytes[base + i] = payload[at + i]!;
    this.texts[k] = text;
    return text;
  }
}

/** Buffer's own UTF-8 slicing: no view made per value, unlike `TextDecoder.decode`. */
interface Utf8Slicing {
  utf8Slice(start: number, end: number): string;
}

/**
 * UTF-8 text as sql.js decodes it (`TextDecoder`, malformed sequences replaced). Buffer's decoder
 * replaces them the same way, faster, but keeps a leading byte order mark that TextDecoder drops:
 * text opening with one goes through TextDecoder.
 */
function decodeText(bytes: Buffer, start: number, end: number): string {
  if (end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf)
    return decoder.decode(bytes.subarray(start, end));
  return (bytes as unknown as Utf8Slicing).utf8Slice(start, end);
}

// ----------------------------------------------------------------------------------------------
// CREATE TABLE: only the column list is read, tolerantly; what it cannot place is refused.

interface Token {
  /** 'id' (bare or quoted identifier, keyword), 'str', 'num', or the punctuation itself. */
  kind: string;
  text: string;
  /** Whether an identifier was quoted (then it is never a keyword). */
  quoted: boolean;
}

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === '"' || c === '`' || c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) fail('unterminated quote in CREATE TABLE');
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      tokens.push({ kind: c === "'" ? 'str' : 'id', text, quoted: true });
      i = j + 1;
    } else if (c === '[') {
      const close = sql.indexOf(']', i + 1);
      if (close === -1) fail('unterminated [ in CREATE TABLE');
      tokens.push({ kind: 'id', text: sql.slice(i + 1, close), quoted: true });
      i = close + 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      tokens.push({ kind: 'id', text: sql.slice(i, j), quoted: false });
      i = j;
    } else if (/[0-9.]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j]!)) j++;
      tokens.push({ kind: 'num', text: sql.slice(i, j), quoted: false });
      i = j;
    } else {
      tokens.push({ kind: c, text: c, quoted: false });
      i++;
    }
  }
  return tokens;
}

const COLUMN_CONSTRAINTS = new Set([
  'constraint',
  'primary',
  'not',
  'null',
  'unique',
  'check',
  'default',
  'collate',
  'references',
  'generated',
  'as',
]);
const TABLE_CONSTRAINTS = new Set(['constraint', 'primary', 'unique', 'check', 'foreign']);

function isWord(token: Token | undefined, word: string): boolean {
  return token !== undefined && token.kind === 'id' && !token.quoted && token.text.toLowerCase() === word;
}

/** The columns of a CREATE TABLE statement, and whether the table is WITHOUT ROWID. */
export function parseCreateTable(sql: string): { columns: SqliteColumn[]; withoutRowid: boolean } {
  const tokens = tokenize(sql);
  const open = tokens.findIndex((t) => t.kind === '(');
  if (!isWord(tokens[0], 'create') || open === -1) fail('not a CREATE TABLE with a column list');
  // Split the list at its top-level commas.
  const parts: Token[][] = [[]];
  let depth = 0;
  let close = -1;
  for (let i = open + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === '(') depth++;
    else if (t.kind === ')') {
      if (depth === 0) {
        close = i;
        break;
      }
      depth--;
    } else if (t.kind === ',' && depth === 0) {
      parts.push([]);
      continue;
    }
    parts[parts.length - 1]!.push(t);
  }
  if (close === -1) fail('CREATE TABLE column list not closed');
  const after = tokens.slice(close + 1);
  const withoutRowid = after.some((t, i) => isWord(t, 'without') && isWord(after[i + 1], 'rowid'));
  const columns: SqliteColumn[] = [];
  let tablePrimaryKey: string[] | undefined;
  for (const part of parts) {
    const first = part[0];
    if (first === undefined) fail('empty column definition');
    if (!first.quoted && first.kind === 'id' && TABLE_CONSTRAINTS.has(first.text.toLowerCase())) {
      const primary = part.findIndex((t) => isWord(t, 'primary'));
      if (primary !== -1) {
        // PRIMARY KEY (a, b…): the names, without their COLLATE or ASC/DESC.
        const list = part.slice(primary + 1);
        const start = list.findIndex((t) => t.kind === '(');
        const names: string[] = [];
        let level = 0;
        let expectName = true;
        for (const t of list.slice(start + 1)) {
          if (t.kind === '(') level++;
          else if (t.kind === ')') {
            if (level === 0) break;
            level--;
          } else if (level === 0 && t.kind === ',') expectName = true;
          else if (level === 0 && expectName && (t.kind === 'id' || t.kind === 'str')) {
            names.push(t.text);
            expectName = false;
          }
        }
        tablePrimaryKey = names;
      }
      continue;
    }
    if (first.kind !== 'id' && first.kind !== 'str') fail('column definition without a name');
    // The type: the words after the name up to the first constraint, with any (n, m).
    let i = 1;
    const typeWords: string[] = [];
    while (i < part.length) {
      const t = part[i]!;
      if (t.kind === 'id' && (t.quoted || !COLUMN_CONSTRAINTS.has(t.text.toLowerCase()))) {
        typeWords.push(t.text);
        i++;
      } else if (t.kind === '(' && typeWords.length > 0) {
        let level = 0;
        for (; i < part.length; i++) {
          if (part[i]!.kind === '(') level++;
          else if (part[i]!.kind === ')' && --level === 0) break;
        }
        i++;
      } else break;
    }
    const type = typeWords.join(' ');
    let rowidAlias = false;
    let hasDefault = false;
    for (let j = i, level = 0; j < part.length; j++) {
      const t = part[j]!;
      if (t.kind === '(') level++;
      else if (t.kind === ')') level--;
      if (level !== 0) continue;
      if (isWord(t, 'default')) hasDefault = true;
      // A generated column is not stored in the record, or stored out of order: not read here.
      else if (isWord(t, 'generated') || isWord(t, 'as')) fail('generated column');
      else if (isWord(t, 'primary') && isWord(part[j + 1], 'key')) {
        // `INTEGER PRIMARY KEY DESC` is, by a quirk SQLite keeps, not the rowid.
        rowidAlias = type.toLowerCase() === 'integer' && !isWord(part[j + 2], 'desc');
      }
    }
    columns.push({ name: first.text, type, rowidAlias, hasDefault });
  }
  if (tablePrimaryKey !== undefined && tablePrimaryKey.length === 1) {
    const key = tablePrimaryKey[0]!.toLowerCase();
    const column = columns.find((c) => c.name.toLowerCase() === key);
    if (column !== undefined && column.type.toLowerCase() === 'integer') column.rowidAlias = true;
  }
  if (columns.filter((c) => c.rowidAlias).length > 1) fail('more than one INTEGER PRIMARY KEY');
  return { columns, withoutRowid };
}
