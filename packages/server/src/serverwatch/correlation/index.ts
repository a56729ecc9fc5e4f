/**
 * Sigma correlation rules for the server watch: loading them (`loadCorrelation`) and running them
 * over a stream of events and detection-rule matches (`CorrelationEngine`). Pure library code: the
 * CLI's offline scan and the live service use it alike.
 *
 * @example
 *   const rules = loadCorrelationsFromText(readFileSync(file, 'utf8'), file);
 *   const engine = new CorrelationEngine(rules, { rules: detectionRules });
 *   const hits = engine.push(event, matchedRuleIds);
 */
export {
  conditionHolds,
  CORRELATION_TYPES,
  describeCondition,
  loadCorrelation,
  loadCorrelationsFromText,
  SigmaCorrelationError,
  type CorrelationCondition,
  type CorrelationRule,
  type CorrelationType,
  type Level,
} from './correlation.js';
export {
  CorrelationEngine,
  readField,
  type CorrelationEngineOptions,
  type CorrelationHit,
  type CorrelationStats,
  type RuleRef,
} from './engine.js';
