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
    detections: Detection | readonly Detection[] | undefined = [],
  ): void {
    const list: readonly Detection[] =
      detections === undefined ? [] : isList(detections) ? detections : [detections];
    this.records++;
    const base = {
      at: at && Number.isFinite(at.getTime()) ? at.toISOString() : null,
      artifact: this.name,
      file,
      record: oneLine(record),
    };
    if (list.length === 0) {
      this.scan.timeline.push(base);
      return;
    }
    for (const detection of list) {
      this.detections++;
      this.scan.timeline.push({ ...base, detection });
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
  readonly timeline: TimelineEvent[] = [];
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
    const timeline = this.timeline
      .map((event, order) => ({ event, order }))
      .sort((a, b) =>
        a.event.at === b.event.at
          ? a.order - b.order
          : a.event.at === null
            ? 1
            : b.event.at === null
              ? -1
              : a.event.at < b.event.at
                ? -1
                : 1,
      )
      .map((x) => x.event);
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
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  return flat.length > 2000 ? `${flat.slice(0, 1999)}…` : flat;
}

function isList(detections: Detection | readonly Detection[]): detections is readonly Detection[] {
  return Array.isArray(detections);
}
