/** What every benchmark tells its reader: progress while it runs, and which code it measured. */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
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
 * Every option of every benchmark: `npm run bench` (bench/run.mjs) passes the same arguments to
 * all of them, so each accepts the others' options and ignores them.
 */
const EVERY_OPTION = Object.fromEntries([
  ...[
    'runs',
    'seconds',
    'rate',
    'domains',
    'servers',
    'languages',
    'sizes',
    'concurrency',
    'agents',
    'messages',
    'visits',
    'backup',
    'lines',
    'logs',
    'members',
  ].map((name) => [name, { type: 'string' }]),
  ['no-janus', { type: 'boolean' }],
]);

/**
 * A benchmark's options from `argv`: its `own` (with their defaults), `--help`, and the other
 * benchmarks' (accepted, not used). Throws a `UsageError` for an unknown option or a positional.
 */
export function benchOptions(argv, own) {
  try {
    return parseArgs({
      args: argv,
      options: { ...EVERY_OPTION, ...own, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(error.message);
  }
}

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
