/**
 * The rules of a watch run over events: the detection rules compiled once into a `RuleSet` (the
 * rules of each log source found once, each event's fields looked up once for all of them), their
 * filters applied, and their hits fed to the correlation engine in time order. What comes out is
 * one kind of hit for both: the rule, when, and the events that made it.
 */
import type { CorrelationRule } from './correlation/index.js';
import { CorrelationEngine, type CorrelationHit, type RuleRef } from './correlation/index.js';
import type { LogSource, WatchEvent } from './event.js';
import type { RuleFiles } from './rules.js';
import { applyFilters, compileRule, RuleSet, type CompiledRule, type FilterProblem } from './sigma/index.js';

/** A rule that fired. */
export interface WatchHit {
  rule: {
    /** The rule's `id`, or `file:line` for a rule without one. */
    id: string;
    title: string;
    level: string | undefined;
    kind: 'detection' | 'correlation';
    file: string;
  };
  /** When: the event's time, or a correlation's last event's. */
  time: number;
  /** The event that matched, or the events that made a correlation (the last ones, capped). */
  events: WatchEvent[];
  /** A correlation's group (`src_ip`, `user`… and their values) and the count it was judged on. */
  group?: Record<string, unknown>;
  value?: number;
}

export interface DetectorOptions {
  /** Events kept with a correlation's hit, at most. */
  maxEventsPerHit?: number;
  /** Groups each correlation holds before forgetting the least recently seen. */
  maxGroups?: number;
}

export class Detector {
  private readonly ruleSet: RuleSet;
  private readonly correlation: CorrelationEngine | undefined;
  private readonly ids = new Map<CompiledRule, string>();
  /** Detection rules only correlations use (no hit of their own, spec § generate). */
  private readonly silenced: ReadonlySet<string>;
  readonly filterProblems: FilterProblem[];

  constructor(rules: RuleFiles, options: DetectorOptions = {}) {
    const compiled = rules.detections.map((rule) => compileRule(rule));
    const filtered = applyFilters(compiled, rules.filters);
    this.filterProblems = filtered.problems;
    this.ruleSet = new RuleSet(filtered.rules);
    const refs: RuleRef[] = [];
    for (const rule of filtered.rules) {
      const id = ruleId(rule.rule);
      this.ids.set(rule, id);
      refs.push({
        id,
        title: rule.rule.title,
        ...(rule.rule.name === undefined ? {} : { name: rule.rule.name }),
        ...(rule.rule.level === undefined ? {} : { level: rule.rule.level }),
      });
    }
    this.correlation =
      rules.correlations.length === 0
        ? undefined
        : new CorrelationEngine(rules.correlations, {
            rules: refs,
            ...(options.maxEventsPerHit === undefined ? {} : { maxEventsPerHit: options.maxEventsPerHit }),
            ...(options.maxGroups === undefined ? {} : { maxGroups: options.maxGroups }),
          });
    this.silenced = this.correlation?.silencedRules ?? new Set();
  }

  /** How many detection rules run. */
  get detectionRules(): number {
    return this.ruleSet.rules.length;
  }

  /** The longest literal the rules of a log source need that holds `char` (RuleSet.longestLiteralHolding). */
  longestLiteralHolding(char: string, logsource: LogSource): number {
    return this.ruleSet.longestLiteralHolding(char, logsource);
  }

  /**
   * Whether a rule could match the event of a line, from its head (`readHead`: its log source,
   * and texts that hold with the line every literal its values could hold; RuleSet.mayMatch): when
   * false, `pass` stands for `push` of that event.
   */
  mayMatch(logsource: LogSource, raw: string, texts: readonly string[]): boolean {
    return this.ruleSet.mayMatch(logsource, raw, texts);
  }

  /**
   * The hits of one event, events given in time order. `scanned`: the last `mayMatch` was of this
   * event's log source, raw line and composed values (its candidates are used again).
   */
  push(event: WatchEvent, scanned = false): WatchHit[] {
    const matched = this.ruleSet.match(event, scanned);
    if (matched.length === 0) {
      // Most events match nothing: nothing to allocate but the answer, and usually not even hits.
      if (this.correlation === undefined) return [];
      const found = this.correlation.push(event, NO_RULES);
      return found.length === 0 ? [] : found.map(correlationHit);
    }
    const hits: WatchHit[] = [];
    const ids: string[] = [];
    for (const rule of matched) {
      const id = this.ids.get(rule)!;
      ids.push(id);
      if (!this.silenced.has(id))
        hits.push({
          rule: {
            id,
            title: rule.rule.title,
            level: rule.rule.level,
            kind: 'detection',
            file: rule.rule.file,
          },
          time: event.time,
          events: [event],
        });
    }
    if (this.correlation !== undefined)
      for (const hit of this.correlation.push(event, ids)) hits.push(correlationHit(hit));
    return hits;
  }

  /**
   * `push` of an event at `time` that `mayMatch` showed no rule can match: what the correlations
   * judge as time moves on, without the event's fields.
   */
  pass(time: number): readonly WatchHit[] {
    if (this.correlation === undefined) return NO_HITS;
    const found = this.correlation.pass(time);
    return found.length === 0 ? NO_HITS : found.map(correlationHit);
  }

  /** What the correlations judge once time has passed `now` (a live service's clock). */
  advance(now: number): WatchHit[] {
    return (this.correlation?.advance(now) ?? []).map(correlationHit);
  }

  /** What the correlations judge at the end of the events (the end of an offline scan). */
  flush(): WatchHit[] {
    return (this.correlation?.flush() ?? []).map(correlationHit);
  }
}

const NO_RULES: readonly string[] = [];
const NO_HITS: readonly WatchHit[] = Object.freeze([]);

function ruleId(rule: { id?: string; file: string; line: number }): string {
  return rule.id ?? `${rule.file}:${rule.line}`;
}

function correlationHit(hit: CorrelationHit): WatchHit {
  const rule: CorrelationRule = hit.rule;
  return {
    rule: {
      id: rule.id ?? `${rule.file}:${rule.title}`,
      title: rule.title,
      level: rule.level,
      kind: 'correlation',
      file: rule.file,
    },
    time: hit.lastTime,
    events: hit.events,
    group: hit.group,
    value: hit.value,
  };
}
