/**
 * The server watch's tables: the stored events (appended in bulk, searched, read again in time
 * order by retro-hunts, purged after their retention) and the hits the rules raised.
 */
import { RempartError, type WatchEventFormat } from '@rempart/core';
import { and, asc, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database, Db } from '../../db/client.js';
import { CopyTimestamps, copyField } from '../../db/copy-text.js';
import { watchEvents, watchHits } from '../../db/schema.js';
import type { WatchHit } from '../detector.js';
import type { WatchEvent } from '../event.js';
import { isAddress, type Pattern, type SearchQuery, type SearchTerm } from './search.js';
import type { Cursor, WatchEventRow, WatchHitRow } from './views.js';

/** An event to store, with what the event itself does not say. */
export interface NewWatchEvent {
  event: WatchEvent;
  /**
   * The format the line was read as; an event no parser understood is stored as `raw` whatever
   * is given here.
   */
  format: WatchEventFormat;
  /** When the line arrived, in Unix ms. */
  receivedAt: number;
  /** What received it (`syslog-udp`, a file's path, `http`): the event's own `source` when not given. */
  receiver?: string;
  /** The host that logged it; `fields.host` (the syslog header's) when not given. */
  host?: string;
}

/** A hit to store: the Detector's, with the ids of its stored events. */
export interface NewWatchHit {
  hit: Pick<WatchHit, 'rule' | 'time' | 'group' | 'value'>;
  /** Ids of the stored events that made it (as `appendEvents` gave them). */
  eventIds: readonly string[];
  alertId?: string | null;
  /** Duplicates already merged into it, itself included (1 by default). */
  count?: number;
  /** The retro-hunt that found it; none (or null) for the live watch. */
  hunt?: string | null;
  createdAt?: Date;
}

export interface TimeWindow {
  /** Included. */
  from?: Date | undefined;
  /** Excluded. */
  to?: Date | undefined;
}

export interface EventSearch extends TimeWindow {
  query: SearchQuery;
  limit: number;
  /** The last row of the page before: rows strictly older than it. */
  before?: Cursor | undefined;
}

export interface HitFilter extends TimeWindow {
  ruleId?: string | undefined;
  /** Only this retro-hunt's hits; without it, only the live watch's. */
  hunt?: string | undefined;
}

export interface RuleHits {
  ruleId: string;
  /** The title and level of the rule's latest hit (a rule edited since shows its new ones). */
  title: string;
  level: string | null;
  kind: 'detection' | 'correlation';
  /** Hits, merged duplicates included. */
  hits: number;
  lastHitAt: Date;
}

export interface EventCounts {
  events: number;
  unparsed: number;
  bySource: Record<string, number>;
}

/** Stored events read back for a retro-hunt, with each one's id (`ids[i]` is `events[i]`'s). */
export interface StoredEventBatch {
  events: WatchEvent[];
  ids: string[];
}

/** The longest raw line kept, in bytes of UTF-8. */
export const RAW_MAX_BYTES = 8192;
/** Rows per statement of a bulk append: a bound on the size of one statement. */
const APPEND_CHUNK = 5000;
/** Events deleted per statement by the retention. */
const PURGE_BATCH = 10_000;

/** The event table's columns, in the order of its COPY rows. */
const EVENT_COLUMNS = [
  'id',
  'at',
  'received_at',
  'source',
  'format',
  'logsource',
  'host',
  'fields',
  'raw',
  'parsed',
  'src_ip',
] as const;

/** An event as the columns hold it, every text made storable. */
interface EventRecord {
  at: string;
  receivedAt: string;
  source: string;
  format: WatchEventFormat;
  logsource: string;
  host: string | null;
  fields: string;
  raw: string;
  parsed: boolean;
  srcIp: string | null;
}

export class WatchRepository {
  private readonly purgeBatch: number;

  /**
   * @param copyRows the database's bulk append when it has one (the embedded database): events
   *   are written with it.
   * @param options.purgeBatch events deleted per statement by the retention (10,000).
   */
  constructor(
    private readonly db: Db,
    private readonly copyRows?: Database['copyRows'],
    options: { purgeBatch?: number } = {},
  ) {
    this.purgeBatch = Math.max(1, Math.trunc(options.purgeBatch ?? PURGE_BATCH));
  }

  // ------------------------------------------------------------------ events

  /**
   * Stores `events` and returns their ids, in the same order, so that hits can name them. Nothing
   * is written when one of them is refused (a receiving time that is not a time).
   */
  async appendEvents(events: readonly NewWatchEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const times = new CopyTimestamps();
    const records = events.map((input, i) => eventRecord(input, i, times));
    const ids: string[] = [];
    for (let i = 0; i < records.length; i += APPEND_CHUNK) {
      const chunk = records.slice(i, i + APPEND_CHUNK);
      // The ids are drawn from the column's own sequence first: COPY returns no rows, and the
      // order of INSERT … RETURNING is not promised. Sorted, they follow the events' order.
      const drawn = await this.db
        .select({ id: sql<number>`nextval(pg_get_serial_sequence('watch_events', 'id'))::float8` })
        .from(sql`generate_series(1, ${chunk.length}::int)`);
      const chunkIds = drawn.map((r) => Number(r.id)).sort((a, b) => a - b);
      if (this.copyRows)
        await this.copyRows('watch_events', EVENT_COLUMNS, eventsAsCopyText(chunk, chunkIds));
      else await this.insertEvents(chunk, chunkIds);
      for (const id of chunkIds) ids.push(String(id));
    }
    return ids;
  }

  /** PostgreSQL's path: one INSERT per chunk, each column sent as one array (as the DNS query log). */
  private async insertEvents(records: readonly EventRecord[], ids: readonly number[]): Promise<void> {
    const column = <T>(pick: (r: EventRecord) => T) => sql.param(records.map(pick));
    await this.db.execute(sql`
      insert into ${watchEvents}
        (id, at, received_at, source, format, logsource, host, fields, raw, parsed, src_ip)
      select id, at::timestamptz, received_at::timestamptz, source, format, logsource::jsonb, host,
             fields::jsonb, raw, parsed, src_ip::inet
      from unnest(
        ${sql.param(ids)}::bigint[], ${column((r) => r.at)}::text[], ${column((r) => r.receivedAt)}::text[],
        ${column((r) => r.source)}::text[], ${column((r) => r.format)}::text[],
        ${column((r) => r.logsource)}::text[], ${column((r) => r.host)}::text[],
        ${column((r) => r.fields)}::text[], ${column((r) => r.raw)}::text[],
        ${column((r) => r.parsed)}::bool[], ${column((r) => r.srcIp)}::text[]
      ) as e(id, at, received_at, source, format, logsource, host, fields, raw, parsed, src_ip)`);
  }

  /** The events matching `search`, newest first (ties by id), at most `limit`, and whether more follow. */
  async search(search: EventSearch): Promise<{ rows: WatchEventRow[]; more: boolean }> {
    const where = [...windowConditions(watchEvents.at, search), ...search.query.terms.map(termCondition)];
    if (search.before !== undefined) where.push(before(watchEvents.at, watchEvents.id, search.before));
    const rows = await this.db
      .select()
      .from(watchEvents)
      .where(and(...where))
      .orderBy(desc(watchEvents.at), desc(watchEvents.id))
      .limit(search.limit + 1);
    return { rows: rows.slice(0, search.limit), more: rows.length > search.limit };
  }

  /** The stored events of `ids` still kept (a hit's, whose events may have been purged), by id. */
  async eventsByIds(ids: readonly string[]): Promise<WatchEventRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(watchEvents)
      .where(sql`${watchEvents.id} = any(${sql.param(ids.map(rowId))}::bigint[])`)
      .orderBy(asc(watchEvents.at), asc(watchEvents.id));
  }

  /**
   * The stored events of a window in time order (ties by id), `batch` at a time, rebuilt as the
   * Detector takes them: what a retro-hunt runs new rules over. Events stored while it reads are
   * read too when they fall after its position.
   */
  async *eachEventBatch(options: TimeWindow & { batch?: number }): AsyncGenerator<StoredEventBatch> {
    const size = Math.max(1, Math.min(10_000, Math.trunc(options.batch ?? 1000)));
    const window = windowConditions(watchEvents.at, options);
    let after: Cursor | undefined;
    for (;;) {
      const position = after;
      const rows = await this.db
        .select()
        .from(watchEvents)
        .where(
          and(
            ...window,
            position === undefined
              ? undefined
              : sql`(${watchEvents.at}, ${watchEvents.id}) > (${position.at.toISOString()}::timestamptz, ${position.id})`,
          ),
        )
        .orderBy(asc(watchEvents.at), asc(watchEvents.id))
        .limit(size);
      if (rows.length === 0) return;
      yield { events: rows.map(rebuildEvent), ids: rows.map((r) => String(r.id)) };
      const last = rows[rows.length - 1]!;
      if (rows.length < size) return;
      after = { at: last.at, id: last.id };
    }
  }

  /** Deletes the events older than `before`; returns how many. */
  async purgeEventsBefore(before: Date): Promise<number> {
    // In batches: an hour of a busy server is hundreds of thousands of events, and one statement
    // deleting them all would hold the embedded database (one connection) from the live writes
    // that long. Counted in the database, not sent back row by row.
    let removed = 0;
    for (;;) {
      const batch = this.db
        .select({ id: watchEvents.id })
        .from(watchEvents)
        .where(lt(watchEvents.at, before))
        .orderBy(asc(watchEvents.at), asc(watchEvents.id))
        .limit(this.purgeBatch);
      const gone = this.db
        .$with('gone')
        .as(
          this.db.delete(watchEvents).where(inArray(watchEvents.id, batch)).returning({ id: watchEvents.id }),
        );
      const [row] = await this.db
        .with(gone)
        .select({ removed: sql<number>`count(*)::int` })
        .from(gone);
      const count = row?.removed ?? 0;
      removed += count;
      if (count < this.purgeBatch) return removed;
    }
  }

  /** How many events are stored (in a window), how many no parser understood, and per source. */
  async counts(window: TimeWindow = {}): Promise<EventCounts> {
    const rows = await this.db
      .select({
        source: watchEvents.source,
        events: sql<number>`count(*)::int`,
        unparsed: sql<number>`(count(*) filter (where not ${watchEvents.parsed}))::int`,
      })
      .from(watchEvents)
      .where(and(...windowConditions(watchEvents.at, window)))
      .groupBy(watchEvents.source);
    const counts: EventCounts = { events: 0, unparsed: 0, bySource: {} };
    for (const r of rows) {
      counts.events += r.events;
      counts.unparsed += r.unparsed;
      counts.bySource[r.source] = r.events;
    }
    return counts;
  }

  // -------------------------------------------------------------------- hits

  /** Stores a hit; returns its id. */
  async appendHit(input: NewWatchHit): Promise<string> {
    const { hit } = input;
    if (!storableTime(hit.time))
      throw RempartError.validation("A hit's time is not a time.", { reason: 'invalid_time' });
    const eventIds = input.eventIds.map(rowId);
    const [row] = await this.db
      .insert(watchHits)
      .values({
        at: new Date(hit.time),
        ruleId: clean(hit.rule.id),
        ruleTitle: clean(hit.rule.title),
        level: hit.rule.level === undefined ? null : clean(hit.rule.level),
        kind: hit.rule.kind,
        ruleFile: clean(hit.rule.file),
        group: hit.group === undefined ? null : storableJson(hit.group),
        value: hit.value !== undefined && Number.isFinite(hit.value) ? hit.value : null,
        count: Math.max(1, Math.trunc(input.count ?? 1)),
        eventIds,
        alertId: input.alertId ?? null,
        hunt: input.hunt === undefined || input.hunt === null ? null : clean(input.hunt),
        createdAt: input.createdAt ?? new Date(),
      })
      .returning({ id: watchHits.id });
    if (!row) throw new Error('hit insert returned nothing');
    return String(row.id);
  }

  /**
   * Merges a duplicate into hit `id`: its count grows by `count` and its events are added, the
   * latest `maxEventIds` kept. False when no such hit.
   */
  async mergeIntoHit(
    id: string,
    merge: { count?: number; eventIds?: readonly string[]; maxEventIds?: number },
  ): Promise<boolean> {
    const keep = Math.max(1, Math.trunc(merge.maxEventIds ?? 100));
    const all = sql`(${watchHits.eventIds} || ${sql.param((merge.eventIds ?? []).map(rowId))}::bigint[])`;
    const rows = await this.db
      .update(watchHits)
      .set({
        count: sql`${watchHits.count} + ${Math.max(1, Math.trunc(merge.count ?? 1))}::int`,
        eventIds: sql`${all}[greatest(1, cardinality(${all}) - ${keep}::int + 1):]`,
      })
      .where(eq(watchHits.id, rowId(id)))
      .returning({ id: watchHits.id });
    return rows.length > 0;
  }

  /** Records the alert hit `id` raised or was merged into. */
  async setHitAlert(id: string, alertId: string): Promise<boolean> {
    const rows = await this.db
      .update(watchHits)
      .set({ alertId })
      .where(eq(watchHits.id, rowId(id)))
      .returning({ id: watchHits.id });
    return rows.length > 0;
  }

  /** Hits newest first (ties by id), at most `limit`, and whether more follow. */
  async hits(
    filter: HitFilter & { limit: number; before?: Cursor | undefined },
  ): Promise<{ rows: WatchHitRow[]; more: boolean }> {
    const where = hitConditions(filter);
    if (filter.before !== undefined) where.push(before(watchHits.at, watchHits.id, filter.before));
    const rows = await this.db
      .select()
      .from(watchHits)
      .where(and(...where))
      .orderBy(desc(watchHits.at), desc(watchHits.id))
      .limit(filter.limit + 1);
    return { rows: rows.slice(0, filter.limit), more: rows.length > filter.limit };
  }

  /** Per rule, its hits in the window and its last one, the most frequent rule first. */
  async ruleCounts(filter: TimeWindow & { hunt?: string | undefined } = {}): Promise<RuleHits[]> {
    const latest = (column: AnyPgColumn) =>
      sql`(array_agg(${column} order by ${watchHits.at} desc, ${watchHits.id} desc))[1]`;
    const rows = await this.db
      .select({
        ruleId: watchHits.ruleId,
        title: sql<string>`${latest(watchHits.ruleTitle)}`,
        level: sql<string | null>`${latest(watchHits.level)}`,
        kind: sql<'detection' | 'correlation'>`${latest(watchHits.kind)}`,
        hits: sql<number>`sum(${watchHits.count})::int`,
        lastHitAt: sql<string>`max(${watchHits.at})`,
      })
      .from(watchHits)
      .where(and(...hitConditions(filter)))
      .groupBy(watchHits.ruleId)
      .orderBy(desc(sql`sum(${watchHits.count})`), asc(watchHits.ruleId));
    return rows.map((r) => ({ ...r, hits: Number(r.hits), lastHitAt: new Date(r.lastHitAt) }));
  }

  /** Deletes the hits older than `before`; returns how many. */
  async purgeHitsBefore(before: Date): Promise<number> {
    const gone = this.db
      .$with('gone')
      .as(this.db.delete(watchHits).where(lt(watchHits.at, before)).returning({ id: watchHits.id }));
    const [row] = await this.db
      .with(gone)
      .select({ removed: sql<number>`count(*)::int` })
      .from(gone);
    return row?.removed ?? 0;
  }
}

// ---------------------------------------------------------------------- queries

/** A row id as the API gives it (decimal text) as the column holds it. */
function rowId(id: string): number {
  if (!/^\d{1,15}$/.test(id))
    throw RempartError.validation(`${JSON.stringify(id.slice(0, 40))} is not a stored id.`, {
      reason: 'invalid_id',
    });
  return Number(id);
}

function windowConditions(at: typeof watchEvents.at | typeof watchHits.at, window: TimeWindow): SQL[] {
  const where: SQL[] = [];
  if (window.from !== undefined) where.push(gte(at, window.from));
  if (window.to !== undefined) where.push(lt(at, window.to));
  return where;
}

function hitConditions(filter: HitFilter): SQL[] {
  const where = windowConditions(watchHits.at, filter);
  if (filter.ruleId !== undefined) where.push(eq(watchHits.ruleId, filter.ruleId));
  where.push(filter.hunt === undefined ? isNull(watchHits.hunt) : eq(watchHits.hunt, filter.hunt));
  return where;
}

/** Rows strictly after `cursor` in (time desc, id desc) order. */
function before(
  at: typeof watchEvents.at | typeof watchHits.at,
  id: typeof watchEvents.id | typeof watchHits.id,
  cursor: Cursor,
): SQL {
  return sql`(${at}, ${id}) < (${cursor.at.toISOString()}::timestamptz, ${cursor.id})`;
}

/**
 * `pattern` as an ILIKE pattern: `%` and `_` (and the escape, `\`) made plain, stars as `%`; what
 * PostgreSQL cannot hold replaced as it was in the stored text, so that it still matches.
 */
export function likePattern(pattern: Pattern): string {
  return pattern.map((piece) => clean(piece).replace(/[\\%_]/g, (c) => `\\${c}`)).join('%');
}

/** `text` (an SQL expression) against `pattern`: equal ignoring case, or ILIKE with wildcards. */
function matches(text: SQL, pattern: Pattern): SQL {
  const exact = pattern.length === 1 ? clean(pattern[0]!) : undefined;
  return exact === undefined
    ? sql`${text} ilike ${likePattern(pattern)}`
    : sql`lower(${text}) = lower(${exact})`;
}

function termCondition(term: SearchTerm): SQL {
  const condition = positiveCondition(term);
  // A missing field makes the comparison null, and `not null` is null too: a negated term must
  // keep the events that lack the field.
  return term.negated ? sql`not coalesce(${condition}, false)` : condition;
}

function positiveCondition(term: SearchTerm): SQL {
  switch (term.kind) {
    case 'text':
      return sql`${watchEvents.raw} ilike ${`%${likePattern(term.pattern)}%`}`;
    case 'field':
      // The user's own expression, as its index has it: the index serves only an identical one.
      return term.field === 'user'
        ? matches(sql`(${watchEvents.fields} ->> 'user')`, term.pattern)
        : matches(sql`(${watchEvents.fields} ->> ${term.field}::text)`, term.pattern);
    case 'column':
      return matches(sql`${term.column === 'host' ? watchEvents.host : watchEvents.source}`, term.pattern);
    case 'logsource':
      return matches(sql`(${watchEvents.logsource} ->> ${term.key}::text)`, term.pattern);
    case 'format':
      return eq(watchEvents.format, term.format);
    case 'parsed':
      return eq(watchEvents.parsed, term.parsed);
    case 'address':
      return term.prefix === undefined
        ? sql`${watchEvents.srcIp} = ${term.address}::inet`
        : sql`${watchEvents.srcIp} <<= ${`${term.address}/${term.prefix}`}::inet`;
  }
}

// ------------------------------------------------------------------------ events

const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');
/** A time both JavaScript and PostgreSQL write and read alike (ISO years 1 to 9999). */
const storableTime = (ms: number) => Number.isFinite(ms) && ms >= MIN_TIME && ms <= MAX_TIME;

function eventRecord(input: NewWatchEvent, index: number, times: CopyTimestamps): EventRecord {
  const { event } = input;
  if (!storableTime(input.receivedAt))
    throw RempartError.validation(`Event ${index}: its receiving time is not a time.`, {
      reason: 'invalid_time',
      index,
    });
  // A line's own time may be anything its writer put there: out of range, the arrival's instead.
  const at = storableTime(event.time) ? event.time : input.receivedAt;
  const fieldHost = event.fields.host;
  const host = input.host ?? (typeof fieldHost === 'string' ? fieldHost : undefined);
  const srcIp = event.fields.src_ip;
  return {
    at: times.format(new Date(at)),
    receivedAt: new Date(input.receivedAt).toISOString(),
    source: clean(input.receiver ?? event.source ?? ''),
    format: event.parsed ? input.format : 'raw',
    logsource: storableJsonText(event.logsource),
    host: host === undefined ? null : clean(host),
    fields: storableJsonText(event.fields),
    // Cleaned first: a replacement character is longer than the NUL it replaces.
    raw: capRaw(clean(event.raw)),
    parsed: event.parsed,
    srcIp: typeof srcIp === 'string' && isAddress(srcIp) ? srcIp : null,
  };
}

/** `records` in COPY's text format, columns as EVENT_COLUMNS. */
function eventsAsCopyText(records: readonly EventRecord[], ids: readonly number[]): string {
  let text = '';
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    text +=
      `${ids[i]}\t${r.at}\t${r.receivedAt}\t${copyField(r.source)}\t${r.format}\t${copyField(r.logsource)}\t` +
      `${copyField(r.host)}\t${copyField(r.fields)}\t${copyField(r.raw)}\t${r.parsed ? 't' : 'f'}\t` +
      `${copyField(r.srcIp)}\n`;
  }
  return text;
}

/** A stored event as the parsers made it (the raw line as kept: cut at 8 KiB). */
export function rebuildEvent(row: WatchEventRow): WatchEvent {
  const event: WatchEvent = {
    time: row.at.getTime(),
    logsource: row.logsource,
    fields: row.fields as WatchEvent['fields'],
    raw: row.raw,
    parsed: row.parsed,
  };
  if (row.source !== '') event.source = row.source;
  return event;
}

/** `raw` cut to at most RAW_MAX_BYTES of UTF-8, at a character's boundary. */
export function capRaw(raw: string): string {
  // Three bytes at most per UTF-16 unit: most lines need no counting.
  if (raw.length * 3 <= RAW_MAX_BYTES) return raw;
  const bytes = Buffer.from(raw, 'utf8');
  if (bytes.length <= RAW_MAX_BYTES) return raw;
  let end = RAW_MAX_BYTES;
  // Back to the start of the character the limit falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

// PostgreSQL's text holds neither NUL nor unpaired surrogates (which UTF-8 cannot encode): both
// are stored as U+FFFD, the replacement character, rather than refusing a hostile log line.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_UNSTORABLE = /[\0\uD800-\uDFFF]/;

/** `text` with what PostgreSQL's text cannot hold replaced by U+FFFD. */
export function clean(text: string): string {
  return HAS_UNSTORABLE.test(text) ? text.replace(UNSTORABLE, '\uFFFD') : text;
}

// JSON.stringify writes NUL and unpaired surrogates as `\u` escapes, which jsonb refuses; an escape
// is one when the backslashes before it are even in number (`\\u0000` is a backslash and text).
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

/** `value` as JSON text jsonb accepts. */
function storableJsonText(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u') ? text.replace(UNSTORABLE_ESCAPE, '$1\\ufffd') : text;
}

function storableJson(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(storableJsonText(value)) as Record<string, unknown>;
}
