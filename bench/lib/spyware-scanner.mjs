/**
 * The spyware benchmark's scanner process: one scan of an iOS backup with Rempart's
 * scanIosBackup (the built library, what `rempart spyware scan` runs) against every shipped
 * bundle. It runs in its own process so that bench/spyware.mjs can pin it to one core and read
 * its peak memory alone. Over the IPC channel it sends, once:
 *
 *   { type: 'scanned', indicators, scan, modules, peakRssMb, report, split, detections, timeline }
 *
 * - `indicators`: loading the bundles and building the matcher (ms, CPU ms), left out of the scan;
 * - `scan`: scanIosBackup from the call to the report (wall ms, CPU ms);
 * - `modules`: each module's wall and CPU ms, from the scan's progress events;
 * - `peakRssMb`: the process's peak resident memory (VmHWM) when the scan returns, before the split;
 * - `report`: then writing the whole timeline as the JSON report (`rempart spyware scan --report`
 *   writes it so) to /dev/null: wall and CPU ms, bytes, and the peak memory after it;
 * - `split`: a second pass over sms.db and History.db, timing apart what the messages and history
 *   modules do: open (read the file and hand it to SQLite), read the rows, match them; the rest of
 *   those modules' time is the timeline (records built and kept);
 * - `detections`: artifact, the start of the record and the indicator of each detection.
 *
 * Then it exits. On failure it sends { type: 'error', message } and exits 1.
 */
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import {
  IndicatorMatcher,
  loadIndicatorFolder,
  scanIosBackup,
  writeJsonReport,
} from '@rempart/server/spyware';
import { cpuMs, peakRssMb, timed } from './measure.mjs';

// Internal modules of the built library (not exported by the package): the row readers the
// messages and history modules use, timed here on their own.
const dist = new URL('../../packages/server/dist/spyware/ios/', import.meta.url);
const { openDatabase } = await import(new URL('sqlite.js', dist).href);
const { eachMessage } = await import(new URL('messages.js', dist).href);
const { eachVisit } = await import(new URL('safari.js', dist).href);

async function split(files, matcher) {
  const open = await timed(async () => ({
    sms: await openDatabase(readFileSync(files.sms), 'sms.db'),
    history: await openDatabase(readFileSync(files.history), 'History.db'),
  }));
  const { sms, history } = open.value;
  try {
    // Read alone, each row let go at once as the modules do (a text that cannot name an
    // indicator left undecoded, as the messages module leaves it); then the texts kept, untimed,
    // for the match alone.
    let rows = 0;
    const wanted = IndicatorMatcher.utf8MayName;
    const read = await timed(() => {
      eachMessage(sms, () => rows++, undefined, wanted);
      eachVisit(history, () => rows++);
    });
    const messages = [];
    const visits = [];
    eachMessage(sms, (m) => messages.push({ ...m }), undefined, wanted);
    eachVisit(history, (v) => visits.push(v.url));
    // As the modules match: every text, the handle when it is an address, each page once.
    let found = 0;
    const match = await timed(() => {
      for (const m of messages) {
        found += matcher.text(m.text).length;
        if (m.handle.includes('@') && matcher.email(m.handle)) found++;
      }
      const seen = new Map();
      for (const url of visits) {
        if (!seen.has(url)) seen.set(url, matcher.url(url));
        if (seen.get(url)) found++;
      }
    });
    return {
      open: { ms: open.ms, cpuMs: open.cpuMs },
      read: { ms: read.ms, cpuMs: read.cpuMs, rows, messages: messages.length, visits: visits.length },
      match: { ms: match.ms, cpuMs: match.cpuMs, found },
    };
  } finally {
    sms.close();
    history.close();
  }
}

/** What the parent checks and reports of a scan: each module's records and status, the detections. */
function summarise(report) {
  return {
    records: Object.fromEntries(report.artifacts.map((a) => [a.artifact, a.records])),
    statuses: Object.fromEntries(report.artifacts.map((a) => [a.artifact, a.status])),
    timeline: report.timeline.length,
    detections: report.detections.map((e) => ({
      artifact: e.artifact,
      record: e.record.slice(0, 300),
      indicator: e.detection?.indicator,
    })),
  };
}

async function main() {
  const [dir, smsFile, historyFile] = process.argv.slice(2);
  const indicators = await timed(() => IndicatorMatcher.from(loadIndicatorFolder()));
  const matcher = indicators.value;

  const modules = {};
  let current;
  const mark = () => ({ at: performance.now(), cpu: cpuMs() });
  const scan = await timed(() =>
    scanIosBackup(dir, {
      matcher,
      onProgress: ({ artifact }) => {
        const now = mark();
        if (current) modules[current.name] = { ms: now.at - current.at, cpuMs: now.cpu - current.cpu };
        current = artifact === '' ? undefined : { name: artifact, ...now };
      },
    }),
  );
  const peak = peakRssMb();
  const found = summarise(scan.value);
  const devNull = openSync('/dev/null', 'w');
  let bytes = 0;
  const report = await timed(() =>
    writeJsonReport(scan.value, (chunk) => {
      bytes += Buffer.byteLength(chunk);
      writeSync(devNull, chunk);
    }),
  );
  closeSync(devNull);
  const peakAfterReport = peakRssMb();
  // The timeline is let go before the second pass.
  scan.value = undefined;

  process.send({
    type: 'scanned',
    indicators: { ms: indicators.ms, cpuMs: indicators.cpuMs, count: matcher.count },
    scan: { ms: scan.ms, cpuMs: scan.cpuMs },
    modules,
    ...found,
    peakRssMb: peak,
    report: { ms: report.ms, cpuMs: report.cpuMs, bytes, peakRssMb: peakAfterReport },
    split: await split({ sms: smsFile, history: historyFile }, matcher),
    // The whole process's CPU, for the parent to tell its own from other programs' on the core.
    processCpuMs: cpuMs(),
  });
}

main().then(
  () => process.disconnect?.(),
  (error) => {
    process.send?.({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
