/**
 * A scan's timeline, held in columns while the scan reads: per record a time, a source and a text
 * (the numbers in typed arrays), the few detections aside. A phone holds a million messages: made
 * as they were read, a million event objects and record strings survived to the end of the scan,
 * and the garbage collector copying them cost more than reading the databases. Here an event is
 * made when the timeline is told (a report written, the fleet's database filled), one at a time,
 * and let go once told.
 */
import type { Detection, TimelineEvent } from '@rempart/core';

/**
 * Where the texts of records lie when the timeline keeps two numbers rather than the strings: a
 * database file read in place (sqlite-file.ts, the numbers a text's span), or a table that makes a
 * record when asked (Safari's visits, the numbers a row); held by the timeline as long as it is.
 */
export interface TextSpans {
  /** The text at `start`…`end`. */
  text(start: number, end: number): string;
}

/** Where records come from, and the words around the number of a record told in parts. */
interface Source {
  artifact: string;
  file: string;
  before: string;
  after: string;
  /** Whether `before` and `after` hold no line break. */
  oneLine: boolean;
  /** Where the texts of its records kept as spans lie. */
  spans: TextSpans | undefined;
}

/** What `Timeline.each` gives of a record: the fields of its event. */
export type TimelineVisitor = (
  at: string | null,
  artifact: string,
  file: string,
  record: string,
  detection: Detection | undefined,
) => void;

/** Records per block of a column: 32 KiB of numbers. */
const BLOCK_BITS = 12;
const BLOCK_SIZE = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK_SIZE - 1;

/**
 * A column of numbers that grows a block at a time: growing never copies what it holds (doubling
 * an array of a million records copies it and asks for twice its memory, in the middle of a scan).
 */
class Column {
  private readonly blocks: Float64Array[] = [];

  get(i: number): number {
    return this.blocks[i >>> BLOCK_BITS]![i & BLOCK_MASK]!;
  }

  /** Sets record `i`, at most one past the last block's end: records are added in order. */
  set(i: number, value: number): void {
    const block = i >>> BLOCK_BITS;
    if (block === this.blocks.length) this.blocks.push(new Float64Array(BLOCK_SIZE));
    this.blocks[block]![i & BLOCK_MASK] = value;
  }
}
/** The largest distance from 1970 a JavaScript date can hold (ECMAScript §21.4.1.1). */
export const MAX_DATE_MS = 8.64e15;
/** Records beyond this length are cut, with an ellipsis: timelines are read a record a line. */
const MAX_RECORD = 2000;
/** The longest a number is written (`-1.7976931348623157e+308`). */
const LONGEST_NUMBER = 24;

export class Timeline implements Iterable<TimelineEvent> {
  private size = 0;
  /** Unix milliseconds; Infinity when the record has no time (such records sort last). */
  private readonly times = new Column();
  /** The number of a record told in parts (a row's id); NaN for a record told whole. */
  private readonly numbers = new Column();
  private readonly sourceOf = new Column();
  /**
   * Where a record's text is: at `textAt` … `textEnd` of its source's `spans` when `textAt` ≥ 0,
   * otherwise the string `texts[-1 - textAt]`. A million message texts kept as strings until the
   * end of a scan cost more to the garbage collector, which copies each one out of the young
   * generation, than reading the database; two numbers do not.
   */
  private readonly textAt = new Column();
  private readonly textEnd = new Column();
  private readonly texts: string[] = [];
  private readonly detections = new Map<number, Detection>();
  private readonly sources: Source[] = [];
  private readonly sourceIds = new Map<string, number>();
  private readonly spansIds = new Map<TextSpans, number>();
  /** The records' positions, oldest first, once asked for (any record added forgets it). */
  private order: number[] | undefined;

  /** How many records it holds. */
  get length(): number {
    return this.size;
  }

  /**
   * The id of a source of records: the module and file they were read from and, for records told
   * in parts, the words before and after their number (`message `, ` received from +32… (SMS): `);
   * `spans`, where the texts its records keep as spans lie (`addSpan`).
   */
  source(artifact: string, file: string, before = '', after = '', spans?: TextSpans): number {
    let spansId = 0;
    if (spans !== undefined) {
      spansId = this.spansIds.get(spans) ?? this.spansIds.size + 1;
      this.spansIds.set(spans, spansId);
    }
    const key = `${artifact}\u0000${file}\u0000${before}\u0000${after}\u0000${spansId}`;
    let id = this.sourceIds.get(key);
    if (id === undefined) {
      id =
        this.sources.push({ artifact, file, before, after, oneLine: isOneLine(before + after), spans }) - 1;
      this.sourceIds.set(key, id);
    }
    return id;
  }

  /**
   * Adds a record that happened at `ms` (Unix milliseconds; NaN, or a time no date can hold, when it
   * does not say) from
   * `source`: told as `text` when `n` is NaN, otherwise as the source's `before`, `n`, its `after`
   * and `text`.
   */
  add(ms: number, source: number, n: number, text: string, detection?: Detection): void {
    this.addSpan(ms, source, n, text, -1, -1, detection);
  }

  /**
   * `add`, the text kept as its span `start`…`end` in the source's `spans` when `start` ≥ 0 (then
   * `text` is not kept), as `text` otherwise.
   */
  addSpan(
    ms: number,
    source: number,
    n: number,
    text: string,
    start: number,
    end: number,
    detection?: Detection,
  ): void {
    const i = this.size;
    // A time no date can hold (a damaged record) is no time.
    this.times.set(i, Math.abs(ms) <= MAX_DATE_MS ? ms : Number.POSITIVE_INFINITY);
    this.numbers.set(i, n);
    this.sourceOf.set(i, source);
    if (start >= 0 && this.sources[source]?.spans !== undefined) {
      this.textAt.set(i, start);
      this.textEnd.set(i, end);
    } else {
      this.textAt.set(i, -1 - (this.texts.push(text) - 1));
      this.textEnd.set(i, -1);
    }
    if (detection !== undefined) this.detections.set(i, detection);
    this.size = i + 1;
    this.order = undefined;
  }

  /** Forgets every record from position `length` on: a module that reads its table again another way. */
  truncate(length: number): void {
    if (length >= this.size) return;
    for (const i of this.detections.keys()) if (i >= length) this.detections.delete(i);
    // The strings of the records forgotten are the last ones kept.
    for (let i = length; i < this.size; i++)
      if (this.textAt.get(i) < 0) {
        this.texts.length = -1 - this.textAt.get(i);
        break;
      }
    this.size = length;
    this.order = undefined;
  }

  /** The records oldest first, those without a time last, each told as it is reached. */
  *[Symbol.iterator](): Iterator<TimelineEvent> {
    const order = this.sorted();
    const iso = new IsoTimes();
    for (const i of order) yield this.event(i, iso);
  }

  /**
   * Calls `visit` with each record, oldest first, as its parts: no event object is made. For a
   * writer of the whole timeline, which turns each record into text at once: objects made by the
   * million and let go one by one can lead the engine to allocate them where long-lived objects
   * go, where they cost a full collection to free.
   */
  each(visit: TimelineVisitor): void {
    const iso = new IsoTimes();
    for (const i of this.sorted()) {
      const time = this.times.get(i);
      const source = this.sources[this.sourceOf.get(i)]!;
      const n = this.numbers.get(i);
      const text = this.textOf(i, source);
      visit(
        time === Number.POSITIVE_INFINITY ? null : iso.of(time),
        source.artifact,
        source.file,
        Number.isNaN(n) ? oneLine(text) : told(source, n, text),
        this.detections.get(i),
      );
    }
  }

  /** The records with a detection, in the timeline's order. */
  found(): TimelineEvent[] {
    const iso = new IsoTimes();
    return [...this.detections.keys()]
      .sort((a, b) => this.times.get(a) - this.times.get(b) || a - b)
      .map((i) => this.event(i, iso));
  }

  /** Every record told, oldest first: what `JSON.stringify` writes of a timeline. */
  toJSON(): TimelineEvent[] {
    return [...this];
  }

  private event(i: number, iso: IsoTimes): TimelineEvent {
    const time = this.times.get(i);
    const source = this.sources[this.sourceOf.get(i)]!;
    const n = this.numbers.get(i);
    const text = this.textOf(i, source);
    const event: TimelineEvent = {
      at: time === Number.POSITIVE_INFINITY ? null : iso.of(time),
      artifact: source.artifact,
      file: source.file,
      record: Number.isNaN(n) ? oneLine(text) : told(source, n, text),
    };
    const detection = this.detections.get(i);
    if (detection !== undefined) event.detection = detection;
    return event;
  }

  private textOf(i: number, source: Source): string {
    const at = this.textAt.get(i);
    return at < 0 ? this.texts[-1 - at]! : source.spans!.text(at, this.textEnd.get(i));
  }

  /**
   * Positions by time, then in the order read. Sorted by number on an array of positions: no
   * wrapper object per record, no string comparison, and the merge sort of arrays is linear on the
   * long ordered runs a phone's databases hold. Infinity − Infinity is NaN, falsy: records without
   * a time keep their order.
   */
  private sorted(): number[] {
    if (this.order !== undefined) return this.order;
    const { times } = this;
    const order = new Array<number>(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => times.get(a) - times.get(b) || a - b);
    this.order = order;
    return order;
  }
}

/**
 * A record told in parts, as `oneLine` has it. Checked part by part: searching the joined string
 * for line breaks would first copy it whole (a string made by `+` is a tree of its parts until
 * read), a million times for a phone's messages.
 */
function told(source: Source, n: number, text: string): string {
  const { before, after } = source;
  if (
    source.oneLine &&
    isOneLine(text) &&
    before.length + after.length + text.length + LONGEST_NUMBER <= MAX_RECORD
  )
    return `${before}${n}${after}${text}`;
  return oneLine(`${before}${n}${after}${text}`);
}

function isOneLine(text: string): boolean {
  return text.indexOf('\n') === -1 && text.indexOf('\r') === -1;
}

/** `text` on one line, at most 2,000 characters: timelines are read a record a line. */
export function oneLine(text: string): string {
  // Most records are one line already: the expression is run only on those that are not.
  const flat = isOneLine(text) ? text : text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  return flat.length > MAX_RECORD ? `${flat.slice(0, MAX_RECORD - 1)}…` : flat;
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from there on, and before 1970, ISO strings are left to `Date`. */
const YEAR_10000_MS = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `new Date(ms).toISOString()` for many times in a row, four times faster: the date part is made
 * once per day, the time of day from tables (a million records' times cost 0.4 s through `Date`).
 */
export class IsoTimes {
  private day = Number.NaN;
  private prefix = '';

  of(ms: number): string {
    if (!(ms >= 0 && ms < YEAR_10000_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
    const day = ms - (ms % DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Date(day).toISOString().slice(0, 11);
    }
    let rest = ms - day;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const second = rest % 60;
    rest = (rest - second) / 60;
    const minute = rest % 60;
    const hour = (rest - minute) / 60;
    return `${this.prefix}${TWO_DIGITS[hour]!}:${TWO_DIGITS[minute]!}:${TWO_DIGITS[second]!}.${THREE_DIGITS[milli]!}Z`;
  }
}
