/**
 * A scan's report as people read it: the detections for `--json` (each with the indicator's type
 * and value, the malware, the artifact and the record), and a self-contained HTML page with the
 * device, each artifact's status, the detections and the whole timeline, to attach to a case file.
 */
import type { ScanReport, TimelineEvent } from '@rempart/core';
import { Timeline, type TimelineVisitor } from './timeline.js';

/**
 * A report as the pages and files read it: the timeline an array (read back from the database) or
 * a scan's `Timeline`, told as it is read.
 */
export type ReadableReport = Omit<ScanReport, 'timeline'> & {
  timeline: Iterable<TimelineEvent> & { readonly length: number };
};

/** A detection as `rempart spyware scan --json` prints it. */
export interface DetectionLine {
  at: string | null;
  artifact: string;
  file: string;
  record: string;
  indicator: { type: string; value: string; id: string; source: string };
  malware: string[];
  matched: string;
}

/** The detections of a report, flattened for JSON. */
export function detectionLines(report: Pick<ScanReport, 'detections'>): DetectionLine[] {
  return report.detections.flatMap((event) =>
    event.detection
      ? [
          {
            at: event.at,
            artifact: event.artifact,
            file: event.file,
            record: event.record,
            indicator: {
              type: event.detection.type,
              value: event.detection.indicator,
              id: event.detection.indicatorId,
              source: event.detection.source,
            },
            malware: event.detection.malware,
            matched: event.detection.matched,
          },
        ]
      : [],
  );
}

/** The malware names of the detections, most found first; "unknown" for detections without one. */
export function malwareFound(report: Pick<ScanReport, 'detections'>): { name: string; detections: number }[] {
  const counts = new Map<string, number>();
  for (const event of report.detections) {
    const names = event.detection?.malware.length ? event.detection.malware : ['unknown'];
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts]
    .map(([name, detections]) => ({ name, detections }))
    .sort((a, b) => b.detections - a.detections || a.name.localeCompare(b.name));
}

/**
 * Writes the report as JSON through `write`, in pieces: the timeline a thousand records at a time,
 * so that a phone's million records never make one string (V8 caps a string at 512 MiB), nor, from
 * a scan's `Timeline`, an event object each. Parsed, it is `ScanReport`, the timeline last.
 */
export function writeJsonReport(report: ReadableReport, write: (chunk: string) => void): void {
  const { timeline, ...rest } = report;
  const head = JSON.stringify(rest, null, 2);
  // `rest` always has fields: the timeline goes after the last one.
  write(`${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "timeline": [`);
  let told = 0;
  let lines: string[] = [];
  // The artifact and file of a record as JSON, made once for each pair: records repeat them.
  const places = new Map<string, Map<string, string>>();
  const place = (artifact: string, file: string): string => {
    let byFile = places.get(artifact);
    if (byFile === undefined) places.set(artifact, (byFile = new Map<string, string>()));
    let json = byFile.get(file);
    if (json === undefined)
      byFile.set(file, (json = `"artifact":${jsonString(artifact)},"file":${jsonString(file)}`));
    return json;
  };
  const add: TimelineVisitor = (at, artifact, file, record, detection) => {
    // JSON.stringify(event) written by hand, the same keys in the same order (an ISO time holds
    // nothing to escape).
    lines.push(
      `${told === 0 ? '' : ','}\n    {"at":${at === null ? 'null' : `"${at}"`},${place(artifact, file)},"record":${jsonString(record)}${detection === undefined ? '' : `,"detection":${JSON.stringify(detection)}`}}`,
    );
    told++;
    if (lines.length === 1000) {
      write(lines.join(''));
      lines = [];
    }
  };
  if (timeline instanceof Timeline) timeline.each(add);
  else for (const e of timeline) add(e.at, e.artifact, e.file, e.record, e.detection);
  if (lines.length > 0) write(lines.join(''));
  write(`${told === 0 ? '' : '\n  '}]\n}\n`);
}

/** What JSON escapes in a string: quotes, backslashes, controls, and surrogates (paired or not). */
// eslint-disable-next-line no-control-regex -- the controls are what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)`, four times faster on the usual text that holds nothing to escape (each
 * call to JSON.stringify pays for a whole serializer).
 */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

const KIND_TITLES: Record<ScanReport['kind'], string> = {
  'ios-backup': 'iOS backup',
  sysdiagnose: 'iOS sysdiagnose',
  'android-bugreport': 'Android bug report',
  androidqf: 'Android acquisition (androidqf)',
};

/** The report as one HTML page, with no script and nothing loaded from elsewhere. */
export function renderHtmlReport(
  report: ReadableReport,
  options: { title?: string; timelineLimit?: number } = {},
): string {
  const limit = options.timelineLimit ?? 20_000;
  const found = malwareFound(report);
  const verdict =
    report.detections.length === 0
      ? '<p class="ok">No indicator of compromise was found.</p>'
      : `<p class="bad">${report.detections.length} detection${report.detections.length === 1 ? '' : 's'}: ${found
          .map((m) => `${esc(m.name)} (${m.detections})`)
          .join(', ')}. Treat the device as compromised until an analyst has reviewed them.</p>`;
  const device = Object.entries(report.device)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('');
  const artifacts = report.artifacts
    .map(
      (a) =>
        `<tr class="${a.status}"><td>${esc(a.artifact)}</td><td>${a.status}</td><td>${a.records}</td><td>${a.detections}</td><td>${esc(a.message ?? '')}</td></tr>`,
    )
    .join('');
  const row = (e: TimelineEvent) =>
    `<tr${e.detection ? ' class="hit"' : ''}><td>${esc(e.at ?? '')}</td><td>${esc(e.artifact)}</td><td>${esc(e.record)}</td><td>${
      e.detection
        ? `${esc(e.detection.type)} <code>${esc(e.detection.indicator)}</code> ${esc(e.detection.malware.join(', ') || 'unknown')} <small>${esc(e.detection.source)}</small>`
        : ''
    }</td></tr>`;
  const rows: string[] = [];
  for (const event of report.timeline) {
    if (rows.length === limit) break;
    rows.push(row(event));
  }
  const timeline = rows.join('');
  const cut =
    report.timeline.length > limit
      ? `<p>The first ${limit.toLocaleString('en-US')} of ${report.timeline.length.toLocaleString('en-US')} records; the JSON report holds them all.</p>`
      : '';
  const title = options.title ?? `Spyware check: ${KIND_TITLES[report.kind]}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.ok{color:#0a6b2d;font-weight:600}.bad{color:#a4000f;font-weight:600}
tr.hit td{background:#fde8ea}tr.failed td{background:#fff3cd}code{word-break:break-all}
</style></head><body>
<h1>${esc(title)}</h1>
${verdict}
<p>Scanned from ${esc(report.startedAt)} to ${esc(report.finishedAt)} against ${report.indicators.count.toLocaleString('en-US')} indicators (${esc(report.indicators.sources.join(', '))}).</p>
<h2>Device</h2><table>${device || '<tr><td>The artifacts do not say.</td></tr>'}</table>
<h2>Artifacts</h2><table><tr><th>artifact</th><th>status</th><th>records</th><th>detections</th><th>note</th></tr>${artifacts}</table>
<h2>Detections</h2><table><tr><th>time</th><th>artifact</th><th>record</th><th>indicator</th></tr>${report.detections.map(row).join('') || '<tr><td colspan="4">none</td></tr>'}</table>
<h2>Timeline</h2>${cut}<table><tr><th>time</th><th>artifact</th><th>record</th><th>indicator</th></tr>${timeline}</table>
</body></html>
`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
