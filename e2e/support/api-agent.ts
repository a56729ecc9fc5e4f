/**
 * An agent driving a running `rempart serve` over its HTTP API, as the console does: it keeps
 * the session cookie and sends the anti-forgery token and a same-origin `Origin`. Tests use
 * it to prepare people and meetings quickly, then hand the cookie to a real browser.
 */
import { totpCodeAt } from '@rempart/server';
import type { BrowserContext } from 'playwright-core';

export const E2E_PASSWORD = 'Quatre chevaux gris au galop 1871';

export interface AgentSpec {
  email: string;
  displayName: string;
  unit: string;
  clearance: 'public' | 'internal' | 'restricted' | 'secret';
  role?: 'admin' | 'host' | 'agent';
}

export class ApiAgent {
  cookie: string | undefined;
  csrf: string | undefined;
  totpSecret = '';
  agentId = '';
  email = '';
  /** The last TOTP time step this agent used: a step is never used twice (RFC 6238 §5.2). */
  private lastStep = 0;

  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        origin: this.baseUrl,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      if (pair?.includes('rempart_session')) this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    const text = await res.text();
    const json = (text.length > 0 ? JSON.parse(text) : {}) as T;
    const token =
      (json as { session?: { csrfToken?: string } }).session?.csrfToken ??
      (json as { csrfToken?: string }).csrfToken;
    if (typeof token === 'string') this.csrf = token;
    return { status: res.status, json };
  }

  async ok<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    const res = await this.request<T>(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  }

  /** Sets the password from an enrolment link and enrols TOTP: a full session with a fresh MFA check. */
  async enrol(enrolmentUrl: string): Promise<void> {
    const token = enrolmentUrl.split('/enrol/')[1] ?? '';
    await this.ok('POST', '/api/enrolment/password', { token, password: E2E_PASSWORD });
    const begin = await this.ok<{ secret: string }>('POST', '/api/me/factors/totp/begin', {});
    this.totpSecret = begin.secret;
    await this.ok('POST', '/api/me/factors/totp/confirm', { code: await this.freshCode() });
    const session = await this.ok<{ agent: { id: string; email: string } }>('GET', '/api/session');
    this.agentId = session.agent.id;
    this.email = session.agent.email;
  }

  /**
   * A code for a time step this agent has not used yet. The server accepts one step either
   * side of its own, so the next step is used at once when it is within reach, else waited for.
   */
  async freshCode(): Promise<string> {
    const step = Math.max(this.lastStep + 1, Math.floor(Date.now() / 30_000));
    while (Math.floor(Date.now() / 30_000) < step - 1) await new Promise((r) => setTimeout(r, 250));
    this.lastStep = step;
    return totpCodeAt(this.totpSecret, new Date(step * 30_000 + 1000));
  }

  /** A new, separate session for the same agent (another device): password, then TOTP. */
  async newSession(): Promise<ApiAgent> {
    const other = new ApiAgent(this.baseUrl);
    other.totpSecret = this.totpSecret;
    other.agentId = this.agentId;
    other.email = this.email;
    other.lastStep = this.lastStep;
    await other.ok('POST', '/api/auth/password', { email: this.email, password: E2E_PASSWORD });
    await other.ok('POST', '/api/auth/totp', { code: await other.freshCode() });
    this.lastStep = other.lastStep;
    return other;
  }

  /** A step-up: a fresh MFA check on this session (restricted and secret meetings need one). */
  async confirmMfa(): Promise<void> {
    await this.ok('POST', '/api/auth/totp', { code: await this.freshCode() });
  }

  /** Invites an agent (this agent must be an administrator) and enrols them. */
  async invite(spec: AgentSpec): Promise<ApiAgent> {
    const link = await this.ok<{ enrolmentUrl: string }>('POST', '/api/admin/agents', {
      role: 'agent',
      ...spec,
    });
    const agent = new ApiAgent(this.baseUrl);
    await agent.enrol(link.enrolmentUrl);
    return agent;
  }

  /** Puts this agent's session cookie into a browser, as if they had signed in there. */
  async signInBrowser(context: BrowserContext): Promise<void> {
    const [name, value] = (this.cookie ?? '').split('=');
    if (!name || !value) throw new Error('no session to hand over');
    await context.addCookies([{ name, value, url: this.baseUrl, httpOnly: true, sameSite: 'Strict' }]);
  }
}

/** The first administrator, created with the CLI as an operator would, then enrolled over HTTP. */
export async function firstAdmin(
  baseUrl: string,
  cli: (args: string[]) => { status: number; stdout: string; stderr: string },
  spec: { email: string; name: string; unit?: string },
): Promise<ApiAgent> {
  const created = cli([
    'admin',
    'create',
    '--email',
    spec.email,
    '--name',
    spec.name,
    ...(spec.unit ? ['--unit', spec.unit] : []),
  ]);
  const link = /http:\/\/\S+\/enrol\/[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
  if (created.status !== 0 || !link) throw new Error(`admin create failed: ${created.stderr}`);
  const admin = new ApiAgent(baseUrl);
  await admin.enrol(link);
  return admin;
}
