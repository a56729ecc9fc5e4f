/**
 * The literal text a rule needs in an event before it can match, derived once when the rule is
 * compiled: most rules look for strings (`contains`, `startswith`, `endswith`, plain values,
 * keywords, the fixed parts of regular expressions), and an event holding none of a rule's strings
 * cannot match it. The `LiteralIndex` (prefilter.ts) finds which of those strings an event holds in
 * one pass, so that a rule is only run on the events that could match it.
 *
 * What is derived here is a necessary condition, never more: a `Need` of strings is "at least one of
 * them occurs, in any case, in the raw line or a value of the event"; `undefined` is "nothing is
 * known" (the rule runs on every event of its log source). Strings are lower-case ASCII: the
 * comparison the index makes folds ASCII letters only (see prefilter.ts for why that is enough).
 */
import type { Part } from './modifiers.js';

/**
 * Clauses that all hold of an event a rule matches; a clause: one of its strings occurs in the
 * event. No clause: nothing is known (the rule runs on every event); an empty clause cannot hold
 * (the rule cannot match).
 */
export type Need = readonly Clause[];
export type Clause = readonly string[];

/** Nothing known. */
export const ANYTHING: Need = [];
/** Cannot hold: a rule that matches nothing. */
export const NOTHING: Need = [[]];

/** Literals longer than this are cut: a part of a needed string is needed too, and the index stays small. */
export const MAX_LITERAL = 16;

/**
 * A clause's member that is no string but "a number of at least this many digits": what a value
 * compared with `gt`/`gte` to a number of that many digits holds in its text, when the text is
 * decimal digits (a number a parser read from the line, a field cut out of it). Other texts that
 * `Number` reads as that large (`5e8`, `0x1DCD6500`, `Infinity`) are counted as holding it too
 * (`numberMayHold`). Only an index told that an event's numbers come from the line's digits reads
 * it (prefilter.ts, `scanTexts`); otherwise it is taken as found.
 */
// U+FFFF, a noncharacter, starts it: literals are ASCII (`longestAsciiRun`), so none reads as one.
const DIGITS_TOKEN = '\uffffdigits:';

/** The need of a value `gt`/`gte` to `n`: a number of as many digits as `n`'s whole part, or nothing known. */
export function numberNeed(n: number): Need {
  if (!(n >= 10) || n === Infinity) return ANYTHING;
  const digits = n >= 1e21 ? 22 : String(Math.floor(n)).length;
  return [[`${DIGITS_TOKEN}${digits}`]];
}

/** The digits a clause member asks for, or 0 when it is a string to look for. */
export function tokenDigits(member: string): number {
  return member.startsWith(DIGITS_TOKEN) ? Number(member.slice(DIGITS_TOKEN.length)) : 0;
}

/**
 * Whether `text` may hold, as a part of it, a text `Number` reads as a number of `digits` digits or
 * more: a run of that many decimal digits, or the other forms `Number` reads (an exponent, `0x`,
 * `0o`, `0b`, `Infinity`), whatever their size.
 */
export function numberMayHold(text: string, digits: number): boolean {
  return numberReach(text) >= digits;
}

/**
 * The most digits a number `text` holds may have: the length of its longest run of decimal digits,
 * or Infinity when it holds the start of a number `Number` reads otherwise (`infinity`, `0x`, `0o`,
 * `0b`, or a digit, an optional `.`, `e`, an optional sign and a digit, ASCII letters in any case).
 * One pass, by hand: the prefilter asks it of whole lines.
 */
export function numberReach(text: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++run > longest) longest = run;
      continue;
    }
    // Setting 0x20 lower-cases an ASCII letter, and gives no letter from any other character.
    const lower = c | 0x20;
    if (run > 0) {
      if (
        lower === 0x65 /* e */
          ? exponentDigitAt(text, i + 1)
          : c === 0x2e /* . */ && dotExponentAt(text, i + 1)
      )
        return Infinity;
      if (text.charCodeAt(i - 1) === 0x30 && (lower === 0x78 || lower === 0x6f || lower === 0x62))
        return Infinity;
    }
    if (lower === 0x69 /* i */ && infinityAt(text, i)) return Infinity;
    run = 0;
  }
  return longest;
}

/** After an `e`: an optional sign, then a digit. */
function exponentDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  const d = c === 0x2b || c === 0x2d ? text.charCodeAt(i + 1) : c;
  return d >= 0x30 && d <= 0x39;
}

/** After a `.` that follows a digit: `e`, an optional sign, then a digit. */
function dotExponentAt(text: string, i: number): boolean {
  return (text.charCodeAt(i) | 0x20) === 0x65 && exponentDigitAt(text, i + 1);
}

/** Whether `infinity`, in any case of its ASCII letters, starts at `i`. */
function infinityAt(text: string, i: number): boolean {
  if (i + 8 > text.length) return false;
  for (let k = 0; k < 8; k++) if ((text.charCodeAt(i + k) | 0x20) !== INFINITY.charCodeAt(k)) return false;
  return true;
}

const INFINITY = 'infinity';

/** Clauses kept per need: more cost a little per candidate rule and rarely spare a run. */
const MAX_CLAUSES = 4;

/** One of these strings occurs. */
export function someOf(literals: readonly string[]): Need {
  return [[...new Set(literals)]];
}

/** How few events a clause lets through, guessed: short strings occur in many lines, so do many strings. */
function score(clause: Clause): number {
  let shortest = 8;
  for (const s of clause) shortest = Math.min(shortest, s.length);
  return shortest * 10_000 - Math.min(clause.length, 9_999);
}

/** Both hold: every clause of both, the best ones when there are too many (any subset is necessary). */
export function bothNeed(a: Need, b: Need): Need {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const clauses = [...a, ...b];
  if (clauses.some((c) => c.length === 0)) return NOTHING;
  const seen = new Set<string>();
  const unique = clauses.filter((c) => {
    const key = [...c].sort().join('\0');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Beside a clause of long strings, one of short ones (an HTTP status, `@`) spares few runs and
  // costs a look at values that are otherwise never read (numbers): it is left out.
  const sorted = unique.sort((x, y) => score(y) - score(x));
  const strong = score(sorted[0]!) >= STRONG;
  return sorted.filter((c, i) => i === 0 || !strong || score(c) >= STRONG).slice(0, MAX_CLAUSES);
}

/** The score of a clause whose strings all have 4 characters or more. */
const STRONG = 4 * 10_000 - 9_999;

/**
 * Either holds: (A1 and A2) or (B1 and B2) is (A1 or B1) and (A1 or B2) and …; past MAX_CLAUSES
 * such clauses, the best clause of each side is kept, joined.
 */
export function eitherNeed(a: Need, b: Need): Need {
  if (isNothing(a)) return b;
  if (isNothing(b)) return a;
  if (a.length === 0 || b.length === 0) return ANYTHING;
  if (a.length * b.length <= MAX_CLAUSES)
    return bothNeed(
      a.flatMap((x) => b.map((y) => [...new Set([...x, ...y])])),
      ANYTHING,
    );
  return [[...new Set([...best(a), ...best(b)])]];
}

function isNothing(need: Need): boolean {
  return need.some((c) => c.length === 0);
}

function best(need: Need): Clause {
  return need.reduce((x, y) => (score(y) > score(x) ? y : x));
}

/** The longest run of ASCII characters of `text` (already lower-cased by the caller), cut to MAX_LITERAL. */
function longestAsciiRun(text: string): string {
  let best = '';
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) > 0x7f) {
      if (i - start > best.length) best = text.slice(start, i);
      start = i + 1;
    }
  }
  return best.length > MAX_LITERAL ? best.slice(0, MAX_LITERAL) : best;
}

/**
 * The literal a Sigma string needs in the value it matches: its longest piece of plain ASCII
 * text. Wildcards (`*`, `?`), `windash` dashes and placeholders separate pieces. Matching without
 * `cased` compares lower-cased texts (each text part lower-cased as the engine does it); with
 * `cased` the piece is in the value as written, so its lower-cased form is in the folded value.
 * Empty when the string has no ASCII text (then nothing is known of it).
 */
export function partsLiteral(parts: readonly Part[], cased: boolean): string {
  let best = '';
  let run = '';
  const close = () => {
    const piece = longestAsciiRun(run);
    if (piece.length > best.length) best = piece;
    run = '';
  };
  for (const p of parts) {
    if (p.t === 'text') run += cased ? p.s : p.s.toLowerCase();
    else close();
  }
  close();
  return asciiLower(best);
}

/** ASCII letters lower-cased, nothing else touched (the string is ASCII already). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

const QUANTIFIER = /^\{\d+(?:,\d*)?\}/;

/**
 * What a JavaScript regular expression (no `u` flag, as the engine compiles `re` values) needs in
 * the text it matches: per top-level alternative, its longest run of literal ASCII characters.
 * Everything that is not plainly a literal character (classes, groups, escapes of letters and
 * digits, `.`, anchors) ends a run, and a character made optional or repeated by a quantifier
 * leaves it: what is left is certainly in every match. Undefined when an alternative needs no
 * literal, or when the expression uses syntax read here as unknown.
 *
 * @example
 *   regexLiterals('(?:cmd|powershell)\\.exe /c') // ['.exe /c']
 *   regexLiterals('foo\\d+|bar') // ['foo', 'bar']
 */
export function regexLiterals(source: string): readonly string[] | undefined {
  const branches: string[] = [];
  let best = '';
  let run = '';
  const close = () => {
    const piece = longestAsciiRun(run);
    if (piece.length > best.length) best = piece;
    run = '';
  };
  const endBranch = (): boolean => {
    close();
    if (best === '') return false;
    branches.push(asciiLower(best));
    best = '';
    return true;
  };
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] as string;
    switch (c) {
      case '\\': {
        const next = source[i + 1];
        if (next === undefined) return undefined;
        if (/[A-Za-z0-9]/.test(next)) {
          // A class escape, a control, a code point or a back reference: never a plain character
          // here. Its payload is skipped so that it is not read as literal text.
          close();
          i += 2;
          if (next === 'x') i += hexRun(source, i, 2);
          else if (next === 'u') {
            if (source[i] === '{') return undefined;
            i += hexRun(source, i, 4);
          } else if (next === 'c') {
            if (/[A-Za-z]/.test(source[i] ?? '')) i++;
          } else if (next === 'k' || next === 'p' || next === 'P') return undefined;
          else if (/[0-9]/.test(next)) while (/[0-9]/.test(source[i] ?? '')) i++;
          continue;
        }
        // An escaped punctuation character is that character.
        run += next;
        i += 2;
        continue;
      }
      case '|':
        if (!endBranch()) return undefined;
        i++;
        continue;
      case '(': {
        close();
        const end = groupEnd(source, i);
        if (end < 0) return undefined;
        i = end;
        continue;
      }
      case '[': {
        close();
        const end = classEnd(source, i);
        if (end < 0) return undefined;
        i = end;
        continue;
      }
      case '*':
      case '?':
        // The atom before (a character of the run, or nothing when it was not one) may be absent.
        run = run.slice(0, -1);
        close();
        i++;
        continue;
      case '+':
        // At least once: the character is there, but what follows may come after repeats of it.
        close();
        i++;
        continue;
      case '{': {
        const quantifier = QUANTIFIER.exec(source.slice(i));
        if (quantifier) {
          run = run.slice(0, -1);
          close();
          i += quantifier[0].length;
        } else {
          // Without a valid quantifier, a brace is a literal brace (no `u` flag).
          run += c;
          i++;
        }
        continue;
      }
      case '.':
      case '^':
      case '$':
        close();
        i++;
        continue;
      default:
        run += c;
        i++;
    }
  }
  if (!endBranch()) return undefined;
  return [...new Set(branches)];
}

/** How many of the up to `max` characters at `from` are hexadecimal digits. */
function hexRun(s: string, from: number, max: number): number {
  let k = 0;
  while (k < max && /[0-9A-Fa-f]/.test(s[from + k] ?? '')) k++;
  return k;
}

/** The index after the `]` closing the class opened at `start`, or -1. */
function classEnd(s: string, start: number): number {
  let i = start + 1;
  if (s[i] === '^') i++;
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (s[i] === ']') return i + 1;
    else i++;
  }
  return -1;
}

/** The index after the `)` closing the group opened at `start` (classes and escapes skipped), or -1. */
function groupEnd(s: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '[') {
      i = classEnd(s, i);
      if (i < 0) return -1;
    } else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
      i++;
    }
  }
  return -1;
}
