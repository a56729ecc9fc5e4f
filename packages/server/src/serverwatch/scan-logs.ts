/**
 * The offline scan of `rempart watch scan`, as Chainsaw or Hayabusa scan logs: every line of the
 * given files parsed (in the format given, or the one their first lines show), run through the
 * rules, each hit handed over as it comes; the correlations judged at the end. Files are read in
 * chunks and split into lines by hand: a million lines through `readline` cost more than the rules.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { RempartError } from '@rempart/core';
import { Detector, type WatchHit } from './detector.js';
import { detectFormat, parseLine, type LogFormat, type ParseContext } from './parsers/index.js';
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
/** Lines read to tell the format of a file under `--format auto`. */
const SAMPLE_LINES = 50;

/** Scans `files` with `rules`; throws `validation_failed` for a file that cannot be read. */
export function scanLogs(options: LogScanOptions): LogScanSummary {
  const detector = new Detector(options.rules);
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
  try {
    for (const file of opened) {
      const format =
        options.format === 'auto' ? detectFormat(firstLines(file.fd, SAMPLE_LINES)) : options.format;
      const context: ParseContext = { source: file.path };
      let lines = 0;
      let unparsed = 0;
      eachLine(file.fd, (line, bytes) => {
        const event = parseLine(line, format, context);
        lines++;
        if (!event.parsed) unparsed++;
        for (const found of detector.push(event)) hit(found);
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

/** Calls `visit` with each line of the file (without its `\n` or `\r\n`) and the bytes read so far. */
function eachLine(fd: number, visit: (line: string, bytes: number) => void): void {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let bytes = 0;
  for (;;) {
    const read = readSync(fd, buffer, 0, CHUNK, bytes);
    if (read === 0) break;
    bytes += read;
    const text = carry + decoder.write(buffer.subarray(0, read));
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      if (stop > start) visit(text.slice(start, stop), bytes);
      start = end + 1;
    }
    carry = text.slice(start);
  }
  const rest = carry + decoder.end();
  if (rest.length > 0 && rest !== '\r') visit(rest.endsWith('\r') ? rest.slice(0, -1) : rest, bytes);
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
