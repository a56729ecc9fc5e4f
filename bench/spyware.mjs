#!/usr/bin/env node
/**
 * Spyware check benchmark: records per second of Rempart's iOS backup scan on one core, over a
 * synthetic backup of 1,000,000 messages (sms.db) and 100,000 Safari visits (History.db) matched
 * against every shipped indicator bundle, the planted indicators all found.
 *
 *   node bench/spyware.mjs [--runs 3] [--messages 1000000] [--visits 100000] [--backup DIR]
 *
 * Peers, in the same run:
 * - MVT (Amnesty's Mobile Verification Toolkit, Python) cannot be installed here (neither npm nor
 *   Debian has it), so its figure is the one its users report: about 224,000 messages checked in
 *   about 3 s, 74,667 records/s. The goal of the issue is ten times that on one core.
 * - The floor: Debian's sqlite3 command-line tool (native SQLite) selecting the same columns of
 *   the same rows from the same sms.db and History.db to /dev/null, on the same core: what only
 *   reading the rows costs, before anything is matched or recorded.
 *
 * The backup: written as the tests write backups (packages/server/src/test-support/ios-backup.ts:
 * the same Manifest.db, plists and SQLite schemas), then filled by bench/lib/spyware-backup.mjs
 * with seeded texts and visits, a few hundred naming indicators of the shipped Pegasus bundle.
 * It is built once per invocation in a temporary folder and used by every run (or kept in
 * --backup DIR and reused by later invocations with the same sizes).
 *
 * Placement: the scan (bench/lib/spyware-scanner.mjs, every thread) and each sqlite3 on the first
 * allowed CPU, one after the other, in interleaved runs; this process on the second. CPU taken by
 * other programs on the scan's core meanwhile is measured and flagged.
 *
 * Exit status: 0 a clean run (sqlite3 missing and not installable: that peer is skipped, the
 * reason printed); 1 the scan failed, or did not find exactly the planted indicators; 2 bad usage
 * or Rempart is not built.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { aptInstall } from './lib/debian.mjs';
import { checkBuild } from './lib/build.mjs';
import {
  allowedCpus,
  cpuTimes,
  exitedChildrenCpuSeconds,
  pinSelf,
  releaseOnExit,
  scratchDir,
  spawnNode,
} from './lib/processes.mjs';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { bar, median, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILDER = fileURLToPath(new URL('./lib/spyware-backup.mjs', import.meta.url));
const SCANNER = fileURLToPath(new URL('./lib/spyware-scanner.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const SEED = 20261203;
/** MVT's users' figure: about 224,000 messages checked in about 3 s. */
const MVT = { records: 224_000, seconds: 3 };
const MVT_RATE = MVT.records / MVT.seconds;
const GOAL_RATIO = 10;
/** Above this share of the scan's core used by other programs, a run is flagged. */
const OTHER_LOAD_PERCENT = 10;
const SCAN_TIMEOUT_MS = 600_000;
/** Where the test backups keep sms.db and History.db (IOS_ARTIFACT_FILES of the test support). */
const SMS = { domain: 'HomeDomain', path: 'Library/SMS/sms.db' };
const HISTORY = { domain: 'AppDomain-com.apple.mobilesafari', path: 'Library/Safari/History.db' };

/** The rows the messages and history modules read, as they select them (all columns present). */
const FLOOR_QUERIES = {
  sms: `SELECT m.ROWID, m.text, CASE WHEN m.text IS NULL THEN m.attributedBody END, m.date, m.is_from_me,
          m.service, h.ROWID FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id ORDER BY m.ROWID`,
  history: `SELECT v.visit_time, v.title, i.url, i.visit_count, ri.url, di.url
          FROM history_visits v JOIN history_items i ON i.id = v.history_item
          LEFT JOIN history_visits rv ON rv.id = v.redirect_source LEFT JOIN history_items ri ON ri.id = rv.history_item
          LEFT JOIN history_visits dv ON dv.id = v.redirect_destination LEFT JOIN history_items di ON di.id = dv.history_item
          ORDER BY v.visit_time, v.id`,
};

const USAGE = `Usage: node bench/spyware.mjs [--runs R] [--messages M] [--visits V] [--backup DIR]

  --runs R       runs, each scanning the backup afresh after the sqlite3 floor (default 3)
  --messages M   messages in sms.db (default 1000000)
  --visits V     Safari visits in History.db (default 100000)
  --backup DIR   build the backup in DIR and keep it, or reuse the one built there with the same
                 sizes (default: a temporary folder, removed at the end)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '1000000' },
    visits: { type: 'string', default: '100000' },
    backup: { type: 'string' },
  });
  if (values.help) return undefined;
  const integer = (name, min, max) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}`);
    return value;
  };
  return {
    runs: integer('runs', 1, 100),
    messages: integer('messages', 1000, 50_000_000),
    visits: integer('visits', 100, 10_000_000),
    backup: values.backup,
  };
}

// ------------------------------------------------------------------ set-up

const sqliteWorks = () => spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;

/** Debian's sqlite3, installed when missing and this process may. Returns whether it works. */
function ensureSqlite() {
  if (sqliteWorks()) return true;
  const how = 'apt-get install -y sqlite3';
  if (process.getuid?.() !== 0) {
    console.error(`bench: sqlite3 is not installed, so the floor is skipped. As root: ${how}`);
    return false;
  }
  progress(`installing from Debian (${how})`, true);
  const failed = aptInstall(['sqlite3']);
  if (failed) console.error(`bench: installing sqlite3 failed, so the floor is skipped:\n${failed}`);
  return sqliteWorks();
}

/** Where a test backup keeps a file's content: `<sha1("domain-path")[0..2]>/<sha1>`. */
function contentPath(root, { domain, path }) {
  const id = createHash('sha1').update(`${domain}-${path}`).digest('hex');
  return join(root, id.slice(0, 2), id);
}

/**
 * The backup of `options`: the one in --backup DIR when it was built with the same sizes and
 * seed, otherwise a new one (written by bench/lib/spyware-backup.mjs under tsx, with progress).
 */
async function prepareBackup(options) {
  const dir = options.backup ?? scratchDir('rempart-bench-spyware-');
  const plantedFile = join(dir, 'planted.json');
  if (options.backup !== undefined && existsSync(join(dir, 'complete'))) {
    const kept = JSON.parse(readFileSync(plantedFile, 'utf8'));
    if (kept.seed === SEED && kept.messages === options.messages && kept.visits === options.visits) {
      progress(`reusing the backup in ${dir}`, true);
      return { dir, ...kept };
    }
  }
  // A --backup folder cut short is rebuilt next time: it has no `complete` mark.
  if (options.backup !== undefined) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const began = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      BUILDER,
      dir,
      '--messages',
      String(options.messages),
      '--visits',
      String(options.visits),
      '--seed',
      String(SEED),
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let tail = '';
  let pending = '';
  child.stderr.on('data', (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line.startsWith('progress ')) progress(`building the backup: ${line.slice(9)}`);
      else tail = `${tail}${line}\n`.slice(-4000);
    }
  });
  const [code] = await once(child, 'exit');
  if (code !== 0 || !existsSync(join(dir, 'complete')))
    throw new Error(`building the backup failed:\n${(tail + pending).trim()}`);
  progress(`built the backup in ${((performance.now() - began) / 1000).toFixed(0)} s`, true);
  return { dir, ...JSON.parse(readFileSync(plantedFile, 'utf8')) };
}

// --------------------------------------------------------------------- runs

/** CPU busy time of `cpu` (seconds), or undefined when it cannot be read. */
function busySeconds(cpu) {
  return cpu === undefined ? undefined : cpuTimes().get(cpu)?.busy;
}

/** One scan in a fresh process pinned to `cpu`; its figures, checked against what was planted. */
async function scanRun(ctx, label) {
  const { backup, cpu, files } = ctx;
  progress(
    `${label}: scanning ${backup.messages.toLocaleString('en-US')} messages and ${backup.visits.toLocaleString('en-US')} visits`,
  );
  const busyBefore = busySeconds(cpu);
  const began = performance.now();
  const child = spawnNode([SCANNER, backup.dir, files.sms, files.history], {
    cpu,
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    ipc: true,
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), SCAN_TIMEOUT_MS);
  let result;
  child.on('message', (message) => {
    result = message;
  });
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  const busyAfter = busySeconds(cpu);
  const lifetimeS = (performance.now() - began) / 1000;
  if (result?.type === 'error') throw new Error(`the scan failed: ${result.message}`);
  if (code !== 0 || result?.type !== 'scanned')
    throw new Error(`the scanner exited with ${code}:\n${child.outputTail()}`);
  checkDetections(backup, result);
  const records = (result.records.sms ?? 0) + (result.records.safari_history ?? 0);
  if (records !== backup.messages + backup.visits)
    throw new Error(
      `the scan recorded ${records} messages and visits, not the ${backup.messages + backup.visits} of the backup`,
    );
  const wallS = result.scan.ms / 1000;
  const othersPercent =
    busyBefore === undefined || busyAfter === undefined
      ? undefined
      : Math.max(0, ((busyAfter - busyBefore - result.processCpuMs / 1000) / lifetimeS) * 100);
  return {
    ...result,
    records,
    rate: records / wallS,
    cpuRate: records / (result.scan.cpuMs / 1000),
    withReportRate: records / ((result.scan.ms + result.report.ms) / 1000),
    withReportCpuRate: records / ((result.scan.cpuMs + result.report.cpuMs) / 1000),
    othersPercent,
  };
}

/** Every planted indicator found in its record, and nothing else: fails loudly otherwise. */
function checkDetections(backup, result) {
  const missing = backup.planted.filter(
    (p) =>
      !result.detections.some(
        (d) => d.artifact === p.artifact && d.record.startsWith(p.key) && d.indicator === p.indicator,
      ),
  );
  const extra = result.detections.filter(
    (d) => !backup.planted.some((p) => d.artifact === p.artifact && d.record.startsWith(p.key)),
  );
  if (missing.length > 0 || extra.length > 0)
    throw new Error(
      [
        `the scan found ${result.detections.length} detections; ${backup.planted.length} indicators were planted.`,
        ...missing.slice(0, 10).map((p) => `  missed: ${p.artifact} "${p.key.trim()}…" (${p.indicator})`),
        ...extra
          .slice(0, 10)
          .map((d) => `  not planted: ${d.artifact} "${d.record.slice(0, 100)}" (${d.indicator})`),
      ].join('\n'),
    );
}

/** sqlite3 reading the rows the scan reads, from both databases, pinned like the scan. */
function floorRun(ctx, label) {
  progress(`${label}: sqlite3 reading the same rows`);
  const devNull = openSync('/dev/null', 'w');
  try {
    const cpuBefore = exitedChildrenCpuSeconds();
    const began = performance.now();
    for (const [name, file] of [
      ['sms', ctx.files.sms],
      ['history', ctx.files.history],
    ]) {
      const argv = ['sqlite3', '-readonly', file, FLOOR_QUERIES[name]];
      const run = spawnSync(
        ctx.cpu === undefined ? argv[0] : 'taskset',
        ctx.cpu === undefined ? argv.slice(1) : ['-c', String(ctx.cpu), ...argv],
        {
          stdio: ['ignore', devNull, 'pipe'],
          encoding: 'utf8',
        },
      );
      if (run.status !== 0) throw new Error(`sqlite3 failed on ${name}: ${run.stderr ?? run.error?.message}`);
    }
    const seconds = (performance.now() - began) / 1000;
    const cpuSeconds = exitedChildrenCpuSeconds() - cpuBefore;
    const records = ctx.backup.messages + ctx.backup.visits;
    return { seconds, cpuSeconds, rate: records / seconds, cpuRate: records / cpuSeconds };
  } finally {
    closeSync(devNull);
  }
}

// ------------------------------------------------------------------- report

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} ms` : '–');
const times = (n) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}×` : '–');

function summarise(runs, floors) {
  const med = (pick) => median(runs.map(pick));
  const split = (key) => med((r) => r.split[key].cpuMs);
  const modulesCpu = med((r) => (r.modules.sms?.cpuMs ?? 0) + (r.modules.safari_history?.cpuMs ?? 0));
  const open = split('open');
  const read = split('read');
  const match = split('match');
  const rate = med((r) => r.rate);
  const floorRate = median(floors.map((f) => f.rate));
  return {
    rate,
    rateRuns: runs.map((r) => r.rate),
    cpuRate: med((r) => r.cpuRate),
    scanMs: med((r) => r.scan.ms),
    scanCpuMs: med((r) => r.scan.cpuMs),
    peakRssMb: med((r) => r.peakRssMb),
    withReport: {
      rate: med((r) => r.withReportRate),
      rateRuns: runs.map((r) => r.withReportRate),
      cpuRate: med((r) => r.withReportCpuRate),
      ms: med((r) => r.scan.ms + r.report.ms),
      reportMs: med((r) => r.report.ms),
      reportCpuMs: med((r) => r.report.cpuMs),
      bytes: med((r) => r.report.bytes),
      peakRssMb: med((r) => r.report.peakRssMb),
      ratioToMvt: med((r) => r.withReportRate) / MVT_RATE,
    },
    indicatorsMs: med((r) => r.indicators.ms),
    modules: {
      smsAndHistoryCpuMs: modulesCpu,
      otherModulesCpuMs: med(
        (r) => r.scan.cpuMs - (r.modules.sms?.cpuMs ?? 0) - (r.modules.safari_history?.cpuMs ?? 0),
      ),
    },
    split: {
      openCpuMs: open,
      readCpuMs: read,
      matchCpuMs: match,
      timelineCpuMs: modulesCpu - open - read - match,
    },
    othersPercent: Math.max(...runs.map((r) => r.othersPercent ?? 0)),
    floor:
      floors.length === 0
        ? undefined
        : {
            rate: floorRate,
            rateRuns: floors.map((f) => f.rate),
            cpuRate: median(floors.map((f) => f.cpuRate)),
            seconds: median(floors.map((f) => f.seconds)),
          },
    mvt: { rate: MVT_RATE, ...MVT },
    ratioToMvt: rate / MVT_RATE,
    ratioToFloor: floors.length === 0 ? undefined : rate / floorRate,
    goal: { ratioToMvt: GOAL_RATIO, rate: GOAL_RATIO * MVT_RATE, met: rate >= GOAL_RATIO * MVT_RATE },
  };
}

function printReport({ options, backup, placement, summary, runs, versions, build, resultsFile }) {
  const where =
    placement.cpu === undefined
      ? 'not pinned (taskset or a second CPU is missing)'
      : `the scan and sqlite3 on CPU ${placement.cpu}, this process on CPU ${placement.ownCpu}`;
  const planted = {
    sms: backup.planted.filter((p) => p.artifact === 'sms').length,
    history: backup.planted.filter((p) => p.artifact === 'safari_history').length,
  };
  const lines = [
    '',
    `Spyware check: an iOS backup of ${int(backup.messages)} messages (sms.db) and ${int(backup.visits)} Safari visits (History.db), seed ${SEED}`,
    `  Rempart: scanIosBackup (what \`rempart spyware scan\` runs) against every shipped bundle (${int(runs[0].indicators.count)} indicators), all 13 modules;`,
    `    records/s = (messages + visits) / the scan's time, from opening the backup to the report (loading the bundles, ${ms(summary.indicatorsMs)}, left out)`,
    `  found: all ${planted.sms + planted.history} planted indicators (${planted.sms} messages: links, bare names, attackers' addresses; ${planted.history} visits), nothing else`,
    `  MVT: not installable here; its users' figure, ${int(MVT.records)} messages in about ${MVT.seconds} s = ${int(MVT_RATE)} records/s (goal: ${GOAL_RATIO}× that)`,
    `  floor: ${versions.sqlite3 ? `sqlite3 ${versions.sqlite3}` : 'sqlite3 (skipped: not available)'} selecting the same columns of the same rows to /dev/null`,
    `  ${where}; ${options.runs} run(s), floor then scan in each; medians`,
    `  Node ${versions.node}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
  ];
  if (build.stale.length > 0)
    lines.push(
      `  ! the build is older than ${build.stale.join(' and ')}: this measures the last build (npx tsc -b packages/cli)`,
    );
  if (summary.othersPercent > OTHER_LOAD_PERCENT)
    lines.push(
      `  ! other programs used up to ${summary.othersPercent.toFixed(0)}% of the scan's core during a run: wall-clock rates are low; see records per CPU second`,
    );

  lines.push(
    '',
    ...table([
      ['', 'records/s', 'runs', 'per CPU s', 'time', 'ratio'],
      [
        'Rempart',
        int(summary.rate),
        summary.rateRuns.map((r) => `${Math.round(r / 1000)}k`).join(' '),
        int(summary.cpuRate),
        ms(summary.scanMs),
        '',
      ],
      [
        '  and report.json written',
        int(summary.withReport.rate),
        summary.withReport.rateRuns.map((r) => `${Math.round(r / 1000)}k`).join(' '),
        int(summary.withReport.cpuRate),
        ms(summary.withReport.ms),
        `${times(summary.withReport.ratioToMvt)} MVT`,
      ],
      ...(summary.floor
        ? [
            [
              'sqlite3, reading only',
              int(summary.floor.rate),
              summary.floor.rateRuns.map((r) => `${Math.round(r / 1000)}k`).join(' '),
              int(summary.floor.cpuRate),
              ms(summary.floor.seconds * 1000),
              `Rempart ${times(summary.ratioToFloor)}`,
            ],
          ]
        : []),
      [
        "MVT (users' figure)",
        int(MVT_RATE),
        '',
        '',
        `${MVT.seconds} s / ${int(MVT.records)}`,
        `Rempart ${times(summary.ratioToMvt)}`,
      ],
    ]).map((l) => `  ${l}`),
  );

  const bars = [
    ['Rempart', summary.rate],
    ['  with report.json', summary.withReport.rate],
    ...(summary.floor ? [['sqlite3 floor', summary.floor.rate]] : []),
    ['MVT', MVT_RATE],
    [`goal (${GOAL_RATIO}× MVT)`, GOAL_RATIO * MVT_RATE],
  ];
  const most = Math.max(...bars.map(([, v]) => v));
  const width = Math.max(...bars.map(([l]) => l.length));
  lines.push(
    '',
    '  records/s',
    ...bars.map(([l, v]) => `    ${l.padEnd(width)} │${bar(v / most, 44).padEnd(44)} ${int(v)}`),
  );

  const s = summary.split;
  const total = summary.scanCpuMs;
  const share = (v) => `${((v / total) * 100).toFixed(0)}%`;
  lines.push(
    '',
    `  where the scan's CPU goes (medians, CPU ms; the split is a second pass over the two databases)`,
    ...table([
      ['', 'CPU', 'share'],
      ['open sms.db and History.db', ms(s.openCpuMs), share(s.openCpuMs)],
      ['read their rows', ms(s.readCpuMs), share(s.readCpuMs)],
      ['match them', ms(s.matchCpuMs), share(s.matchCpuMs)],
      ['timeline (records kept in columns)', ms(s.timelineCpuMs), share(s.timelineCpuMs)],
      [
        'the 11 other modules and the report',
        ms(summary.modules.otherModulesCpuMs),
        share(summary.modules.otherModulesCpuMs),
      ],
      ['scan', ms(total), '100%'],
    ]).map((l) => `    ${l}`),
    `    then report.json, every record told and written: ${ms(summary.withReport.reportCpuMs)} of CPU, ${int(summary.withReport.bytes / 1e6)} MB`,
    '',
    `  peak memory of the scan process: ${int(summary.peakRssMb)} MB, ${int(summary.withReport.peakRssMb)} MB once report.json is written (sms.db is ${int(statSync(backup.files.sms).size / 1e6)} MB, held as read and in sql.js's copy)`,
    '',
    `  goal ${int(GOAL_RATIO * MVT_RATE)} records/s (${GOAL_RATIO}× MVT): ${summary.goal.met ? 'met' : 'NOT met'} (${times(summary.ratioToMvt)} MVT)`,
    `  results: ${relative(ROOT, resultsFile)}`,
    '',
  );
  console.log(lines.join('\n'));
}

// -------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const build = checkBuild(['packages/server/dist/spyware/index.js'], ['core', 'server']);
  if (build.exitCode !== undefined) return build.exitCode;
  releaseOnExit();
  const startedAt = new Date();
  const hasSqlite = ensureSqlite();
  const versions = {
    node: process.version,
    sqlite3: hasSqlite
      ? spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).stdout.split(' ')[0]
      : undefined,
  };

  const cpuList = allowedCpus();
  const placement = {
    cpuIds: cpuList,
    cpu: cpuList.length >= 2 ? cpuList[0] : undefined,
    ownCpu: cpuList[1],
  };
  if (placement.cpu !== undefined && !pinSelf(placement.ownCpu)) placement.cpu = undefined;

  const backup = await prepareBackup(options);
  backup.files = { sms: contentPath(backup.dir, SMS), history: contentPath(backup.dir, HISTORY) };
  const ctx = { backup, cpu: placement.cpu, files: backup.files };

  const runs = [];
  const floors = [];
  for (let i = 0; i < options.runs; i++) {
    const label = `run ${i + 1}/${options.runs}`;
    if (hasSqlite) floors.push(floorRun(ctx, label));
    const run = await scanRun(ctx, label);
    runs.push(run);
    progress(
      `${label}: ${int(run.rate)} records/s (${int(run.cpuRate)} per CPU second), ${ms(run.scan.ms)}, peak ${int(run.peakRssMb)} MB` +
        (floors.length > 0 ? `; sqlite3 ${int(floors.at(-1).rate)} records/s` : ''),
      true,
    );
  }

  const summary = summarise(runs, floors);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `${RESULTS_DIR}spyware-${stamp}.json`;
  const record = {
    benchmark: 'spyware',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    build: { stale: build.stale },
    machine: { cpu: cpus()[0]?.model.trim(), allowedCpus: cpuList, ...versions },
    options: { ...options, seed: SEED },
    backup: {
      messages: backup.messages,
      visits: backup.visits,
      planted: backup.planted.length,
      smsDbBytes: statSync(backup.files.sms).size,
      historyDbBytes: statSync(backup.files.history).size,
    },
    placement,
    median: summary,
    floors,
    runs: runs.map(({ detections, type: _type, ...run }) => ({ ...run, detections: detections.length })),
  };
  const rounded = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport({ options, backup, placement, summary, runs, versions, build, resultsFile });
  return 0;
}

process.exitCode = await runBenchmark(main, USAGE);
