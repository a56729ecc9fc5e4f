/**
 * The prefilter of a `RuleSet`: which rules of a log source could match an event, found in one pass
 * over the event's text instead of running each rule. Every rule that needs literals (literals.ts)
 * puts them in one Aho-Corasick automaton; an event's raw line and values are run through it once,
 * and only the rules one of whose literals turned up, and those that need none, are run.
 *
 * Exactness: a rule is skipped only when the event holds none of its literals, which the rule then
 * cannot match. The automaton compares ASCII letters in any case: a literal is lower-case ASCII, and
 * an event value `v` whose `toLowerCase()` holds it also holds it once each character of `v` is
 * mapped to its lower-case ASCII letter. That holds because lower-casing is character by character
 * (the context of the Greek final sigma gives non-ASCII either way), and the only characters beyond
 * ASCII whose lower case holds ASCII are U+0130 (`i` and a combining dot) and U+212A (`k`), which
 * are read as `i` and `k` here (prefilter.test.ts checks both facts over every code point).
 * The event is read as the rules read it: the raw line and every value, nested ones too, numbers
 * and booleans as the text the rules compare (only when a literal could be in such a text).
 */
import type { FieldValue, WatchEvent } from '../event.js';

/** Characters beyond ASCII whose lower case holds an ASCII character, and that character. */
export const NON_ASCII_FOLDS: ReadonlyMap<number, string> = new Map([
  [0x130, 'i'],
  [0x212a, 'k'],
]);

/** Characters of `String(n)` for any number n (`-1.5e+21`, `Infinity`, `NaN`), lower-cased. */
const NUMBER_CHARS = /^[0-9.e+\-infinitya]+$/;

/**
 * The rules that could match an event, of a fixed list: each rule's literals (or none known).
 *
 * @example
 *   const index = new LiteralIndex([['wget '], undefined], 34);
 *   const marks = index.scan(event); // marks[i] === index.epoch: rule i may match
 */
export class LiteralIndex {
  /** Rules with no literal: run on every event. */
  readonly always: Uint8Array;
  /** Per rule, the scan (epoch) that last found one of its literals. */
  readonly marks: Int32Array;
  epoch = 0;
  /** Whether any rule has literals at all (else scanning is pointless). */
  readonly useful: boolean;
  private readonly classOf = new Uint8Array(128);
  private readonly foldI: number;
  private readonly foldK: number;
  /** Transitions: the next state of `state` on character class `c` at `state * width + c`. */
  private readonly delta: Int32Array;
  private readonly width: number;
  /** Per state, where the rules of the literals ending there start and end in `outRules`. */
  private readonly outStart: Int32Array;
  private readonly outEnd: Int32Array;
  private readonly outRules: Int32Array;
  private readonly scanNumbers: boolean;
  private readonly scanBooleans: boolean;
  private readonly maxDepth: number;

  /**
   * @param needs per rule, the literals one of which it needs (lower-case ASCII), or undefined.
   * @param maxDepth how deep into nested values the rules read (values deeper are not scanned).
   */
  constructor(needs: readonly (readonly string[] | undefined)[], maxDepth: number) {
    this.maxDepth = maxDepth;
    this.always = new Uint8Array(needs.length);
    this.marks = new Int32Array(needs.length);
    const literals = new Map<string, number[]>();
    needs.forEach((need, rule) => {
      if (need === undefined || need.some((s) => s === '')) {
        this.always[rule] = 1;
        return;
      }
      for (const text of need) {
        const literal = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
        const rules = literals.get(literal);
        if (rules === undefined) literals.set(literal, [rule]);
        else rules.push(rule);
      }
    });
    this.useful = literals.size > 0;
    this.scanNumbers = [...literals.keys()].some((s) => NUMBER_CHARS.test(s));
    this.scanBooleans = [...literals.keys()].some((s) => 'true'.includes(s) || 'false'.includes(s));

    // The alphabet: each character literals use is a class; every other character is class 0.
    let classes = 1;
    for (const literal of literals.keys())
      for (let i = 0; i < literal.length; i++) {
        const c = literal.charCodeAt(i);
        if (this.classOf[c] === 0) this.classOf[c] = classes++;
      }
    for (let c = 0x41; c <= 0x5a; c++) this.classOf[c] = this.classOf[c + 0x20]!;
    this.foldI = this.classOf[0x69]!;
    this.foldK = this.classOf[0x6b]!;
    const width = classes;
    this.width = width;

    // The trie of the literals, then its failure links breadth-first (Aho & Corasick 1975).
    const children: Map<number, number>[] = [new Map()];
    const output: Set<number>[] = [new Set()];
    for (const [literal, rules] of literals) {
      let state = 0;
      for (let i = 0; i < literal.length; i++) {
        const cls = this.classOf[literal.charCodeAt(i)]!;
        let next = children[state]!.get(cls);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          output.push(new Set());
          children[state]!.set(cls, next);
        }
        state = next;
      }
      for (const rule of rules) output[state]!.add(rule);
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
      for (const rule of output[fail[state]!]!) output[state]!.add(rule);
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
    this.delta = delta;
    this.outStart = new Int32Array(states);
    this.outEnd = new Int32Array(states);
    const flat: number[] = [];
    for (let state = 0; state < states; state++) {
      this.outStart[state] = flat.length;
      for (const rule of output[state]!) flat.push(rule);
      this.outEnd[state] = flat.length;
    }
    this.outRules = Int32Array.from(flat);
  }

  /**
   * Marks in `marks` (with the new `epoch`) the rules one of whose literals the event holds, in
   * its raw line or any of its values.
   */
  scan(event: WatchEvent): void {
    this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1;
    if (this.epoch === 1) this.marks.fill(0);
    if (!this.useful) return;
    this.scanText(event.raw);
    const fields = event.fields;
    for (const key in fields) if (Object.hasOwn(fields, key)) this.scanValue(fields[key]!, 0);
  }

  /** Whether rule `i` is to be run on the event last scanned. */
  candidate(i: number): boolean {
    return this.always[i] === 1 || this.marks[i] === this.epoch;
  }

  private scanValue(value: FieldValue, depth: number): void {
    if (typeof value === 'string') this.scanText(value);
    else if (typeof value === 'number') {
      if (this.scanNumbers) this.scanText(String(value));
    } else if (typeof value === 'boolean') {
      if (this.scanBooleans) this.scanText(value ? 'true' : 'false');
    } else if (value !== null && depth < this.maxDepth) {
      if (Array.isArray(value)) for (const v of value) this.scanValue(v, depth + 1);
      else for (const key in value) if (Object.hasOwn(value, key)) this.scanValue(value[key]!, depth + 1);
    }
  }

  private scanText(text: string): void {
    const { delta, classOf, outStart, outEnd, outRules, marks, epoch, width, foldI, foldK } = this;
    let state = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      const c = text.charCodeAt(i);
      state =
        delta[state * width + (c < 0x80 ? classOf[c]! : c === 0x130 ? foldI : c === 0x212a ? foldK : 0)]!;
      const end = outEnd[state]!;
      for (let k = outStart[state]!; k < end; k++) marks[outRules[k]!] = epoch;
    }
  }
}
