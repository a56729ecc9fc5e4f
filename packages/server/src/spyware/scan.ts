/**
 * What every scanner shares: the timeline it writes record by record, each artifact's status
 * (read, missing, failed: a module that fails is reported and the scan goes on), the device's
 * identity as the artifacts tell it, and progress for the console and the terminal.
 */
import type { ArtifactStatus, Detection, ScanKind, ScanReport } from '@rempart/core';
import type { IndicatorMatcher } from './matcher.js';
import { MAX_DATE_MS, Timeline, type TextSpans } from './timeline.js';

export { IsoTimes, oneLine, Timeline, type TextSpans } from './timeline.js';

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

/** Where an artifact's records are, to undo them: `ArtifactRecorder.mark` and `rollback`. */
export interface RecordMark {
  length: number;
  records: number;
  detections: number;
}

/** The records of one artifact. */
export class ArtifactRecorder {
  records = 0;
  detections = 0;
  status: ArtifactStatus['status'] = 'read';
  message: string | undefined;
  private lastFile: string | undefined;
  private lastSource = 0;

  constructor(
    readonly name: string,
    readonly matcher: IndicatorMatcher,
    private readonly scan: ScanRecorder,
  ) {}

  /**
   * Adds a record to the timeline, once per detection when it has several (a message naming two
   * spyware links is two findings), once when it has none. `at`: a date, Unix milliseconds, or
   * null (or NaN) when the record does not say.
   */
  record(
    at: Date | number | null,
    file: string,
    record: string,
    detections: Detection | readonly Detection[] | undefined = undefined,
  ): void {
    // A module reads its records from one file after the other: the source is looked up once.
    if (file !== this.lastFile) {
      this.lastFile = file;
      this.lastSource = this.scan.timeline.source(this.name, file);
    }
    this.recordParts(
      at === null ? Number.NaN : typeof at === 'number' ? at : at.getTime(),
      this.lastSource,
      Number.NaN,
      record,
      detections,
    );
  }

  /**
   * The source of records told in parts (`source`'s `before`, a number, its `after`, a text): a
   * table of a million rows says the same words around each row's id, and only the id and the
   * text differ. The record's line is made when the timeline is told. `spans`: where the texts of
   * its records lie, for those given with a span (see `recordParts`).
   */
  source(file: string, before: string, after: string, spans?: TextSpans): number {
    return this.scan.timeline.source(this.name, file, before, after, spans);
  }

  /**
   * Adds a record told in parts (see `source`), at `ms` (Unix milliseconds; NaN: no time). When
   * `start` ≥ 0 and the source has spans, the timeline keeps the text's span `start`…`end` there
   * instead of `text` (which must be the text at that span).
   */
  recordParts(
    ms: number,
    source: number,
    n: number,
    text: string,
    detections: Detection | readonly Detection[] | undefined = undefined,
    start = -1,
    end = -1,
  ): void {
    this.records++;
    const { timeline } = this.scan;
    // No list is made for the usual record, with no detection or one: a million records would
    // leave a million empty arrays to the garbage collector.
    if (detections === undefined || (isList(detections) && detections.length === 0)) {
      timeline.addSpan(ms, source, n, text, start, end);
    } else if (!isList(detections)) {
      this.detections++;
      timeline.addSpan(ms, source, n, text, start, end, detections);
    } else {
      for (const detection of detections) {
        this.detections++;
        timeline.addSpan(ms, source, n, text, start, end, detection);
      }
    }
  }

  /** Where the artifact's records end now. */
  mark(): RecordMark {
    return { length: this.scan.timeline.length, records: this.records, detections: this.detections };
  }

  /** Undoes every record added since `mark`: a table read again another way. */
  rollback(mark: RecordMark): void {
    this.scan.timeline.truncate(mark.length);
    this.records = mark.records;
    this.detections = mark.detections;
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

/**
 * What a scanner gives: the report, its timeline held in columns and told on demand (iterated,
 * or written by `JSON.stringify`), its detections told already.
 */
export interface ScanResult extends Omit<ScanReport, 'timeline'> {
  timeline: Timeline;
}

/** `result` with every event of its timeline told: the report as its JSON holds it, for small scans. */
export function toldReport(result: ScanResult): ScanReport {
  return { ...result, timeline: [...result.timeline] };
}

export class ScanRecorder {
  readonly timeline = new Timeline();
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

  /** Runs the modules one after the other; one that throws is marked failed, the others still run. */
  async run(modules: readonly ArtifactModule[]): Promise<ScanResult> {
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
      timeline: this.timeline,
      detections: this.timeline.found(),
    };
  }
}

/** Apple's reference date (2001-01-01T00:00:00Z) in Unix milliseconds. */
const APPLE_EPOCH_MS = Date.UTC(2001, 0, 1);

/**
 * A Core Data / Mac absolute time (seconds since 2001-01-01, or nanoseconds in newer iOS
 * databases such as sms.db) in Unix milliseconds; NaN for 0, nothing, or a time no date can hold.
 */
export function appleMs(value: number | bigint | null | undefined): number {
  if (value === null || value === undefined) return Number.NaN;
  let seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds === 0) return Number.NaN;
  // Nanoseconds since 2001 are above 1e15 for any date after 2001-01-12.
  if (Math.abs(seconds) > 1e12) seconds /= 1e9;
  const ms = APPLE_EPOCH_MS + seconds * 1000;
  return Math.abs(ms) <= MAX_DATE_MS ? ms : Number.NaN;
}

/** `appleMs` as a date; null when it is NaN. */
export function appleTime(value: number | bigint | null | undefined): Date | null {
  const ms = appleMs(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function isList(detections: Detection | readonly Detection[]): detections is readonly Detection[] {
  return Array.isArray(detections);
}
