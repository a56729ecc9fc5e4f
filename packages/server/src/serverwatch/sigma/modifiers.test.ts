import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigmaProblem } from './errors.js';
import {
  base64Offsets,
  parseSigmaString,
  planItem,
  SIGMA_MODIFIERS,
  timeComponent,
  type Part,
  type SigmaItem,
} from './modifiers.js';

const item = (value: string, modifiers: string[] = [], field: string | null = 'F'): SigmaItem => ({
  field,
  modifiers,
  values: [{ value, text: value, line: 3 }],
  list: false,
  line: 3,
});

/** The test a single value becomes, run on a text. */
function test(value: string, modifiers: string[] = []): (text: string) => boolean {
  const { plan } = planItem(item(value, modifiers));
  if (plan?.kind !== 'values') throw new Error('not a value test');
  const t = plan.tests[0]!;
  return (text) => t(text, text.toLowerCase());
}

/** Sigma wildcard matching written the slow, obvious way: the reference the engine is checked against. */
function reference(parts: Part[], text: string, cased: boolean): boolean {
  const norm = (s: string) => (cased ? s : s.toLowerCase());
  const go = (p: number, t: number): boolean => {
    if (p === parts.length) return t === text.length;
    const part = parts[p]!;
    switch (part.t) {
      case 'text': {
        const s = norm(part.s);
        return norm(text.slice(t, t + s.length)) === s && go(p + 1, t + s.length);
      }
      case 'one':
        return t < text.length && go(p + 1, t + 1);
      case 'any':
        for (let i = t; i <= text.length; i++) if (go(p + 1, i)) return true;
        return false;
      case 'dash':
      case 'ph':
        return false;
    }
  };
  return go(0, 0);
}

const escape = (literal: string) => literal.replace(/[\\*?]/g, '\\$&');

describe('Sigma strings (spec §Escape Character)', () => {
  it('reads the five cases of the specification', () => {
    expect(parseSigmaString('C:\\Windows', false)).toEqual([{ t: 'text', s: 'C:\\Windows' }]);
    expect(parseSigmaString('C:\\\\Windows', false)).toEqual([{ t: 'text', s: 'C:\\Windows' }]);
    expect(parseSigmaString('a\\*', false)).toEqual([{ t: 'text', s: 'a*' }]);
    expect(parseSigmaString('a\\\\*', false)).toEqual([{ t: 'text', s: 'a\\' }, { t: 'any' }]);
    expect(parseSigmaString('a\\\\\\*', false)).toEqual([{ t: 'text', s: 'a\\*' }]);
    expect(parseSigmaString('a\\\\\\', false)).toEqual([{ t: 'text', s: 'a\\\\' }]);
    expect(parseSigmaString('a\\\\\\\\', false)).toEqual([{ t: 'text', s: 'a\\\\' }]);
  });

  it('reads placeholders only for expand (spec §Placeholders)', () => {
    expect(parseSigmaString('%name%', false)).toEqual([{ t: 'text', s: '%name%' }]);
    expect(parseSigmaString('%name%', true)).toEqual([{ t: 'ph', name: 'name' }]);
    expect(parseSigmaString('\\%plain%name%', true)).toEqual([
      { t: 'text', s: '%plain' },
      { t: 'ph', name: 'name' },
    ]);
  });

  it('gives back any text escaped, as plain text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\\', '*', '?', '%', 'é') }), (literal) => {
        const parts = parseSigmaString(escape(literal), false);
        expect(parts.map((p) => (p.t === 'text' ? p.s : `<${p.t}>`)).join('')).toBe(literal);
      }),
    );
  });

  it('never throws on any text (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (raw, placeholders) => {
        expect(Array.isArray(parseSigmaString(raw, placeholders))).toBe(true);
      }),
    );
  });
});

describe('matching a value', () => {
  const patternChars = fc.constantFrom('a', 'B', '*', '?', '\\', '.', '(');
  const textChars = fc.constantFrom('a', 'A', 'b', 'B', '.', '(', '\\', '*');

  it('agrees with the obvious wildcard matcher, in any case or cased (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: patternChars, maxLength: 8 }),
        fc.string({ unit: textChars, maxLength: 8 }),
        fc.boolean(),
        (pattern, text, cased) => {
          const parts = parseSigmaString(pattern, false);
          expect(test(pattern, cased ? ['cased'] : [])(text)).toBe(reference(parts, text, cased));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('contains, startswith and endswith agree with the wildcards they stand for (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: patternChars, maxLength: 6 }),
        fc.string({ unit: textChars, maxLength: 10 }),
        (value, text) => {
          // Written out, `a\` + `*` would escape the star: the modifiers act on the parsed value.
          fc.pre(!value.endsWith('\\'));
          expect(test(value, ['contains'])(text)).toBe(test(`*${value}*`)(text));
          expect(test(value, ['startswith'])(text)).toBe(test(`${value}*`)(text));
          expect(test(value, ['endswith'])(text)).toBe(test(`*${value}`)(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('windash matches the value with any dash in place of each dash (property)', () => {
    const dashes = ['-', '/', '\u2013', '\u2014', '\u2015'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('x', 'y', '-', '/'), { maxLength: 6 }),
        fc.array(fc.nat({ max: 4 }), { minLength: 6, maxLength: 6 }),
        (chars, picks) => {
          const value = chars.join('');
          const variant = chars.map((c, i) => (c === '-' || c === '/' ? dashes[picks[i]!]! : c)).join('');
          expect(test(value, ['windash'])(variant)).toBe(true);
          expect(test(value, ['windash'])(`${variant}z`)).toBe(false);
        },
      ),
    );
  });
});

describe('base64offset (modifiers appendix §Encoding)', () => {
  it("gives the appendix's three shifted forms of a value", () => {
    expect(base64Offsets(Buffer.from('http://'))).toEqual(['aHR0cDovL', 'h0dHA6Ly', 'odHRwOi8v']);
  });

  it('finds a value of two bytes or more wherever it sits in a Base64 text (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 12 }),
        fc.uint8Array({ maxLength: 7 }),
        fc.uint8Array({ maxLength: 7 }),
        (value, before, after) => {
          const encoded = Buffer.concat([before, value, after]).toString('base64');
          expect(base64Offsets(value).some((form) => encoded.includes(form))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('time components (modifiers appendix §Time Modifiers)', () => {
  it('takes ISO 8601 weeks: the week of the first Thursday is week 1', () => {
    expect(timeComponent('2021-01-03T12:00:00Z', 'week')).toBe(53);
    expect(timeComponent('2021-01-04T12:00:00Z', 'week')).toBe(1);
    expect(timeComponent('2024-12-30T00:00:00Z', 'week')).toBe(1);
    expect(timeComponent('not a date', 'hour')).toBeUndefined();
    expect(timeComponent(Date.UTC(2024, 5, 1, 7, 8), 'minute')).toBe(8);
  });
});

describe('planning an item', () => {
  const problem = (i: SigmaItem) => {
    try {
      planItem(i);
    } catch (error) {
      expect(error).toBeInstanceOf(SigmaProblem);
      return (error as SigmaProblem).message;
    }
    return undefined;
  };

  it('refuses modifiers keywords cannot take', () => {
    expect(problem(item('x', ['exists'], null))).toBe('keywords cannot take modifier exists');
    expect(problem(item('10.0.0.0/8', ['cidr'], null))).toBe('keywords cannot take modifier cidr');
  });

  it('names every unknown modifier as unsupported, without failing', () => {
    expect(planItem(item('x', ['contains', 'foo', 'bar'])).unsupported).toEqual([
      'modifier foo',
      'modifier bar',
    ]);
  });

  it('never throws anything but a SigmaProblem on random modifier chains (property)', () => {
    // Every modifier the engine knows, and two it does not.
    const modifier = fc.constantFrom(...SIGMA_MODIFIERS, 'nope', '');
    const value = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('10.0.0.0/8', '::1/128', '%Servers%', '(', 'a*b'),
    );
    fc.assert(
      fc.property(
        fc.array(modifier, { maxLength: 4 }),
        fc.array(value, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        (modifiers, values, list, keyword) => {
          const i: SigmaItem = {
            field: keyword ? null : 'F',
            modifiers,
            values: values.map((v) => ({ value: v, text: String(v), line: 2 })),
            list,
            line: 2,
          };
          try {
            const { plan } = planItem(i, { placeholders: { Servers: ['srv*'] } });
            if (plan?.kind === 'values') for (const t of plan.tests) t('abc', 'abc');
          } catch (error) {
            if (!(error instanceof SigmaProblem)) throw error;
            expect(error.line).toBe(2);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('cidr ranges (modifiers appendix §IP Modifiers)', () => {
  const toNumber = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

  it('hold exactly the IPv4 addresses sharing the prefix bits (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (network, prefix, address) => {
        const inside =
          prefix === 0 || toNumber(network) >>> (32 - prefix) === toNumber(address) >>> (32 - prefix);
        expect(test(`${network}/${prefix}`, ['cidr'])(address)).toBe(inside);
      }),
      { numRuns: 2000 },
    );
  });

  it('hold the IPv6 addresses of the range and refuse text that is no address (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.string({ maxLength: 12 }), (address, noise) => {
        expect(test(`${address}/128`, ['cidr'])(address)).toBe(true);
        expect(test('::/0', ['cidr'])(address)).toBe(true);
        fc.pre(!/^[0-9a-f:.]+$/i.test(noise));
        expect(test('::/0', ['cidr'])(noise)).toBe(false);
        expect(test('0.0.0.0/0', ['cidr'])(noise)).toBe(false);
      }),
    );
  });

  it('refuse a malformed range with the line of the value', () => {
    for (const range of ['10.0.0.0', '10.0.0.0/33', '::/129', 'host/8', '10.0.0.0/-1']) {
      expect(() => planItem(item(range, ['cidr']))).toThrow(SigmaProblem);
    }
  });
});
