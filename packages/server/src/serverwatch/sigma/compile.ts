/**
 * A loaded Sigma rule compiled once into a predicate over events: every value test, regular
 * expression and lower-cased value of the rule is built here, so that matching an event only reads
 * the event. Field lookup (exact name, then any case, then a dotted path into nested objects) and the
 * lower-casing of the event's values are cached per event in a `PreparedEvent`, shared by all rules.
 */
import type { FieldValue, LogSource, WatchEvent } from '../event.js';
import { identifiersOf, type ConditionNode } from './condition.js';
import { SigmaProblem, SigmaRuleError } from './errors.js';
import { ANYTHING, bothNeed, eitherNeed, NOTHING, type Need } from './literals.js';
import {
  planItem,
  timeComponent,
  type ItemPlan,
  type ModifierOptions,
  type ScalarTest,
  type SigmaItem,
} from './modifiers.js';
import { LiteralIndex } from './prefilter.js';
import type { LoadedRule, SigmaDetection, SigmaDetectionRule, SigmaLogsource } from './rule.js';

/** One scalar of an event's field, as text and lower-cased text. */
interface Scalar {
  text: string;
  lower: string;
}

const NONE: readonly Scalar[] = [];
/** How deep in an event's nested values keywords and list elements are looked for. */
const MAX_VALUE_DEPTH = 32;

/**
 * An event read by rules: its field lookups and lower-cased values are computed once, whatever
 * the number of rules. Prepare an event once and hand it to every rule's `matchesPrepared`.
 */
export class PreparedEvent {
  private lowerKeys: Map<string, string> | undefined;
  /**
   * Lookups that were not a plain own property, and scalars, once needed: most events prepared
   * are read by one rule through a few exact names, for which the maps would cost more than they
   * spare.
   */
  private fields: Map<string, FieldValue | undefined> | undefined;
  private scalars: Map<string, readonly Scalar[]> | undefined;
  private keywordScalars: readonly Scalar[] | undefined;

  constructor(readonly event: WatchEvent) {}

  /**
   * A field's value, undefined when absent: the exact name, else the name in any case, else a
   * dotted path (`Event.EventData.User`) through nested objects, each step exact then in any case.
   */
  field(name: string): FieldValue | undefined {
    const fields = this.event.fields;
    if (Object.hasOwn(fields, name)) return fields[name];
    this.fields ??= new Map();
    if (this.fields.has(name)) return this.fields.get(name);
    let value: FieldValue | undefined;
    this.lowerKeys ??= new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]));
    const key = this.lowerKeys.get(name.toLowerCase());
    if (key !== undefined) value = fields[key];
    else if (name.includes('.')) value = path(fields, name.split('.'));
    this.fields.set(name, value);
    return value;
  }

  /** The scalars of a field (an array's elements; nothing for an object or null). */
  fieldScalars(name: string): readonly Scalar[] {
    this.scalars ??= new Map();
    let found = this.scalars.get(name);
    if (found === undefined) {
      const value = this.field(name);
      found = value === undefined || value === null ? NONE : this.toScalars(value, false);
      this.scalars.set(name, found);
    }
    return found;
  }

  /** What keywords are searched in (spec §Keywords search): the raw line and every string value. */
  keywordTexts(): readonly Scalar[] {
    if (this.keywordScalars === undefined) {
      const all: Scalar[] = [scalar(this.event.raw)];
      for (const value of Object.values(this.event.fields)) all.push(...this.toScalars(value, true));
      this.keywordScalars = all;
    }
    return this.keywordScalars;
  }

  /**
   * The scalars of a value: itself, an array's elements, and with `deep` (keywords) the string
   * values nested in objects. Events come from untrusted lines: nesting is followed only so far.
   */
  private toScalars(value: FieldValue, deep: boolean, level = 0): Scalar[] {
    if (value === null || level > MAX_VALUE_DEPTH) return [];
    if (typeof value === 'string') return [scalar(value)];
    if (typeof value === 'number' || typeof value === 'boolean') return deep ? [] : [scalar(String(value))];
    if (Array.isArray(value)) return value.flatMap((v) => this.toScalars(v, deep, level + 1));
    return deep ? Object.values(value).flatMap((v) => this.toScalars(v, deep, level + 1)) : [];
  }
}

function scalar(text: string): Scalar {
  return { text, lower: text.toLowerCase() };
}

function path(fields: Record<string, FieldValue>, steps: string[]): FieldValue | undefined {
  let current: FieldValue | undefined = fields;
  for (const step of steps) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    const object: Record<string, FieldValue> = current;
    if (Object.hasOwn(object, step)) current = object[step];
    else {
      const lower = step.toLowerCase();
      const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
      if (key === undefined) return undefined;
      current = object[key];
    }
  }
  return current;
}

/** A predicate over prepared events. */
export type EventPredicate = (event: PreparedEvent) => boolean;

/** A detection rule ready to run. */
export interface CompiledRule {
  rule: SigmaDetectionRule;
  /** Whether the rule's detection matches the event (the logsource is not checked: see below). */
  matches(event: WatchEvent): boolean;
  /** The same for an event prepared once for many rules. */
  matchesPrepared(event: PreparedEvent): boolean;
  /** Whether the event comes from the log source the rule is about (spec §LogSource). */
  logsourceMatches(event: WatchEvent): boolean;
  /** The same, given the log source alone. */
  appliesTo(logsource: LogSource): boolean;
  /**
   * What an event must hold for the rule to match (literals.ts): clauses, each a list of strings
   * (lower-case ASCII, compared in any case) one of which is in the event's raw line or a value.
   * Undefined when the rule needs no such string.
   */
  literals?: Need;
}

/**
 * A detection rule compiled into predicates, once. Throws a `SigmaRuleError` when the document is
 * not a detection rule or uses what the engine does not support (its `unsupported` list).
 *
 * @example
 *   const compiled = compileRule(loadSigmaRule(text, 'sshd_brute.yml'));
 *   if (compiled.logsourceMatches(event) && compiled.matches(event)) raise(compiled.rule, event);
 */
export function compileRule(rule: LoadedRule): CompiledRule {
  if (rule.kind !== 'detection') {
    throw new SigmaRuleError(rule.file, { line: rule.line }, `a ${rule.kind} rule, not a detection rule`);
  }
  if (rule.unsupported.length > 0) {
    throw new SigmaRuleError(
      rule.file,
      { line: rule.line },
      `not run: unsupported ${rule.unsupported.join(', ')}`,
    );
  }
  const { predicate, need } = compileWithNeed(rule.detection, rule.options, rule.file);
  const logsource = logsourcePredicate(rule.logsource);
  return {
    rule,
    matches: (event) => predicate(new PreparedEvent(event)),
    matchesPrepared: predicate,
    logsourceMatches: (event) => logsource(event.logsource),
    appliesTo: logsource,
    ...(need.length === 0 ? {} : { literals: need }),
  };
}

/** Distinct log sources remembered by a `RuleSet`; past this many (a misbehaving source), it starts afresh. */
const LOGSOURCE_CACHE = 1024;

/**
 * Compiled rules run together: the rules that apply to a log source are found once per distinct log
 * source, with a prefilter of their literals (prefilter.ts), and each event is prepared once for all
 * of them, so that rules about other sources, and rules whose strings the event does not hold, cost
 * nothing per event but one pass over its text.
 *
 * @example
 *   const set = new RuleSet(rules.filter(isRunnable).map(compileRule));
 *   for (const event of events) for (const hit of set.match(event)) alert(hit.rule, event);
 */
export class RuleSet {
  private readonly bySource = new Map<string, SourceRules>();
  /**
   * Frozen log sources and their rules, by identity: parsers share one frozen object per kind of
   * event, and a log (mail.log) alternates between kinds, so that one lookup here spares building
   * the key of `bySource`. Only frozen objects: one changed after it was seen must not keep its rules.
   */
  private readonly byObject = new Map<LogSource, SourceRules>();
  private readonly position = new Map<CompiledRule, number>();
  private readonly indexes = new Map<string, LiteralIndex>();
  /** How deep into nested values any rule reads: a dotted field name's steps, then arrays. */
  private readonly maxDepth: number;

  constructor(readonly rules: readonly CompiledRule[]) {
    rules.forEach((r, i) => this.position.set(r, i));
    let steps = 0;
    for (const r of rules)
      for (const identifier of r.rule.detection.identifiers)
        for (const items of identifier.alternatives)
          for (const item of items) steps = Math.max(steps, item.field?.split('.').length ?? 0);
    this.maxDepth = steps + MAX_VALUE_DEPTH + 1;
  }

  /**
   * The length of the longest literal a rule of the log source needs (literals.ts) that holds
   * `char`, 0 when none: a text made by joining two parts of a line with `char` holds no other
   * literal the line does not.
   */
  longestLiteralHolding(char: string, logsource: LogSource): number {
    let longest = 0;
    for (const r of this.forLogsource(logsource))
      for (const clause of r.literals ?? [])
        for (const text of clause) if (text.includes(char)) longest = Math.max(longest, text.length);
    return longest;
  }

  /** The rules whose log source is the event's. */
  forLogsource(logsource: LogSource): readonly CompiledRule[] {
    return this.sourceRules(logsource).rules;
  }

  private sourceRules(logsource: LogSource): SourceRules {
    let rules = this.byObject.get(logsource);
    if (rules === undefined) {
      rules = this.sourceRulesByKey(logsource);
      if (Object.isFrozen(logsource)) {
        if (this.byObject.size >= LOGSOURCE_CACHE) this.byObject.clear();
        this.byObject.set(logsource, rules);
      }
    }
    return rules;
  }

  private sourceRulesByKey(logsource: LogSource): SourceRules {
    const key = `${logsource.category ?? ''}\0${logsource.product ?? ''}\0${logsource.service ?? ''}`;
    let found = this.bySource.get(key);
    if (found === undefined) {
      if (this.bySource.size >= LOGSOURCE_CACHE) this.bySource.clear();
      const rules = this.rules.filter((r) => r.appliesTo(logsource));
      // Log sources with the same rules (many a source no rule names) share one index.
      const which = rules.map((r) => this.position.get(r)).join(',');
      let index = this.indexes.get(which);
      if (index === undefined) {
        if (this.indexes.size >= LOGSOURCE_CACHE) this.indexes.clear();
        index = new LiteralIndex(
          rules.map((r) => r.literals),
          this.maxDepth,
        );
        this.indexes.set(which, index);
      }
      found = { rules, index: index.useful ? index : undefined };
      this.bySource.set(key, found);
    }
    return found;
  }

  /**
   * Whether a rule could match an event of `logsource` whose raw line is `raw`, when `texts` hold
   * with it every literal of at most MAX_LITERAL characters that the event's values could hold
   * beyond the line's (a line's head, parsers/index.ts): false only when none can. When true,
   * `match(event, true)` may follow for that event, which then runs the candidates found here.
   */
  mayMatch(logsource: LogSource, raw: string, texts: readonly string[]): boolean {
    const { rules, index } = this.sourceRules(logsource);
    if (rules.length === 0) return false;
    if (index === undefined || !index.textsSuffice) return true;
    index.scanTexts(raw, texts);
    return index.candidates().length > 0;
  }

  /**
   * The rules that fire on the event: its log source and their detection match. `scanned`: the
   * last `mayMatch` was of this event, whose candidates are run without scanning it again.
   */
  match(event: WatchEvent, scanned = false): CompiledRule[] {
    const { rules, index } = this.sourceRules(event.logsource);
    if (rules.length === 0) return [];
    const matched: CompiledRule[] = [];
    let prepared: PreparedEvent | undefined;
    if (index === undefined) {
      prepared = new PreparedEvent(event);
      for (const r of rules) if (r.matchesPrepared(prepared)) matched.push(r);
      return matched;
    }
    if (!scanned || !index.textsSuffice) index.scan(event);
    for (const i of index.candidates()) {
      const r = rules[i]!;
      prepared ??= new PreparedEvent(event);
      if (r.matchesPrepared(prepared)) matched.push(r);
    }
    return matched;
  }
}

interface SourceRules {
  rules: readonly CompiledRule[];
  /** Undefined when no rule of the source has literals. */
  index: LiteralIndex | undefined;
}

/** A detection section (of a rule or a filter) as one predicate. */
export function compileDetection(
  detection: SigmaDetection,
  options: ModifierOptions,
  file: string,
): EventPredicate {
  return compileWithNeed(detection, options, file).predicate;
}

/**
 * A detection section as one predicate, and the literals it needs (literals.ts): an identifier
 * needs one of its alternatives' needs, an alternative all its items' (any one of them will do),
 * and the condition combines them as it combines the identifiers; `not` needs nothing.
 */
function compileWithNeed(
  detection: SigmaDetection,
  options: ModifierOptions,
  file: string,
): { predicate: EventPredicate; need: Need } {
  const names = detection.identifiers.map((i) => i.name);
  const byName = new Map<string, { test: EventPredicate; need: Need }>();
  for (const identifier of detection.identifiers) {
    let need: Need = NOTHING;
    const alternatives = identifier.alternatives.map((items) => {
      const compiled = items.map((item) => compileItem(item, options, file));
      need = eitherNeed(
        need,
        compiled.reduce<Need>((a, c) => bothNeed(a, c.need), ANYTHING),
      );
      const tests = compiled.map((c) => c.test);
      return tests.length === 1 ? tests[0]! : (e: PreparedEvent) => tests.every((t) => t(e));
    });
    byName.set(identifier.name, {
      test: alternatives.length === 1 ? alternatives[0]! : (e) => alternatives.some((a) => a(e)),
      need,
    });
  }
  const never = { test: () => false, need: NOTHING };
  const node = (ast: ConditionNode): { test: EventPredicate; need: Need } => {
    switch (ast.type) {
      case 'ref':
        return byName.get(ast.name) ?? never;
      case 'not': {
        const child = node(ast.child).test;
        return { test: (e) => !child(e), need: ANYTHING };
      }
      case 'and': {
        const children = ast.children.map(node);
        const tests = children.map((c) => c.test);
        return {
          test: (e) => tests.every((c) => c(e)),
          need: children.reduce<Need>((a, c) => bothNeed(a, c.need), ANYTHING),
        };
      }
      case 'or': {
        const children = ast.children.map(node);
        const tests = children.map((c) => c.test);
        return {
          test: (e) => tests.some((c) => c(e)),
          need: children.reduce<Need>((a, c) => eitherNeed(a, c.need), NOTHING),
        };
      }
      case 'of': {
        const children = identifiersOf(ast.pattern, names).map((n) => byName.get(n) ?? never);
        const tests = children.map((c) => c.test);
        return ast.quantifier === 'all'
          ? {
              test: (e) => tests.every((c) => c(e)),
              need: children.reduce<Need>((a, c) => bothNeed(a, c.need), ANYTHING),
            }
          : {
              test: (e) => tests.some((c) => c(e)),
              need: children.reduce<Need>((a, c) => eitherNeed(a, c.need), NOTHING),
            };
      }
    }
  };
  const conditions = detection.conditions.map(node);
  return {
    predicate: conditions.length === 1 ? conditions[0]!.test : (e) => conditions.some((c) => c.test(e)),
    need: conditions.reduce<Need>((a, c) => eitherNeed(a, c.need), NOTHING),
  };
}

function compileItem(
  item: SigmaItem,
  options: ModifierOptions,
  file: string,
): { test: EventPredicate; need: Need } {
  let plan: ItemPlan | undefined;
  try {
    plan = planItem(item, options).plan;
  } catch (error) {
    if (error instanceof SigmaProblem)
      throw new SigmaRuleError(file, { line: error.line ?? item.line }, error.message);
    throw error;
  }
  if (plan === undefined)
    throw new SigmaRuleError(file, { line: item.line }, 'uses what the engine does not support');
  return {
    test: planTest(plan, item.field),
    need: plan.kind === 'values' ? (plan.literals ?? ANYTHING) : ANYTHING,
  };
}

function planTest(plan: ItemPlan, field: string | null): EventPredicate {
  switch (plan.kind) {
    case 'exists': {
      const expected = plan.expected;
      return (e) => (field !== null && e.field(field) !== undefined) === expected;
    }
    case 'null':
      return (e) => (field === null ? false : (e.field(field) ?? null) === null);
    case 'fieldref': {
      const { others, cased, negate, all } = plan;
      const same = (a: readonly Scalar[], b: readonly Scalar[]) =>
        a.some((x) => b.some((y) => (cased ? x.text === y.text : x.lower === y.lower)));
      return (e) => {
        const mine = field === null ? NONE : e.fieldScalars(field);
        const hit = (o: string) => same(mine, e.fieldScalars(o));
        const result = all ? others.every(hit) : others.some(hit);
        return negate ? !result : result;
      };
    }
    case 'values': {
      const { tests, all, negate, extract } = plan;
      const source: (e: PreparedEvent) => readonly Scalar[] =
        field === null
          ? (e) => e.keywordTexts()
          : extract === undefined
            ? (e) => e.fieldScalars(field)
            : (e) => timeScalars(e.field(field), extract);
      const any = (scalars: readonly Scalar[], test: ScalarTest) => {
        for (const s of scalars) if (test(s.text, s.lower)) return true;
        return false;
      };
      if (tests.length === 1) {
        const test = tests[0]!;
        return negate ? (e) => !any(source(e), test) : (e) => any(source(e), test);
      }
      return (e) => {
        const scalars = source(e);
        const result = all ? tests.every((t) => any(scalars, t)) : tests.some((t) => any(scalars, t));
        return negate ? !result : result;
      };
    }
  }
}

function timeScalars(value: FieldValue | undefined, unit: Parameters<typeof timeComponent>[1]): Scalar[] {
  if (typeof value !== 'string' && typeof value !== 'number') return [];
  const n = timeComponent(value, unit);
  return n === undefined ? [] : [scalar(String(n))];
}

/**
 * Whether an event's log source is the rule's: each of category, product and service the rule
 * names must be the event's (spec §LogSource: values are lower case; compared in any case here).
 */
export function logsourcePredicate(logsource: SigmaLogsource): (event: LogSource) => boolean {
  const wanted = (['category', 'product', 'service'] as const).flatMap((key) => {
    const value = logsource[key];
    return value === undefined ? [] : [{ key, value: value.toLowerCase() }];
  });
  return (event) => wanted.every(({ key, value }) => event[key]?.toLowerCase() === value);
}
