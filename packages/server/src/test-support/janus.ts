/**
 * A real Janus Gateway (Debian's `janus` package) on 127.0.0.1 for the tests of the Janus media
 * engine: a private configuration folder in a fresh temporary directory that loads only the
 * VideoRoom plugin and the HTTP transport, locked the way the README tells operators to lock it
 * (an `api_secret` on every request, a VideoRoom `admin_key` for room creation, no demo rooms,
 * the admin API on loopback behind its own secret), with ICE candidates on loopback only.
 *
 * Janus skips loopback interfaces when it gathers candidates; the getifaddrs wrapper in
 * janus-loopback.c (shared with bench/lib/janus.mjs) is compiled once with `cc` into
 * node_modules/.cache/rempart/ and preloaded.
 *
 * @example
 *   const janus = await startJanus();
 *   const engine = new JanusEngine({ nodes: [janus.node], ... });
 *   await janus.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';

const JANUS = '/usr/bin/janus';
const DEBIAN_CONFIG = '/etc/janus/janus.jcfg';
const SHIM_SOURCE = fileURLToPath(new URL('./janus-loopback.c', import.meta.url));
const CACHE = fileURLToPath(new URL('../../../../node_modules/.cache/rempart/', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5000;

/** What Rempart needs to drive one Janus node (the REMPART_JANUS_* settings). */
export interface JanusNodeSettings {
  /** The HTTP API, e.g. `http://127.0.0.1:8088/janus`. */
  url: string;
  /** The admin API, e.g. `http://127.0.0.1:7088/admin`. */
  adminUrl: string;
}

export interface JanusSecrets {
  apiSecret: string;
  adminKey: string;
  adminSecret: string;
}

export interface RunningJanus extends JanusNodeSettings {
  secrets: JanusSecrets;
  pid: number;
  /** Stops Janus (SIGTERM, SIGKILL after a grace period) and deletes its folder. Idempotent. */
  stop(): Promise<void>;
  /** Kills Janus at once (SIGKILL), as a crash would; the folder stays until `stop`. */
  kill(): Promise<void>;
  /** The end of Janus's output, for a failing test's message. */
  outputTail(): string;
}

/** Fresh random secrets, to share between several nodes (Rempart uses one set for all). */
export function janusSecrets(): JanusSecrets {
  const secret = () => randomBytes(24).toString('base64url');
  return { apiSecret: secret(), adminKey: secret(), adminSecret: secret() };
}

/** Starts Janus on free loopback ports; resolves once its HTTP API answers. */
export async function startJanus(secrets: JanusSecrets = janusSecrets()): Promise<RunningJanus> {
  if (!existsSync(JANUS) || !existsSync(DEBIAN_CONFIG))
    throw new Error(
      `${JANUS} missing: install the Debian package janus (sudo apt-get install janus), ` +
        'or run `npm test` as root to have it done',
    );
  const dir = mkdtempSync(join(tmpdir(), 'rempart-janus-'));
  const [port = 0, adminPort = 0] = await freePorts(2);
  writeConfig(dir, port, adminPort, secrets);
  const child = spawn(JANUS, ['-C', join(dir, 'janus.jcfg'), '-F', dir], {
    cwd: dir,
    env: { ...process.env, LD_PRELOAD: loopbackShim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-6000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const running: RunningJanus = {
    url: `http://127.0.0.1:${port}/janus`,
    adminUrl: `http://127.0.0.1:${adminPort}/admin`,
    secrets,
    pid: child.pid ?? 0,
    stop: async () => {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => stopChild(child, 'SIGKILL'),
    outputTail: () => tail.trim(),
  };
  try {
    await waitUntilReady(running, child);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

async function waitUntilReady(janus: RunningJanus, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`janus exited before it was ready:\n${janus.outputTail()}`);
    try {
      if ((await fetch(`${janus.url}/info`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`janus was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${janus.outputTail()}`);
}

async function stopChild(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The getifaddrs wrapper (janus-loopback.c), compiled once per version of its source. */
export function loopbackShim(): string {
  const source = readFileSync(SHIM_SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const library = join(CACHE, `janus-loopback-${digest}.so`);
  if (existsSync(library)) return library;
  mkdirSync(CACHE, { recursive: true });
  const building = `${library}.${process.pid}`;
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', building, SHIM_SOURCE, '-ldl'], { stdio: 'pipe' });
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no C compiler (cc) found; install gcc (sudo apt-get install gcc)'
        : String((error as { stderr?: unknown }).stderr);
    throw new Error(`cannot build ${SHIM_SOURCE}: ${why}`, { cause: error });
  }
  renameSync(building, library);
  return library;
}

/** Where Debian put the plugins, transports, event handlers and loggers (read from its own config). */
function moduleFolders(): Record<'plugins' | 'transports' | 'events' | 'loggers', string> {
  const text = readFileSync(DEBIAN_CONFIG, 'utf8');
  const folder = (name: string): string => {
    const value = new RegExp(`^\\s*${name}_folder\\s*=\\s*"([^"]+)"`, 'm').exec(text)?.[1];
    if (!value) throw new Error(`${DEBIAN_CONFIG} names no ${name}_folder`);
    return value;
  };
  return {
    plugins: folder('plugins'),
    transports: folder('transports'),
    events: folder('events'),
    loggers: folder('loggers'),
  };
}

/** Every shared object in `folder` but `keep`, as a `disable` list. */
function allBut(folder: string, keep: string): string {
  if (!existsSync(folder)) return '';
  return readdirSync(folder)
    .filter((name) => name.endsWith('.so') && name !== keep)
    .join(',');
}

function writeConfig(dir: string, port: number, adminPort: number, secrets: JanusSecrets): void {
  const folders = moduleFolders();
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${folders.plugins}"
  transports_folder = "${folders.transports}"
  events_folder = "${folders.events}"
  loggers_folder = "${folders.loggers}"
  interface = "127.0.0.1"
  debug_level = 3
  debug_colors = false
  # Every request of the HTTP API must carry this; the admin API its own.
  api_secret = "${secrets.apiSecret}"
  admin_secret = "${secrets.adminSecret}"
  server_name = "rempart-test"
}
media: {
}
nat: {
  # Candidates on loopback only, never on the machine's network interfaces.
  ice_enforce_list = "127.0.0.1"
  ignore_mdns = true
  nice_debug = false
}
plugins: {
  disable = "${allBut(folders.plugins, 'libjanus_videoroom.so')}"
}
transports: {
  disable = "${allBut(folders.transports, 'libjanus_http.so')}"
}
loggers: {
  disable = "${allBut(folders.loggers, '')}"
}
events: {
  broadcast = false
  disable = "${allBut(folders.events, '')}"
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.http.jcfg'),
    `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_base_path = "/admin"
  admin_http = true
  admin_port = ${adminPort}
  admin_ip = "127.0.0.1"
  admin_https = false
}
`,
  );
  // No rooms of its own (Debian's file has demo rooms): Rempart creates each with the admin key.
  writeFileSync(
    join(dir, 'janus.plugin.videoroom.jcfg'),
    `general: {
  admin_key = "${secrets.adminKey}"
  lock_rtp_forward = true
}
`,
  );
}
