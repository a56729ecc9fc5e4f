/**
 * The rules a watch runs: Sigma files (`.yml`, `.yaml`) read from files and folders, each document
 * sorted into detection rules, filters and correlation rules. A rule that uses what the engines do
 * not support is set aside with the reason, by name, never run half; a broken one stops the load
 * with its file and line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RempartError } from '@rempart/core';
import { loadCorrelation, SigmaCorrelationError, type CorrelationRule } from './correlation/index.js';
import { loadSigmaDocuments, type SigmaDetectionRule, type SigmaFilter } from './sigma/index.js';

/** A rule not run, and why. */
export interface SkippedRule {
  file: string;
  title: string;
  unsupported: string[];
}

export interface RuleFiles {
  detections: SigmaDetectionRule[];
  filters: SigmaFilter[];
  correlations: CorrelationRule[];
  skipped: SkippedRule[];
  /** How many files were read. */
  files: number;
}

/** The rules the project ships for mail servers (`assets/serverwatch/rules`). */
export function shippedRulesDir(): string {
  return fileURLToPath(new URL('../../assets/serverwatch/rules/', import.meta.url));
}

/** The SigmaHQ rules the project ships, as published (`assets/serverwatch/sigmahq/rules`; DRL 1.1). */
export function sigmaHqRulesDir(): string {
  return fileURLToPath(new URL('../../assets/serverwatch/sigmahq/rules/', import.meta.url));
}

/**
 * Reads every rule of `paths` (files, or folders searched recursively). Throws `validation_failed`
 * for a path that does not exist or holds no rule, and the loaders' errors (file and line) for a
 * broken rule.
 */
export function loadRuleFiles(paths: readonly string[]): RuleFiles {
  const out = emptyRuleFiles();
  for (const path of paths) {
    const files = ruleFilesUnder(path);
    if (files.length === 0) throw RempartError.validation(`${path}: no Sigma rule (.yml, .yaml) there`);
    for (const file of files) {
      const name = files.length === 1 && file === path ? file : join(path, relative(path, file));
      addRules(out, readFileSync(file, 'utf8'), name);
    }
  }
  return out;
}

/**
 * The rules of one Sigma text (documents separated by `---`), as `loadRuleFiles` reads a file
 * named `name`: a rule written in the console for a retro-hunt. Throws the loaders' errors (the
 * name and line) for a broken rule.
 */
export function loadRuleText(text: string, name: string): RuleFiles {
  return addRules(emptyRuleFiles(), text, name);
}

function emptyRuleFiles(): RuleFiles {
  return { detections: [], filters: [], correlations: [], skipped: [], files: 0 };
}

function addRules(out: RuleFiles, text: string, name: string): RuleFiles {
  out.files++;
  for (const document of loadSigmaDocuments(text, name)) {
    if (document.kind === 'detection') {
      if (document.unsupported.length === 0) out.detections.push(document);
      else out.skipped.push({ file: name, title: document.title, unsupported: document.unsupported });
    } else if (document.kind === 'filter') out.filters.push(document);
    else {
      const correlation = loadCorrelationOrSkip(document.document, name, document.line);
      if ('unsupported' in correlation && correlation.unsupported.length > 0)
        out.skipped.push({ file: name, title: document.title, unsupported: correlation.unsupported });
      else out.correlations.push(correlation as CorrelationRule);
    }
  }
  return out;
}

/**
 * The correlation rule of a document, or what it uses that the engine does not support (a type
 * such as `value_avg` is refused by the loader, naming it: the rule is then skipped, not the load).
 */
function loadCorrelationOrSkip(
  document: Record<string, unknown>,
  file: string,
  line: number,
): CorrelationRule | { unsupported: string[] } {
  try {
    return loadCorrelation(document, file, { line });
  } catch (error) {
    if (error instanceof SigmaCorrelationError && error.unsupported !== undefined)
      return { unsupported: [error.unsupported] };
    throw error;
  }
}

function ruleFilesUnder(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw RempartError.validation(`${path}: no such file or folder`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return ruleFilesUnder(child);
      return /\.ya?ml$/i.test(entry.name) ? [child] : [];
    });
}
