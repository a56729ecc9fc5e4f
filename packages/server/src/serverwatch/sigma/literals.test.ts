import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANYTHING,
  bothNeed,
  eitherNeed,
  MAX_LITERAL,
  type Need,
  NOTHING,
  numberMayHold,
  numberNeed,
  numberReach,
  partsLiteral,
  regexLiterals,
  someOf,
  tokenDigits,
} from './literals.js';
import { parseSigmaString } from './modifiers.js';

/** Whether a need holds of a text (the index's reading: ASCII letters in any case). */
function holds(need: Need, text: string): boolean {
  const folded = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return need.every((clause) => clause.some((s) => folded.includes(s)));
}

describe('the literal a Sigma string needs', () => {
  it('is its longest plain piece, lower-cased, wildcards and non-ASCII characters cutting pieces', () => {
    expect(partsLiteral(parseSigmaString('*\\Windows\\System32\\*.exe', false), false)).toBe(
      '\\windows\\system3',
    );
    expect(partsLiteral(parseSigmaString('cmd?exe*whoami /all', false), false)).toBe('whoami /all');
    expect(partsLiteral(parseSigmaString('Käse Brot', false), true)).toBe('se brot');
    expect(partsLiteral(parseSigmaString('*', false), false)).toBe('');
  });

  it('is cut to MAX_LITERAL characters, a part of what is needed being needed too', () => {
    const long = 'x'.repeat(MAX_LITERAL + 10);
    expect(partsLiteral(parseSigmaString(long, false), false)).toHaveLength(MAX_LITERAL);
  });
});

describe('the literals a regular expression needs', () => {
  it('are the longest literal run of each top-level alternative', () => {
    expect(regexLiterals('(?:cmd|powershell)\\.exe /c')).toEqual(['.exe /c']);
    expect(regexLiterals('foo\\d+|Bar')).toEqual(['foo', 'bar']);
    expect(regexLiterals('ab?cd')).toEqual(['cd']);
    expect(regexLiterals('a{2}bc')).toEqual(['bc']);
    expect(regexLiterals('x{|y}z')).toEqual(['x{', 'y}z']);
    expect(regexLiterals('\\x41BCD')).toEqual(['bcd']);
  });

  it('are unknown when an alternative needs no literal or the syntax is not read here', () => {
    expect(regexLiterals('foo|\\d+')).toBeUndefined();
    expect(regexLiterals('.*')).toBeUndefined();
    expect(regexLiterals('\\p{L}abc')).toBeUndefined();
    expect(regexLiterals('(?<n>a)\\k<n>')).toBeUndefined();
  });

  it('are in every text the expression matches, in any case with the i flag', () => {
    interface Sample {
      src: string;
      sample: string;
    }
    const special = '.*+?()[]{}|^$\\/';
    // Groups are not repeated: nested repetitions would make the expression's own test exponential.
    const simple: fc.Arbitrary<Sample> = fc.oneof(
      fc
        .constantFrom(...'abcxyzABC019 -_/:=%'.split(''), ...special.split(''))
        .map((c) => ({ src: special.includes(c) ? `\\${c}` : c, sample: c })),
      fc.constant({ src: '\\d', sample: '7' }),
      fc.constant({ src: '\\w', sample: 'q' }),
      fc.constant({ src: '.', sample: '#' }),
      fc.constant({ src: '[a-c\\]]', sample: ']' }),
      fc.constant({ src: '\\x41', sample: 'A' }),
    );
    const group = (alt: fc.Arbitrary<Sample>): fc.Arbitrary<Sample> =>
      fc.oneof(
        alt.map((a) => ({ src: `(?:${a.src})`, sample: a.sample })),
        alt.map((a) => ({ src: `(${a.src})`, sample: a.sample })),
      );
    const { alt } = fc.letrec<{ alt: Sample }>((tie) => ({
      alt: fc
        .tuple(
          fc.array(
            fc
              .array(
                fc.oneof(
                  { maxDepth: 3, depthIdentifier: 'alt' },
                  fc.tuple(
                    simple,
                    fc.constantFrom('', '?', '*', '+', '{2}', '{1,3}', '??', '+?', '*?'),
                    fc.integer({ min: 0, max: 2 }),
                  ),
                  fc.tuple(group(tie('alt')), fc.constant(''), fc.constant(0)),
                ),
                { maxLength: 6, depthIdentifier: 'seq' },
              )
              .map((parts) => ({
                src: parts.map(([a, q]) => a.src + q).join(''),
                sample: parts
                  .map(([a, q, n]) => {
                    const times = {
                      '': 1,
                      '?': n % 2,
                      '??': n % 2,
                      '*': n,
                      '*?': n,
                      '+': n + 1,
                      '+?': n + 1,
                    };
                    const count = q === '{2}' ? 2 : q === '{1,3}' ? n + 1 : times[q];
                    return a.sample.repeat(count);
                  })
                  .join(''),
              })),
            { minLength: 1, maxLength: 3, depthIdentifier: 'alt' },
          ),
          fc.nat(),
        )
        .map(([branches, k]) => ({
          src: branches.map((b) => b.src).join('|'),
          sample: branches[k % branches.length]!.sample,
        })),
    }));
    fc.assert(
      fc.property(alt, fc.boolean(), fc.string({ maxLength: 4 }), (regex, ignoreCase, around) => {
        const flags = ignoreCase ? 'i' : '';
        const re = new RegExp(regex.src, flags);
        const sample = ignoreCase ? regex.sample.toUpperCase() : regex.sample;
        const text = around + sample + around;
        expect(re.test(text)).toBe(true);
        const literals = regexLiterals(re.source);
        if (literals === undefined) return;
        // Lower-case ASCII only: no character beyond 0x7f, no capital letter.
        for (const l of literals)
          expect([...l].every((c) => c.charCodeAt(0) < 0x80 && !/[A-Z]/.test(c))).toBe(true);
        expect(holds([literals], text)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  }, 60_000);
});

describe('needs combined', () => {
  const need: fc.Arbitrary<Need> = fc.oneof(
    fc.constant(ANYTHING),
    fc.constant(NOTHING),
    fc.array(
      fc.array(fc.constantFrom('ab', 'cd', 'abcd', 'x', 'wxyz', 'efgh'), { minLength: 1, maxLength: 3 }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  );
  const text = fc
    .array(fc.constantFrom('ab', 'cd', 'X', 'WXYZ', 'efgh', ' '), { maxLength: 6 })
    .map((p) => p.join(''));

  it('hold whenever what they combine holds: both of two, either of two', () => {
    fc.assert(
      fc.property(need, need, text, (a, b, t) => {
        if (holds(a, t) && holds(b, t)) expect(holds(bothNeed(a, b), t)).toBe(true);
        if (holds(a, t) || holds(b, t)) expect(holds(eitherNeed(a, b), t)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('know nothing of a rule that needs nothing, and nothing holds a rule that cannot match', () => {
    expect(eitherNeed(someOf(['abc']), ANYTHING)).toEqual(ANYTHING);
    expect(bothNeed(someOf(['abc']), ANYTHING)).toEqual([['abc']]);
    expect(eitherNeed(NOTHING, someOf(['abc']))).toEqual([['abc']]);
    expect(bothNeed(NOTHING, someOf(['abc']))).toEqual(NOTHING);
  });

  it('leave out a clause of short strings beside one of long strings', () => {
    expect(bothNeed(someOf(['200', '301']), someOf(['/autodiscover.json']))).toEqual([
      ['/autodiscover.json'],
    ]);
    expect(bothNeed(someOf(['200']), someOf(['@']))).toEqual([['200'], ['@']]);
  });
});

describe('the need of a value compared with gt or gte', () => {
  /** What `gt`/`gte` read a value's text as (modifiers.ts, `comparisonTest`). */
  const asNumber = (text: string) => (text.trim() === '' ? NaN : Number(text));
  const digitsOf = (n: number) => (n >= 1e21 ? 22 : String(Math.floor(n)).length);

  it('is a number of as many digits as the compared number, and nothing below 10', () => {
    expect(numberNeed(500_000_000)).toHaveLength(1);
    expect(tokenDigits(numberNeed(500_000_000)[0]![0]!)).toBe(9);
    expect(tokenDigits(numberNeed(10.5)[0]![0]!)).toBe(2);
    expect(tokenDigits(numberNeed(1e300)[0]![0]!)).toBe(22);
    expect(numberNeed(9.99)).toEqual([]);
    expect(numberNeed(-5)).toEqual([]);
    expect(numberNeed(NaN)).toEqual([]);
    expect(numberNeed(Infinity)).toEqual([]);
    expect(tokenDigits('500000000')).toBe(0);
    // No literal a rule's value gives reads as one, whatever the value holds.
    for (const value of ['\uffffdigits:12', '\u0000digits:12', 'digits:12'])
      expect(tokenDigits(partsLiteral(parseSigmaString(value, false), false))).toBe(0);
  });

  it('is met by every text that reads as a number that large, wherever it sits in a line', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 25 });
    const numberText = fc.oneof(
      digits,
      fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`),
      fc
        .tuple(fc.constantFrom('', '.', '.5', '.05'), fc.constantFrom('e', 'E', 'e+', 'E-', 'e-'), digits)
        .map(([dot, e, exp]) => `${dot}${e}${exp}`),
      fc
        .tuple(digits, fc.constantFrom('e', 'E', 'e+', 'E-', '.e', '.E+', '.0e'), digits)
        .map(([a, e, b]) => `${a}${e}${b}`),
      fc
        .tuple(
          fc.constantFrom('0x', '0X', '0o', '0O', '0b', '0B'),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 12 }),
        )
        .map(([p, d]) => `${p}${d}`),
      fc.constantFrom('Infinity', '+Infinity', '1e400', '  42  ', '\u00a012\u00a0', '\ufeff99'),
    );
    const signed = fc.tuple(fc.constantFrom('', '+', '-', ' ', '\t'), numberText).map(([s, n]) => `${s}${n}`);
    fc.assert(
      fc.property(signed, fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (text, before, after) => {
        const n = asNumber(text);
        if (!(n >= 10)) return;
        const need = digitsOf(n);
        expect(numberMayHold(text, need), text).toBe(true);
        expect(numberMayHold(`${before} ${text} ${after}`, need)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is not met by a line whose numbers are all shorter and written in digits alone', () => {
    const line =
      'Dec  3 00:01:46 mx1 dovecot[1]: imap(luc@ville.example)<24044><R2um5JgE73XtBBo>: Disconnected: Logged out in=5197 out=44186509';
    expect(numberMayHold(line, 9)).toBe(false);
    expect(numberMayHold(line, 8)).toBe(true);
    expect(numberMayHold(line.replace('44186509', '5e8'), 9)).toBe(true);
    expect(numberMayHold(line.replace('44186509', '0x1DCD6500'), 9)).toBe(true);
    expect(numberReach('a12b3456c')).toBe(4);
    expect(numberReach('x12.E3')).toBe(Infinity);
    expect(numberReach('.example 7')).toBe(1);
  });

  it('reads a text as the longest run of digits, or as any size when it holds another form', () => {
    // The forms `Number` reads beyond digits, as a regular expression: what the pass by hand does.
    const longestRun = (text: string) => Math.max(0, ...(text.match(/[0-9]+/g) ?? []).map((r) => r.length));
    const otherForm = (text: string) => /infinity|0[xob]|[0-9]\.?e[+-]?[0-9]/i.test(text);
    const unit = fc.oneof(
      fc.constantFrom(...'0123456789.eE+-xXoObBiInNfFtTyY '),
      fc.constantFrom('infinity', 'INFINITY', 'Infinit', 'ınfinity', '\u0130nfinity', '0x', '1.e', 'e+5'),
      fc.string({ unit: 'binary', maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 24 }), (units) => {
        const text = units.join('');
        expect(numberReach(text), text).toBe(otherForm(text) ? Infinity : longestRun(text));
      }),
      { numRuns: 50_000 },
    );
  });
});
