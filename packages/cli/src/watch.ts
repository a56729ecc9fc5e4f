/**
 * `rempart watch scan`: runs Sigma rules over log files on the analyst's machine, as Chainsaw or
 * Hayabusa do, with no platform or database needed: the rules the project ships for mail servers
 * and the SigmaHQ rules it ships, or those of `--rules`.
 *
 * @example
 *   rempart watch scan --log /var/log/mail.log --log /var/log/auth.log
 *   rempart watch scan --rules ./my-rules --log u_ex261203.log --format iis --json
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import { parseArgs } from 'node:util';
import { parseConfig, WatchHuntRequest, WatchSearchQuery, type Config } from '@rempart/core';
import type * as WatchLibrary from '@rempart/server/serverwatch';
import { adminClient, untilStopped, withPlatform } from './platform-access.js';
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

/**
 * @param ownProcess the command is the `rempart` process itself, which may start again with the
 *   Node options the scan runs best with on the CPUs it has (serverwatch, `scanNodeOptions`).
 */
export async function watchScan(args: string[], ownProcess = false): Promise<number> {
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
  if (ownProcess) {
    const missing = lib.scanNodeOptions(availableParallelism()).filter((o) => !process.execArgv.includes(o));
    if (missing.length > 0) return relaunched(missing);
  }
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

/**
 * Runs this program again with `nodeOptions` added, sharing its standard streams; its exit status
 * (128 and the signal's number when a signal ended it).
 */
function relaunched(nodeOptions: string[]): number {
  const child = spawnSync(process.execPath, [...process.execArgv, ...nodeOptions, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  if (child.error !== undefined) throw child.error;
  if (child.signal !== null) return 128 + (constants.signals[child.signal] ?? 0);
  return child.status ?? 1;
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

export const WATCH_LIVE_USAGE = `  watch serve [--syslog ADDR:PORT] [--file PATH[=FORMAT]]... [--rules PATH]...
                                          run the live server watch alone (no HTTP console): syslog over UDP
                                          and TCP, followed log files; every hit goes to the alert stream and
                                          its responses (REMPART_WATCH_* configure the rest)
  watch search [QUERY] [--from T] [--to T] [--limit N] [--json]
                                          search the stored events, newest first: words match the line,
                                          field:value a field (src_ip:203.0.113.0/24, user:alice,
                                          outcome:failure, format:dovecot), -term negates
  watch hunt [--rules FILE] [--from T] [--to T]
                                          run rules (a Sigma file, or the watch's own) over the stored events
                                          (retro-hunt); exit 0 no rule fired, 1 one did`;

/** `rempart watch serve`: the live watch in this process, on the platform's database. */
export async function watchServe(
  args: string[],
  loadConfig: () => Config,
  stop: AbortSignal | undefined,
): Promise<number> {
  const values = parse(args, {
    syslog: { type: 'string' },
    file: { type: 'string', multiple: true },
    rules: { type: 'string', multiple: true },
  });
  const base = loadConfig();
  const env: Record<string, string | undefined> = { ...process.env };
  if (values.syslog !== undefined) env.REMPART_WATCH_SYSLOG = values.syslog as string;
  if (values.file !== undefined) env.REMPART_WATCH_FILES = (values.file as string[]).join(',');
  if (values.rules !== undefined) env.REMPART_WATCH_RULES = (values.rules as string[]).join(',');
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new WatchUsageError(parsed.errors.join('; '));
  const watch = parsed.config.watch;
  if (watch.syslog === undefined && watch.syslogTls === undefined && watch.files.length === 0)
    throw new WatchUsageError(
      'watch serve needs something to receive: --syslog ADDR:PORT or --file PATH (or REMPART_WATCH_SYSLOG, REMPART_WATCH_FILES)',
    );
  if (await (await adminClient(base)).available())
    throw new WatchUsageError(
      'a Rempart server holds this data directory: start its watch with REMPART_WATCH_SYSLOG or REMPART_WATCH_FILES instead',
    );
  const { noMediaEngine, openPlatform } = await import('@rempart/server');
  const platform = await openPlatform(
    { ...base, watch, logLevel: base.logLevel === 'info' ? 'warn' : base.logLevel },
    { media: noMediaEngine },
  );
  const status = platform.watch.status();
  const syslog = status.syslog;
  console.log(
    [
      '',
      '  Rempart server watch is running',
      ...(syslog === null
        ? []
        : [
            `  Syslog: ${watch.syslog ? `UDP and TCP on ${watch.syslog.host}:${syslog.port}` : ''}${syslog.tlsPort === undefined ? '' : ` TLS on port ${syslog.tlsPort}`}`,
          ]),
      ...status.files.map((f) => `  Following ${f.path} (${f.format})`),
      `  Rules: ${status.rules.detection} detection, ${status.rules.correlation} correlation${status.rules.skipped.length > 0 ? `, ${status.rules.skipped.length} not run (unsupported)` : ''}`,
      `  Responses: block ${watch.block.mode}${watch.webhook ? `, webhook ${watch.webhook.url}` : ''}`,
      '  Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  await untilStopped(stop);
  await platform.close();
  return 0;
}

/** `rempart watch search`: stored events matching a query, newest first. */
export async function watchSearch(args: string[], loadConfig: () => Config): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  });
  const query = WatchSearchQuery.safeParse({
    q: positionals.join(' '),
    from: values.from,
    to: values.to,
    limit: values.limit ?? '50',
  });
  if (!query.success)
    throw new WatchUsageError(
      query.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '),
    );
  const config = loadConfig();
  const client = await adminClient(config);
  const page = (await client.available())
    ? await client.watchSearch(query.data)
    : await withPlatform(config, (p) => p.watch.search(query.data));
  for (const event of page.events) {
    if (values.json) console.log(JSON.stringify(event));
    else
      console.log(
        `${event.at}  ${event.format.padEnd(8)} ${event.raw.length > 200 ? `${event.raw.slice(0, 199)}…` : event.raw}`,
      );
  }
  if (!values.json)
    console.log(
      `${page.events.length} event(s)${page.next === null ? '' : `; older ones: --to ${new Date(Number(page.next.split('_')[0])).toISOString()}`}`,
    );
  return 0;
}

/** `rempart watch hunt`: rules over the stored events; exit 1 when one fires. */
export async function watchHunt(args: string[], loadConfig: () => Config): Promise<number> {
  const values = parse(args, { rules: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } });
  let rules: string | undefined;
  if (values.rules !== undefined) {
    try {
      rules = readFileSync(values.rules as string, 'utf8');
    } catch (error) {
      throw new WatchUsageError(
        `--rules ${String(values.rules)}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const request = WatchHuntRequest.safeParse({ rules, from: values.from, to: values.to });
  if (!request.success)
    throw new WatchUsageError(
      request.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; '),
    );
  const config = loadConfig();
  const client = await adminClient(config);
  const result = (await client.available())
    ? await client.watchHunt(request.data)
    : await withPlatform(config, (p) => p.watch.hunt(null, request.data, 'local'));
  console.log(
    `${result.events.toLocaleString('en-US')} stored event(s) searched with ${result.rules.detection} detection and ${result.rules.correlation} correlation rule(s) in ${Math.round(result.ms)} ms: ${result.hits} hit(s)`,
  );
  for (const rule of result.byRule)
    console.log(`  ${String(rule.hits).padStart(7)}  ${(rule.level ?? 'unknown').padEnd(13)} ${rule.title}`);
  if (result.hits > 0) console.log(`Hits: rempart console /watch/hits?hunt=${result.id}`);
  return result.hits > 0 ? 1 : 0;
}

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse(args: string[], options: Options): Record<string, string | boolean | string[] | undefined> {
  return parseWithPositionals(args, options, false).values;
}

function parseWithPositionals(
  args: string[],
  options: Options,
  positionals = true,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals });
    return {
      values: parsed.values as Record<string, string | boolean | string[] | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    throw new WatchUsageError(error instanceof Error ? error.message : String(error));
  }
}
