import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.js';

const MAX = 256;

const splitAll = (chunks: Buffer[], max = MAX) => {
  const splitter = new LineSplitter(max);
  const lines: string[] = [];
  for (const chunk of chunks) lines.push(...splitter.push(chunk));
  return { splitter, lines };
};

/** `bytes` cut at the given offsets. */
const cut = (bytes: Buffer, at: number[]) => {
  const points = [...new Set(at.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
};

const line = fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, ' '));

describe('splitting a file into lines', () => {
  it('ends lines at LF, drops a CR before it and skips empty lines', () => {
    const { lines } = splitAll([Buffer.from('a\r\n\nb\n\r\nc')]);
    expect(lines).toEqual(['a', 'b']);
  });

  it('holds an unfinished line until its LF, and gives it up when flushed', () => {
    const splitter = new LineSplitter(MAX);
    expect(splitter.push(Buffer.from('half'))).toEqual([]);
    expect(splitter.push(Buffer.from(' line\nnext'))).toEqual(['half line']);
    expect(splitter.flush()).toBe('next');
    expect(splitter.flush()).toBeUndefined();
  });

  it('skips the rest of a line after a cut and resumes at the next', () => {
    const { lines, splitter } = splitAll([Buffer.from(`${'a'.repeat(600)}\nb\n`)]);
    expect(lines).toEqual(['a'.repeat(MAX), 'b']);
    expect(splitter.truncated).toBe(1);
  });

  it('yields the same lines however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 30 }), (written, at) => {
        const bytes = Buffer.from(written.map((l) => `${l}\n`).join(''), 'utf8');
        const { lines, splitter } = splitAll(cut(bytes, at), 1024);
        expect(lines).toEqual(written.filter((l) => l !== ''));
        expect(splitter.buffered).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('splits any byte stream the same way, whole or in random chunks', () => {
    const byte = fc.oneof(fc.constantFrom(...Buffer.from('ab\n\r')), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 1500 }), fc.array(fc.nat(), { maxLength: 40 }), (bytes, at) => {
        const stream = Buffer.from(bytes);
        const whole = splitAll([stream]);
        const chunked = splitAll(cut(stream, at));
        expect(chunked.lines).toEqual(whole.lines);
        expect(chunked.splitter.flush()).toEqual(whole.splitter.flush());
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on random bytes and never holds or yields more than the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 10 }), (chunks) => {
        const splitter = new LineSplitter(MAX);
        for (const chunk of chunks) {
          // Each octet decodes to at most one UTF-16 unit (a bad one to U+FFFD).
          for (const l of splitter.push(Buffer.from(chunk))) expect(l.length).toBeLessThanOrEqual(MAX);
          expect(splitter.buffered).toBeLessThanOrEqual(MAX);
        }
        expect((splitter.flush() ?? '').length).toBeLessThanOrEqual(MAX);
      }),
      { numRuns: 500 },
    );
  });
});
