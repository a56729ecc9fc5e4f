import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Detector, type WatchHit } from './detector.js';
import { writeMailDay } from './parsers/mail-day.js';
import { loadRuleFiles, shippedRulesDir } from './rules.js';
import { eachLine, scanLogs } from './scan-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'rempart-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The lines of a file as eachLine gives them, read `chunk` bytes at a time. */
function linesOf(content: Buffer, chunk: number): { lines: string[]; bytes: number[] } {
  const path = join(dir, 'log');
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  const lines: string[] = [];
  const bytes: number[] = [];
  try {
    eachLine(
      fd,
      (line, read) => {
        lines.push(line);
        bytes.push(read);
      },
      chunk,
    );
  } finally {
    closeSync(fd);
  }
  return { lines, bytes };
}

/** The reference: the whole file decoded at once, split on `\n` or `\r\n`, empty lines left out. */
const reference = (content: Buffer): string[] =>
  content
    .toString('utf8')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line !== '');

describe('reading a log file line by line', () => {
  it('gives the lines of the file decoded whole, whatever the chunk size and where chunks cut', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('\n', '\r\n', '\r', 'é', '€', '😀', '\n\n'),
      // Bytes that are not UTF-8, cut sequences among them: replaced as a whole-file decoding would.
      fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(piece, fc.boolean()), { maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        (pieces, chunk) => {
          const content = Buffer.concat(
            pieces.map(([text, raw]) => (raw ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8'))),
          );
          const { lines, bytes } = linesOf(content, chunk);
          expect(lines).toEqual(reference(content));
          // Progress only moves forward and ends at the file's size.
          expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
          if (bytes.length > 0) expect(bytes.at(-1)).toBeLessThanOrEqual(content.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds a line longer than its buffer whole, and the last line without a newline', () => {
    const long = 'x'.repeat(1000);
    const { lines } = linesOf(Buffer.from(`a\r\n${long}\nb\r\n\r\nlast`), 16);
    expect(lines).toEqual(['a', long, 'b', 'last']);
  });
});

describe('scanning log files', () => {
  it('gives the same hits and counts with the rules compiled beforehand as with the rules alone', async () => {
    const written = await writeMailDay(dir, { seed: 5, lines: 4000 });
    const rules = loadRuleFiles([shippedRulesDir()]);
    const files = Object.values(written.files);
    const scan = (detector?: Detector) => {
      const hits: WatchHit[] = [];
      const summary = scanLogs({
        rules,
        ...(detector === undefined ? {} : { detector }),
        files,
        format: 'auto',
        onHit: (hit) => hits.push(hit),
      });
      return { summary, hits: hits.map((h) => [h.rule.id, h.time, h.events.map((e) => e.raw)]) };
    };
    const alone = scan();
    expect(alone.summary.lines).toBe(written.lines);
    // The attack in the day is found: the comparison is of something.
    expect(alone.summary.hits).toBeGreaterThan(0);
    expect(scan(new Detector(rules))).toEqual(alone);
  });
});
