/**
 * `rempart watch scan`: runs Sigma rules over log files on the analyst's machine, as Chainsaw or
 * Hayabusa do, with no platform or database needed: the rules the project ships for mail servers
 * and the SigmaHQ rules it ships, or those of `--rules`.
 *
 * @example
 *   rempart watch scan --log /var/log/mail.log --log /var/log/auth.log
 *   rempart watch scan --rules ./my-rules --log u_ex261203.log --format iis --json
 */
import { parseArgs } from 'node:util';
import type * as WatchLibrary from '@rempart/server/serverwatch';
import { progressBar } from './progress.js';

/** A mistake in how the command was called: exit status 2 with the usage. */
export class WatchUsageError extends Error {}

export const WATCH_USAGE = `  watch scan --log FILE... [--rules PATH]... [--format F] [--json]
                                          run Sigma rules (detections and correlations) over log files:
                                          the shipped mail-server and SigmaHQ rules, or those of --rules (a
                                          rule file or a folder of them); --format auto (default), syslog,
                                          postfix, dovecot, sshd, iis, combined, audit, windows or jsonl;
                                          --json prints one JSON object per hit (rule_id, title, level, the
                                          events); exit 0 no rule fired, 1 one did, 2 bad input`;

export async function watchScan(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        log: { type: 'string', multiple: true },
        rules: { type: 'string', multiple: true },
        format: { type: 'string', default: 'auto' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new WatchUsageError(error instanceof Error ? error.message : String(error));
  }
  const logs = values.log ?? [];
  if (logs.length === 0) throw new WatchUsageError('watch scan needs at least one --log FILE');
  const lib: typeof WatchLibrary = await import('@rempart/server/serverwatch');
  const format = values.format;
  if (format !== 'auto' && !lib.LogFormat.safeParse(format).success)
    throw new WatchUsageError(`--format ${format}: one of auto, ${lib.logFormats.join(', ')}`);
  const rulePaths = values.rules ?? [lib.shippedRulesDir(), lib.sigmaHqRulesDir()];
  const rules = lib.loadRuleFiles(rulePaths);
  if (rules.detections.length === 0)
    throw new WatchUsageError(`--rules ${rulePaths.join(', ')}: no rule to run`);

  const bar = progressBar(process.stderr);
  const summary = (() => {
    try {
      return lib.scanLogs({
        rules,
        files: logs,
        format: format as WatchLibrary.LogFormat | 'auto',
        onProgress: ({ bytes, totalBytes, lines, file }) =>
          bar.show(
            bytes,
            totalBytes,
            `${Math.round((bytes / totalBytes) * 100)}% ${lines.toLocaleString('en-US')} lines ${file}`,
          ),
        onHit: (hit) => {
          if (values.json) console.log(JSON.stringify(hitJson(hit)));
          else {
            bar.clear();
            printHit(hit);
          }
        },
      });
    } finally {
      bar.clear();
    }
  })();
  if (!values.json) printSummary(summary, rules);
  return summary.hits > 0 ? 1 : 0;
}

/** A hit as `--json` prints it: one object per line. */
function hitJson(hit: WatchLibrary.WatchHit) {
  return {
    rule_id: hit.rule.id,
    title: hit.rule.title,
    level: hit.rule.level ?? null,
    kind: hit.rule.kind,
    file: hit.rule.file,
    time: new Date(hit.time).toISOString(),
    ...(hit.group === undefined ? {} : { group: hit.group, value: hit.value }),
    event: eventJson(hit.events[hit.events.length - 1]!),
    ...(hit.events.length > 1 ? { events: hit.events.map(eventJson) } : {}),
  };
}

function eventJson(event: WatchLibrary.WatchEvent) {
  return {
    time: new Date(event.time).toISOString(),
    source: event.source ?? null,
    logsource: event.logsource,
    fields: event.fields,
    raw: event.raw,
  };
}

function printHit(hit: WatchLibrary.WatchHit): void {
  const level = (hit.rule.level ?? 'unknown').toUpperCase();
  const group =
    hit.group === undefined
      ? ''
      : ` [${Object.entries(hit.group)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(
            ' ',
          )}; ${hit.value} in ${hit.events.length > 0 ? `${hit.events.length} event(s) shown` : 'the window'}]`;
  console.log(`${new Date(hit.time).toISOString()}  ${level.padEnd(13)} ${hit.rule.title}${group}`);
  const last = hit.events[hit.events.length - 1];
  if (last !== undefined)
    console.log(`      ${last.raw.length > 300 ? `${last.raw.slice(0, 299)}…` : last.raw}`);
}

function printSummary(summary: WatchLibrary.LogScanSummary, rules: WatchLibrary.RuleFiles): void {
  for (const file of summary.files)
    console.log(
      `${file.path}: ${file.lines.toLocaleString('en-US')} line(s) read as ${file.format}, ${file.unparsed.toLocaleString('en-US')} not understood (kept, searched by keyword rules)`,
    );
  console.log(
    `${summary.detectionRules} detection rule(s) and ${summary.correlationRules} correlation(s) run${rules.skipped.length > 0 ? `; ${rules.skipped.length} rule(s) not run: ${rules.skipped.map((s) => `${s.title} (${s.unsupported.join(', ')})`).join('; ')}` : ''}`,
  );
  if (summary.hits === 0) {
    console.log('No rule fired.');
    return;
  }
  console.log(`${summary.hits.toLocaleString('en-US')} hit(s):`);
  for (const rule of summary.byRule)
    console.log(`  ${String(rule.hits).padStart(7)}  ${(rule.level ?? 'unknown').padEnd(13)} ${rule.title}`);
}
