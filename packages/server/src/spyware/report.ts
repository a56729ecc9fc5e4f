/**
 * A scan's report as people read it: the detections for `--json` (each with the indicator's type
 * and value, the malware, the artifact and the record), and a self-contained HTML page with the
 * device, each artifact's status, the detections and the whole timeline, to attach to a case file.
 */
import type { ScanReport, TimelineEvent } from '@rempart/core';

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
export function detectionLines(report: ScanReport): DetectionLine[] {
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
export function malwareFound(report: ScanReport): { name: string; detections: number }[] {
  const counts = new Map<string, number>();
  for (const event of report.detections) {
    const names = event.detection?.malware.length ? event.detection.malware : ['unknown'];
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts]
    .map(([name, detections]) => ({ name, detections }))
    .sort((a, b) => b.detections - a.detections || a.name.localeCompare(b.name));
}

const KIND_TITLES: Record<ScanReport['kind'], string> = {
  'ios-backup': 'iOS backup',
  sysdiagnose: 'iOS sysdiagnose',
  'android-bugreport': 'Android bug report',
  androidqf: 'Android acquisition (androidqf)',
};

/** The report as one HTML page, with no script and nothing loaded from elsewhere. */
export function renderHtmlReport(
  report: ScanReport,
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
  const timeline = report.timeline.slice(0, limit).map(row).join('');
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
