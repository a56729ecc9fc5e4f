/**
 * Stored rows as the HTTP API shows them (the shapes of `@rempart/core`'s serverwatch contract),
 * and the cursors of keyset pagination.
 */
import { RempartError, type RuleCount, type WatchEventView, type WatchHitView } from '@rempart/core';
import type { watchEvents, watchHits } from '../../db/schema.js';

export type WatchEventRow = typeof watchEvents.$inferSelect;
export type WatchHitRow = typeof watchHits.$inferSelect;

/** Where a page ends: its last row's time and id. */
export interface Cursor {
  at: Date;
  id: number;
}

/** The `next` of a page whose last row is `row`. */
export function encodeCursor(row: { at: Date; id: number }): string {
  return `${row.at.getTime()}_${row.id}`;
}

/** A cursor from a client (checked by the `WatchCursor` schema first, checked again here). */
export function decodeCursor(text: string): Cursor {
  const match = /^(-?\d{1,16})_(\d{1,16})$/.exec(text);
  const at = match ? new Date(Number(match[1])) : undefined;
  if (!match || at === undefined || Number.isNaN(at.getTime()))
    throw RempartError.validation('This page cursor is not one a page gave.', { reason: 'invalid_cursor' });
  return { at, id: Number(match[2]) };
}

export function eventView(row: WatchEventRow): WatchEventView {
  return {
    id: String(row.id),
    at: row.at.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    source: row.source,
    format: row.format,
    logsource: row.logsource,
    host: row.host,
    fields: row.fields,
    raw: row.raw,
    parsed: row.parsed,
  };
}

export function hitView(row: WatchHitRow): WatchHitView {
  return {
    id: String(row.id),
    at: row.at.toISOString(),
    rule: { id: row.ruleId, title: row.ruleTitle, level: row.level, kind: row.kind, file: row.ruleFile },
    group: row.group,
    value: row.value,
    count: row.count,
    eventIds: row.eventIds.map(String),
    alertId: row.alertId,
    hunt: row.hunt,
  };
}

/** A rule's count as the repository gives it, for the API. */
export function ruleCountView(count: {
  ruleId: string;
  title: string;
  level: string | null;
  kind: 'detection' | 'correlation';
  hits: number;
  lastHitAt: Date;
}): RuleCount {
  return { ...count, lastHitAt: count.lastHitAt.toISOString() };
}
