/**
 * Sigma correlation rules (Sigma correlation rules specification v2.1.0, and its JSON schema
 * `sigma-correlation-rules-schema.json`): a YAML document with a `correlation` section that
 * relates the hits of other rules — so many events (`event_count`), so many distinct values of a
 * field (`value_count`), every rule within a timespan (`temporal`), or in order
 * (`temporal_ordered`) — per group of `group-by` field values.
 *
 * This file reads and checks one document; `engine.ts` runs what it yields. Pure code: no I/O, so
 * the CLI imports it as well as the server.
 */
import { isDocument, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import { RempartError } from '@rempart/core';

/** The correlation types this engine runs. */
export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

/** Types of specification v2.1.0 that this engine does not run: refused by name when a rule loads. */
const UNSUPPORTED_TYPES = ['value_sum', 'value_avg', 'value_percentile'] as const;

export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** Spec § Condition: the comparisons a count must pass, all of them (`gt: 100` and `lte: 200`). */
export interface CorrelationCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

/** A correlation rule, read and checked. */
export interface CorrelationRule {
  /** The file it was read from, for every message about it. */
  file: string;
  /** Its `id`, if it has one (optional for correlation rules: spec § Identification). */
  id?: string;
  /** Its `name`, by which other correlations may refer to it (spec § Related rules). */
  name?: string;
  title: string;
  level?: Level;
  status?: string;
  description?: string;
  /** Kept because the Detection Rule License asks for the authors to be credited. */
  author?: string;
  references: string[];
  type: CorrelationType;
  /** The rules it correlates, as written: ids or names of detection or correlation rules. */
  rules: string[];
  /** `group-by` as written: field names, or alias names from `aliases`. */
  groupBy: string[];
  /** The timespan as written (`5m`) and in milliseconds. */
  timespan: string;
  timespanMs: number;
  /**
   * The condition. A `temporal` or `temporal_ordered` rule without one needs all its rules: the
   * loader writes that as `gte: rules.length`.
   */
  condition: CorrelationCondition;
  /** `condition.field` of a `value_count` rule: the field(s) whose distinct values are counted. */
  field?: string[];
  /** Spec § Field Name Aliases: alias → (rule id or name → that rule's events' field). */
  aliases: Record<string, Record<string, string>>;
  /** Spec § Generate: whether the rules it refers to also raise hits of their own. */
  generate: boolean;
  /** Parts of the document this engine reads but does not act on, each named; empty when none. */
  unsupported: string[];
}

/**
 * A correlation rule that cannot be read: names the file, the line when it is known, the place in
 * the document and what is wrong. `unsupported` is set when the document is valid Sigma but uses
 * something this engine does not run, so that a rule set can skip that rule and say why.
 */
export class SigmaCorrelationError extends RempartError {
  readonly file: string;
  readonly line: number | undefined;
  readonly where: string;
  readonly unsupported: string | undefined;

  constructor(
    file: string,
    where: string,
    problem: string,
    options: { line?: number; unsupported?: string; cause?: unknown } = {},
  ) {
    const at = options.line === undefined ? file : `${file}:${options.line}`;
    super('validation_failed', `${at}: ${where}: ${problem}`, {
      cause: options.cause,
      details: {
        file,
        where,
        ...(options.line === undefined ? {} : { line: options.line }),
        ...(options.unsupported === undefined ? {} : { unsupported: options.unsupported }),
      },
    });
    this.name = 'SigmaCorrelationError';
    this.file = file;
    this.line = options.line;
    this.where = where;
    this.unsupported = options.unsupported;
  }
}

// Spec § Time Selection: "number + letter (in lowercase)": s, m, h, d.
const TIMESPAN = /^([1-9][0-9]{0,9})([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
// A window longer than this holds state for longer than any log retention worth having.
const MAX_TIMESPAN_MS = 366 * UNIT_MS.d;

const COMPARATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
type Comparator = (typeof COMPARATORS)[number];

const text = z.string().min(1);
const count = z.number().int().safe();
const Condition = z
  .object({
    gt: count.optional(),
    gte: count.optional(),
    lt: count.optional(),
    lte: count.optional(),
    eq: count.optional(),
    neq: count.optional(),
    field: z.union([text, z.array(text).min(1)]).optional(),
  })
  .strict();
const Correlation = z.object({
  type: z.string(),
  rules: z.array(text).min(1),
  'group-by': z.array(text).optional(),
  timespan: z.string(),
  condition: Condition.optional(),
  aliases: z.record(text, z.record(text, text)).optional(),
  generate: z.boolean().optional(),
});
// Only what the engine reads is checked strictly; other metadata (tags, related, license…) passes.
const RuleDocument = z.object({
  title: z.string().min(1).max(256),
  id: text.optional(),
  name: text.optional(),
  status: z.enum(['stable', 'test', 'experimental', 'deprecated', 'unsupported']).optional(),
  level: z.enum(LEVELS).optional(),
  description: z.string().optional(),
  author: z.string().optional(),
  references: z.array(z.string()).optional(),
  taxonomy: z.string().optional(),
  correlation: z.record(z.string(), z.unknown()),
});
const KNOWN_CORRELATION_KEYS = new Set(Object.keys(Correlation.shape));

/** Where, in a YAML document, a path of keys starts: the line, when the document carries one. */
type LineOf = (path: readonly (string | number)[]) => number | undefined;

/**
 * Reads one correlation rule: a plain object as `yaml`'s `parse` returns it, or a `Document` from
 * `parseDocument` (then errors carry the line too, if `lineCounter` was given to the parser).
 * `line`, where the document starts in its file, is given to errors a plain object cannot place
 * more precisely. Throws a `SigmaCorrelationError` naming `file` and what is wrong.
 *
 * @example
 *   loadCorrelation(parse('title: Brute force\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n' +
 *     '  group-by: [IpAddress]\n  timespan: 5m\n  condition: { gte: 10 }\n'), 'mr_brute_force.yml')
 *   // { title: 'Brute force', type: 'event_count', rules: ['failed_login'], timespanMs: 300000, condition: { gte: 10 }, … }
 */
export function loadCorrelation(
  doc: unknown,
  file: string,
  options: { lineCounter?: LineCounter; line?: number } = {},
): CorrelationRule {
  let value = doc;
  let lineOf: LineOf = () => options.line;
  if (isDocument(doc)) {
    const yamlDoc = doc;
    if (yamlDoc.errors.length > 0) {
      const first = yamlDoc.errors[0]!;
      throw new SigmaCorrelationError(file, 'YAML', first.message.split('\n')[0] ?? 'malformed', {
        ...(first.linePos ? { line: first.linePos[0].line } : {}),
      });
    }
    try {
      value = yamlDoc.toJS({ maxAliasCount: 1000 });
    } catch (cause) {
      throw new SigmaCorrelationError(file, 'YAML', (cause as Error).message, { cause });
    }
    lineOf = (path) => {
      const counter = options.lineCounter;
      if (!counter) return undefined;
      // The deepest node that exists on the path: a missing key is reported where its parent is.
      for (let n = path.length; n >= 0; n--) {
        const node: unknown = n === 0 ? yamlDoc.contents : yamlDoc.getIn(path.slice(0, n), true);
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        if (range) return counter.linePos(range[0]).line;
      }
      return undefined;
    };
  }
  return readRule(value, file, lineOf);
}

/**
 * Every correlation rule of a YAML file's text (documents separated by `---`, spec § Example),
 * with line numbers in errors. Documents without a `correlation` section are detection rules,
 * left to the detection engine.
 */
export function loadCorrelationsFromText(source: string, file: string): CorrelationRule[] {
  const lineCounter = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(source, { lineCounter, uniqueKeys: true });
  } catch (cause) {
    throw new SigmaCorrelationError(file, 'YAML', (cause as Error).message, { cause });
  }
  if (!Array.isArray(docs)) throw new SigmaCorrelationError(file, 'YAML', 'not a YAML stream');
  return docs
    .filter((doc) => doc.errors.length > 0 || doc.has('correlation'))
    .map((doc) => loadCorrelation(doc, file, { lineCounter }));
}

function readRule(value: unknown, file: string, lineOf: LineOf): CorrelationRule {
  const fail = (path: (string | number)[], problem: string, unsupported?: string): never => {
    const line = lineOf(path);
    throw new SigmaCorrelationError(file, path.length === 0 ? 'the document' : path.join('.'), problem, {
      ...(line === undefined ? {} : { line }),
      ...(unsupported === undefined ? {} : { unsupported }),
    });
  };
  const check = <T>(schema: z.ZodType<T>, input: unknown, base: (string | number)[]): T => {
    const parsed = schema.safeParse(input);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const missing = issue.code === 'invalid_type' && valueAt(input, path) === undefined;
    return fail([...base, ...path], missing ? 'missing' : issue.message);
  };

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail([], 'a correlation rule is a YAML mapping');
  }
  if (!('correlation' in value)) return fail([], 'no correlation section: not a correlation rule');
  for (const key of ['detection', 'logsource']) {
    // Spec § Syntax: a correlation is a dedicated document; a detection beside it would be ignored.
    if (key in value) fail([key], 'a correlation rule has no log source or detection of its own');
  }
  const meta = check(RuleDocument, value, []);
  const raw = meta.correlation;
  const unsupported: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!KNOWN_CORRELATION_KEYS.has(key))
      unsupported.push(`correlation.${key}: not part of the specification`);
  }
  if (meta.taxonomy !== undefined && meta.taxonomy !== 'sigma') {
    // Spec § Taxonomy: other taxonomies must be translated first; group-by names are read as they are.
    unsupported.push(`taxonomy ${meta.taxonomy}: field names are read as written`);
  }
  // Before the rest: a metric correlation (value_avg…) may hold what a count never does (0.5).
  if ((UNSUPPORTED_TYPES as readonly unknown[]).includes(raw.type)) {
    const type = raw.type as string;
    fail(['correlation', 'type'], `correlation type ${type} is not supported`, `type ${type}`);
  }
  const section = check(Correlation, raw, ['correlation']);

  const type = section.type;
  if (!(CORRELATION_TYPES as readonly string[]).includes(type)) {
    fail(['correlation', 'type'], `unknown correlation type ${JSON.stringify(type)}`);
  }
  const correlationType = type as CorrelationType;

  const rules = section.rules;
  const duplicate = rules.find((r, i) => rules.indexOf(r) !== i);
  if (duplicate !== undefined) fail(['correlation', 'rules'], `${duplicate} is listed twice`);

  const timespan = TIMESPAN.exec(section.timespan);
  if (!timespan) {
    fail(['correlation', 'timespan'], `${JSON.stringify(section.timespan)} is not a number and s, m, h or d`);
  }
  const timespanMs = Number(timespan![1]) * UNIT_MS[timespan![2] as keyof typeof UNIT_MS];
  if (timespanMs > MAX_TIMESPAN_MS) fail(['correlation', 'timespan'], 'longer than 366 days');

  // The JSON schema asks for group-by, the text calls it optional ("optionally defines"): without
  // it every event falls in one group, as in other Sigma tools.
  const groupBy = section['group-by'] ?? [];
  const dupField = groupBy.find((g, i) => groupBy.indexOf(g) !== i);
  if (dupField !== undefined) fail(['correlation', 'group-by'], `${dupField} is listed twice`);

  const aliases = section.aliases ?? {};
  for (const [alias, byRule] of Object.entries(aliases)) {
    for (const ref of Object.keys(byRule)) {
      if (!rules.includes(ref)) {
        fail(['correlation', 'aliases', alias, ref], `${ref} is not one of the correlated rules`);
      }
    }
  }

  const { field, ...comparisons } = section.condition ?? {};
  const condition: CorrelationCondition = {};
  for (const c of COMPARATORS) if (comparisons[c] !== undefined) condition[c] = comparisons[c];
  const hasComparison = Object.keys(condition).length > 0;
  const fields = field === undefined ? undefined : Array.isArray(field) ? field : [field];

  switch (correlationType) {
    case 'event_count':
      if (!hasComparison) fail(['correlation', 'condition'], 'event_count needs a condition (gt, gte, lt…)');
      if (fields)
        fail(['correlation', 'condition', 'field'], 'only value_count counts the values of a field');
      break;
    case 'value_count':
      if (!fields)
        fail(['correlation', 'condition', 'field'], 'value_count needs the field whose values it counts');
      if (!hasComparison) fail(['correlation', 'condition'], 'value_count needs a condition (gt, gte, lt…)');
      break;
    case 'temporal':
    case 'temporal_ordered':
      if (fields)
        fail(['correlation', 'condition', 'field'], 'only value_count counts the values of a field');
      // Spec § Condition: for temporal types it is the number of different rules that matched;
      // without one, § Temporal Proximity asks for all of them.
      if (!hasComparison) condition.gte = rules.length;
      if (correlationType === 'temporal_ordered' && hasComparison && !needsAll(condition, rules.length)) {
        // "In order" for only some of the rules has no agreed meaning (which ones, in what order?).
        fail(
          ['correlation', 'condition'],
          'temporal_ordered with a condition other than all of its rules is not supported',
          'temporal_ordered condition',
        );
      }
      break;
  }
  // A window judged holds at least one event; a temporal one counts at most every rule.
  const most =
    correlationType === 'temporal' || correlationType === 'temporal_ordered' ? rules.length : Infinity;
  if (neverHolds(condition, most)) {
    fail(
      ['correlation', 'condition'],
      most === Infinity
        ? 'no count can pass every comparison of this condition'
        : `no count of 1 to ${most} rules passes this condition`,
    );
  }

  return {
    file,
    ...(meta.id === undefined ? {} : { id: meta.id }),
    ...(meta.name === undefined ? {} : { name: meta.name }),
    title: meta.title,
    ...(meta.level === undefined ? {} : { level: meta.level }),
    ...(meta.status === undefined ? {} : { status: meta.status }),
    ...(meta.description === undefined ? {} : { description: meta.description }),
    ...(meta.author === undefined ? {} : { author: meta.author }),
    references: meta.references ?? [],
    type: correlationType,
    rules,
    groupBy,
    timespan: section.timespan,
    timespanMs,
    condition,
    ...(fields ? { field: fields } : {}),
    aliases,
    generate: section.generate ?? false,
    unsupported,
  };
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Whether `count` passes every comparison of `condition`. */
export function conditionHolds(condition: CorrelationCondition, count: number): boolean {
  return (
    (condition.gt === undefined || count > condition.gt) &&
    (condition.gte === undefined || count >= condition.gte) &&
    (condition.lt === undefined || count < condition.lt) &&
    (condition.lte === undefined || count <= condition.lte) &&
    (condition.eq === undefined || count === condition.eq) &&
    (condition.neq === undefined || count !== condition.neq)
  );
}

/**
 * Whether a condition only sets a floor (`gt`, `gte`): once a count passes it, more events keep it
 * passing, so it can be judged as soon as an event arrives. A ceiling (`lt`, `lte`, `eq`, `neq`)
 * can only be judged once the window is over.
 */
export function isFloorOnly(condition: CorrelationCondition): boolean {
  return Object.keys(condition).every((k) => k === 'gt' || k === 'gte');
}

/** A count past which the condition's answer no longer changes: counting further is useless. */
export function saturation(condition: CorrelationCondition): number {
  return Math.max(0, ...Object.values(condition).filter((v): v is number => v !== undefined)) + 1;
}

function needsAll(condition: CorrelationCondition, rules: number): boolean {
  // Counts run from 0 to `rules`: the condition needs all when `rules` is the only count passing it.
  for (let n = 0; n < rules; n++) if (conditionHolds(condition, n)) return false;
  return conditionHolds(condition, rules);
}

function neverHolds(condition: CorrelationCondition, most: number): boolean {
  // Counts are whole numbers from 1 to `most`: the comparisons leave a range [low, high], minus `neq`.
  const { gt, gte, lt, lte, eq, neq } = condition;
  const low = Math.max(1, gt === undefined ? 1 : gt + 1, gte ?? 1, eq ?? 1);
  const high = Math.min(most, lt === undefined ? Infinity : lt - 1, lte ?? Infinity, eq ?? Infinity);
  return low > high || (low === high && neq === low);
}

/** For messages: the comparisons of a condition as written (`gte 10, lte 20`). */
export function describeCondition(condition: CorrelationCondition): string {
  return (Object.entries(condition) as [Comparator, number][]).map(([k, v]) => `${k} ${v}`).join(', ');
}
