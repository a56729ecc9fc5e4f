// Helpers shared by scripts/start.mjs, scripts/test.mjs and scripts/pg-cluster.mjs.
//
// These scripts run on a fresh machine before any npm dependency is installed, so they use Node's
// built-in modules only.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  utimesSync,
} from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// ---------------------------------------------------------------------------------------------------
// Output

const useColor = process.stdout.isTTY === true && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = paint('1');
export const dim = paint('2');
export const red = paint('31');
export const green = paint('32');
export const yellow = paint('33');
export const cyan = paint('36');

/** Prints one progress line. Writes to stdout are synchronous for terminals, files and pipes on Linux,
 * so these lines stay in order with the output of the children, which share the same stdout. */
export function say(message) {
  process.stdout.write(`${cyan('›')} ${message}\n`);
}

/** `12 ms`, `4.2 s`, `3 min 07 s`. */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

// ---------------------------------------------------------------------------------------------------
// Child processes and signals

/** A command that could not run or exited with something else than 0. */
export class CommandError extends Error {
  constructor(display, result) {
    const how =
      result.signal !== null ? `was stopped by ${result.signal}` : `exited with code ${result.code}`;
    super(`${display} ${how}`);
    this.name = 'CommandError';
    this.code = result.code;
    this.signal = result.signal;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

const running = new Set();
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let interruption = null;
let lastSignal = { name: '', at: 0 };

/** The first SIGINT, SIGTERM or SIGHUP received since handleSignals(), or null. */
export function interruptedBy() {
  return interruption;
}

/** Throws when a signal asked us to stop: long waits that have no child to forward it to call this. */
export function throwIfInterrupted() {
  if (interruption !== null) throw new Error(`interrupted by ${interruption}`);
}

/** True when this process is in the foreground process group of its terminal. A SIGINT from the
 * terminal (Ctrl+C) then reached every process of the group, our children included, so forwarding
 * it would deliver it twice. Linux's /proc/self/stat gives pgrp (field 5) and tpgid (field 8). */
function inTerminalForeground() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

function onSignal(name) {
  const now = Date.now();
  // One Ctrl+C under `npm start` arrives twice within milliseconds: from the terminal, then from npm,
  // which forwards it. Treat a burst as one signal.
  if (now - lastSignal.at < 500) return;
  lastSignal = { name, at: now };
  if (interruption === null) {
    interruption = name;
    process.stderr.write(`\n${yellow(`Stopping (${name}); send it again to force.`)}\n`);
    if (name === 'SIGINT' && inTerminalForeground()) return;
    for (const child of running) child.kill(name);
    return;
  }
  // A second signal: the user means it.
  if (running.size === 0) process.exit(128 + (osConstants.signals[name] ?? 1));
  for (const child of running) child.kill('SIGKILL');
}

/** From now on SIGINT, SIGTERM and SIGHUP are forwarded to the running children (once), and recorded
 * so that the caller can clean up and stop; a second signal kills the children. */
export function handleSignals() {
  for (const name of FORWARDED) process.on(name, () => onSignal(name));
}

/** Ends this process the way the signal would have, so that a parent shell sees it (bash stops a
 * loop on a child killed by SIGINT, not on one that exited with code 130). */
export function exitBySignal(name) {
  for (const signal of FORWARDED) process.removeAllListeners(signal);
  process.kill(process.pid, name);
  // Reached only if the signal did not end us at once.
  setTimeout(() => process.exit(128 + (osConstants.signals[name] ?? 1)), 1000);
}

/** Directory of the binaries installed by npm. */
export const binDir = path.join(root, 'node_modules', '.bin');

/**
 * Runs a command and resolves with { code, signal, stdout, stderr } whatever its exit code.
 * Output is inherited (streamed as it comes) unless `capture` is set. `input` is written to stdin.
 */
export function spawnCommand(command, args = [], options = {}) {
  const { cwd = root, env = {}, capture = false, input } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, ...env },
      stdio: [
        input === undefined ? 'inherit' : 'pipe',
        capture ? 'pipe' : 'inherit',
        capture ? 'pipe' : 'inherit',
      ],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    if (input !== undefined) child.stdin.end(input);
    child.on('error', (error) => {
      running.delete(child);
      reject(
        error.code === 'ENOENT'
          ? new Error(`cannot run ${command}: command not found`, { cause: error })
          : error,
      );
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a command; rejects with a CommandError unless it exits with code 0. */
export async function run(command, args = [], options = {}) {
  const display = options.display ?? [path.basename(command), ...args].join(' ');
  if (!options.quiet) process.stdout.write(`${dim(`$ ${display}`)}\n`);
  const result = await spawnCommand(command, args, options);
  if (result.code !== 0) throw new CommandError(display, result);
  return result;
}

/** Path of a binary that npm installed from the lock file; fails clearly when it is not installed. */
export function npmBin(name) {
  const file = path.join(binDir, name);
  if (!existsSync(file)) {
    throw new Error(`${name} is not installed (node_modules/.bin/${name} is missing): run npm ci`);
  }
  return file;
}

// ---------------------------------------------------------------------------------------------------
// Dependencies

const lockFile = path.join(root, 'package-lock.json');
const hiddenLockFile = path.join(root, 'node_modules', '.package-lock.json');

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -Infinity;
  }
}

function workspaceManifests() {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const workspaces = Array.isArray(manifest.workspaces) ? manifest.workspaces : [];
  return ['package.json', ...workspaces.map((dir) => path.join(dir, 'package.json'))].map((file) =>
    path.join(root, file),
  );
}

/** Why dependencies must be installed, or null when node_modules matches the lock file. npm writes
 * node_modules/.package-lock.json at the end of every install, so it dates the last install. */
export function dependenciesReason() {
  if (!existsSync(path.join(root, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(hiddenLockFile)) return 'node_modules/.package-lock.json is missing';
  const installed = mtime(hiddenLockFile);
  if (existsSync(lockFile)) {
    return mtime(lockFile) > installed ? 'package-lock.json is newer than node_modules' : null;
  }
  return workspaceManifests().some((file) => mtime(file) > installed)
    ? 'a package.json is newer than node_modules'
    : null;
}

/** `npm ci` (or `npm install` without a lock file) when dependenciesReason() says so. */
export async function ensureDependencies() {
  const reason = dependenciesReason();
  if (reason === null) {
    say('Dependencies are up to date.');
    return;
  }
  say(`Installing dependencies (${reason})…`);
  await run('npm', existsSync(lockFile) ? ['ci'] : ['install']);
}

// ---------------------------------------------------------------------------------------------------
// Build

// A successful build leaves a stamp dated from its start, so that a source saved during the build is
// still seen as newer next time, and holding a digest of the list of input files, so that a deleted
// or renamed source is seen too. The stamps live in node_modules/.cache, so `npm ci` drops them.
const stampDir = path.join(root, 'node_modules', '.cache', 'rempart-build');
const IGNORED = new Set(['node_modules', 'dist', 'coverage', 'data']);

/** The input files under the given paths: their newest modification time and a digest of their list. */
function scanInputs(paths) {
  let newest = -Infinity;
  const files = [];
  const visit = (file) => {
    let stats;
    try {
      stats = statSync(file);
    } catch {
      return;
    }
    if (stats.isDirectory()) {
      for (const entry of readdirSync(file)) {
        if (IGNORED.has(entry) || entry.startsWith('.') || entry.endsWith('.tsbuildinfo')) continue;
        visit(path.join(file, entry));
      }
      return;
    }
    newest = Math.max(newest, stats.mtimeMs);
    files.push(path.relative(root, file));
  };
  for (const file of paths) visit(path.join(root, file));
  const digest = createHash('sha256').update(files.sort().join('\n')).digest('hex');
  return { newest, digest };
}

const TS_PACKAGES = ['core', 'server', 'cli'];

export const BUILD_TARGETS = [
  {
    name: 'tsc',
    label: 'core, server and cli',
    inputs: [
      'tsconfig.base.json',
      'node_modules/.package-lock.json',
      ...TS_PACKAGES.flatMap((p) => [
        `packages/${p}/src`,
        `packages/${p}/tsconfig.json`,
        `packages/${p}/package.json`,
      ]),
    ],
    outputs: TS_PACKAGES.map((p) => `packages/${p}/dist`),
    // tsc -b trusts its .tsbuildinfo files and rebuilds nothing when only dist/ was deleted.
    command: (outputsMissing) => [
      npmBin('tsc'),
      ['-b', ...(outputsMissing ? ['--force'] : []), 'packages/cli'],
    ],
  },
  {
    name: 'web',
    label: 'web',
    // The web build bundles @rempart/core from its sources.
    inputs: [
      'tsconfig.base.json',
      'node_modules/.package-lock.json',
      'packages/web',
      'packages/core/src',
      'packages/core/package.json',
    ],
    outputs: ['packages/web/dist/index.html'],
    command: () => ['npm', ['run', 'build', '-w', '@rempart/web']],
  },
];

function staleReason(target, inputs) {
  const missing = target.outputs.find((file) => !existsSync(path.join(root, file)));
  if (missing !== undefined) return { reason: `${missing} is missing`, outputsMissing: true };
  const stamp = path.join(stampDir, target.name);
  if (!existsSync(stamp)) return { reason: 'no successful build recorded', outputsMissing: false };
  if (inputs.newest > mtime(stamp)) return { reason: 'sources changed', outputsMissing: false };
  if (readFileSync(stamp, 'utf8').trim() !== inputs.digest) {
    return { reason: 'sources were added or removed', outputsMissing: false };
  }
  return null;
}

/** Builds each target whose sources are newer than its last successful build or whose outputs are
 * missing: `tsc -b packages/cli` (core, server, cli through project references), then the web app. */
export async function build() {
  let built = 0;
  for (const target of BUILD_TARGETS) {
    const startedAt = Date.now();
    const inputs = scanInputs(target.inputs);
    const stale = staleReason(target, inputs);
    if (stale === null) continue;
    say(`Building ${target.label} (${stale.reason})…`);
    const stamp = path.join(stampDir, target.name);
    rmSync(stamp, { force: true });
    const [command, args] = target.command(stale.outputsMissing);
    await run(command, args);
    mkdirSync(stampDir, { recursive: true });
    writeFileSync(stamp, `${inputs.digest}\n`);
    utimesSync(stamp, startedAt / 1000, startedAt / 1000);
    built += 1;
  }
  if (built === 0) say('Build is up to date.');
}
