/**
 * What every scanner shares: the timeline it writes record by record, each artifact's status
 * (read, missing, failed: a module that fails is reported and the scan goes on), the device's
 * identity as the artifacts tell it, and progress for the console and the terminal.
 */
import type { ArtifactStatus, Detection, ScanKind, ScanReport, TimelineEvent } from '@rempart/core';
import type { IndicatorMatcher } from './matcher.js';

/** Where a scan is: the module running, and how many modules are done out of how many. */
export interface ScanProgress {
  artifact: string;
  done: number;
  total: number;
}

export interface ScanOptions {
  matcher: IndicatorMatcher;
  onProgress?: (progress: ScanProgress) => void;
  /** The time the scan started (tests pass a fixed one). */
  now?: () => Date;
}

/** One module of a scanner: reads one artifact and records what it holds. */
export interface ArtifactModule {
  name: string;
  run(artifact: ArtifactRecorder): Promise<void> | void;
}

/** The records of one artifact. */
export class ArtifactRecorder {
  records = 0;
  detections = 0;
  status: ArtifactStatus['status'] = 'read';
  message: string | undefined;

  constructor(
    readonly name: string,
    readonly matcher: IndicatorMatcher,
    private readonly scan: ScanRecorder,
  ) {}

  /**
   * Adds a record to the timeline, once per detection when it has several (a message naming two
   * spyware links is two findings), once when it has none.
   */
  record(
    at: Date | null,
    file: string,
    record: string,
    detections: Detection | readonly Detection[] | undefined = undefined,
  ): void {
    this.records++;
    // The time stays a number until the report: a million ISO strings made here and compared in
    // the sort cost more than reading the records.
    const ms = at === null ? Number.NaN : at.getTime();
    const flat = oneLine(record);
    // No list is made for the usual record, with no detection or one: a million records would
    // leave a million empty arrays to the garbage collector.
    if (detections === undefined || (isList(detections) && detections.length === 0)) {
      this.scan.add(ms, { at: null, artifact: this.name, file, record: flat });
    } else if (!isList(detections)) {
      this.detections++;
      this.scan.add(ms, { at: null, artifact: this.name, file, record: flat, detection: detections });
    } else {
      for (const detection of detections) {
        this.detections++;
        this.scan.add(ms, { at: null, artifact: this.name, file, record: flat, detection });
      }
    }
  }

  /** The artifact is not in what was given (an app the phone does not have). */
  missing(message: string): void {
    this.status = 'missing';
    this.message = message;
  }

  /** Sets what the artifacts say of the device (model, OS version…), first value kept. */
  device(key: string, value: string | undefined | null): void {
    if (value !== undefined && value !== null && value !== '' && this.scan.device[key] === undefined)
      this.scan.device[key] = String(value);
  }
}

export class ScanRecorder {
  /** The events as read, their `at` set by the report from `times` (Infinity: no time). */
  private readonly timeline: TimelineEvent[] = [];
  private readonly times: number[] = [];
  readonly device: Record<string, string> = {};
  private readonly artifacts: ArtifactRecorder[] = [];
  private readonly startedAt: Date;
  private readonly now: () => Date;

  constructor(
    readonly kind: ScanKind,
    private readonly options: ScanOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now();
  }

  /** Adds an event that happened at `ms` (Unix milliseconds, NaN when the record has no time). */
  add(ms: number, event: TimelineEvent): void {
    this.timeline.push(event);
    this.times.push(Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY);
  }

  /** Runs the modules one after the other; one that throws is marked failed, the others still run. */
  async run(modules: readonly ArtifactModule[]): Promise<ScanReport> {
    for (const [index, module] of modules.entries()) {
      this.options.onProgress?.({ artifact: module.name, done: index, total: modules.length });
      const artifact = new ArtifactRecorder(module.name, this.options.matcher, this);
      this.artifacts.push(artifact);
      try {
        await module.run(artifact);
      } catch (error) {
        artifact.status = 'failed';
        artifact.message = error instanceof Error ? error.message : String(error);
      }
    }
    this.options.onProgress?.({ artifact: '', done: modules.length, total: modules.length });
    return this.report();
  }

  private report(): ScanReport {
    // Oldest first; records without a time after those with one, in the order they were read.
    // Sorted by number on an array of indices: no wrapper object per event, no string comparison,
    // and the merge sort of arrays is linear on the long ordered runs a phone's databases hold.
    // Infinity − Infinity is NaN, falsy: records without a time keep their order.
    const { times } = this;
    const order = new Array<number>(times.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => times[a]! - times[b]! || a - b);
    const timeline: TimelineEvent[] = new Array<TimelineEvent>(order.length);
    const iso = new IsoTimes();
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      const event = this.timeline[index]!;
      const t = times[index]!;
      if (t !== Number.POSITIVE_INFINITY) event.at = iso.of(t);
      timeline[i] = event;
    }
    return {
      kind: this.kind,
      device: this.device,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.now().toISOString(),
      indicators: { count: this.options.matcher.count, sources: this.options.matcher.sources },
      artifacts: this.artifacts.map((a) => ({
        artifact: a.name,
        status: a.status,
        records: a.records,
        detections: a.detections,
        ...(a.message === undefined ? {} : { message: a.message }),
      })),
      timeline,
      detections: timeline.filter((e) => e.detection !== undefined),
    };
  }
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

/** Apple's reference date (2001-01-01T00:00:00Z) in Unix milliseconds. */
const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);

/**
 * A Core Data / Mac absolute time (seconds since 2001-01-01, or nanoseconds in newer iOS
 * databases such as sms.db) as a date; null for 0 or nothing.
 */
export function appleTime(value: number | bigint | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  let seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds === 0) return null;
  // Nanoseconds since 2001 are above 1e15 for any date after 2001-01-12.
  if (Math.abs(seconds) > 1e12) seconds /= 1e9;
  return new Date(APPLE_EPOCH_MS + seconds * 1000);
}

/** `text` on one line, at most 2,000 characters: timelines are read a record a line. */
export function oneLine(text: string): string {
  // Most records are one line already: the expression is run only on those that are not.
  const flat =
    text.indexOf('\n') === -1 && text.indexOf('\r') === -1 ? text : text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  return flat.length > 2000 ? `${flat.slice(0, 1999)}…` : flat;
}

function isList(detections: Detection | readonly Detection[]): detections is readonly Detection[] {
  return Array.isArray(detections);
}
