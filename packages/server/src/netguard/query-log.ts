/**
 * The DNS query log: entries are buffered and written in batches, so the resolver never waits
 * on the database; old entries are pruned after the retention. The buffer is bounded: when the
 * database falls behind a flood of queries, the excess is counted as not logged (and shown in
 * the console) rather than letting memory grow without limit.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { NetguardRepository, QueryRow } from './netguard.repository.js';

export interface QueryLogOptions {
  repo: Pick<NetguardRepository, 'insertQueries' | 'pruneQueries'>;
  clock: Clock;
  log: Logger;
  /** Days an entry is kept; 0 turns the log off. */
  retentionDays: number;
  /** Entries held in memory at most between two writes. */
  maxBuffered?: number;
  flushMs?: number;
  pruneMs?: number;
}

export class QueryLog {
  private buffer: QueryRow[] = [];
  private writing: Promise<void> | undefined;
  private readonly flushTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private closed = false;
  /** Entries not written because the buffer was full or a write failed. */
  notLogged = 0;
  logged = 0;

  constructor(private readonly options: QueryLogOptions) {
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

  add(entry: QueryRow): void {
    if (!this.enabled) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.notLogged++;
      return;
    }
    this.buffer.push(entry);
  }

  /** Writes what is buffered; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.buffer.length === 0) return Promise.resolve();
    const batch = this.buffer;
    this.buffer = [];
    this.writing = this.options.repo
      .insertQueries(batch)
      .then(
        () => {
          this.logged += batch.length;
        },
        (error: unknown) => {
          this.notLogged += batch.length;
          this.options.log.error({ err: error, entries: batch.length }, 'query log write failed');
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
    while (this.writing !== undefined || this.buffer.length > 0) await (this.writing ?? this.flush());
    this.closed = true;
  }
}
