/**
 * The timeline's paging and filters. A scan can hold hundreds of thousands of records, so the
 * server pages them; the console keeps where the reader is, and changing a filter starts again
 * from the first page (the old offset would point into a different list).
 */
import { TimelineQuery, type ArtifactStatus } from '@rempart/core';

export const TIMELINE_PAGE_SIZES = [50, 100, 200, 500] as const;
export const DEFAULT_TIMELINE_PAGE = 100;

export interface TimelineView {
  offset: number;
  limit: number;
  detections: 'all' | 'only';
  /** One artifact module, or '' for every one. */
  artifact: string;
}

/** Detections first when there are any: they are what the reader came for. */
export function initialTimelineView(detections: number): TimelineView {
  return {
    offset: 0,
    limit: DEFAULT_TIMELINE_PAGE,
    detections: detections > 0 ? 'only' : 'all',
    artifact: '',
  };
}

export function withFilter(
  view: TimelineView,
  change: Partial<Pick<TimelineView, 'detections' | 'artifact' | 'limit'>>,
): TimelineView {
  return { ...view, ...change, offset: 0 };
}

export interface PageInfo {
  /** 1-based numbers of the first and last events shown; 0 and 0 when there are none. */
  from: number;
  to: number;
  page: number;
  pages: number;
  hasPrevious: boolean;
  hasNext: boolean;
}

export function pageInfo(view: TimelineView, total: number): PageInfo {
  const pages = Math.max(1, Math.ceil(total / view.limit));
  const page = Math.min(pages, Math.floor(view.offset / view.limit) + 1);
  const from = total === 0 ? 0 : Math.min(total, view.offset + 1);
  const to = Math.min(total, view.offset + view.limit);
  return { from, to, page, pages, hasPrevious: view.offset > 0, hasNext: view.offset + view.limit < total };
}

export function nextPage(view: TimelineView, total: number): TimelineView {
  return pageInfo(view, total).hasNext ? { ...view, offset: view.offset + view.limit } : view;
}

export function previousPage(view: TimelineView): TimelineView {
  return { ...view, offset: Math.max(0, view.offset - view.limit) };
}

/**
 * Brings the offset back onto the last page when the list became shorter than where the reader
 * was (e.g. the raw records were purged meanwhile).
 */
export function clampView(view: TimelineView, total: number): TimelineView {
  if (view.offset < total || view.offset === 0) return view;
  const last = Math.max(0, Math.ceil(total / view.limit) - 1) * view.limit;
  return { ...view, offset: last };
}

/**
 * The query string of a view, checked with the API's own schema so that the console never asks
 * for what the server refuses.
 *
 * @example
 *   timelineSearch({ offset: 100, limit: 100, detections: 'only', artifact: 'sms' })
 *   // → 'offset=100&limit=100&detections=only&artifact=sms'
 */
export function timelineSearch(view: TimelineView): string {
  const query = TimelineQuery.parse({
    offset: view.offset,
    limit: view.limit,
    detections: view.detections,
    ...(view.artifact === '' ? {} : { artifact: view.artifact }),
  });
  const search = new URLSearchParams({
    offset: String(query.offset),
    limit: String(query.limit),
    detections: query.detections,
  });
  if (query.artifact !== undefined) search.set('artifact', query.artifact);
  return search.toString();
}

/** The artifacts worth filtering on: those read with at least one record, in the scan's order. */
export function artifactChoices(artifacts: readonly ArtifactStatus[]): string[] {
  return artifacts
    .filter((artifact) => artifact.status === 'read' && artifact.records > 0)
    .map((a) => a.artifact);
}
