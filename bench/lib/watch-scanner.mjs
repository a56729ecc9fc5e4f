/**
 * The server watch benchmark's scanner process: `scanLogs` (what `rempart watch scan` runs) over
 * the generated logs with every shipped and SigmaHQ rule, and the same scan with no rule (which
 * reads each line's head alone: no line needs its fields), in its own process so that bench/watch.mjs can pin it to one core. It sends once over IPC:
 *
 *   { type: 'scanned', rules, scan, parse, lines, unparsed, hits, byRule, peakRssMb }
 *
 * `rules`: loading and compiling the rules (left out of the rate: the scan is given them compiled);
 * `scan` and `parse` (the scan with no rule): wall and CPU ms. On failure it sends { type: 'error', message } and exits 1.
 */
import process from 'node:process';
import {
  Detector,
  loadRuleFiles,
  scanLogs,
  shippedRulesDir,
  sigmaHqRulesDir,
} from '@rempart/server/serverwatch';
import { peakRssMb, timed } from './measure.mjs';

try {
  const files = process.argv.slice(2);
  // Compiled here, so that compiling is timed with loading, not with the scan.
  const rules = await timed(() => {
    const loaded = loadRuleFiles([shippedRulesDir(), sigmaHqRulesDir()]);
    return { loaded, detector: new Detector(loaded) };
  });
  const none = { detections: [], filters: [], correlations: [], skipped: [], files: 0 };
  const parse = await timed(() => scanLogs({ rules: none, files, format: 'auto', onHit: () => undefined }));
  let hits = 0;
  const scan = await timed(() =>
    scanLogs({
      rules: rules.value.loaded,
      detector: rules.value.detector,
      files,
      format: 'auto',
      onHit: () => hits++,
    }),
  );
  process.send({
    type: 'scanned',
    rules: {
      ms: rules.ms,
      cpuMs: rules.cpuMs,
      detections: rules.value.loaded.detections.length,
      correlations: rules.value.loaded.correlations.length,
      skipped: rules.value.loaded.skipped.length,
    },
    parse: { ms: parse.ms, cpuMs: parse.cpuMs },
    scan: { ms: scan.ms, cpuMs: scan.cpuMs },
    lines: scan.value.lines,
    unparsed: scan.value.unparsed,
    hits,
    byRule: scan.value.byRule,
    peakRssMb: peakRssMb(),
  });
  process.disconnect?.();
} catch (error) {
  process.send?.({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
