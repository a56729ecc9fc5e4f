import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue, LogSource, WatchEvent } from '../event.js';
import { parseLine } from '../parsers/index.js';
import { dayContexts, mailDay } from '../parsers/mail-day.js';
import { loadRuleFiles, shippedRulesDir, sigmaHqRulesDir } from '../rules.js';
import { compileRule, RuleSet, type CompiledRule } from './compile.js';
import { numberNeed } from './literals.js';
import { LiteralIndex, NON_ASCII_FOLDS } from './prefilter.js';

const event = (
  raw: string,
  fields: Record<string, FieldValue> = {},
  logsource: LogSource = {},
): WatchEvent => ({
  time: 0,
  logsource,
  fields,
  raw,
  parsed: true,
});

/** The index's candidates for one event. */
function candidates(index: LiteralIndex, e: WatchEvent): number[] {
  index.scan(e);
  return [...index.candidates()];
}

describe('lower-casing, as the prefilter relies on it', () => {
  it('gives ASCII only for ASCII and for U+0130 and U+212A, whatever the code point', () => {
    const found = new Map<number, string>();
    for (let c = 0x80; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ascii = String.fromCodePoint(c)
        .toLowerCase()
        .split('')
        .filter((ch) => ch.charCodeAt(0) < 0x80)
        .join('');
      if (ascii !== '') found.set(c, ascii);
    }
    expect(found).toEqual(NON_ASCII_FOLDS);
  });

  it('changes no ASCII character but A to Z, each into one character', () => {
    for (let c = 0; c < 0x80; c++) {
      const s = String.fromCharCode(c);
      expect(s.toLowerCase()).toBe(c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : s);
    }
  });
});

describe('the literal index', () => {
  const index = new LiteralIndex(
    [[['wget ', 'curl ']], [], [['/owa/'], ['x-anonresource']], [['404']], [['kill']]],
    34,
  );

  it('finds a literal in any case in the raw line or any value, nested ones too', () => {
    expect(candidates(index, event('nothing here'))).toEqual([1]);
    expect(candidates(index, event('run WGET http://x'))).toEqual([0, 1]);
    expect(candidates(index, event('-', { a: { b: ['Curl -o'] } }))).toEqual([0, 1]);
    expect(candidates(index, event('-', { status: 404 }))).toEqual([1, 3]);
    expect(candidates(index, event('-', { flag: true }))).toEqual([1]);
  });

  it('runs a rule with several clauses only when each of them turned up', () => {
    expect(candidates(index, event('GET /owa/auth.owa'))).toEqual([1]);
    expect(candidates(index, event('GET /owa/', { 'cs-cookie': 'X-AnonResource=true' }))).toEqual([1, 2]);
  });

  it('reads U+212A (Kelvin) as k and U+0130 as i, as their lower case holds them', () => {
    expect('\u212Aİll'.toLowerCase().includes('kill')).toBe(false);
    expect('\u212Aill'.toLowerCase().includes('kill')).toBe(true);
    expect(candidates(index, event('\u212Aill -9'))).toEqual([1, 4]);
    expect(candidates(index, event('K\u0130LL'))).toEqual([1, 4]);
  });

  it('reads a value as long as the shortest literal, wherever it sits', () => {
    expect(candidates(index, event('-', { status: '404' }))).toEqual([1, 3]);
    expect(candidates(index, event('-', { status: ['x', { code: '404' }] }))).toEqual([1, 3]);
    expect(candidates(index, event('-', { status: '40', code: '4' }))).toEqual([1]);
  });

  it('reads beside the raw line only the fields the parser says it composed, and numbers', () => {
    const parsed = (raw: string, fields: Record<string, FieldValue>, composed: string[]) => ({
      ...event(raw, fields),
      composed,
    });
    expect(candidates(index, parsed('run wget x', { command: 'wget x' }, []))).toEqual([0, 1]);
    expect(candidates(index, parsed('-', { action: 'curl -o' }, ['action']))).toEqual([0, 1]);
    expect(candidates(index, parsed('-', { action: { nested: ['curl -o'] } }, ['action']))).toEqual([0, 1]);
    expect(candidates(index, parsed('-', { status: 404 }, []))).toEqual([1, 3]);
    // The parser's word is taken: a field it did not name is not read again.
    expect(candidates(index, parsed('-', { command: 'curl -o' }, ['action']))).toEqual([1]);
  });

  it('starts afresh with each event: what an earlier one held is forgotten', () => {
    expect(candidates(index, event('wget'))).toEqual([1]);
    expect(candidates(index, event('wget '))).toEqual([0, 1]);
    expect(candidates(index, event('get '))).toEqual([1]);
  });

  it('finds from a raw line and texts what it finds from an event whose values they hold', () => {
    const fromTexts = (raw: string, texts: readonly string[]) => {
      index.scanTexts(raw, texts);
      return [...index.candidates()];
    };
    expect(index.textsSuffice).toBe(false);
    expect(fromTexts('GET /owa/', ['X-AnonResource=1'])).toEqual([1, 2]);
    expect(fromTexts('GET /owa/', [])).toEqual([1]);
    const texts = Object.freeze(['run CURL ', 'x']);
    // A frozen list's clauses are kept: the same, the first time and after.
    expect(fromTexts('GET /owa/', texts)).toEqual([0, 1]);
    expect(fromTexts('-', texts)).toEqual([0, 1]);
    expect(fromTexts('GET /owa/ x-anonresource', texts)).toEqual([0, 1, 2]);
    expect(fromTexts('-', [])).toEqual([1]);
  });

  it('judges a number a rule compares with by the digits of a line’s head, and takes it as met otherwise', () => {
    // `action: logout` and `bytes_out|gte: 500000000`; a rule of a number alone (`|gte: 100`).
    const numbers = new LiteralIndex([[['logout'], ...numberNeed(500_000_000)], numberNeed(100)], 34);
    const fromTexts = (raw: string, texts: readonly string[]) => {
      numbers.scanTexts(raw, texts);
      return [...numbers.candidates()];
    };
    expect(numbers.textsSuffice).toBe(true);
    expect(fromTexts('Logged out in=12 out=44', ['logout'])).toEqual([]);
    expect(fromTexts('Logged out in=12 out=44186509', ['logout'])).toEqual([1]);
    expect(fromTexts('Logged out in=123 out=600000000', ['logout'])).toEqual([0, 1]);
    expect(fromTexts('Logged out in=1 out=6e8', ['logout'])).toEqual([0, 1]);
    expect(fromTexts('Logged out in=1', ['logout', '600000000'])).toEqual([0, 1]);
    expect(fromTexts('in=1 out=600000000', [])).toEqual([1]);
    // An event's numbers may come from anywhere: a clause a number meets is met.
    expect(candidates(numbers, event('Logged out', { bytes_out: 1 }))).toEqual([1]);
    expect(candidates(numbers, event('-', { action: 'logout' }))).toEqual([0, 1]);
  });

  it('finds the same from a frozen list of texts as from a list of its own, scan after scan', () => {
    const words = fc.constantFrom('wget ', 'CURL ', '/owa/', 'x-anonresource', 'kill', '40', 'k', '-');
    const text = fc.array(words, { maxLength: 4 }).map((w) => w.join(''));
    const lists = [Object.freeze(['curl ']), Object.freeze(['/owa/', 'x']), Object.freeze([] as string[])];
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.nat(lists.length - 1)), { maxLength: 20 }), (scans) => {
        for (const [raw, which] of scans) {
          const list = lists[which]!;
          index.scanTexts(raw, [...list]);
          const expected = [...index.candidates()];
          index.scanTexts(raw, list);
          expect([...index.candidates()]).toEqual(expected);
          // And what a scan of the whole event finds.
          expect(candidates(index, event(raw, { t: list.join(' ') }))).toEqual(expected);
        }
      }),
    );
  });
});

describe('a rule set with its prefilter, over the shipped and SigmaHQ rules', () => {
  const files = loadRuleFiles([shippedRulesDir(), sigmaHqRulesDir()]);
  const compiled = files.detections.map(compileRule);
  const set = new RuleSet(compiled);
  /** What the rules match, each run on the event without any prefilter. */
  const unfiltered = (e: WatchEvent) =>
    compiled.filter((r) => r.appliesTo(e.logsource) && r.matches(e)).map(title);
  const title = (r: CompiledRule) => `${r.rule.file}:${r.rule.line}`;

  it('prefilters most rules: nearly all of them need literals', () => {
    const without = compiled.filter((r) => r.literals === undefined).map((r) => r.rule.title);
    expect(without.length).toBeLessThan(compiled.length / 10);
  });

  it('matches a generated day of a mail server exactly as the rules run one by one', () => {
    const receivedAt = Date.UTC(2026, 11, 4, 6, 0, 0);
    const contexts = dayContexts(receivedAt);
    let hits = 0;
    for (const line of mailDay({ seed: 7 }).lines()) {
      const e = parseLine(line.line, line.format, contexts[line.file]);
      const expected = unfiltered(e);
      hits += expected.length;
      expect(set.match(e).map(title)).toEqual(expected);
    }
    expect(hits).toBeGreaterThan(100);
  }, 60_000);

  it('finds the same candidates when a parser names its composed fields as when every value is read', () => {
    // The index of every rule, whatever its log source: the most literals in one automaton.
    const all = new LiteralIndex(
      compiled.map((r) => r.literals),
      34,
    );
    const pieces = new Set<string>(['Ä', 'ς', 'İ', '\u212A', ' ', '/', '=']);
    for (const r of compiled) for (const clause of r.literals ?? []) for (const s of clause) pieces.add(s);
    const recase = (s: string, how: number) =>
      how === 0 ? s : how === 1 ? s.toUpperCase() : s.replace(/k/g, '\u212A').replace(/i/g, 'İ');
    const text = fc
      .array(
        fc.tuple(fc.constantFrom(...pieces), fc.integer({ min: 0, max: 2 }), fc.string({ maxLength: 3 })),
        {
          maxLength: 6,
        },
      )
      .map((parts) => parts.map(([p, how, glue]) => recase(p, how) + glue).join(''));
    // An event as a parser keeping its promise makes it: fields cut out of the raw line, numbers,
    // booleans, and composed fields holding anything.
    const parsedEvent = fc
      .tuple(
        text,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 5 }),
        fc.array(fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.boolean()), { maxLength: 2 }),
        fc.array(fc.oneof(text, fc.array(text, { maxLength: 2 })), { maxLength: 3 }),
      )
      .map(([raw, cuts, scalars, made]) => {
        const fields: Record<string, FieldValue> = {};
        cuts.forEach(([a, b], i) => {
          const from = a % (raw.length + 1);
          fields[`cut${i}`] = raw.slice(from, from + (b % 40));
        });
        scalars.forEach((v, i) => (fields[`scalar${i}`] = v));
        made.forEach((v, i) => (fields[`made${i}`] = v));
        return { ...event(raw, fields), composed: made.map((_, i) => `made${i}`) };
      });
    const always = candidates(all, event('')).length;
    let found = 0;
    fc.assert(
      fc.property(parsedEvent, (e) => {
        const named = candidates(all, e);
        const { composed: _, ...unnamed } = e;
        // The reference: the same event with no promise, each of its values read.
        expect(named).toEqual(candidates(all, unnamed));
        if (named.length > always) found++;
      }),
      { numRuns: 3000 },
    );
    expect(found).toBeGreaterThan(500);
  });

  it('matches any event exactly as the rules run one by one', () => {
    // Events made of the rules' own fields, values and literals, in any case and with the
    // characters whose lower case is ASCII, so that many rules are candidates and many fire.
    const fieldNames = new Set<string>(['message', 'user', 'cs-uri']);
    const texts = new Set<string>(['Ä', 'ς', 'Σ', 'İ', '\u212A', '\u0000']);
    for (const r of compiled) {
      for (const clause of r.literals ?? []) for (const s of clause) texts.add(s);
      for (const identifier of r.rule.detection.identifiers)
        for (const items of identifier.alternatives)
          for (const item of items) {
            if (item.field !== null) fieldNames.add(item.field);
            for (const v of item.values) texts.add(v.text.replace(/(?<!\\)[*?]/g, ''));
          }
    }
    const logsources: LogSource[] = [
      ...new Map(
        compiled.map((r) => {
          const { category, product, service } = r.rule.logsource;
          const source: LogSource = {
            ...(category === undefined ? {} : { category }),
            ...(product === undefined ? {} : { product }),
            ...(service === undefined ? {} : { service }),
          };
          return [JSON.stringify(source), source] as const;
        }),
      ).values(),
    ];
    const recase = (s: string, how: number) =>
      how === 0
        ? s
        : how === 1
          ? s.toUpperCase()
          : how === 2
            ? s.replace(/k/g, '\u212A').replace(/i/g, 'İ')
            : s.replace(/./g, (c, i: number) => (i % 2 === 0 ? c.toUpperCase() : c));
    const text = fc
      .array(
        fc.tuple(fc.constantFrom(...texts), fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 3 })),
        { maxLength: 4 },
      )
      .map((parts) => parts.map(([s, how, glue]) => recase(s, how) + glue).join(''));
    const value: fc.Arbitrary<FieldValue> = fc.letrec<{ value: FieldValue }>((tie) => ({
      value: fc.oneof(
        { maxDepth: 2, depthIdentifier: 'value' },
        text,
        fc.constantFrom(200, 301, 404, 4625, 0, -1.5),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'value' }),
        fc.dictionary(fc.constantFrom(...fieldNames), tie('value'), {
          maxKeys: 3,
          depthIdentifier: 'value',
        }),
      ),
    })).value;
    // Parsers share one frozen log source per kind, JSON events bring their own objects: both.
    const frozen = logsources.map((l) => Object.freeze({ ...l }));
    const arbitraryEvent = fc.record({
      time: fc.constant(0),
      logsource: fc.oneof(
        fc.constantFrom(...frozen),
        fc.constantFrom(...logsources).map((l) => ({ ...l })),
      ),
      fields: fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 6 }),
      raw: text,
      parsed: fc.boolean(),
    });
    let fired = 0;
    fc.assert(
      fc.property(arbitraryEvent, (e) => {
        const expected = unfiltered(e);
        if (expected.length > 0) fired++;
        expect(set.match(e).map(title)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
    // Not a vacuous check: rules do fire on such events.
    expect(fired).toBeGreaterThan(100);
  }, 60_000);
});
