import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyslogFramer, type FramedMessage } from './framer.js';

const MAX = 480;

/** Everything the framer yields for `chunks`, then for the end of the connection. */
const frameAll = (chunks: Buffer[], max = MAX) => {
  const framer = new SyslogFramer(max);
  const out: FramedMessage[] = [];
  for (const chunk of chunks) out.push(...framer.push(chunk));
  out.push(...framer.end());
  return { framer, out };
};

const octetCounted = (messages: string[]) =>
  Buffer.concat(
    messages.map((m) => {
      const body = Buffer.from(m, 'utf8');
      return Buffer.concat([Buffer.from(`${body.length} `), body]);
    }),
  );

const lineFramed = (messages: string[]) => Buffer.from(messages.map((m) => `${m}\n`).join(''), 'utf8');

/** `bytes` cut at the given offsets. */
const split = (bytes: Buffer, cuts: number[]) => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
};

// A syslog message: a PRI, then printable text (any Unicode), no line end inside.
const message = fc
  .tuple(fc.integer({ min: 0, max: 191 }), fc.string({ unit: 'grapheme', maxLength: 60 }))
  .map(([pri, text]) => `<${pri}>${text.replace(/[\r\n]/g, ' ')}`);

describe('the syslog stream framer', () => {
  it('reads octet-counted messages (RFC 6587 §3.4.1), line ends inside them included', () => {
    const stream = Buffer.from('11 <13>a\nb c d18 <14>second message');
    const { out, framer } = frameAll([stream]);
    expect(framer.framing).toBe('octet-counting');
    expect(out).toEqual([
      { text: '<13>a\nb c d', truncated: false },
      { text: '<14>second message', truncated: false },
    ]);
  });

  it('reads LF-terminated messages (RFC 6587 §3.4.2), dropping a CR before the LF and empty lines', () => {
    const { out, framer } = frameAll([Buffer.from('<13>one\r\n\n<14>two\n<15>three')]);
    expect(framer.framing).toBe('non-transparent');
    expect(out.map((m) => m.text)).toEqual(['<13>one', '<14>two', '<15>three']);
  });

  it('keeps a multi-byte character split across chunks whole', () => {
    const bytes = lineFramed(['<13>café ✓ 🛡️']);
    const { out } = frameAll([...bytes].map((b) => Buffer.from([b])));
    expect(out.map((m) => m.text)).toEqual(['<13>café ✓ 🛡️']);
  });

  it('cuts a counted message longer than the limit, skips its rest and reads the next one', () => {
    const long = `<13>${'x'.repeat(1000)}`;
    const { out, framer } = frameAll([octetCounted([long, '<14>after'])]);
    expect(out).toEqual([
      { text: long.slice(0, MAX), truncated: true },
      { text: '<14>after', truncated: false },
    ]);
    expect(framer.truncated).toBe(1);
  });

  it('cuts a line longer than the limit, skips to its end and reads the next one', () => {
    const long = `<13>${'y'.repeat(2000)}`;
    const { out } = frameAll(split(lineFramed([long, '<14>after']), [100, 700, 1500]));
    expect(out).toEqual([
      { text: long.slice(0, MAX), truncated: true },
      { text: '<14>after', truncated: false },
    ]);
  });

  it('skips to the next line after a malformed octet count and counts the error', () => {
    const { out, framer } = frameAll([Buffer.from('5 <13>a12x garbage\n9 <14>after')]);
    expect(out.map((m) => m.text)).toEqual(['<13>a', '<14>after']);
    expect(framer.framingErrors).toBe(1);
  });

  it('resumes right after a malformed count that ends its line', () => {
    const { out, framer } = frameAll([Buffer.from('12\n5 <13>a')]);
    expect(out.map((m) => m.text)).toEqual(['<13>a']);
    expect(framer.framingErrors).toBe(1);
  });

  it('refuses a length with more digits than any allowed message, without waiting for its body', () => {
    const { out, framer } = frameAll([Buffer.from('99999999999999999999 <13>x\n5 <13>y')]);
    expect(out.map((m) => m.text)).toEqual(['<13>y']);
    expect(framer.framingErrors).toBe(1);
  });

  it('gives a counted message cut short by the end of the connection as truncated', () => {
    const { out } = frameAll([Buffer.from('50 <13>only part')]);
    expect(out).toEqual([{ text: '<13>only part', truncated: true }]);
  });

  it('yields the same messages however an octet-counted stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (msgs, cuts) => {
          const { out } = frameAll(split(octetCounted(msgs), cuts));
          expect(out).toEqual(msgs.map((text) => ({ text, truncated: false })));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('yields the same messages however a line-framed stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (msgs, cuts) => {
          const { out } = frameAll(split(lineFramed(msgs), cuts));
          expect(out).toEqual(msgs.map((text) => ({ text, truncated: false })));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('frames any byte stream the same way, whole or in random chunks', () => {
    const byte = fc.oneof(
      fc.constantFrom(...Buffer.from('0123456789 <>\n\r')),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 1500 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bytes, cuts) => {
          const stream = Buffer.from(bytes);
          const whole = frameAll([stream]);
          const chunked = frameAll(split(stream, cuts));
          expect(chunked.out).toEqual(whole.out);
          expect(chunked.framer.framingErrors).toBe(whole.framer.framingErrors);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never throws on random bytes, never holds more than the limit, never yields a longer message', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 12 }),
        fc.integer({ min: 480, max: 600 }),
        (chunks, max) => {
          const framer = new SyslogFramer(max);
          const out: FramedMessage[] = [];
          for (const chunk of chunks) {
            out.push(...framer.push(Buffer.from(chunk)));
            expect(framer.buffered).toBeLessThanOrEqual(max);
          }
          out.push(...framer.end());
          // Each octet decodes to at most one UTF-16 unit (a bad one to U+FFFD).
          for (const m of out) expect(m.text.length).toBeLessThanOrEqual(max);
          expect(framer.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on streams that start well and then turn to garbage, and stays bounded', () => {
    const digitsAndSpaces = fc
      .array(fc.constantFrom(...'0123456789 <>\n\rab'), { maxLength: 400 })
      .map((cs) => Buffer.from(cs.join('')));
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 5 }),
        digitsAndSpaces,
        fc.array(fc.nat(), { maxLength: 20 }),
        (msgs, tail, cuts) => {
          const stream = Buffer.concat([octetCounted(msgs), tail]);
          const framer = new SyslogFramer(MAX);
          for (const chunk of split(stream, cuts)) {
            framer.push(chunk);
            expect(framer.buffered).toBeLessThanOrEqual(MAX);
          }
          framer.end();
        },
      ),
      { numRuns: 400 },
    );
  });
});
