/**
 * The leak check benchmark's scanner process: Rempart's LeakScanner (what the leak check page
 * runs: OCR, QR codes and barcodes, metadata, redaction) with a given number of OCR workers,
 * scanning the image files bench/leakcheck.mjs names. It runs in its own process so that the
 * benchmark can pin it, OCR threads included, to one core. Each scan is timed here, from the
 * file's bytes in memory to the result, so the message round trip is left out. Driven over
 * the IPC channel:
 *
 *   → { type: 'start', workers, languages }   ← { type: 'started', ms }   the pool is ready
 *   → { type: 'scan', id, file }   ← { type: 'scanned', id, ms, views, findings }
 *   → { type: 'stop' }             the scanner is closed and the process exits 0
 *
 * Scans sent together run together (the pool shares them out). A failure is reported as
 * { type: 'error', id, message } and the process exits 1.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { LeakScanner } from '@rempart/server/leakcheck';

const report = (message) => process.send?.(message);
let scanner;

function fail(error, id) {
  report({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}

async function scan({ id, file }) {
  const bytes = await readFile(file);
  const began = performance.now();
  const result = await scanner.scan(bytes, { redact: true });
  const ms = performance.now() - began;
  report({
    type: 'scanned',
    id,
    ms,
    views: result.views,
    findings: result.findings.map((f) => ({ kind: f.kind, source: f.source })),
    redacted: result.redacted?.length ?? 0,
  });
}

process.on('message', (message) => {
  switch (message.type) {
    case 'start': {
      const began = performance.now();
      LeakScanner.start({ workers: message.workers, languages: message.languages }).then((started) => {
        scanner = started;
        report({ type: 'started', ms: performance.now() - began, workers: started.workers });
      }, fail);
      break;
    }
    case 'scan':
      scan(message).catch((error) => fail(error, message.id));
      break;
    case 'stop':
      void (scanner?.close() ?? Promise.resolve()).finally(() => process.disconnect?.());
      break;
    default:
      fail(new Error(`unknown message ${JSON.stringify(message.type)}`));
  }
});
