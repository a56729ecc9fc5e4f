/**
 * Detections as a security team reads them, the way MVT's reports list them: when, in which
 * artifact and record, which indicator (type and value) matched what, the malware it names and
 * the bundle it came from.
 */
import type { IndicatorType, TimelineEvent } from '@rempart/core';

export interface DetectionRow {
  /** Stable within one list, for React keys. */
  key: string;
  at: string | null;
  artifact: string;
  file: string;
  record: string;
  type: IndicatorType;
  indicator: string;
  /** What in the record matched, when it says more than the indicator (a whole URL, a process). */
  matched: string | undefined;
  malware: readonly string[];
  source: string;
}

/** The rows of the events that carry a detection, in the order given (the scan's, oldest first). */
export function detectionRows(events: readonly TimelineEvent[]): DetectionRow[] {
  const rows: DetectionRow[] = [];
  events.forEach((event, index) => {
    const detection = event.detection;
    if (detection === undefined) return;
    rows.push({
      key: `${index} ${detection.indicatorId} ${event.artifact}`,
      at: event.at,
      artifact: event.artifact,
      file: event.file,
      record: event.record,
      type: detection.type,
      indicator: detection.indicator,
      matched: detection.matched === detection.indicator ? undefined : detection.matched,
      malware: detection.malware,
      source: detection.source,
    });
  });
  return rows;
}

/**
 * Every malware named, once, in a stable order; case is kept as published, duplicates that differ
 * only by case are one name.
 *
 * @example
 *   malwareNames([['Pegasus'], ['pegasus', 'Predator']]) // → ['Pegasus', 'Predator']
 */
export function malwareNames(lists: readonly (readonly string[])[]): string[] {
  const seen = new Map<string, string>();
  for (const list of lists)
    for (const name of list) {
      const trimmed = name.trim();
      const key = trimmed.toLocaleLowerCase();
      if (trimmed !== '' && !seen.has(key)) seen.set(key, trimmed);
    }
  return [...seen.values()].sort((a, b) => a.localeCompare(b));
}

/** A detection in one line, for a summary or a screen reader: `domain weather4free.com (Pegasus)`. */
export function detectionLine(
  row: Pick<DetectionRow, 'type' | 'indicator' | 'malware'>,
  typeName: string,
): string {
  const malware = malwareNames([row.malware]);
  return malware.length === 0
    ? `${typeName} ${row.indicator}`
    : `${typeName} ${row.indicator} (${malware.join(', ')})`;
}

/** The artifacts that appear in a list of events, in first-seen order: the timeline's filter offers them. */
export function artifactsOf(events: readonly Pick<TimelineEvent, 'artifact'>[]): string[] {
  return [...new Set(events.map((event) => event.artifact))];
}
