#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark in bench/ (each top-level *.mjs but this one), one
 * after the other so that none disturbs another's figures. Arguments after `--` go to each.
 * Exits with the first non-zero status, after running them all.
 *
 *   npm run bench
 *   npm run bench -- --seconds 5 --runs 1
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const here = fileURLToPath(new URL('.', import.meta.url));
const benchmarks = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && name !== 'run.mjs')
  .sort();

let current;
// Ctrl+C reaches the running benchmark directly (same process group): it stops its own
// children and exits, and this runner waits for that instead of dying first. SIGTERM is
// sent to this process alone, so it is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => current?.kill('SIGTERM'));

let status = 0;
for (const name of benchmarks) {
  console.log(`\n▶ ${name}`);
  current = spawn(process.execPath, [`${here}${name}`, ...process.argv.slice(2)], { stdio: 'inherit' });
  const [code, signal] = await once(current, 'exit');
  const result = code ?? (signal === 'SIGINT' ? 130 : 1);
  if (result !== 0 && status === 0) status = result;
  if (result === 130 || signal === 'SIGTERM') break;
}
process.exitCode = status;
