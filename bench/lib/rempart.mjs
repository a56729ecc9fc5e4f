/**
 * A real `rempart serve` for benchmarks (the built CLI, a fresh data directory, loopback
 * only), and agents driving it over its HTTP API as the console does: the first
 * administrator created with `rempart admin create`, others invited by that administrator,
 * each enrolled with a password and an authenticator app, so each holds a full session.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { totpCodeAt } from '@rempart/server';
import { freePort, scratchDir, spawnNode, waitUntilReady } from './processes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../packages/cli/bin/rempart.js', import.meta.url));
/** Without TLS the cookie has no `__Host-` prefix (see packages/server/src/http/auth.ts). */
const SESSION_COOKIE = 'rempart_session';
const READY_TIMEOUT_MS = 60_000;
const { fetch } = globalThis;

/**
 * Starts `rempart serve` on `cpu` with a fresh data directory. `base` is where requests go
 * (127.0.0.1); `origin` is the public URL the server expects in `Origin` headers.
 */
export async function startRempart({ cpu }) {
  const port = await freePort();
  const dataDir = scratchDir('rempart-bench-');
  // Nothing inherited may point the server elsewhere (DATABASE_URL, REMPART_TLS, …).
  const inherited = Object.entries(process.env).filter(
    ([name]) => !name.startsWith('REMPART_') && name !== 'DATABASE_URL',
  );
  const env = {
    ...Object.fromEntries(inherited),
    REMPART_DATA_DIR: dataDir,
    REMPART_HOST: '127.0.0.1',
    REMPART_PORT: String(port),
    // A domain, not an IP, as WebAuthn wants; the bots send it as their Origin.
    REMPART_PUBLIC_URL: `http://localhost:${port}`,
    REMPART_MEDIA_IP: '127.0.0.1',
    REMPART_LOG_LEVEL: 'warn',
  };
  const child = spawnNode([CLI_BIN, 'serve'], { cpu, cwd: ROOT, env });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${base}/healthz`, child, { name: 'rempart serve', timeoutMs: READY_TIMEOUT_MS });
  const cli = (args) =>
    execFileSync(process.execPath, [CLI_BIN, ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { child, base, origin: env.REMPART_PUBLIC_URL, dataDir, cli };
}

/** An agent's session on the HTTP API: cookie, anti-forgery token and a same-origin `Origin`. */
export class ApiAgent {
  cookie = undefined;
  csrf = undefined;
  email = '';

  constructor(server) {
    this.server = server;
  }

  async ok(method, path, body) {
    const res = await fetch(`${this.server.base}${path}`, {
      method,
      headers: {
        origin: this.server.origin,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      if (pair.startsWith(`${SESSION_COOKIE}=`)) this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    const token = json.session?.csrfToken ?? json.csrfToken;
    if (typeof token === 'string') this.csrf = token;
    if (res.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${res.status} ${json.error?.code ?? text}`);
    return json;
  }

  /** Password from the enrolment link, then an authenticator app: a full session. */
  async enrol(enrolmentUrl) {
    const token = new URL(enrolmentUrl).pathname.split('/').at(-1) ?? '';
    const password = `bench ${randomBytes(12).toString('base64url')}`;
    await this.ok('POST', '/api/enrolment/password', { token, password });
    const { secret } = await this.ok('POST', '/api/me/factors/totp/begin', {});
    await this.ok('POST', '/api/me/factors/totp/confirm', { code: await totpCodeAt(secret, new Date()) });
    this.email = (await this.ok('GET', '/api/session')).agent.email;
    return this;
  }
}

/** The first administrator, created with the CLI as an operator would, then enrolled. */
export async function firstAdmin(server) {
  const out = server.cli(['admin', 'create', '--email', 'admin@bench.rempart.test', '--name', 'Bench Admin']);
  const link = /http:\/\/\S+\/enrol\/[A-Za-z0-9_-]{43}/.exec(out)?.[0];
  if (!link) throw new Error(`rempart admin create printed no enrolment link:\n${out}`);
  return new ApiAgent(server).enrol(link);
}

/** `count` agents invited by `admin` and enrolled, each with its own session. */
export async function enrolledAgents(admin, count) {
  const agents = [];
  for (let i = 0; i < count; i++) {
    const { enrolmentUrl } = await admin.ok('POST', '/api/admin/agents', {
      role: 'agent',
      email: `bot-${i + 1}@bench.rempart.test`,
      displayName: `Bench Bot ${i + 1}`,
      unit: 'Bench',
      clearance: 'internal',
    });
    agents.push(await new ApiAgent(admin.server).enrol(enrolmentUrl));
  }
  return agents;
}

/** A meeting open now for the next two hours, with `invitees` invited (they join without a lobby). */
export async function scheduleMeeting(admin, invitees) {
  const now = Date.now();
  const { meeting } = await admin.ok('POST', '/api/meetings', {
    title: 'SFU benchmark',
    classification: 'internal',
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 2 * 3600_000).toISOString(),
    invitees: { emails: invitees.map((agent) => agent.email), units: [] },
  });
  return meeting;
}
