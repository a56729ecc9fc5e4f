/**
 * Sigma filters (sigma-filters-specification.md): a filter document names rules by id or name and
 * holds a detection of its own; an event its condition matches is no hit of those rules, whatever
 * they say. Filters tune rules to an institution without editing the rules themselves.
 */
import { compileDetection, PreparedEvent, type CompiledRule } from './compile.js';
import type { SigmaFilter, SigmaLogsource } from './rule.js';

/** Why a filter was not applied to a rule it names: the institution's tuning would be lost silently. */
export interface FilterProblem {
  filter: { file: string; title: string; id?: string };
  /** The rule id or name the filter gives. */
  rule: string;
  problem: 'no such rule' | 'logsource differs' | 'unsupported';
  unsupported?: string[];
}

export interface FilteredRules {
  /** The rules, each with the filters that name it applied (the others unchanged). */
  rules: CompiledRule[];
  problems: FilterProblem[];
}

/**
 * The rules with their filters applied: a filtered rule matches an event when it did and none of
 * its filters' conditions match it (filters specification §Global filter). A filter whose log source
 * differs from the rule's (a category, product or service both name, with different values) is not
 * applied, nor one that uses what the engine does not support: both are reported in `problems`.
 *
 * @example
 *   const { rules, problems } = applyFilters(compiled, [loadSigmaRule(text, 'mf_admins.yml')].filter(isFilter));
 */
export function applyFilters(rules: CompiledRule[], filters: SigmaFilter[]): FilteredRules {
  const problems: FilterProblem[] = [];
  const applied = new Map<CompiledRule, ((e: PreparedEvent) => boolean)[]>();
  for (const filter of filters) {
    const about = {
      file: filter.file,
      title: filter.title,
      ...(filter.id === undefined ? {} : { id: filter.id }),
    };
    if (filter.unsupported.length > 0) {
      for (const rule of filter.rules)
        problems.push({ filter: about, rule, problem: 'unsupported', unsupported: filter.unsupported });
      continue;
    }
    const predicate = compileDetection(filter.detection, filter.options, filter.file);
    for (const name of filter.rules) {
      const targets = rules.filter((r) => r.rule.id === name || r.rule.name === name);
      if (targets.length === 0) problems.push({ filter: about, rule: name, problem: 'no such rule' });
      for (const target of targets) {
        if (!compatible(filter.logsource, target.rule.logsource)) {
          problems.push({ filter: about, rule: name, problem: 'logsource differs' });
          continue;
        }
        applied.set(target, [...(applied.get(target) ?? []), predicate]);
      }
    }
  }
  return {
    rules: rules.map((rule) => {
      const excluded = applied.get(rule);
      if (excluded === undefined) return rule;
      const matchesPrepared = (e: PreparedEvent) => rule.matchesPrepared(e) && !excluded.some((f) => f(e));
      return {
        rule: rule.rule,
        matchesPrepared,
        matches: (event) => matchesPrepared(new PreparedEvent(event)),
        logsourceMatches: (event) => rule.logsourceMatches(event),
        appliesTo: (logsource) => rule.appliesTo(logsource),
        // A filter only takes events away: what the rule needs, the filtered rule needs too.
        ...(rule.literals === undefined ? {} : { literals: rule.literals }),
      } satisfies CompiledRule;
    }),
    problems,
  };
}

/** The filter's log source must not contradict the rule's; a key only one of them names is no contradiction. */
function compatible(filter: SigmaLogsource, rule: SigmaLogsource): boolean {
  return (['category', 'product', 'service'] as const).every(
    (key) =>
      filter[key] === undefined ||
      rule[key] === undefined ||
      filter[key].toLowerCase() === rule[key].toLowerCase(),
  );
}
