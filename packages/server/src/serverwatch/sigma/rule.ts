/**
 * Loading a Sigma rule from its YAML text (Sigma rules specification v2.1.0 §File Structure and
 * §Components; the detection rule JSON schema): its metadata checked with zod, its detection read
 * node by node so that every problem names the file and the line, every value and modifier checked
 * at once, and whatever the engine does not support named in `unsupported` (such a rule is not run).
 *
 * A file may also hold a Sigma filter (sigma-filters-specification.md), read here too, or a
 * correlation rule (sigma-correlation-rules-specification.md), recognised and handed on as it is.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Parser,
  type CST,
  type Document,
  type Node,
} from 'yaml';
import { z } from 'zod';
import { parseCondition, undefinedIdentifier, type ConditionNode } from './condition.js';
import { SigmaProblem, SigmaRuleError } from './errors.js';
import { planItem, type ModifierOptions, type SigmaItem, type SigmaValue } from './modifiers.js';

export { SigmaRuleError } from './errors.js';

/** A rule's `logsource` (spec §LogSource): what produced the events it is about. */
export interface SigmaLogsource {
  category?: string;
  product?: string;
  service?: string;
  definition?: string;
}

/**
 * A search identifier of a detection: alternatives joined by OR, each a list of items joined by
 * AND (a map is one alternative; a list of maps one per map; a list of plain values one keyword item).
 */
export interface SearchIdentifier {
  name: string;
  line: number;
  alternatives: SigmaItem[][];
}

/** A detection section: its search identifiers and its conditions (joined by OR, spec §Condition). */
export interface SigmaDetection {
  identifiers: SearchIdentifier[];
  conditions: ConditionNode[];
  /** The conditions as written. */
  conditionText: string[];
}

interface Located {
  /** The file the document was read from, as the caller named it. */
  file: string;
  /** The line the document starts on (files may hold several, separated by `---`). */
  line: number;
}

/** A detection rule, loaded. */
export interface SigmaDetectionRule extends Located {
  kind: 'detection';
  title: string;
  id?: string;
  name?: string;
  status?: 'stable' | 'test' | 'experimental' | 'deprecated' | 'unsupported';
  description?: string;
  license?: string;
  author?: string;
  references: string[];
  date?: string;
  modified?: string;
  taxonomy?: string;
  related: { id: string; type: string }[];
  logsource: SigmaLogsource;
  detection: SigmaDetection;
  fields: string[];
  falsepositives: string[];
  level?: 'informational' | 'low' | 'medium' | 'high' | 'critical';
  tags: string[];
  scope: string[];
  /** What the engine does not support, by name (`modifier foo`); empty for a rule it runs. */
  unsupported: string[];
  /** The options the rule was loaded with (placeholder values), used again when it is compiled. */
  options: ModifierOptions;
}

/** A Sigma filter (filters specification): excludes what its detection matches from the rules it names. */
export interface SigmaFilter extends Located {
  kind: 'filter';
  title: string;
  id?: string;
  name?: string;
  description?: string;
  logsource: SigmaLogsource;
  /** The ids or names of the rules it applies to. */
  rules: string[];
  detection: SigmaDetection;
  unsupported: string[];
  options: ModifierOptions;
}

/** A correlation rule: recognised here, not a detection rule; read by the correlation engine. */
export interface SigmaCorrelationDocument extends Located {
  kind: 'correlation';
  title: string;
  id?: string;
  name?: string;
  /** The whole document as YAML gave it. */
  document: Record<string, unknown>;
}

export type LoadedRule = SigmaDetectionRule | SigmaFilter | SigmaCorrelationDocument;

// Dates: YAML 1.2 reads `2019-10-23` as a string; a YAML 1.1 timestamp would be a Date.
const DateText = z.union([z.string(), z.date().transform((d) => d.toISOString().slice(0, 10))]);
const TextList = z.union([z.string().transform((s) => [s]), z.array(z.string())]);
const Logsource = z.object({
  category: z.string().optional(),
  product: z.string().optional(),
  service: z.string().optional(),
  definition: z.string().optional(),
});
const Meta = z.object({
  title: z.string().min(1).max(256),
  id: z.string().min(1).optional(),
  name: z.string().min(1).max(256).optional(),
  status: z.enum(['stable', 'test', 'experimental', 'deprecated', 'unsupported']).optional(),
  description: z.string().max(65_535).optional(),
  license: z.string().optional(),
  author: z.string().optional(),
  references: TextList.optional(),
  date: DateText.optional(),
  modified: DateText.optional(),
  taxonomy: z.string().optional(),
  related: z.array(z.object({ id: z.string().min(1), type: z.string().min(1) })).optional(),
  logsource: Logsource,
  fields: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
  falsepositives: TextList.optional(),
  level: z.enum(['informational', 'low', 'medium', 'high', 'critical']).optional(),
  tags: z.array(z.string()).optional(),
  scope: TextList.optional(),
});
const FilterMeta = z.object({
  title: z.string().min(1).max(256),
  id: z.string().min(1).optional(),
  name: z.string().min(1).max(256).optional(),
  description: z.string().optional(),
  logsource: Logsource,
  filter: z.object({ rules: z.union([z.string().transform((s) => [s]), z.array(z.string()).min(1)]) }),
});
const CorrelationMeta = z.object({
  title: z.string().min(1),
  id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  correlation: z.record(z.string(), z.unknown()),
});

/**
 * The one document of a rule file: a detection rule, a filter, or a correlation rule. Throws a
 * `SigmaRuleError` naming the file and line when it is not a valid Sigma document (or holds
 * several: see `loadSigmaDocuments`).
 *
 * @example
 *   const rule = loadSigmaRule(readFileSync(path, 'utf8'), path);
 *   if (rule.kind === 'detection' && rule.unsupported.length === 0) compileRule(rule);
 */
export function loadSigmaRule(text: string, file: string, options: ModifierOptions = {}): LoadedRule {
  const documents = loadSigmaDocuments(text, file, options);
  if (documents.length !== 1) {
    const second = documents[1];
    throw new SigmaRuleError(
      file,
      second ? { line: second.line } : undefined,
      documents.length === 0
        ? 'the file holds no Sigma rule'
        : `the file holds ${documents.length} YAML documents, not one`,
    );
  }
  return documents[0]!;
}

/**
 * Every document of a file separated by `---` (the correlation specification puts a correlation
 * and the rules it uses in one file), each loaded as by `loadSigmaRule`.
 */
export function loadSigmaDocuments(text: string, file: string, options: ModifierOptions = {}): LoadedRule[] {
  const lineCounter = new LineCounter();
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const line = text.slice(0, deep).split('\n').length;
    throw new SigmaRuleError(file, { line }, `nested more than ${MAX_DEPTH} levels deep`);
  }
  let documents: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
    documents = Array.isArray(parsed) ? parsed : [];
  } catch (error) {
    throw new SigmaRuleError(file, undefined, `not YAML: ${(error as Error).message}`, { cause: error });
  }
  const loaded: LoadedRule[] = [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
      throw new SigmaRuleError(file, { line }, `not valid YAML: ${error.message.split('\n')[0]}`);
    }
    // An empty document (a file ending in `---`) holds nothing.
    if (doc.contents === null) continue;
    loaded.push(new DocumentReader(doc, lineCounter, file, options).read());
  }
  return loaded;
}

/** Whether a loaded document is a detection rule the engine can run. */
export function isRunnable(rule: LoadedRule): rule is SigmaDetectionRule {
  return rule.kind === 'detection' && rule.unsupported.length === 0;
}

// Bounds on what one document may make the reader do: YAML aliases can make a small text huge.
const MAX_ALIAS_COUNT = 100;
const MAX_NODES = 100_000;
/**
 * How deep collections may nest. Composing YAML recurses once per level: a few thousand brackets
 * would exhaust the stack, and V8 may then abort the whole process rather than throw. Rules nest
 * four or five levels; the depth is measured on the parser's tokens, without recursion.
 */
const MAX_DEPTH = 64;

/** The offset of a collection nested deeper than `MAX_DEPTH`, if any. */
function tooDeep(text: string): number | undefined {
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const token of new Parser().parse(text)) stack.push({ token, depth: 0 });
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { token, depth } = next;
    if (depth > MAX_DEPTH) return 'offset' in token ? token.offset : 0;
    if (token.type === 'document' && token.value) stack.push({ token: token.value, depth });
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

class DocumentReader {
  private nodes = 0;
  private readonly unsupported = new Set<string>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly options: ModifierOptions,
  ) {}

  read(): LoadedRule {
    const root = this.doc.contents;
    const start = this.lineOf(root);
    if (!isMap(root)) throw this.error(start, 'a Sigma rule is a YAML map of its attributes');
    let json: unknown;
    try {
      json = this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      throw this.error(start, `cannot be read: ${(error as Error).message}`);
    }
    const object = json as Record<string, unknown>;
    // Sigma 1 rule collections (`action: global` documents merged into the next ones) are gone
    // from the current specification: a document of one is not a rule on its own.
    if (typeof object.action === 'string' && ['global', 'reset', 'repeat'].includes(object.action)) {
      throw this.error(
        this.keyLine('action') ?? start,
        `action: ${object.action}: Sigma 1 rule collections are not supported`,
      );
    }
    if ('correlation' in object) return this.correlation(object, start);
    if ('filter' in object && !('detection' in object)) return this.filter(object, start);
    return this.detectionRule(object, start);
  }

  private correlation(object: Record<string, unknown>, line: number): SigmaCorrelationDocument {
    const meta = this.check(CorrelationMeta, object);
    return {
      kind: 'correlation',
      file: this.file,
      line,
      title: meta.title,
      ...(meta.id === undefined ? {} : { id: meta.id }),
      ...(meta.name === undefined ? {} : { name: meta.name }),
      document: object,
    };
  }

  private filter(object: Record<string, unknown>, line: number): SigmaFilter {
    const meta = this.check(FilterMeta, object);
    const detection = this.detection('filter', ['rules']);
    return {
      kind: 'filter',
      file: this.file,
      line,
      title: meta.title,
      ...(meta.id === undefined ? {} : { id: meta.id }),
      ...(meta.name === undefined ? {} : { name: meta.name }),
      ...(meta.description === undefined ? {} : { description: meta.description }),
      logsource: meta.logsource,
      rules: meta.filter.rules,
      detection,
      unsupported: [...this.unsupported],
      options: this.options,
    };
  }

  private detectionRule(object: Record<string, unknown>, line: number): SigmaDetectionRule {
    if (!('detection' in object)) throw this.error(line, 'detection: a rule needs a detection section');
    const meta = this.check(Meta, object);
    const detection = this.detection('detection', []);
    // Spec §Taxonomy: another taxonomy names fields otherwise, which this engine does not translate.
    if (meta.taxonomy !== undefined && meta.taxonomy.toLowerCase() !== 'sigma')
      this.unsupported.add(`taxonomy ${meta.taxonomy}`);
    const optional = <K extends keyof typeof meta>(key: K) =>
      meta[key] === undefined ? {} : ({ [key]: meta[key] } as Pick<typeof meta, K>);
    return {
      kind: 'detection',
      file: this.file,
      line,
      title: meta.title,
      ...optional('id'),
      ...optional('name'),
      ...optional('status'),
      ...optional('description'),
      ...optional('license'),
      ...optional('author'),
      references: meta.references ?? [],
      ...optional('date'),
      ...optional('modified'),
      ...optional('taxonomy'),
      related: meta.related ?? [],
      logsource: meta.logsource,
      detection,
      fields: meta.fields ?? [],
      falsepositives: meta.falsepositives ?? [],
      ...optional('level'),
      tags: meta.tags ?? [],
      scope: meta.scope ?? [],
      unsupported: [...this.unsupported],
      options: this.options,
    };
  }

  /** The value of `schema` for the document, or an error naming the first wrong attribute and its line. */
  private check<T>(schema: z.ZodType<T>, object: Record<string, unknown>): T {
    const result = schema.safeParse(object);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // The deepest node that exists on the path (a missing attribute: its parent).
    let line = this.lineOf(this.doc.contents);
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as Node | undefined;
      if (node !== undefined && node !== null) {
        line = this.lineOf(node);
        break;
      }
    }
    const where = path.length > 0 ? `${path.join('.')}: ` : '';
    const missing = path.length > 0 && this.doc.getIn(path) === undefined;
    return this.fail(line, `${where}${missing ? 'missing' : issue.message}`);
  }

  private detection(name: 'detection' | 'filter', reserved: string[]): SigmaDetection {
    const section = this.child(this.doc.contents, name);
    if (!isMap(section)) {
      const line = section === null ? this.keyLine(name) : this.lineOf(section);
      throw this.error(line, `${name}: must be a map of search identifiers and a condition`);
    }
    const identifiers: SearchIdentifier[] = [];
    let conditionNode: Node | undefined;
    for (const pair of section.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      const line = this.lineOf(keyNode ?? section);
      if (typeof key !== 'string' && typeof key !== 'number')
        throw this.error(line, `${name}: a key must be a name`);
      const keyText = String(key);
      const value = this.resolve(pair.value as Node | null);
      if (keyText === 'condition') conditionNode = value ?? undefined;
      else if (reserved.includes(keyText)) continue;
      else if (keyText === 'timeframe') this.unsupported.add('detection timeframe');
      else identifiers.push(this.identifier(keyText, value, line));
    }
    if (conditionNode === undefined) throw this.error(this.lineOf(section), `${name}: no condition`);
    if (identifiers.length === 0) throw this.error(this.lineOf(section), `${name}: no search identifier`);

    const conditionNodes = isSeq(conditionNode)
      ? conditionNode.items.map((n) => this.resolve(n as Node))
      : [conditionNode];
    if (conditionNodes.length === 0) throw this.error(this.lineOf(conditionNode), `${name}.condition: empty`);
    const names = identifiers.map((i) => i.name);
    const conditions: ConditionNode[] = [];
    const conditionText: string[] = [];
    for (const node of conditionNodes) {
      const line = this.lineOf(node ?? conditionNode);
      if (!isScalar(node) || typeof node.value !== 'string')
        throw this.error(line, `${name}.condition: must be a string`);
      const parsed = parseCondition(node.value);
      if (!parsed.ok) {
        if (parsed.unsupported !== undefined) {
          this.unsupported.add(parsed.unsupported);
          continue;
        }
        throw this.error(
          line,
          `${name}.condition: ${parsed.error} (column ${parsed.column} of the condition)`,
        );
      }
      const missing = undefinedIdentifier(parsed.ast, names);
      if (missing) throw this.error(line, `${name}.condition: ${missing}`);
      conditions.push(parsed.ast);
      conditionText.push(node.value);
    }
    return { identifiers, conditions, conditionText };
  }

  private identifier(name: string, node: Node | null, line: number): SearchIdentifier {
    const alternatives: SigmaItem[][] = [];
    if (isMap(node)) {
      alternatives.push(this.map(node, name));
    } else if (isSeq(node)) {
      const keywords: SigmaValue[] = [];
      for (const element of node.items) {
        const item = this.resolve(element as Node | null);
        if (isMap(item)) alternatives.push(this.map(item, name));
        else if (isScalar(item) || item === null) keywords.push(this.value(item, name, line));
        else throw this.error(this.lineOf(item), `${name}: a list of lists is not a Sigma selection`);
      }
      if (keywords.length > 0) {
        alternatives.push([
          { field: null, modifiers: [], values: keywords, list: true, line: keywords[0]!.line },
        ]);
      }
    } else if (isScalar(node)) {
      const value = this.value(node, name, line);
      alternatives.push([{ field: null, modifiers: [], values: [value], list: false, line: value.line }]);
    } else {
      throw this.error(line, `${name}: a search identifier is a map or a list`);
    }
    if (alternatives.length === 0) throw this.error(line, `${name}: empty`);
    for (const items of alternatives) for (const item of items) this.plan(item);
    return { name, line, alternatives };
  }

  private map(node: Node, identifier: string): SigmaItem[] {
    if (!isMap(node)) throw this.error(this.lineOf(node), `${identifier}: expected a map`);
    if (node.items.length === 0)
      throw this.error(this.lineOf(node), `${identifier}: an empty map matches nothing`);
    return node.items.map((pair) => {
      const keyNode = pair.key as Node | null;
      const line = this.lineOf(keyNode ?? node);
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string' && typeof key !== 'number')
        throw this.error(line, `${identifier}: a field name must be text`);
      const [field, ...modifiers] = String(key).split('|');
      const where = `${identifier}.${String(key)}`;
      const value = this.resolve(pair.value as Node | null);
      let values: SigmaValue[];
      let list = false;
      if (isSeq(value)) {
        list = true;
        values = value.items.map((element) => {
          const item = this.resolve(element as Node | null);
          if (item !== null && !isScalar(item))
            throw this.error(
              this.lineOf(item),
              `${where}: a value must be a string, number, boolean or null`,
            );
          return this.value(item, where, line);
        });
        if (values.length === 0) throw this.error(line, `${where}: an empty list of values`);
      } else if (isScalar(value) || value === null) {
        values = [this.value(value, where, line)];
      } else {
        throw this.error(
          this.lineOf(value),
          `${where}: a value must be a string, number, boolean, null or a list of them`,
        );
      }
      return { field: field === '' ? null : (field ?? null), modifiers, values, list, line };
    });
  }

  private value(node: Node | null, where: string, line: number): SigmaValue {
    if (node === null) return { value: null, text: 'null', line };
    if (!isScalar(node)) throw this.error(this.lineOf(node), `${where}: expected a value`);
    const at = this.lineOf(node);
    const v = node.value;
    if (v === null) return { value: null, text: 'null', line: at };
    if (typeof v === 'string') return { value: v, text: v, line: at };
    if (typeof v === 'boolean') return { value: v, text: String(v), line: at };
    if (typeof v === 'number') return { value: v, text: node.source ?? String(v), line: at };
    throw this.error(at, `${where}: a value must be a string, number, boolean or null`);
  }

  /** Checks an item now, so that a bad modifier or value stops the load with its line. */
  private plan(item: SigmaItem): void {
    try {
      for (const name of planItem(item, this.options).unsupported) this.unsupported.add(name);
    } catch (error) {
      if (error instanceof SigmaProblem) throw this.error(error.line ?? item.line, error.message);
      throw error;
    }
  }

  private child(node: unknown, key: string): Node | null {
    if (!isMap(node)) return null;
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === key) return this.resolve(pair.value as Node | null);
    }
    return null;
  }

  /** An alias's target (bounded: aliases could otherwise make a small document huge). */
  private resolve(node: Node | null): Node | null {
    if (++this.nodes > MAX_NODES) throw this.error(undefined, 'too large once its aliases are expanded');
    if (node === null || !isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (target === undefined) throw this.error(this.lineOf(node), `alias *${node.source} has no anchor`);
    return target;
  }

  /** The line of a top-level attribute's name. */
  private keyLine(key: string): number | undefined {
    const root = this.doc.contents;
    if (!isMap(root)) return undefined;
    const pair = root.items.find((p) => isScalar(p.key) && p.key.value === key);
    return pair ? this.lineOf(pair.key) : undefined;
  }

  private lineOf(node: unknown): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.lines.linePos(range[0]).line : 1;
  }

  private error(line: number | undefined, problem: string): SigmaRuleError {
    return new SigmaRuleError(this.file, line === undefined ? undefined : { line }, problem);
  }

  private fail(line: number, problem: string): never {
    throw this.error(line, problem);
  }
}
