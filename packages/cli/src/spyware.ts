/**
 * `rempart spyware scan`: checks one phone's artifacts against the published indicators of
 * mercenary spyware, on the analyst's machine, with no platform or database needed.
 * `rempart spyware import` / `rempart spyware indicators`: the platform's indicator store, in the
 * data directory's database.
 *
 * @example
 *   rempart spyware scan --ios-backup ~/cases/42/backup --report ~/cases/42/report
 *   rempart spyware scan --android-bugreport bugreport.zip --iocs ./new-iocs --json
 *   rempart spyware import predator-2025.stix2
 *   rempart spyware indicators
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isRempartError, parseConfig, type Config, type IndicatorImport } from '@rempart/core';
import type { Platform } from '@rempart/server';
import type * as SpywareLibrary from '@rempart/server/spyware';
import type { ScanResult } from '@rempart/server/spyware';
import { progressBar } from './progress.js';

/** A mistake in how the command was called: exit status 2 with the usage. */
export class SpywareUsageError extends Error {}

export const SPYWARE_USAGE = `  spyware scan (--ios-backup DIR | --sysdiagnose DIR | --android-bugreport PATH | --androidqf DIR)
               [--iocs PATH]... [--json] [--report DIR]
                                          check a phone's artifacts for spyware: an iOS backup
                                          folder, an extracted sysdiagnose, an Android bug report (zip or
                                          folder) or an androidqf acquisition; against every STIX2 bundle
                                          shipped, or those of --iocs (a bundle or a folder of them);
                                          --json prints each detection, --report writes report.json and
                                          report.html; exit 0 nothing found, 1 a detection, 2 bad input
                                          (an encrypted backup's password: REMPART_BACKUP_PASSWORD)
  spyware import FILE... [--name NAME]    import STIX2 bundles into the platform's indicator store (the set
                                          of that name is replaced; --name with one file, else the file
                                          name); prints each set's indicators, those skipped, and the
                                          retro-hunt's hits in the DNS query log; exit 0, 2 on a malformed
                                          bundle (naming the object at fault)
  spyware indicators [--json]             list the indicator sets: name, origin, indicators, malware`;

const SOURCES = ['ios-backup', 'sysdiagnose', 'android-bugreport', 'androidqf'] as const;

export async function spywareScan(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'ios-backup': { type: 'string' },
        sysdiagnose: { type: 'string' },
        'android-bugreport': { type: 'string' },
        androidqf: { type: 'string' },
        iocs: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        report: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new SpywareUsageError(error instanceof Error ? error.message : String(error));
  }
  const given = SOURCES.filter((s) => values[s] !== undefined);
  if (given.length !== 1)
    throw new SpywareUsageError(
      `spyware scan needs exactly one of ${SOURCES.map((s) => `--${s}`).join(', ')}${given.length > 1 ? ` (got ${given.map((s) => `--${s}`).join(' and ')})` : ''}`,
    );
  const kind = given[0]!;
  const target = values[kind]!;
  if (target.trim() === '') throw new SpywareUsageError(`--${kind} needs a path`);
  if (values.report !== undefined && values.report.trim() === '')
    throw new SpywareUsageError('--report needs a folder');

  const lib = await import('@rempart/server/spyware');
  const bundles =
    (values.iocs ?? []).length === 0 ? lib.loadIndicatorFolder() : (values.iocs ?? []).flatMap(readIocs(lib));
  const matcher = lib.IndicatorMatcher.from(bundles);
  if (matcher.count === 0)
    throw new SpywareUsageError(`--iocs ${(values.iocs ?? []).join(', ')}: no indicator in it`);

  const bar = progressBar(process.stderr);
  const options = {
    matcher,
    onProgress: ({ artifact, done, total }: { artifact: string; done: number; total: number }) =>
      bar.show(done, total, `${done}/${total} ${artifact}`),
  };
  let report: ScanResult;
  try {
    switch (kind) {
      case 'ios-backup':
        report = await lib.scanIosBackup(target, {
          ...options,
          ...(process.env.REMPART_BACKUP_PASSWORD ? { password: process.env.REMPART_BACKUP_PASSWORD } : {}),
        });
        break;
      case 'sysdiagnose':
        report = await lib.scanSysdiagnose(target, options);
        break;
      case 'android-bugreport':
        report = await lib.scanAndroidBugreport(target, options);
        break;
      case 'androidqf':
        report = await lib.scanAndroidqf(target, options);
        break;
    }
  } finally {
    bar.clear();
  }

  if (values.report !== undefined) {
    mkdirSync(values.report, { recursive: true });
    writeReportFile(join(values.report, 'report.json'), (write) => lib.writeJsonReport(report, write));
    writeFileSync(join(values.report, 'report.html'), lib.renderHtmlReport(report));
  }
  if (values.json) {
    const { timeline: _timeline, detections: _detections, ...summary } = report;
    console.log(JSON.stringify({ ...summary, detections: lib.detectionLines(report) }, null, 2));
  } else {
    printScan(report, target, lib.malwareFound(report));
    if (values.report !== undefined)
      console.log(`Report: ${join(values.report, 'report.html')} (and report.json)`);
  }
  return report.detections.length > 0 ? 1 : 0;
}

type Library = typeof SpywareLibrary;

/** The bundles of one --iocs path: a bundle file, or every bundle of a folder. */
function readIocs(lib: Library) {
  return (path: string) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new SpywareUsageError(`--iocs ${path}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      const bundles = lib.loadIndicatorFolder(path);
      if (bundles.length === 0)
        throw new SpywareUsageError(`--iocs ${path}: no .stix2 or .json bundle in this folder`);
      return bundles;
    }
    return [lib.readIndicatorFile(path)];
  };
}

/** Writes the file at `path` in the pieces `writer` gives. */
function writeReportFile(path: string, writer: (write: (chunk: string) => void) => void): void {
  const fd = openSync(path, 'w');
  try {
    writer((chunk) => writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
}

function printScan(
  report: ScanResult,
  target: string,
  malware: { name: string; detections: number }[],
): void {
  const titles = {
    'ios-backup': 'an iOS backup',
    sysdiagnose: 'an iOS sysdiagnose',
    'android-bugreport': 'an Android bug report',
    androidqf: 'an Android acquisition',
  } as const;
  console.log(`Spyware check of ${titles[report.kind]}: ${target}`);
  const device = Object.entries(report.device).map(([k, v]) => `${k} ${v}`);
  if (device.length > 0) console.log(`  device: ${device.join(', ')}`);
  console.log(
    `  indicators: ${report.indicators.count.toLocaleString('en-US')} from ${report.indicators.sources.length} bundle(s) (${report.indicators.sources.join(', ')})`,
  );
  for (const a of report.artifacts) {
    const note = a.message ? ` (${a.message})` : '';
    const hits = a.detections > 0 ? `, ${a.detections} detection(s)` : '';
    console.log(
      `  ${a.status === 'read' ? '✓' : a.status === 'missing' ? '–' : '✗'} ${a.artifact}: ${a.status}, ${a.records} record(s)${hits}${note}`,
    );
  }
  if (report.detections.length === 0) {
    console.log('No indicator of compromise found.');
    return;
  }
  console.log(
    `DETECTED: ${malware.map((m) => `${m.name} (${m.detections})`).join(', ')}: treat the device as compromised until an analyst has reviewed these.`,
  );
  for (const e of report.detections) {
    const d = e.detection!;
    console.log(
      `  ${e.at ?? 'time unknown'}  ${e.artifact}  ${d.type} ${d.indicator} → ${d.malware.join(', ') || 'unknown'} [${d.source}]\n      ${e.record}`,
    );
  }
}

// --------------------------------------------------------------- the indicator store

function storeConfig(): Config {
  const result = parseConfig(process.env);
  if (!result.ok) throw new SpywareUsageError(`invalid configuration:\n  ${result.errors.join('\n  ')}`);
  return result.config;
}

/**
 * Opens the data directory's platform for one store operation: no resolver listening, no media
 * engine, the watched folder left alone. Refused while a server holds the data directory (the
 * embedded database admits one process): the server's console or its watched folder then.
 */
async function withStore<T>(work: (store: Platform['spyware']['store']) => Promise<T>): Promise<T> {
  const config = storeConfig();
  const server = await import('@rempart/server');
  if (await new server.LocalAdminClient(server.localSocketPath(config)).available())
    throw new SpywareUsageError(
      `a Rempart server holds this data directory: import bundles in its console (Spyware → Indicators) or copy them into ${config.spyware.iocsDir}`,
    );
  const platform = await server.openPlatform(
    { ...config, logLevel: 'warn', dns: { ...config.dns, listen: undefined } },
    { media: server.noMediaEngine, watchIndicatorFolder: false },
  );
  try {
    return await work(platform.spyware.store);
  } finally {
    await platform.close();
  }
}

/** `rempart spyware import FILE... [--name NAME]`: 0 when every bundle was imported, 2 otherwise. */
export async function spywareImport(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { name: { type: 'string' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new SpywareUsageError(error instanceof Error ? error.message : String(error));
  }
  const files = parsed.positionals;
  const name = parsed.values.name;
  if (files.length === 0) throw new SpywareUsageError('spyware import needs at least one bundle file');
  if (name !== undefined && files.length > 1)
    throw new SpywareUsageError('--name names one bundle: give one file with it');
  const bundles = files.map((file) => {
    try {
      return { file, name: name ?? basename(file), bytes: readFileSync(file) };
    } catch (error) {
      throw new SpywareUsageError(
        `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  });
  let failed = 0;
  await withStore(async (store) => {
    for (const bundle of bundles) {
      let result: IndicatorImport;
      try {
        result = await store.import(bundle.name, bundle.bytes, 'cli', null);
      } catch (error) {
        if (!isRempartError(error) || error.status >= 500) throw error;
        console.error(`${bundle.file}: ${error.message} (${error.code})`);
        failed++;
        continue;
      }
      const hunt = await store.retroHuntDone(result.retroHunt.id);
      printImport(bundle.file, result, hunt);
    }
  });
  return failed > 0 ? 2 : 0;
}

function printImport(file: string, result: IndicatorImport, hunt: IndicatorImport['retroHunt']): void {
  const { set } = result;
  const types = Object.entries(set.byType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  console.log(
    `${file} → ${set.name}: ${set.indicators} indicator(s) (${types}); malware: ${set.malware.join(', ') || 'none named'}; ${set.skipped} skipped`,
  );
  for (const s of result.skipped.slice(0, 5))
    console.log(`  skipped ${s.indicator}${s.value ? ` (${s.value})` : ''}: ${s.reason}`);
  if (result.skipped.length + result.skippedOmitted > 5)
    console.log(`  … and ${result.skipped.length + result.skippedOmitted - 5} more skipped`);
  if (hunt.status === 'failed') {
    console.log(`  retro-hunt failed: ${hunt.error ?? 'unknown error'}`);
    return;
  }
  if (hunt.dnsHits.length === 0)
    console.log('  retro-hunt: no client of the DNS query log asked for these names');
  else {
    const clients = new Set(hunt.dnsHits.map((h) => h.client));
    console.log(`  retro-hunt: ${clients.size} client(s) of the DNS query log asked for these names:`);
    for (const h of hunt.dnsHits)
      console.log(
        `    ${h.client} asked for ${h.domain} (${h.malware.join(', ') || 'unnamed'}; indicator ${h.indicator}) ${h.count} time(s), ${h.firstSeen} → ${h.lastSeen}`,
      );
  }
  if (hunt.scanHits.length > 0)
    for (const h of hunt.scanHits)
      console.log(
        `    scan ${h.scanId} of ${h.device} (${h.owner}): ${h.detections} detection(s), ${h.malware.join(', ')}`,
      );
}

/** `rempart spyware indicators [--json]`: the indicator sets. */
export async function spywareIndicators(args: string[]): Promise<number> {
  let json: boolean;
  try {
    json = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }).values.json;
  } catch (error) {
    throw new SpywareUsageError(error instanceof Error ? error.message : String(error));
  }
  const sets = await withStore((store) => Promise.resolve(store.list()));
  if (json) {
    console.log(JSON.stringify(sets, null, 2));
    return 0;
  }
  const width = Math.max(4, ...sets.map((s) => s.name.length));
  console.log(`${'NAME'.padEnd(width)}  ORIGIN    INDICATORS  MALWARE`);
  for (const s of sets)
    console.log(
      `${s.name.padEnd(width)}  ${s.origin.padEnd(8)}  ${String(s.indicators).padStart(10)}  ${s.malware.join(', ') || '—'}`,
    );
  return 0;
}
