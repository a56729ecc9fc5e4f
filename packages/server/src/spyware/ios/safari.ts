/**
 * Safari: its history and its open tabs. A Pegasus infection through a one-click link shows in
 * the history as a visit to an exploit domain, often reached by a redirect from a link shortener
 * (Amnesty's 2021 forensic methodology); the redirect chain is kept in each record.
 *
 * - `Library/Safari/History.db`: `history_items(id, url, visit_count)` and
 *   `history_visits(id, history_item, visit_time, title, redirect_source, redirect_destination)`,
 *   `visit_time` in seconds since 2001-01-01, the redirects pointing at other visits.
 * - `Library/Safari/BrowserState.db`: `tabs(uuid, title, url, user_visible_url, last_viewed_time)`.
 *
 * Both are in Safari's app domain (`AppDomain-com.apple.mobilesafari`), in `HomeDomain` on older
 * iOS; every listed copy is read.
 */
import type { Detection } from '@rempart/core';
import type { ArtifactModule, TextSpans } from '../scan.js';
import { appleMs, appleTime } from '../scan.js';
import { eachDatabase, unique } from './artifacts.js';
import type { IosBackup } from './manifest.js';
import { SqliteFileError, type SqliteFile } from './sqlite-file.js';
import {
  asNumber,
  asText,
  columns,
  eachValues,
  fileTable,
  optional,
  rows,
  sqliteFileOf,
  type Database,
  type SqlValue,
} from './sqlite.js';

const HISTORY = 'Library/Safari/History.db';
const BROWSER_STATE = 'Library/Safari/BrowserState.db';

export function safariHistoryModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'safari_history',
    run: (artifact) =>
      eachDatabase(
        backup,
        artifact,
        HISTORY,
        'Safari history (History.db; a backup made without encryption leaves it out)',
        (db, file) => {
          // A page is visited many times: its URL is matched once.
          const matched = new Map<string, Detection | undefined>();
          const detect = (url: string): Detection | undefined => {
            let detection = matched.get(url);
            if (detection === undefined && !matched.has(url)) {
              detection = artifact.matcher.url(url);
              matched.set(url, detection);
            }
            return detection;
          };
          const table = visitTable(db);
          if (table === undefined) {
            visitsThroughSqlJs(db, (visit) =>
              artifact.record(appleMs(visit.time), file, visitRecord(visit), detect(visit.url)),
            );
            return;
          }
          // Read from the file: each record kept as its visit's row, told from the table when the
          // timeline is (a hundred thousand records made of the same few strings).
          const source = artifact.source(file, '', '', table);
          for (const row of table.rows)
            artifact.recordParts(
              appleMs(table.time(row)),
              source,
              Number.NaN,
              '',
              detect(table.url(row)),
              row,
              row,
            );
        },
      ),
  };
}

/** How a visit is told in the timeline. */
function visitRecord(visit: SafariVisit): string {
  const { url, title, from, to } = visit;
  return (
    `visit of ${url}${title ? ` "${title}"` : ''}${from ? ` redirected from ${from}` : ''}` +
    `${to ? ` redirected to ${to}` : ''} (${visit.visits ?? 0} visits of this page)`
  );
}

/** One visit of Safari's history, with the page visited and the visits it was redirected from and to. */
export interface SafariVisit {
  url: string;
  title: string | undefined;
  /** `visit_time`: seconds since 2001-01-01. */
  time: number | undefined;
  /** How many times the page was visited (`history_items.visit_count`). */
  visits: number | undefined;
  /** The URL of the visit that redirected here. */
  from: string | undefined;
  /** The URL of the visit this one redirected to. */
  to: string | undefined;
}

/**
 * Calls `visit` with each visit of History.db, oldest first. Throws when the database has no
 * `history_visits` or `history_items` table. Read straight from the file (sqlite-file.ts) when the
 * reader is sure to read what SQLite reads, through sql.js otherwise.
 */
export function eachVisit(db: Database, visit: (visit: SafariVisit) => void): void {
  const table = visitTable(db);
  if (table === undefined) visitsThroughSqlJs(db, visit);
  else for (const row of table.rows) visit(table.visit(row));
}

/** eachVisit's query through sql.js. */
function visitsThroughSqlJs(db: Database, visit: (visit: SafariVisit) => void): void {
  const visits = historyColumns(db);
  const redirects = visits.has('redirect_source') && visits.has('redirect_destination');
  eachValues(
    db,
    `SELECT v.visit_time, ${visits.has('title') ? 'v.title' : 'NULL'}, i.url, i.visit_count,
            ${redirects ? 'ri.url' : 'NULL'}, ${redirects ? 'di.url' : 'NULL'}
     FROM history_visits v
     JOIN history_items i ON i.id = v.history_item
     ${
       redirects
         ? `LEFT JOIN history_visits rv ON rv.id = v.redirect_source
            LEFT JOIN history_items ri ON ri.id = rv.history_item
            LEFT JOIN history_visits dv ON dv.id = v.redirect_destination
            LEFT JOIN history_items di ON di.id = dv.history_item`
         : ''
     }
     ORDER BY v.visit_time, v.id`,
    [],
    ([time, title, url, count, from, to]) =>
      visit({
        url: asText(url) ?? '',
        title: asText(title),
        time: asNumber(time),
        visits: asNumber(count),
        from: asText(from),
        to: asText(to),
      }),
  );
}

/**
 * eachVisit's query read from the file (`visitsFromFile`), when the file reader reads History.db;
 * undefined when it does not (then sql.js reads the query). Throws as eachVisit does.
 */
export function visitTable(db: Database): VisitTable | undefined {
  const visits = historyColumns(db);
  const file = sqliteFileOf(db);
  if (file === undefined) return undefined;
  const redirects = visits.has('redirect_source') && visits.has('redirect_destination');
  return visitsFromFile(file, db, visits.has('title'), redirects);
}

/** The columns of `history_visits`; throws when History.db lacks it or `history_items`. */
function historyColumns(db: Database): Set<string> {
  const visits = columns(db, 'history_visits');
  if (visits.size === 0 || columns(db, 'history_items').size === 0)
    throw new Error('History.db has no history_visits or history_items table');
  return visits;
}

/**
 * eachVisit's query, read from the file: the joins on `id` (the rowid of both tables) through a
 * map of the items and a binary search of the visits (read in rowid order), then the visits sorted
 * by time and id as ORDER BY sorts them. Undefined when the reader cannot be sure to give what
 * SQLite gives (then sql.js reads the whole query): an id that is not the rowid, a join or sort
 * value that is not a plain number (SQLite's affinity rules decide those), a table the reader
 * refuses.
 */
export function visitsFromFile(
  file: SqliteFile,
  db: Database,
  hasTitle: boolean,
  redirects: boolean,
): VisitTable | undefined {
  const table = new VisitTable(file);
  try {
    const visitsTable = fileTable(db, file, 'history_visits');
    const itemsTable = fileTable(db, file, 'history_items');
    for (const t of [visitsTable, itemsTable])
      if (!t.columns.some((c) => c.name.toLowerCase() === 'id' && c.rowidAlias))
        throw new SqliteFileError(`${t.name}.id is not the rowid`);
    file.eachRow(itemsTable, ['id', 'url', 'visit_count'], (id, [, url, count]) =>
      table.addItem(id, url!, count!),
    );
    const select = ['id', 'history_item', 'visit_time'];
    if (hasTitle) select.push('title');
    if (redirects) select.push('redirect_source', 'redirect_destination');
    // Titles are told only with the timeline: read where they lie, not decoded.
    file.eachRow(
      visitsTable,
      select,
      (id, values, spans) =>
        table.addVisit(
          id,
          plainNumber(values[1]!),
          plainNumber(values[2]!),
          hasTitle ? values[3]! : null,
          hasTitle ? spans[6]! : -1,
          hasTitle ? spans[7]! : -1,
          redirects ? plainNumber(values[select.length - 2]!) : Number.NaN,
          redirects ? plainNumber(values[select.length - 1]!) : Number.NaN,
        ),
      false,
      ['title'],
    );
  } catch {
    // Whatever the reader stumbled on, nothing is told yet: sql.js reads it all.
    return undefined;
  }
  table.sort();
  return table;
}

/**
 * The visits of History.db as the file reader read them, in columns: a history holds a hundred
 * thousand visits. Also where the timeline finds the record of each (`text`): a visit's record is
 * made only when the timeline is told.
 */
export class VisitTable implements TextSpans {
  /** The visits that join an item, as rows, by time then id: ORDER BY visit_time, id. */
  rows: number[] = [];
  private readonly itemIndex = new Map<number, number>();
  private readonly itemUrls: SqlValue[] = [];
  private readonly itemCounts: SqlValue[] = [];
  // Per visit row, null as NaN: item, source and destination NaN join nothing; a NaN time sorts first.
  private readonly ids: number[] = [];
  private readonly itemOf: number[] = [];
  private readonly times: number[] = [];
  /** Where a title lies in the file (-1: not there, then its value is in `otherTitles`). */
  private readonly titleStarts: number[] = [];
  private readonly titleEnds: number[] = [];
  private readonly otherTitles = new Map<number, SqlValue>();
  private readonly sources: number[] = [];
  private readonly destinations: number[] = [];

  constructor(private readonly file: SqliteFile) {}

  addItem(id: number, url: SqlValue, count: SqlValue): void {
    this.itemIndex.set(id, this.itemUrls.push(url) - 1);
    this.itemCounts.push(count);
  }

  addVisit(
    id: number,
    item: number,
    time: number,
    title: SqlValue,
    titleStart: number,
    titleEnd: number,
    source: number,
    destination: number,
  ): void {
    const row = this.ids.push(id) - 1;
    this.itemOf.push(item);
    this.times.push(time);
    this.titleStarts.push(titleStart);
    this.titleEnds.push(titleEnd);
    if (titleStart === -1 && title !== null) this.otherTitles.set(row, title);
    this.sources.push(source);
    this.destinations.push(destination);
  }

  /** Orders the visits that join an item (the inner join: a visit of no item is not told). */
  sort(): void {
    const { times } = this;
    // NULL first, then by value; ids are unique (the rowid), and the rows were read in their
    // order, so equal times keep it.
    const order: number[] = [];
    let ordered = true;
    for (let row = 0; row < this.ids.length; row++) {
      if (this.itemRow(this.itemOf[row]!) === undefined) continue;
      // Safari numbers its visits as they happen: the rows are most often in time order already.
      if (order.length > 0 && !inOrder(times[order[order.length - 1]!]!, times[row]!)) ordered = false;
      order.push(row);
    }
    if (!ordered)
      order.sort((a, b) => {
        const ta = times[a]!;
        const tb = times[b]!;
        if (Number.isNaN(ta)) return Number.isNaN(tb) ? a - b : -1;
        if (Number.isNaN(tb)) return 1;
        return ta - tb || a - b;
      });
    this.rows = order;
  }

  /** The URL of the page of visit `row`. */
  url(row: number): string {
    return asText(this.itemUrls[this.itemRow(this.itemOf[row]!)!]) ?? '';
  }

  time(row: number): number | undefined {
    const time = this.times[row]!;
    return Number.isNaN(time) ? undefined : time;
  }

  /** Visit `row` whole. */
  visit(row: number): SafariVisit {
    const start = this.titleStarts[row]!;
    return {
      url: this.url(row),
      title:
        start === -1
          ? asText(this.otherTitles.get(row) ?? null)
          : this.file.text(start, this.titleEnds[row]!),
      time: this.time(row),
      visits: asNumber(this.itemCounts[this.itemRow(this.itemOf[row]!)!]),
      from: this.urlOf(this.sources[row]!),
      to: this.urlOf(this.destinations[row]!),
    };
  }

  /** The timeline's record of visit `row` (both numbers are the row). */
  text(row: number): string {
    return visitRecord(this.visit(row));
  }

  private itemRow(item: number): number | undefined {
    return Number.isNaN(item) ? undefined : this.itemIndex.get(item);
  }

  /** The URL of the page of the visit of id `visitId`: the ids rise, being the rowids in the order read. */
  private urlOf(visitId: number): string | undefined {
    if (Number.isNaN(visitId)) return undefined;
    const { ids } = this;
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = ids[middle]!;
      if (at === visitId) {
        const index = this.itemRow(this.itemOf[middle]!);
        return index === undefined ? undefined : asText(this.itemUrls[index]);
      }
      if (at < visitId) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}

/** Whether a visit at time `a` may come before one at time `b` (NaN, a NULL time, first). */
function inOrder(a: number, b: number): boolean {
  return Number.isNaN(a) || (!Number.isNaN(b) && a <= b);
}

/**
 * A join or sort value the reader compares itself: NULL (as NaN) or a number SQLite compares the
 * same way (a double holding an integer exactly, or a real). Anything else throws, for sql.js to
 * read.
 */
function plainNumber(value: SqlValue): number {
  if (value === null) return Number.NaN;
  if (typeof value === 'number' && Math.abs(value) <= Number.MAX_SAFE_INTEGER) return value;
  throw new SqliteFileError('a join or sort value that is not a plain number');
}

export function safariBrowserStateModule(backup: IosBackup): ArtifactModule {
  return {
    name: 'safari_browser_state',
    run: (artifact) =>
      eachDatabase(backup, artifact, BROWSER_STATE, "Safari's open tabs (BrowserState.db)", (db, file) => {
        const have = columns(db, 'tabs');
        if (have.size === 0) throw new Error('BrowserState.db has no tabs table');
        const tabs = rows(
          db,
          `SELECT ${['uuid', 'title', 'url', 'user_visible_url', 'last_viewed_time'].map((c) => optional(have, c)).join(', ')}
           FROM tabs ORDER BY last_viewed_time`,
        );
        for (const tab of tabs) {
          const url = asText(tab.url) ?? '';
          const visible = asText(tab.user_visible_url) ?? '';
          const title = asText(tab.title);
          artifact.record(
            appleTime(asNumber(tab.last_viewed_time)),
            file,
            `open tab ${url}${visible !== '' && visible !== url ? ` (shown as ${visible})` : ''}${title ? ` "${title}"` : ''}`,
            unique([
              url === '' ? undefined : artifact.matcher.url(url),
              visible === '' ? undefined : artifact.matcher.url(visible),
            ]),
          );
        }
      }),
  };
}
