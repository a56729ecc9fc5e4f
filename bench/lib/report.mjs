/** What every benchmark tells its reader: progress while it runs, and which code it measured. */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { releaseAll } from './processes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Progress is rewritten in place on a terminal; elsewhere only its final lines are written. */
export const live = process.stderr.isTTY;

/** One progress line on stderr, rewritten in place on a terminal. */
export function progress(text, final = false) {
  if (live) process.stderr.write(`\r\x1b[K${text}${final ? '\n' : ''}`);
  else if (final) process.stderr.write(`${text}\n`);
}

/** The commit measured and whether the tree had changes on top of it (undefined outside git). */
export function gitRevision() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });
    return { commit: commit.trim(), dirty: status.trim().length > 0 };
  } catch {
    return undefined;
  }
}

/** Bad command-line usage: the benchmark prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/**
 * Runs a benchmark's `main` and returns the exit status: its own, 2 on a `UsageError` (with
 * `usage` printed), 1 on any other failure. Whatever happens, every child process and scratch
 * folder it started is released first.
 */
export async function runBenchmark(main, usage) {
  try {
    return await main();
  } catch (error) {
    progress('', false);
    if (error instanceof UsageError) {
      console.error(`bench: ${error.message}\n\n${usage}`);
      return 2;
    }
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await releaseAll();
  }
}
