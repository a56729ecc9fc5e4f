#!/usr/bin/env node
/**
 * DNS benchmark: the Network guard's filtering resolver (`rempart dns serve`) against dnsmasq
 * and unbound from Debian, on loopback, in the same run, each blocking the same generated list
 * of 1,000,000 domains. Debian's dnsperf drives three workloads at each server: blocked names
 * (random draws from the list), cache hits (a small set of allowed names, asked over and over
 * after a warm-up) and cache misses (allowed names never asked before, so every query is
 * forwarded). Printed for each: queries per second at saturation, p50 and p99 latency at a
 * fixed moderate rate, the server's CPU per query; and for each server its resident memory
 * after loading the list and after the workloads, and how long the list took to load. The goal
 * of the issue is at least dnsmasq's queries per second, and under 200 MB for 1M blocked domains.
 *
 *   node bench/dns.mjs [--runs 3] [--seconds 10] [--rate 2000] [--domains 1000000]
 *
 * Rempart is measured with its DNS query log on (REMPART_DNS_LOG_DAYS=7, the default users
 * run), and again with it off (REMPART_DNS_LOG_DAYS=0) to show what the log costs. Its per-client
 * rate limit is off (REMPART_DNS_RATE_LIMIT=0): the benchmark is one client sending as fast as
 * it can, and neither peer limits either.
 *
 * The list: seeded, the same on every run. Rempart reads it as a hosts file (`0.0.0.0 name`); a
 * Rempart rule covers the name and every name below it, and blocked names get NXDOMAIN. dnsmasq
 * reads it as `address=/name/` lines, which block the same names the same way (NXDOMAIN for the
 * name and below), and unbound as `local-zone: "name." always_nxdomain`, the same again. (dnsmasq's
 * `--addn-hosts` would answer 0.0.0.0 for the exact names only: other answers, fewer names.)
 * Each server's blocking is checked on a few listed names and a name below one before measuring.
 *
 * The upstream, the same for all three: an authoritative server on 127.0.0.1 answering every
 * name under rempart-bench.test with one A record (a second unbound, configured authoritative,
 * or when unbound is missing, bench/lib/dns-upstream.mjs). Its CPU is measured in every run.
 *
 * Placement: the server under test (every thread) on the first allowed CPU; dnsperf, the
 * upstream and this process on the second. Runs are interleaved (each run starts every server
 * afresh, in a rotated order) and the report gives medians. CPU used on the server's core by
 * other programs is measured and flagged; so is a run where the client's core, not the server,
 * was the limit.
 *
 * Exit status: 0 a clean run (a peer that cannot be installed is skipped, and the reason
 * printed); 1 a server failed, blocked wrongly, or the benchmark could not run; 2 bad usage or
 * Rempart is not built.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { cpus, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { aptInstall } from './lib/debian.mjs';
import { ask } from './lib/dns-probe.mjs';
import {
  allowedCpus,
  cpuSeconds,
  exitedChildrenCpuSeconds,
  freePort,
  pinSelf,
  releaseOnExit,
  removeScratchDir,
  scratchDir,
  spawnNode,
  spawnPinned,
  STOP_GRACE_MS,
  stopChild,
} from './lib/processes.mjs';
import { checkBuild } from './lib/build.mjs';
import { benchOptions, gitRevision, progress, runBenchmark, UsageError } from './lib/report.mjs';
import { bar, median, percentile, table } from './lib/stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI_BIN = fileURLToPath(new URL('../packages/cli/bin/rempart.js', import.meta.url));
const NODE_UPSTREAM = fileURLToPath(new URL('./lib/dns-upstream.mjs', import.meta.url));
const PGLITE_PROBE = fileURLToPath(new URL('./lib/pglite-probe.mjs', import.meta.url));
const UDP_FLOOR = fileURLToPath(new URL('./lib/udp-floor.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const SEED = 20261202;
/** The zone the upstream answers; RFC 6761 §6.2 keeps `.test` for testing. */
const ZONE = 'rempart-bench.test';
const UPSTREAM_ADDRESS = '192.0.2.1';
/** dnsperf's clients (source ports), as in the dnsmasq reference figure (shared/PARTS.md). */
const CLIENTS = 10;
/** Queries dnsperf keeps in flight at saturation (its default). */
const IN_FLIGHT = 100;
const BLOCKED_DRAWS = 100_000;
const HIT_NAMES = 1_000;
const WARM_PASSES = 3;
/** Cache-miss names written per second of a saturation run: past this rate the run ends early. */
const MISS_NAMES_PER_SECOND = 60_000;
const LATENCY_SECONDS = 5;
/** dnsmasq keeps 150 answers by default, which would make the cache-hit set miss: 10,000 fits it. */
const DNSMASQ_CACHE_SIZE = 10_000;
const GOAL_RSS_MB = 200;
/** Above this share of the server's core used by other programs, the figures are flagged. */
const OTHER_LOAD_PERCENT = 10;
/**
 * The client's core this busy while the server's core was this idle (used neither by the server,
 * its packets' interrupts nor other programs): the client side, not the server, was the limit.
 */
const CLIENT_BUSY_PERCENT = 90;
const SERVER_IDLE_PERCENT = 10;
const READY_TIMEOUT_MS = 240_000;
/** After a workload, the server is given this long to go idle (Rempart writes its query log). */
const SETTLE_TIMEOUT_MS = 60_000;
const IDLE_CORES = 0.05;
/**
 * After the workloads, memory is read again once the server has given back what it no longer
 * holds: at most this long, or as soon as it is back within IDLE_RSS_MARGIN of its loaded size.
 * (V8 returns its heaps' free pages some 30 s after a load stops; dnsmasq and unbound at once.)
 */
const IDLE_MEMORY_SECONDS = 60;
const IDLE_RSS_MARGIN = 1.1;
/** Rempart writes its buffered query log when stopped: it gets longer than the usual grace. */
const REMPART_STOP_GRACE_MS = 120_000;
/** The secret a replica and its platform share in the benchmark (REMPART_DNS_REPLICA_TOKEN). */
const REPLICA_SECRET = 'rempart-bench-replica-secret-0123456789';
const PACKAGES = { dnsperf: 'dnsperf', dnsmasq: 'dnsmasq-base', unbound: 'unbound' };

const SERVERS = [
  { id: 'rempart', kind: 'rempart', logDays: 7, label: 'Rempart, query log on' },
  { id: 'rempart-nolog', kind: 'rempart', logDays: 0, label: 'Rempart, query log off' },
  // The resolver as a replica (`dns serve --replica-of`): no database in its process; its policy
  // from a platform (`rempart serve`, on the client's CPU) and its query log shipped there.
  {
    id: 'rempart-replica',
    kind: 'rempart',
    replica: true,
    logDays: 7,
    label: 'Rempart replica, query log shipped',
  },
  { id: 'dnsmasq', kind: 'dnsmasq', label: 'dnsmasq' },
  // The like-for-like peer of Rempart's query log: dnsmasq's own (`--log-queries`), each line
  // written to a file as it happens, as dnsmasq does it (no --log-async, which drops lines when
  // the writer falls behind; Rempart's log drops none).
  { id: 'dnsmasq-log', kind: 'dnsmasq', logQueries: true, label: 'dnsmasq, query log on' },
  { id: 'unbound', kind: 'unbound', label: 'unbound' },
];
const WORKLOADS = [
  { id: 'blocked', title: 'blocked names', expect: 'NXDOMAIN' },
  { id: 'hit', title: 'cache hit', expect: 'NOERROR' },
  { id: 'miss', title: 'cache miss', expect: 'NOERROR' },
];

const USAGE = `Usage: node bench/dns.mjs [--runs R] [--seconds N] [--rate Q] [--domains D] [--servers IDS]

  --runs R      runs, each starting every server afresh in a rotated order (default 3)
  --seconds N   seconds of each saturation run, per workload and server (default 10)
  --rate Q      queries per second of the latency runs (p50, p99), ${LATENCY_SECONDS} s each (default 2000)
  --domains D   domains in the blocklist (default 1000000)
  --servers IDS the servers to measure, comma-separated (default all: ${SERVERS.map((s) => s.id).join(',')})

  (The options of the other benchmarks, which \`npm run bench\` passes to every benchmark, are
  accepted and ignored.)`;

function parseOptions(argv) {
  const values = benchOptions(argv, {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '2000' },
    domains: { type: 'string', default: '1000000' },
    servers: { type: 'string', default: SERVERS.map((s) => s.id).join(',') },
  });
  if (values.help) return undefined;
  const integer = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min)
      throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
    return value;
  };
  const servers = values.servers.split(',').map((id) => id.trim());
  const unknown = servers.filter((id) => !SERVERS.some((s) => s.id === id));
  if (unknown.length > 0 || servers.length === 0)
    throw new UsageError(
      `--servers: unknown ${unknown.join(', ') || '(none)'}; one or more of ${SERVERS.map((s) => s.id).join(', ')}`,
    );
  return {
    servers,
    runs: integer('runs', 1),
    seconds: integer('seconds', 1),
    rate: integer('rate', 10),
    domains: integer('domains', 1000),
  };
}

// ------------------------------------------------------------------ set-up

const works = {
  dnsperf: () =>
    /DNS Performance Testing Tool/.test(spawnSync('dnsperf', ['-h'], { encoding: 'utf8' }).stdout ?? ''),
  dnsmasq: () => spawnSync('dnsmasq', ['--version'], { encoding: 'utf8' }).status === 0,
  unbound: () =>
    spawnSync('unbound', ['-V'], { encoding: 'utf8' }).status === 0 &&
    spawnSync('unbound-control', ['-h'], { encoding: 'utf8' }).error === undefined,
};

/**
 * dnsperf, dnsmasq and unbound from Debian, installed when missing and this process may
 * (dnsmasq-base: the program alone, without the service the `dnsmasq` package starts). Returns
 * the tools that work; a missing one is explained on stderr.
 */
function ensureTools() {
  const missing = Object.keys(PACKAGES).filter((tool) => !works[tool]());
  if (missing.length > 0) {
    const how = `apt-get install -y ${missing.map((t) => PACKAGES[t]).join(' ')}`;
    if (process.getuid?.() !== 0) {
      console.error(`bench: ${missing.join(', ')} not installed. As root: ${how}`);
    } else {
      progress(`installing from Debian (${how})`, true);
      const failed = aptInstall(missing.map((t) => PACKAGES[t]));
      if (failed) console.error(`bench: installing ${missing.join(', ')} failed:\n${failed}`);
    }
  }
  const tools = Object.fromEntries(Object.keys(PACKAGES).map((tool) => [tool, works[tool]()]));
  for (const peer of ['dnsmasq', 'unbound']) {
    if (!tools[peer]) console.error(`bench: ${peer} is not available, so that peer is skipped.`);
  }
  if (!tools.unbound)
    console.error('bench: the upstream is bench/lib/dns-upstream.mjs (Node) instead of unbound.');
  return tools;
}

function versions(tools) {
  const first = (command, args, pattern) => {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    return pattern.exec(`${run.stdout ?? ''}${run.stderr ?? ''}`)?.[1];
  };
  return {
    node: process.version,
    dnsperf: first('dnsperf', ['-h'], /Version (\S+)/),
    dnsmasq: tools.dnsmasq ? first('dnsmasq', ['--version'], /Dnsmasq version (\S+)/) : undefined,
    unbound: tools.unbound ? first('unbound', ['-V'], /Version (\S+)/) : undefined,
  };
}

// -------------------------------------------------------------------- data

/** mulberry32: small, fast, and the same on every platform. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const TLDS = ['com', 'net', 'org', 'io', 'info', 'xyz', 'ru', 'cn', 'de', 'fr', 'co', 'app', 'top', 'site'];

/**
 * `count` distinct domain names shaped like a blocklist's: two to four labels (most have two),
 * letters with some digits and hyphens, under common TLDs; none under the test zone.
 */
function generateDomains(count, random) {
  const int = (min, max) => min + Math.floor(random() * (max - min + 1));
  const label = () => {
    const length = int(3, 14);
    let text = '';
    for (let i = 0; i < length; i++) {
      const r = random();
      const inner = i > 0 && i < length - 1 && text.at(-1) !== '-';
      text += r < 0.08 ? DIGITS[int(0, 9)] : r < 0.11 && inner ? '-' : LETTERS[int(0, 25)];
    }
    return text;
  };
  const names = new Set();
  while (names.size < count) {
    const r = random();
    const depth = r < 0.6 ? 2 : r < 0.9 ? 3 : 4;
    const labels = Array.from({ length: depth - 1 }, label);
    names.add(`${labels.join('.')}.${TLDS[int(0, TLDS.length - 1)]}`);
  }
  return [...names];
}

/** The list in each server's format, the query files, and the names the checks ask. */
function writeData(dir, domains, random) {
  const files = {
    hosts: join(dir, 'blocklist.hosts'),
    dnsmasq: join(dir, 'blocklist.dnsmasq.conf'),
    unbound: join(dir, 'blocklist.unbound.conf'),
    emptyHosts: join(dir, 'empty.hosts'),
    emptyDnsmasq: join(dir, 'empty.dnsmasq.conf'),
    emptyUnbound: join(dir, 'empty.unbound.conf'),
    blocked: join(dir, 'blocked.queries'),
    hit: join(dir, 'hit.queries'),
  };
  const lines = (format) => domains.map(format).join('');
  writeFileSync(
    files.hosts,
    `# ${domains.length} generated domains (seed ${SEED})\n${lines((d) => `0.0.0.0 ${d}\n`)}`,
  );
  writeFileSync(
    files.dnsmasq,
    lines((d) => `address=/${d}/\n`),
  );
  writeFileSync(
    files.unbound,
    lines((d) => `local-zone: "${d}." always_nxdomain\n`),
  );
  for (const empty of [files.emptyHosts, files.emptyDnsmasq, files.emptyUnbound]) writeFileSync(empty, '');
  const draw = () => domains[Math.floor(random() * domains.length)];
  writeFileSync(files.blocked, Array.from({ length: BLOCKED_DRAWS }, () => `${draw()} A\n`).join(''));
  writeFileSync(files.hit, Array.from({ length: HIT_NAMES }, (_, i) => `hit-${i}.${ZONE} A\n`).join(''));
  const checks = Array.from({ length: 5 }, draw);
  return { files, checks, bytes: statSync(files.hosts).size };
}

let missCounter = 0;

/** A file of `count` allowed names never asked before in this benchmark: every one is a cache miss. */
function missFile(dir, count) {
  const file = join(dir, `miss-${missCounter}.queries`);
  const parts = new Array(count);
  for (let i = 0; i < count; i++) parts[i] = `miss-${(missCounter++).toString(36)}.${ZONE} A\n`;
  writeFileSync(file, parts.join(''));
  return file;
}

// --------------------------------------------------------------- processes

/** Waits for a child to end and returns its exit code and standard output. */
async function finished(child) {
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk.toString('utf8')));
  const [code, signal] = await once(child, 'close');
  return { code, signal, stdout };
}

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc/<pid>/status (proc(5)). */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

const commonUnbound = (dir, port) => [
  'server:',
  '  interface: 127.0.0.1',
  `  port: ${port}`,
  '  do-ip6: no',
  '  num-threads: 1',
  '  username: ""',
  '  chroot: ""',
  `  directory: "${dir}"`,
  '  pidfile: ""',
  '  use-syslog: no',
  '  logfile: ""',
  '  verbosity: 0',
  // No DNSSEC validation: the test zone is unsigned, no trust anchor can be fetched here, and
  // neither Rempart nor dnsmasq (as configured) validates.
  '  module-config: "iterator"',
];

/**
 * The upstream every server forwards to, on `cpu`: a second unbound serving rempart-bench.test
 * authoritatively (every name under it answered by one A record, RFC 6761 names otherwise
 * refused), or the Node one when unbound is missing. `queries()` counts what it was asked.
 */
async function startUpstream(dir, cpu, useUnbound) {
  if (!useUnbound) {
    const child = spawnNode([NODE_UPSTREAM, ZONE], { cpu, cwd: ROOT, env: process.env, ipc: true });
    const [message] = await once(child, 'message');
    if (typeof message?.ready !== 'number')
      throw new Error(`the upstream did not start:\n${child.outputTail()}`);
    return {
      kind: 'node',
      port: message.ready,
      child,
      queries: async () => {
        child.send('stats');
        const [reply] = await once(child, 'message');
        return reply.stats.queries;
      },
    };
  }
  const port = await freePort();
  const conf = join(dir, 'upstream.unbound.conf');
  const socket = join(dir, 'upstream.sock');
  writeFileSync(
    conf,
    [
      ...commonUnbound(dir, port),
      '  local-zone: "." refuse',
      `  local-zone: "${ZONE}." redirect`,
      `  local-data: "${ZONE}. 3600 IN A ${UPSTREAM_ADDRESS}"`,
      `  local-data: "${ZONE}. 3600 IN SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 60"`,
      'remote-control:',
      '  control-enable: yes',
      `  control-interface: "${socket}"`,
      '',
    ].join('\n'),
  );
  const child = spawnPinned('unbound', ['-d', '-c', conf], { cpu, env: process.env });
  const deadline = performance.now() + 30_000;
  while ((await ask({ port, name: `ready.${ZONE}`, timeoutMs: 200 }))?.rcode !== 'NOERROR') {
    if (child.exitCode !== null || performance.now() > deadline)
      throw new Error(`the upstream (unbound) did not start:\n${child.outputTail()}`);
    await sleep(50);
  }
  return {
    kind: 'unbound',
    port,
    child,
    queries: async () => {
      const out = execFileSync('unbound-control', ['-c', conf, 'stats_noreset'], { encoding: 'utf8' });
      return Number(/^total\.num\.queries=(\d+)/m.exec(out)?.[1]);
    },
  };
}

/** Everything inherited that could point Rempart elsewhere is left out (DATABASE_URL, REMPART_*). */
function rempartEnv(dataDir, logDays) {
  const inherited = Object.entries(process.env).filter(
    ([name]) => !name.startsWith('REMPART_') && name !== 'DATABASE_URL',
  );
  return {
    ...Object.fromEntries(inherited),
    REMPART_DATA_DIR: dataDir,
    REMPART_LOG_LEVEL: 'warn',
    REMPART_DNS_RATE_LIMIT: '0',
    REMPART_DNS_LOG_DAYS: String(logDays),
  };
}

const isBlocked = (answer) =>
  answer !== undefined &&
  (answer.rcode === 'NXDOMAIN' ||
    (answer.rcode === 'NOERROR' &&
      answer.addresses.length > 0 &&
      answer.addresses.every((a) => /^[0:.]+$/.test(a))));
const isForwarded = (answer) => answer?.rcode === 'NOERROR' && answer.addresses.includes(UPSTREAM_ADDRESS);

/**
 * Starts `server` on the server's CPU with the full list or an empty one, and waits until it
 * answers: a listed name blocked (full list) or an allowed name forwarded (empty list). The time
 * from spawn to that answer is its load time. A Rempart data folder is a copy of a template made
 * once, so that every start reopens a database as a restart would (PGlite's first creation of a
 * folder is a one-off cost of several seconds).
 */
async function startServer(server, { full, ctx }) {
  const port = await freePort();
  const cpu = ctx.placement.serverCpu;
  const dir = ctx.dir;
  let child;
  let dataDir;
  let platform;
  let logFile;
  const began = performance.now();
  switch (server.kind) {
    case 'rempart': {
      dataDir = scratchDir('rempart-bench-dns-data-');
      if (ctx.rempartTemplate) cpSync(ctx.rempartTemplate, dataDir, { recursive: true });
      const list = full ? ctx.files.hosts : ctx.files.emptyHosts;
      const args = [
        'dns',
        'serve',
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        `127.0.0.1:${ctx.upstream.port}`,
      ];
      if (server.replica) {
        platform = await startPlatform(dataDir, server, ctx);
        args.push('--replica-of', platform.url, '--name', 'bench');
      }
      child = spawnNode([CLI_BIN, ...args, '--list', list], {
        cpu,
        cwd: ROOT,
        env: {
          ...rempartEnv(dataDir, server.logDays),
          ...(server.replica ? { REMPART_DNS_REPLICA_TOKEN: REPLICA_SECRET } : {}),
        },
      });
      break;
    }
    case 'dnsmasq': {
      const conf = full ? ctx.files.dnsmasq : ctx.files.emptyDnsmasq;
      const args = [
        '--keep-in-foreground',
        `--conf-file=${conf}`,
        `--user=${userInfo().username}`,
        '--pid-file=',
        '--no-resolv',
        '--no-hosts',
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        `--port=${port}`,
        `--server=127.0.0.1#${ctx.upstream.port}`,
        `--cache-size=${DNSMASQ_CACHE_SIZE}`,
        ...(server.logQueries
          ? ['--log-queries', `--log-facility=${(logFile = join(dir, `dnsmasq-${port}.log`))}`]
          : ['--log-facility=-']),
      ];
      child = spawnPinned('dnsmasq', args, { cpu, env: process.env });
      break;
    }
    case 'unbound': {
      const conf = join(dir, `unbound-${port}.conf`);
      writeFileSync(
        conf,
        [
          ...commonUnbound(dir, port),
          '  do-not-query-localhost: no',
          // unbound answers RFC 6761's `test.` itself (NXDOMAIN) unless told not to.
          '  local-zone: "test." nodefault',
          `  include: "${full ? ctx.files.unbound : ctx.files.emptyUnbound}"`,
          'forward-zone:',
          '  name: "."',
          `  forward-addr: 127.0.0.1@${ctx.upstream.port}`,
          '',
        ].join('\n'),
      );
      child = spawnPinned('unbound', ['-d', '-c', conf], { cpu, env: process.env });
      break;
    }
    default:
      throw new Error(`unknown server kind ${server.kind}`);
  }
  const probe = full ? ctx.checks[0] : `ready.${ZONE}`;
  const ready = full ? isBlocked : isForwarded;
  const deadline = began + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${server.label} exited before it was ready:\n${child.outputTail()}`);
    if (ready(await ask({ port, name: probe, timeoutMs: 250 }))) break;
    if (performance.now() > deadline)
      throw new Error(
        `${server.label} was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${child.outputTail()}`,
      );
    await sleep(50);
  }
  const readySeconds = (performance.now() - began) / 1000;
  return { server, child, platform, port, dataDir, logFile, readySeconds, loaded: memory(child.pid) };
}

/**
 * The platform a replica takes its policy from (`rempart serve`, HTTP on loopback, the replica
 * secret set), on the client's CPU: a replica's own CPU and memory are what is measured. Its
 * start-up is not counted in the replica's load time.
 */
async function startPlatform(dataDir, server, ctx) {
  const httpPort = await freePort();
  const child = spawnNode([CLI_BIN, 'serve'], {
    cpu: ctx.placement.clientCpu,
    cwd: ROOT,
    env: {
      ...rempartEnv(dataDir, server.logDays),
      REMPART_PORT: String(httpPort),
      REMPART_TLS: 'off',
      REMPART_DNS_REPLICA_TOKEN: REPLICA_SECRET,
    },
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the platform exited before it was ready:\n${child.outputTail()}`);
    const ok = await new Promise((resolve) =>
      httpGet(`${url}/healthz`, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false)),
    );
    if (ok) break;
    if (performance.now() > deadline) throw new Error(`the platform was not ready:\n${child.outputTail()}`);
    await sleep(100);
  }
  return { child, url };
}

async function stopServer(started) {
  const began = performance.now();
  await stopChild(started.child, started.server.kind === 'rempart' ? REMPART_STOP_GRACE_MS : STOP_GRACE_MS);
  // A replica ships its last queries as it stops; then its platform writes them.
  if (started.platform) await stopChild(started.platform.child, REMPART_STOP_GRACE_MS);
  // dnsmasq's query log: some hundreds of MB a run, read by no one.
  if (started.logFile) rmSync(started.logFile, { force: true });
  return (performance.now() - began) / 1000;
}

/** Rempart's data folder opened by PGlite alone: its weight, and the query log rows it holds. */
async function probeDatabase(dataDir, cpu) {
  const child = spawnNode([PGLITE_PROBE, dataDir], { cpu, cwd: ROOT, env: process.env });
  const { code, stdout } = await finished(child);
  if (code !== 0) throw new Error(`the PGlite probe failed:\n${child.outputTail()}`);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

/**
 * Before measuring: a few listed names and a name below one must be blocked, and an allowed
 * name answered by the upstream. Throws naming the first failure.
 */
async function verifyBlocking(started, ctx) {
  const { port, server } = started;
  const asked = [
    ...ctx.checks.map((name) => ({ name, want: 'blocked' })),
    { name: `www.${ctx.checks[1]}`, want: 'blocked' },
    { name: `check-${missCounter++}.${ZONE}`, want: 'forwarded' },
  ];
  const answers = [];
  for (const { name, want } of asked) {
    const answer = await ask({ port, name, timeoutMs: 2000 });
    const ok = want === 'blocked' ? isBlocked(answer) : isForwarded(answer);
    const shown = answer ? `${answer.rcode} ${answer.addresses.join(' ')}`.trim() : 'no answer';
    if (!ok) throw new Error(`${server.label} answered ${name} with ${shown}; it should be ${want}`);
    answers.push(`${name}: ${shown}`);
  }
  return answers;
}

// ------------------------------------------------------------------ dnsperf

/** dnsperf's closing statistics (it prints no percentiles: latency runs use -v per query). */
function parseDnsperf(out) {
  const number = (pattern) => Number(pattern.exec(out)?.[1]);
  const rcodes = {};
  for (const [, name, count] of (/Response codes:\s+(.*)/.exec(out)?.[1] ?? '').matchAll(/(\w+) (\d+) \(/g))
    rcodes[name] = Number(count);
  const latency = /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(out);
  return {
    sent: number(/Queries sent:\s+(\d+)/),
    completed: number(/Queries completed:\s+(\d+)/),
    lost: number(/Queries lost:\s+(\d+)/),
    rcodes,
    runSeconds: number(/Run time \(s\):\s+([\d.]+)/),
    qps: number(/Queries per second:\s+([\d.]+)/),
    meanMs: latency ? Number(latency[1]) * 1000 : Number.NaN,
    maxMs: latency ? Number(latency[3]) * 1000 : Number.NaN,
  };
}

/**
 * One dnsperf run against `port` on `cpu`. With `verbose`, each answer's latency is read from
 * its `> RCODE name type seconds` line (a `T` code is a timeout).
 */
async function dnsperf(port, args, { cpu, verbose = false }) {
  const argv = ['-s', '127.0.0.1', '-p', String(port), '-c', String(CLIENTS), '-q', String(IN_FLIGHT)];
  const child = spawnPinned('dnsperf', [...argv, ...args, ...(verbose ? ['-v'] : [])], {
    cpu,
    env: process.env,
  });
  const latencies = [];
  let timeouts = 0;
  let rest = '';
  let partial = '';
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('> ')) rest += `${line}\n`;
      else if (line.startsWith('> T ')) timeouts++;
      else {
        const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(seconds)) latencies.push(seconds * 1000);
      }
    }
  });
  const [code] = await once(child, 'close');
  rest += partial;
  const result = parseDnsperf(rest);
  if (code !== 0 || !Number.isFinite(result.qps))
    throw new Error(`dnsperf failed (exit ${code}):\n${child.outputTail()}`);
  return { ...result, latencies, timeouts };
}

let clockTicks;

/**
 * Seconds each CPU has spent since boot running tasks (user, nice, system), in interrupts (irq,
 * softirq) and stolen by the hypervisor, from /proc/stat's `cpuN` lines (proc(5)). Interrupt time
 * is kept apart: on loopback it is mostly the packets of the server and of dnsperf themselves.
 */
function cpuStat() {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = new Map();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, , , irq, softirq, steal] = match[2].trim().split(/\s+/).map(Number);
    stat.set(Number(match[1]), {
      tasks: (user + nice + system) / clockTicks,
      interrupts: (irq + softirq) / clockTicks,
      steal: steal / clockTicks,
    });
  }
  return stat;
}

/**
 * CPU while something runs: the server's, the upstream's, dnsperf's (an exited child of this
 * process), and each placement CPU's time, from which what other programs took is derived
 * (tasks other than the server on its CPU, and time stolen by the hypervisor).
 */
function watchCpu(serverPid, ctx) {
  const { serverCpu, clientCpu } = ctx.placement;
  const upstreamPid = ctx.upstream.child.pid;
  const before = {
    at: performance.now(),
    cores: cpuStat(),
    server: cpuSeconds(serverPid),
    upstream: cpuSeconds(upstreamPid),
    children: exitedChildrenCpuSeconds(),
  };
  return () => {
    const wall = (performance.now() - before.at) / 1000;
    const cores = cpuStat();
    const spent = (id, field) =>
      id === undefined ? Number.NaN : (cores.get(id)?.[field] ?? 0) - (before.cores.get(id)?.[field] ?? 0);
    const busy = (id) => spent(id, 'tasks') + spent(id, 'interrupts') + spent(id, 'steal');
    const server = cpuSeconds(serverPid) - before.server;
    return {
      wall,
      serverPercent: (server / wall) * 100,
      upstreamPercent: ((cpuSeconds(upstreamPid) - before.upstream) / wall) * 100,
      dnsperfPercent: ((exitedChildrenCpuSeconds() - before.children) / wall) * 100,
      clientCpuBusyPercent: (busy(clientCpu) / wall) * 100,
      othersPercent:
        ((Math.max(0, spent(serverCpu, 'tasks') - server) + spent(serverCpu, 'steal')) / wall) * 100,
      interruptsPercent: (spent(serverCpu, 'interrupts') / wall) * 100,
      serverCpuSeconds: server,
    };
  };
}

/** Waits until the server uses under IDLE_CORES of a core over half a second; returns the wait. */
async function settle(pid) {
  const began = performance.now();
  let last = cpuSeconds(pid);
  while (performance.now() - began < SETTLE_TIMEOUT_MS) {
    await sleep(500);
    const now = cpuSeconds(pid);
    if (now - last < IDLE_CORES * 0.5) break;
    last = now;
  }
  return (performance.now() - began) / 1000;
}

/** The server's memory once it has given back what it could, after `loaded` (see IDLE_MEMORY_SECONDS). */
async function idleMemory(pid, loaded) {
  const began = performance.now();
  let now = memory(pid);
  while (
    now.rssMb > loaded.rssMb * IDLE_RSS_MARGIN &&
    performance.now() - began < IDLE_MEMORY_SECONDS * 1000
  ) {
    await sleep(2000);
    now = memory(pid);
  }
  return { ...now, seconds: (performance.now() - began) / 1000 };
}

/** The query file of a workload; cache-miss files are fresh names each time, removed after use. */
function queriesFor(workload, ctx, count) {
  if (workload.id !== 'miss') return { file: ctx.files[workload.id], once: false, done: () => {} };
  const file = missFile(ctx.dir, count);
  return { file, once: true, done: () => rmSync(file, { force: true }) };
}

/** p50 and p99 at a fixed moderate rate, from each answer's latency. */
async function latencyRun(started, workload, ctx) {
  const { rate } = ctx.options;
  const { file, once: single, done } = queriesFor(workload, ctx, Math.ceil(rate * LATENCY_SECONDS * 1.2));
  const args = [
    '-d',
    file,
    '-l',
    String(LATENCY_SECONDS),
    '-Q',
    String(rate),
    ...(single ? ['-n', '1'] : []),
  ];
  const r = await dnsperf(started.port, args, { cpu: ctx.placement.clientCpu, verbose: true }).finally(done);
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return {
    rate,
    qps: r.qps,
    answers: sorted.length,
    timeouts: r.timeouts,
    lost: r.lost,
    rcodes: r.rcodes,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    latencies: r.latencies,
  };
}

/** Queries per second at saturation: CLIENTS clients, IN_FLIGHT queries in flight, `seconds` long. */
async function throughputRun(started, workload, ctx) {
  const { seconds } = ctx.options;
  const { file, once: single, done } = queriesFor(workload, ctx, seconds * MISS_NAMES_PER_SECOND);
  const args = ['-d', file, '-l', String(seconds), ...(single ? ['-n', '1'] : [])];
  const forwardedBefore = await ctx.upstream.queries();
  const cpu = watchCpu(started.child.pid, ctx);
  const r = await dnsperf(started.port, args, { cpu: ctx.placement.clientCpu }).finally(done);
  const load = cpu();
  const forwarded = (await ctx.upstream.queries()) - forwardedBefore;
  return {
    qps: r.qps,
    sent: r.sent,
    completed: r.completed,
    lost: r.lost,
    rcodes: r.rcodes,
    meanMs: r.meanMs,
    maxMs: r.maxMs,
    runSeconds: r.runSeconds,
    forwardedPerQuery: forwarded / Math.max(1, r.completed),
    usPerQuery: (load.serverCpuSeconds / Math.max(1, r.completed)) * 1e6,
    ...load,
  };
}

/**
 * Asks every name of the cache-hit set until one pass is answered NOERROR throughout (a name
 * answered SERVFAIL is not cached, so a server that failed some is asked again). Returns each
 * pass's answer codes; throws after WARM_PASSES passes.
 */
async function warmCache(started, ctx, label) {
  const passes = [];
  for (let pass = 1; pass <= WARM_PASSES; pass++) {
    progress(`${label}: cache hit, warming the cache (pass ${pass})`);
    const r = await dnsperf(started.port, ['-d', ctx.files.hit, '-n', '1', '-Q', '5000'], {
      cpu: ctx.placement.clientCpu,
    });
    passes.push({ completed: r.completed, rcodes: r.rcodes });
    await settle(started.child.pid);
    if ((r.rcodes.NOERROR ?? 0) === HIT_NAMES) return passes;
  }
  throw new Error(
    `${started.server.label} did not answer the cache-hit set in ${WARM_PASSES} passes: ${JSON.stringify(passes.map((p) => p.rcodes))}`,
  );
}

/** One server in one run: started with the full list, checked, then every workload. */
async function session(server, ctx, label) {
  progress(`${label}: loading the ${ctx.options.domains.toLocaleString('en-US')}-domain list`);
  const started = await startServer(server, { full: true, ctx });
  const pid = started.child.pid;
  let answered = 0;
  const workloads = {};
  let loaded;
  let warm;
  let afterRun;
  let idle;
  let platformAfterRun;
  let stopSeconds;
  try {
    const checks = await verifyBlocking(started, ctx);
    answered += checks.length + 1; // and the probe that found it ready
    await settle(pid);
    loaded = memory(pid);
    for (const workload of WORKLOADS) {
      if (workload.id === 'hit') {
        warm = await warmCache(started, ctx, label);
        answered += warm.reduce((sum, pass) => sum + pass.completed, 0);
      }
      progress(`${label}: ${workload.title}, latency at ${ctx.options.rate} q/s`);
      const latency = await latencyRun(started, workload, ctx);
      answered += latency.answers;
      await settle(pid);
      progress(`${label}: ${workload.title}, saturation for ${ctx.options.seconds} s`);
      const throughput = await throughputRun(started, workload, ctx);
      answered += throughput.completed;
      progress(
        `${label}: ${workload.title}, ${Math.round(throughput.qps)} q/s; waiting for the server to go idle`,
      );
      const settleSeconds = await settle(pid);
      workloads[workload.id] = { latency, throughput, settleSeconds };
    }
    afterRun = memory(pid);
    if (started.platform) platformAfterRun = memory(started.platform.child.pid);
    progress(`${label}: waiting up to ${IDLE_MEMORY_SECONDS} s for the server to give memory back`);
    idle = await idleMemory(pid, loaded);
    started.checks = checks;
  } finally {
    progress(`${label}: stopping`);
    stopSeconds = await stopServer(started);
  }
  let queryLog;
  if (server.kind === 'rempart' && server.logDays > 0) {
    progress(`${label}: counting the query log's rows`);
    const { queryLogRows, queryLogQueries } = await probeDatabase(started.dataDir, ctx.placement.clientCpu);
    // The data folder's template held a few rows already (its own start's readiness probes).
    const rows = queryLogRows - (ctx.templateLogRows ?? 0);
    const queries = queryLogQueries - (ctx.templateLogQueries ?? 0);
    queryLog = { rows, queries, answered, share: Math.min(1, queries / answered) };
  }
  if (started.dataDir) removeScratchDir(started.dataDir);
  return {
    readySeconds: started.readySeconds,
    atReady: started.loaded,
    afterLoad: loaded,
    afterRun,
    idle,
    platformAfterRun,
    stopSeconds,
    checks: started.checks,
    warm,
    queryLog,
    workloads,
  };
}

/** The floors: Rempart's UDP transport, and node:dgram's. */
const FLOORS = [
  { id: 'batched', label: "Rempart's UDP floor (batched, no DNS work)" },
  { id: 'dgram', label: "node:dgram's floor (no DNS work)" },
];

/**
 * A floor (bench/lib/udp-floor.mjs: every query turned into NXDOMAIN in place, no DNS work) on the
 * server's CPU, at saturation with the blocked-names workload: the most queries per second any
 * resolver on that UDP transport can answer on that core.
 */
async function floorRun(ctx, floor, label) {
  progress(`${label}: ${floor.label}, blocked names, saturation for ${ctx.options.seconds} s`);
  const port = await freePort();
  const child = spawnNode([UDP_FLOOR, String(port), floor.id], {
    cpu: ctx.placement.serverCpu,
    cwd: ROOT,
    env: process.env,
  });
  try {
    const deadline = performance.now() + READY_TIMEOUT_MS;
    while (!isBlocked(await ask({ port, name: ctx.checks[0], timeoutMs: 250 }))) {
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`${floor.label} did not answer:\n${child.outputTail()}`);
      await sleep(50);
    }
    const r = await throughputRun({ child, port }, WORKLOADS[0], ctx);
    return {
      qps: r.qps,
      usPerQuery: r.usPerQuery,
      serverPercent: r.serverPercent,
      othersPercent: r.othersPercent,
    };
  } finally {
    await stopChild(child, STOP_GRACE_MS);
  }
}

/** A start with an empty list: what the server costs before any list. */
async function baseline(server, ctx, label) {
  progress(`${label}: starting with an empty list`);
  const started = await startServer(server, { full: false, ctx });
  await settle(started.child.pid);
  const idle = memory(started.child.pid);
  await stopServer(started);
  if (started.dataDir) removeScratchDir(started.dataDir);
  return { readySeconds: started.readySeconds, atReady: started.loaded, afterLoad: idle };
}

// ------------------------------------------------------------------ report

const round = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const mb = (value) => (Number.isFinite(value) ? `${Math.round(value)}` : '–');

function summarise(servers, runs) {
  const out = {};
  for (const server of servers) {
    const sessions = runs.map((run) => run[server.id]).filter(Boolean);
    const workloads = {};
    for (const workload of WORKLOADS) {
      const t = sessions.map((s) => s.workloads[workload.id].throughput);
      const l = sessions.map((s) => s.workloads[workload.id].latency);
      const expected = (r) => (r.rcodes[workload.expect] ?? 0) / Math.max(1, r.completed ?? r.answers);
      workloads[workload.id] = {
        qps: median(t.map((r) => r.qps)),
        qpsRuns: t.map((r) => r.qps),
        meanMsAtSaturation: median(t.map((r) => r.meanMs)),
        p50Ms: median(l.map((r) => r.p50Ms)),
        p99Ms: median(l.map((r) => r.p99Ms)),
        latencyQps: median(l.map((r) => r.qps)),
        latencyLost: Math.max(...l.map((r) => r.lost + r.timeouts)),
        serverPercent: median(t.map((r) => r.serverPercent)),
        usPerQuery: median(t.map((r) => r.usPerQuery)),
        upstreamPercent: median(t.map((r) => r.upstreamPercent)),
        dnsperfPercent: median(t.map((r) => r.dnsperfPercent)),
        clientCpuBusyPercent: median(t.map((r) => r.clientCpuBusyPercent)),
        othersPercent: Math.max(...t.map((r) => r.othersPercent)),
        forwardedPerQuery: median(t.map((r) => r.forwardedPerQuery)),
        lostShare: Math.max(...t.map((r) => r.lost / Math.max(1, r.sent))),
        expectedShare: Math.min(...t.map(expected), ...l.map(expected)),
        clientBound: t.some(
          (r) =>
            r.clientCpuBusyPercent > CLIENT_BUSY_PERCENT &&
            100 - r.serverPercent - r.interruptsPercent - r.othersPercent > SERVER_IDLE_PERCENT,
        ),
        settleSeconds: median(sessions.map((s) => s.workloads[workload.id].settleSeconds)),
      };
    }
    out[server.id] = {
      workloads,
      readySeconds: median(sessions.map((s) => s.readySeconds)),
      // Each run's start with the list less its start without one, then the median.
      listLoadSeconds: median(sessions.map((s) => s.readySeconds - s.baseline.readySeconds)),
      emptyReadySeconds: median(sessions.map((s) => s.baseline.readySeconds)),
      emptyRssMb: median(sessions.map((s) => s.baseline.afterLoad.rssMb)),
      afterLoadRssMb: median(sessions.map((s) => s.afterLoad.rssMb)),
      afterRunRssMb: median(sessions.map((s) => s.afterRun.rssMb)),
      idleRssMb: median(sessions.map((s) => s.idle.rssMb)),
      idleSeconds: median(sessions.map((s) => s.idle.seconds)),
      peakRssMb: median(sessions.map((s) => s.afterRun.peakMb)),
      platformRssMb: sessions[0]?.platformAfterRun
        ? median(sessions.map((s) => s.platformAfterRun.rssMb))
        : undefined,
      listRssMb: median(sessions.map((s) => s.afterLoad.rssMb - s.baseline.afterLoad.rssMb)),
      stopSeconds: median(sessions.map((s) => s.stopSeconds)),
      queryLogShare: sessions[0]?.queryLog ? median(sessions.map((s) => s.queryLog.share)) : undefined,
      queryLogRowsPerQuery: sessions[0]?.queryLog
        ? median(sessions.map((s) => s.queryLog.rows / Math.max(1, s.queryLog.queries)))
        : undefined,
    };
  }
  return out;
}

function printReport({ options, placement, servers, summary, runs, ctx, v, build, probe, resultsFile }) {
  const name = (server) =>
    server.kind === 'dnsmasq'
      ? `${`dnsmasq ${v.dnsmasq ?? ''}`.trim()}${server.logQueries ? ', query log on' : ''}`
      : server.kind === 'unbound'
        ? `unbound ${v.unbound ?? ''}`.trim()
        : server.label;
  const where =
    placement.serverCpu === undefined
      ? 'not pinned (taskset or a second CPU is missing): servers, dnsperf and the upstream share the CPUs'
      : `server on CPU ${placement.serverCpu}; dnsperf, the upstream and this process on CPU ${placement.clientCpu}`;
  const upstream =
    ctx.upstream.kind === 'unbound'
      ? `unbound ${v.unbound} serving ${ZONE} authoritatively (every name: A ${UPSTREAM_ADDRESS}, TTL 3600)`
      : `bench/lib/dns-upstream.mjs (Node) serving ${ZONE} (every name: A ${UPSTREAM_ADDRESS}, TTL 3600)`;
  const lines = [
    '',
    `DNS filtering resolvers, each blocking the same ${options.domains.toLocaleString('en-US')} generated domains (seed ${SEED}), on loopback`,
    `  Rempart: rempart dns serve --list (hosts file, ${(ctx.listBytes / 1e6).toFixed(0)} MB), NXDOMAIN for each name and the names below it;`,
    '    query log on (REMPART_DNS_LOG_DAYS=7, the default) and off (=0); rate limit off (REMPART_DNS_RATE_LIMIT=0)',
    `  dnsmasq ${v.dnsmasq ?? '(skipped)'}: address=/name/ lines, the same answers; --cache-size=${DNSMASQ_CACHE_SIZE} (the default 150 is smaller than the cache-hit set)`,
    '    and again with its query log on (--log-queries, each line written to a file as it happens)',
    `  unbound ${v.unbound ?? '(skipped)'}: local-zone "name." always_nxdomain, the same answers; one thread; defaults otherwise, no DNSSEC validation`,
    `  upstream: ${upstream}`,
    `  dnsperf ${v.dnsperf}: saturation ${options.seconds} s, ${CLIENTS} clients, ${IN_FLIGHT} queries in flight; latency (p50, p99) from each answer`,
    `    at a fixed ${options.rate.toLocaleString('en-US')} queries/s for ${LATENCY_SECONDS} s (dnsperf -Q -v: dnsperf ${v.dnsperf} prints no percentiles)`,
    `  workloads (A queries): blocked = ${BLOCKED_DRAWS.toLocaleString('en-US')} draws from the list; cache hit = ${HIT_NAMES.toLocaleString('en-US')} allowed names, warmed first;`,
    '    cache miss = allowed names never asked before (fresh ones in every run: each is forwarded)',
    `  ${where}; ${options.runs} run(s), each server started afresh in each, order rotated; medians`,
    `  Node ${v.node}, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
  ];
  if (build.stale.length > 0)
    lines.push(
      `  ! the build is older than ${build.stale.join(' and ')}: this measures the last build (npx tsc -b packages/cli)`,
    );

  const flag = (w) =>
    `${w.othersPercent > OTHER_LOAD_PERCENT ? '!' : ''}${w.clientBound ? 'c' : ''}${w.expectedShare < 0.99 ? '?' : ''}`;
  const header = [
    '',
    'queries/s',
    'runs',
    'p50 ms',
    'p99 ms',
    'mean ms (sat.)',
    'server CPU %',
    'µs CPU/query',
    'fwd/query',
    'lost %',
    'flags',
  ];
  const rows = [header];
  for (const workload of WORKLOADS) {
    rows.push([workload.title, '', '', '', '', '', '', '', '', '', '']);
    for (const server of servers) {
      const w = summary[server.id].workloads[workload.id];
      rows.push([
        `  ${name(server)}`,
        int(w.qps),
        w.qpsRuns.map((q) => `${Math.round(q / 1000)}k`).join(' '),
        round(2)(w.p50Ms),
        `${round(2)(w.p99Ms)}${w.latencyQps < ctx.options.rate * 0.99 || w.latencyLost > 0 ? '*' : ''}`,
        round(1)(w.meanMsAtSaturation),
        round(0)(w.serverPercent),
        round(1)(w.usPerQuery),
        round(2)(w.forwardedPerQuery),
        round(2)(w.lostShare * 100),
        flag(w),
      ]);
    }
  }
  lines.push('', ...table(rows).map((l) => `  ${l}`));
  lines.push(
    '  runs: queries/s of each run. fwd/query: queries the upstream received per answered query (blocked and hit 0, miss 1).',
    "  µs CPU/query: the server's CPU (every thread) over the saturation run, per answered query.",
    `  flags: ! other programs took over ${OTHER_LOAD_PERCENT}% of the server's CPU; c the client's CPU (dnsperf, the upstream and whatever`,
    `  else ran there) was over ${CLIENT_BUSY_PERCENT}% busy while the server's was over ${SERVER_IDLE_PERCENT}% idle: the client side was the limit;`,
    `  ? under 99% of the answers had the expected code. * p99: the server did not keep up with ${options.rate} q/s (or lost`,
    '  queries) in the latency run. server CPU % leaves out the interrupts of its packets (in the JSON: interruptsPercent).',
  );

  // Answers other than the expected one, and queries never answered, wherever they happened.
  const odd = [];
  for (const server of servers) {
    runs.forEach((run, i) => {
      const s = run[server.id];
      if (!s) return;
      const found = [];
      const other = (rcodes, expect) =>
        Object.entries(rcodes)
          .filter(([code, n]) => code !== expect && n > 0)
          .map(([code, n]) => `${code} ${n}`);
      for (const pass of s.warm?.slice(0, -1) ?? [])
        found.push(`cache-hit warm-up ${other(pass.rcodes, 'NOERROR').join(', ')} (asked again)`);
      for (const workload of WORKLOADS) {
        for (const kind of ['latency', 'throughput']) {
          const r = s.workloads[workload.id][kind];
          const unanswered = (r.lost ?? 0) + (r.timeouts ?? 0);
          const codes = [
            ...other(r.rcodes, workload.expect),
            ...(unanswered > 0 ? [`lost ${unanswered}`] : []),
          ];
          if (codes.length > 0)
            found.push(
              `${workload.title} ${kind === 'latency' ? 'latency run' : 'saturation'}: ${codes.join(', ')}`,
            );
        }
      }
      if (found.length > 0) odd.push(`  ${name(server)}, run ${i + 1}: ${found.join('; ')}`);
    });
  }
  if (odd.length > 0) lines.push('', 'Unexpected answers and lost queries:', ...odd);

  // Queries per second as bars, one group per workload; the floors with the blocked names.
  const most = Math.max(
    ...FLOORS.map((f) => summary.floors[f.id].qps),
    ...WORKLOADS.flatMap((w) => servers.map((s) => summary[s.id].workloads[w.id].qps)),
  );
  const labelWidth = Math.max(...FLOORS.map((f) => f.label.length), ...servers.map((s) => name(s).length));
  const barLine = (label, q) => `    ${label.padEnd(labelWidth)} │${bar(q / most, 44).padEnd(44)} ${int(q)}`;
  lines.push('', 'Queries per second at saturation (medians):');
  for (const workload of WORKLOADS) {
    lines.push(`  ${workload.title}`);
    for (const server of servers)
      lines.push(barLine(name(server), summary[server.id].workloads[workload.id].qps));
    if (workload.id === 'blocked')
      for (const f of FLOORS) lines.push(barLine(f.label, summary.floors[f.id].qps));
  }
  lines.push(
    "  Floors: bench/lib/udp-floor.mjs on the server's CPU turns each query into NXDOMAIN in place, through Rempart's UDP",
    '  transport (recvmmsg/sendmmsg batches) or node:dgram (a system call and a JavaScript call per datagram): no resolver',
    '  on that transport answers more on that core.',
    ...FLOORS.map((f) => {
      const x = summary.floors[f.id];
      return `    ${f.label}: runs ${x.qpsRuns.map((q) => `${Math.round(q / 1000)}k`).join(' ')}; ${round(1)(x.usPerQuery)} µs CPU/query`;
    }),
  );

  const memoryRows = [
    [
      '',
      'ready s',
      'list load s',
      'RSS no list MB',
      'RSS loaded MB',
      'list MB',
      'RSS after run MB',
      'RSS idle MB',
      'peak MB',
      'stop s',
    ],
    ...servers.map((server) => {
      const s = summary[server.id];
      return [
        name(server),
        round(1)(s.readySeconds),
        round(1)(s.listLoadSeconds),
        mb(s.emptyRssMb),
        mb(s.afterLoadRssMb),
        mb(s.listRssMb),
        mb(s.afterRunRssMb),
        mb(s.idleRssMb),
        mb(s.peakRssMb),
        round(1)(s.stopSeconds),
      ];
    }),
  ];
  lines.push(
    '',
    'Memory and load (medians; each run starts each server with an empty list, then with the list):',
  );
  lines.push(...table(memoryRows).map((l) => `  ${l}`));
  lines.push(
    '  ready s: from spawn to the first blocked answer (process start-up included); list load s: that, less the',
    '  same with an empty list. RSS: VmRSS; list MB: RSS loaded less RSS with no list; idle: once back within',
    `  ${Math.round((IDLE_RSS_MARGIN - 1) * 100)}% of RSS loaded, or ${IDLE_MEMORY_SECONDS} s after the workloads (median wait ${servers.map((x) => `${name(x)} ${round(0)(summary[x.id].idleSeconds)} s`).join('; ')});`,
    '  peak: VmHWM over the whole run.',
  );
  const r = summary.rempart;
  if (r && probe) {
    const nodeMb = probe.bareMb;
    const pgliteMb = probe.openMb - probe.bareMb;
    const restMb = r.emptyRssMb - probe.openMb;
    lines.push(
      `  Rempart's ${mb(r.afterLoadRssMb)} MB loaded: Node itself ~${mb(nodeMb)} MB, PGlite (the embedded database, opened alone by`,
      `  bench/lib/pglite-probe.mjs) +${mb(pgliteMb)} MB, the rest of Rempart before any list +${mb(restMb)} MB, the list +${mb(r.listRssMb)} MB.`,
    );
    if (r.queryLogShare !== undefined) {
      const dropped = r.queryLogShare < 0.999;
      lines.push(
        `  Query log: ${(r.queryLogShare * 100).toFixed(1)}% of the queries answered were written to it (median over the runs), as`,
        `  ${round(2)(r.queryLogRowsPerQuery)} rows per query (identical queries between two writes are one row with their count)${dropped ? '; the' : '.'}`,
        ...(dropped
          ? [
              '  rest were dropped when its buffer of 50,000 distinct queries was full (counted as not logged).',
            ]
          : []),
        `  After each saturation run the server went idle in ${WORKLOADS.map((w) => `${round(1)(r.workloads[w.id].settleSeconds)} s (${w.title})`).join(', ')};`,
        `  stopping it (writing what was left) took ${round(1)(r.stopSeconds)} s.`,
      );
    }
  }
  const replica = summary['rempart-replica'];
  if (replica) {
    lines.push(
      `  Rempart replica: the resolver process alone (no database, none of the platform's code); its platform`,
      `  (\`rempart serve\`, PGlite, on the client's CPU, without the list) held ${mb(replica.platformRssMb)} MB after the workloads.` +
        (replica.queryLogShare !== undefined
          ? ` ${(replica.queryLogShare * 100).toFixed(1)}% of the replica's answers reached the platform's query log.`
          : ''),
    );
  }

  const miss = servers.map((s) => summary[s.id].workloads.miss);
  const upstreamPercent = Math.max(...miss.map((w) => w.upstreamPercent));
  const busiest = miss[miss.map((w) => w.upstreamPercent).indexOf(upstreamPercent)];
  lines.push(
    '',
    `Upstream: at most ${round(0)(upstreamPercent)}% of a core (cache miss, ${int(busiest.qps * busiest.forwardedPerQuery)} forwarded queries/s);`,
    `  dnsperf took ${round(0)(Math.max(...miss.map((w) => w.dnsperfPercent)))}% at most; the client CPU was ${round(0)(Math.max(...miss.map((w) => w.clientCpuBusyPercent)))}% busy at most in cache-miss runs.`,
  );

  // Ratios and goals.
  const rempart = servers.find((s) => s.kind === 'rempart');
  const peers = servers.filter((s) => s.kind !== 'rempart');
  if (rempart && peers.length > 0) {
    const ratioRows = [
      [
        'Rempart / peer',
        ...WORKLOADS.map((w) => `${w.title} q/s`),
        'CPU/query (blocked)',
        'p99 (blocked)',
        'RSS loaded',
      ],
    ];
    for (const mine of servers.filter((s) => s.kind === 'rempart')) {
      for (const peer of peers) {
        const a = summary[mine.id];
        const b = summary[peer.id];
        ratioRows.push([
          `${mine.label} / ${name(peer)}`,
          ...WORKLOADS.map((w) => round(2)(a.workloads[w.id].qps / b.workloads[w.id].qps)),
          round(2)(a.workloads.blocked.usPerQuery / b.workloads.blocked.usPerQuery),
          round(2)(a.workloads.blocked.p99Ms / b.workloads.blocked.p99Ms),
          round(2)(a.afterLoadRssMb / b.afterLoadRssMb),
        ]);
      }
    }
    lines.push('', ...table(ratioRows).map((l) => `  ${l}`));
    lines.push(
      '  CPU/query: the server CPU each answer cost, which holds whichever side limited the queries/s.',
    );
  }

  // How the answers of the latency runs spread in time, on a logarithmic scale.
  const edges = [0.1, 0.2, 0.5, 1, 2, 5, 10, 50];
  const spreadRows = [
    ['', `<${edges[0]}`, ...edges.slice(1).map((e, i) => `${edges[i]}–${e}`), `≥${edges.at(-1)}`, 'answers'],
  ];
  for (const workload of WORKLOADS) {
    spreadRows.push([workload.title, ...edges.map(() => ''), '', '']);
    for (const server of servers) {
      const latencies = runs.flatMap((run) => run[server.id]?.workloads[workload.id].latency.latencies ?? []);
      const counts = new Array(edges.length + 1).fill(0);
      for (const ms of latencies) {
        const at = edges.findIndex((e) => ms < e);
        counts[at === -1 ? edges.length : at]++;
      }
      const share = (n) =>
        n === 0 ? '·' : `${((n / latencies.length) * 100).toFixed(n / latencies.length < 0.1 ? 1 : 0)}`;
      spreadRows.push([`  ${name(server)}`, ...counts.map(share), latencies.length.toLocaleString('en-US')]);
    }
  }
  lines.push(
    '',
    `Latency at ${options.rate.toLocaleString('en-US')} queries/s, all runs: % of the answers by time taken (ms)`,
    ...table(spreadRows).map((l) => `  ${l}`),
  );

  const goals = [];
  if (rempart) {
    const dnsmasq = summary.dnsmasq ?? summary['dnsmasq-log'];
    const judge = (server, peerId) => {
      const peer = summary[peerId];
      return WORKLOADS.map((w) => {
        const ratio = summary[server.id].workloads[w.id].qps / peer.workloads[w.id].qps;
        return `${w.title} ${ratio >= 1 ? 'met' : 'NOT met'} (${round(2)(ratio)}×)`;
      }).join('; ');
    };
    if (dnsmasq) {
      // Like for like first: a Rempart that logs every query against a dnsmasq that does too.
      for (const server of servers.filter((x) => x.kind === 'rempart')) {
        const logs = server.logDays > 0;
        const like =
          logs && summary['dnsmasq-log'] ? 'dnsmasq-log' : summary.dnsmasq ? 'dnsmasq' : 'dnsmasq-log';
        const other = like === 'dnsmasq' ? 'dnsmasq-log' : 'dnsmasq';
        goals.push(
          `Goal, at least dnsmasq's queries/s (${server.label}): ${judge(server, like)} (against ${SERVERS.find((s) => s.id === like).label}).`,
        );
        if (summary[other])
          goals.push(`  against ${SERVERS.find((s) => s.id === other).label}: ${judge(server, other)}.`);
      }
      const { batched, dgram } = summary.floors;
      goals.push(
        `  Floors / dnsmasq, blocked names: batched ${round(2)(batched.qps / dnsmasq.workloads.blocked.qps)}×, ` +
          `node:dgram ${round(2)(dgram.qps / dnsmasq.workloads.blocked.qps)}×.`,
      );
      const bound = WORKLOADS.filter((w) => dnsmasq.workloads[w.id].clientBound).map((w) => w.title);
      if (bound.length > 0)
        goals.push(
          `  dnsmasq was held back by the client's CPU (flag c) on ${bound.join(', ')}: it can answer more than shown, so`,
          '  there the ratio flatters Rempart; the CPU per query compares the two whatever limited them.',
        );
    } else goals.push("Goal, at least dnsmasq's queries/s: not judged (dnsmasq was skipped).");
    for (const mine of servers.filter((s) => s.kind === 'rempart')) {
      const s = summary[mine.id];
      const worst = Math.max(s.afterLoadRssMb, s.idleRssMb);
      goals.push(
        `Goal, under ${GOAL_RSS_MB} MB for ${options.domains.toLocaleString('en-US')} blocked domains (${mine.label}): ${worst < GOAL_RSS_MB ? 'met' : 'NOT met'} ` +
          `(${mb(s.afterLoadRssMb)} MB loaded, ${mb(s.idleRssMb)} MB idle after the workloads; under load up to ${mb(s.peakRssMb)} MB; ` +
          `the list itself ${mb(s.listRssMb)} MB).`,
      );
    }
  }
  const noisy = servers.some((s) =>
    WORKLOADS.some((w) => summary[s.id].workloads[w.id].othersPercent > OTHER_LOAD_PERCENT),
  );
  if (noisy)
    goals.push(
      `! Other programs took over ${OTHER_LOAD_PERCENT}% of the server's CPU in some runs (flag !): the machine was not quiet,`,
      '  so those figures are lower than the servers can do (run again when it is).',
    );
  lines.push(
    '',
    ...goals,
    `Results: ${relative(process.cwd(), resultsFile)} (the benchmark took ${Math.round(performance.now() / 1000)} s)`,
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
  const build = checkBuild(
    ['packages/cli/dist/main.js', 'packages/server/dist/index.js'],
    ['core', 'server', 'cli'],
  );
  if (build.exitCode !== undefined) return build.exitCode;
  releaseOnExit();
  const startedAt = new Date();
  const tools = ensureTools();
  if (!tools.dnsperf) {
    console.error('bench: dnsperf is needed to measure anything.');
    return 1;
  }
  const v = versions(tools);
  const servers = SERVERS.filter(
    (s) => options.servers.includes(s.id) && (s.kind === 'rempart' || tools[s.kind]),
  );

  const cpuList = allowedCpus();
  const placement = {
    cpuIds: cpuList,
    serverCpu: cpuList.length >= 2 ? cpuList[0] : undefined,
    clientCpu: cpuList.length >= 2 ? cpuList[1] : undefined,
  };
  if (placement.clientCpu !== undefined && !pinSelf(placement.clientCpu)) placement.clientCpu = undefined;
  if (placement.clientCpu === undefined) placement.serverCpu = undefined;

  const dir = scratchDir('rempart-bench-dns-');
  progress(`generating ${options.domains.toLocaleString('en-US')} domains (seed ${SEED})`);
  const random = seeded(SEED);
  const domains = generateDomains(options.domains, random);
  const { files, checks, bytes } = writeData(dir, domains, random);
  const ctx = { options, placement, dir, files, checks, listBytes: bytes, rempartTemplate: undefined };
  ctx.upstream = await startUpstream(dir, placement.clientCpu, tools.unbound);

  // Rempart's data folder, created once (the first creation of a PGlite folder is slow), then copied.
  progress('creating a Rempart data folder');
  const first = await startServer(SERVERS[0], { full: false, ctx });
  await stopServer(first);
  ctx.rempartTemplate = first.dataDir;
  const probeDir = scratchDir('rempart-bench-dns-probe-');
  cpSync(ctx.rempartTemplate, probeDir, { recursive: true });
  progress('weighing PGlite alone');
  const probe = await probeDatabase(probeDir, placement.clientCpu);
  ctx.templateLogRows = probe.queryLogRows ?? 0;
  ctx.templateLogQueries = probe.queryLogQueries ?? 0;
  removeScratchDir(probeDir);

  const runs = [];
  const floors = Object.fromEntries(FLOORS.map((f) => [f.id, []]));
  for (let i = 0; i < options.runs; i++) {
    const order = servers.map((_, k) => servers[(k + i) % servers.length]);
    const run = {};
    for (const floor of FLOORS)
      floors[floor.id].push(await floorRun(ctx, floor, `run ${i + 1}/${options.runs}`));
    for (const server of order) {
      const label = `run ${i + 1}/${options.runs} ${server.label}`;
      const empty = await baseline(server, ctx, label);
      run[server.id] = { ...(await session(server, ctx, label)), baseline: empty };
      const w = run[server.id].workloads;
      progress(
        `${label}: ${WORKLOADS.map((x) => `${x.title} ${Math.round(w[x.id].throughput.qps).toLocaleString('en-US')} q/s`).join(', ')}; ` +
          `${Math.round(run[server.id].afterLoad.rssMb)} MB loaded`,
        true,
      );
    }
    runs.push(run);
  }
  await stopChild(ctx.upstream.child);

  const summary = summarise(servers, runs);
  summary.floors = Object.fromEntries(
    FLOORS.map(({ id }) => [
      id,
      {
        qps: median(floors[id].map((f) => f.qps)),
        qpsRuns: floors[id].map((f) => f.qps),
        usPerQuery: median(floors[id].map((f) => f.usPerQuery)),
        othersPercent: Math.max(...floors[id].map((f) => f.othersPercent)),
      },
    ]),
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsFile = `${RESULTS_DIR}dns-${stamp}.json`;
  const record = {
    benchmark: 'dns',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    build: { stale: build.stale },
    machine: { cpu: cpus()[0]?.model.trim(), allowedCpus: cpuList, ...v },
    options: {
      ...options,
      seed: SEED,
      clients: CLIENTS,
      inFlight: IN_FLIGHT,
      latencySeconds: LATENCY_SECONDS,
      blockedDraws: BLOCKED_DRAWS,
      hitNames: HIT_NAMES,
      goalRssMb: GOAL_RSS_MB,
    },
    placement,
    upstream: ctx.upstream.kind,
    servers: servers.map(({ id, label, kind, logDays }) => ({ id, label, kind, logDays })),
    pglite: probe,
    median: summary,
    runs: runs.map((run) =>
      Object.fromEntries(
        Object.entries(run).map(([id, s]) => [
          id,
          {
            ...s,
            workloads: Object.fromEntries(
              Object.entries(s.workloads).map(([w, { latency, ...rest }]) => {
                const { latencies: _latencies, ...kept } = latency;
                return [w, { ...rest, latency: kept }];
              }),
            ),
          },
        ]),
      ),
    ),
  };
  // Three decimals are more than these measurements can tell apart.
  const rounded = (_key, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
  writeFileSync(resultsFile, `${JSON.stringify(record, rounded, 2)}\n`);
  printReport({ options, placement, servers, summary, runs, ctx, v, build, probe, resultsFile });
  return 0;
}

process.exitCode = await runBenchmark(main, USAGE);
