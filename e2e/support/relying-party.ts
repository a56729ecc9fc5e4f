/**
 * A small web application that signs its users in with Rempart (OpenID Connect), as one of an
 * institution's intranets would, on 127.0.0.1 (another site than Rempart's `localhost`):
 * openid-client with PKCE (S256), state, nonce and client_secret_basic; its own session cookie;
 * RP-initiated logout; back-channel logout whose logout token is checked against the provider's
 * published keys before the session it names is ended.
 */
import { createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';

/** The claims of a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4). */
export interface LogoutTokenClaims {
  iss: string;
  aud: string | string[];
  iat: number;
  jti: string;
  sub?: string;
  sid?: string;
  events: Record<string, unknown>;
}

interface Session {
  claims: Record<string, unknown>;
  idToken: string;
}

interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
}

export interface RelyingParty {
  readonly name: string;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly backchannelLogoutUri: string;
  /** Logout tokens received whose signature and claims were good, in order. */
  readonly logoutTokens: LogoutTokenClaims[];
  /** Logout tokens refused, with why. */
  readonly refusedLogouts: string[];
  /** How many of its users are signed in. */
  sessionCount(): number;
  /** Discovers the provider and takes the credentials the administrator registered. */
  connect(issuer: string, credentials: { clientId: string; clientSecret: string }): Promise<void>;
  close(): Promise<void>;
}

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the event a logout token carries. */
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const SCOPE = 'openid profile email rempart';

const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(302, { location, 'set-cookie': cookies, 'cache-control': 'no-store' });
  res.end();
}

function cookiesOf(req: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name) jar.set(name, value.join('='));
  }
  return jar;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function decodePart(part: string | undefined): Record<string, unknown> {
  if (part === undefined) throw new Error('not a compact JWS');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * A logout token's claims once its signature (RS256, by a key of the provider's set) and its
 * claims are checked as OpenID Connect Back-Channel Logout 1.0 §2.6 asks; throws saying why not.
 */
async function verifyLogoutToken(config: oidc.Configuration, token: string): Promise<LogoutTokenClaims> {
  const [headerPart, payloadPart, signaturePart, ...rest] = token.split('.');
  if (signaturePart === undefined || rest.length > 0) throw new Error('not a compact JWS');
  const header = decodePart(headerPart);
  // The provider signs ID tokens and logout tokens with RS256 (§2.6 step 3: the same as ID tokens).
  if (header.alg !== 'RS256') throw new Error(`unexpected alg ${JSON.stringify(header.alg)}`);
  if (header.typ !== undefined && header.typ !== 'logout+jwt')
    throw new Error(`unexpected typ ${JSON.stringify(header.typ)}`);
  const metadata = config.serverMetadata();
  if (!metadata.jwks_uri) throw new Error('the provider publishes no key set');
  const jwks = (await (await fetch(metadata.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (!jwk) throw new Error(`no published key ${JSON.stringify(header.kid)}`);
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${headerPart}.${payloadPart}`),
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(signaturePart, 'base64url'),
  );
  if (!signed) throw new Error('bad signature');

  const claims = decodePart(payloadPart) as unknown as LogoutTokenClaims & { nonce?: unknown; exp?: number };
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== metadata.issuer) throw new Error(`wrong issuer ${claims.iss}`);
  if (!audiences.includes(config.clientMetadata().client_id)) throw new Error('not for this client');
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) throw new Error('bad iat');
  if (claims.exp !== undefined && claims.exp < now - 60) throw new Error('expired');
  if (typeof claims.jti !== 'string') throw new Error('no jti');
  if (typeof claims.events?.[BACKCHANNEL_LOGOUT_EVENT] !== 'object') throw new Error('not a logout event');
  if (claims.sid === undefined && claims.sub === undefined) throw new Error('neither sid nor sub');
  // §2.4: a logout token must not carry a nonce, so that an ID token cannot pass for one.
  if (claims.nonce !== undefined) throw new Error('a nonce');
  return claims;
}

/** Starts the application on a free port of 127.0.0.1; `connect` gives it its credentials. */
export async function startRelyingParty(name: string): Promise<RelyingParty> {
  // Cookies are shared between ports of one host: each application names its own.
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  const sessionCookie = `rp_${slug}_session`;
  const loginCookie = `rp_${slug}_login`;
  const sessions = new Map<string, Session>();
  const pending = new Map<string, PendingLogin>();
  const logoutTokens: LogoutTokenClaims[] = [];
  const refusedLogouts: string[] = [];
  let config: oidc.Configuration | undefined;
  let origin = '';

  const cookie = (key: string, value: string, maxAge?: number) =>
    // Lax: the browser comes back from Rempart, another site, on a top-level GET.
    `${key}=${value}; Path=/; HttpOnly; SameSite=Lax${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;

  const sessionOf = (req: IncomingMessage): [string, Session] | undefined => {
    const id = cookiesOf(req).get(sessionCookie);
    const session = id === undefined ? undefined : sessions.get(id);
    return id !== undefined && session ? [id, session] : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, provider: oidc.Configuration) => {
    const url = new URL(req.url ?? '/', origin);
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /login': {
        const login: PendingLogin = {
          verifier: oidc.randomPKCECodeVerifier(),
          state: oidc.randomState(),
          nonce: oidc.randomNonce(),
        };
        const loginId = randomBytes(16).toString('base64url');
        pending.set(loginId, login);
        const target = oidc.buildAuthorizationUrl(provider, {
          redirect_uri: `${origin}/callback`,
          scope: SCOPE,
          code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
          code_challenge_method: 'S256',
          state: login.state,
          nonce: login.nonce,
        });
        redirect(res, target.href, [cookie(loginCookie, loginId, 600)]);
        return;
      }
      case 'GET /callback': {
        const loginId = cookiesOf(req).get(loginCookie);
        const login = loginId === undefined ? undefined : pending.get(loginId);
        if (loginId === undefined || !login) {
          page(res, 400, 'No sign-in under way', '');
          return;
        }
        pending.delete(loginId);
        let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
        try {
          tokens = await oidc.authorizationCodeGrant(provider, url, {
            pkceCodeVerifier: login.verifier,
            expectedState: login.state,
            expectedNonce: login.nonce,
            idTokenExpected: true,
          });
        } catch (error) {
          const code = error instanceof oidc.AuthorizationResponseError ? error.error : String(error);
          page(res, 403, 'Sign-in refused', `<p id="error">${escapeHtml(code)}</p>`);
          return;
        }
        const claims = tokens.claims();
        if (!claims || !tokens.id_token) throw new Error('no ID token');
        const sessionId = randomBytes(16).toString('base64url');
        sessions.set(sessionId, { claims: { ...claims }, idToken: tokens.id_token });
        redirect(res, '/me', [cookie(sessionCookie, sessionId), cookie(loginCookie, '', 0)]);
        return;
      }
      case 'GET /me': {
        const found = sessionOf(req);
        if (!found) {
          page(res, 401, 'Not signed in', '<p><a href="/login">Sign in with Rempart</a></p>');
          return;
        }
        const { claims } = found[1];
        page(
          res,
          200,
          `${name}: signed in as ${String(claims.name)}`,
          `<pre id="claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre><p><a href="/logout">Sign out</a></p>`,
        );
        return;
      }
      case 'GET /logout': {
        const found = sessionOf(req);
        if (!found) {
          redirect(res, '/me');
          return;
        }
        sessions.delete(found[0]);
        // OpenID Connect RP-Initiated Logout 1.0 §2: the provider asks the agent, then comes back.
        const target = oidc.buildEndSessionUrl(provider, {
          id_token_hint: found[1].idToken,
          post_logout_redirect_uri: `${origin}/signed-out`,
        });
        redirect(res, target.href, [cookie(sessionCookie, '', 0)]);
        return;
      }
      case 'GET /signed-out':
        page(res, 200, `Signed out of ${name}`, '<p><a href="/login">Sign in again</a></p>');
        return;
      case 'POST /backchannel': {
        const token = new URLSearchParams(await readBody(req)).get('logout_token') ?? '';
        let claims: LogoutTokenClaims;
        try {
          claims = await verifyLogoutToken(provider, token);
        } catch (error) {
          refusedLogouts.push(error instanceof Error ? error.message : String(error));
          res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ error: 'invalid_request' }));
          return;
        }
        logoutTokens.push(claims);
        // §2.7: end the session the token names by sid; with no sid, every session of the sub.
        for (const [id, session] of sessions) {
          const matches =
            claims.sid !== undefined ? session.claims.sid === claims.sid : session.claims.sub === claims.sub;
          if (matches) sessions.delete(id);
        }
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end();
        return;
      }
      default:
        page(res, 404, 'Not found', '');
    }
  };

  const server = createServer((req, res) => {
    if (!config) {
      page(res, 503, 'Not configured yet', '');
      return;
    }
    handle(req, res, config).catch((error: unknown) => {
      if (!res.headersSent) page(res, 500, 'Error', `<pre>${escapeHtml(String(error))}</pre>`);
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    name,
    origin,
    redirectUri: `${origin}/callback`,
    postLogoutRedirectUri: `${origin}/signed-out`,
    backchannelLogoutUri: `${origin}/backchannel`,
    logoutTokens,
    refusedLogouts,
    sessionCount: () => sessions.size,
    connect: async (issuer, { clientId, clientSecret }) => {
      config = await oidc.discovery(
        new URL(issuer),
        clientId,
        undefined,
        oidc.ClientSecretBasic(clientSecret),
        // The test's Rempart speaks plain HTTP on loopback.
        { execute: [oidc.allowInsecureRequests] },
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
