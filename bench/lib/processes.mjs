/**
 * The processes and scratch directories a benchmark owns: children started pinned to a
 * core, stopped politely then firmly, and everything released however the benchmark ends
 * (normal end, error, Ctrl+C), so that no server is ever left behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const { fetch } = globalThis;
const children = new Set();
const scratchDirs = new Set();

/** A child gets this long to exit after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 5000;

/**
 * The CPUs this process may run on (from `taskset`, which honours cgroup cpusets),
 * or an empty list when taskset is unavailable and nothing can be pinned.
 */
export function allowedCpus() {
  try {
    const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    const list = out.split(':').at(-1)?.trim() ?? '';
    return list.split(',').flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      if (!Number.isInteger(from)) return [];
      return Array.from({ length: (Number.isInteger(to) ? to : from) - from + 1 }, (_, i) => from + i);
    });
  } catch {
    return [];
  }
}

/**
 * Moves every thread of this process (the event loop, libuv's pool, V8's helpers) onto one
 * CPU; threads started later inherit it. Returns false when the move was refused.
 */
export function pinSelf(cpu) {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `node ...args` on `cpu` (or unpinned when `cpu` is undefined) with exactly `env`;
 * `ipc` adds a message channel (`child.send`, `child.on('message')`).
 */
export function spawnNode(args, { cpu, env, cwd, ipc = false }) {
  return spawnPinned(process.execPath, args, { cpu, env, cwd, ipc });
}

/**
 * Starts `command ...args` on `cpu` (or unpinned when `cpu` is undefined). taskset execs
 * the command in place, so the child's pid is the command's own: signals reach it directly
 * and /proc/<pid> describes it. The last few kilobytes of its output are kept for the error
 * message if it fails.
 */
export function spawnPinned(command, args, { cpu, env, cwd, ipc = false }) {
  const argv = cpu === undefined ? [command, ...args] : ['taskset', '-c', String(cpu), command, ...args];
  const stdio = ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])];
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio });
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.outputTail = () => tail.trim();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function hasExited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the child is gone. */
export async function stopChild(child, graceMs = STOP_GRACE_MS) {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh directory under the system temp dir, removed at the end whatever happens. */
export function scratchDir(prefix) {
  return ownDir(mkdtempSync(join(tmpdir(), prefix)));
}

/** Marks a directory this process is building, so that it is removed if the process ends early. */
export function ownDir(dir) {
  scratchDirs.add(dir);
  return dir;
}

export function removeScratchDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  scratchDirs.delete(dir);
}

/** Stops every child still running and removes every scratch directory. */
export async function releaseAll() {
  await Promise.all([...children].map((child) => stopChild(child)));
  for (const dir of [...scratchDirs]) removeScratchDir(dir);
}

/**
 * Ctrl+C or SIGTERM: stop the children, remove the scratch dirs, exit 130/143. A second
 * signal while that runs kills the children at once. The `exit` hook is the last resort
 * for paths that end the process without going through `releaseAll`.
 */
export function releaseOnExit() {
  let stopping = false;
  const onSignal = (signal) => {
    if (stopping) {
      for (const child of children) child.kill('SIGKILL');
      return;
    }
    stopping = true;
    process.stderr.write(`\n${signal}: stopping…\n`);
    void releaseAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const child of children) if (!hasExited(child)) child.kill('SIGKILL');
    for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  });
}

let clockTicks;

/** Clock ticks per second, the unit of /proc's CPU times. */
function clockHz() {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/**
 * CPU seconds (user + system, every thread) that a running process has used so far, from
 * /proc/<pid>/stat (proc(5): utime and stime, fields 14 and 15, in clock ticks).
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockHz();
}

/**
 * CPU seconds (user + system) that the children of a process have used, counting only those
 * that have exited and been waited for (proc(5): cutime and cstime, fields 16 and 17): what
 * short-lived children such as one command per input cost, once they are gone.
 */
export function exitedChildrenCpuSeconds(pid = process.pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / clockHz();
}

/**
 * Time each CPU has spent busy and in all since boot, from /proc/stat (proc(5): the `cpuN`
 * lines; busy is everything but idle and iowait), in clock ticks, by CPU number.
 */
export function cpuTimes() {
  const times = new Map();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const ticks = match[2].trim().split(/\s+/).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    times.set(Number(match[1]), { busy: (total - idle) / clockHz(), total: total / clockHz() });
  }
  return times;
}

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export async function freePort() {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * Resolves once `url` answers 2xx; rejects, with the end of the child's output, if `child`
 * (called `name` in the message) exits first or `timeoutMs` passes.
 */
export async function waitUntilReady(url, child, { name, timeoutMs = 60_000 }) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (hasExited(child)) throw new Error(`${name} exited before it was ready:\n${child.outputTail()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${name} was not ready after ${timeoutMs / 1000} s:\n${child.outputTail()}`);
}
