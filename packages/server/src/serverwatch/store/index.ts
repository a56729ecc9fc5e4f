/**
 * The server watch's storage: events and hits in the database, the search language over events,
 * and their retention.
 *
 * @example
 *   const repository = new WatchRepository(database.db, database.copyRows);
 *   const ids = await repository.appendEvents(parsed.map((event) => ({ event, format, receivedAt })));
 *   const page = await repository.search({ query: parseSearch('user:alice -outcome:success'), limit: 100 });
 */
export {
  WatchRepository,
  RAW_MAX_BYTES,
  rebuildEvent,
  type EventCounts,
  type EventSearch,
  type HitFilter,
  type NewWatchEvent,
  type NewWatchHit,
  type RuleHits,
  type StoredEventBatch,
  type TimeWindow,
} from './watch.repository.js';
export {
  formatSearch,
  parseSearch,
  SEARCH_MAX_LENGTH,
  SEARCH_MAX_TERMS,
  type Pattern,
  type SearchErrorReason,
  type SearchQuery,
  type SearchTerm,
} from './search.js';
export { WatchRetention, WatchRetentionOptions, type PurgeResult } from './retention.js';
export {
  decodeCursor,
  encodeCursor,
  eventView,
  hitView,
  ruleCountView,
  type Cursor,
  type WatchEventRow,
  type WatchHitRow,
} from './views.js';
export { hitPage, searchPage, timeWindow } from './pages.js';
