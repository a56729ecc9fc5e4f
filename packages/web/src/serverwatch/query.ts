/**
 * What the server watch's pages keep in their address (a search, a window, a rule, a hunt), so a
 * search or a list of hits can be shared by its link, and the query strings sent to the API,
 * checked with the API's own schemas so that the console never asks for what the server refuses.
 */
import {
  WATCH_PAGE_MAX,
  WatchHitsQuery,
  WatchHuntRequest,
  WatchSearchQuery,
  type WatchHitPage,
  type WatchHitView,
} from '@rempart/core';
import { DEFAULT_WATCH_WINDOW, isWatchWindow, windowBounds, type WatchWindow } from './timeline';

/** A search as its address holds it: `/watch/search?q=…&hours=…`. */
export interface SearchView {
  q: string;
  hours: WatchWindow;
}

function readHours(params: URLSearchParams): WatchWindow {
  const hours = Number(params.get('hours') ?? '');
  return isWatchWindow(hours) ? hours : DEFAULT_WATCH_WINDOW;
}

/**
 * The search a location's query string names; an unknown window is the default one.
 *
 * @example
 *   readSearchView('?q=user%3Aalice&hours=168') // → { q: 'user:alice', hours: 168 }
 */
export function readSearchView(search: string): SearchView {
  const params = new URLSearchParams(search);
  return { q: params.get('q') ?? '', hours: readHours(params) };
}

/**
 * The address of a search; the default window and an empty query are left out.
 *
 * @example
 *   searchHref({ q: 'src_ip:203.0.113.7', hours: 24 }) // → '/watch/search?q=src_ip%3A203.0.113.7'
 */
export function searchHref(view: SearchView): string {
  const params = new URLSearchParams();
  if (view.q.trim() !== '') params.set('q', view.q.trim());
  if (view.hours !== DEFAULT_WATCH_WINDOW) params.set('hours', String(view.hours));
  const query = params.toString();
  return query === '' ? '/watch/search' : `/watch/search?${query}`;
}

/** A list of hits as its address holds it: `/watch/hits?ruleId=…&hunt=…&hours=…`. */
export interface HitsView {
  ruleId: string | undefined;
  hunt: string | undefined;
  hours: WatchWindow;
}

export function readHitsView(search: string): HitsView {
  const params = new URLSearchParams(search);
  const text = (name: string): string | undefined => {
    const value = params.get(name)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  return { ruleId: text('ruleId'), hunt: text('hunt'), hours: readHours(params) };
}

export function hitsHref(view: Partial<HitsView>): string {
  const params = new URLSearchParams();
  if (view.ruleId !== undefined) params.set('ruleId', view.ruleId);
  if (view.hunt !== undefined) params.set('hunt', view.hunt);
  if (view.hours !== undefined && view.hours !== DEFAULT_WATCH_WINDOW)
    params.set('hours', String(view.hours));
  const query = params.toString();
  return query === '' ? '/watch/hits' : `/watch/hits?${query}`;
}

/**
 * The query string of a page of events: the search over the window ending at `now`, older than
 * `before` when given.
 */
export function eventsSearch(view: SearchView, now: number, before?: string, limit = 100): string {
  const query = WatchSearchQuery.parse({ q: view.q.trim(), ...windowBounds(view.hours, now), limit, before });
  return toSearch(query);
}

/**
 * The query string of a page of hits. A hunt's hits are listed whatever their time (a hunt runs
 * over the past); the live watch's over the window ending at `now`.
 */
export function hitsSearch(view: Partial<HitsView>, now: number, before?: string, limit = 100): string {
  const window = view.hunt === undefined ? windowBounds(view.hours ?? DEFAULT_WATCH_WINDOW, now) : {};
  const query = WatchHitsQuery.parse({ ...window, ruleId: view.ruleId, hunt: view.hunt, limit, before });
  return toSearch(query);
}

/**
 * The query string of a page of the live watch's hits from `since` (included) to `now`: what the
 * overview reads when new alerts arrive, instead of the whole window again.
 */
export function hitsSinceSearch(since: string, now: number, before?: string, limit = 100): string {
  const query = WatchHitsQuery.parse({ from: since, to: new Date(now).toISOString(), limit, before });
  return toSearch(query);
}

function toSearch(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    params.set(key, String(value));
  }
  return params.toString();
}

/**
 * A value of the search language as it is written: bare when it holds no space, quote, star or
 * backslash; else quoted, with those escaped (the language's `\` makes the next character plain).
 *
 * @example
 *   searchValue('alice')        // → 'alice'
 *   searchValue('a "b" c*')     // → '"a \\"b\\" c\\*"'
 */
export function searchValue(value: string): string {
  if (value !== '' && !/[\s"\\*]/.test(value)) return value;
  return `"${value.replace(/[\\"*]/g, (c) => `\\${c}`)}"`;
}

/** A term matching `field` exactly. */
export function fieldTerm(field: string, value: string): string {
  return `${field}:${searchValue(value)}`;
}

/** The fields of a correlation's group that a search of the events can look for. */
const searchableGroupFields = ['src_ip', 'user', 'dst_ip', 'TargetUserName', 'IpAddress'];

/**
 * A search for the events behind a correlation's group (its source address, its user …); undefined
 * when the group names nothing the search can look for.
 *
 * @example
 *   groupSearch({ src_ip: '203.0.113.7', user: 'alice' }) // → 'src_ip:203.0.113.7 user:alice'
 */
export function groupSearch(group: Readonly<Record<string, unknown>> | null): string | undefined {
  if (group === null) return undefined;
  const terms = searchableGroupFields.flatMap((field) => {
    const value = group[field];
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    return text === '' ? [] : [fieldTerm(field, text)];
  });
  return terms.length === 0 ? undefined : terms.join(' ');
}

/**
 * What a retro-hunt is asked to run: the pasted rules (none when the box is blank: the rules the
 * watch runs now) over the window ending at `now`.
 */
export function huntRequest(rules: string, hours: WatchWindow, now: number): WatchHuntRequest {
  return WatchHuntRequest.parse({
    ...(rules.trim() === '' ? {} : { rules }),
    ...windowBounds(hours, now),
  });
}

/** How many pages of hits the timeline reads at most: 10 × 500 hits. */
export const TIMELINE_MAX_PAGES = 10;

/**
 * The hits of a window, newest first, page after page until the last or `maxPages`: `complete`
 * says whether every hit of the window was read (the timeline says so when not).
 */
export async function collectHits(
  page: (before: string | undefined) => Promise<WatchHitPage>,
  maxPages = TIMELINE_MAX_PAGES,
): Promise<{ hits: WatchHitView[]; complete: boolean }> {
  const hits: WatchHitView[] = [];
  let before: string | undefined;
  for (let read = 0; read < maxPages; read += 1) {
    const answer = await page(before);
    hits.push(...answer.hits);
    if (answer.next === null) return { hits, complete: true };
    before = answer.next;
  }
  return { hits, complete: false };
}

/** The largest page the API gives, asked for when reading many hits. */
export const LARGEST_PAGE = WATCH_PAGE_MAX;
