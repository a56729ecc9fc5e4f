/**
 * The bounded queue between the receivers (syslog, file tailing, HTTP) and whoever turns lines into
 * events. It never grows beyond its capacity, in items and in characters: a producer that can wait
 * (a TCP connection, a file) is refused and waits for room, so the sender or the file holds the
 * backlog instead of our memory; a producer that cannot wait (UDP) drops what does not fit, and the
 * drop is counted by source and reason so that losses are seen, never silent.
 *
 * @example
 *   const queue = new LineQueue({ capacity: 10_000 });
 *   while (!queue.offer(item)) await queue.whenWritable(item.line.length); // a producer that can wait
 *   queue.offerOrDrop(datagramItem); // a producer that cannot
 *   for await (const batch of queue.batches(500)) handle(batch);
 */
import { z } from 'zod';

/** One line as a receiver got it: the parsers make an event of it. */
export interface IngestItem {
  /** The line's text, without its terminator (a syslog message keeps its `<pri>` prefix). */
  line: string;
  /** What received it: `syslog-udp`, `syslog-tcp`, `syslog-tls`, a file's path, `http`. */
  source: string;
  /** When it was received, in Unix milliseconds. */
  receivedAt: number;
  /** The sender's address and port, when a network peer sent it. */
  peer?: string;
}

/**
 * Why an item was lost. `full`: the queue had no room and the producer could not wait (UDP);
 * `closed`: it arrived after the queue or its receiver was closed.
 */
export type DropReason = 'full' | 'closed';

export interface QueueStats {
  capacity: number;
  maxChars: number;
  /** Items waiting now. */
  depth: number;
  /** Characters of the lines waiting now. */
  chars: number;
  /** The most items ever waiting at once. */
  highWater: number;
  /** Items ever queued. */
  accepted: number;
  /** Items ever handed to consumers. */
  taken: number;
  /** Times a producer that can wait was refused and had to wait for room (back-pressure). */
  refused: number;
  dropped: { total: number; byReason: Record<DropReason, number>; bySource: Record<string, number> };
}

export const LineQueueOptions = z.object({
  /** How many items may wait at once. */
  capacity: z.number().int().min(1).max(1_000_000).default(10_000),
  /**
   * How many characters the waiting lines may hold together (default 32 Mi: about 64 MiB), so
   * that long lines cannot make a full queue huge. One line is always taken into an empty queue,
   * however long (each receiver bounds its lines).
   */
  maxChars: z.number().int().min(1).max(1_073_741_824).default(33_554_432),
  /**
   * Waiting producers resume once the depth falls to this (default: half the capacity) and the
   * characters to half their maximum, so that a paused connection resumes with room for a burst
   * rather than one line at a time.
   */
  lowWater: z.number().int().min(0).optional(),
});
export type LineQueueOptions = z.input<typeof LineQueueOptions>;

export class LineQueue {
  readonly capacity: number;
  readonly maxChars: number;
  private readonly lowWater: number;
  private chars = 0;
  // A ring buffer: taking a batch never shifts the array.
  private readonly ring: (IngestItem | undefined)[];
  private head = 0;
  private size = 0;
  private closedFlag = false;
  private highWater = 0;
  private accepted = 0;
  private taken = 0;
  private refused = 0;
  private readonly droppedByReason: Record<DropReason, number> = { full: 0, closed: 0 };
  private readonly droppedBySource = new Map<string, number>();
  private writers: { need: number; resolve: () => void }[] = [];
  private readers: (() => void)[] = [];

  constructor(options: LineQueueOptions = {}) {
    const parsed = LineQueueOptions.parse(options);
    this.capacity = parsed.capacity;
    this.maxChars = parsed.maxChars;
    this.lowWater = Math.min(parsed.lowWater ?? Math.floor(parsed.capacity / 2), parsed.capacity - 1);
    this.ring = new Array<IngestItem | undefined>(parsed.capacity);
  }

  get depth(): number {
    return this.size;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Whether `count` more items of `chars` characters in all would be taken now. */
  fits(count: number, chars: number): boolean {
    if (this.closedFlag || count > this.capacity - this.size) return false;
    return this.chars + chars <= this.maxChars || (this.size === 0 && count === 1);
  }

  /** Whether `count` items of `chars` characters in all could ever be taken together. */
  couldFit(count: number, chars: number): boolean {
    return count <= this.capacity && (chars <= this.maxChars || count === 1);
  }

  /**
   * Queues `item` if there is room and returns true; otherwise returns false and the caller keeps
   * the item and waits with `whenWritable()`. A closed queue refuses and counts the item dropped.
   */
  offer(item: IngestItem): boolean {
    if (this.closedFlag) {
      this.drop(item.source, 'closed');
      return false;
    }
    if (!this.fits(1, item.line.length)) {
      this.refused++;
      return false;
    }
    this.push(item);
    return true;
  }

  /** For producers that cannot wait (UDP): queues `item` or counts it dropped. */
  offerOrDrop(item: IngestItem): boolean {
    if (this.closedFlag) {
      this.drop(item.source, 'closed');
      return false;
    }
    if (!this.fits(1, item.line.length)) {
      this.drop(item.source, 'full');
      return false;
    }
    this.push(item);
    return true;
  }

  /**
   * Queues every item or none: a sender told "full" retries the whole batch, so a partial
   * acceptance would duplicate lines.
   */
  offerAll(items: readonly IngestItem[]): boolean {
    let chars = 0;
    for (const item of items) chars += item.line.length;
    if (!this.fits(items.length, chars)) {
      if (!this.closedFlag) this.refused++;
      return false;
    }
    for (const item of items) this.push(item);
    return true;
  }

  /** Counts an item a producer lost on its side (e.g. still waiting for room when it closed). */
  drop(source: string, reason: DropReason, count = 1): void {
    this.droppedByReason[reason] += count;
    this.droppedBySource.set(source, (this.droppedBySource.get(source) ?? 0) + count);
  }

  /** Removes and returns up to `max` items, oldest first (none when empty). */
  take(max: number): IngestItem[] {
    const n = Math.min(Math.max(0, Math.floor(max)), this.size);
    const out = new Array<IngestItem>(n);
    for (let i = 0; i < n; i++) {
      const item = this.ring[this.head] as IngestItem;
      out[i] = item;
      this.chars -= item.line.length;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.size -= n;
    this.taken += n;
    if (n > 0 && this.writers.length > 0) this.wakeWriters();
    return out;
  }

  /**
   * Resolves once a waiting producer may go on with a line of `need` characters: the queue fell
   * to its low-water marks and that line fits, or the queue was closed (the producer then sees
   * `closed` and stops).
   */
  whenWritable(need = 0): Promise<void> {
    if (this.canResume(need)) return Promise.resolve();
    return new Promise((resolve) => this.writers.push({ need, resolve }));
  }

  /** Resolves once an item is waiting or the queue is closed. */
  whenReadable(): Promise<void> {
    if (this.closedFlag || this.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** Up to `max` items, waiting for at least one; empty only once closed and drained. */
  async next(max: number): Promise<IngestItem[]> {
    while (this.size === 0 && !this.closedFlag) await this.whenReadable();
    return this.take(max);
  }

  /** Batches of up to `max` items as they come, until the queue is closed and drained. */
  async *batches(max = 1000): AsyncGenerator<IngestItem[], void, undefined> {
    for (;;) {
      const batch = await this.next(max);
      if (batch.length === 0) return;
      yield batch;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<IngestItem[], void, undefined> {
    return this.batches();
  }

  /**
   * Refuses new items from now on; consumers still drain what waits, waiting producers are
   * released. Idempotent.
   */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.wakeWriters();
    this.wakeReaders();
  }

  stats(): QueueStats {
    return {
      capacity: this.capacity,
      maxChars: this.maxChars,
      depth: this.size,
      chars: this.chars,
      highWater: this.highWater,
      accepted: this.accepted,
      taken: this.taken,
      refused: this.refused,
      dropped: {
        total: this.droppedByReason.full + this.droppedByReason.closed,
        byReason: { ...this.droppedByReason },
        bySource: Object.fromEntries(this.droppedBySource),
      },
    };
  }

  private push(item: IngestItem): void {
    this.ring[(this.head + this.size) % this.capacity] = item;
    this.size++;
    this.chars += item.line.length;
    this.accepted++;
    if (this.size > this.highWater) this.highWater = this.size;
    if (this.size === 1) this.wakeReaders();
  }

  private canResume(need: number): boolean {
    if (this.closedFlag) return true;
    if (this.size > this.lowWater || this.chars > this.maxChars / 2) return false;
    // Resuming a producer whose line still does not fit would have it spin.
    return this.size === 0 || this.chars + need <= this.maxChars;
  }

  private wakeWriters(): void {
    // Cheap while the queue stays above its low-water marks: one comparison decides for all.
    if (!this.canResume(0)) return;
    const still: typeof this.writers = [];
    const ready: (() => void)[] = [];
    for (const w of this.writers) {
      if (this.canResume(w.need)) ready.push(w.resolve);
      else still.push(w);
    }
    this.writers = still;
    for (const resolve of ready) resolve();
  }

  private wakeReaders(): void {
    const waiting = this.readers;
    if (waiting.length === 0) return;
    this.readers = [];
    for (const resolve of waiting) resolve();
  }
}
