/**
 * A relying party's view of Rempart's OpenID provider, for tests over real HTTP: a browser that
 * keeps cookies and the console's CSRF token, a client registered by an administrator and
 * discovered with openid-client, and one authorization code flow with PKCE, state and nonce.
 */
import * as client from 'openid-client';
import { expect } from 'vitest';
import type { ManualClock } from '../clock.js';
import { totpCodeAt } from '../identity/totp.js';
import { STRONG_PASSWORD, type HttpAgent } from './http-agent.js';

export const TEST_REDIRECT_URI = 'http://127.0.0.1:1/callback';

/** A browser's part: follows nothing by itself, keeps cookies, sends the console's CSRF token. */
export class Browser {
  private readonly jar = new Map<string, string>();
  csrf: string | undefined;

  constructor(
    private readonly base: string,
    private readonly clock: ManualClock,
  ) {}

  async fetch(url: string, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(url.startsWith('http') ? url : `${this.base}${url}`, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(this.jar.size > 0 ? { cookie: this.cookies() } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.csrf && init.method === 'POST' ? { 'x-csrf-token': this.csrf } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(pair.slice(0, eq));
      else this.jar.set(pair.slice(0, eq), value);
    }
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
    const csrf = json?.session?.csrfToken ?? json?.csrfToken;
    if (typeof csrf === 'string') this.csrf = csrf;
    return { status: res.status, location: res.headers.get('location'), json, text };
  }

  cookies(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Password then TOTP, the code of the next time step. */
  async signIn(email: string, secret: string) {
    const first = await this.fetch('/api/auth/password', {
      method: 'POST',
      body: { email, password: STRONG_PASSWORD },
    });
    expect(first.status).toBe(200);
    this.clock.advance(30_000);
    const code = await totpCodeAt(secret, this.clock.now());
    expect((await this.fetch('/api/auth/totp', { method: 'POST', body: { code } })).status).toBe(200);
  }
}

export interface Rp {
  config: client.Configuration;
  clientId: string;
  secret: string;
}

/** Registers a confidential client through the administration API and discovers the provider. */
export async function registerClient(
  admin: HttpAgent,
  issuer: string,
  body: Record<string, unknown>,
): Promise<Rp> {
  const res = await admin.post('/api/admin/oidc/clients', {
    name: 'Intranet',
    redirectUris: [TEST_REDIRECT_URI],
    postLogoutRedirectUris: ['http://127.0.0.1:1/signed-out'],
    ...body,
  });
  expect(res.status).toBe(201);
  const clientId = res.json.client.id as string;
  const secret = res.json.secret as string;
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    client.ClientSecretBasic(secret),
    {
      execute: [client.allowInsecureRequests],
    },
  );
  return { config, clientId, secret };
}

/** One authorization code flow, the browser signed in to Rempart already; returns the token response. */
export async function signInTo(
  rp: Rp,
  browser: Browser,
  extra: Record<string, string> = {},
  scope = 'openid email profile rempart',
) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: TEST_REDIRECT_URI,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  const auth = await browser.fetch(url.href);
  expect(auth.status).toBe(303);
  const interaction = auth.location ?? '';
  expect(interaction).toMatch(/^\/oidc\/interaction\/[\w-]+$/);
  const details = await browser.fetch(`${interaction}/details`);
  expect(details.status).toBe(200);
  const done = await browser.fetch(`${interaction}/complete`, { method: 'POST', body: {} });
  if (done.status !== 200) return { refused: done.json.error.code as string, interaction, browser };
  const resume = await browser.fetch(done.json.redirectTo as string);
  expect(resume.status).toBe(303);
  const back = new URL(resume.location ?? '');
  expect(`${back.origin}${back.pathname}`).toBe(TEST_REDIRECT_URI);
  const tokens = await client.authorizationCodeGrant(rp.config, back, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return { tokens, details: details.json, verifier, state, nonce, back };
}
