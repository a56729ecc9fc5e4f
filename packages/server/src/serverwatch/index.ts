/**
 * The server watch as a library (`@rempart/server/serverwatch`): log parsers, the Sigma engine and
 * its correlations, and the offline scan `rempart watch scan` runs on an analyst's machine, with no
 * platform or database.
 *
 * @example
 *   const rules = loadRuleFiles([shippedRulesDir(), sigmaHqRulesDir()]);
 *   const summary = scanLogs({ rules, files: ['/var/log/mail.log'], format: 'auto', onHit: console.log });
 */
export { Detector, type DetectorOptions, type WatchHit } from './detector.js';
export type { FieldValue, LogSource, WatchEvent } from './event.js';
export { detectFormat, logFormats, LogFormat, parseLine, type ParseContext } from './parsers/index.js';
export {
  loadRuleFiles,
  shippedRulesDir,
  sigmaHqRulesDir,
  type RuleFiles,
  type SkippedRule,
} from './rules.js';
export {
  scanLogs,
  scanNodeOptions,
  type LogScanOptions,
  type LogScanProgress,
  type LogScanSummary,
} from './scan-logs.js';
