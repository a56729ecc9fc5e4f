/**
 * Rempart's OpenID provider against a real relying-party library (openid-client): discovery, the
 * key set, signatures, nonce, PKCE, refresh rotation, claims, max_age, key rotation, and the
 * errors RFC 6749 defines for malformed requests. Over real HTTP on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { enrolWithTotp } from '../../test-support/http-agent.js';
import {
  Browser as FlowBrowser,
  registerClient,
  signInTo,
  TEST_REDIRECT_URI,
} from '../../test-support/oidc-flow.js';
import { openTestPlatform, type TestPlatform } from '../../test-support/platform.js';
import { freePort } from '../../test-support/ports.js';
import { totpCodeAt } from '../totp.js';

let platform: TestPlatform;
let app: FastifyInstance;
let base: string;
let issuer: string;
const redirectUri = TEST_REDIRECT_URI;

let admin: Awaited<ReturnType<typeof enrolWithTotp>>;
let agentSecret: string;
const agentEmail = 'julie.bernard@defense.gouv.fr';

class Browser extends FlowBrowser {
  constructor() {
    super(base, platform.clock);
  }
}

const register = (body: Record<string, unknown>) => registerClient(admin.agent, issuer, body);

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  issuer = `${base}/oidc`;
  platform = await openTestPlatform({ env: { REMPART_PUBLIC_URL: base, REMPART_HOST: '127.0.0.1' } });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  await app.listen({ host: '127.0.0.1', port });
  admin = await enrolWithTotp(platform, app, { email: 'admin@defense.gouv.fr', role: 'admin' });
  const agent = await enrolWithTotp(platform, app, {
    email: agentEmail,
    displayName: 'Julie Bernard',
    unit: 'DGA/SSI',
    role: 'host',
    clearance: 'restricted',
  });
  agentSecret = agent.secret;
});

afterAll(async () => {
  await app.close();
  await platform.close();
});

describe('discovery and keys', () => {
  it('publishes a configuration a relying-party library accepts, with PKCE S256, logout and the claims', async () => {
    const rp = await register({});
    const meta = rp.config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.end_session_endpoint).toBe(`${issuer}/session/end`);
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'rempart', 'mail']));
    expect(meta.claims_supported).toEqual(
      expect.arrayContaining(['unit', 'role', 'clearance', 'amr', 'acr']),
    );
    expect(meta.acr_values_supported).toEqual(['urn:rempart:acr:mfa', 'urn:rempart:acr:phishing-resistant']);
    const jwks = (await (await fetch(meta.jwks_uri ?? '')).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    // Only the public half is published.
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('authorization code flow', () => {
  it('signs a full session in with PKCE and nonce; the ID token states the agent and the MFA method', async () => {
    // With a back channel, the ID token names the provider's session (sid) for logout tokens.
    const rp = await register({ backchannelLogoutUri: 'http://127.0.0.1:1/backchannel' });
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    const flow = await signInTo(rp, browser);
    if (!('tokens' in flow) || !flow.tokens) throw new Error(`refused: ${JSON.stringify(flow)}`);
    expect(flow.details).toMatchObject({ client: { id: rp.clientId, name: 'Intranet' }, mfaMaxAge: null });
    const claims = flow.tokens.claims();
    expect(claims).toMatchObject({
      iss: issuer,
      aud: rp.clientId,
      email: agentEmail,
      email_verified: true,
      name: 'Julie Bernard',
      unit: 'DGA/SSI',
      role: 'host',
      clearance: 'restricted',
      amr: ['pwd', 'otp', 'mfa'],
      acr: 'urn:rempart:acr:mfa',
    });
    expect(typeof claims?.auth_time).toBe('number');
    expect(typeof claims?.sid).toBe('string');
    const info = await client.fetchUserInfo(rp.config, flow.tokens.access_token, claims?.sub ?? '');
    expect(info).toMatchObject({ email: agentEmail, unit: 'DGA/SSI' });
  });

  it('refuses without a Rempart session, and a relying party cannot skip PKCE', async () => {
    const rp = await register({});
    const stranger = new Browser();
    const flow = await signInTo(rp, stranger);
    expect(flow).toMatchObject({ refused: 'unauthenticated' });

    // No code_challenge: the provider answers the relying party with invalid_request.
    const url = client.buildAuthorizationUrl(rp.config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      state: 's1',
    });
    const res = await stranger.fetch(url.href);
    expect(res.status).toBe(303);
    const back = new URL(res.location ?? '');
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(back.searchParams.get('state')).toBe('s1');
  });

  it('rotates refresh tokens: the old one is refused once used', async () => {
    const rp = await register({});
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    const flow = await signInTo(rp, browser);
    if (!('tokens' in flow) || !flow.tokens) throw new Error('refused');
    const first = flow.tokens.refresh_token ?? '';
    expect(first).not.toBe('');
    const next = await client.refreshTokenGrant(rp.config, first);
    expect(next.refresh_token).toBeDefined();
    expect(next.refresh_token).not.toBe(first);
    await expect(client.refreshTokenGrant(rp.config, first)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('a client demanding a fresh MFA refuses an older check until the agent steps up', async () => {
    const rp = await register({ mfaMaxAge: 60 });
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    platform.clock.advance(120_000);
    const stale = await signInTo(rp, browser);
    expect(stale).toMatchObject({ refused: 'step_up_required' });
    const code = await totpCodeAt(agentSecret, platform.clock.now());
    expect((await browser.fetch('/api/auth/totp', { method: 'POST', body: { code } })).status).toBe(200);
    const fresh = await signInTo(rp, browser);
    if (!('tokens' in fresh) || !fresh.tokens) throw new Error('refused after step-up');
    const authTime = fresh.tokens.claims()?.auth_time ?? 0;
    expect(Math.abs(authTime - Math.floor(platform.clock.now().getTime() / 1000))).toBeLessThanOrEqual(1);
  });

  it('a client with a limit of 0 accepts only an MFA check made after its request began', async () => {
    const rp = await register({ mfaMaxAge: 0 });
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    platform.clock.advance(1000);
    const first = await signInTo(rp, browser);
    expect(first).toMatchObject({ refused: 'step_up_required' });
    if (!('interaction' in first) || !first.interaction) throw new Error('no interaction');
    platform.clock.advance(30_000);
    const code = await totpCodeAt(agentSecret, platform.clock.now());
    expect((await browser.fetch('/api/auth/totp', { method: 'POST', body: { code } })).status).toBe(200);
    platform.clock.advance(2000);
    // The same request, retried after the step-up, goes through.
    const done = await browser.fetch(`${first.interaction}/complete`, { method: 'POST', body: {} });
    expect(done.status).toBe(200);
    expect(done.json.redirectTo).toMatch(/\/oidc\/auth\//);
  });

  it('a disabled agent gets no new tokens: the refresh is refused', async () => {
    const extra = await enrolWithTotp(platform, app, { email: 'leaving@defense.gouv.fr' });
    const rp = await register({});
    const browser = new Browser();
    await browser.signIn('leaving@defense.gouv.fr', extra.secret);
    const flow = await signInTo(rp, browser);
    if (!('tokens' in flow) || !flow.tokens) throw new Error('refused');
    const disabled = await admin.agent.post(`/api/admin/agents/${extra.agentId}/disable`, {});
    expect(disabled.status).toBe(200);
    await expect(client.refreshTokenGrant(rp.config, flow.tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});

describe('malformed requests get the errors of RFC 6749', () => {
  it('token endpoint: unknown grant type, bad code, bad client secret, missing verifier', async () => {
    const rp = await register({});
    const post = (body: Record<string, string>, secret = rp.secret) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${rp.clientId}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams(body).toString(),
      }).then(async (res) => ({ status: res.status, json: (await res.json()) as { error: string } }));
    expect(await post({ grant_type: 'password', username: 'a', password: 'b' })).toMatchObject({
      status: 400,
      json: { error: 'unsupported_grant_type' },
    });
    expect(
      await post({ grant_type: 'authorization_code', code: 'nope', redirect_uri: redirectUri }),
    ).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
    expect(
      await post({ grant_type: 'authorization_code', code: 'nope', redirect_uri: redirectUri }, 'wrong'),
    ).toMatchObject({
      status: 401,
      json: { error: 'invalid_client' },
    });
    expect(await post({ grant_type: 'authorization_code', redirect_uri: redirectUri })).toMatchObject({
      status: 400,
      json: { error: 'invalid_request' },
    });

    // A code used with the wrong PKCE verifier is refused, and cannot be used again.
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    const flow = await signInTo(rp, browser);
    if (!('back' in flow) || !flow.back) throw new Error('refused');
    // authorizationCodeGrant already used this code: a replay is invalid_grant.
    const code = flow.back.searchParams.get('code') ?? '';
    expect(
      await post({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: flow.verifier,
      }),
    ).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
  });

  it('authorization endpoint: unknown client and bad redirect address are shown, not redirected', async () => {
    const bad = await fetch(
      `${issuer}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(redirectUri)}`,
      {
        redirect: 'manual',
      },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('invalid_client');

    const rp = await register({});
    const wrong = await fetch(
      `${issuer}/auth?client_id=${rp.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      { redirect: 'manual' },
    );
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('invalid_redirect_uri');

    const token = await fetch(
      `${issuer}/auth?client_id=${rp.clientId}&response_type=token&scope=openid&redirect_uri=${encodeURIComponent(redirectUri)}`,
      {
        redirect: 'manual',
      },
    );
    // Asked for a token in the fragment, the error goes back there (RFC 6749 §4.2.2.1).
    const fragment = new URLSearchParams(new URL(token.headers.get('location') ?? 'x:/').hash.slice(1));
    expect(fragment.get('error')).toBe('unsupported_response_type');
  });
});

/** A relying party's back channel: records the logout tokens it is sent. */
async function backChannel(): Promise<{ url: string; tokens: string[]; server: Server }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/backchannel`, tokens, server };
}

describe('logout', () => {
  it('signing out of Rempart ends the provider session and sends each application a signed logout token', async () => {
    const channel = await backChannel();
    try {
      const rp = await register({ backchannelLogoutUri: channel.url });
      const browser = new Browser();
      await browser.signIn(agentEmail, agentSecret);
      const flow = await signInTo(rp, browser);
      if (!('tokens' in flow) || !flow.tokens) throw new Error('refused');
      const idClaims = flow.tokens.claims();
      expect((await browser.fetch('/api/auth/sign-out', { method: 'POST', body: {} })).status).toBe(204);
      await expect.poll(() => channel.tokens.length).toBe(1);
      const { payload } = await jwtVerify(
        channel.tokens[0] ?? '',
        createRemoteJWKSet(new URL(`${issuer}/jwks`)),
        {
          issuer,
          audience: rp.clientId,
        },
      );
      expect(payload).toMatchObject({ sub: idClaims?.sub, sid: idClaims?.sid });
      expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
      // The grant is gone: its refresh token no longer works.
      await expect(
        client.refreshTokenGrant(rp.config, flow.tokens.refresh_token ?? ''),
      ).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    } finally {
      channel.server.close();
    }
  });

  it('an application’s logout, confirmed on Rempart’s page, ends the Rempart session too', async () => {
    const rp = await register({});
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    const flow = await signInTo(rp, browser);
    if (!('tokens' in flow) || !flow.tokens) throw new Error('refused');
    const end = client.buildEndSessionUrl(rp.config, {
      id_token_hint: flow.tokens.id_token ?? '',
      post_logout_redirect_uri: 'http://127.0.0.1:1/signed-out',
      state: 'bye',
    });
    const page = await browser.fetch(end.href);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign out of Rempart?');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    expect(xsrf).not.toBe('');
    const confirm = await fetch(`${issuer}/session/end/confirm`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookies() },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(confirm.status).toBe(303);
    expect(confirm.headers.get('location')).toBe('http://127.0.0.1:1/signed-out?state=bye');
    const session = await browser.fetch('/api/session');
    expect(session.json).toMatchObject({ authenticated: false });
  });
});

describe('keys', () => {
  it('rotates the signing key: new tokens carry the new key, the old one stays published', async () => {
    const rp = await register({});
    const before = (await admin.agent.get('/api/admin/oidc/keys')).json.keys as { kid: string }[];
    const browser = new Browser();
    await browser.signIn(agentEmail, agentSecret);
    const rotated = await admin.agent.post('/api/admin/oidc/keys/rotate', {});
    expect(rotated.status).toBe(200);
    const keys = rotated.json.keys as { kid: string; signing: boolean }[];
    expect(keys).toHaveLength(before.length + 1);
    expect(keys[0]?.signing).toBe(true);
    const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort());
    const flow = await signInTo(rp, browser);
    if (!('tokens' in flow) || !flow.tokens) throw new Error('refused');
    const header = JSON.parse(
      Buffer.from((flow.tokens.id_token ?? '').split('.')[0] ?? '', 'base64url').toString(),
    ) as {
      kid: string;
    };
    expect(header.kid).toBe(keys[0]?.kid);
  });
});
