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
import { appleTime } from '../scan.js';
import { eachDatabase, unique } from './artifacts.js';
import type { IosBackup } from './manifest.js';
import { asNumber, asText, columns, eachValues, optional, rows, type Database } from './sqlite.js';

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
              appleTime(visit.time),
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
 * `history_visits` or `history_items` table.
 */
export function eachVisit(db: Database, visit: (visit: SafariVisit) => void): void {
  const visits = columns(db, 'history_visits');
  if (visits.size === 0 || columns(db, 'history_items').size === 0)
    throw new Error('History.db has no history_visits or history_items table');
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
