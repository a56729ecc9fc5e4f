/**
 * The processes and scratch directories a benchmark owns: children started pinned to a
 * core, stopped politely then firmly, and everything released however the benchmark ends
 * (normal end, error, Ctrl+C), so that no server is ever left behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

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
 * Starts `node ...args` on `cpu` (or unpinned when `cpu` is undefined) with exactly `env`.
 * taskset execs node in place, so the child's pid is node's own and signals reach it
 * directly. The last few kilobytes of its output are kept for the error message if it fails.
 */
export function spawnNode(args, { cpu, env, cwd }) {
  const argv = [process.execPath, ...args];
  const [command, ...rest] = cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv];
  const child = spawn(command, rest, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
