/**
 * What a benchmark's worker process measures of itself: CPU time, the wall and CPU time of a piece
 * of work, and its own peak resident memory.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

/** This process's CPU time so far (user and system), in ms. */
export function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Wall and CPU milliseconds of `work` (sync or async), and what it returned. */
export async function timed(work) {
  const wall = performance.now();
  const cpu = cpuMs();
  const value = await work();
  return { ms: performance.now() - wall, cpuMs: cpuMs() - cpu, value };
}

/** This process's peak resident memory (VmHWM, proc(5)), in MB. */
export function peakRssMb() {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  return Number.isFinite(kb) ? kb / 1024 : process.resourceUsage().maxRSS / 1024;
}
