/**
 * A browser-like client for `app.inject`: keeps the session cookie and sends the
 * anti-forgery token, as the console does.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { totpCodeAt } from '../identity/totp.js';
import type { TestPlatform } from './platform.js';

export class HttpAgent {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(
    private readonly app: FastifyInstance,
    readonly ip = '198.51.100.7',
  ) {}

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
    raw?: Buffer,
  ) {
    const res: LightMyRequestResponse = await this.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        'user-agent': 'test-agent',
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(raw !== undefined ? { payload: raw } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const setCookie = res.cookies.find((c) => c.name.endsWith('rempart_session'));
    if (setCookie) this.cookie = setCookie.value ? `${setCookie.name}=${setCookie.value}` : undefined;
    const json =
      res.body.length > 0 && res.headers['content-type']?.toString().includes('json')
        ? (JSON.parse(res.body) as unknown)
        : undefined;
    const session = (json as { session?: { csrfToken?: string } } | undefined)?.session;
    if (session?.csrfToken) this.csrf = session.csrfToken;
    if (url === '/api/session' && (json as { csrfToken?: string } | undefined)?.csrfToken) {
      this.csrf = (json as { csrfToken: string }).csrfToken;
    }
    return { status: res.statusCode, json: json as Record<string, any>, headers: res.headers, raw: res };
  }

  /** Sends `bytes` as the raw body, as a file upload from the console does. */
  upload(url: string, bytes: Buffer, contentType: string) {
    return this.request('POST', url, undefined, { 'content-type': contentType }, bytes);
  }

  get(url: string) {
    return this.request('GET', url);
  }
  post(url: string, body: unknown = {}) {
    return this.request('POST', url, body);
  }
  put(url: string, body: unknown = {}) {
    return this.request('PUT', url, body);
  }
  delete(url: string) {
    return this.request('DELETE', url);
  }
}

export const STRONG_PASSWORD = 'correct-horse-battery-staple-42';

/**
 * Invites an agent through the service and walks the whole enrolment with TOTP,
 * returning a signed-in client, the TOTP secret and the recovery codes.
 */
export async function enrolWithTotp(
  platform: TestPlatform,
  app: FastifyInstance,
  input: {
    email: string;
    displayName?: string;
    role?: 'admin' | 'host' | 'agent';
    ip?: string;
    unit?: string;
    clearance?: 'public' | 'internal' | 'restricted' | 'secret';
  },
) {
  const link = await platform.identity.inviteAgent(
    null,
    {
      email: input.email,
      displayName: input.displayName ?? input.email.split('@')[0] ?? 'Agent',
      unit: input.unit ?? 'DGSI',
      role: input.role ?? 'agent',
      clearance: input.clearance ?? 'secret',
    },
    { ip: 'local', userAgent: 'test' },
  );
  const token = link.enrolmentUrl.split('/enrol/')[1] ?? '';
  const agent = new HttpAgent(app, input.ip);
  const set = await agent.post('/api/enrolment/password', { token, password: STRONG_PASSWORD });
  if (set.status !== 200) throw new Error(`set password failed: ${JSON.stringify(set.json)}`);
  const begin = await agent.post('/api/me/factors/totp/begin');
  const secret = begin.json.secret as string;
  const code = await totpCodeAt(secret, platform.clock.now());
  const confirm = await agent.post('/api/me/factors/totp/confirm', { code });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${JSON.stringify(confirm.json)}`);
  // Move past the step used at enrolment so the next sign-in code is fresh.
  platform.clock.advance(30_000);
  return {
    agent,
    secret,
    recoveryCodes: confirm.json.recoveryCodes as string[],
    agentId: link.agent.id,
    token,
  };
}
