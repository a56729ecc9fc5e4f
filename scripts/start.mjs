// `npm start`: install dependencies and build when needed, then run `rempart serve`.
// Arguments after `--` go to `rempart serve`: npm start -- --help
import path from 'node:path';
import {
  build,
  ensureDependencies,
  exitBySignal,
  handleSignals,
  interruptedBy,
  red,
  root,
  say,
  spawnCommand,
  throwIfInterrupted,
} from './lib.mjs';

// From here on SIGINT and SIGTERM reach the running child (npm ci, the build, then the server).
handleSignals();

async function main() {
  await ensureDependencies();
  throwIfInterrupted();
  await build();
  throwIfInterrupted();
  say('Starting rempart serve…');
  return spawnCommand(process.execPath, [
    path.join(root, 'packages', 'cli', 'bin', 'rempart.js'),
    'serve',
    ...process.argv.slice(2),
  ]);
}

try {
  const server = await main();
  // Exit the way the server did.
  if (server.signal !== null) exitBySignal(server.signal);
  else process.exit(server.code ?? 1);
} catch (error) {
  const signal = interruptedBy();
  if (signal !== null) exitBySignal(signal);
  else {
    process.stderr.write(`${red('✗')} npm start: ${error.message}\n`);
    process.exit(1);
  }
}
