#!/usr/bin/env node
/**
 * Server watch benchmark: events per second of `rempart watch scan` (scanLogs) on one core, with
 * every shipped rule for mail servers and every SigmaHQ rule the project ships, over a generated
 * day of a mail server's logs (Postfix and Dovecot in mail.log, sshd in auth.log, Exchange's IIS
 * log) of `--lines` lines with an attack in the middle.
 *
 *   node bench/watch.mjs [--runs 3] [--lines 1000000] [--logs DIR]
 *
 * Peers: Chainsaw, Hayabusa and Zircolite (the Sigma scanners of the issue) are in neither npm nor
 * Debian, so none runs here. In the same run instead: the same scan with no rule, which reads each
 * line's head alone (with no rule, no line needs its fields; what the rules cost, with the parsing
 * of the lines they may match, is the difference), and GNU grep reading the same files for a string
 * they do not hold (what only reading them costs). The goal of the issue: 500,000 events/s on one
 * core.
 *
 * Placement: each scanner process and grep on the first allowed CPU, this process on the second.
 * The scanner runs with the Node options `rempart watch scan` gives itself on one CPU
 * (serverwatch, `scanNodeOptions`).
 * Exit status: 0 a clean run; 1 the scan failed or found none of the attack; 2 bad usage or
 * Rempart is not built.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { checkBuild } from './lib/build.mjs';
import {
  allowedCpus,
  exitedChildrenCpuSeconds,
  pinSelf,
  releaseOnExit,
  scratchDir,
  spawnNode,
} from './lib/processes.mjs';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { bar, median, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCANNER = fileURLToPath(new URL('./lib/watch-scanner.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const MAIL_DAY = new URL('../packages/server/dist/serverwatch/parsers/mail-day.js', import.meta.url);
const SCAN_LOGS = new URL('../packages/server/dist/serverwatch/scan-logs.js', import.meta.url);
const SEED = 20261203;
const GOAL = 500_000;
const SCAN_TIMEOUT_MS = 600_000;

const USAGE = `Usage: node bench/watch.mjs [--runs R] [--lines N] [--logs DIR]

  --runs R    runs, each a fresh scanner process after the grep floor (default 3)
  --lines N   lines of the generated day (default 1000000)
  --logs DIR  write the day's logs in DIR and keep them, or reuse those written there with the same
              size (default: a temporary folder, removed at the end)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    runs: { type: 'string', default: '3' },
    lines: { type: 'string', default: '1000000' },
    logs: { type: 'string' },
  });
  if (values.help) return undefined;
  const integer = (name, min, max) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}`);
    return value;
  };
  return { runs: integer('runs', 1, 100), lines: integer('lines', 1000, 50_000_000), logs: values.logs };
}

/** The day's logs: those in --logs DIR when written with the same size and seed, else new ones. */
async function prepareLogs(options) {
  const dir = options.logs ?? scratchDir('rempart-bench-watch-');
  const mark = join(dir, 'complete.json');
  if (options.logs !== undefined && existsSync(mark)) {
    const kept = JSON.parse(readFileSync(mark, 'utf8'));
    if (kept.seed === SEED && kept.requested === options.lines) {
      progress(`reusing the logs in ${dir}`, true);
      return kept;
    }
  }
  if (options.logs !== undefined) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  progress(`writing a day of ${options.lines.toLocaleString('en-US')} log lines`);
  const began = performance.now();
  const { writeMailDay } = await import(MAIL_DAY.href);
  const written = await writeMailDay(dir, { seed: SEED, lines: options.lines });
  const kept = {
    seed: SEED,
    requested: options.lines,
    lines: written.lines,
    attackLines: written.labelled.length,
    files: Object.values(written.files),
  };
  writeFileSync(mark, JSON.stringify(kept));
  progress(
    `wrote ${written.lines.toLocaleString('en-US')} lines in ${((performance.now() - began) / 1000).toFixed(0)} s`,
    true,
  );
  return kept;
}

async function scanRun(ctx, label) {
  progress(`${label}: scanning ${ctx.logs.lines.toLocaleString('en-US')} lines`);
  // The Node options `rempart watch scan` starts itself with on as many CPUs as the scanner has.
  const child = spawnNode([...ctx.nodeOptions, SCANNER, ...ctx.logs.files], {
    cpu: ctx.cpu,
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
  if (result?.type === 'error') throw new Error(`the scan failed: ${result.message}`);
  if (code !== 0 || result?.type !== 'scanned')
    throw new Error(`the scanner exited with ${code}:\n${child.outputTail()}`);
  if (result.lines !== ctx.logs.lines)
    throw new Error(`the scan read ${result.lines} lines, not ${ctx.logs.lines}`);
  if (result.hits === 0) throw new Error('the scan found nothing of the attack');
  return {
    ...result,
    rate: result.lines / (result.scan.ms / 1000),
    cpuRate: result.lines / (result.scan.cpuMs / 1000),
    parseRate: result.lines / (result.parse.ms / 1000),
  };
}

/** GNU grep reading the same files for a string none holds: what only reading them costs. */
function floorRun(ctx) {
  const cpuBefore = exitedChildrenCpuSeconds();
  const began = performance.now();
  const argv = ['grep', '-c', '-F', 'rempart-not-in-any-line', ...ctx.logs.files];
  const run = spawnSync(
    ctx.cpu === undefined ? argv[0] : 'taskset',
    ctx.cpu === undefined ? argv.slice(1) : ['-c', String(ctx.cpu), ...argv],
    { encoding: 'utf8' },
  );
  // grep exits 1 when no line matched: what is expected here.
  if (run.status !== 1) throw new Error(`grep failed: ${run.stderr ?? run.error?.message}`);
  const seconds = (performance.now() - began) / 1000;
  return { seconds, cpuSeconds: exitedChildrenCpuSeconds() - cpuBefore, rate: ctx.logs.lines / seconds };
}

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} ms` : '–');

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const build = checkBuild(['packages/server/dist/serverwatch/index.js'], ['core', 'server']);
  if (build.exitCode !== undefined) return build.exitCode;
  releaseOnExit();
  const startedAt = new Date();
  const cpuList = allowedCpus();
  const placement = { cpu: cpuList.length >= 2 ? cpuList[0] : undefined, ownCpu: cpuList[1] };
  if (placement.cpu !== undefined && !pinSelf(placement.ownCpu)) placement.cpu = undefined;
  const logs = await prepareLogs(options);
  const { scanNodeOptions } = await import(SCAN_LOGS.href);
  const nodeOptions = scanNodeOptions(placement.cpu === undefined ? availableParallelism() : 1);
  const ctx = { logs, cpu: placement.cpu, nodeOptions };

  const runs = [];
  const floors = [];
  for (let i = 0; i < options.runs; i++) {
    const label = `run ${i + 1}/${options.runs}`;
    floors.push(floorRun(ctx));
    const run = await scanRun(ctx, label);
    runs.push(run);
    progress(
      `${label}: ${int(run.rate)} events/s (${int(run.cpuRate)} per CPU second), ${ms(run.scan.ms)}; without rules ${int(run.parseRate)} events/s; grep ${int(floors.at(-1).rate)} lines/s`,
      true,
    );
  }
  const med = (pick) => median(runs.map(pick));
  const summary = {
    rate: med((r) => r.rate),
    cpuRate: med((r) => r.cpuRate),
    scanMs: med((r) => r.scan.ms),
    parseRate: med((r) => r.parseRate),
    parseMs: med((r) => r.parse.ms),
    rulesMs: med((r) => r.rules.ms),
    peakRssMb: med((r) => r.peakRssMb),
    floorRate: median(floors.map((f) => f.rate)),
    goal: { rate: GOAL, met: med((r) => r.rate) >= GOAL },
  };
  const first = runs[0];
  mkdirSync(RESULTS_DIR, { recursive: true });
  const resultsFile = `${RESULTS_DIR}watch-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        benchmark: 'watch',
        startedAt: startedAt.toISOString(),
        revision: gitRevision(),
        build: { stale: build.stale },
        machine: { cpu: cpus()[0]?.model.trim(), node: process.version },
        options: { ...options, seed: SEED },
        logs: {
          lines: logs.lines,
          attackLines: logs.attackLines,
          bytes: logs.files.reduce((s, f) => s + statSync(f).size, 0),
        },
        placement,
        nodeOptions,
        median: summary,
        floors,
        runs: runs.map(({ type: _type, ...run }) => run),
      },
      null,
      2,
    )}\n`,
  );

  const lines = [
    '',
    `Server watch: rempart watch scan over a day of mail-server logs, ${int(logs.lines)} lines (${int(logs.attackLines)} of them an attack), seed ${SEED}`,
    `  rules: ${first.rules.detections} detection rules and ${first.rules.correlations} correlations (Rempart's mail-server rules and the SigmaHQ rules shipped), loaded and compiled in ${ms(summary.rulesMs)}, left out`,
    `  peers: Chainsaw, Hayabusa and Zircolite are not installable here; same run instead: the scan without rules, and GNU grep only reading the files`,
    `  ${placement.cpu === undefined ? 'not pinned' : `scanner and grep on CPU ${placement.cpu}, this process on CPU ${placement.ownCpu}`}; ${options.runs} run(s), medians; Node ${process.version}${nodeOptions.length > 0 ? ` ${nodeOptions.join(' ')}` : ''}, ${cpus()[0]?.model.trim() ?? ''}`,
    '',
    ...table([
      ['', 'events/s', 'runs', 'per CPU s', 'time'],
      [
        'Rempart, every rule',
        int(summary.rate),
        runs.map((r) => `${Math.round(r.rate / 1000)}k`).join(' '),
        int(summary.cpuRate),
        ms(summary.scanMs),
      ],
      [
        'Rempart, no rule (read, line heads)',
        int(summary.parseRate),
        runs.map((r) => `${Math.round(r.parseRate / 1000)}k`).join(' '),
        '',
        ms(summary.parseMs),
      ],
      [
        'grep, reading only',
        int(summary.floorRate),
        floors.map((f) => `${Math.round(f.rate / 1000)}k`).join(' '),
        '',
        ms(median(floors.map((f) => f.seconds * 1000))),
      ],
    ]).map((l) => `  ${l}`),
    '',
    '  events/s',
    ...[
      ['every rule', summary.rate],
      ['no rule', summary.parseRate],
      ['goal', GOAL],
    ].map(
      ([label, value]) =>
        `    ${label.padEnd(10)} │${bar(value / Math.max(summary.parseRate, GOAL, summary.rate), 44).padEnd(44)} ${int(value)}`,
    ),
    '',
    `  hits: ${int(first.hits)}; most: ${first.byRule
      .slice(0, 5)
      .map((r) => `${r.title} (${r.hits})`)
      .join('; ')}`,
    `  peak memory of the scanner: ${int(summary.peakRssMb)} MB`,
    `  goal ${int(GOAL)} events/s on one core: ${summary.goal.met ? 'met' : 'NOT met'} (${(summary.rate / GOAL).toFixed(2)}× the goal)`,
    `  results: ${relative(ROOT, resultsFile)}`,
    '',
  ];
  console.log(lines.join('\n'));
  return 0;
}

process.exitCode = await runBenchmark(main, USAGE);
