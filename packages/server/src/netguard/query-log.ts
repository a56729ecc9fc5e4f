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

/** What makes two queries the same row: everything but the time and the answer's duration. */
const rowKey = (e: QueryRow): string =>
  `${e.client}\u0000${e.protocol}\u0000${e.name}\u0000${e.type}\u0000${e.groupId}\u0000${e.action}\u0000${e.list ?? ''}\u0000${e.rule ?? ''}\u0000${e.rcode}\u0000${e.cached ? 1 : 0}`;

export class QueryLog<R extends QueryRow = QueryRow> {
  private buffer = new Map<string, R & { count: number }>();
  /** Queries in the buffer, counts included. */
  private buffered = 0;
  private writing: Promise<void> | undefined;
  private readonly flushTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private closed = false;
  /** Queries not written because the buffer was full or a write failed. */
  notLogged = 0;
  /** Queries written (a row of count n counts n). */
  logged = 0;

  constructor(private readonly options: QueryLogOptions<R>) {
    this.maxBuffered = options.maxBuffered ?? 50_000;
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
   * counted). The row's own `count` is ignored.
   */
  add(entry: R, count = 1): void {
    if (!this.enabled) return;
    const key = rowKey(entry);
    const same = this.buffer.get(key);
    if (same) {
      same.count += count;
      if (entry.durationMs > same.durationMs) same.durationMs = entry.durationMs;
    } else if (this.buffer.size >= this.maxBuffered) {
      this.notLogged += count;
      return;
    } else {
      this.buffer.set(key, { ...entry, count });
    }
    this.buffered += count;
  }

  /** Writes what is buffered; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.buffer.size === 0) return Promise.resolve();
    const batch = [...this.buffer.values()];
    const queries = this.buffered;
    this.buffer = new Map();
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
    while (this.writing !== undefined || this.buffer.size > 0) await (this.writing ?? this.flush());
    this.closed = true;
  }
}
