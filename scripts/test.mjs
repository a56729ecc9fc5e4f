// `npm test`: every check of the repository, in order, stopping at the first failure.
// `npm test -- --help` lists the steps; `npm test -- unit integration` runs only those.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  bold,
  build,
  dim,
  ensureDependencies,
  exitBySignal,
  formatDuration,
  green,
  handleSignals,
  interruptedBy,
  isRoot,
  npmBin,
  red,
  root,
  run,
  say,
  yellow,
} from './lib.mjs';
import { findPostgres, startCluster } from './pg-cluster.mjs';

const CHROMIUM = '/usr/bin/chromium';
const TURNSERVER = '/usr/bin/turnserver';
const NFT = '/usr/sbin/nft';
const DOVECOT = '/usr/sbin/dovecot';
const DOVECOT_LUA = '/usr/lib/dovecot/modules/auth/libauthdb_lua.so';
const POSTFIX = '/usr/sbin/postfix';
const LUA = '/usr/bin/lua5.4';
const JANUS = '/usr/bin/janus';
const CC = '/usr/bin/cc';
const FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
];

// ---------------------------------------------------------------------------------------------------
// System packages: real programs the tests drive, from Debian's archive.

const SYSTEM_PACKAGES = {
  chromium: {
    label: 'Chromium',
    apt: 'chromium',
    find: () => (existsSync(CHROMIUM) ? CHROMIUM : null),
  },
  postgresql: {
    label: 'PostgreSQL server',
    apt: 'postgresql',
    find: () => {
      const pg = findPostgres();
      return pg === null ? null : `PostgreSQL ${pg.version} in ${pg.bin}`;
    },
  },
  fonts: {
    // The leak check's tests render invitations and calendar entries in these fonts.
    label: 'DejaVu and Liberation fonts',
    apt: 'fonts-dejavu-core fonts-liberation',
    find: () => (FONTS.every((f) => existsSync(f)) ? FONTS.map((f) => f.split('/').at(-1)).join(', ') : null),
  },
  coturn: {
    label: 'coturn TURN server',
    apt: 'coturn',
    find: () => (existsSync(TURNSERVER) ? TURNSERVER : null),
  },
  nftables: {
    // The server watch blocks addresses in an nftables set; its tests drive the real nft inside a
    // throwaway network namespace.
    label: 'nftables',
    apt: 'nftables',
    find: () => (existsSync(NFT) ? NFT : null),
  },
  dovecot: {
    // The mail gateway's tests run a real Dovecot (IMAP, and SASL for Postfix) whose Lua passdb asks
    // Rempart about each login; they start their own instance on loopback.
    label: 'Dovecot IMAP server with the Lua passdb',
    apt: 'dovecot-imapd dovecot-auth-lua',
    find: () => (existsSync(DOVECOT) && existsSync(DOVECOT_LUA) ? `${DOVECOT}, ${DOVECOT_LUA}` : null),
    services: ['dovecot'],
  },
  postfix: {
    // The same tests run a Postfix submission service of their own (postfix -c <folder>).
    label: 'Postfix',
    apt: 'postfix',
    find: () => (existsSync(POSTFIX) ? POSTFIX : null),
    // Installed without a configuration of the machine's own, so the package starts no mail server.
    debconf: ['postfix postfix/main_mailer_type select No configuration'],
    services: ['postfix'],
  },
  lua: {
    // Dovecot's Lua plugin is built with Lua 5.4: the passdb's JSON code is tested in the same Lua.
    label: 'Lua 5.4 interpreter',
    apt: 'lua5.4',
    find: () => (existsSync(LUA) ? LUA : null),
  },
  janus: {
    // The Janus engine's tests, and the e2e meetings on Janus, start Janus instances of their own on
    // loopback (packages/server/src/test-support/janus.ts); the machine's own is never used.
    label: 'Janus Gateway',
    apt: 'janus',
    find: () => (existsSync(JANUS) ? JANUS : null),
    services: ['janus'],
  },
  cc: {
    // Builds the getifaddrs shim that lets those Janus instances gather ICE candidates on loopback.
    label: 'C compiler',
    apt: 'gcc',
    find: () => (existsSync(CC) ? CC : null),
  },
};

let aptUpdated = false;

/**
 * Debian starts a server package's service when it installs it, unless /usr/sbin/policy-rc.d
 * forbids it (as in most containers). The tests never use the machine's own Dovecot, Postfix or Janus:
 * those just installed are stopped again (they stay enabled, and start at the next boot).
 */
async function stopStartedServices(services) {
  if (services.length === 0 || !existsSync('/usr/sbin/invoke-rc.d')) return;
  for (const service of services) {
    await run('/usr/sbin/invoke-rc.d', [service, 'stop']).catch((error) =>
      say(yellow(`The machine's ${service} may still run (${error.message}); the tests do not use it.`)),
    );
  }
}

async function ensureSystemPackages(wanted) {
  const missing = [];
  for (const key of wanted) {
    const found = SYSTEM_PACKAGES[key].find();
    if (found === null) missing.push(key);
    else say(`${SYSTEM_PACKAGES[key].label}: ${found}`);
  }
  if (missing.length > 0) {
    const labels = missing.map((key) => SYSTEM_PACKAGES[key].label).join(' and ');
    const apt = missing.flatMap((key) => SYSTEM_PACKAGES[key].apt.split(' '));
    if (!isRoot) {
      throw new Error(
        `${labels} missing: install the Debian package${apt.length > 1 ? 's' : ''} ${apt.join(' ')} ` +
          `(sudo apt-get install ${apt.join(' ')}), or run the tests as root to have it done`,
      );
    }
    if (!existsSync('/usr/bin/apt-get')) {
      throw new Error(`${labels} missing and apt-get not found: install ${apt.join(' ')} by hand`);
    }
    say(`Installing ${apt.join(' ')} from Debian's packages…`);
    // Wait for another apt or dpkg run (an unattended upgrade, a second test run) to finish.
    const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
    if (!aptUpdated) {
      await run('apt-get', [...lockWait, 'update']);
      aptUpdated = true;
    }
    const answers = missing.flatMap((key) => SYSTEM_PACKAGES[key].debconf ?? []);
    if (answers.length > 0) {
      await run('debconf-set-selections', [], {
        input: `${answers.join('\n')}\n`,
        display: `debconf-set-selections <<< '${answers.join('; ')}'`,
      });
    }
    await run('apt-get', [...lockWait, 'install', '-y', ...apt], {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
      display: `DEBIAN_FRONTEND=noninteractive apt-get install -y ${apt.join(' ')}`,
    });
    await stopStartedServices(missing.flatMap((key) => SYSTEM_PACKAGES[key].services ?? []));
    const still = missing.filter((key) => SYSTEM_PACKAGES[key].find() === null);
    if (still.length > 0) {
      throw new Error(`apt-get installed ${apt.join(' ')} but ${still.join(' and ')} is still not found`);
    }
  }
  return { note: wanted.map((key) => SYSTEM_PACKAGES[key].label).join(', ') };
}

// ---------------------------------------------------------------------------------------------------
// Vitest, with a JSON report beside the usual output so that the run ends with one count of tests.

const reportDir = mkdtempSync(path.join(tmpdir(), 'rempart-reports-'));
const removeReports = () => rmSync(reportDir, { recursive: true, force: true });
process.on('exit', removeReports);
const tests = { ran: false, passed: 0, failed: 0, skipped: 0 };

function readReport(file) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    // A test file that fails to load has no failed test but a failed status.
    const brokenFiles = (report.testResults ?? []).filter(
      (result) =>
        result.status === 'failed' &&
        !(result.assertionResults ?? []).some((test) => test.status === 'failed'),
    ).length;
    return {
      passed: report.numPassedTests ?? 0,
      failed: (report.numFailedTests ?? 0) + brokenFiles,
      skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
      files: (report.testResults ?? []).length,
    };
  } catch {
    return { passed: 0, failed: 0, skipped: 0, files: 0 };
  }
}

async function vitest(project, env = {}, envDisplay = env, extraArgs = [], argsDisplay = extraArgs) {
  const report = path.join(reportDir, `${project}-${Date.now()}.json`);
  const shown = Object.entries(envDisplay).map(([key, value]) => `${key}=${value} `);
  let failure = null;
  try {
    await run(
      npmBin('vitest'),
      [
        'run',
        '--project',
        project,
        // An empty project shows as "no tests" in the summary rather than failing the whole run.
        '--passWithNoTests',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report}`,
        ...extraArgs,
      ],
      {
        env,
        display: `${shown.join('')}vitest run --project ${project}${argsDisplay.map((a) => ` ${a}`).join('')}`,
      },
    );
  } catch (error) {
    failure = error;
  }
  const counts = readReport(report);
  if (failure !== null && counts.failed === 0 && interruptedBy() === null) counts.failed = 1;
  tests.ran = true;
  tests.passed += counts.passed;
  tests.failed += counts.failed;
  tests.skipped += counts.skipped;
  if (failure !== null) throw failure;
  if (counts.files === 0) return { note: 'no test files', warn: true };
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  return { note: `${counts.passed} passed in ${counts.files} files${skipped}` };
}

/**
 * The integration test files that never import the test platform (the only reader of
 * REMPART_TEST_DATABASE_URL), directly or through another test-support module.
 */
function integrationTestsWithoutDatabase() {
  const support = path.join(root, 'packages/server/src/test-support');
  const supportImports = (text) => [...text.matchAll(/test-support\/([\w-]+)/g)].map((m) => m[1]);
  const reaches = new Map([['platform', true]]);
  const reachesDatabase = (name, seen = new Set()) => {
    if (reaches.has(name)) return reaches.get(name);
    if (seen.has(name)) return false;
    seen.add(name);
    const file = path.join(support, `${name}.ts`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const local = [...text.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((m) => m[1]);
    const result = [...supportImports(text), ...local].some((n) => reachesDatabase(n, seen));
    reaches.set(name, result);
    return result;
  };
  const files = [];
  for (const pkg of readdirSync(path.join(root, 'packages'))) {
    const src = path.join(root, 'packages', pkg, 'src');
    if (!existsSync(src)) continue;
    for (const entry of readdirSync(src, { recursive: true })) {
      if (!String(entry).endsWith('.int.test.ts')) continue;
      const relative = path.join('packages', pkg, 'src', String(entry));
      const text = readFileSync(path.join(root, relative), 'utf8');
      if (!supportImports(text).some((n) => reachesDatabase(n))) files.push(relative);
    }
  }
  return files.sort();
}

async function integrationOnPostgres() {
  const cluster = await startCluster({ log: say });
  try {
    const masked = cluster.url.replace(/:[^:@/]+@/, ':***@');
    // The integration tests that never reach the database (the DNS transport, the media engines,
    // the log readers, the leak check's recall run…) ran in the step before: once is enough.
    const withoutDatabase = integrationTestsWithoutDatabase();
    const outcome = await vitest(
      'integration',
      { REMPART_TEST_DATABASE_URL: cluster.url },
      { REMPART_TEST_DATABASE_URL: masked },
      withoutDatabase.flatMap((file) => ['--exclude', `**/${file}`]),
      [`(without the ${withoutDatabase.length} files that open no database)`],
    );
    return { ...outcome, note: `${outcome.note} (PostgreSQL ${cluster.version})` };
  } finally {
    cluster.stop();
    say('PostgreSQL cluster stopped and deleted.');
  }
}

// ---------------------------------------------------------------------------------------------------
// Steps

const STEPS = [
  {
    name: 'deps',
    summary: 'npm ci when node_modules is missing or older than package-lock.json',
    run: ensureDependencies,
  },
  {
    name: 'system',
    summary:
      "Debian's chromium, postgresql, coturn, nftables, Dovecot, Postfix, Lua, Janus, gcc and fonts (apt-get install when missing, as root)",
    run: (context) => ensureSystemPackages(context.systemPackages),
  },
  {
    name: 'build',
    summary: 'tsc -b packages/cli, then the web build, when sources changed',
    needs: ['deps'],
    run: build,
  },
  {
    name: 'format',
    summary: 'prettier --check .',
    needs: ['deps'],
    run: () => run(npmBin('prettier'), ['--check', '.']),
  },
  {
    name: 'lint',
    summary: 'eslint --max-warnings 0 .',
    // Type-aware rules read the declarations that the build emits.
    needs: ['deps', 'build'],
    run: () => run(npmBin('eslint'), ['--max-warnings', '0', '.']),
  },
  {
    name: 'typecheck',
    summary: 'tsc -b packages/cli; tsc -p packages/web; tsc -p tsconfig.test.json',
    needs: ['deps'],
    run: async () => {
      for (const args of [
        ['-b', 'packages/cli'],
        ['-p', 'packages/web'],
        ['-p', 'tsconfig.test.json'],
      ]) {
        await run(npmBin('tsc'), args);
      }
    },
  },
  {
    name: 'contracts',
    summary: 'node scripts/check-generated.mjs: OpenAPI document and migrations are current',
    needs: ['deps', 'build'],
    run: async () => {
      const script = path.join('scripts', 'check-generated.mjs');
      if (!existsSync(path.join(root, script))) return { skipped: true, note: `${script} not present` };
      await run(process.execPath, [script], { display: `node ${script}` });
    },
  },
  {
    name: 'unit',
    summary: 'vitest run --project unit',
    needs: ['deps'],
    run: () => vitest('unit'),
  },
  {
    name: 'integration',
    summary: 'vitest run --project integration, on PGlite (real coturn, nft, Dovecot, Postfix and Janus)',
    needs: ['deps', 'system'],
    systemPackages: ['coturn', 'fonts', 'nftables', 'dovecot', 'postfix', 'lua', 'janus', 'cc'],
    run: () => vitest('integration'),
  },
  {
    name: 'integration-pg',
    summary: 'the same, on a throwaway PostgreSQL cluster (REMPART_TEST_DATABASE_URL)',
    needs: ['deps', 'system'],
    systemPackages: ['postgresql', 'coturn', 'fonts', 'nftables', 'dovecot', 'postfix', 'lua', 'janus', 'cc'],
    run: integrationOnPostgres,
  },
  {
    name: 'e2e',
    summary: `vitest run --project e2e, in Debian's Chromium (REMPART_CHROMIUM=${CHROMIUM})`,
    needs: ['deps', 'system', 'build'],
    systemPackages: ['chromium', 'fonts', 'janus', 'cc'],
    run: () => vitest('e2e', { REMPART_CHROMIUM: CHROMIUM }),
  },
];

const HELP = `Usage: npm test [-- [options] [step...]]
       node scripts/test.mjs [options] [step...]

Runs the checks below in this order and stops at the first failure.

Steps:
${STEPS.map((step) => `  ${step.name.padEnd(16)}${step.summary}`).join('\n')}

Given step names, runs only those (in the order above) and what they need: deps, the system
packages they use, the build. Those cost nothing when already done; --only leaves them out.

Options:
  --only       run exactly the steps named, not what they need
  --list       print the step names, one a line
  -h, --help   print this help

Examples:
  npm test
  npm test -- unit integration
  npm test -- --only lint typecheck
`;

function usageError(message) {
  process.stderr.write(`npm test: ${message}\nSteps: ${STEPS.map((step) => step.name).join(', ')}\n`);
  process.exit(2);
}

function plan(argv) {
  const names = [];
  let only = false;
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (arg === '--list') {
      process.stdout.write(`${STEPS.map((step) => step.name).join('\n')}\n`);
      process.exit(0);
    } else if (arg === '--only') only = true;
    else if (arg.startsWith('-')) usageError(`unknown option ${arg}`);
    else if (!STEPS.some((step) => step.name === arg)) usageError(`unknown step ${arg}`);
    else names.push(arg);
  }
  const everything = names.length === 0;
  const wanted = new Set(everything ? STEPS.map((step) => step.name) : names);
  const neededBy = new Map();
  const queue = only ? [] : STEPS.filter((step) => wanted.has(step.name));
  while (queue.length > 0) {
    const step = queue.shift();
    for (const need of step.needs ?? []) {
      if (wanted.has(need) || neededBy.has(need)) continue;
      neededBy.set(need, step.name);
      queue.push(STEPS.find((candidate) => candidate.name === need));
    }
  }
  const steps = STEPS.filter((step) => wanted.has(step.name) || neededBy.has(step.name));
  // The system step installs what the chosen steps use, or everything when asked for by name.
  const systemPackages =
    everything || names.includes('system')
      ? Object.keys(SYSTEM_PACKAGES)
      : [...new Set(steps.flatMap((step) => step.systemPackages ?? []))];
  return { steps, neededBy, context: { systemPackages } };
}

// ---------------------------------------------------------------------------------------------------
// Run

const { steps, neededBy, context } = plan(process.argv.slice(2));
handleSignals();
const results = [];
const started = Date.now();
let failed = null;

for (const [index, step] of steps.entries()) {
  if (interruptedBy() !== null) break;
  const why = neededBy.has(step.name) ? `, needed by ${neededBy.get(step.name)}` : '';
  process.stdout.write(`\n${bold(`▶ ${step.name}`)} ${dim(`(${index + 1}/${steps.length}${why})`)}\n`);
  const stepStarted = Date.now();
  try {
    const outcome = (await step.run(context)) ?? {};
    results.push({
      step,
      ms: Date.now() - stepStarted,
      status: outcome.skipped ? 'skipped' : 'passed',
      note: outcome.note ?? '',
      warn: outcome.warn === true,
    });
  } catch (error) {
    const signal = interruptedBy();
    const ms = Date.now() - stepStarted;
    if (signal !== null) {
      results.push({ step, ms, status: 'interrupted', note: `stopped by ${signal}` });
    } else {
      results.push({ step, ms, status: 'failed', note: error.message.split('\n')[0] });
      failed = { step, error };
      process.stdout.write(`\n${red(bold(`✗ Step "${step.name}" failed:`))} ${error.message}\n`);
    }
    break;
  }
}

const MARKS = {
  passed: green('✓'),
  skipped: dim('–'),
  failed: red('✗'),
  interrupted: yellow('!'),
  'not run': dim('·'),
};
process.stdout.write(`\n${bold('Summary')}\n`);
for (const step of steps) {
  const result = results.find((r) => r.step === step) ?? { status: 'not run', ms: null, note: '' };
  const time = result.ms === null ? '' : formatDuration(result.ms);
  const note =
    result.status === 'passed' ? result.note : [result.status, result.note].filter(Boolean).join(': ');
  const shown = result.warn ? yellow(note) : result.status === 'failed' ? red(note) : dim(note);
  process.stdout.write(`  ${MARKS[result.status]} ${step.name.padEnd(16)}${time.padStart(11)}   ${shown}\n`);
}

const total = formatDuration(Date.now() - started);
const signal = interruptedBy();
if (signal !== null) process.stdout.write(`\n${yellow(`Interrupted by ${signal} after ${total}.`)}\n`);
else if (failed !== null)
  process.stdout.write(`\n${red(`✗ Failed at step "${failed.step.name}" after ${total}.`)}\n`);
else process.stdout.write(`\n${green(`✓ All ${steps.length} steps passed in ${total}.`)}\n`);
// The last line counts the tests that ran, in the plain "N passed, N failed" form that CI reads.
if (tests.ran)
  process.stdout.write(`Tests: ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped\n`);

removeReports();
if (signal !== null) exitBySignal(signal);
else process.exit(failed === null ? 0 : 1);
