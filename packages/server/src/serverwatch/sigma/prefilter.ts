/**
 * The prefilter of a `RuleSet`: which rules of a log source could match an event, found in one pass
 * over the event's text instead of running each rule. The literals the rules need (literals.ts) make
 * one Aho-Corasick automaton; an event's raw line and values are run through it once, and only the
 * rules each of whose clauses had one of its literals turn up, and those that need none, are run.
 *
 * Exactness: a rule is skipped only when the event holds none of the literals of one of its
 * clauses, which the rule then cannot match. The automaton compares ASCII letters in any case: a
 * literal is lower-case ASCII, and an event value `v` whose `toLowerCase()` holds it also holds it
 * once each character of `v` is mapped to its lower-case ASCII letter. That holds because lower-casing is character by character
 * (the context of the Greek final sigma gives non-ASCII either way), and the only characters beyond
 * ASCII whose lower case holds ASCII are U+0130 (`i` and a combining dot) and U+212A (`k`), which
 * are read as `i` and `k` here (prefilter.test.ts checks both facts over every code point).
 * The event is read as the rules read it: the raw line and every value, nested ones too, numbers
 * and booleans as the text the rules compare (only when a literal could be in such a text). A value
 * that is part of the raw line holds no literal the line does not: it is not read again, whether
 * the scan finds it in the line or the parser said so (an event's `composed`).
 */
import type { FieldValue, WatchEvent } from '../event.js';
import { MAX_LITERAL, numberReach, tokenDigits, type Need } from './literals.js';

/** Characters beyond ASCII whose lower case holds an ASCII character, and that character. */
export const NON_ASCII_FOLDS: ReadonlyMap<number, string> = new Map([
  [0x130, 'i'],
  [0x212a, 'k'],
]);

/** Whether `literal` may be part of `String(n)` for a number n (`-1.5e+21`, `-Infinity`, `NaN`), lower-cased. */
function inNumber(literal: string): boolean {
  return /^[0-9.e+-]+$/.test(literal) || '-infinity'.includes(literal) || 'nan'.includes(literal);
}

/**
 * The rules that could match an event, of a fixed list: each rule's need (literals.ts).
 *
 * @example
 *   const index = new LiteralIndex([[['wget ', 'curl ']], []], 34);
 *   index.scan(event);
 *   index.candidates(); // [1], or [0, 1] when the event holds `wget ` or `curl ` (in any case)
 */
export class LiteralIndex {
  /** Whether any rule has literals at all (else scanning is pointless). */
  readonly useful: boolean;
  /** Per rule, its clauses at `clauseStart[rule]` to `clauseStart[rule + 1]` of `ruleClauses`. */
  private readonly clauseStart: Int32Array;
  private readonly ruleClauses: Int32Array;
  /** Per clause, its rules at `ruleStart[clause]` to `ruleStart[clause + 1]` of `clauseRules`. */
  private readonly ruleStart: Int32Array;
  private readonly clauseRules: Int32Array;
  /** The rules that need no literal, in order: run on every event. */
  private readonly always: readonly number[];
  /** Per clause and per rule, the scan (epoch) that last found one of its literals. */
  private readonly clauseMarks: Int32Array;
  private readonly ruleMarks: Int32Array;
  private epoch = 0;
  /** Per clause, the digits of a number that meets it (0: none; literals.ts, `numberNeed`). */
  private readonly clauseDigits: Int32Array;
  /** The clauses a number may meet, and the rules whose every clause is such. */
  private readonly numberClauses: Int32Array;
  private readonly numbersOnly: Int32Array;
  /**
   * Whether the current scan is of a line's head (`scanTexts`), whose numbers come from the
   * line's digits: a clause a number meets is then judged on the line and texts when needed
   * (`numbersMet`), else taken as met.
   */
  private headScan = false;
  private headRaw = '';
  private headTexts: readonly string[] = [];
  /** The epoch the line's numbers were read in, and the most digits they may have (`numberReach`). */
  private numbersEpoch = 0;
  private reach = 0;
  /** The clauses of the frozen lists of texts `scanTexts` was given, each scanned alone. */
  private readonly textClauses = new Map<readonly string[], Int32Array>();
  /** Rules with a clause found by the current scan, in the order found. */
  private readonly touched: Int32Array;
  /** How many of `touched` the current scan filled (each rule once, by `ruleMarks`). */
  private touchedCount = 0;
  private readonly found: number[] = [];
  /** The class of each UTF-16 code unit: one load per character, whatever the character. */
  private readonly classOf = new Uint8Array(0x10000);
  /**
   * Transitions: from the state at offset `s` (its number times `width`), on character class `c`,
   * the offset of the next state is `delta[s + c]`. Offsets rather than numbers spare a
   * multiplication on the path each character waits for.
   */
  private readonly delta: Int32Array;
  /** States are numbered so that those where literals end come last, from this offset. */
  private readonly firstOutput: number;
  /** The shortest literal: a string value shorter than this cannot hold one. */
  private readonly shortest: number;
  /**
   * Whether `scanTexts` can stand for `scan`: not when a literal could be in the text of a number
   * or a boolean, which only an event's fields hold, or is longer than MAX_LITERAL (literals.ts
   * cuts them to that).
   */
  readonly textsSuffice: boolean;
  /** Per such state, by its number less the first of them, its clauses at `outStart[s]` to `outStart[s + 1]`. */
  private readonly outStart: Int32Array;
  private readonly outClauses: Int32Array;
  private readonly width: number;
  private readonly scanNumbers: boolean;
  private readonly scanBooleans: boolean;
  private readonly maxDepth: number;

  /**
   * @param needs per rule, its need (undefined: none known).
   * @param maxDepth how deep into nested values the rules read (values deeper are not scanned).
   */
  constructor(needs: readonly (Need | undefined)[], maxDepth: number) {
    this.maxDepth = maxDepth;
    const rulesOf: number[][] = [];
    const clausesOf: number[][] = [];
    const literals = new Map<string, Set<number>>();
    // Per clause, the digits of a number it may be met by instead of a literal (literals.ts).
    const digitsOf = new Map<number, number>();
    const hasLiteral = new Set<number>();
    needs.forEach((need, rule) => {
      const mine: number[] = [];
      for (const clause of need ?? []) {
        // A clause holding the empty string holds of every event: it tells nothing.
        if (clause.some((s) => s === '')) continue;
        const id = rulesOf.length;
        rulesOf.push([rule]);
        mine.push(id);
        for (const text of clause) {
          const digits = tokenDigits(text);
          if (digits > 0) {
            digitsOf.set(id, Math.min(digitsOf.get(id) ?? digits, digits));
            continue;
          }
          const literal = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
          hasLiteral.add(id);
          const ids = literals.get(literal) ?? new Set();
          ids.add(id);
          literals.set(literal, ids);
        }
      }
      clausesOf.push(mine);
    });
    this.useful = literals.size > 0 || digitsOf.size > 0;
    this.clauseDigits = new Int32Array(rulesOf.length);
    for (const [clause, digits] of digitsOf) this.clauseDigits[clause] = digits;
    this.numberClauses = Int32Array.from(digitsOf.keys());
    // Rules whose clauses are all numbers: no literal touches them, the scan of a line's head does.
    this.numbersOnly = Int32Array.from(
      clausesOf.flatMap((mine, rule) =>
        mine.length > 0 && mine.every((c) => digitsOf.has(c) && !hasLiteral.has(c)) ? [rule] : [],
      ),
    );
    this.shortest = Math.min(...[...literals.keys()].map((s) => s.length));

    this.always = clausesOf.flatMap((mine, rule) => (mine.length === 0 ? [rule] : []));
    [this.clauseStart, this.ruleClauses] = flatten(clausesOf);
    [this.ruleStart, this.clauseRules] = flatten(rulesOf);
    this.clauseMarks = new Int32Array(rulesOf.length);
    this.ruleMarks = new Int32Array(needs.length);
    this.touched = new Int32Array(needs.length);
    const all = [...literals.keys()];
    this.scanNumbers = all.some(inNumber);
    this.scanBooleans = all.some((s) => 'true'.includes(s) || 'false'.includes(s));
    this.textsSuffice = !this.scanNumbers && !this.scanBooleans && all.every((s) => s.length <= MAX_LITERAL);

    // The alphabet: each character literals use is a class; every other character is class 0.
    let classes = 1;
    for (const literal of all)
      for (let i = 0; i < literal.length; i++) {
        const c = literal.charCodeAt(i);
        if (this.classOf[c] === 0) this.classOf[c] = classes++;
      }
    for (let c = 0x41; c <= 0x5a; c++) this.classOf[c] = this.classOf[c + 0x20]!;
    for (const [c, ascii] of NON_ASCII_FOLDS) this.classOf[c] = this.classOf[ascii.charCodeAt(0)]!;
    const width = classes;

    // The trie of the literals, then its failure links breadth-first (Aho & Corasick 1975).
    const children: Map<number, number>[] = [new Map<number, number>()];
    const output: Set<number>[] = [new Set()];
    for (const [literal, ids] of literals) {
      let state = 0;
      for (let i = 0; i < literal.length; i++) {
        const cls = this.classOf[literal.charCodeAt(i)]!;
        let next = children[state]!.get(cls);
        if (next === undefined) {
          next = children.length;
          children.push(new Map<number, number>());
          output.push(new Set());
          children[state]!.set(cls, next);
        }
        state = next;
      }
      for (const id of ids) output[state]!.add(id);
    }
    const states = children.length;
    const delta = new Int32Array(states * width);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 1; cls < width; cls++) {
      const next = children[0]!.get(cls);
      if (next !== undefined) {
        delta[cls] = next;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const id of output[fail[state]!]!) output[state]!.add(id);
      for (let cls = 0; cls < width; cls++) {
        const next = children[state]!.get(cls);
        const viaFail = delta[fail[state]! * width + cls]!;
        if (next === undefined) delta[state * width + cls] = viaFail;
        else {
          fail[next] = viaFail;
          delta[state * width + cls] = next;
          queue.push(next);
        }
      }
    }
    // Renumbered breadth-first, so that the shallow states text mostly visits sit together in
    // memory, and with the states where literals end last, so that one comparison per character
    // tells whether one did.
    const bfs = [0, ...queue];
    const order = [
      ...bfs.filter((old) => output[old]!.size === 0),
      ...bfs.filter((old) => output[old]!.size > 0),
    ];
    const renamed = new Int32Array(states);
    order.forEach((old, id) => (renamed[old] = id));
    this.delta = new Int32Array(states * width);
    for (let old = 0; old < states; old++)
      for (let cls = 0; cls < width; cls++)
        this.delta[renamed[old]! * width + cls] = renamed[delta[old * width + cls]!]! * width;
    let firstOutput = order.findIndex((old) => output[old]!.size > 0);
    if (firstOutput < 0) firstOutput = states;
    this.firstOutput = firstOutput * width;
    this.width = width;
    [this.outStart, this.outClauses] = flatten(order.slice(firstOutput).map((old) => [...output[old]!]));
  }

  /**
   * Finds which literals the event holds, in its raw line or any of its values: `candidates` then
   * tells which rules may match it.
   */
  scan(event: WatchEvent): void {
    this.begin();
    this.headScan = false;
    if (!this.useful) return;
    // Nothing tells where an event's numbers come from: a clause a number may meet is met.
    for (let k = 0; k < this.numberClauses.length; k++) this.foundClause(this.numberClauses[k]!);
    const raw = event.raw;
    this.scanText(raw);
    const fields = event.fields;
    const composed = event.composed;
    if (composed !== undefined) {
      // The parser promises that every other field holds a part of the raw line, already
      // scanned, or a number or boolean: only those are left to read (and only when a literal
      // could be in their text).
      for (let k = 0; k < composed.length; k++) {
        const value = fields[composed[k]!];
        if (value !== undefined) this.scanValue(value, 0);
      }
      if (this.scanNumbers || this.scanBooleans)
        for (const key in fields) {
          const value = fields[key]!;
          if (typeof value !== 'string') this.scanValue(value, 0);
        }
      return;
    }
    // Inherited properties are read too: more text than the rules read only costs time.
    for (const key in fields) {
      const value = fields[key]!;
      // A value that is part of the raw line (most of a syslog line's) was scanned with it.
      if (typeof value === 'string') {
        const length = value.length;
        if (length >= this.shortest && (length < SHORT || !(raw.endsWith(value) || raw.includes(value))))
          this.scanText(value);
      } else this.scanValue(value, 0);
    }
  }

  /**
   * `scan` of an event from its raw line and `texts` that hold, with it, every literal of at most
   * MAX_LITERAL characters its values could hold (a line's head, parsers/index.ts): the
   * candidates it leaves are those of the event, and maybe more. Only when `textsSuffice`.
   */
  scanTexts(raw: string, texts: readonly string[]): void {
    if (!this.useful) {
      this.begin();
      return;
    }
    // Frozen lists (a parser's constant lists of what it writes) come again and again: the
    // clauses each finds, scanned alone, are kept.
    const known = Object.isFrozen(texts)
      ? (this.textClauses.get(texts) ?? this.keepClauses(texts))
      : undefined;
    this.begin();
    this.headScan = true;
    this.headRaw = raw;
    this.headTexts = texts;
    for (let k = 0; k < this.numbersOnly.length; k++) this.touch(this.numbersOnly[k]!);
    this.scanText(raw);
    if (known !== undefined) {
      for (let k = 0; k < known.length; k++) this.foundClause(known[k]!);
      return;
    }
    for (let k = 0; k < texts.length; k++) {
      const text = texts[k]!;
      if (text.length >= this.shortest) this.scanText(text);
    }
  }

  /** The clauses `texts` hold, by a scan of their own (which `scanTexts` then starts afresh). */
  private keepClauses(texts: readonly string[]): Int32Array {
    this.begin();
    for (const text of texts) this.scanText(text);
    const found = new Int32Array(this.clauseMarks.length);
    let n = 0;
    this.clauseMarks.forEach((mark, clause) => {
      if (mark === this.epoch) found[n++] = clause;
    });
    const clauses = found.slice(0, n);
    if (this.textClauses.size >= KEPT_TEXT_LISTS) this.textClauses.clear();
    this.textClauses.set(texts, clauses);
    return clauses;
  }

  /** A new scan: nothing found yet. */
  private begin(): void {
    this.epoch++;
    if (this.epoch === 0x7fffffff) {
      this.epoch = 1;
      this.clauseMarks.fill(0);
      this.ruleMarks.fill(0);
      this.numbersEpoch = 0;
    }
    this.touchedCount = 0;
  }

  /**
   * The rules to run on the event last scanned, in their order: those that need no literal, and
   * those each of whose clauses turned up. The array is reused by the next scan.
   */
  candidates(): readonly number[] {
    const { touched, touchedCount } = this;
    if (touchedCount === 0) return this.always;
    const found = this.found;
    // Setting an array's length calls into the engine's runtime: not when it is empty already.
    if (found.length !== 0) found.length = 0;
    // Insertion sort: a handful of rules, nearly always in order already.
    for (let i = 1; i < touchedCount; i++) {
      const rule = touched[i]!;
      let j = i - 1;
      for (; j >= 0 && touched[j]! > rule; j--) touched[j + 1] = touched[j]!;
      touched[j + 1] = rule;
    }
    const { always, clauseStart, ruleClauses, clauseMarks, epoch } = this;
    let a = 0;
    for (let t = 0; t < touchedCount; t++) {
      const rule = touched[t]!;
      while (a < always.length && always[a]! < rule) found.push(always[a++]!);
      let complete = true;
      const end = clauseStart[rule + 1]!;
      for (let k = clauseStart[rule]!; k < end; k++) {
        const clause = ruleClauses[k]!;
        if (clauseMarks[clause] !== epoch && !(this.headScan && this.numbersMet(clause))) {
          complete = false;
          break;
        }
      }
      if (complete) found.push(rule);
    }
    while (a < always.length) found.push(always[a++]!);
    return found;
  }

  private scanValue(value: FieldValue, depth: number): void {
    if (typeof value === 'string') {
      if (value.length >= this.shortest) this.scanText(value);
    } else if (typeof value === 'number') {
      if (this.scanNumbers) this.scanText(String(value));
    } else if (typeof value === 'boolean') {
      if (this.scanBooleans) this.scanText(value ? 'true' : 'false');
    } else if (value !== null && depth < this.maxDepth) {
      if (Array.isArray(value)) for (const v of value) this.scanValue(v, depth + 1);
      else for (const key in value) this.scanValue(value[key]!, depth + 1);
    }
  }

  private scanText(text: string): void {
    const { delta, classOf, firstOutput } = this;
    let state = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      state = delta[state + classOf[text.charCodeAt(i)]!]!;
      // Offsets are multiples of the width: the quotient is the output state's number, exact.
      if (state >= firstOutput) this.found_((state - firstOutput) / this.width);
    }
  }

  /** A literal ended in output state `s`: its clauses are found. */
  private found_(s: number): void {
    const { outStart, outClauses } = this;
    for (let k = outStart[s]!, end = outStart[s + 1]!; k < end; k++) this.foundClause(outClauses[k]!);
  }

  /** A clause is found: its rules are touched. */
  private foundClause(clause: number): void {
    const { clauseMarks, ruleStart, clauseRules, epoch } = this;
    if (clauseMarks[clause] === epoch) return;
    clauseMarks[clause] = epoch;
    for (let r = ruleStart[clause]!, stop = ruleStart[clause + 1]!; r < stop; r++)
      this.touch(clauseRules[r]!);
  }

  /** A rule is to be looked at by `candidates`. */
  private touch(rule: number): void {
    if (this.ruleMarks[rule] !== this.epoch) {
      this.ruleMarks[rule] = this.epoch;
      this.touched[this.touchedCount++] = rule;
    }
  }

  /**
   * Whether a clause a number may meet is met by the line's head last scanned: its line or texts
   * hold a number of as many digits (literals.ts, `numberReach`). The line is read for numbers
   * once, when a clause first asks.
   */
  private numbersMet(clause: number): boolean {
    const digits = this.clauseDigits[clause]!;
    if (digits === 0) return false;
    if (this.numbersEpoch !== this.epoch) {
      this.numbersEpoch = this.epoch;
      let reach = numberReach(this.headRaw);
      for (const text of this.headTexts) reach = Math.max(reach, numberReach(text));
      this.reach = reach;
    }
    if (this.reach < digits) return false;
    this.clauseMarks[clause] = this.epoch;
    return true;
  }
}

/** Lists of texts whose clauses an index keeps, at most (parsers have a handful). */
const KEPT_TEXT_LISTS = 256;

/** Values shorter than this are scanned without first looking for them in the raw line. */
const SHORT = 16;

/** Lists of numbers as offsets and one flat array: list i at `flat[offsets[i]]` to `flat[offsets[i + 1]]`. */
function flatten(lists: readonly (readonly number[])[]): [Int32Array, Int32Array] {
  const offsets = new Int32Array(lists.length + 1);
  const flat: number[] = [];
  lists.forEach((list, i) => {
    offsets[i] = flat.length;
    flat.push(...list);
  });
  offsets[lists.length] = flat.length;
  return [offsets, Int32Array.from(flat)];
}
