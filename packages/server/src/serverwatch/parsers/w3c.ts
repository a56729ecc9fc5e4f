/**
 * W3C extended log files (W3C WD-logfile-960323), as IIS writes them for Exchange (OWA, ECP, EWS,
 * autodiscover), for `category: webserver, product: windows, service: iis`. A `#Fields:` directive
 * names the columns of the lines after it, so the state is per source: the caller keeps one
 * `W3cState` per file or peer. Until a source says otherwise, its columns are IIS's defaults.
 *
 * Field names are Sigma's `webserver` taxonomy, which are the W3C names, except that header fields
 * `cs(User-Agent)`, `cs(Referer)`, `cs(Cookie)`, `cs(Host)` are written as `cs-user-agent`,
 * `cs-referer`, `cs-cookie`, `cs-host` (any other `cs(X-Name)` as `cs-x-name`). A `-` (W3C's
 * empty value) leaves the field out. Numbers (`sc-status`, `s-port`, `time-taken`, `sc-bytes`…)
 * are numbers. `cs-uri` is added: the stem and the query together as the client asked for them.
 */
import type { FieldValue } from '../event.js';
import { type Fields, numeric } from './fields.js';
import { digitsValue } from './scan.js';

/** IIS's default columns (the ones it logs when nobody changed the site's logging settings). */
export const IIS_DEFAULT_FIELDS: readonly string[] = [
  'date',
  'time',
  's-ip',
  'cs-method',
  'cs-uri-stem',
  'cs-uri-query',
  's-port',
  'cs-username',
  'c-ip',
  'cs(User-Agent)',
  'cs(Referer)',
  'sc-status',
  'sc-substatus',
  'sc-win32-status',
  'time-taken',
];

/** The columns a source declared last, already turned into field names. */
export interface W3cState {
  columns: readonly string[];
}

const NUMBERS = new Set([
  's-port',
  'sc-status',
  'sc-substatus',
  'sc-win32-status',
  'c-win32-status',
  'time-taken',
  'sc-bytes',
  'cs-bytes',
]);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HEADER_FIELD = /^(cs|sc|rs|sr|s|c)\((.+)\)$/;
const DIRECTIVE_NAME = /^[A-Za-z-]{1,32}$/;
const WHITE_SPACE = /\s+/;
const FIELD_NAME = /^[\w().-]{1,64}$/;

/**
 * The milliseconds since midnight of a W3C `hh:mm:ss` or `hh:mm:ss.f` time, or -1 when the text
 * is none: what `TIME` (`^(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$`) reads, read by hand because
 * every entry has one.
 */
export function timeOfDay(text: string): number {
  const n = text.length;
  if (n !== 8 && (n < 10 || n > 12 || text.charCodeAt(8) !== 0x2e) /* . */) return -1;
  const h = digitsValue(text, 0, 2);
  const min = digitsValue(text, 3, 5);
  const sec = digitsValue(text, 6, 8);
  if (h < 0 || min < 0 || sec < 0 || text.charCodeAt(2) !== 0x3a || text.charCodeAt(5) !== 0x3a) return -1;
  let ms = 0;
  if (n > 8) {
    if (digitsValue(text, 9, n) < 0) return -1;
    ms = Math.floor(Number(text.slice(8)) * 1000);
  }
  return ((h * 60 + min) * 60 + sec) * 1000 + ms;
}

// Which of the last columns seen hold numbers: a source keeps its columns for many lines.
let numbersOf: { columns: readonly string[] | undefined; numbers: boolean[] } = {
  columns: undefined,
  numbers: [],
};
function numberColumns(columns: readonly string[]): boolean[] {
  if (numbersOf.columns !== columns)
    numbersOf = { columns, numbers: columns.map((name) => NUMBERS.has(name)) };
  return numbersOf.numbers;
}

/**
 * An entry's fields, as a plain object (its prototype is Object.prototype, so nothing tells it
 * from a literal) made by a constructor: the engine then leaves room inside the object for the
 * columns, instead of growing a separate store of properties as they are added.
 */
const EntryFields = function EntryFields() {} as unknown as new () => Fields;
EntryFields.prototype = Object.prototype;

// The last date read and its start: a log's lines share one date for a whole day.
let lastDate = { text: '', start: null as number | null };

/** The start (Unix ms, UTC) of a `YYYY-MM-DD` date, or null when the text is no such date. */
function dayStart(text: string): number | null {
  if (text === lastDate.text) return lastDate.start;
  const m = DATE.exec(text);
  const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
  lastDate = { text, start };
  return start;
}

/** The field name a `#Fields:` column is stored under. */
export function w3cFieldName(column: string): string {
  const header = HEADER_FIELD.exec(column);
  return header ? `${header[1] as string}-${(header[2] as string).toLowerCase()}` : column;
}

export function newW3cState(): W3cState {
  return { columns: IIS_DEFAULT_FIELDS.map(w3cFieldName) };
}

export type W3cLine =
  | { kind: 'directive'; name: string; value: string }
  | { kind: 'entry'; time: number | undefined; fields: Fields };

/**
 * A line of a W3C log: a directive (`#Fields:` also updates `state`), an entry, or undefined when
 * the line is neither (wrong number of columns, malformed directive).
 *
 * @example
 *   const state = newW3cState();
 *   parseW3cLine('#Fields: date time c-ip cs-method cs-uri-stem sc-status', state); // directive
 *   parseW3cLine('2026-12-03 05:20:21 203.0.113.9 GET /owa/ 200', state)
 *   // { kind: 'entry', time: …, fields: { date: '2026-12-03', time: '05:20:21', 'c-ip': '203.0.113.9', … } }
 */
export function parseW3cLine(line: string, state: W3cState): W3cLine | undefined {
  if (line.startsWith('#')) {
    const colon = line.indexOf(':');
    if (colon < 2) return undefined;
    const name = line.slice(1, colon);
    if (!DIRECTIVE_NAME.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    if (name === 'Fields') {
      const columns = value.split(WHITE_SPACE);
      if (columns.length === 0 || !columns.every((c) => FIELD_NAME.test(c))) return undefined;
      state.columns = columns.map(w3cFieldName);
    }
    return { kind: 'directive', name, value };
  }
  const columns = state.columns;
  const count = entryBounds(line, columns.length);
  if (count < 0) return undefined;
  const numbers = numberColumns(columns);
  const fields: Fields = new EntryFields();
  for (let n = 0; n < count; n++) {
    // `-`, W3C's empty value, leaves the field out.
    if (absent(line, n)) continue;
    const value = line.slice(bounds[2 * n], bounds[2 * n + 1]);
    fields[columns[n] as string] = numbers[n] === true ? numeric(value) : value;
  }
  const time = entryTime(fields.date, fields.time);
  if (time === INVALID) return undefined;
  const stem = fields['cs-uri-stem'];
  if (typeof stem === 'string') {
    const query = fields['cs-uri-query'];
    fields['cs-uri'] = typeof query === 'string' ? `${stem}?${query}` : stem;
  }
  return { kind: 'entry', time, fields };
}

/**
 * What the offline scan needs of an entry before it decides whether to read its fields
 * (parsers/index.ts, `readHead`): its time, and the text around the `?` that joins the stem and
 * the query into `cs-uri` (the field an entry composes), `seam` characters on each side.
 * Undefined when the line is no entry (a directive, or not of this source): `parseW3cLine` reads it.
 */
export function readW3cEntryHead(
  line: string,
  state: W3cState,
  seam: number,
): { time: number | undefined; joint: string | undefined } | undefined {
  if (line.startsWith('#')) return undefined;
  const columns = state.columns;
  if (entryBounds(line, columns.length) < 0) return undefined;
  const where = placesOf(columns);
  const time = entryTime(columnText(line, where.date), columnText(line, where.time));
  if (time === INVALID) return undefined;
  entryHead.time = time;
  entryHead.joint = undefined;
  if (where.stem >= 0 && where.query >= 0 && !absent(line, where.stem) && !absent(line, where.query)) {
    const stemEnd = bounds[2 * where.stem + 1]!;
    const queryStart = bounds[2 * where.query]!;
    const from = Math.max(bounds[2 * where.stem]!, stemEnd - seam);
    const to = Math.min(bounds[2 * where.query + 1]!, queryStart + seam);
    entryHead.joint = `${line.slice(from, stemEnd)}?${line.slice(queryStart, to)}`;
  }
  return entryHead;
}

const entryHead: { time: number | undefined; joint: string | undefined } = {
  time: undefined,
  joint: undefined,
};

/**
 * Where each column of an entry starts and stops, in `bounds` (two numbers a column), and how many
 * there are: -1 when the line has more or fewer than `expected` or an empty one. Entries are
 * space-separated and never hold a space (W3C §"Format": spaces in values are written `+` by IIS);
 * one column too many or too few means the line is not of this source.
 */
function entryBounds(line: string, expected: number): number {
  if (bounds.length < 2 * expected) bounds = new Int32Array(2 * expected);
  let start = 0;
  let n = 0;
  const end = line.endsWith('\r') ? line.length - 1 : line.length;
  while (start <= end) {
    let stop = line.indexOf(' ', start);
    if (stop < 0 || stop > end) stop = end;
    if (n >= expected || stop === start) return -1;
    bounds[2 * n] = start;
    bounds[2 * n + 1] = stop;
    n++;
    start = stop + 1;
  }
  return n === expected ? n : -1;
}

let bounds = new Int32Array(64);

/** Whether column `n` of the entry last bounded holds `-`, W3C's empty value. */
function absent(line: string, n: number): boolean {
  const start = bounds[2 * n]!;
  return bounds[2 * n + 1]! - start === 1 && line.charCodeAt(start) === 0x2d;
}

/** The text of column `n` of the entry last bounded (undefined: no such column, or `-`). */
function columnText(line: string, n: number): string | undefined {
  return n < 0 || absent(line, n) ? undefined : line.slice(bounds[2 * n], bounds[2 * n + 1]);
}

// Where the columns `readW3cEntryHead` reads are, for the last columns seen.
let placesFor: {
  columns: readonly string[] | undefined;
  date: number;
  time: number;
  stem: number;
  query: number;
} = {
  columns: undefined,
  date: -1,
  time: -1,
  stem: -1,
  query: -1,
};
function placesOf(columns: readonly string[]): typeof placesFor {
  if (placesFor.columns !== columns)
    placesFor = {
      columns,
      date: columns.indexOf('date'),
      time: columns.indexOf('time'),
      stem: columns.indexOf('cs-uri-stem'),
      query: columns.indexOf('cs-uri-query'),
    };
  return placesFor;
}

/** An entry that is none: a date or time column holding no date or time. */
const INVALID = -Infinity;

/**
 * An entry's time from its `date` and `time` columns' values (absent: undefined): undefined when
 * it has no full time, INVALID when a date or time column holds no date or time (the line is not
 * an entry of this log).
 */
function entryTime(date: FieldValue | undefined, time: FieldValue | undefined): number | undefined {
  const day = typeof date === 'string' ? dayStart(date) : null;
  const clock = typeof time === 'string' ? timeOfDay(time) : -1;
  if ((date !== undefined && day === null) || (time !== undefined && clock < 0)) return INVALID;
  if (day === null || clock < 0) return undefined;
  // IIS writes W3C times in UTC whatever the server's zone. The day's start plus the time of
  // day is what Date.UTC computes (ECMA-262 MakeDate(day, MakeTime(…)), exact in integers).
  const at = day + clock;
  return Math.abs(at) > 8.64e15 || Number.isNaN(at) ? undefined : at;
}
