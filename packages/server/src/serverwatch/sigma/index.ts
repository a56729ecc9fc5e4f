/**
 * The Sigma detection engine of the server watch: rules loaded from YAML and checked, compiled once
 * into predicates over `WatchEvent`s, and filters applied. Pure library code, usable by the CLI.
 *
 * @example
 *   const rule = loadSigmaRule(text, 'rules/sshd_brute.yml');
 *   if (isRunnable(rule)) {
 *     const compiled = compileRule(rule);
 *     if (compiled.logsourceMatches(event) && compiled.matches(event)) { ... }
 *   }
 */
export { applyFilters, type FilteredRules, type FilterProblem } from './filters.js';
export {
  compileRule,
  compileDetection,
  PreparedEvent,
  RuleSet,
  type CompiledRule,
  type EventPredicate,
} from './compile.js';
export { parseCondition, identifiersOf, type ConditionNode, type ConditionResult } from './condition.js';
export { SigmaRuleError } from './errors.js';
export {
  SIGMA_MODIFIERS,
  parseSigmaString,
  type ModifierOptions,
  type SigmaItem,
  type SigmaValue,
} from './modifiers.js';
export {
  isRunnable,
  loadSigmaDocuments,
  loadSigmaRule,
  type LoadedRule,
  type SearchIdentifier,
  type SigmaCorrelationDocument,
  type SigmaDetection,
  type SigmaDetectionRule,
  type SigmaFilter,
  type SigmaLogsource,
} from './rule.js';
