// A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temporary folder, loopback
// only, no durability (fsync off). Two ways to use it:
//
//   import { startCluster } from './pg-cluster.mjs';
//   const cluster = await startCluster(); // { url, port, dir, version, stop() }
//   try { ... cluster.url ... } finally { cluster.stop(); }
//
//   node scripts/pg-cluster.mjs start   # prints the URL; the cluster keeps running
//   node scripts/pg-cluster.mjs stop    # stops the clusters started that way, and leftovers
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { handleSignals, isRoot, run, spawnCommand, throwIfInterrupted } from './lib.mjs';

const DIR_PREFIX = 'rempart-pg-';
const STATE_FILE = 'rempart-cluster.json';
const ROLE = 'rempart';
const DATABASE = 'rempart_test';
// Used when Debian's postgresql package (which creates `postgres`) is not what provided the binaries.
const FALLBACK_USER = 'rempart-pg';

/** The newest PostgreSQL server of Debian's layout, /usr/lib/postgresql/<version>/bin, or null. */
export function findPostgres() {
  const base = '/usr/lib/postgresql';
  let versions;
  try {
    versions = readdirSync(base);
  } catch {
    return null;
  }
  const found = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => ({ version, bin: path.join(base, version, 'bin') }))
    .find(({ bin }) => ['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(path.join(bin, tool))));
  return found ?? null;
}

function userIds(name) {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** PostgreSQL refuses to run as root: as root, the cluster runs as `postgres` (created by Debian's
 * postgresql package), or as a system user created for the purpose. */
async function clusterUser(log) {
  const existing = userIds('postgres') ?? userIds(FALLBACK_USER);
  if (existing !== null) return existing;
  log(`Creating the system user ${FALLBACK_USER} to run PostgreSQL…`);
  await run(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      FALLBACK_USER,
    ],
    { quiet: true, capture: true },
  );
  const created = userIds(FALLBACK_USER);
  if (created === null) throw new Error(`useradd did not create ${FALLBACK_USER}`);
  return created;
}

/** Runs a PostgreSQL tool as the cluster's owner; output is captured and shown only on failure. */
function asOwner(owner, dir, tool, args) {
  return owner === null
    ? run(tool, args, { cwd: dir, capture: true, quiet: true })
    : run('runuser', ['-u', owner.name, '--', tool, ...args], { cwd: dir, capture: true, quiet: true });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 20) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function withOutput(error, ...extra) {
  const details = [error.stdout, error.stderr, ...extra].filter((text) => text?.trim()).join('\n');
  if (details) error.message += `\n${details.trimEnd()}`;
  return error;
}

/** Stops the cluster in `dir` (pg_ctl stop -m immediate) and deletes the folder. Synchronous, so that
 * it also works from an 'exit' handler; harmless when the cluster is already gone. */
export function stopClusterDir(dir) {
  const data = path.join(dir, 'data');
  const pidFile = path.join(data, 'postmaster.pid');
  if (existsSync(pidFile)) {
    let state = {};
    try {
      state = JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8'));
    } catch {
      // Without the state file, fall back to the newest binaries and the folder's owner.
    }
    const bin = state.bin ?? findPostgres()?.bin;
    const owner = isRoot ? (state.user ?? 'postgres') : null;
    if (bin !== undefined) {
      const pgCtl = [path.join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'immediate', '-w', '-t', '30'];
      const [command, ...args] = owner === null ? pgCtl : ['runuser', '-u', owner, '--', ...pgCtl];
      spawnSync(command, args, { cwd: dir, stdio: 'ignore' });
    }
    if (existsSync(pidFile)) {
      // pg_ctl could not stop it: kill the postmaster (its children exit when it dies).
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts a new PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only, with a role
 * `rempart` (LOGIN, CREATEDB) that owns the database `rempart_test`.
 *
 * @param {{ log?: (line: string) => void, owned?: boolean }} [options] `owned` (default true) records
 *   this process as the owner: `pg-cluster.mjs stop` leaves the cluster alone while this process lives.
 * @returns {Promise<{ url: string, port: number, dir: string, version: string, stop: () => void }>}
 *   `url` is postgres://rempart:<password>@127.0.0.1:<port>/rempart_test; `stop()` is idempotent.
 */
export async function startCluster(options = {}) {
  const { log = (line) => process.stderr.write(`${line}\n`), owned = true } = options;
  const pg = findPostgres();
  if (pg === null) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: install the Debian package postgresql',
    );
  }
  const owner = isRoot ? await clusterUser(log) : null;
  const dir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    stopClusterDir(dir);
  };
  // Last resort for an owned cluster, when the caller never reaches its own cleanup.
  if (owned) process.on('exit', stop);

  try {
    const data = path.join(dir, 'data');
    const logFile = path.join(dir, 'postgres.log');
    const passwordFile = path.join(dir, 'superuser-password');
    const superuserPassword = randomBytes(18).toString('hex');
    const password = randomBytes(18).toString('hex');
    writeFileSync(passwordFile, `${superuserPassword}\n`, { mode: 0o600 });
    const state = {
      bin: pg.bin,
      version: pg.version,
      user: owner?.name ?? null,
      ownerPid: owned ? process.pid : null,
    };
    writeFileSync(path.join(dir, STATE_FILE), `${JSON.stringify(state)}\n`, { mode: 0o600 });
    if (owner !== null) {
      chownSync(dir, owner.uid, owner.gid);
      chownSync(passwordFile, owner.uid, owner.gid);
    }

    log(`Creating a PostgreSQL ${pg.version} cluster in ${dir}…`);
    // glibc's C.UTF-8 sorts by code point like C, and keeps UTF-8 character classes.
    const locale = existsSync('/usr/lib/locale/C.utf8') ? 'C.UTF-8' : 'C';
    await asOwner(owner, dir, path.join(pg.bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile}`,
      '-E',
      'UTF8',
      `--locale=${locale}`,
      '--no-sync',
      '--no-instructions',
    ]).catch((error) => {
      throw withOutput(error);
    });
    rmSync(passwordFile);
    appendFileSync(
      path.join(data, 'postgresql.conf'),
      [
        '',
        '# Throwaway test cluster (scripts/pg-cluster.mjs): loopback only, durability traded for speed.',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'full_page_writes = off',
        'synchronous_commit = off',
        '',
      ].join('\n'),
    );

    // The port is free when we look, but another process may take it before the server binds it.
    let port;
    for (let attempt = 1; ; attempt += 1) {
      throwIfInterrupted();
      port = await freePort();
      try {
        await asOwner(owner, dir, path.join(pg.bin, 'pg_ctl'), [
          '-D',
          data,
          '-l',
          logFile,
          '-w',
          '-t',
          '60',
          '-o',
          `-p ${port}`,
          'start',
        ]);
        break;
      } catch (error) {
        const serverLog = tail(logFile);
        if (attempt < 5 && /could not bind|already in use/i.test(serverLog)) continue;
        throw withOutput(error, serverLog);
      }
    }
    state.port = port;

    const deadline = Date.now() + 30_000;
    for (;;) {
      throwIfInterrupted();
      const ready = await spawnCommand(
        path.join(pg.bin, 'pg_isready'),
        ['-q', '-h', '127.0.0.1', '-p', String(port), '-d', 'postgres'],
        { cwd: dir, capture: true },
      );
      if (ready.code === 0) break;
      if (Date.now() > deadline) throw new Error(`PostgreSQL is not ready after 30 s\n${tail(logFile)}`);
      await sleep(100);
    }

    // SQL goes through stdin so that the password never shows in a process list.
    await run(
      path.join(pg.bin, 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
      ],
      {
        cwd: dir,
        capture: true,
        quiet: true,
        env: { PGPASSWORD: superuserPassword },
        input: `CREATE ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${password}';\nCREATE DATABASE ${DATABASE} OWNER ${ROLE};\n`,
      },
    ).catch((error) => {
      throw withOutput(error);
    });

    const url = `postgres://${ROLE}:${password}@127.0.0.1:${port}/${DATABASE}`;
    writeFileSync(path.join(dir, STATE_FILE), `${JSON.stringify({ ...state, url })}\n`, { mode: 0o600 });
    log(`PostgreSQL ${pg.version} is ready on 127.0.0.1:${port}.`);
    return { url, port, dir, version: pg.version, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Clusters that `pg-cluster.mjs stop` may stop: those started from the command line, and those whose
 * owning process is gone (a test run that was killed before its cleanup). */
function strayClusters() {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(DIR_PREFIX))
    .map((name) => path.join(tmpdir(), name))
    .filter((dir) => {
      try {
        const { ownerPid } = JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8'));
        return ownerPid === null || !isAlive(ownerPid);
      } catch {
        return false;
      }
    });
}

const USAGE = `Usage: node scripts/pg-cluster.mjs <command>

Commands:
  start        start a throwaway PostgreSQL cluster on 127.0.0.1 and print its URL
               (postgres://rempart:<password>@127.0.0.1:<port>/rempart_test); it keeps running
  stop [dir]   stop the cluster in <dir>, or every cluster started by "start" and every cluster
               left behind by a test run that was killed; deletes their folders
`;

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      // Ctrl+C during the start still deletes the half-made cluster.
      handleSignals();
      const cluster = await startCluster({ owned: false });
      process.stderr.write(`Folder: ${cluster.dir}\nStop it with: node scripts/pg-cluster.mjs stop\n`);
      process.stdout.write(`${cluster.url}\n`);
      return 0;
    }
    case 'stop': {
      const dirs = rest.length > 0 ? rest.map((dir) => path.resolve(dir)) : strayClusters();
      if (dirs.length === 0) process.stderr.write('No cluster to stop.\n');
      for (const dir of dirs) {
        if (!existsSync(path.join(dir, STATE_FILE))) {
          process.stderr.write(`${dir} is not a folder made by pg-cluster.mjs: left alone.\n`);
          continue;
        }
        stopClusterDir(dir);
        process.stderr.write(`Stopped and deleted ${dir}\n`);
      }
      return 0;
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error) => {
      process.stderr.write(`pg-cluster: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
