/**
 * Rempart as an OpenID Connect provider for the institution's other web applications, built on
 * oidc-provider (OpenID Certified): authorization code with PKCE, rotating refresh tokens,
 * discovery, a published key set that rotates, RP-initiated and back-channel logout.
 *
 * Rempart's own session is the only sign-in: every authorization request goes through the
 * console's sign-in page, which completes it only for a full session (password and second factor)
 * whose MFA check is as recent as the client demands. ID tokens state the agent's unit, role and
 * clearance, and `amr`/`acr` say how the second factor was checked.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  IdentityError,
  RempartError,
  oidcScopes,
  type OidcClient,
  type OidcClientCreated,
  type OidcClientRequest,
  type OidcInteraction,
} from '@rempart/core';
import Provider, {
  interactionPolicy,
  type Adapter,
  type AdapterPayload,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/audit.service.js';
import type { Clock } from '../../clock.js';
import type { AgentRow, IdentityRepository } from '../identity.repository.js';
import type { Authenticated, IdentityService, RequestContext } from '../identity.service.js';
import { randomToken, type KeyRing } from '../secrets.js';
import type { MailToken } from '../mail/mail-access.service.js';
import { acrFor, acrValues, agentClaims, amrFor, effectiveMaxAge, scopeClaims } from './claims.js';
import type { OidcClientRow, OidcRepository } from './oidc.repository.js';
import { errorPage, logoutPage, signedOutPage } from './pages.js';

/** Lifetimes, in seconds. Access tokens are short: a disabled agent's token dies within minutes. */
export const OIDC_TTL = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 10 * 60,
  Interaction: 15 * 60,
  Session: 12 * 3600,
  Grant: 30 * 24 * 3600,
  RefreshToken: 30 * 24 * 3600,
};
/** A signing key signs for this long, then stays published until every token it signed has expired. */
export const KEY_SIGNING_DAYS = 90;
const KEY_PUBLISHED_AFTER_ROTATION_MS = (OIDC_TTL.RefreshToken + 24 * 3600) * 1000;
const CLEANUP_INTERVAL_MS = 3600_000;

export interface OidcDeps {
  repo: OidcRepository;
  identity: IdentityService;
  identityRepo: IdentityRepository;
  audit: AuditLog;
  keys: KeyRing;
  clock: Clock;
  log: Logger;
  /** The provider's issuer: `<public URL>/oidc`. */
  issuer: string;
  /** The name of Rempart's session cookie, read when a relying party signs the agent out. */
  sessionCookie: string;
  /** Behind a reverse proxy, X-Forwarded-* are trusted. */
  proxy: boolean;
}

/** The part of oidc-provider's client model this service calls (missing from its type definitions). */
interface BackchannelClient {
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export class OidcService {
  private provider: Provider | undefined;
  private handler: Handler | undefined;
  private cleanup: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;

  constructor(private readonly deps: OidcDeps) {}

  async start(): Promise<void> {
    await this.rotateKeysIfDue();
    await this.build();
    this.cleanup = setInterval(() => void this.housekeeping(), CLEANUP_INTERVAL_MS);
    this.cleanup.unref();
    // Signing out of Rempart (or being disabled) signs the agent out of every relying party.
    this.stopListening = this.deps.identity.onSessionsEnded((ended) => {
      void this.endProviderSessions(ended.agentId, ended.reason).catch((error: unknown) =>
        this.deps.log.error({ err: error }, 'ending relying-party sessions failed'),
      );
    });
  }

  close(): void {
    if (this.cleanup) clearInterval(this.cleanup);
    this.stopListening?.();
  }

  /** The provider's request handler, mounted under `/oidc` (the URL still carries the prefix). */
  handle(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, mount: string): void {
    if (!this.handler) throw RempartError.internal(new Error('the OpenID provider is not started'));
    req.originalUrl = req.url;
    req.url = (req.url ?? '/').slice(mount.length) || '/';
    this.handler(req, res).catch((error: unknown) => {
      this.deps.log.error({ err: error }, 'OpenID provider request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  }

  // ------------------------------------------------------------------ interactions

  /** What the console's sign-in page shows for a pending authorization request. */
  async interaction(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction> {
    const { details, client, maxAge } = await this.pending(req, res);
    return {
      uid: details.uid,
      client: { id: client.id, name: client.name },
      mfaMaxAge: maxAge,
      scopes: text(details.params.scope).split(' ').filter(Boolean),
    };
  }

  /**
   * Completes a pending authorization request for the signed-in agent: refused unless the session
   * is full and its MFA check as recent as the client and the request demand.
   */
  async complete(req: IncomingMessage, res: ServerResponse, auth: Authenticated, ctx: RequestContext) {
    const provider = this.started();
    const { details, client, maxAge } = await this.pending(req, res);
    const mfaAt = auth.session.mfaAt;
    if (!mfaAt) throw IdentityError.mfaRequired();
    // Fresh enough: within the limit, or made after this request began (max_age 0 asks for that).
    if (maxAge !== null) {
      this.deps.identity.requireFreshMfa(auth, maxAge, await this.interactionBegan(details.uid));
    }
    const method = auth.session.mfaMethod ?? 'totp';
    const accountId = auth.agent.id;
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: client.id });
    grant.addOIDCScope(text(details.params.scope) || 'openid');
    const claims = requestedClaims(details.params.claims);
    if (claims.length > 0) grant.addOIDCClaims(claims);
    const grantId = await grant.save();
    const amr = amrFor(method);
    const acr = acrFor(method);
    const redirectTo = await provider.interactionResult(
      req,
      res,
      {
        login: { accountId, amr, acr, ts: Math.floor(mfaAt.getTime() / 1000), remember: false },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
    await this.deps.audit.record({
      action: 'oidc.sign_in',
      outcome: 'success',
      actor: { id: auth.agent.id, email: auth.agent.email },
      targetId: client.id,
      ip: ctx.ip,
      details: { client: client.name, amr, acr, mfaMaxAge: maxAge },
    });
    return { redirectTo };
  }

  /** The agent declines: the relying party is told `access_denied`. */
  async abort(
    req: IncomingMessage,
    res: ServerResponse,
    auth: Authenticated | undefined,
    ctx: RequestContext,
  ) {
    const provider = this.started();
    const { client } = await this.pending(req, res);
    const redirectTo = await provider.interactionResult(
      req,
      res,
      { error: 'access_denied', error_description: 'The agent declined to sign in.' },
      { mergeWithLastSubmission: false },
    );
    await this.deps.audit.record({
      action: 'oidc.sign_in',
      outcome: 'denied',
      ...(auth ? { actor: { id: auth.agent.id, email: auth.agent.email } } : {}),
      targetId: client.id,
      ip: ctx.ip,
      details: { client: client.name, reason: 'declined' },
    });
    return { redirectTo };
  }

  // ----------------------------------------------------------------------- clients

  async listClients(): Promise<OidcClient[]> {
    return (await this.deps.repo.clients()).map(clientView);
  }

  async createClient(
    auth: Authenticated,
    input: OidcClientRequest,
    ctx: RequestContext,
  ): Promise<OidcClientCreated> {
    this.deps.identity.requireFreshMfa(auth);
    const secret = input.public ? null : randomToken(32);
    const row = await this.deps.repo.insertClient({
      id: randomToken(16),
      name: input.name,
      secretSealed: secret === null ? null : this.deps.keys.seal(secret),
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      backchannelLogoutUri: input.backchannelLogoutUri,
      mfaMaxAge: input.mfaMaxAge,
      scopes: [...oidcScopes],
      createdAt: this.deps.clock.now(),
      createdBy: auth.agent.id,
    });
    await this.auditClient(auth.agent, 'oidc_client.created', row, ctx);
    return { client: clientView(row), secret };
  }

  async updateClient(auth: Authenticated, id: string, input: OidcClientRequest, ctx: RequestContext) {
    this.deps.identity.requireFreshMfa(auth);
    const existing = await this.clientRow(id);
    if ((existing.secretSealed === null) !== input.public) {
      throw RempartError.conflict(
        'A client cannot change between public and confidential: register a new one.',
      );
    }
    const row = await this.deps.repo.updateClient(id, {
      name: input.name,
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      backchannelLogoutUri: input.backchannelLogoutUri,
      mfaMaxAge: input.mfaMaxAge,
    });
    if (!row) throw RempartError.notFound('client');
    await this.auditClient(auth.agent, 'oidc_client.updated', row, ctx);
    return clientView(row);
  }

  /** A new secret for a confidential client; the old one stops working at once. */
  async newClientSecret(auth: Authenticated, id: string, ctx: RequestContext): Promise<OidcClientCreated> {
    this.deps.identity.requireFreshMfa(auth);
    const existing = await this.clientRow(id);
    if (existing.secretSealed === null) throw RempartError.conflict('A public client has no secret.');
    const secret = randomToken(32);
    const row =
      (await this.deps.repo.updateClient(id, { secretSealed: this.deps.keys.seal(secret) })) ?? existing;
    await this.auditClient(auth.agent, 'oidc_client.secret_renewed', row, ctx);
    return { client: clientView(row), secret };
  }

  /** A disabled client is unknown to the provider: no sign-in, no token, no refresh. */
  async setClientDisabled(auth: Authenticated, id: string, disabled: boolean, ctx: RequestContext) {
    await this.clientRow(id);
    const row = await this.deps.repo.updateClient(id, {
      disabledAt: disabled ? this.deps.clock.now() : null,
    });
    if (!row) throw RempartError.notFound('client');
    await this.auditClient(auth.agent, disabled ? 'oidc_client.disabled' : 'oidc_client.enabled', row, ctx);
    return clientView(row);
  }

  // -------------------------------------------------------------------------- keys

  async listKeys() {
    const rows = await this.deps.repo.liveKeys();
    return rows.map((row, index) => ({
      kid: row.kid,
      createdAt: row.createdAt.toISOString(),
      rotatedAt: row.rotatedAt?.toISOString() ?? null,
      signing: index === 0,
    }));
  }

  /**
   * A new signing key: it signs from now on; the previous one stays published for the tokens it
   * signed, and keys rotated out long enough ago are withdrawn.
   */
  async rotateKeys(actor: AgentRow | null, ctx: RequestContext | null): Promise<void> {
    const now = this.deps.clock.now();
    const live = await this.deps.repo.liveKeys();
    const kid = await this.newKey(now);
    for (const row of live) await this.deps.repo.markRotated(row.kid, now);
    for (const row of live) {
      if (row.rotatedAt && now.getTime() - row.rotatedAt.getTime() > KEY_PUBLISHED_AFTER_ROTATION_MS) {
        await this.deps.repo.retire(row.kid, now);
      }
    }
    await this.build();
    await this.deps.audit.record({
      action: 'oidc.keys_rotated',
      outcome: 'success',
      ...(actor ? { actor: { id: actor.id, email: actor.email } } : {}),
      targetId: kid,
      ip: ctx?.ip ?? null,
      details: { previous: live.map((row) => row.kid) },
    });
  }

  // ------------------------------------------------------------------- mail tokens

  /** A live access token, for OAUTHBEARER / XOAUTH2 logins to mail. */
  async findAccessToken(token: string): Promise<MailToken | undefined> {
    const provider = this.started();
    if (token.length > 2048) return undefined;
    const found = await provider.AccessToken.find(token);
    if (!found || found.isExpired || !found.accountId || !found.clientId) return undefined;
    // A disabled client's tokens open nothing.
    if (!(await provider.Client.find(found.clientId))) return undefined;
    return { accountId: found.accountId, clientId: found.clientId, scopes: [...found.scopes] };
  }

  // ----------------------------------------------------------------------- helpers

  private started(): Provider {
    if (!this.provider) throw RempartError.internal(new Error('the OpenID provider is not started'));
    return this.provider;
  }

  private async pending(req: IncomingMessage, res: ServerResponse) {
    const provider = this.started();
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      throw IdentityError.interactionInvalid();
    }
    const clientId = text(details.params.client_id);
    const row = await this.deps.repo.client(clientId);
    if (!row || row.disabledAt) throw IdentityError.interactionInvalid();
    // The oldest MFA check it accepts: the client's limit or the request's, whichever is stricter.
    const maxAge = effectiveMaxAge(row.mfaMaxAge, maxAgeParam(details.params.max_age));
    return { details, client: row, maxAge };
  }

  /**
   * When an interaction began, on Rempart's clock: its row expires a fixed time after it was
   * created (a re-save keeps the same end).
   */
  private async interactionBegan(uid: string): Promise<Date> {
    const row = await this.deps.repo.find('Interaction', uid, this.deps.clock.now());
    if (!row?.expiresAt) throw IdentityError.interactionInvalid();
    return new Date(row.expiresAt.getTime() - OIDC_TTL.Interaction * 1000);
  }

  private async clientRow(id: string): Promise<OidcClientRow> {
    const row = await this.deps.repo.client(id);
    if (!row) throw RempartError.notFound('client');
    return row;
  }

  private async auditClient(actor: AgentRow, action: string, row: OidcClientRow, ctx: RequestContext) {
    await this.deps.audit.record({
      action,
      outcome: 'success',
      actor: { id: actor.id, email: actor.email },
      targetId: row.id,
      ip: ctx.ip,
      details: {
        name: row.name,
        redirectUris: row.redirectUris,
        mfaMaxAge: row.mfaMaxAge,
        public: row.secretSealed === null,
      },
    });
  }

  /** The metadata oidc-provider reads for a client id; undefined for unknown or disabled clients. */
  private async clientMetadata(id: string): Promise<AdapterPayload | undefined> {
    const row = await this.deps.repo.client(id);
    if (!row || row.disabledAt) return undefined;
    return {
      client_id: row.id,
      client_name: row.name,
      ...(row.secretSealed === null
        ? { token_endpoint_auth_method: 'none' }
        : {
            client_secret: this.deps.keys.open(row.secretSealed),
            token_endpoint_auth_method: 'client_secret_basic',
          }),
      redirect_uris: row.redirectUris,
      post_logout_redirect_uris: row.postLogoutRedirectUris,
      ...(row.backchannelLogoutUri
        ? { backchannel_logout_uri: row.backchannelLogoutUri, backchannel_logout_session_required: true }
        : {}),
      ...(row.mfaMaxAge === null ? {} : { default_max_age: row.mfaMaxAge }),
      require_auth_time: true,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: row.scopes.join(' '),
    };
  }

  private async newKey(now: Date): Promise<string> {
    const kid = randomUUID();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    await this.deps.repo.insertKey({
      kid,
      jwkSealed: this.deps.keys.seal(JSON.stringify(jwk)),
      createdAt: now,
    });
    return kid;
  }

  private async rotateKeysIfDue(): Promise<void> {
    const [newest] = await this.deps.repo.liveKeys();
    const now = this.deps.clock.now();
    if (!newest) {
      await this.newKey(now);
      return;
    }
    if (now.getTime() - newest.createdAt.getTime() > KEY_SIGNING_DAYS * 86_400_000) {
      await this.rotateKeys(null, null);
    }
  }

  private async housekeeping(): Promise<void> {
    try {
      await this.deps.repo.deleteExpired(this.deps.clock.now());
      await this.rotateKeysIfDue();
    } catch (error) {
      this.deps.log.error({ err: error }, 'OpenID housekeeping failed');
    }
  }

  /** Ends the provider's sessions of an agent, telling each relying party over its back channel. */
  private async endProviderSessions(agentId: string, reason: string): Promise<void> {
    const provider = this.provider;
    if (!provider) return;
    const sessions = await this.deps.repo.sessionsOf(agentId, this.deps.clock.now());
    for (const row of sessions) {
      const authorizations = (row.payload.authorizations ?? {}) as Record<
        string,
        { sid?: string; grantId?: string }
      >;
      for (const [clientId, authorization] of Object.entries(authorizations)) {
        const client = (await provider.Client.find(clientId)) as BackchannelClient | undefined;
        if (client?.backchannelLogoutUri && authorization.sid) {
          await client.backchannelLogout(agentId, authorization.sid).catch((error: unknown) => {
            this.deps.log.warn({ err: error, clientId }, 'back-channel logout failed');
          });
        }
        if (authorization.grantId) await this.deps.repo.revokeByGrantId(authorization.grantId);
      }
      await this.deps.repo.destroy('Session', row.id);
      await this.deps.audit.record({
        action: 'oidc.signed_out',
        outcome: 'success',
        targetId: agentId,
        ip: null,
        details: { clients: Object.keys(authorizations), reason },
      });
    }
  }

  /** Builds (or, after a key rotation, rebuilds) the provider with the published keys. */
  private async build(): Promise<void> {
    const rows = await this.deps.repo.liveKeys();
    const keys = rows.map((row) => JSON.parse(this.deps.keys.open(row.jwkSealed)) as Record<string, unknown>);
    const provider = new Provider(this.deps.issuer, this.configuration(keys));
    provider.proxy = this.deps.proxy;
    provider.use(async (koa, next) => {
      await next();
      const ctx = koa as KoaContextWithOIDC;
      // A relying party's logout, confirmed by the agent, ends their Rempart session too.
      if (ctx.oidc?.route === 'end_session_confirm' && ctx.status === 303 && ctx.oidc.params?.logout) {
        await this.signOutRempart(ctx);
      }
    });
    provider.on('server_error', (_ctx, error) =>
      this.deps.log.error({ err: error }, 'OpenID provider error'),
    );
    provider.on('backchannel.error', (_ctx, error, client) =>
      this.deps.log.warn({ err: error, clientId: client.clientId }, 'back-channel logout failed'),
    );
    this.provider = provider;
    this.handler = provider.callback();
  }

  private async signOutRempart(ctx: KoaContextWithOIDC): Promise<void> {
    const token = ctx.cookies.get(this.deps.sessionCookie);
    if (!token) return;
    const auth = await this.deps.identity.resolveSession(token);
    if (!auth) return;
    const ua = ctx.get('user-agent');
    await this.deps.identity.signOut(auth, { ip: ctx.ip, userAgent: ua.slice(0, 300) });
  }

  private configuration(keys: Record<string, unknown>[]): Configuration {
    const { repo, clock } = this.deps;
    const clientMetadata = (id: string) => this.clientMetadata(id);
    class DatabaseAdapter implements Adapter {
      constructor(private readonly kind: string) {}
      async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
        const expiresAt = expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000) : null;
        await repo.upsert(this.kind, id, payload, expiresAt);
      }
      async find(id: string): Promise<AdapterPayload | undefined> {
        if (this.kind === 'Client') return clientMetadata(id);
        return payloadOf(await repo.find(this.kind, id, clock.now()));
      }
      async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
        return payloadOf(await repo.findBy(this.kind, 'userCode', userCode, clock.now()));
      }
      async findByUid(uid: string): Promise<AdapterPayload | undefined> {
        return payloadOf(await repo.findBy(this.kind, 'uid', uid, clock.now()));
      }
      async consume(id: string): Promise<void> {
        await repo.consume(this.kind, id, clock.now());
      }
      async destroy(id: string): Promise<void> {
        await repo.destroy(this.kind, id);
      }
      async revokeByGrantId(grantId: string): Promise<void> {
        await repo.revokeByGrantId(grantId);
      }
    }

    const policy = interactionPolicy.base();
    // Every authorization request goes through Rempart's sign-in page, which checks Rempart's own
    // session: the provider's session never signs anyone in by itself.
    policy
      .get('login')
      ?.checks.add(
        new interactionPolicy.Check(
          'rempart_sign_in',
          'Rempart checks every sign-in',
          'login_required',
          (ctx) =>
            ctx.oidc.result?.login
              ? interactionPolicy.Check.NO_NEED_TO_PROMPT
              : interactionPolicy.Check.REQUEST_PROMPT,
        ),
      );

    return {
      adapter: DatabaseAdapter,
      clients: [],
      jwks: { keys },
      cookies: {
        keys: [this.deps.keys.pepper('oidc cookies v1')],
        long: { signed: true, httpOnly: true, sameSite: 'lax' },
        short: { signed: true, httpOnly: true, sameSite: 'lax' },
        names: {
          session: 'rempart_oidc_session',
          interaction: 'rempart_oidc_interaction',
          resume: 'rempart_oidc_resume',
        },
      },
      findAccount: async (_ctx, sub) => {
        const agent = await this.deps.identityRepo.agentById(sub);
        // A disabled agent has no account here: their refresh tokens and sessions stop working.
        if (!agent || agent.status !== 'active') return undefined;
        return { accountId: agent.id, claims: () => ({ ...agentClaims(agent), sub: agent.id }) };
      },
      claims: scopeClaims,
      scopes: [...oidcScopes],
      acrValues,
      // The agent's claims go in the ID token itself, not only behind the userinfo endpoint.
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      pkce: { required: () => true, methods: ['S256'] },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => Promise.resolve(logoutPage(ctx, form)),
          postLogoutSuccessSource: (ctx) => Promise.resolve(signedOutPage(ctx)),
        },
        backchannelLogout: { enabled: true },
        claimsParameter: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
      },
      interactions: { url: (_ctx, interaction) => `/oidc/interaction/${interaction.uid}`, policy },
      issueRefreshToken: (_ctx, client) => Promise.resolve(client.grantTypeAllowed('refresh_token')),
      rotateRefreshToken: true,
      ttl: { ...OIDC_TTL },
      renderError: (ctx, out) => Promise.resolve(errorPage(ctx, out)),
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        id_token_signed_response_alg: 'RS256',
        token_endpoint_auth_method: 'client_secret_basic',
      },
    };
  }
}

function payloadOf(row: { payload: Record<string, unknown>; consumedAt: Date | null } | undefined) {
  if (!row) return undefined;
  return {
    ...row.payload,
    ...(row.consumedAt ? { consumed: Math.floor(row.consumedAt.getTime() / 1000) } : {}),
  } as AdapterPayload;
}

/** A request parameter as text ('' when absent or not text). */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function maxAgeParam(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The claim names of an OpenID `claims` request parameter (OIDC Core §5.5). */
function requestedClaims(param: unknown): string[] {
  if (typeof param !== 'string') return [];
  try {
    const parsed = JSON.parse(param) as { id_token?: object; userinfo?: object };
    return [...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})];
  } catch {
    return [];
  }
}

function clientView(row: OidcClientRow): OidcClient {
  return {
    id: row.id,
    name: row.name,
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    backchannelLogoutUri: row.backchannelLogoutUri,
    mfaMaxAge: row.mfaMaxAge,
    public: row.secretSealed === null,
    createdAt: row.createdAt.toISOString(),
    disabledAt: row.disabledAt?.toISOString() ?? null,
  };
}
