/**
 * The API's queries of stored events and hits (the shapes of `@rempart/core`'s serverwatch
 * contract) answered from the repository: the routes and the CLI call these.
 *
 * @example
 *   const page = await searchPage(repository, WatchSearchQuery.parse({ q: 'user:alice', limit: 50 }));
 *   const older = await searchPage(repository, WatchSearchQuery.parse({ q: 'user:alice', before: page.next! }));
 */
import type { WatchEventPage, WatchHitPage, WatchHitsQuery, WatchSearchQuery } from '@rempart/core';
import { RempartError } from '@rempart/core';
import { parseSearch } from './search.js';
import { decodeCursor, encodeCursor, eventView, hitView } from './views.js';
import type { WatchRepository } from './watch.repository.js';

const optionalDate = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

/** The dates of a query's `from` and `to`; throws `validation_failed` when `to` comes before `from`. */
export function timeWindow(query: { from?: string | undefined; to?: string | undefined }): {
  from?: Date;
  to?: Date;
} {
  const from = optionalDate(query.from);
  const to = optionalDate(query.to);
  if (from !== undefined && to !== undefined && to.getTime() < from.getTime())
    throw RempartError.validation('The end of the time range comes before its start.', {
      reason: 'empty_range',
    });
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** One page of the events matching `query`, newest first; `next` gives the older ones. */
export async function searchPage(
  repository: WatchRepository,
  query: WatchSearchQuery,
): Promise<WatchEventPage> {
  const parsed = parseSearch(query.q);
  const { rows, more } = await repository.search({
    query: parsed,
    limit: query.limit,
    ...timeWindow(query),
    ...(query.before === undefined ? {} : { before: decodeCursor(query.before) }),
  });
  const last = rows.at(-1);
  return { events: rows.map(eventView), next: more && last !== undefined ? encodeCursor(last) : null };
}

/** One page of hits (the live watch's, or a retro-hunt's), newest first. */
export async function hitPage(repository: WatchRepository, query: WatchHitsQuery): Promise<WatchHitPage> {
  const { rows, more } = await repository.hits({
    limit: query.limit,
    ...timeWindow(query),
    ...(query.ruleId === undefined ? {} : { ruleId: query.ruleId }),
    ...(query.hunt === undefined ? {} : { hunt: query.hunt }),
    ...(query.before === undefined ? {} : { before: decodeCursor(query.before) }),
  });
  const last = rows.at(-1);
  return { hits: rows.map(hitView), next: more && last !== undefined ? encodeCursor(last) : null };
}
