/**
 * The spyware check as a library (`@rempart/server/spyware`): the scanners of phone artifacts, the
 * indicators they match against, and the reports. The `rempart spyware scan` command runs them on
 * the analyst's machine; nothing here needs the platform or its database.
 *
 * @example
 *   const matcher = IndicatorMatcher.from(loadIndicatorFolder());
 *   const report = await scanIosBackup('/cases/42/backup', { matcher });
 *   report.detections.length // 0 when nothing was found
 */
export { scanAndroidqf } from './android/androidqf.js';
export { scanAndroidBugreport } from './android/bugreport.js';
export { scanIosBackup, type IosBackupOptions } from './ios/backup.js';
export { IndicatorMatcher } from './matcher.js';
export {
  detectionLines,
  malwareFound,
  renderHtmlReport,
  writeJsonReport,
  type DetectionLine,
  type ReadableReport,
} from './report.js';
export type { ScanOptions, ScanProgress, ScanResult } from './scan.js';
export type { Timeline } from './timeline.js';
export {
  indicatorsFromStix,
  loadIndicatorFolder,
  parseStixText,
  readIndicatorFile,
  SHIPPED_INDICATORS_SOURCE,
  shippedIndicatorsDir,
  type IndicatorBundle,
  type StixSkipped,
} from './stix.js';
export { scanSysdiagnose } from './sysdiagnose.js';
