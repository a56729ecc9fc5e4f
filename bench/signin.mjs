#!/usr/bin/env node
/**
 * Sign-in benchmark: full password + TOTP sign-ins over HTTP on loopback against a real
 * `rempart serve`, compared in the same run, on the same CPU, with the cost floor of that
 * work: bare argon2id verifies with the same parameters. The figure that matters is the
 * ratio, i.e. how close the whole HTTP + database + TOTP + session path gets to the hash.
 *
 *   node bench/signin.mjs [--seconds 10] [--runs 3] [--concurrency 8] [--agents 3000]
 *
 * Placement: the server, then the peer, run on the first allowed CPU with one libuv pool
 * thread (argon2 runs on that pool, so one thread is one core's worth of hashing). This
 * process seeds the fixtures on every CPU, then moves to the second CPU to generate load.
 *
 * Exit status: 0 a clean run; 1 a sign-in failed or the benchmark could not run; 2 bad
 * usage or the command is not built.
 */
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setInterval, clearInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import {
  allowedCpus,
  freePort,
  pinSelf,
  releaseOnExit,
  removeScratchDir,
  scratchDir,
  spawnNode,
  stopChild,
  waitUntilReady,
} from './lib/processes.mjs';
import { benchOptions, gitRevision, live, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { histogram, latencySummary, median, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_BIN = fileURLToPath(new URL('../packages/cli/bin/rempart.js', import.meta.url));
const BUILT = ['../packages/cli/dist/main.js', '../packages/server/dist/index.js'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);
const PEER = fileURLToPath(new URL('./lib/argon2-floor.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const { fetch } = globalThis;

const WARMUP_SECONDS = 2;
/** Without TLS the cookie has no `__Host-` prefix (see packages/server/src/http/auth.ts). */
const SESSION_COOKIE = 'rempart_session';
const READY_TIMEOUT_MS = 60_000;
const USAGE = `Usage: node bench/signin.mjs [--seconds N] [--runs R] [--concurrency C] [--agents A]

  --seconds N      measured seconds per run, after a ${WARMUP_SECONDS} s warm-up (default 10)
  --runs R         runs of Rempart and of the argon2id peer, interleaved (default 3)
  --concurrency C  virtual users signing in at once (default 8)
  --agents A       seeded agents; every sign-in of a run needs its own (default 3000 or more)

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    agents: { type: 'string' },
  });
  if (values.help) return undefined;
  const integer = (name, fallback) => {
    const value = Number(values[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a whole number ≥ 1`);
    return value;
  };
  const seconds = integer('seconds');
  // A run uses each agent once (a TOTP step is accepted once per factor). 250 sign-ins/s is
  // twice the argon2id floor of one core of the reference machine; running out is reported
  // as an error, never papered over by reusing agents.
  const enough = Math.max(3000, Math.ceil(((seconds + WARMUP_SECONDS) * 250) / 1000) * 1000);
  return {
    seconds,
    runs: integer('runs'),
    concurrency: integer('concurrency'),
    agents: integer('agents', enough),
  };
}

// ------------------------------------------------------------------ progress

/** Calls `describe` every half second to refresh the progress line until stopped. */
function ticker(describe) {
  if (!live) return () => {};
  const timer = setInterval(() => progress(describe()), 500);
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------- the server

function serverEnv(dataDir, port, secretKey) {
  // Nothing inherited may point the server elsewhere (DATABASE_URL, REMPART_TLS, …).
  const inherited = Object.entries(process.env).filter(
    ([name]) => !name.startsWith('REMPART_') && name !== 'DATABASE_URL',
  );
  return {
    ...Object.fromEntries(inherited),
    REMPART_DATA_DIR: dataDir,
    REMPART_HOST: '127.0.0.1',
    REMPART_PORT: String(port),
    REMPART_LOG_LEVEL: 'warn',
    REMPART_SECRET_KEY: secretKey,
    UV_THREADPOOL_SIZE: '1',
  };
}

// ---------------------------------------------------------------------- load

async function post(url, body, headers = {}) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json };
  } catch (error) {
    return { status: 0, failure: error.cause?.code ?? error.message };
  }
}

function refusal(step, res) {
  return res.status === 0
    ? `${step}: ${res.failure}`
    : `${step}: HTTP ${res.status} ${res.body?.error?.code ?? ''}`.trimEnd();
}

/** One sign-in as the console does it; resolves to undefined on success, else what went wrong. */
async function signIn(base, agent, totpCodeAt) {
  const first = await post(`${base}/api/auth/password`, { email: agent.email, password: agent.password });
  if (first.status !== 200) return refusal('password', first);
  const cookie = first.headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0])
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const csrf = first.body?.session?.csrfToken;
  if (first.body?.next !== 'mfa' || !cookie || !csrf) return 'password: 200 without a pending-MFA session';
  const code = await totpCodeAt(agent.totpSecret, new Date());
  const second = await post(`${base}/api/auth/totp`, { code }, { cookie, 'x-csrf-token': csrf });
  if (second.status !== 200) return refusal('totp', second);
  if (second.body?.next !== 'done') return 'totp: 200 without a full session';
  return undefined;
}

/**
 * `concurrency` virtual users sign in back to back, each with the next unused agent. Only
 * sign-ins that finish inside the measured window count; an error anywhere (warm-up and
 * the in-flight tail included) is counted, so a run with errors cannot pass unnoticed.
 */
async function signInLoad(base, agents, totpCodeAt, { concurrency, seconds }, label) {
  const startedAt = performance.now();
  const measureFrom = startedAt + WARMUP_SECONDS * 1000;
  const endAt = measureFrom + seconds * 1000;
  const latencies = [];
  const errors = {};
  const fail = (what) => {
    errors[what] = (errors[what] ?? 0) + 1;
  };
  let next = 0;
  const user = async () => {
    while (performance.now() < endAt) {
      const agent = agents[next++];
      if (!agent) {
        fail(`ran out of the ${agents.length} seeded agents (pass a larger --agents)`);
        return;
      }
      const began = performance.now();
      const error = await signIn(base, agent, totpCodeAt);
      const ended = performance.now();
      if (error) fail(error);
      else if (ended >= measureFrom && ended <= endAt) latencies.push(ended - began);
    }
  };
  const stopTicker = ticker(() => {
    const elapsed = (performance.now() - startedAt) / 1000;
    const phase = elapsed < WARMUP_SECONDS ? 'warm-up' : `${latencies.length} sign-ins`;
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
    return `${label}: ${Math.floor(elapsed)}/${WARMUP_SECONDS + seconds} s, ${phase}, ${errorCount} errors`;
  });
  try {
    await Promise.all(Array.from({ length: concurrency }, user));
  } finally {
    stopTicker();
  }
  return { signIns: latencies.length, seconds, perSecond: latencies.length / seconds, latencies, errors };
}

async function measureRempart(fixtures, totpCodeAt, options, placement, label) {
  progress(`${label}: starting rempart serve`);
  // Each run starts from the same seeded database, so runs are alike and agents are reusable.
  const dataDir = scratchDir('rempart-bench-');
  cpSync(fixtures.dataDir, dataDir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawnNode([CLI_BIN, 'serve'], {
    cpu: placement.serverCpu,
    cwd: ROOT,
    env: serverEnv(dataDir, port, fixtures.secretKey),
  });
  try {
    await waitUntilReady(`${base}/healthz`, server, { name: 'rempart serve', timeoutMs: READY_TIMEOUT_MS });
    const result = await signInLoad(base, fixtures.agents, totpCodeAt, options, label);
    if (server.exitCode !== null || server.signalCode !== null) {
      const how = server.signalCode ?? `exit status ${server.exitCode}`;
      throw new Error(`rempart serve stopped during the run (${how}):\n${server.outputTail()}`);
    }
    return result;
  } finally {
    await stopChild(server);
    removeScratchDir(dataDir);
  }
}

async function measurePeer(fixtures, options, placement, label) {
  const peer = spawnNode(
    [
      PEER,
      ...['--concurrency', String(options.concurrency)],
      ...['--warmup', String(WARMUP_SECONDS), '--seconds', String(options.seconds)],
    ],
    {
      cpu: placement.serverCpu,
      cwd: ROOT,
      env: {
        ...process.env,
        UV_THREADPOOL_SIZE: '1',
        BENCH_ARGON2_HASH: fixtures.peerHash.hash,
        BENCH_ARGON2_PASSWORD: fixtures.peerHash.password,
      },
    },
  );
  let stdout = '';
  peer.stdout.on('data', (chunk) => (stdout += chunk.toString('utf8')));
  const startedAt = performance.now();
  const stopTicker = ticker(() => {
    const elapsed = (performance.now() - startedAt) / 1000;
    return `${label}: ${Math.floor(elapsed)}/${WARMUP_SECONDS + options.seconds} s`;
  });
  try {
    const [code] = await once(peer, 'exit');
    const result = code === 0 ? JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') : undefined;
    if (!result) throw new Error(`the argon2id peer failed (exit ${code}):\n${peer.outputTail()}`);
    if (result.failures > 0) throw new Error(`the argon2id peer saw ${result.failures} failed verifies`);
    return result;
  } finally {
    stopTicker();
    await stopChild(peer);
  }
}

// -------------------------------------------------------------------- report

/** `argon2id m=19456,t=2,p=1` from a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`. */
function argon2Parameters(phc) {
  const [, algorithm = '?', , parameters = '?'] = phc.split('$');
  return `${algorithm} ${parameters}`;
}

function summarise(runs) {
  return {
    signInsPerSecond: median(runs.map((r) => r.rempart.perSecond)),
    p50Ms: median(runs.map((r) => r.rempart.latency.p50Ms)),
    p99Ms: median(runs.map((r) => r.rempart.latency.p99Ms)),
    verifiesPerSecond: median(runs.map((r) => r.peer.perSecond)),
    ratio: median(runs.map((r) => r.ratio)),
  };
}

function printReport({ options, placement, runs, medians, allLatencies, errors, argon2, resultsFile }) {
  const fixed = (digits) => (v) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  const row = (name, pick, format, mid) => [name, ...runs.map((r) => format(pick(r))), format(mid)];
  const where =
    placement.serverCpu === undefined
      ? 'not pinned (taskset or a second CPU is missing): server, peer and load share the CPUs'
      : `server and peer on CPU ${placement.serverCpu} (UV_THREADPOOL_SIZE=1), load on CPU ${placement.loadCpu}`;
  const plan = options.runs === 1 ? '1 run' : `${options.runs} runs, interleaved`;
  const lines = [
    '',
    'Rempart sign-in: password + TOTP over HTTP on 127.0.0.1, against bare argon2id verifies',
    `  ${options.concurrency} virtual users, ${options.seconds} s per run after a ${WARMUP_SECONDS} s warm-up, ${plan}`,
    `  ${where}`,
    `  ${argon2}, Node ${process.version}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
    '',
    ...table([
      ['', ...runs.map((_, i) => `run ${i + 1}`), 'median'],
      row('Rempart sign-ins/s', (r) => r.rempart.perSecond, fixed(1), medians.signInsPerSecond),
      row('  sign-in p50 (ms)', (r) => r.rempart.latency.p50Ms, fixed(1), medians.p50Ms),
      row('  sign-in p99 (ms)', (r) => r.rempart.latency.p99Ms, fixed(1), medians.p99Ms),
      row('argon2id verifies/s (peer)', (r) => r.peer.perSecond, fixed(1), medians.verifiesPerSecond),
      row('Rempart / argon2id floor', (r) => r.ratio, fixed(2), medians.ratio),
    ]).map((l) => `  ${l}`),
    '',
    `Full sign-in latency (both steps), all runs, ${allLatencies.length} sign-ins:`,
    ...histogram(allLatencies),
    '',
  ];
  const errorLines = Object.entries(errors).map(([what, n]) => `  ${n} × ${what}`);
  if (errorLines.length > 0)
    lines.push('ERRORS: these sign-ins failed and are not counted:', ...errorLines, '');
  else lines.push('No errors.');
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
  // Imported only now: both resolve to packages/*/dist, which the check above vouches for.
  const { seededAgents } = await import('./lib/seed.mjs');
  const { totpCodeAt } = await import('@rempart/server');

  const seedStart = performance.now();
  const fixtures = await seededAgents(options.agents, (done, total) => {
    if (done % (live ? 50 : 500) === 0 || done === total) progress(`seeding ${done}/${total}`, !live);
  });
  if (!fixtures.cached) {
    progress(
      `seeded ${options.agents} agents in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`,
      true,
    );
  }

  const cpuList = allowedCpus();
  const placement =
    cpuList.length >= 2 && pinSelf(cpuList[1])
      ? { serverCpu: cpuList[0], loadCpu: cpuList[1] }
      : { serverCpu: undefined, loadCpu: undefined };

  const runs = [];
  for (let i = 0; i < options.runs; i++) {
    const label = `run ${i + 1}/${options.runs}`;
    const rempart = await measureRempart(fixtures, totpCodeAt, options, placement, `${label} rempart`);
    const peer = await measurePeer(fixtures, options, placement, `${label} argon2id peer`);
    const { latencies, ...counts } = rempart;
    runs.push({
      rempart: { ...counts, latency: latencySummary(latencies) },
      peer,
      ratio: rempart.perSecond / peer.perSecond,
      latencies,
    });
    progress(
      `${label}: ${rempart.perSecond.toFixed(1)} sign-ins/s, ${peer.perSecond.toFixed(1)} verifies/s`,
      true,
    );
  }

  const errors = {};
  for (const run of runs) {
    for (const [what, n] of Object.entries(run.rempart.errors)) errors[what] = (errors[what] ?? 0) + n;
  }
  const medians = summarise(runs);
  const allLatencies = runs.flatMap((r) => r.latencies);
  const argon2 = argon2Parameters(fixtures.peerHash.hash);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `${RESULTS_DIR}signin-${stamp}.json`;
  const record = {
    benchmark: 'signin',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    machine: { cpu: cpus()[0]?.model.trim(), allowedCpus: cpuList, node: process.version },
    options: { ...options, warmupSeconds: WARMUP_SECONDS },
    placement,
    argon2,
    median: medians,
    runs: runs.map(({ latencies: _latencies, ...run }) => run),
    errors,
  };
  // Three decimals are more than these measurements can tell apart.
  const rounded = (_key, v) =>
    typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport({ options, placement, runs, medians, allLatencies, errors, argon2, resultsFile });
  return Object.keys(errors).length > 0 ? 1 : 0;
}

process.exitCode = await runBenchmark(main, USAGE);
