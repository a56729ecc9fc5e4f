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
import type { ArtifactModule } from '../scan.js';
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
          eachVisit(db, (visit) => {
            const { url, title, from, to } = visit;
            let detection = matched.get(url);
            if (detection === undefined && !matched.has(url)) {
              detection = artifact.matcher.url(url);
              matched.set(url, detection);
            }
            artifact.record(
              appleMs(visit.time),
              file,
              `visit of ${url}${title ? ` "${title}"` : ''}${from ? ` redirected from ${from}` : ''}` +
                `${to ? ` redirected to ${to}` : ''} (${visit.visits ?? 0} visits of this page)`,
              detection,
            );
          });
        },
      ),
  };
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
  const visits = columns(db, 'history_visits');
  if (visits.size === 0 || columns(db, 'history_items').size === 0)
    throw new Error('History.db has no history_visits or history_items table');
  const redirects = visits.has('redirect_source') && visits.has('redirect_destination');
  const file = sqliteFileOf(db);
  const read = file === undefined ? undefined : visitsFromFile(file, db, visits.has('title'), redirects);
  if (read !== undefined) {
    for (const found of read) visit(found);
    return;
  }
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

/** A row of history_visits, as the join needs it. */
interface VisitRow {
  id: number;
  item: number | null;
  time: number | null;
  title: SqlValue;
  source: number | null;
  destination: number | null;
}

/**
 * eachVisit's query, read from the file: the joins on `id` (the rowid of both tables) through
 * maps, then the visits sorted by time and id as ORDER BY sorts them. Undefined when the reader
 * cannot be sure to give what SQLite gives (then sql.js reads the whole query): an id that is not
 * the rowid, a join or sort value that is not a plain number (SQLite's affinity rules decide
 * those), a table the reader refuses.
 */
export function visitsFromFile(
  file: SqliteFile,
  db: Database,
  hasTitle: boolean,
  redirects: boolean,
): SafariVisit[] | undefined {
  try {
    const visitsTable = fileTable(db, file, 'history_visits');
    const itemsTable = fileTable(db, file, 'history_items');
    for (const table of [visitsTable, itemsTable])
      if (!table.columns.some((c) => c.name.toLowerCase() === 'id' && c.rowidAlias))
        throw new SqliteFileError(`${table.name}.id is not the rowid`);
    const items = new Map<number, { url: SqlValue; count: SqlValue }>();
    file.eachRow(itemsTable, ['id', 'url', 'visit_count'], (id, [, url, count]) => {
      items.set(id, { url: url!, count: count! });
    });
    const visitRows: VisitRow[] = [];
    const byId = new Map<number, VisitRow>();
    const select = ['id', 'history_item', 'visit_time'];
    if (hasTitle) select.push('title');
    if (redirects) select.push('redirect_source', 'redirect_destination');
    file.eachRow(visitsTable, select, (id, values) => {
      const row: VisitRow = {
        id,
        item: plainNumber(values[1]!),
        time: plainNumber(values[2]!),
        title: hasTitle ? values[3]! : null,
        source: redirects ? plainNumber(values[select.length - 2]!) : null,
        destination: redirects ? plainNumber(values[select.length - 1]!) : null,
      };
      visitRows.push(row);
      byId.set(id, row);
    });
    // ORDER BY visit_time, id: NULL first, then by value; ids are unique (the rowid).
    visitRows.sort((a, b) =>
      a.time === b.time
        ? a.id - b.id
        : a.time === null
          ? -1
          : b.time === null
            ? 1
            : a.time - b.time || a.id - b.id,
    );
    const urlOf = (visitId: number | null): string | undefined => {
      const other = visitId === null ? undefined : byId.get(visitId);
      const item = other?.item == null ? undefined : items.get(other.item);
      return item === undefined ? undefined : asText(item.url);
    };
    const found: SafariVisit[] = [];
    for (const row of visitRows) {
      // The inner join: a visit of no item is not told.
      const item = row.item === null ? undefined : items.get(row.item);
      if (item === undefined) continue;
      found.push({
        url: asText(item.url) ?? '',
        title: asText(row.title),
        time: asNumber(row.time),
        visits: asNumber(item.count),
        from: urlOf(row.source),
        to: urlOf(row.destination),
      });
    }
    return found;
  } catch {
    // Whatever the reader stumbled on, nothing is told yet: sql.js reads it all.
    return undefined;
  }
}

/**
 * A join or sort value the reader compares itself: NULL or a number SQLite compares the same way
 * (a double holding an integer exactly, or a real). Anything else throws, for sql.js to read.
 */
function plainNumber(value: SqlValue): number | null {
  if (value === null) return null;
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
