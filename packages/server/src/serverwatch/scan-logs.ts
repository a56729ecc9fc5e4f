/**
 * The offline scan of `rempart watch scan`, as Chainsaw or Hayabusa scan logs: every line of the
 * given files parsed (in the format given, or the one their first lines show), run through the
 * rules, each hit handed over as it comes; the correlations judged at the end. Files are read in
 * chunks and split into lines by hand: a million lines through `readline` cost more than the rules.
 * Each line's head is read first (its time, log source, and what its parser could compose:
 * parsers/index.ts); a line whose head shows that no rule can match it is counted and moves the
 * correlations' time on, without its fields being read. Most lines of a mail server are such.
 */
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { RempartError } from '@rempart/core';
import { Detector, type WatchHit } from './detector.js';
import {
  detectFormat,
  parseLine,
  readHead,
  W3C_LOGSOURCE,
  type LogFormat,
  type ParseContext,
} from './parsers/index.js';
import type { RuleFiles } from './rules.js';

export interface LogScanProgress {
  file: string;
  /** Bytes read of every file so far, and of all of them. */
  bytes: number;
  totalBytes: number;
  lines: number;
}

export interface LogScanOptions {
  rules: RuleFiles;
  /**
   * The rules compiled already (`new Detector(rules)`, not yet given any event): the scan then
   * starts at once, and its rate leaves compiling out, as a benchmark measures it.
   */
  detector?: Detector;
  files: readonly string[];
  format: LogFormat | 'auto';
  onHit: (hit: WatchHit) => void;
  onProgress?: (progress: LogScanProgress) => void;
}

export interface LogScanSummary {
  files: { path: string; format: LogFormat; lines: number; unparsed: number }[];
  lines: number;
  unparsed: number;
  hits: number;
  /** Hits by rule title, most first. */
  byRule: { title: string; level: string | undefined; hits: number }[];
  detectionRules: number;
  correlationRules: number;
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
/** Lines read to tell the format of a file under `--format auto`. */
const SAMPLE_LINES = 50;

/**
 * The Node options a scan runs best with on `cpus` CPUs. On one, V8's optimizing compiler works on
 * the scan's own thread (`--no-concurrent-recompilation`): its background thread would only take
 * turns with the scan on that CPU, while the scan ran unoptimized code waiting for it (measured on
 * the benchmark's million lines: 1.07x the events/s, median of eight alternated pairs).
 * `rempart watch scan` starts itself again with them when they are missing.
 */
export function scanNodeOptions(cpus: number): string[] {
  return cpus <= 1 ? ['--no-concurrent-recompilation'] : [];
}

/** Scans `files` with `rules`; throws `validation_failed` for a file that cannot be read. */
export function scanLogs(options: LogScanOptions): LogScanSummary {
  const detector = options.detector ?? new Detector(options.rules);
  const counts = new Map<string, { title: string; level: string | undefined; hits: number }>();
  let hits = 0;
  const hit = (found: WatchHit) => {
    hits++;
    const count = counts.get(found.rule.id);
    if (count === undefined)
      counts.set(found.rule.id, { title: found.rule.title, level: found.rule.level, hits: 1 });
    else count.hits++;
    options.onHit(found);
  };
  const opened = options.files.map((path) => {
    try {
      const fd = openSync(path, 'r');
      return { path, fd, size: fstatSync(fd).size };
    } catch (error) {
      throw RempartError.validation(
        `${path}: cannot be read (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  });
  const totalBytes = opened.reduce((sum, f) => sum + f.size, 0);
  const summary: LogScanSummary = {
    files: [],
    lines: 0,
    unparsed: 0,
    hits: 0,
    byRule: [],
    detectionRules: detector.detectionRules,
    correlationRules: options.rules.correlations.length,
  };
  let bytesBefore = 0;
  const startedAt = Date.now();
  const seam = jointSeam(detector);
  try {
    for (const file of opened) {
      const format =
        options.format === 'auto' ? detectFormat(firstLines(file.fd, SAMPLE_LINES)) : options.format;
      const context: ParseContext = { source: file.path, receivedAt: startedAt, jointSeam: seam };
      let lines = 0;
      let unparsed = 0;
      eachLine(file.fd, (line, bytes) => {
        lines++;
        // Most lines are matched by no rule, which their head shows (parsers/index.ts): those
        // are counted and move the correlations' time on, without their fields.
        const head = readHead(line, format, context);
        if (head !== undefined && !detector.mayMatch(head.logsource, line, head.composedTexts)) {
          if (!head.parsed) unparsed++;
          for (const found of detector.pass(head.time)) hit(found);
        } else {
          const logsource = head?.logsource;
          const event = parseLine(line, format, context);
          if (!event.parsed) unparsed++;
          for (const found of detector.push(event, event.logsource === logsource)) hit(found);
        }
        if ((lines & 0xffff) === 0)
          options.onProgress?.({
            file: file.path,
            bytes: bytesBefore + bytes,
            totalBytes,
            lines: summary.lines + lines,
          });
      });
      bytesBefore += file.size;
      summary.files.push({ path: file.path, format, lines, unparsed });
      summary.lines += lines;
      summary.unparsed += unparsed;
      options.onProgress?.({ file: file.path, bytes: bytesBefore, totalBytes, lines: summary.lines });
    }
  } finally {
    for (const file of opened) closeSync(file.fd);
  }
  for (const found of detector.flush()) hit(found);
  summary.hits = hits;
  summary.byRule = [...counts.values()].sort((a, b) => b.hits - a.hits || a.title.localeCompare(b.title));
  return summary;
}

/**
 * How many characters on each side of a W3C entry's `cs-uri` joint a line's head must give for the
 * detector's rules (parsers/index.ts, `ParseContext.jointSeam`).
 */
export function jointSeam(detector: Detector): number {
  return Math.max(0, detector.longestLiteralHolding('?', W3C_LOGSOURCE) - 1);
}

/**
 * Calls `visit` with each line of the file (without its `\n` or `\r\n`) and the bytes read so far.
 * Each line is decoded on its own from the bytes, the bytes after a chunk's last newline carried to
 * the next read: a newline byte is never part of a longer UTF-8 sequence, so a line decodes as it
 * would within the whole file. A line decoded alone is a string of its own, which the parsers and
 * the rules read faster, character by character, than a slice of a chunk's string.
 * `chunk`: the bytes read at a time (the tests make it small).
 */
export function eachLine(
  fd: number,
  visit: (line: string, bytes: number) => void,
  chunk: number = CHUNK,
): void {
  let buffer = Buffer.allocUnsafe(chunk);
  let held = 0;
  let bytes = 0;
  for (;;) {
    // A line longer than the buffer: the buffer grows to hold it whole.
    if (held === buffer.length) {
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger, 0, 0, held);
      buffer = larger;
    }
    const read = readSync(fd, buffer, held, buffer.length - held, bytes);
    if (read === 0) break;
    bytes += read;
    const filled = buffer.subarray(0, held + read);
    // Bytes of ASCII alone (most logs' whole chunks) decode alike as Latin-1, which copies each
    // byte as it is, without the checks UTF-8 decoding makes.
    const encoding = isAscii(filled) ? 'latin1' : 'utf8';
    let start = 0;
    for (let newline = filled.indexOf(NEWLINE); newline !== -1; newline = filled.indexOf(NEWLINE, start)) {
      const stop = newline > start && filled[newline - 1] === RETURN ? newline - 1 : newline;
      if (stop > start) visit(filled.toString(encoding, start, stop), bytes);
      start = newline + 1;
    }
    buffer.copy(buffer, 0, start, filled.length);
    held = filled.length - start;
  }
  const last = held > 0 && buffer[held - 1] === RETURN ? held - 1 : held;
  if (last > 0) visit(buffer.toString('utf8', 0, last), bytes);
}

/** The first `count` lines of the file, for telling its format. */
function firstLines(fd: number, count: number): string[] {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const read = readSync(fd, buffer, 0, buffer.length, 0);
  return buffer
    .toString('utf8', 0, read)
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .slice(0, count);
}
