import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  digitsValue,
  hasLineTerminator,
  intern,
  internKey,
  isRegExpSpace,
  isWordChar,
  knownKey,
} from './scan.js';

describe('the scanners’ character tests', () => {
  it('agree with \\s and \\w on every UTF-16 code unit', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const char = String.fromCharCode(c);
      expect(isRegExpSpace(c), `U+${c.toString(16)}`).toBe(/\s/.test(char));
      expect(isWordChar(c), `U+${c.toString(16)}`).toBe(/\w/.test(char));
    }
  });

  it('find a line terminator where [\\n\\r\\u2028\\u2029] does', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', '\n', '\r', '\u2028', '\u2029', '\u2027', 'é'),
    });
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary' })), (s) => {
        expect(hasLineTerminator(s)).toBe(/[\n\r\u2028\u2029]/.test(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('read digits as Number does, and anything else as -1', () => {
    const digits = fc.stringMatching(/^\d{1,15}$/);
    const nearly = fc.string({
      unit: fc.constantFrom('0', '7', '9', '/', ':', ' ', '-', '+', '.', 'e'),
      maxLength: 16,
    });
    fc.assert(
      fc.property(fc.oneof(digits, nearly), fc.nat(3), (s, pad) => {
        const text = `${'x'.repeat(pad)}${s}y`;
        const expected = /^\d+$/.test(s) ? Number(s) : -1;
        expect(digitsValue(text, pad, pad + s.length)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('interned strings', () => {
  it('are the very characters asked for, whatever came before them', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', '/', '=', ' ', ',', 'é'), maxLength: 50 });
    fc.assert(
      fc.property(fc.array(fc.tuple(word, fc.nat(5), fc.nat(5), fc.boolean()), { maxLength: 40 }), (asks) => {
        for (const [w, before, after, key] of asks) {
          const text = `${'.'.repeat(before)}${w}${'.'.repeat(after)}`;
          const got = (key ? internKey : intern)(text, before, before + w.length);
          expect(got).toBe(w);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('give the same string object for the same characters', () => {
    const first = intern('host mx1.example.org x', 5, 20);
    expect(intern('at mx1.example.org', 3, 18)).toBe(first);
    expect(first).toBe('mx1.example.org');
  });

  it('find a name only where the text holds that very name', () => {
    const name = fc.stringMatching(/^[a-z_]{1,12}$/);
    fc.assert(
      fc.property(name, name, fc.nat(4), (stored, asked, pad) => {
        internKey(`${stored}=`, 0, stored.length);
        const text = `${' '.repeat(pad)}${asked}=x`;
        const found = knownKey(text, pad, pad + asked.length);
        if (found !== undefined) expect(found).toBe(asked);
        expect(knownKey(`${stored}=`, 0, stored.length)).toBe(stored);
      }),
      { numRuns: 1000 },
    );
  });
});
