/**
 * Janus Gateway (Debian's `janus` package) as a benchmark peer: started with a private
 * configuration folder that loads only the VideoRoom plugin and the HTTP transport, bound
 * to 127.0.0.1 with ICE candidates on loopback only; and a small client of its HTTP API
 * (sessions, plugin handles, long-polled events), as described in Janus's "RESTful, HTTP
 * API" documentation.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { spawnPinned } from './processes.mjs';

export const JANUS_BIN = '/usr/bin/janus';
const DEBIAN_CONFIG = '/etc/janus/janus.jcfg';
const VIDEOROOM = 'janus.plugin.videoroom';
// Shared with the tests' Janus (packages/server/src/test-support/janus.ts).
const SHIM_SOURCE = fileURLToPath(
  new URL('../../packages/server/src/test-support/janus-loopback.c', import.meta.url),
);
const CACHE = fileURLToPath(new URL('../.cache/', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const { AbortController, fetch } = globalThis;

export function janusInstalled() {
  return existsSync(JANUS_BIN) && existsSync(DEBIAN_CONFIG);
}

/**
 * The getifaddrs wrapper that lets Janus gather ICE candidates on 127.0.0.1 (see
 * test-support/janus-loopback.c), compiled once into bench/.cache/. Throws when no C compiler is found.
 */
export function loopbackShim() {
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
      error.code === 'ENOENT'
        ? 'no C compiler (cc) found; as root: apt-get install -y gcc'
        : String(error.stderr);
    throw new Error(`cannot build ${SHIM_SOURCE}: ${why}`, { cause: error });
  }
  renameSync(building, library);
  return library;
}

/** Where Debian put the plugins, transports, event handlers and loggers (read from its own config). */
function moduleFolders() {
  const text = readFileSync(DEBIAN_CONFIG, 'utf8');
  const folder = (name) => {
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
function allBut(folder, keep) {
  if (!existsSync(folder)) return '';
  return readdirSync(folder)
    .filter((name) => name.endsWith('.so') && name !== keep)
    .join(',');
}

/**
 * Writes the configuration folder: the main file, the HTTP transport on 127.0.0.1:`port`
 * (no admin API), and an empty VideoRoom configuration (rooms are created over the API).
 */
function writeConfig(dir, port) {
  const folders = moduleFolders();
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${folders.plugins}"
  transports_folder = "${folders.transports}"
  events_folder = "${folders.events}"
  loggers_folder = "${folders.loggers}"
  # The address written in the SDP's c= lines (ICE candidates say where media really goes).
  interface = "127.0.0.1"
  debug_level = 3
  debug_colors = false
  admin_secret = "${randomBytes(18).toString('base64url')}"
  server_name = "rempart-bench"
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
  admin_http = false
  admin_https = false
}
`,
  );
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

/**
 * Starts Janus on `cpu` with its configuration in `dir` (a scratch directory the caller
 * owns) and waits until its HTTP API answers. The caller stops it with `stopChild`.
 */
export async function startJanus({ cpu, dir, port }) {
  writeConfig(dir, port);
  const child = spawnPinned(JANUS_BIN, ['-C', join(dir, 'janus.jcfg'), '-F', dir], {
    cpu,
    cwd: dir,
    env: { ...process.env, LD_PRELOAD: loopbackShim() },
  });
  const url = `http://127.0.0.1:${port}/janus`;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`janus exited before it was ready:\n${child.outputTail()}`);
    }
    try {
      if ((await fetch(`${url}/info`)).ok) return { child, url };
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`janus was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${child.outputTail()}`);
}

// -------------------------------------------------------------------- API

class JanusError extends Error {}

async function call(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = await res.json();
  if (reply.janus === 'error') throw new JanusError(`janus: ${reply.error?.reason ?? 'error'}`);
  return reply;
}

/** A plugin's answer, or its error as an exception (VideoRoom reports `error_code` + `error`). */
function pluginResult(reply) {
  const data = reply.plugindata?.data ?? {};
  if (data.error_code !== undefined) throw new JanusError(`${VIDEOROOM}: ${data.error} (${data.error_code})`);
  return { data, jsep: reply.jsep };
}

/**
 * One Janus session: plugin handles, requests, and the long poll that brings the events
 * back (each open poll also keeps the session alive).
 */
export class JanusSession {
  #url;
  #pending = new Map();
  #abort = new AbortController();
  #nextTransaction = 0;
  /** Handles whose PeerConnection is up (Janus's `webrtcup` event), and who waits for which. */
  #up = new Set();
  #upWaiters = new Map();
  closed = false;

  static async create(baseUrl) {
    const reply = await call(baseUrl, { janus: 'create', transaction: 'create' });
    return new JanusSession(`${baseUrl}/${reply.data.id}`);
  }

  constructor(url) {
    this.#url = url;
    void this.#poll();
  }

  /** Attaches the VideoRoom plugin; resolves to the handle's id. */
  async attach() {
    const reply = await call(this.#url, {
      janus: 'attach',
      plugin: VIDEOROOM,
      transaction: this.#transaction(),
    });
    return reply.data.id;
  }

  /**
   * Sends a plugin request on a handle. Synchronous requests answer at once; the others
   * are acknowledged, and their answer (with Janus's JSEP, if any) arrives as an event.
   */
  async request(handle, body, jsep) {
    const transaction = this.#transaction();
    const answered = new Promise((resolve, reject) => this.#pending.set(transaction, { resolve, reject }));
    try {
      const reply = await call(`${this.#url}/${handle}`, {
        janus: 'message',
        transaction,
        body,
        ...(jsep ? { jsep } : {}),
      });
      if (reply.janus !== 'ack') return pluginResult(reply);
      return pluginResult(await answered);
    } finally {
      this.#pending.delete(transaction);
    }
  }

  /**
   * Resolves once the handle's PeerConnection is up (ICE and DTLS done). A VideoRoom
   * publisher becomes a feed others may subscribe to only then.
   */
  webrtcUp(handle, timeoutMs = 20_000) {
    if (this.#up.has(handle)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new JanusError('the PeerConnection did not come up')), timeoutMs);
      this.#upWaiters.set(handle, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async destroy() {
    if (this.closed) return;
    this.closed = true;
    try {
      await call(this.#url, { janus: 'destroy', transaction: this.#transaction() });
    } catch {
      // Already gone (timed out, or Janus stopped).
    }
    this.#abort.abort();
    for (const { reject } of this.#pending.values()) reject(new JanusError('session closed'));
  }

  #transaction() {
    return `t${++this.#nextTransaction}`;
  }

  async #poll() {
    while (!this.closed) {
      let events;
      try {
        const res = await fetch(`${this.#url}?maxev=20&rid=${Date.now()}`, { signal: this.#abort.signal });
        events = await res.json();
      } catch {
        if (this.closed) return;
        await sleep(200);
        continue;
      }
      for (const event of Array.isArray(events) ? events : [events]) {
        if (event.janus === 'keepalive') continue;
        const waiter = event.transaction === undefined ? undefined : this.#pending.get(event.transaction);
        if (waiter && event.janus !== 'ack') {
          if (event.janus === 'error') waiter.reject(new JanusError(`janus: ${event.error?.reason}`));
          else waiter.resolve(event);
        } else if (event.janus === 'webrtcup') {
          this.#up.add(event.sender);
          this.#upWaiters.get(event.sender)?.();
          this.#upWaiters.delete(event.sender);
        }
      }
    }
  }
}

/**
 * Creates a VideoRoom for the benchmark: room for `publishers` cameras, each allowed
 * `bitrate` bits/s (the stock demo room caps video at 128 kbps), VP8 and Opus only.
 */
export async function createRoom(baseUrl, { room, publishers, bitrate }) {
  const session = await JanusSession.create(baseUrl);
  try {
    const handle = await session.attach();
    await session.request(handle, {
      request: 'create',
      room,
      description: `rempart-bench ${room}`,
      publishers,
      bitrate,
      bitrate_cap: true,
      fir_freq: 0,
      audiocodec: 'opus',
      videocodec: 'vp8',
      notify_joining: false,
      permanent: false,
    });
  } finally {
    await session.destroy();
  }
}

export async function destroyRoom(baseUrl, room) {
  const session = await JanusSession.create(baseUrl);
  try {
    const handle = await session.attach();
    await session.request(handle, { request: 'destroy', room, permanent: false });
  } finally {
    await session.destroy();
  }
}
