import { RempartError, WatchCursor } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './views.js';
import { capRaw, clean, likePattern, RAW_MAX_BYTES } from './watch.repository.js';

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

describe('page cursors', () => {
  it('give back the time and id of the row they were made from, and pass the API schema', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (ms, id) => {
          const text = encodeCursor({ at: new Date(ms), id });
          expect(WatchCursor.safeParse(text).success).toBe(true);
          expect(decodeCursor(text)).toEqual({ at: new Date(ms), id });
        },
      ),
    );
  });

  it('refuse a cursor no page gave with a validation error', () => {
    for (const text of ['', '12', '12_', '_3', 'a_1', '1_2_3', '9999999999999999_1', '1_-2']) {
      expect(() => decodeCursor(text)).toThrow(RempartError);
    }
  });
});

describe('ILIKE patterns', () => {
  it('make %, _ and the backslash plain and stars wildcards', () => {
    expect(likePattern(['100%'])).toBe('100\\%');
    expect(likePattern(['a_b'])).toBe('a\\_b');
    expect(likePattern(['C:\\x'])).toBe('C:\\\\x');
    expect(likePattern(['', 'ecp', ''])).toBe('%ecp%');
    expect(likePattern(['adm', 'n'])).toBe('adm%n');
  });
});

describe('stored text', () => {
  it('keeps a raw line of at most 8 KiB whole, and cuts a longer one at a character boundary', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 5000 }), (text) => {
        const kept = capRaw(text);
        expect(utf8Length(kept)).toBeLessThanOrEqual(RAW_MAX_BYTES);
        expect(text.startsWith(kept)).toBe(true);
        if (utf8Length(text) <= RAW_MAX_BYTES) expect(kept).toBe(text);
        // The cut takes as much as fits: the next character would not have.
        else {
          const next = String.fromCodePoint(text.codePointAt(kept.length)!);
          expect(utf8Length(kept + next)).toBeGreaterThan(RAW_MAX_BYTES);
        }
      }),
    );
    expect(capRaw('é'.repeat(5000))).toBe('é'.repeat(4096));
    expect(capRaw(`a${'😀'.repeat(3000)}`)).toBe(`a${'😀'.repeat(2047)}`);
  });

  it('replaces NUL and unpaired surrogates, which PostgreSQL cannot hold, and nothing else', () => {
    expect(clean('a\u0000b')).toBe('a\uFFFDb');
    expect(clean('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(clean('😀 é \t\\N')).toBe('😀 é \t\\N');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const out = clean(text);
        expect(out).not.toContain('\u0000');
        expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
        expect(out.length).toBe(text.length);
      }),
    );
  });
});
