/** The fleet's tables: devices, their scans (with consent), and each scan's timeline. */
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  max,
  sql,
} from 'drizzle-orm';
import type { TimelineEvent } from '@rempart/core';
import type { Database, Db } from '../../db/client.js';
import { copyField } from '../../db/copy-text.js';
import { spywareDevices, spywareScans, spywareTimeline } from '../../db/schema.js';

export type DeviceRow = typeof spywareDevices.$inferSelect;
export type NewDeviceRow = typeof spywareDevices.$inferInsert;
/** A scan without its consent form (a file of up to 10 MB, read only when asked for). */
export type ScanRow = Omit<typeof spywareScans.$inferSelect, 'consentForm'>;
export type NewScanRow = typeof spywareScans.$inferInsert;
export type ScanPatch = Partial<Omit<NewScanRow, 'id' | 'deviceId'>>;

/** Rows per COPY or INSERT of a timeline: a bound on one statement's size. */
const TIMELINE_CHUNK = 10_000;
const TIMELINE_COLUMNS = ['scan_id', 'seq', 'at', 'artifact', 'file', 'record', 'detection'] as const;

const { consentForm: _form, ...scanColumns } = getTableColumns(spywareScans);

export class FleetRepository {
  /**
   * @param copyRows the database's bulk append when it has one (the embedded database): timelines
   *   are written with it.
   */
  constructor(
    private readonly db: Db,
    private readonly copyRows?: Database['copyRows'],
  ) {}

  // ----------------------------------------------------------------- devices

  async deviceById(id: string): Promise<DeviceRow | undefined> {
    const [row] = await this.db.select().from(spywareDevices).where(eq(spywareDevices.id, id));
    return row;
  }

  /** The owner's device of that name, created when new. */
  async ensureDevice(row: NewDeviceRow): Promise<DeviceRow> {
    await this.db.insert(spywareDevices).values(row).onConflictDoNothing();
    const [found] = await this.db
      .select()
      .from(spywareDevices)
      .where(and(eq(spywareDevices.ownerId, row.ownerId), eq(spywareDevices.name, row.name)));
    return found!;
  }

  async updateDeviceSerial(id: string, serial: string): Promise<void> {
    await this.db.update(spywareDevices).set({ serial }).where(eq(spywareDevices.id, id));
  }

  /** Every device, or the owner's, by name. */
  listDevices(ownerId?: string): Promise<DeviceRow[]> {
    const query = this.db.select().from(spywareDevices);
    return (ownerId === undefined ? query : query.where(eq(spywareDevices.ownerId, ownerId))).orderBy(
      asc(spywareDevices.name),
      asc(spywareDevices.id),
    );
  }

  // ------------------------------------------------------------------- scans

  async insertScan(row: NewScanRow): Promise<ScanRow> {
    const [saved] = await this.db.insert(spywareScans).values(row).returning(scanColumns);
    return saved!;
  }

  async scanById(id: string): Promise<ScanRow | undefined> {
    const [row] = await this.db.select(scanColumns).from(spywareScans).where(eq(spywareScans.id, id));
    return row;
  }

  async updateScan(id: string, patch: ScanPatch): Promise<ScanRow | undefined> {
    const [row] = await this.db
      .update(spywareScans)
      .set(patch)
      .where(eq(spywareScans.id, id))
      .returning(scanColumns);
    return row;
  }

  /**
   * Updates the scan only while its status is `from`: two requests racing (a consent and a
   * withdrawal) cannot both win. Undefined when the status had changed.
   */
  async transitionScan(
    id: string,
    from: ScanRow['status'][],
    patch: ScanPatch,
  ): Promise<ScanRow | undefined> {
    const [row] = await this.db
      .update(spywareScans)
      .set(patch)
      .where(and(eq(spywareScans.id, id), inArray(spywareScans.status, from)))
      .returning(scanColumns);
    return row;
  }

  /** The scans of these devices, newest first. */
  scansOfDevices(deviceIds: readonly string[]): Promise<ScanRow[]> {
    if (deviceIds.length === 0) return Promise.resolve([]);
    return this.db
      .select(scanColumns)
      .from(spywareScans)
      .where(inArray(spywareScans.deviceId, [...deviceIds]))
      .orderBy(desc(spywareScans.requestedAt), desc(spywareScans.id));
  }

  scansWithStatus(status: ScanRow['status']): Promise<ScanRow[]> {
    return this.db.select(scanColumns).from(spywareScans).where(eq(spywareScans.status, status));
  }

  /** Finished scans whose raw extracts are still kept, oldest first. */
  scansWithRaw(): Promise<ScanRow[]> {
    return this.db
      .select(scanColumns)
      .from(spywareScans)
      .where(and(eq(spywareScans.status, 'done'), isNull(spywareScans.rawPurgedAt)))
      .orderBy(asc(spywareScans.finishedAt));
  }

  /** Scans whose raw extracts are due for deletion at `now`. */
  scansToPurge(now: Date): Promise<ScanRow[]> {
    return this.db
      .select(scanColumns)
      .from(spywareScans)
      .where(
        and(
          isNull(spywareScans.rawPurgedAt),
          isNotNull(spywareScans.rawKeptUntil),
          lte(spywareScans.rawKeptUntil, now),
        ),
      );
  }

  async consentForm(id: string): Promise<Uint8Array | undefined> {
    const [row] = await this.db
      .select({ form: spywareScans.consentForm })
      .from(spywareScans)
      .where(eq(spywareScans.id, id));
    return row?.form ?? undefined;
  }

  /** Attaches the signed form and its consent while the scan awaits consent. */
  async attachConsentForm(
    id: string,
    form: Uint8Array,
    consent: Record<string, string>,
  ): Promise<ScanRow | undefined> {
    return this.transitionScan(id, ['awaiting_consent'], {
      consentForm: Buffer.from(form),
      consent,
      status: 'ready',
    });
  }

  // ---------------------------------------------------------------- timeline

  /**
   * Appends a scan's timeline from `firstSeq` on. On the embedded database with COPY; elsewhere
   * one INSERT per chunk, each column sent as one array and the rows made by `unnest`, so that
   * neither the ORM nor the driver handles a value at a time.
   */
  async appendTimeline(scanId: string, events: Iterable<TimelineEvent>, firstSeq = 0): Promise<void> {
    // Told a chunk at a time: a scan's timeline is made as it is written, never whole in memory.
    for (const [i, chunk] of chunksOf(events, TIMELINE_CHUNK, storable)) {
      if (this.copyRows) {
        await this.copyRows(
          'spyware_timeline',
          TIMELINE_COLUMNS,
          timelineAsCopyText(scanId, chunk, firstSeq + i),
        );
        continue;
      }
      const column = <T>(pick: (event: StorableEvent, index: number) => T) =>
        sql.param(chunk.map((event, index) => pick(event, index)));
      await this.db.execute(sql`
        insert into ${spywareTimeline} (scan_id, seq, at, artifact, file, record, detection)
        select ${scanId}::uuid, seq, at, artifact, file, record, detection::jsonb
        from unnest(
          ${column((_e, index) => firstSeq + i + index)}::int[], ${column((e) => e.at)}::timestamptz[],
          ${column((e) => e.artifact)}::text[], ${column((e) => e.file)}::text[],
          ${column((e) => e.record)}::text[],
          ${column((e) => e.detection)}::text[]
        ) as t(seq, at, artifact, file, record, detection)`);
    }
  }

  async timelinePage(
    scanId: string,
    query: { offset: number; limit: number; detectionsOnly: boolean; artifact?: string | undefined },
  ): Promise<{ total: number; events: TimelineEvent[] }> {
    if (!query.detectionsOnly && query.artifact === undefined) {
      // The whole timeline: its rows are numbered 0, 1, 2… without a gap (a retro-hunt appends at
      // the end), so a page is a range of the primary key and the total its last number, both read
      // from the index: the millionth record comes as fast as the first.
      const [last] = await this.db
        .select({ seq: max(spywareTimeline.seq) })
        .from(spywareTimeline)
        .where(eq(spywareTimeline.scanId, scanId));
      const rows = await this.db
        .select()
        .from(spywareTimeline)
        .where(
          and(
            eq(spywareTimeline.scanId, scanId),
            gte(spywareTimeline.seq, query.offset),
            lt(spywareTimeline.seq, query.offset + query.limit),
          ),
        )
        .orderBy(asc(spywareTimeline.seq));
      return {
        total: last?.seq === null || last?.seq === undefined ? 0 : last.seq + 1,
        events: rows.map(eventOf),
      };
    }
    const where = and(
      eq(spywareTimeline.scanId, scanId),
      query.detectionsOnly ? isNotNull(spywareTimeline.detection) : undefined,
      query.artifact === undefined ? undefined : eq(spywareTimeline.artifact, query.artifact),
    );
    const [totals] = await this.db.select({ total: count() }).from(spywareTimeline).where(where);
    const rows = await this.db
      .select()
      .from(spywareTimeline)
      .where(where)
      .orderBy(asc(spywareTimeline.seq))
      .offset(query.offset)
      .limit(query.limit);
    return { total: totals?.total ?? 0, events: rows.map(eventOf) };
  }

  /**
   * Records a detection found later (a retro-hunt) on the timeline: on the first row of the same
   * record that has none, else (the record already had a detection) as a new row at the end.
   */
  async addTimelineDetection(scanId: string, event: TimelineEvent): Promise<'marked' | 'appended'> {
    const updated = await this.db.execute(sql`
      update ${spywareTimeline} set detection = ${storable(event).detection ?? null}::jsonb
      where scan_id = ${scanId} and seq = (
        select min(seq) from ${spywareTimeline}
        where scan_id = ${scanId} and artifact = ${event.artifact} and file = ${event.file}
          and record = ${event.record} and detection is null)
      returning seq`);
    if (rowsOf(updated).length > 0) return 'marked';
    const [last] = await this.db
      .select({ seq: max(spywareTimeline.seq) })
      .from(spywareTimeline)
      .where(eq(spywareTimeline.scanId, scanId));
    await this.appendTimeline(scanId, [event], (last?.seq ?? -1) + 1);
    return 'appended';
  }

  async deleteTimeline(scanId: string): Promise<void> {
    await this.db.delete(spywareTimeline).where(eq(spywareTimeline.scanId, scanId));
  }
}

/** `items` in chunks of `size`, each item through `map`, with the position of each chunk's first. */
function* chunksOf<T, U>(items: Iterable<T>, size: number, map: (item: T) => U): Generator<[number, U[]]> {
  let chunk: U[] = [];
  let first = 0;
  for (const item of items) {
    chunk.push(map(item));
    if (chunk.length === size) {
      yield [first, chunk];
      first += size;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield [first, chunk];
}

/** The rows of a raw `execute`, whichever driver answered (node-postgres and PGlite both say `rows`). */
function rowsOf(result: unknown): unknown[] {
  return (result as { rows?: unknown[] }).rows ?? [];
}

function eventOf(row: typeof spywareTimeline.$inferSelect): TimelineEvent {
  return {
    at: row.at?.toISOString() ?? null,
    artifact: row.artifact,
    file: row.file,
    record: row.record,
    ...(row.detection
      ? { detection: row.detection as unknown as NonNullable<TimelineEvent['detection']> }
      : {}),
  };
}

interface StorableEvent {
  at: string | null;
  artifact: string;
  file: string;
  record: string;
  /** As JSON text. */
  detection: string | undefined;
}

/**
 * An event as PostgreSQL can store it: text holds no NUL character (a message or a file name
 * from a phone may), and neither may jsonb's `\u0000`; both become U+FFFD.
 */
function storable(event: TimelineEvent): StorableEvent {
  const clean = (text: string) => (text.includes('\0') ? text.replaceAll('\0', '\ufffd') : text);
  return {
    at: event.at,
    artifact: clean(event.artifact),
    file: clean(event.file),
    record: clean(event.record),
    detection: event.detection ? JSON.stringify(event.detection).replaceAll('\\u0000', '\\ufffd') : undefined,
  };
}

/** A chunk of timeline as COPY text rows (see db/copy-text.ts). */
function timelineAsCopyText(scanId: string, events: readonly StorableEvent[], firstSeq: number): string {
  let text = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    text +=
      `${scanId}\t${firstSeq + i}\t${e.at ?? '\\N'}\t${copyField(e.artifact)}\t${copyField(e.file)}\t` +
      `${copyField(e.record)}\t${copyField(e.detection)}\n`;
  }
  return text;
}
