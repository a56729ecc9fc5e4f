#!/usr/bin/env node
/**
 * SFU benchmark: how much forwarding one core does for Rempart's embedded engine (werift,
 * inside a real `rempart serve`) against Janus Gateway's VideoRoom, on the same machine in
 * the same run. For each meeting size N, N bots join, each publishes a 720p-like 1.5 Mbps
 * VP8 camera and an Opus microphone and subscribes to everyone else's: N·(N−1) forwarded
 * video streams (each with its audio). Measured after a warm-up: the SFU process's CPU,
 * the packets per second the subscribers receive, CPU per forwarded stream, and from the
 * fitted cost per stream, the largest meeting one core would sustain.
 *
 *   node bench/sfu.mjs [--sizes 2,3,4,6,8] [--seconds 10] [--runs 3] [--no-janus]
 *
 * Placement: the SFU under test (Rempart's server, or Janus and all its threads) on the
 * first allowed CPU; the bots, in their own process, and this one on the second. The bots'
 * own CPU is measured too: when they use up their core, the figures at that size say more
 * about the bots than about the SFU, and the report says so.
 *
 * Exit status: 0 a clean run; 1 an engine failed or the benchmark could not run; 2 bad
 * usage or Rempart is not built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  allowedCpus,
  cpuSeconds,
  cpuTimes,
  freePort,
  pinSelf,
  releaseOnExit,
  removeScratchDir,
  scratchDir,
  spawnNode,
  stopChild,
} from './lib/processes.mjs';
import { aptInstall } from './lib/debian.mjs';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { linearFit, median, scatterPlot, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT = ['../packages/cli/dist/main.js', '../packages/server/dist/index.js'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);
const BOTS = fileURLToPath(new URL('./lib/sfu-bots.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const WARMUP_SECONDS = 3;
const READY_TIMEOUT_MS = 120_000;
/** Janus's per-publisher cap, above the bots' 1.5 Mbps (its demo room's 128 kbps would throttle). */
const JANUS_ROOM_BITRATE = 2_000_000;
/** Above this share of their core, the bots (not the SFU) may be what limits the figures. */
const BOTS_BUSY_PERCENT = 90;
/** Above this share of a core used by other programs on the SFU's or the bots' CPU, say so. */
const OTHER_LOAD_PERCENT = 10;
/** Below this share of the expected packets, the SFU is not keeping up (or the bots are not). */
const DELIVERY_FLOOR = 0.95;
const USAGE = `Usage: node bench/sfu.mjs [--sizes 2,3,4,6,8] [--seconds N] [--runs R] [--no-janus]

  --sizes LIST   meeting sizes to measure, participants per meeting (default 2,3,4,6,8)
  --seconds N    measured seconds per size, after a ${WARMUP_SECONDS} s warm-up (default 10)
  --runs R       runs of Rempart and of Janus, interleaved (default 3)
  --no-janus     measure Rempart alone, without its peer

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    sizes: { type: 'string', default: '2,3,4,6,8' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'no-janus': { type: 'boolean', default: false },
  });
  if (values.help) return undefined;
  const integer = (name) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a whole number ≥ 1`);
    return value;
  };
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 32)) {
    throw new UsageError('--sizes must list whole numbers from 2 to 32, e.g. 2,3,4,6,8');
  }
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    seconds: integer('seconds'),
    runs: integer('runs'),
    janus: !values['no-janus'],
  };
}

// ------------------------------------------------------------------- engines

const ENGINE_NAMES = { rempart: 'Rempart', janus: 'Janus' };

/**
 * One meeting of `plan.bots.length` bots, measured. The bots run in their own process;
 * after they report every subscription delivering and a warm-up, the SFU's and the bots'
 * CPU and the packets received are sampled every second over the measured window.
 */
async function measureMeeting(plan, sfuPid, { placement, options, rates, label }) {
  const n = plan.bots.length;
  const worker = spawnNode([BOTS], { cpu: placement.botCpu, cwd: ROOT, env: process.env, ipc: true });
  const waiting = new Map();
  let failure;
  const failed = new Promise((_, reject) => (failure = reject));
  failed.catch(() => undefined);
  worker.on('message', (message) => {
    if (message.type === 'progress') progress(`${label}: ${message.text}`);
    else if (message.type === 'error') failure(new Error(message.message));
    else waiting.get(message.type)?.(message);
  });
  worker.once('exit', (code, signal) =>
    failure(new Error(`the bots stopped (${signal ?? `exit ${code}`}):\n${worker.outputTail()}`)),
  );
  /** The worker's next message of `type`, unless it fails or is silent for `timeoutMs`. */
  const next = async (type, timeoutMs) => {
    let timer;
    try {
      return await Promise.race([
        new Promise((resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`the bots sent no ${type} in time`)), timeoutMs);
          waiting.set(type, resolve);
        }),
        failed,
      ]);
    } finally {
      clearTimeout(timer);
      waiting.delete(type);
    }
  };
  const snapshot = async () => {
    const reply = next('sample', 10_000);
    worker.send({ type: 'sample' });
    const counts = await reply;
    return {
      ...counts,
      at: performance.now(),
      sfu: cpuSeconds(sfuPid),
      bots: cpuSeconds(worker.pid),
      self: process.cpuUsage(),
      cores: cpuTimes(),
    };
  };
  const perSecond = (a, b, pick) => (pick(b) - pick(a)) / ((b.at - a.at) / 1000);
  const packets = (x) => x.video + x.audio;

  try {
    const began = performance.now();
    const ready = next('ready', READY_TIMEOUT_MS);
    worker.send(plan);
    await ready;
    const connectSeconds = (performance.now() - began) / 1000;
    progress(`${label}: warm-up`);
    await Promise.race([sleep(WARMUP_SECONDS * 1000), failed]);
    const first = await snapshot();
    let last = first;
    for (let s = 1; s <= options.seconds; s++) {
      await Promise.race([sleep(1000), failed]);
      const now = await snapshot();
      const pps = perSecond(last, now, packets).toFixed(0);
      const cpu = (perSecond(last, now, (x) => x.sfu) * 100).toFixed(0);
      progress(`${label}: ${s}/${options.seconds} s, ${pps} packets/s received, SFU CPU ${cpu}%`);
      last = now;
    }
    const streams = n * (n - 1);
    const receivedPps = perSecond(first, last, packets);
    const sfuCpu = perSecond(first, last, (x) => x.sfu) * 100;
    // What the publishers really sent, each packet due at N − 1 subscribers.
    const sentPps = perSecond(first, last, (x) => x.sentVideo + x.sentAudio);
    const expectedPps = sentPps * (n - 1);
    const botsCpu = perSecond(first, last, (x) => x.bots) * 100;
    // How busy each of the two CPUs was with processes other than ours: another program
    // taking turns with the SFU on its core shows here, not in the SFU's own CPU time.
    const coreBusy = (cpu) => {
      const a = first.cores.get(cpu);
      const b = last.cores.get(cpu);
      return a && b ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : Number.NaN;
    };
    const selfCpu = perSecond(first, last, (x) => (x.self.user + x.self.system) / 1e6) * 100;
    return {
      n,
      streams,
      seconds: (last.at - first.at) / 1000,
      connectSeconds,
      sfuCpu,
      botsCpu,
      otherLoadSfuCpu: Math.max(0, coreBusy(placement.sfuCpu) - sfuCpu),
      otherLoadBotCpu: Math.max(0, coreBusy(placement.botCpu) - botsCpu - selfCpu),
      videoPps: perSecond(first, last, (x) => x.video),
      audioPps: perSecond(first, last, (x) => x.audio),
      receivedPps,
      expectedPps,
      delivery: receivedPps / expectedPps,
      duplicatesPps: perSecond(first, last, (x) => x.duplicates),
      tracksDelivering: last.tracks,
      sentPps,
      nominalSentPps: n * (rates.video + rates.audio),
      receivedMbps: (perSecond(first, last, (x) => x.bytes) * 8) / 1e6,
      keyframeRequestsPerSecond: perSecond(first, last, (x) => x.keyframeRequests),
      cpuPerStream: sfuCpu / streams,
      packetsPerCpu: receivedPps / sfuCpu,
    };
  } finally {
    if (worker.connected) worker.send({ type: 'stop' });
    await stopChild(worker);
  }
}

/**
 * Measures every size on one engine. A size that fails is recorded in `errors` and the
 * next size is tried; a failure of the engine itself (it did not start, or stopped) ends
 * the engine's run.
 */
async function eachSize(sizes, errors, where, measureSize) {
  const results = [];
  for (const n of sizes) {
    try {
      results.push(await measureSize(n));
    } catch (error) {
      progress(`${where.label} N=${n}: FAILED`, true);
      errors.push({ engine: where.engine, run: where.run, n, message: messageOf(error) });
    }
    where.check();
  }
  return results;
}

async function measureRempart(context, errors, where) {
  const { startRempart, firstAdmin, enrolledAgents, scheduleMeeting } = await import('./lib/rempart.mjs');
  const { sizes } = context.options;
  progress(`${where.label}: starting rempart serve`);
  const server = await startRempart({ cpu: context.placement.sfuCpu });
  const { child } = server;
  try {
    progress(`${where.label}: enrolling ${Math.max(...sizes)} bot agents`);
    const admin = await firstAdmin(server);
    const agents = await enrolledAgents(admin, Math.max(...sizes));
    where.check = () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`rempart serve stopped during the run:\n${child.outputTail()}`);
      }
    };
    return await eachSize(sizes, errors, where, async (n) => {
      const invitees = agents.slice(0, n);
      const meeting = await scheduleMeeting(admin, invitees);
      const plan = {
        type: 'start',
        engine: 'rempart',
        socketUrl: `${server.base.replace(/^http/, 'ws')}/api/meetings/live/${meeting.linkId}`,
        origin: server.origin,
        bots: invitees.map((agent) => ({ cookie: agent.cookie })),
      };
      return measureMeeting(plan, child.pid, { ...context, label: `${where.label} N=${n}` });
    });
  } finally {
    await stopChild(child);
    removeScratchDir(server.dataDir);
  }
}

async function measureJanus(context, errors, where) {
  const { startJanus, createRoom, destroyRoom } = await import('./lib/janus.mjs');
  progress(`${where.label}: starting janus`);
  const dir = scratchDir('rempart-bench-janus-');
  try {
    const janus = await startJanus({ cpu: context.placement.sfuCpu, dir, port: await freePort() });
    try {
      where.check = () => {
        if (janus.child.exitCode !== null || janus.child.signalCode !== null) {
          throw new Error(`janus stopped during the run:\n${janus.child.outputTail()}`);
        }
      };
      return await eachSize(context.options.sizes, errors, where, async (n) => {
        const room = 1000 + n;
        await createRoom(janus.url, { room, publishers: n, bitrate: JANUS_ROOM_BITRATE });
        const plan = {
          type: 'start',
          engine: 'janus',
          janusUrl: janus.url,
          room,
          bots: Array.from({ length: n }, (_, i) => ({ name: `Bench Bot ${i + 1}` })),
        };
        try {
          return await measureMeeting(plan, janus.child.pid, { ...context, label: `${where.label} N=${n}` });
        } finally {
          await destroyRoom(janus.url, room).catch(() => undefined);
        }
      });
    } finally {
      await stopChild(janus.child);
    }
  } finally {
    removeScratchDir(dir);
  }
}

function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Janus from Debian, installed when it is missing and this process may, and the loopback
 * shim it needs built; false, with the reason printed, when the peer cannot run.
 */
async function ensureJanus() {
  const { janusInstalled, loopbackShim } = await import('./lib/janus.mjs');
  if (!janusInstalled()) {
    if (process.getuid?.() !== 0) {
      console.error(
        'bench: Janus is not installed, so the peer is skipped. As root: apt-get install -y janus',
      );
      return false;
    }
    progress('installing Janus from Debian (apt-get install -y janus)', true);
    const failed = aptInstall(['janus']);
    if (failed) {
      console.error(`bench: installing Janus failed, so the peer is skipped:\n${failed}`);
      return false;
    }
    if (!janusInstalled()) return false;
  }
  try {
    loopbackShim();
  } catch (error) {
    console.error(`bench: ${messageOf(error)}; the Janus peer is skipped.`);
    return false;
  }
  return true;
}

// -------------------------------------------------------------------- report

function versions() {
  let werift;
  try {
    werift = JSON.parse(readFileSync(`${ROOT}node_modules/werift/package.json`, 'utf8')).version;
  } catch {
    werift = undefined;
  }
  // `janus --version` prints its version, then exits with status 1.
  const janusOut = spawnSync('janus', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const janus = /Janus version: \d+ \(([^)]+)\)/.exec(janusOut)?.[1];
  return { node: process.version, werift, janus };
}

/** Medians over the runs, for each size an engine measured in every run. */
function summarise(runs, engine, sizes) {
  return sizes.flatMap((n) => {
    const points = runs.map((run) => run[engine]?.find((r) => r.n === n)).filter(Boolean);
    if (points.length === 0) return [];
    const mid = (pick) => median(points.map(pick));
    const row = {
      n,
      streams: n * (n - 1),
      runs: points.length,
      sfuCpu: mid((p) => p.sfuCpu),
      botsCpu: mid((p) => p.botsCpu),
      receivedPps: mid((p) => p.receivedPps),
      expectedPps: mid((p) => p.expectedPps),
      delivery: mid((p) => p.delivery),
      receivedMbps: mid((p) => p.receivedMbps),
      cpuPerStream: mid((p) => p.cpuPerStream),
      packetsPerCpu: mid((p) => p.packetsPerCpu),
      connectSeconds: mid((p) => p.connectSeconds),
      otherLoadSfuCpu: mid((p) => p.otherLoadSfuCpu),
      otherLoadBotCpu: mid((p) => p.otherLoadBotCpu),
    };
    row.busyMachine = row.otherLoadSfuCpu > OTHER_LOAD_PERCENT || row.otherLoadBotCpu > OTHER_LOAD_PERCENT;
    row.botsBusy = row.botsCpu >= BOTS_BUSY_PERCENT;
    row.shortDelivery = row.delivery < DELIVERY_FLOOR;
    return [row];
  });
}

/**
 * SFU CPU as a line against forwarded streams, fitted (least squares) on the sizes where
 * every packet arrived and the bots had CPU to spare: a fixed part (the server's own work,
 * the publishers' ingest) plus a cost per forwarded stream. Then, extrapolated, the largest
 * N whose fixed part + N·(N−1) × cost per stream stays within 100% of one core.
 */
function capacity(rows) {
  const clean = rows.filter((r) => !r.botsBusy && !r.shortDelivery);
  const points = clean.length > 0 ? clean : rows;
  if (points.length === 0) return undefined;
  const { intercept, slope } = linearFit(points.map((r) => [r.streams, r.sfuCpu]));
  const room = Math.max(0, 100 - intercept) / slope;
  return {
    fixedCpu: intercept,
    cpuPerStream: slope,
    largestMeeting: Math.floor((1 + Math.sqrt(1 + 4 * room)) / 2),
    fittedOn: points.map((r) => r.n),
    allClean: clean.length > 0,
  };
}

function printReport({ options, placement, shape, summary, fits, errors, versions: v, resultsFile }) {
  const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
  const engines = Object.keys(summary);
  const name = ENGINE_NAMES;
  const where =
    placement.sfuCpu === undefined
      ? 'not pinned (taskset or a second CPU is missing): SFU and bots share the CPUs'
      : `SFU on CPU ${placement.sfuCpu}, bots (one process) on CPU ${placement.botCpu}`;
  const camera = `${shape.videoBitsPerSecond / 1e6} Mbps, ${shape.framesPerSecond} fps`;
  const lines = [
    '',
    `SFU forwarding: N bots each publish a 720p-like VP8 camera (${camera}) and Opus, and subscribe to all others`,
    `  Rempart: embedded SFU (werift ${v.werift ?? '?'}) in rempart serve; Janus ${v.janus ?? '–'}: VideoRoom plugin`,
    `  ${options.seconds} s per size after a ${WARMUP_SECONDS} s warm-up, ${options.runs} run(s) of each engine, interleaved; medians`,
    `  ${where}; Node ${v.node}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    '',
  ];
  const header = [
    '',
    'N',
    'streams',
    'SFU CPU %',
    'bots CPU %',
    'others %',
    'received pkt/s',
    'of expected',
    '% CPU / stream',
    'pkt/s per % CPU',
  ];
  const rows = engines.flatMap((engine) =>
    summary[engine].map((r) => [
      name[engine],
      r.n,
      r.streams,
      fixed(1)(r.sfuCpu),
      `${fixed(0)(r.botsCpu)}${r.botsBusy ? '!' : ''}`,
      `${fixed(0)(Math.max(r.otherLoadSfuCpu, r.otherLoadBotCpu))}${r.busyMachine ? '!' : ''}`,
      fixed(0)(r.receivedPps),
      `${fixed(1)(r.delivery * 100)}%${r.shortDelivery ? '!' : ''}`,
      fixed(2)(r.cpuPerStream),
      fixed(0)(r.packetsPerCpu),
    ]),
  );
  lines.push(...table([header, ...rows]).map((l) => `  ${l}`));
  lines.push(
    '  streams: forwarded video streams, N·(N−1), each with its audio. others: CPU used by other programs on',
    '  the busier of the two CPUs. received: distinct packets (duplicates such as retransmissions left out);',
    '  of expected: against what the publishers sent, times N − 1.',
  );
  if (summary.rempart && summary.janus) {
    const ratioRows = summary.rempart.flatMap((r) => {
      const peer = summary.janus.find((j) => j.n === r.n);
      return peer
        ? [
            [
              `  N = ${r.n}`,
              fixed(2)(r.cpuPerStream / peer.cpuPerStream),
              fixed(2)(r.packetsPerCpu / peer.packetsPerCpu),
            ],
          ]
        : [];
    });
    if (ratioRows.length > 0) {
      lines.push('', '  Rempart / Janus, same run:');
      lines.push(...table([['', 'CPU per stream', 'pkt/s per % CPU'], ...ratioRows]).map((l) => `  ${l}`));
    }
  }
  const flagged = engines.flatMap((engine) => summary[engine]);
  if (flagged.some((r) => r.botsBusy)) {
    lines.push(
      '',
      `  ! bots CPU ≥ ${BOTS_BUSY_PERCENT}%: the bots' own core is full (werift receiving), so at these sizes the`,
      '    figures may be bounded by the bots, not by the SFU. They are left out of the fit.',
    );
  }
  if (flagged.some((r) => r.busyMachine)) {
    lines.push(
      '',
      `  ! other programs used more than ${OTHER_LOAD_PERCENT}% of the SFU's or the bots' CPU during the measure: the`,
      '    machine was not quiet, so those figures are less trustworthy (run again when it is).',
    );
  }
  if (flagged.some((r) => r.shortDelivery)) {
    lines.push(
      '',
      `  ! fewer than ${DELIVERY_FLOOR * 100}% of the expected packets arrived: the SFU did not keep up (or the machine`,
      '    was busy elsewhere). Left out of the fit.',
    );
  }

  const series = engines.map((engine) => ({
    label: name[engine],
    marker: engine === 'rempart' ? 'R' : 'J',
    line: engine === 'rempart' ? '.' : ':',
    points: summary[engine].map((r) => [r.streams, r.sfuCpu]),
    fit: fits[engine] && { intercept: fits[engine].fixedCpu, slope: fits[engine].cpuPerStream },
  }));
  lines.push(
    '',
    'SFU CPU (% of one core) against forwarded video streams N·(N−1): letters measured, dots fitted',
    ...scatterPlot(series, {
      xLabel: 'forwarded streams',
      yLabel: '% CPU',
      limit: { y: 100, label: 'one core' },
    }),
    '',
    'Largest meeting one core sustains, extrapolated: the largest N with fixed + N·(N−1) × CPU per stream',
    '≤ 100% of a core, both fitted (least squares) on the sizes where every packet arrived:',
  );
  for (const engine of engines) {
    const fit = fits[engine];
    const measured = summary[engine].filter((r) => !r.shortDelivery).at(-1);
    const basis = fit.allClean ? `fitted on N = ${fit.fittedOn.join(', ')}` : 'no clean size: fitted on all';
    lines.push(
      `  ${name[engine].padEnd(7)} N = ${String(fit.largestMeeting).padStart(2)}   ` +
        `${fit.cpuPerStream.toFixed(2)}% of a core per stream + ${fit.fixedCpu.toFixed(1)}% fixed ` +
        `(${basis}; largest measured with every packet: ${measured ? `N = ${measured.n}` : 'none'})`,
    );
  }
  if (fits.rempart && fits.janus) {
    lines.push(
      `  Rempart / Janus: ${(fits.rempart.largestMeeting / fits.janus.largestMeeting).toFixed(2)} × the meeting size, ` +
        `${(fits.rempart.cpuPerStream / fits.janus.cpuPerStream).toFixed(2)} × the CPU per forwarded stream`,
    );
  }
  lines.push('');
  if (errors.length > 0) {
    // The same failure on several runs or sizes is told once.
    const grouped = new Map();
    for (const e of errors) {
      const key = `${e.engine}\n${e.message}`;
      grouped.set(key, [
        ...(grouped.get(key) ?? []),
        e.n === undefined ? `run ${e.run}` : `run ${e.run} N=${e.n}`,
      ]);
    }
    lines.push('ERRORS:');
    for (const [key, at] of grouped) {
      const [engine, ...message] = key.split('\n');
      lines.push(`  ${name[engine]} (${at.join(', ')}): ${message.join('\n    ')}`);
    }
    lines.push('');
  } else lines.push('No errors.');
  lines.push(`Results: ${relative(process.cwd(), resultsFile)}`);
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  if (BUILT.some((file) => !existsSync(file))) {
    console.error('bench: Rempart is not built. From the repository root run:\n  npx tsc -b packages/cli');
    return 2;
  }
  releaseOnExit();
  const startedAt = new Date();
  const { packetRates, SHAPE } = await import('./lib/bots.mjs');
  const rates = packetRates();
  const withJanus = options.janus && (await ensureJanus());

  const cpuList = allowedCpus();
  const placement =
    cpuList.length >= 2 && pinSelf(cpuList[1])
      ? { sfuCpu: cpuList[0], botCpu: cpuList[1] }
      : { sfuCpu: undefined, botCpu: undefined };

  const engines = withJanus ? ['rempart', 'janus'] : ['rempart'];
  const measure = { rempart: measureRempart, janus: measureJanus };
  const context = { options, placement, rates };
  const errors = [];
  const runs = [];
  for (let i = 0; i < options.runs; i++) {
    const run = {};
    for (const engine of engines) {
      const label = `run ${i + 1}/${options.runs} ${ENGINE_NAMES[engine]}`;
      const where = { engine, run: i + 1, label, check: () => {} };
      try {
        run[engine] = await measure[engine](context, errors, where);
        const summaryLine = run[engine].map((r) => `N=${r.n} ${r.sfuCpu.toFixed(0)}%`).join(', ');
        progress(`${label}: SFU CPU ${summaryLine || '(no size measured)'}`, true);
      } catch (error) {
        progress(`${label}: FAILED`, true);
        errors.push({ engine, run: i + 1, message: messageOf(error) });
      }
    }
    runs.push(run);
  }

  const summary = Object.fromEntries(
    engines
      .map((engine) => [engine, summarise(runs, engine, options.sizes)])
      .filter(([, rows]) => rows.length > 0),
  );
  const fits = Object.fromEntries(Object.entries(summary).map(([engine, rows]) => [engine, capacity(rows)]));
  const v = versions();

  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `${RESULTS_DIR}sfu-${stamp}.json`;
  const record = {
    benchmark: 'sfu',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    machine: { cpu: cpus()[0]?.model.trim(), allowedCpus: cpuList, ...v },
    options: { ...options, warmupSeconds: WARMUP_SECONDS, janusRoomBitrate: JANUS_ROOM_BITRATE },
    placement,
    perPublisher: { packetsPerSecond: rates, shape: SHAPE },
    median: summary,
    capacity: fits,
    runs,
    errors,
  };
  // Three decimals are more than these measurements can tell apart.
  const rounded = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport({ options, placement, shape: SHAPE, summary, fits, errors, versions: v, resultsFile });
  return errors.length > 0 || Object.keys(summary).length === 0 ? 1 : 0;
}

process.exitCode = await runBenchmark(main, USAGE);
