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

/**
 * eachVisit's query, read from the file: the joins on `id` (the rowid of both tables) through a
 * map of the items and a binary search of the visits (read in rowid order), then the visits sorted
 * by time and id as ORDER BY sorts them. Held in columns until told: a history holds a hundred
 * thousand visits. Undefined when the reader cannot be sure to give what SQLite gives (then sql.js
 * reads the whole query): an id that is not the rowid, a join or sort value that is not a plain
 * number (SQLite's affinity rules decide those), a table the reader refuses.
 */
export function visitsFromFile(
  file: SqliteFile,
  db: Database,
  hasTitle: boolean,
  redirects: boolean,
): SafariVisit[] | undefined {
  const itemIndex = new Map<number, number>();
  const itemUrls: SqlValue[] = [];
  const itemCounts: SqlValue[] = [];
  // Null as NaN: item, source and destination NaN join nothing; a NaN time sorts first.
  const ids: number[] = [];
  const itemOf: number[] = [];
  const times: number[] = [];
  const titles: SqlValue[] = [];
  const sources: number[] = [];
  const destinations: number[] = [];
  try {
    const visitsTable = fileTable(db, file, 'history_visits');
    const itemsTable = fileTable(db, file, 'history_items');
    for (const table of [visitsTable, itemsTable])
      if (!table.columns.some((c) => c.name.toLowerCase() === 'id' && c.rowidAlias))
        throw new SqliteFileError(`${table.name}.id is not the rowid`);
    file.eachRow(itemsTable, ['id', 'url', 'visit_count'], (id, [, url, count]) => {
      itemIndex.set(id, itemUrls.push(url!) - 1);
      itemCounts.push(count!);
    });
    const select = ['id', 'history_item', 'visit_time'];
    if (hasTitle) select.push('title');
    if (redirects) select.push('redirect_source', 'redirect_destination');
    file.eachRow(visitsTable, select, (id, values) => {
      ids.push(id);
      itemOf.push(plainNumber(values[1]!));
      times.push(plainNumber(values[2]!));
      titles.push(hasTitle ? values[3]! : null);
      sources.push(redirects ? plainNumber(values[select.length - 2]!) : Number.NaN);
      destinations.push(redirects ? plainNumber(values[select.length - 1]!) : Number.NaN);
    });
  } catch {
    // Whatever the reader stumbled on, nothing is told yet: sql.js reads it all.
    return undefined;
  }
  // ORDER BY visit_time, id: NULL first, then by value; ids are unique (the rowid), and the rows
  // were read in their order, so equal times keep it.
  const order = new Array<number>(ids.length);
  let ordered = true;
  for (let i = 0; i < order.length; i++) {
    order[i] = i;
    // Safari numbers its visits as they happen: the rows are most often in time order already.
    if (i > 0 && !inOrder(times[i - 1]!, times[i]!)) ordered = false;
  }
  if (!ordered)
    order.sort((a, b) => {
      const ta = times[a]!;
      const tb = times[b]!;
      if (Number.isNaN(ta)) return Number.isNaN(tb) ? a - b : -1;
      if (Number.isNaN(tb)) return 1;
      return ta - tb || a - b;
    });
  /** The row of visit `id`: the ids rise, being the rowids in the order read. */
  const rowOf = (id: number): number => {
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = ids[middle]!;
      if (at === id) return middle;
      if (at < id) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  };
  const urlOfItem = (item: number): string | undefined => {
    const index = Number.isNaN(item) ? undefined : itemIndex.get(item);
    return index === undefined ? undefined : asText(itemUrls[index]);
  };
  const urlOf = (visitId: number): string | undefined => {
    const row = Number.isNaN(visitId) ? -1 : rowOf(visitId);
    return row === -1 ? undefined : urlOfItem(itemOf[row]!);
  };
  const found: SafariVisit[] = [];
  for (const row of order) {
    // The inner join: a visit of no item is not told.
    const item = itemOf[row]!;
    const index = Number.isNaN(item) ? undefined : itemIndex.get(item);
    if (index === undefined) continue;
    const time = times[row]!;
    found.push({
      url: asText(itemUrls[index]) ?? '',
      title: asText(titles[row]),
      time: Number.isNaN(time) ? undefined : time,
      visits: asNumber(itemCounts[index]),
      from: urlOf(sources[row]!),
      to: urlOf(destinations[row]!),
    });
  }
  return found;
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
