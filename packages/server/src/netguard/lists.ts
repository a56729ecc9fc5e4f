/**
 * Blocklists as the DNS filtering world writes them, parsed into rules the matcher compiles.
 *
 * Three formats, often mixed in one file, recognised line by line:
 * - hosts files: `0.0.0.0 ads.example.com tracker.example.net` (the address is ignored, as Pi-hole does);
 * - domain lists: one name per line;
 * - the AdGuard DNS filtering syntax, a subset of Adblock Plus rules: `||example.org^`,
 *   `@@||example.org^`, `$important`, wildcards and `/regular expressions/`
 *   (https://adguard-dns.io/kb/general/dns-filtering-syntax/).
 *
 * In Rempart a domain rule covers the name and every name below it: blocking `tiktok.com` blocks
 * `www.tiktok.com`. AdGuard reads a bare name or a hosts line as the name alone; here it covers the
 * names below too, because a blocklist that lets `www.` or a numbered CDN host through does not
 * block the service. `|example.org^` narrows a rule to the name alone, `*.example.org` and
 * `.example.org` to the names below it.
 *
 * A bad line never stops a list: it is reported with its line number and the reason, and the rest
 * is used. Lists run to millions of lines, so domain rules are kept in columns that point into the
 * list's own text, and a rule is read back from that text only when a verdict shows it.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type ListFormat = 'hosts' | 'domains' | 'adblock';
export type RuleAction = 'block' | 'allow';
export type RuleKind = 'domain' | 'wildcard' | 'regex';
/** Which names a domain rule covers. */
export type DomainScope = 'domain-and-subdomains' | 'domain-only' | 'subdomains-only';

/** Where a rule comes from: enough for a verdict to say which list and which line decided. */
export interface RuleOrigin {
  list: string;
  /** 1-based line in the list's text. */
  line: number;
  /** The line as written (trimmed). */
  text: string;
}

interface RuleCommon extends RuleOrigin {
  action: RuleAction;
  /** `$important`: outranks every rule without it, exceptions included (AdGuard DNS syntax, "important"). */
  important: boolean;
  /** What the rule stands for, when its list says (the malware a spyware indicator points to). */
  label?: string;
}

export interface DomainRule extends RuleCommon {
  kind: 'domain';
  domain: string;
  scope: DomainScope;
}

export interface PatternRule extends RuleCommon {
  kind: 'wildcard' | 'regex';
  /** The regular expression tested against the whole name, lowercase and without its final dot. */
  regex: RegExp;
}

export type ListRule = DomainRule | PatternRule;

export interface ListProblem {
  line: number;
  text: string;
  reason: string;
}

export interface ParseListOptions {
  /** Names the list in every verdict and problem. */
  name: string;
  /** `auto` (the default) recognises each line; a named format reports lines that are not in it. */
  format?: 'auto' | ListFormat;
  /**
   * `allow` makes the whole list an allow-list: each of its rules lets its names through, whatever
   * the line says. An administrator's allow-list is a decision about the institution's own network,
   * so its rules outrank every blocklist, `$important` rules included.
   */
  action?: RuleAction;
}

/** Flags of a domain rule, one byte each. */
export const RuleFlag = {
  /** Low two bits: the scope. */
  scopeMask: 0b11,
  domainAndSubdomains: 0,
  domainOnly: 1,
  subdomainsOnly: 2,
  allow: 0b100,
  important: 0b1000,
} as const;

const SCOPES: readonly DomainScope[] = ['domain-and-subdomains', 'domain-only', 'subdomains-only'];

/** Precedence of a rule: important allow > important block > allow > block. */
export function ruleRank(action: RuleAction, important: boolean): number {
  return (important ? 2 : 0) + (action === 'allow' ? 1 : 0);
}

/** Problems kept per list: a list that is not a blocklist at all (an HTML page) is one problem a line. */
export const MAX_PROBLEMS = 1000;
/** Longest regular expression accepted, in characters. */
export const MAX_REGEX_LENGTH = 512;
/**
 * How much backtracking a pattern may cost. Each open-ended repetition (`*`, `+`, `{n,}`, or a
 * wide range like `{1,63}`) can multiply the work of a match by the name's length (≤ 253), and a
 * pattern not anchored with `^` is tried at every position, which is one factor more. Measured on
 * the worst names for each shape: degree 2 stays under half a millisecond, degree 3 takes tens of
 * milliseconds (`.*a.*ab`), degree 4 over a second (`.*a.*a.*ab`). So: at most two repetitions in
 * a pattern anchored with `^`, one otherwise.
 */
export const MAX_MATCH_DEGREE = 2;
/** A bounded repetition wider than this counts as open-ended. */
const WIDE_RANGE = 16;
const MAX_PROBLEM_TEXT = 200;

// Entries every hosts file carries for the machine itself; Pi-hole's gravity skips them too.
const HOSTS_BOILERPLATE = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

export type DomainCheck = { ok: true; domain: string } | { ok: false; reason: string };

// RFC 1035 §2.3.4: labels of 63 octets at most, names of 255 octets on the wire, so 253 characters
// written without the final dot. Underscores are not in the host name syntax of RFC 952/1123 but
// are legal DNS (RFC 2181 §11) and appear in real blocklists, so they are accepted.
const DOMAIN_SYNTAX = /^(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}$/;
const MAX_NAME_LENGTH = 253;
const NUMERIC_LABEL = /(?:^|\.)[0-9]+$/;

/**
 * A name as the matcher stores it: lowercase, without its final dot, internationalised names in
 * their ASCII (punycode) form, within the lengths of RFC 1035.
 *
 * @example normaliseDomain('Bücher.Example.') // { ok: true, domain: 'xn--bcher-kva.example' }
 */
export function normaliseDomain(input: string, options: { singleLabel?: boolean } = {}): DomainCheck {
  let name = input.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { ok: false, reason: 'empty name' };
  if (name.length > MAX_NAME_LENGTH || !DOMAIN_SYNTAX.test(name)) {
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(name)) {
      // UTS #46 processing, as browsers do: the name a browser would query.
      const ascii = domainToASCII(name);
      if (ascii === '') return { ok: false, reason: 'not a valid internationalised domain name' };
      name = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
    }
    if (name.length > MAX_NAME_LENGTH) {
      return { ok: false, reason: `name longer than ${MAX_NAME_LENGTH} characters (RFC 1035 §2.3.4)` };
    }
    if (!DOMAIN_SYNTAX.test(name)) {
      if (name.split('.').some((label) => label.length > 63)) {
        return { ok: false, reason: 'label longer than 63 characters (RFC 1035 §2.3.4)' };
      }
      if (name.split('.').includes('')) return { ok: false, reason: 'empty label' };
      if (isIP(name) !== 0) return { ok: false, reason: 'an IP address, not a domain name' };
      return { ok: false, reason: 'characters a domain name cannot hold' };
    }
  }
  // No top-level domain is all digits (RFC 3696 §2): "10.0.0" is a partial address, not a name.
  const lastChar = name.charCodeAt(name.length - 1);
  if (lastChar >= 0x30 && lastChar <= 0x39 && NUMERIC_LABEL.test(name)) {
    if (isIP(name) !== 0) return { ok: false, reason: 'an IP address, not a domain name' };
    return { ok: false, reason: 'ends in a numeric label: not a domain name' };
  }
  if (!options.singleLabel && !name.includes('.')) {
    return {
      ok: false,
      reason: `"${name}" is a single label; write ||${name}^ to block a whole top-level domain`,
    };
  }
  return { ok: true, domain: name };
}

/** Whether `name` is already in the form `normaliseDomain` gives (single labels allowed). */
export function isNormalisedDomain(name: string): boolean {
  const check = normaliseDomain(name, { singleLabel: true });
  return check.ok && check.domain === name;
}

/**
 * Why a regular expression is unsafe to run against names a stranger chooses, or undefined.
 *
 * Node's engine backtracks, and a query name is attacker-controlled, so a pattern that can take
 * exponential time is a denial of service. Refused: nested repetition (`(a+)+`, `(a|b)*`, `(x{1,3})+`),
 * back-references, more open-ended repetitions than MAX_MATCH_DEGREE allows, and anything longer
 * than MAX_REGEX_LENGTH. This refuses some harmless patterns (`([a-z]+\.)*`); the message says how to
 * write them instead.
 */
export function regexRisk(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) {
    return `regular expression longer than ${MAX_REGEX_LENGTH} characters`;
  }
  // One frame per open group: whether something inside may repeat or vary in length.
  const groups: { varies: boolean }[] = [{ varies: false }];
  let open = 0;
  // What a quantifier would apply to: nothing, a plain atom, or a group (and whether it varies).
  let last: 'none' | 'atom' | 'group-fixed' | 'group-varies' = 'none';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const top = groups[groups.length - 1] ?? { varies: false };
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9k]/.test(next)) return 'back-references can take exponential time';
      i++;
      last = 'atom';
    } else if (c === '[') {
      // Skip the class: nothing inside it is a quantifier.
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      last = 'atom';
    } else if (c === '(') {
      groups.push({ varies: false });
      // (?:…), (?=…), (?!…), (?<=…), (?<!…), (?<name>…): the prefix is not a quantifier.
      if (source[i + 1] === '?') {
        i++;
        if (source[i + 1] === '<' && source[i + 2] !== '=' && source[i + 2] !== '!') {
          const close = source.indexOf('>', i);
          i = close === -1 ? source.length : close;
        } else {
          i += source[i + 1] === '<' ? 2 : 1;
        }
      }
      last = 'none';
    } else if (c === ')') {
      const inner = groups.pop();
      if (!inner || groups.length === 0) return undefined; // unbalanced: the compiler says so
      const parent = groups[groups.length - 1];
      if (parent && inner.varies) parent.varies = true;
      last = inner.varies ? 'group-varies' : 'group-fixed';
    } else if (c === '|') {
      top.varies = true;
      last = 'none';
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let min = 0;
      let max = Infinity;
      if (c === '+') min = 1;
      else if (c === '?') max = 1;
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (!m) {
          last = 'atom'; // a literal brace
          continue;
        }
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        i += m[0].length - 1;
      }
      if (source[i + 1] === '?') i++; // lazy form: same cost
      if (last === 'group-varies' && max > 1) {
        return 'nested repetition (like (a+)+ or (a|b)*) can take exponential time; repeat a fixed group instead';
      }
      if (max - min > WIDE_RANGE) open++;
      if (min !== max) top.varies = true;
      last = 'none';
    } else {
      last = 'atom';
    }
  }
  return matchDegreeRisk(open, source.startsWith('^'));
}

function matchDegreeRisk(open: number, anchored: boolean): string | undefined {
  const allowed = MAX_MATCH_DEGREE - (anchored ? 0 : 1);
  if (open <= allowed) return undefined;
  return `too many open-ended repetitions (*, +, {n,}): at most ${MAX_MATCH_DEGREE} in a pattern anchored with ^, ${MAX_MATCH_DEGREE - 1} otherwise, or a name can take seconds to test`;
}

/** A regular expression for names, or why it is refused. */
export function compileNameRegex(
  source: string,
): { ok: true; regex: RegExp } | { ok: false; reason: string } {
  const risk = regexRisk(source);
  if (risk) return { ok: false, reason: risk };
  try {
    // Case-insensitive: names are compared lowercase, patterns are sometimes written otherwise.
    return { ok: true, regex: new RegExp(source, 'i') };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.replace(/^Invalid regular/, 'invalid regular') };
  }
}

/**
 * The text behind a list's rules, kept as the list's own string: it is the only copy of a list's
 * names (each rule points into it) and gives back a rule as written. Shared by the parsed list and
 * the matchers compiled from it.
 */
export class RuleSource {
  /** The list as read. */
  readonly text: string;
  readonly #labels: ReadonlyMap<number, string> | undefined;
  #lineStarts: Uint32Array | undefined;

  constructor(text: string, labels?: ReadonlyMap<number, string>) {
    this.text = text;
    this.#labels = labels && labels.size > 0 ? labels : undefined;
  }

  /** The trimmed text of a 1-based line. */
  line(line: number): string {
    // Found on first use: most lists are compiled and matched without their text ever shown.
    const starts = (this.#lineStarts ??= lineStarts(this.text));
    const start = starts[line - 1];
    if (start === undefined) return '';
    const next = starts[line];
    return this.text.slice(start, next === undefined ? this.text.length : next - 1).trim();
  }

  label(line: number): string | undefined {
    return this.#labels?.get(line);
  }
}

function lineStarts(text: string): Uint32Array {
  let count = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  const starts = new Uint32Array(count);
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts[n++] = i + 1;
  return starts;
}

/**
 * One list, parsed. Immutable: reloading a list parses it again.
 *
 * Domain rules are kept in columns, and a rule's name as a place in the list's text (offset and
 * length) rather than a string of its own: a rule then costs 10 bytes beyond the file (position,
 * length, line, flags) instead of about 40 for a string and its slot in an array, and the garbage
 * collector has a handful of objects to trace instead of a million. A name normalisation changed (uppercase, punycode) is
 * kept as a string on the side.
 */
export class ParsedList {
  readonly name: string;
  /** The list's own action: `allow` for an allow-list. */
  readonly action: RuleAction;
  readonly lineCount: number;
  readonly domainCount: number;
  /** Where each domain rule's name starts in `source.text`. */
  readonly domainStarts: Uint32Array;
  /** Its length there; 0 when the name is in `domainOverrides` instead. */
  readonly domainLengths: Uint8Array;
  readonly domainOverrides: ReadonlyMap<number, string>;
  readonly domainLines: Uint32Array;
  /** `RuleFlag` bits. */
  readonly domainFlags: Uint8Array;
  /** Wildcard and regular-expression rules, in line order. */
  readonly patterns: readonly PatternRule[];
  /** The first MAX_PROBLEMS problems; `problemCount` counts them all. */
  readonly problems: readonly ListProblem[];
  readonly problemCount: number;
  readonly source: RuleSource;

  /** @internal Built by `parseList` and `listFromEntries`. */
  constructor(parts: {
    name: string;
    action: RuleAction;
    lineCount: number;
    domainCount: number;
    domainStarts: Uint32Array;
    domainLengths: Uint8Array;
    domainOverrides: ReadonlyMap<number, string>;
    domainLines: Uint32Array;
    domainFlags: Uint8Array;
    patterns: PatternRule[];
    problems: ListProblem[];
    problemCount: number;
    source: RuleSource;
  }) {
    this.name = parts.name;
    this.action = parts.action;
    this.lineCount = parts.lineCount;
    this.domainCount = parts.domainCount;
    this.domainStarts = parts.domainStarts;
    this.domainLengths = parts.domainLengths;
    this.domainOverrides = parts.domainOverrides;
    this.domainLines = parts.domainLines;
    this.domainFlags = parts.domainFlags;
    this.patterns = parts.patterns;
    this.problems = parts.problems;
    this.problemCount = parts.problemCount;
    this.source = parts.source;
    Object.freeze(this);
  }

  /** Number of rules (a hosts line naming three hosts holds three). */
  get size(): number {
    return this.domainCount + this.patterns.length;
  }

  /** The name of the i-th domain rule, normalised. */
  domain(i: number): string {
    const length = this.domainLengths[i] ?? 0;
    if (length === 0) return this.domainOverrides.get(i) ?? '';
    const start = this.domainStarts[i] ?? 0;
    return this.source.text.slice(start, start + length);
  }

  /**
   * The names of the domain rules, in line order: a new array on each read, meant for small lists
   * (a category exported into a device profile), not for a list of a million names.
   */
  get domains(): string[] {
    return Array.from({ length: this.domainCount }, (_, i) => this.domain(i));
  }

  /** Every rule as an object, domain rules first. Meant for display and tests, not for matching. */
  *rules(): IterableIterator<ListRule> {
    for (let i = 0; i < this.domainCount; i++) {
      const flags = this.domainFlags[i] ?? 0;
      const line = this.domainLines[i] ?? 0;
      const label = this.source.label(line);
      yield {
        kind: 'domain',
        domain: this.domain(i),
        scope: SCOPES[flags & RuleFlag.scopeMask] ?? 'domain-and-subdomains',
        action: flags & RuleFlag.allow ? 'allow' : 'block',
        important: (flags & RuleFlag.important) !== 0,
        list: this.name,
        line,
        text: this.source.line(line),
        ...(label === undefined ? {} : { label }),
      };
    }
    yield* this.patterns;
  }
}

/** Accumulates one list's rules while its lines are read. */
class ListBuilder {
  count = 0;
  starts = new Uint32Array(1024);
  lengths = new Uint8Array(1024);
  lines = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  readonly overrides = new Map<number, string>();
  readonly patterns: PatternRule[] = [];
  readonly problems: ListProblem[] = [];
  problemCount = 0;

  constructor(
    readonly name: string,
    readonly action: RuleAction,
    readonly text: string,
  ) {}

  /** Flags for a rule of this list: an allow-list turns every rule into an overriding allow. */
  flagsFor(allow: boolean, important: boolean): number {
    if (this.action === 'allow') return RuleFlag.allow | RuleFlag.important;
    return (allow ? RuleFlag.allow : 0) | (important ? RuleFlag.important : 0);
  }

  /**
   * Adds a domain rule for the normalised `domain`, written at offset `at` of the text (-1 when
   * it is not). The offset is only a hint: the name is kept on the side when the text differs.
   */
  addDomain(domain: string, line: number, flags: number, at: number): void {
    const n = this.count;
    if (n === this.lines.length) this.#grow();
    if (at >= 0 && this.text.startsWith(domain, at)) {
      this.starts[n] = at;
      this.lengths[n] = domain.length;
    } else {
      this.overrides.set(n, domain);
    }
    this.lines[n] = line;
    this.flags[n] = flags;
    this.count = n + 1;
  }

  #grow(): void {
    const size = this.lines.length * 2;
    const grow = <T extends Uint8Array | Uint32Array>(old: T, made: T): T => {
      made.set(old);
      return made;
    };
    this.starts = grow(this.starts, new Uint32Array(size));
    this.lengths = grow(this.lengths, new Uint8Array(size));
    this.lines = grow(this.lines, new Uint32Array(size));
    this.flags = grow(this.flags, new Uint8Array(size));
  }

  addPattern(kind: 'wildcard' | 'regex', regex: RegExp, flags: number, line: number, text: string): void {
    this.patterns.push({
      kind,
      regex,
      action: flags & RuleFlag.allow ? 'allow' : 'block',
      important: (flags & RuleFlag.important) !== 0,
      list: this.name,
      line,
      text,
    });
  }

  problem(line: number, text: string, reason: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS) {
      const shown = text.length > MAX_PROBLEM_TEXT ? `${text.slice(0, MAX_PROBLEM_TEXT)}…` : text;
      this.problems.push({ line, text: shown, reason });
    }
  }

  build(lineCount: number, labels?: ReadonlyMap<number, string>): ParsedList {
    const n = this.count;
    return new ParsedList({
      name: this.name,
      action: this.action,
      lineCount,
      domainCount: n,
      domainStarts: this.starts.slice(0, n),
      domainLengths: this.lengths.slice(0, n),
      domainOverrides: this.overrides,
      domainLines: this.lines.slice(0, n),
      domainFlags: this.flags.slice(0, n),
      patterns: this.patterns,
      problems: this.problems,
      problemCount: this.problemCount,
      source: new RuleSource(this.text, labels),
    });
  }
}

/**
 * Parses a blocklist. Never throws on its content: bad lines come back as problems.
 *
 * @example
 *   const list = parseList('||ads.example^\n@@||good.ads.example^\n0.0.0.0 t.example', { name: 'ads' });
 *   list.size // 3
 */
export function parseList(text: string, options: ParseListOptions): ParsedList {
  const builder = new ListBuilder(options.name, options.action ?? 'block', text);
  const format = options.format ?? 'auto';
  let line = 0;
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    line++;
    parseLine(builder, text.slice(start, end === -1 ? text.length : end), line, format, start);
    if (end === -1) break;
    start = end + 1;
  }
  return builder.build(line);
}

export interface ListEntry {
  domain: string;
  /** The rule text a verdict shows; the domain when absent. */
  text?: string;
  label?: string;
}

/**
 * A list made from names that come from elsewhere (a STIX bundle, a form), one entry a "line".
 * Each entry covers its name and the names below it.
 */
export function listFromEntries(
  name: string,
  entries: readonly ListEntry[],
  options: { action?: RuleAction } = {},
): ParsedList {
  const texts = entries.map((entry) => (entry.text ?? entry.domain).replace(/[\r\n]+/g, ' '));
  const builder = new ListBuilder(name, options.action ?? 'block', texts.join('\n'));
  const labels = new Map<number, string>();
  let lineStart = 0;
  entries.forEach((entry, i) => {
    const line = i + 1;
    const text = texts[i] ?? '';
    if (entry.label !== undefined) labels.set(line, entry.label);
    const check = normaliseDomain(entry.domain);
    if (check.ok) {
      const inText = text.indexOf(check.domain);
      builder.addDomain(
        check.domain,
        line,
        builder.flagsFor(false, false),
        inText === -1 ? -1 : lineStart + inText,
      );
    } else {
      builder.problem(line, text, check.reason);
    }
    lineStart += text.length + 1;
  });
  return builder.build(entries.length, labels);
}

const COSMETIC = /#[@?$%]?#|#@[$%]#|\$\$/;
const IP_FIRST = /^[0-9a-f:.]/i;

// The shapes nearly every line of a large list has, recognised before the general rules.
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const SINKHOLES = new Set(['0.0.0.0', '127.0.0.1', '::', '::1']);

/** Parses one line; `lineStart` is its offset in the list's text. */
function parseLine(
  b: ListBuilder,
  raw: string,
  line: number,
  format: 'auto' | ListFormat,
  lineStart: number,
): void {
  let lead = 0;
  while (lead < raw.length && isSpace(raw.charCodeAt(lead))) lead++;
  const t = lead === 0 ? raw.trimEnd() : raw.trim();
  if (t === '') return;
  const at = lineStart + lead;
  const c = t.charCodeAt(0);
  // "#" and "!" start comments in every format; "[Adblock Plus 2.0]" heads adblock lists.
  if (c === 0x23 /* # */ || c === 0x21 /* ! */) return;
  if (c === 0x5b /* [ */ && t.endsWith(']')) return;

  if (format !== 'hosts' && PLAIN_NAME.test(t)) {
    if (HOSTS_BOILERPLATE.has(t.toLowerCase())) return;
    return addName(b, t, line, t, RuleFlag.domainAndSubdomains, at);
  }
  if (
    format !== 'hosts' &&
    format !== 'domains' &&
    c === 0x7c /* | */ &&
    t.startsWith('||') &&
    t.endsWith('^')
  ) {
    const name = t.slice(2, -1);
    if (PLAIN_NAME.test(name)) return addName(b, t, line, name, RuleFlag.domainAndSubdomains, at + 2, true);
  }

  const space = firstSpace(t);
  const first = space === -1 ? t : t.slice(0, space);
  if (space !== -1 && (SINKHOLES.has(first) || (IP_FIRST.test(first) && isIP(first) !== 0))) {
    if (format === 'domains') return b.problem(line, t, 'a hosts line in a domain list');
    return parseHostsLine(b, t, line, space, at);
  }
  if (format === 'hosts') {
    return b.problem(line, t, 'not a hosts line: expected an address followed by names');
  }
  if (isSubdomainsShorthand(t)) return parseDomainLine(b, t, line, RuleFlag.subdomainsOnly, at);
  if (looksAdblock(t)) {
    if (format === 'domains') return b.problem(line, t, 'adblock syntax in a domain list');
    return parseAdblockLine(b, t, line, at);
  }
  return parseDomainLine(b, t, line, RuleFlag.domainAndSubdomains, at);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff;
}

function firstSpace(t: string): number {
  for (let i = 0; i < t.length; i++) if (isSpace(t.charCodeAt(i))) return i;
  return -1;
}

function addName(
  b: ListBuilder,
  t: string,
  line: number,
  name: string,
  scope: number,
  at: number,
  singleLabel = false,
): void {
  const check = normaliseDomain(name, { singleLabel });
  if (check.ok) b.addDomain(check.domain, line, b.flagsFor(false, false) | scope, at);
  else b.problem(line, t, check.reason);
}

/** `*.example.org` and `.example.org`: the names below example.org (AdGuard documents the second). */
function isSubdomainsShorthand(t: string): boolean {
  return /^(?:\*\.|\.)[^*^|$/@#\s]+(?:\s+#.*)?$/.test(t);
}

function looksAdblock(t: string): boolean {
  return (
    t.startsWith('@@') || t.startsWith('|') || t.startsWith('/') || t.startsWith('://') || /[\^$*#]/.test(t)
  );
}

/** `address name name… # comment`: Pi-hole's reading, the address ignored. */
function parseHostsLine(b: ListBuilder, t: string, line: number, space: number, at: number): void {
  const flags = b.flagsFor(false, false);
  let names = 0;
  for (let i = space; i < t.length;) {
    while (i < t.length && isSpace(t.charCodeAt(i))) i++;
    if (i >= t.length || t.charCodeAt(i) === 0x23 /* # */) break;
    let j = i;
    while (j < t.length && !isSpace(t.charCodeAt(j)) && t.charCodeAt(j) !== 0x23) j++;
    const name = t.slice(i, j);
    names++;
    if (!HOSTS_BOILERPLATE.has(name.toLowerCase())) {
      const check = normaliseDomain(name);
      if (check.ok) b.addDomain(check.domain, line, flags, at + i);
      else b.problem(line, t, `"${name}": ${check.reason}`);
    }
    i = j;
  }
  if (names === 0) b.problem(line, t, 'an address with no name');
}

function parseDomainLine(b: ListBuilder, t: string, line: number, scope: number, at: number): void {
  const hash = t.search(/\s#/);
  let name = (hash === -1 ? t : t.slice(0, hash)).trim();
  if (firstSpace(name) !== -1) return b.problem(line, t, 'more than one word on a line of a domain list');
  let offset = 0;
  if (scope === RuleFlag.subdomainsOnly) offset = name.startsWith('*') ? 2 : 1;
  else if (HOSTS_BOILERPLATE.has(name.toLowerCase())) return;
  name = name.slice(offset);
  addName(b, t, line, name, scope, at + offset);
}

// Modifiers of the AdGuard DNS syntax this parser applies. Every other one changes which clients,
// record types or answers a rule is about; applying such a rule without it would block too much,
// so the rule is skipped and reported.
const SUPPORTED_MODIFIERS = new Set(['important']);

function parseAdblockLine(b: ListBuilder, t: string, line: number, at: number): void {
  if (COSMETIC.test(t)) {
    return b.problem(line, t, 'a cosmetic (page element) rule: DNS filtering sees names only');
  }
  let body = t;
  let allow = false;
  if (body.startsWith('@@')) {
    allow = true;
    body = body.slice(2);
  }
  let modifiers = '';
  let regexSource: string | undefined;
  if (body.startsWith('/') && body.length > 2) {
    // /regex/ or /regex/$modifiers: the rule ends at the last slash.
    const m = /^\/(.+)\/(?:\$([^/]*))?$/.exec(body);
    if (!m) return b.problem(line, t, 'a regular expression rule must be written /expression/');
    regexSource = m[1] ?? '';
    modifiers = m[2] ?? '';
  } else {
    const dollar = body.indexOf('$');
    if (dollar !== -1) {
      modifiers = body.slice(dollar + 1);
      body = body.slice(0, dollar);
    }
  }

  let important = false;
  if (modifiers !== '') {
    const unsupported: string[] = [];
    for (const raw of modifiers.split(',')) {
      const modifier = raw.trim().toLowerCase();
      if (!SUPPORTED_MODIFIERS.has(modifier)) unsupported.push(`$${modifier.split('=')[0] ?? modifier}`);
      else if (modifier === 'important') important = true;
    }
    if (unsupported.length > 0) {
      return b.problem(line, t, `unsupported modifier ${unsupported.join(', ')}: rule skipped`);
    }
  }
  const flags = b.flagsFor(allow, important);

  if (regexSource !== undefined) {
    const compiled = compileNameRegex(regexSource);
    if (!compiled.ok) return b.problem(line, t, compiled.reason);
    return b.addPattern('regex', compiled.regex, flags, line, t);
  }
  parseHostPattern(b, body, t, line, flags, at + (allow ? 2 : 0));
}

/**
 * The host part of an adblock rule. `||` anchors at a label start, `|` or `://` at the start of
 * the name; `^` (a separator: in a bare name, its end) or `|` anchors at the end; `*` is any run
 * of characters.
 */
function parseHostPattern(
  b: ListBuilder,
  body: string,
  t: string,
  line: number,
  flags: number,
  bodyAt: number,
): void {
  let p = body.toLowerCase();
  let at = bodyAt;
  let start: 'label' | 'name' | 'none' = 'none';
  if (p.startsWith('||')) {
    start = 'label';
    p = p.slice(2);
    at += 2;
  } else if (p.startsWith('|')) {
    start = 'name';
    p = p.slice(1);
    at += 1;
  } else if (p.startsWith('://')) {
    start = 'name';
    p = p.slice(3);
    at += 3;
  }
  let end = false;
  if (p.endsWith('^|')) {
    end = true;
    p = p.slice(0, -2);
  } else if (p.endsWith('^') || p.endsWith('|')) {
    end = true;
    p = p.slice(0, -1);
  }
  if (p === '') return b.problem(line, t, 'no name in the rule');
  if (/[/:?=&^|]/.test(p)) {
    return b.problem(line, t, 'a rule about URLs (path, port or query): DNS filtering sees names only');
  }
  const wildcard = p.includes('*');
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(p)) {
    if (wildcard) return b.problem(line, t, 'an internationalised name in a wildcard: write it in punycode');
    const ascii = domainToASCII(p);
    if (ascii === '') return b.problem(line, t, 'not a valid internationalised domain name');
    p = ascii;
  }
  if (!/^[a-z0-9._*-]+$/.test(p)) return b.problem(line, t, 'characters a domain name cannot hold');

  if (!wildcard && end && start !== 'none') {
    // ||example.org^ and |example.org^: a name and, for ||, the names below it.
    const check = normaliseDomain(p, { singleLabel: start === 'label' });
    if (!check.ok) return b.problem(line, t, check.reason);
    const scope = start === 'label' ? RuleFlag.domainAndSubdomains : RuleFlag.domainOnly;
    return b.addDomain(check.domain, line, flags | scope, at);
  }
  if (!wildcard && start === 'none') {
    // A bare name with modifiers (example.org$important): a domain rule like any bare name;
    // .example.org: the names below it.
    const below = p.startsWith('.');
    const check = normaliseDomain(below ? p.slice(1) : p, { singleLabel: below });
    if (!check.ok) return b.problem(line, t, check.reason);
    const scope = below ? RuleFlag.subdomainsOnly : RuleFlag.domainAndSubdomains;
    return b.addDomain(check.domain, line, flags | scope, below ? at + 1 : at);
  }
  if (end && start !== 'name' && p.startsWith('*.') && !p.slice(2).includes('*')) {
    // ||*.example.org^ and *.example.org^: the names below example.org.
    const check = normaliseDomain(p.slice(2), { singleLabel: true });
    if (!check.ok) return b.problem(line, t, check.reason);
    return b.addDomain(check.domain, line, flags | RuleFlag.subdomainsOnly, at + 2);
  }

  const collapsed = p.replace(/\*+/g, '*');
  const risk = matchDegreeRisk(collapsed.split('*').length - 1, start === 'name');
  if (risk) return b.problem(line, t, risk.replace('open-ended repetitions (*, +, {n,})', 'wildcards'));
  const pattern = collapsed.replace(/\./g, '\\.').replace(/\*/g, '.*');
  const anchoredStart = start === 'label' ? '(?:^|\\.)' : start === 'name' ? '^' : '';
  b.addPattern('wildcard', new RegExp(`${anchoredStart}${pattern}${end ? '$' : ''}`), flags, line, t);
}
