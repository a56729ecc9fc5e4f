/**
 * The DNS query log: entries are buffered and written in batches, so the resolver never waits
 * on the database; old entries are pruned after the retention. Identical queries between two
 * writes (same client, protocol, name, type and verdict: a phone asking for the same name again
 * and again) become one row with their count, so that a busy resolver writes rows by the distinct
 * question, not by the packet. The buffer is bounded: when the database falls behind a flood of
 * distinct queries, the excess is counted as not logged (and shown in the console) rather than
 * letting memory grow without limit.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { NetguardRepository, QueryRow } from './netguard.repository.js';

export interface QueryLogOptions<R extends QueryRow = QueryRow> {
  /** Where batches go: the database, or the platform for a resolver replica. */
  repo: {
    insertQueries(rows: (R & { count: number })[]): Promise<void>;
    pruneQueries: NetguardRepository['pruneQueries'];
  };
  clock: Clock;
  log: Logger;
  /** Days an entry is kept; 0 turns the log off. */
  retentionDays: number;
  /** Rows (distinct queries) held in memory at most between two writes. */
  maxBuffered?: number;
  flushMs?: number;
  pruneMs?: number;
}

/**
 * What makes two queries of the same name the same row: everything else but the time and the
 * answer's duration. (Rows are found by name first: the name is the string the query already
 * brought, so finding a row allocates nothing, where a key made of every field would cost a long
 * string per query and keep one per row: at tens of thousands of queries per second, that garbage
 * and what it kept alive until the next write were most of the log's cost.)
 */
const sameRow = (a: QueryRow, b: QueryRow): boolean =>
  a.client === b.client &&
  a.type === b.type &&
  a.rule === b.rule &&
  a.list === b.list &&
  a.action === b.action &&
  a.groupId === b.groupId &&
  a.rcode === b.rcode &&
  a.cached === b.cached &&
  a.protocol === b.protocol;

/** A buffered row, and the next one of the same name. */
type Buffered<R> = R & { count: number; next?: Buffered<R> };

export class QueryLog<R extends QueryRow = QueryRow> {
  /** Rows by name (rows of the same name chained through `next`). */
  private buffer = new Map<string, Buffered<R>>();
  /** Rows in the buffer. */
  private rows = 0;
  /** Queries in the buffer, counts included. */
  private buffered = 0;
  private writing: Promise<void> | undefined;
  private readonly flushTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  /** Rows that start a write at once, without waiting for the timer: half the buffer. */
  private readonly flushRows: number;
  private closed = false;
  /** Queries not written because the buffer was full or a write failed. */
  notLogged = 0;
  /** Queries written (a row of count n counts n). */
  logged = 0;

  constructor(private readonly options: QueryLogOptions<R>) {
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.flushRows = Math.max(1, Math.floor(this.maxBuffered / 2));
    if (options.retentionDays > 0) {
      this.flushTimer = setInterval(() => void this.flush(), options.flushMs ?? 1000);
      this.pruneTimer = setInterval(() => void this.prune(), options.pruneMs ?? 3_600_000);
      this.flushTimer.unref();
      this.pruneTimer.unref();
    }
  }

  get enabled(): boolean {
    return this.options.retentionDays > 0 && !this.closed;
  }

  /**
   * Adds `count` identical queries (one by default; a resolver replica ships rows it has already
   * counted). The log takes the row: the caller does not use it again.
   */
  add(entry: R, count = 1): void {
    if (!this.enabled) return;
    const first = this.buffer.get(entry.name);
    for (let same = first; same !== undefined; same = same.next)
      if (sameRow(same, entry)) {
        same.count += count;
        if (entry.durationMs > same.durationMs) same.durationMs = entry.durationMs;
        this.buffered += count;
        return;
      }
    if (this.rows >= this.maxBuffered) {
      this.notLogged += count;
      return;
    }
    const row = entry as Buffered<R>;
    row.count = count;
    if (first !== undefined) {
      row.next = first.next;
      first.next = row;
    } else this.buffer.set(entry.name, row);
    this.rows++;
    this.buffered += count;
    // A flood of distinct names fills the buffer between two ticks of the timer: write as soon as
    // it is half full, so that only a database that cannot keep up loses entries.
    if (this.rows >= this.flushRows && this.writing === undefined) void this.flush();
  }

  /** Writes what is buffered; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.rows === 0) return Promise.resolve();
    const batch: (R & { count: number })[] = [];
    for (const first of this.buffer.values())
      for (let row: Buffered<R> | undefined = first; row !== undefined; row = row.next) batch.push(row);
    const queries = this.buffered;
    this.buffer = new Map();
    this.rows = 0;
    this.buffered = 0;
    this.writing = this.options.repo
      .insertQueries(batch)
      .then(
        () => {
          this.logged += queries;
        },
        (error: unknown) => {
          this.notLogged += queries;
          this.options.log.error({ err: error, entries: batch.length, queries }, 'query log write failed');
        },
      )
      .finally(() => {
        this.writing = undefined;
        // What came in during the write, when it is already half a buffer, goes at once.
        if (this.rows >= this.flushRows && !this.closed) void this.flush();
      });
    return this.writing;
  }

  /** Deletes the entries older than the retention. */
  async prune(): Promise<number> {
    if (this.options.retentionDays <= 0) return 0;
    const before = new Date(this.options.clock.now().getTime() - this.options.retentionDays * 86_400_000);
    try {
      const removed = await this.options.repo.pruneQueries(before);
      if (removed > 0) this.options.log.info({ removed, before: before.toISOString() }, 'query log pruned');
      return removed;
    } catch (error) {
      this.options.log.error({ err: error }, 'query log prune failed');
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    clearInterval(this.pruneTimer);
    // A write may be under way while more entries wait: drain both.
    while (this.writing !== undefined || this.rows > 0) await (this.writing ?? this.flush());
    this.closed = true;
  }
}
