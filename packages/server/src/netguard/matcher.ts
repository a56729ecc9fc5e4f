/**
 * Blocklists compiled into one matcher: which rule, if any, decides a query name.
 *
 * A lookup walks the name's suffixes (`a.b.example.org`, `b.example.org`, `example.org`, `org`)
 * and looks each one up in one hash table, so its cost is the number of labels, whatever the size
 * of the lists. Wildcard and regular-expression rules are tried after that, and only those that
 * could still change the verdict.
 *
 * Precedence, as in the AdGuard DNS syntax ("important" and exception rules): an `$important` rule
 * beats any rule without it; at equal importance an allow rule (an `@@` exception, or any rule of
 * an allow-list, which counts as important) beats a block rule. Between rules of the same rank the
 * most specific name decides, then the earliest list, then the earliest line.
 *
 * Memory: a name is a place in its list's text, found through a hash table of typed arrays; a
 * rule costs about 30 bytes beyond the text. Measured with a million names (a 28 MB hosts file):
 * 32 MB of heap, the file's text, and 30 MB of typed arrays; the whole process held 133 MB.
 * A `Map` from name to rule, the obvious design, retains 80 MB of heap for the same names.
 *
 * A matcher never changes. Reloading compiles a new one and swaps the reference, so a query in
 * flight finishes against the old one and none is dropped.
 */
import { domainToASCII } from 'node:url';
import type { ParsedList, PatternRule, RuleAction, RuleKind, RuleSource } from './lists.js';
import { RuleFlag, ruleRank } from './lists.js';

export interface MatchResult {
  action: RuleAction;
  important: boolean;
  kind: RuleKind;
  /** The list that holds the rule. */
  list: string;
  line: number;
  /** The rule as written in its list. */
  text: string;
  /** For a domain rule, the listed name that covered the query (`tiktok.com` for `www.tiktok.com`). */
  domain?: string;
  /** What the rule stands for, when its list says (a spyware family: "Pegasus"). */
  label?: string;
}

export interface ListCount {
  list: string;
  action: RuleAction;
  domains: number;
  patterns: number;
  problems: number;
}

export interface Matcher {
  /**
   * The rule that decides `name`, or undefined when no rule covers it.
   *
   * @example
   *   compileMatcher([parseList('tiktok.com', { name: 'social' })]).match('www.TikTok.com.')
   *   // → { action: 'block', list: 'social', line: 1, text: 'tiktok.com', domain: 'tiktok.com', … }
   */
  match(name: string): MatchResult | undefined;
  /** Every rule that covers `name`, the deciding one first (what `rempart dns test` shows). */
  explain(name: string): MatchResult[];
  /** Rules per list, in the order the lists were given. */
  readonly counts: readonly ListCount[];
  /** Distinct names held by domain rules. */
  readonly names: number;
}

/** A list as the matcher keeps it: its columns and text. */
interface CompiledList {
  name: string;
  /** First rule number of the list. */
  offset: number;
  text: string;
  starts: Uint32Array;
  lengths: Uint8Array;
  overrides: ReadonlyMap<number, string>;
  lines: Uint32Array;
  flags: Uint8Array;
  source: RuleSource;
}

interface RankedPattern {
  rule: PatternRule;
  rank: number;
}

/** A domain rule that covers a query: its number and where the covered suffix starts. */
interface Hit {
  id: number;
  from: number;
}

// Rule numbers are stored plus one in the table, so that 0 marks an empty slot.
const MAX_RULES = 2 ** 30;
// FNV-1a (32 bits), fed from the end of the name so that one pass yields the hash of every suffix.
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const DOT = 0x2e;

/** Compiles lists, in precedence order for ties, into a matcher. */
export function compileMatcher(lists: readonly ParsedList[]): Matcher {
  return new CompiledMatcher(lists);
}

/**
 * An open-addressing hash table over typed arrays, whose keys are the names where the lists' text
 * holds them: a rule costs 4 bytes (its chain link) and a name about 16 (two table slots at the
 * load factor kept), against about 80 for a `Map` entry, its key string and its share of the
 * rehashing garbage. Looking a name up allocates nothing: one pass from its end hashes every
 * suffix, and a candidate is compared character by character in place.
 */
class CompiledMatcher implements Matcher {
  readonly counts: readonly ListCount[];
  readonly names: number;
  readonly #mask: number;
  /**
   * Two numbers a slot, side by side so that a probe reads one cache line: the head of the chain
   * of rules for the slot's name plus one (0 when empty), and the name's hash.
   */
  readonly #table: Int32Array;
  /** Next rule with the same name, -1 at the end of the chain. */
  readonly #next: Int32Array;
  readonly #lists: CompiledList[] = [];
  readonly #patterns: RankedPattern[] = [];

  constructor(lists: readonly ParsedList[]) {
    const total = lists.reduce((sum, list) => sum + list.domainCount, 0);
    if (total >= MAX_RULES) {
      throw new RangeError(`Too many domain rules to compile: ${total} (at most ${MAX_RULES - 1}).`);
    }
    // Load factor between 1/3 and 2/3: short probe runs, and the stored hash spares most string
    // comparisons.
    let capacity = 8;
    while (capacity < total * 1.5) capacity *= 2;
    this.#mask = capacity - 1;
    this.#table = new Int32Array(capacity * 2);
    this.#next = new Int32Array(total);
    let names = 0;
    let offset = 0;
    for (const list of lists) {
      const compiled: CompiledList = {
        name: list.name,
        offset,
        text: list.source.text,
        starts: list.domainStarts,
        lengths: list.domainLengths,
        overrides: list.domainOverrides,
        lines: list.domainLines,
        flags: list.domainFlags,
        source: list.source,
      };
      this.#lists.push(compiled);
      for (let i = 0; i < list.domainCount; i++) {
        if (this.#insert(compiled, i)) names++;
      }
      offset += list.domainCount;
      for (const rule of list.patterns) {
        this.#patterns.push({ rule, rank: ruleRank(rule.action, rule.important) });
      }
    }
    this.names = names;
    // Highest rank first; the sort is stable, so list and line order stay within a rank.
    this.#patterns.sort((a, b) => b.rank - a.rank);
    this.counts = lists.map((list) => ({
      list: list.name,
      action: list.action,
      domains: list.domainCount,
      patterns: list.patterns.length,
      problems: list.problemCount,
    }));
    Object.freeze(this);
  }

  match(name: string): MatchResult | undefined {
    const query = queryName(name);
    const end = query.endsWith('.') ? query.length - 1 : query.length;
    let best: Hit | undefined;
    let bestRank = -1;
    // Suffixes come shortest first: at equal rank a longer (more specific) one replaces the best,
    // and within one name the earlier rule keeps it.
    this.#eachHit(query, end, (id, from) => {
      const rank = rankOf(this.#flags(id));
      if (
        rank > bestRank ||
        (rank === bestRank &&
          best !== undefined &&
          (from < best.from || (from === best.from && id < best.id)))
      ) {
        best = { id, from };
        bestRank = rank;
      }
    });
    if (this.#patterns.length > 0 && (this.#patterns[0]?.rank ?? -1) > bestRank) {
      const bare = end === query.length ? query : query.slice(0, end);
      for (const pattern of this.#patterns) {
        if (pattern.rank <= bestRank) break;
        if (pattern.rule.regex.test(bare)) return patternResult(pattern.rule);
      }
    }
    return best === undefined ? undefined : this.#domainResult(best.id);
  }

  explain(name: string): MatchResult[] {
    const query = queryName(name);
    const end = query.endsWith('.') ? query.length - 1 : query.length;
    const hits: Hit[] = [];
    this.#eachHit(query, end, (id, from) => hits.push({ id, from }));
    const found = hits.map((hit) => ({
      result: this.#domainResult(hit.id),
      rank: rankOf(this.#flags(hit.id)),
      hit,
    }));
    const bare = end === query.length ? query : query.slice(0, end);
    const patterns = this.#patterns
      .filter((pattern) => pattern.rule.regex.test(bare))
      .map((pattern) => ({ result: patternResult(pattern.rule), rank: pattern.rank, hit: undefined }));
    // The order `match` decides in: rank, then domain rules before patterns, the most specific
    // name first, the earliest rule first.
    return [...found, ...patterns]
      .sort(
        (a, b) =>
          b.rank - a.rank ||
          (a.hit ? 0 : 1) - (b.hit ? 0 : 1) ||
          (a.hit && b.hit ? a.hit.from - b.hit.from || a.hit.id - b.hit.id : 0),
      )
      .map((f) => f.result);
  }

  /** Adds the i-th domain rule of `list`; true when its name was not in the table yet. */
  #insert(list: CompiledList, i: number): boolean {
    const id = list.offset + i;
    const length = list.lengths[i] ?? 0;
    let h = FNV_OFFSET;
    if (length > 0) {
      const text = list.text;
      const start = list.starts[i] ?? 0;
      for (let k = start + length - 1; k >= start; k--) h = Math.imul(h ^ text.charCodeAt(k), FNV_PRIME);
    } else {
      const name = list.overrides.get(i) ?? '';
      for (let k = name.length - 1; k >= 0; k--) h = Math.imul(h ^ name.charCodeAt(k), FNV_PRIME);
    }
    const table = this.#table;
    for (let slot = h & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const head = (table[slot * 2] ?? 0) - 1;
      if (head === -1) {
        table[slot * 2] = id + 1;
        table[slot * 2 + 1] = h;
        this.#next[id] = -1;
        return true;
      }
      // Equal hashes are rare but for the same name: only then are strings made to compare.
      if (table[slot * 2 + 1] === h && this.#name(head) === this.#name(id)) {
        // Order inside a chain does not matter: a lookup reads the whole chain.
        this.#next[id] = this.#next[head] ?? -1;
        this.#next[head] = id;
        return false;
      }
    }
  }

  /**
   * Calls `visit` for every domain rule covering `query[0, end)`: hashing from the end, each dot
   * (and the start) closes a suffix that is looked up.
   */
  #eachHit(query: string, end: number, visit: (id: number, from: number) => void): void {
    const table = this.#table;
    const mask = this.#mask;
    let h = FNV_OFFSET;
    for (let i = end - 1; i >= -1; i--) {
      const c = i >= 0 ? query.charCodeAt(i) : DOT;
      if (c === DOT && i + 1 < end) {
        const from = i + 1;
        const length = end - from;
        for (let slot = h & mask; ; slot = (slot + 1) & mask) {
          const head = (table[slot * 2] ?? 0) - 1;
          if (head === -1) break;
          if (table[slot * 2 + 1] !== h) continue;
          if (!this.#nameIs(head, query, from, length)) continue;
          for (let id = head; id !== -1; id = this.#next[id] ?? -1) {
            if (covers(this.#flags(id), from === 0)) visit(id, from);
          }
          break;
        }
      }
      if (i >= 0) h = Math.imul(h ^ c, FNV_PRIME);
    }
  }

  #list(id: number): CompiledList {
    const lists = this.#lists;
    let lo = 0;
    let hi = lists.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lists[mid]?.offset ?? 0) <= id) lo = mid;
      else hi = mid - 1;
    }
    return lists[lo] as CompiledList;
  }

  /** The name of a domain rule, as a string. */
  #name(id: number): string {
    const list = this.#list(id);
    const i = id - list.offset;
    const length = list.lengths[i] ?? 0;
    if (length === 0) return list.overrides.get(i) ?? '';
    const start = list.starts[i] ?? 0;
    return list.text.slice(start, start + length);
  }

  /** Whether the name of a domain rule is `query[from, from + length)`, compared in place. */
  #nameIs(id: number, query: string, from: number, length: number): boolean {
    const list = this.#list(id);
    const i = id - list.offset;
    const own = list.lengths[i] ?? 0;
    if (own === 0) {
      const name = list.overrides.get(i) ?? '';
      return name.length === length && query.startsWith(name, from);
    }
    if (own !== length) return false;
    const text = list.text;
    const start = list.starts[i] ?? 0;
    for (let k = 0; k < length; k++)
      if (text.charCodeAt(start + k) !== query.charCodeAt(from + k)) return false;
    return true;
  }

  #flags(id: number): number {
    const list = this.#list(id);
    return list.flags[id - list.offset] ?? 0;
  }

  #domainResult(id: number): MatchResult {
    const list = this.#list(id);
    const flags = list.flags[id - list.offset] ?? 0;
    const line = list.lines[id - list.offset] ?? 0;
    const label = list.source.label(line);
    return {
      action: flags & RuleFlag.allow ? 'allow' : 'block',
      important: (flags & RuleFlag.important) !== 0,
      kind: 'domain',
      list: list.name,
      line,
      text: list.source.line(line),
      domain: this.#name(id),
      ...(label === undefined ? {} : { label }),
    };
  }
}

/**
 * A query name in the form the lists' names have: lowercase (DNS names compare without case,
 * RFC 4343, and resolvers randomise it as a defence against spoofing, the "0x20" technique), and
 * in ASCII when a person typed it in Unicode.
 * The root dot is left for the caller to skip.
 */
function queryName(name: string): string {
  const lower = name.toLowerCase();
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(lower)) return lower;
  return domainToASCII(lower) || lower;
}

/** Whether a domain rule with `flags` covers the query when found at the query itself or a parent. */
function covers(flags: number, atQuery: boolean): boolean {
  switch (flags & RuleFlag.scopeMask) {
    case RuleFlag.domainOnly:
      return atQuery;
    case RuleFlag.subdomainsOnly:
      return !atQuery;
    default:
      return true;
  }
}

function rankOf(flags: number): number {
  return ruleRank(flags & RuleFlag.allow ? 'allow' : 'block', (flags & RuleFlag.important) !== 0);
}

function patternResult(rule: PatternRule): MatchResult {
  return {
    action: rule.action,
    important: rule.important,
    kind: rule.kind,
    list: rule.list,
    line: rule.line,
    text: rule.text,
    ...(rule.label === undefined ? {} : { label: rule.label }),
  };
}
