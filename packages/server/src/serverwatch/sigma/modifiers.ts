/**
 * Sigma values and their modifiers (Sigma rules specification, "Detection" §General, §String
 * Wildcard, §Escape Character, §Special Field Values, §Placeholders; Sigma modifiers appendix
 * v2.1.0): a value of a rule becomes a test on one field value, built once per rule so that
 * matching an event never parses, lower-cases or compiles anything of the rule again.
 */
import { BlockList, isIP } from 'node:net';
import { SigmaProblem } from './errors.js';
import {
  ANYTHING,
  bothNeed,
  eitherNeed,
  NOTHING,
  numberNeed,
  someOf,
  partsLiteral,
  regexLiterals,
  type Need,
} from './literals.js';

/** A value as YAML gave it, with its text as written (so `1.10` stays `1.10`) and its line. */
export interface SigmaValue {
  value: string | number | boolean | null;
  /** The value as text: the string itself, or the number or boolean as written in the file. */
  text: string;
  line: number;
}

/** `field|mod1|mod2: values` of a selection, or a keyword list when `field` is null. */
export interface SigmaItem {
  field: string | null;
  modifiers: string[];
  values: SigmaValue[];
  /** Whether the values were written as a YAML list (the `all` modifier needs one, spec §Generic). */
  list: boolean;
  line: number;
}

export interface ModifierOptions {
  /** Values of `expand` placeholders, by name without the `%` (spec §Placeholders): Sigma patterns. */
  placeholders?: Record<string, string[]>;
}

/** A piece of a Sigma string: plain text, `*`, `?`, a `windash` dash, or an `expand` placeholder. */
export type Part =
  { t: 'text'; s: string } | { t: 'any' } | { t: 'one' } | { t: 'dash' } | { t: 'ph'; name: string };

/** A Sigma string: its parts, and whether its text holds bytes (after a UTF-16 encoding). */
export interface SigmaString {
  parts: Part[];
  bytes: boolean;
}

/** A test on one value of a field, given as text and lower-cased text (the event side caches both). */
export type ScalarTest = (text: string, lower: string) => boolean;

/** Components a time modifier takes out of a date (modifiers appendix §Time Modifiers). */
export type TimeUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** What an item tests, ready to run. */
export type ItemPlan =
  | { kind: 'exists'; expected: boolean }
  /** `field: null`: the field is absent or null (spec §Special Field Values). */
  | { kind: 'null' }
  | { kind: 'fieldref'; others: string[]; cased: boolean; negate: boolean; all: boolean }
  | {
      kind: 'values';
      tests: ScalarTest[];
      all: boolean;
      /** `neq`: the field is none of the values. */
      negate: boolean;
      extract?: TimeUnit;
      /**
       * When known: what a value the test passes on holds (literals.ts), which lets the prefilter
       * skip the rule on events holding none of it.
       */
      literals?: Need;
    };

/** An item's plan, or what in it the engine does not support (then it is not run). */
export type PlanResult = { plan: ItemPlan; unsupported: [] } | { plan?: undefined; unsupported: string[] };

const WILDCARD_SHAPING = new Set(['contains', 'startswith', 'endswith']);
const ENCODINGS = new Set(['base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash']);
const COMPARISONS = new Set(['lt', 'lte', 'gt', 'gte']);
const TIME_UNITS = new Set<string>(['minute', 'hour', 'day', 'week', 'month', 'year']);
const REGEX_FLAGS = new Set(['i', 'm', 's']);
/** Modifiers that decide what kind of test a value is: at most one per item. */
const TYPES = new Set(['re', 'cidr', 'exists', 'fieldref', ...COMPARISONS]);
/** Every modifier of the appendix v2.1.0, all of which this engine runs. */
export const SIGMA_MODIFIERS: readonly string[] = [
  'all',
  'startswith',
  'endswith',
  'contains',
  'exists',
  'cased',
  'neq',
  'windash',
  're',
  'i',
  'm',
  's',
  'base64',
  'base64offset',
  'utf16le',
  'utf16be',
  'utf16',
  'wide',
  'lt',
  'lte',
  'gt',
  'gte',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'year',
  'cidr',
  'expand',
  'fieldref',
];
const KNOWN = new Set(SIGMA_MODIFIERS);

/** The characters `windash` makes interchangeable (modifiers appendix §String Modifiers). */
const DASHES = '-/\u2013\u2014\u2015';

/**
 * The parts of a Sigma string (spec §Escape Character): `*` and `?` are wildcards; a backslash
 * escapes `*`, `?` and itself; a backslash before anything else is itself. With `expand`, `%name%`
 * is a placeholder and `\%` a plain percent sign (spec §Placeholders).
 *
 * @example
 *   parseSigmaString('C:\\Windows\\*.exe', false)
 *   // [{ t: 'text', s: 'C:\\Windows\\' }, { t: 'any' }, { t: 'text', s: '.exe' }]
 */
export function parseSigmaString(raw: string, placeholders: boolean): Part[] {
  const parts: Part[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') parts.push({ t: 'text', s: text });
    text = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\') {
      const next = raw[i + 1];
      if (next === '*' || next === '?' || next === '\\' || (placeholders && next === '%')) {
        text += next;
        i++;
      } else {
        text += c;
      }
    } else if (c === '*') {
      flush();
      parts.push({ t: 'any' });
    } else if (c === '?') {
      flush();
      parts.push({ t: 'one' });
    } else if (placeholders && c === '%') {
      const end = raw.indexOf('%', i + 1);
      const name = end > i + 1 ? raw.slice(i + 1, end) : '';
      if (/^[\w.-]+$/.test(name)) {
        flush();
        parts.push({ t: 'ph', name });
        i = end;
      } else {
        text += c;
      }
    } else {
      text += c;
    }
  }
  flush();
  return parts;
}

/**
 * The test of one item, checking every modifier and value; throws a `SigmaProblem` (with the
 * line) when the item is malformed, and returns by name what the engine does not support.
 */
export function planItem(item: SigmaItem, options: ModifierOptions = {}): PlanResult {
  const mods = item.modifiers;
  const unsupported: string[] = [];
  const fail = (message: string, line = item.line): never => {
    throw new SigmaProblem(message, line);
  };
  const seen = new Set<string>();
  let type: string | undefined;
  for (const [index, m] of mods.entries()) {
    if (m === '') fail(`${describe(item)}: an empty modifier`);
    if (!KNOWN.has(m)) {
      unsupported.push(`modifier ${m}`);
      continue;
    }
    if (seen.has(m)) fail(`${describe(item)}: modifier ${m} given twice`);
    seen.add(m);
    if (TYPES.has(m)) {
      if (type !== undefined) fail(`${describe(item)}: modifiers ${type} and ${m} cannot be combined`);
      type = m;
    }
    if (REGEX_FLAGS.has(m) && !mods.slice(0, index).includes('re')) {
      fail(`${describe(item)}: modifier ${m} is a flag of re and must follow it`);
    }
    if (TIME_UNITS.has(m) && [...seen].some((s) => s !== m && TIME_UNITS.has(s))) {
      fail(`${describe(item)}: only one time modifier per field`);
    }
  }
  if (unsupported.length > 0) return { unsupported };

  const has = (m: string) => seen.has(m);
  const keyword = item.field === null;
  const shaping = mods.filter((m) => WILDCARD_SHAPING.has(m) || ENCODINGS.has(m) || m === 'expand');
  const all = has('all');
  const negate = has('neq');
  const cased = has('cased');
  const time = mods.find((m) => TIME_UNITS.has(m)) as TimeUnit | undefined;

  if (all && !item.list) fail(`${describe(item)}: all needs a list of values (modifiers appendix)`);
  if (item.values.length === 0) fail(`${describe(item)}: no value`);

  // `field: null` (spec §Special Field Values): null is a type of its own, alone and unmodified.
  if (item.values.some((v) => v.value === null)) {
    if (keyword) fail('a keyword cannot be null');
    if (item.values.length > 1 || item.list)
      fail(`${describe(item)}: null cannot be part of a list of values`);
    if (mods.length > 0) fail(`${describe(item)}: null takes no modifier`);
    return { plan: { kind: 'null' }, unsupported: [] };
  }

  if (keyword) {
    for (const m of ['exists', 'fieldref', 'cidr', 'neq', ...COMPARISONS, ...TIME_UNITS]) {
      if (has(m)) fail(`keywords cannot take modifier ${m}`);
    }
  }

  if (type === 'exists') {
    if (mods.length > 1) fail(`${describe(item)}: exists takes no other modifier`);
    const v = item.values[0] as SigmaValue;
    if (item.values.length !== 1 || typeof v.value !== 'boolean') {
      fail(`${describe(item)}: exists needs true or false`, v.line);
    }
    return { plan: { kind: 'exists', expected: v.value === true }, unsupported: [] };
  }

  if (type === 'fieldref') {
    const others = mods.filter((m) => !['fieldref', 'neq', 'cased', 'all'].includes(m));
    if (others.length > 0) return { unsupported: others.map((m) => `modifier ${m} with fieldref`) };
    const names = item.values.map((v) => {
      if (typeof v.value !== 'string' || v.value === '')
        fail(`${describe(item)}: fieldref needs field names`, v.line);
      return v.text;
    });
    return { plan: { kind: 'fieldref', others: names, cased, negate, all }, unsupported: [] };
  }

  if (type === 're') {
    const others = mods.filter((m) => !['re', 'i', 'm', 's', 'all', 'neq', 'cased'].includes(m));
    if (others.length > 0) fail(`${describe(item)}: re cannot be combined with ${others.join(', ')}`);
    const flags = (has('i') ? 'i' : '') + (has('m') ? 'm' : '') + (has('s') ? 's' : '');
    const needs: Need[] = [];
    const tests = item.values.map((v): ScalarTest => {
      if (typeof v.value !== 'string') fail(`${describe(item)}: re needs a string`, v.line);
      const re = compileRegex(v.text, flags, v.line, describe(item));
      const literals = regexLiterals(re.source);
      needs.push(literals === undefined ? ANYTHING : someOf(literals));
      return (text) => re.test(text);
    });
    return { plan: withLiterals({ kind: 'values', tests, all, negate }, needs), unsupported: [] };
  }

  if (type === 'cidr') {
    const others = mods.filter((m) => !['cidr', 'all', 'neq'].includes(m));
    if (others.length > 0) fail(`${describe(item)}: cidr cannot be combined with ${others.join(', ')}`);
    const tests = item.values.map((v) => cidrTest(v, describe(item)));
    return { plan: { kind: 'values', tests, all, negate }, unsupported: [] };
  }

  if (type !== undefined && COMPARISONS.has(type)) {
    const others = mods.filter((m) => m !== type && m !== 'all' && !TIME_UNITS.has(m));
    if (others.length > 0) fail(`${describe(item)}: ${type} cannot be combined with ${others.join(', ')}`);
    const tests = item.values.map((v) => comparisonTest(type, v, describe(item)));
    const plan: ItemPlan & { kind: 'values' } = {
      kind: 'values',
      tests,
      all,
      negate,
      ...(time ? { extract: time } : {}),
    };
    // A value at least as large as a number holds as many digits (literals.ts, `numberNeed`).
    if (time || (type !== 'gt' && type !== 'gte')) return { plan, unsupported: [] };
    const needs = item.values.map((v) => numberNeed(Number(v.value)));
    return { plan: withLiterals(plan, needs), unsupported: [] };
  }

  if (time) {
    // A time modifier compares the component with numbers (`Time|hour: 3`), possibly with neq.
    const others = mods.filter((m) => m !== time && m !== 'all' && m !== 'neq');
    if (others.length > 0) fail(`${describe(item)}: ${time} cannot be combined with ${others.join(', ')}`);
    const tests = item.values.map((v) => comparisonTest('eq', v, describe(item)));
    return { plan: { kind: 'values', tests, all, negate, extract: time }, unsupported: [] };
  }

  // Plain values, shaped by the transformation modifiers in the order written (spec §Value Modifiers).
  const expand = has('expand');
  let values: SigmaString[][] = item.values.map((v) => [
    {
      parts: typeof v.value === 'string' ? parseSigmaString(v.value, expand) : [{ t: 'text', s: v.text }],
      bytes: false,
    },
  ]);
  for (const m of shaping) {
    values = values.map((alternatives) =>
      alternatives.flatMap((s) => transform(m, s, item, options, unsupported)),
    );
  }
  if (unsupported.length > 0) return { unsupported: [...new Set(unsupported)] };
  // Keywords are searched anywhere in the event (spec §Keywords search) unless anchored explicitly.
  if (keyword && !mods.some((m) => WILDCARD_SHAPING.has(m))) {
    values = values.map((alternatives) =>
      alternatives.map((s) => transform('contains', s, item, options, [])[0]!),
    );
  }
  const needs = values.map((alternatives) =>
    alternatives
      .map((s): Need => {
        const literal = partsLiteral(normalise(s.parts), cased);
        return literal === '' ? ANYTHING : someOf([literal]);
      })
      .reduce<Need>((a, b) => eitherNeed(a, b), NOTHING),
  );
  if (all) {
    const tests = values.map((alternatives) => oneOf(alternatives.map((s) => stringTest(s, cased))));
    return { plan: withLiterals({ kind: 'values', tests, all, negate }, needs), unsupported: [] };
  }
  // Values linked by OR make one test: the plain ones grouped by kind (a Set for equality, one loop
  // per anchoring), the others after them, so that a long list costs one call per event value.
  return {
    plan: withLiterals(
      { kind: 'values', tests: [oneOf(groupedTests(values.flat(), cased))], all, negate },
      needs,
    ),
    unsupported: [],
  };
}

/**
 * The plan with the literals its values need: with `all` every value must pass (any one value's
 * need is necessary), else one must (one of all their needs). A negated test (`neq`) passes on
 * values holding nothing of its own: nothing is known then.
 */
function withLiterals(plan: ItemPlan & { kind: 'values' }, needs: Need[]): ItemPlan {
  if (plan.negate || needs.length === 0) return plan;
  const need = plan.all
    ? needs.reduce<Need>((a, b) => bothNeed(a, b), ANYTHING)
    : needs.reduce<Need>((a, b) => eitherNeed(a, b), NOTHING);
  return need.length === 0 || need.some((c) => c.length === 0) ? plan : { ...plan, literals: need };
}

function oneOf(tests: ScalarTest[]): ScalarTest {
  if (tests.length === 1) return tests[0]!;
  return (text, lower) => {
    for (const t of tests) if (t(text, lower)) return true;
    return false;
  };
}

type Anchoring = 'equals' | 'startswith' | 'endswith' | 'contains' | 'anything';

/** A string that only needs a plain comparison: its text and how it is anchored; else undefined. */
function plainNeedle(parts: Part[]): { needle: string; anchoring: Anchoring } | undefined {
  const texts = parts.filter((p) => p.t === 'text');
  if (texts.length > 1 || parts.some((p) => p.t !== 'text' && p.t !== 'any')) return undefined;
  const needle = texts[0]?.t === 'text' ? texts[0].s : '';
  const lead = parts[0]?.t === 'any';
  const trail = parts.length > 1 && parts[parts.length - 1]?.t === 'any';
  if (parts.length === 1 && lead) return { needle, anchoring: 'anything' };
  if (parts.length > (lead ? 1 : 0) + (trail ? 1 : 0) + texts.length) return undefined;
  const anchoring = lead && trail ? 'contains' : lead ? 'endswith' : trail ? 'startswith' : 'equals';
  return { needle, anchoring };
}

function groupedTests(strings: SigmaString[], cased: boolean): ScalarTest[] {
  const groups: Record<Anchoring, string[]> = {
    equals: [],
    startswith: [],
    endswith: [],
    contains: [],
    anything: [],
  };
  const wildcards: string[] = [];
  for (const s of strings) {
    const parts = normalise(s.parts);
    const plain = plainNeedle(parts);
    if (plain) groups[plain.anchoring].push(cased ? plain.needle : plain.needle.toLowerCase());
    else wildcards.push(wildcardSource(parts, cased));
  }
  const tests: ScalarTest[] = [];
  if (groups.anything.length > 0) return [() => true];
  const { equals, startswith, endswith, contains } = groups;
  if (equals.length === 1) {
    const needle = equals[0]!;
    tests.push(cased ? (t) => t === needle : (_t, l) => l === needle);
  } else if (equals.length > 1) {
    const set = new Set(equals);
    tests.push(cased ? (t) => set.has(t) : (_t, l) => set.has(l));
  }
  const loop = (needles: string[], anchoring: 'contains' | 'startswith' | 'endswith') => {
    if (needles.length === 0) return;
    if (needles.length >= 3) {
      // An alternation of literals is searched in one pass, far faster than one search per needle;
      // the event side is lower-cased already, so no case folding is asked of the expression.
      const body = `(?:${needles.map(escapeRegex).join('|')})`;
      const re = new RegExp(
        anchoring === 'startswith' ? `^${body}` : anchoring === 'endswith' ? `${body}$` : body,
      );
      tests.push(cased ? (t) => re.test(t) : (_t, l) => re.test(l));
      return;
    }
    const has =
      anchoring === 'contains'
        ? (v: string, n: string) => v.includes(n)
        : anchoring === 'startswith'
          ? (v: string, n: string) => v.startsWith(n)
          : (v: string, n: string) => v.endsWith(n);
    tests.push(
      cased
        ? (t) => {
            for (const n of needles) if (has(t, n)) return true;
            return false;
          }
        : (_t, l) => {
            for (const n of needles) if (has(l, n)) return true;
            return false;
          },
    );
  };
  loop(contains, 'contains');
  loop(startswith, 'startswith');
  loop(endswith, 'endswith');
  if (wildcards.length > 0) tests.push(regexTest(wildcards, cased));
  return tests;
}

function describe(item: SigmaItem): string {
  return item.field === null ? 'keywords' : `field ${item.field}`;
}

function onlyText(s: SigmaString, modifier: string, item: SigmaItem): string {
  if (s.parts.some((p) => p.t !== 'text')) {
    throw new SigmaProblem(
      `${describe(item)}: ${modifier} cannot encode a wildcard or placeholder`,
      item.line,
    );
  }
  return s.parts.map((p) => (p.t === 'text' ? p.s : '')).join('');
}

/** The bytes a string stands for: its UTF-8 encoding, or itself when it already holds bytes. */
function bytesOf(s: SigmaString, text: string): Buffer {
  return Buffer.from(text, s.bytes ? 'latin1' : 'utf8');
}

function transform(
  m: string,
  s: SigmaString,
  item: SigmaItem,
  options: ModifierOptions,
  unsupported: string[],
): SigmaString[] {
  const first = s.parts[0];
  const last = s.parts[s.parts.length - 1];
  switch (m) {
    case 'contains': {
      const parts: Part[] = [{ t: 'any' }, ...s.parts, { t: 'any' }];
      return [{ ...s, parts: normalise(parts) }];
    }
    case 'startswith':
      return [{ ...s, parts: last?.t === 'any' ? s.parts : [...s.parts, { t: 'any' }] }];
    case 'endswith':
      return [{ ...s, parts: first?.t === 'any' ? s.parts : [{ t: 'any' }, ...s.parts] }];
    case 'base64':
      return [text(bytesOf(s, onlyText(s, m, item)).toString('base64'))];
    case 'base64offset':
      return base64Offsets(bytesOf(s, onlyText(s, m, item))).map(text);
    case 'utf16le':
    case 'wide':
    case 'utf16be':
    case 'utf16': {
      if (s.bytes) throw new SigmaProblem(`${describe(item)}: ${m} applied twice`, item.line);
      const encoding = m === 'utf16be' ? 'be' : 'le';
      const parts = s.parts.map((p): Part => {
        if (p.t === 'text') return { t: 'text', s: utf16(p.s, encoding) };
        if (p.t === 'dash') throw new SigmaProblem(`${describe(item)}: windash must follow ${m}`, item.line);
        return p;
      });
      // `utf16` is UTF-16 with a byte order mark, little-endian (modifiers appendix §Encoding).
      if (m === 'utf16') parts.unshift({ t: 'text', s: '\xff\xfe' });
      return [{ parts, bytes: true }];
    }
    case 'windash': {
      const parts: Part[] = [];
      for (const p of s.parts) {
        if (p.t !== 'text') {
          parts.push(p);
          continue;
        }
        let run = '';
        for (const c of p.s) {
          if (DASHES.includes(c)) {
            if (run !== '') parts.push({ t: 'text', s: run });
            run = '';
            parts.push({ t: 'dash' });
          } else {
            run += c;
          }
        }
        if (run !== '') parts.push({ t: 'text', s: run });
      }
      return [{ ...s, parts }];
    }
    case 'expand':
      return expandPlaceholders(s, options, unsupported);
    default:
      throw new SigmaProblem(`${describe(item)}: modifier ${m} is not a transformation`, item.line);
  }
}

function text(s: string): SigmaString {
  return { parts: [{ t: 'text', s }], bytes: false };
}

/** The UTF-16 code units of `s` as a string of bytes. */
function utf16(s: string, order: 'le' | 'be'): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const lo = String.fromCharCode(unit & 0xff);
    const hi = String.fromCharCode(unit >> 8);
    out += order === 'le' ? lo + hi : hi + lo;
  }
  return out;
}

/**
 * The three forms `bytes` takes inside a longer Base64 text, one per position modulo 3 (modifiers
 * appendix `base64offset`). Shifted by k bytes, the first characters also carry bits of what comes
 * before (none for k = 0, 2 for k = 1, 3 for k = 2) and the last ones bits of what follows or the
 * padding (none when the shifted length is a multiple of 3, else 3 or 2 characters with the `=`):
 * those are cut, what is left is the same whatever surrounds the value.
 */
export function base64Offsets(bytes: Uint8Array): string[] {
  const head = [0, 2, 3];
  const forms: string[] = [];
  for (let k = 0; k < 3; k++) {
    const shifted = Buffer.concat([Buffer.alloc(k), bytes]);
    const encoded = shifted.toString('base64');
    const tail = [0, 3, 2][shifted.length % 3] as number;
    const form = encoded.slice(head[k], encoded.length - tail);
    // A one-byte value shifted by one leaves nothing stable: an empty form would match anything.
    if (form !== '') forms.push(form);
  }
  return forms;
}

function expandPlaceholders(s: SigmaString, options: ModifierOptions, unsupported: string[]): SigmaString[] {
  let results: Part[][] = [[]];
  for (const p of s.parts) {
    if (p.t !== 'ph') {
      results = results.map((r) => [...r, p]);
      continue;
    }
    const values = options.placeholders?.[p.name];
    if (values === undefined || values.length === 0) {
      // Spec §Placeholders: a tool that cannot resolve a placeholder must reject the rule.
      unsupported.push(`placeholder %${p.name}%`);
      return [s];
    }
    const expansions = values.map((v) => parseSigmaString(v, false));
    results = results.flatMap((r) => expansions.map((e) => [...r, ...e]));
  }
  return results.map((parts) => ({ parts, bytes: s.bytes }));
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function compileRegex(source: string, flags: string, line: number, what: string): RegExp {
  // PCRE's leading inline flags (`(?i)…`, used by SigmaHQ rules) are the `i`, `m`, `s` sub-modifiers
  // written inside the expression; JavaScript takes them as flags of the whole expression.
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    flags = [...new Set([...flags, ...(inline[1] ?? '')])].join('');
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new SigmaProblem(
      `${what}: invalid regular expression ${JSON.stringify(source)}: ${(error as Error).message}`,
      line,
    );
  }
}

/**
 * The test of a Sigma string, picked once: a plain comparison when only leading or trailing `*`
 * are wildcards (most values), else an anchored regular expression compiled here.
 */
function stringTest(s: SigmaString, cased: boolean): ScalarTest {
  const parts = normalise(s.parts);
  if (plainNeedle(parts)) return groupedTests([{ parts, bytes: s.bytes }], cased)[0]!;
  return regexTest([wildcardSource(parts, cased)], cased);
}

/**
 * The regular expression of a Sigma string with inner wildcards, its text lower-cased unless
 * cased (the event side is lower-cased once per event: no case folding is asked of the engine).
 */
function wildcardSource(parts: Part[], cased: boolean): string {
  // A leading or trailing `*` is an unanchored end: `^.*` would make the engine retry at every position.
  const lead = parts[0]?.t === 'any';
  const trail = parts.length > 1 && parts[parts.length - 1]?.t === 'any';
  let source = lead ? '' : '^';
  for (const p of parts.slice(lead ? 1 : 0, trail ? -1 : undefined)) {
    if (p.t === 'text') source += escapeRegex(cased ? p.s : p.s.toLowerCase());
    else if (p.t === 'any') source += '.*';
    else if (p.t === 'one') source += '.';
    else if (p.t === 'dash') source += `[${escapeRegex(DASHES)}]`;
    else source += escapeRegex(cased ? `%${p.name}%` : `%${p.name}%`.toLowerCase());
  }
  return trail ? source : `${source}$`;
}

/** One expression for several wildcard values: one pass over the event value instead of one per value. */
function regexTest(sources: string[], cased: boolean): ScalarTest {
  const re = new RegExp(sources.length === 1 ? sources[0]! : sources.map((s) => `(?:${s})`).join('|'), 's');
  return cased ? (t) => re.test(t) : (_t, l) => re.test(l);
}

/** Adjacent text merged and runs of `*` made one, so that `a**b` is `a*b`. */
function normalise(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (p.t === 'text' && prev?.t === 'text') out[out.length - 1] = { t: 'text', s: prev.s + p.s };
    else if (p.t === 'any' && prev?.t === 'any') continue;
    else if (!(p.t === 'text' && p.s === '')) out.push(p);
  }
  return out;
}

function cidrTest(v: SigmaValue, what: string): ScalarTest {
  const match = typeof v.value === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(v.value.trim()) : null;
  const address = match?.[1] ?? '';
  const family = isIP(address);
  const prefix = Number(match?.[2]);
  if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new SigmaProblem(
      `${what}: ${JSON.stringify(v.text)} is not a CIDR range such as 10.0.0.0/8`,
      v.line,
    );
  }
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return (text) => {
    const f = isIP(text);
    return f !== 0 && list.check(text, f === 4 ? 'ipv4' : 'ipv6');
  };
}

function comparisonTest(op: string, v: SigmaValue, what: string): ScalarTest {
  const n =
    typeof v.value === 'number'
      ? v.value
      : typeof v.value === 'string' && v.value.trim() !== ''
        ? Number(v.value)
        : NaN;
  if (!Number.isFinite(n))
    throw new SigmaProblem(`${what}: ${JSON.stringify(v.text)} is not a number`, v.line);
  const number = (text: string) => (text.trim() === '' ? NaN : Number(text));
  switch (op) {
    case 'lt':
      return (t) => number(t) < n;
    case 'lte':
      return (t) => number(t) <= n;
    case 'gt':
      return (t) => number(t) > n;
    case 'gte':
      return (t) => number(t) >= n;
    default:
      return (t) => number(t) === n;
  }
}

/**
 * The component of a date a time modifier takes (modifiers appendix §Time Modifiers), in UTC:
 * the appendix warns that no time zone conversion is made. Undefined when `value` is no date.
 */
export function timeComponent(value: string | number, unit: TimeUnit): number | undefined {
  const date = new Date(typeof value === 'number' ? value : Date.parse(value));
  const ms = date.getTime();
  if (!Number.isFinite(ms)) return undefined;
  switch (unit) {
    case 'minute':
      return date.getUTCMinutes();
    case 'hour':
      return date.getUTCHours();
    case 'day':
      return date.getUTCDate();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'year':
      return date.getUTCFullYear();
    case 'week': {
      // ISO 8601 week: the week holding the year's first Thursday is week 1.
      const day = (date.getUTCDay() + 6) % 7;
      const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
      const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
      return Math.floor((thursday - yearStart) / 604_800_000) + 1;
    }
  }
}
