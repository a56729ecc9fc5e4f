/**
 * Mail without reusable passwords. IMAP and SMTP clients cannot answer an MFA prompt, so an agent
 * creates, after a fresh MFA check, one password per device: random, scoped to mail, shown once,
 * kept as a keyed hash, expiring, revocable by the agent and by an administrator, and dead with a
 * disabled agent. Mail servers ask `check` whether a login may go ahead; OAuth clients log in with
 * a Rempart access token carrying the `mail` scope instead (OAUTHBEARER, XOAUTH2).
 */
import { randomInt } from 'node:crypto';
import {
  IdentityError,
  RempartError,
  type MailAuthRequest,
  type MailPassword,
  type MailPasswordRequest,
} from '@rempart/core';
import type { Logger } from 'pino';
import type { AlertSink } from '../../alerts/alert.service.js';
import type { AuditLog } from '../../audit/audit.service.js';
import type { Clock } from '../../clock.js';
import type { AgentRow, IdentityRepository } from '../identity.repository.js';
import type { Authenticated, IdentityService, RequestContext } from '../identity.service.js';
import { bearerMatches, type KeyRing } from '../secrets.js';
import type { MailAccessRepository, MailPasswordRow } from './mail-access.repository.js';
import { SprayWindow, defaultSprayPolicy, type SprayPolicy } from './spraying.js';

/** Lower-case letters and digits without look-alikes (no 0/o, 1/l/i): easy to type on a phone. */
const SECRET_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const SECRET_GROUPS = 6;
const SECRET_GROUP_LENGTH = 4;
/** 24 characters of a 31-letter alphabet: 118 bits, far beyond guessing; a fast keyed hash is enough. */
export const MAIL_SECRET_BITS = Math.floor(
  SECRET_GROUPS * SECRET_GROUP_LENGTH * Math.log2(SECRET_ALPHABET.length),
);

const OAUTH_MECHANISMS = new Set(['OAUTHBEARER', 'XOAUTH2']);

/** An access token, as the OpenID provider found it. */
export interface MailToken {
  accountId: string;
  clientId: string;
  scopes: string[];
}

/** Finds a live access token issued by Rempart's OpenID provider; undefined when unknown or expired. */
export type MailTokenFinder = (token: string) => Promise<MailToken | undefined>;

export interface MailAccessDeps {
  repo: MailAccessRepository;
  identityRepo: IdentityRepository;
  identity: IdentityService;
  audit: AuditLog;
  alerts: AlertSink;
  keys: KeyRing;
  clock: Clock;
  log: Logger;
  /** The secret mail servers present; undefined: the gateway is closed. */
  gatewayToken: string | undefined;
  spray?: SprayPolicy;
}

type Checked =
  | { ok: false; refusal: Refusal; agent?: AgentRow }
  | { ok: true; agent: AgentRow; device: MailPasswordRow | undefined; clientId: string | undefined };

type Refusal =
  | 'unknown_user'
  | 'wrong_secret'
  | 'expired'
  | 'revoked'
  | 'agent_inactive'
  | 'token_invalid'
  | 'token_scope'
  | 'throttled';

export class MailAccessService {
  private readonly spray: SprayWindow;
  private readonly sprayPolicy: SprayPolicy;
  private findToken: MailTokenFinder = () => Promise.resolve(undefined);

  constructor(private readonly deps: MailAccessDeps) {
    this.sprayPolicy = deps.spray ?? defaultSprayPolicy;
    this.spray = new SprayWindow(this.sprayPolicy);
  }

  /** The OpenID provider tells which access tokens are live (set once both services exist). */
  useTokenFinder(finder: MailTokenFinder): void {
    this.findToken = finder;
  }

  // ------------------------------------------------------------ agents' passwords

  /** A new password for one device, after an MFA check of the last 10 minutes: the secret is returned once. */
  async create(auth: Authenticated, input: MailPasswordRequest, ctx: RequestContext) {
    this.deps.identity.requireFreshMfa(auth);
    const secret = newSecret();
    const now = this.deps.clock.now();
    const row = await this.deps.repo.insert({
      agentId: auth.agent.id,
      device: input.device,
      secretHash: this.hashOf(secret),
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.days * 86_400_000),
    });
    await this.deps.audit.record({
      action: 'mail_password.created',
      outcome: 'success',
      actor: { id: auth.agent.id, email: auth.agent.email },
      targetId: row.id,
      ip: ctx.ip,
      details: { device: row.device, expiresAt: row.expiresAt.toISOString() },
    });
    return { mailPassword: this.view(row, now), secret };
  }

  async list(agentId: string): Promise<MailPassword[]> {
    const now = this.deps.clock.now();
    return (await this.deps.repo.ofAgent(agentId)).map((row) => this.view(row, now));
  }

  /** The agent revokes one of theirs, or an administrator anyone's. */
  async revoke(actor: AgentRow, id: string, ctx: RequestContext): Promise<MailPassword> {
    const existing = await this.deps.repo.byId(id);
    if (!existing || (existing.agentId !== actor.id && actor.role !== 'admin')) {
      throw RempartError.notFound('mail password');
    }
    const now = this.deps.clock.now();
    const row = (await this.deps.repo.revoke(id, actor.id, now)) ?? existing;
    await this.deps.audit.record({
      action: 'mail_password.revoked',
      outcome: 'success',
      actor: { id: actor.id, email: actor.email },
      targetId: id,
      ip: ctx.ip,
      details: { device: row.device, agentId: row.agentId, byAdministrator: row.agentId !== actor.id },
    });
    return this.view(row, now);
  }

  // ---------------------------------------------------------------- mail servers

  /** Checks a mail server's `Authorization: Bearer <REMPART_MAIL_GATEWAY_TOKEN>`. */
  checkGatewayToken(authorization: string | undefined): void {
    const expected = this.deps.gatewayToken;
    if (expected === undefined) {
      throw new RempartError(
        'mail_gateway_off',
        'No mail server may check logins here: set REMPART_MAIL_GATEWAY_TOKEN to allow one.',
      );
    }
    if (!bearerMatches(authorization, expected)) throw IdentityError.mailGatewayTokenInvalid();
  }

  /**
   * A mail server asks whether a login may go ahead. Every answer is audited with the device and
   * the client's address; failures are counted per source, and a source that sprays many
   * accounts (or guesses one) is refused for a while, even with a right secret.
   */
  async check(request: MailAuthRequest): Promise<{ user: string }> {
    const now = this.deps.clock.now();
    const source = request.remoteIp || 'unknown';
    const user = request.user.trim().toLowerCase();
    const lock = await this.deps.identityRepo.throttle(sourceKey(source));
    if (lock?.lockedUntil && lock.lockedUntil > now) {
      await this.refused(request, user, 'throttled', undefined);
      throw IdentityError.mailAuthThrottled(Math.ceil((lock.lockedUntil.getTime() - now.getTime()) / 1000));
    }
    const oauth = OAUTH_MECHANISMS.has(request.mechanism.toUpperCase());
    const outcome = oauth
      ? await this.checkToken(request, user)
      : await this.checkPassword(request, user, now);
    if (!outcome.ok) {
      await this.refused(request, user, outcome.refusal, outcome.agent);
      await this.countFailure(source, user, now);
      throw IdentityError.mailAuthFailed();
    }
    const { agent, device } = outcome;
    await this.deps.audit.record({
      action: 'mail.login',
      outcome: 'success',
      actor: { id: agent.id, email: agent.email },
      targetId: device?.id ?? null,
      ip: source,
      details: {
        service: request.service,
        mechanism: request.mechanism,
        device: device?.device ?? null,
        ...(oauth ? { client: outcome.clientId } : {}),
      },
    });
    if (device) {
      await this.deps.repo.recordUse(device.id, now, source, request.service);
      // A device reading mail from a new address may be a copied password: the agent and the
      // security team hear of it.
      if (device.lastIp !== null && device.lastIp !== source) {
        await this.deps.alerts.raise({
          severity: 'low',
          source: 'identity',
          title: `Mail password "${device.device}" of ${agent.email} used from a new address ${source}`,
          details: { agentId: agent.id, device: device.device, ip: source, previousIp: device.lastIp },
        });
      }
    }
    return { user: agent.email };
  }

  // --------------------------------------------------------------------- helpers

  private async checkPassword(request: MailAuthRequest, user: string, now: Date): Promise<Checked> {
    const agent = await this.deps.identityRepo.agentByEmail(user);
    if (!agent) return { ok: false, refusal: 'unknown_user' };
    const row = await this.deps.repo.bySecretHash(this.hashOf(request.password));
    if (!row || row.agentId !== agent.id) return { ok: false, refusal: 'wrong_secret', agent };
    if (row.revokedAt) return { ok: false, refusal: 'revoked', agent };
    if (row.expiresAt <= now) return { ok: false, refusal: 'expired', agent };
    if (agent.status !== 'active') return { ok: false, refusal: 'agent_inactive', agent };
    return { ok: true, agent, device: row, clientId: undefined };
  }

  private async checkToken(request: MailAuthRequest, user: string): Promise<Checked> {
    const token = await this.findToken(request.password);
    if (!token) return { ok: false, refusal: 'token_invalid' };
    const agent = await this.deps.identityRepo.agentById(token.accountId);
    if (!agent) return { ok: false, refusal: 'token_invalid' };
    // The name the client gives, when it gives one, must be the token's owner.
    if (user !== '' && user !== agent.email) return { ok: false, refusal: 'token_invalid', agent };
    if (!token.scopes.includes('mail')) return { ok: false, refusal: 'token_scope', agent };
    if (agent.status !== 'active') return { ok: false, refusal: 'agent_inactive', agent };
    return { ok: true, agent, device: undefined, clientId: token.clientId };
  }

  private async refused(
    request: MailAuthRequest,
    user: string,
    reason: Refusal,
    agent: AgentRow | undefined,
  ): Promise<void> {
    await this.deps.audit.record({
      action: 'mail.login',
      outcome: reason === 'throttled' ? 'denied' : 'failure',
      ...(agent ? { actor: { id: agent.id, email: agent.email } } : {}),
      ip: request.remoteIp || 'unknown',
      details: { user: user.slice(0, 320), service: request.service, mechanism: request.mechanism, reason },
    });
  }

  private async countFailure(source: string, user: string, now: Date): Promise<void> {
    const verdict = this.spray.failure(source, user, now.getTime());
    if (this.spray.size > 10_000) this.spray.prune(now.getTime());
    if (verdict.kind === 'none') return;
    const until = new Date(now.getTime() + this.sprayPolicy.lockMs);
    await this.deps.identityRepo.saveThrottle(sourceKey(source), {
      failures: verdict.failures,
      firstFailureAt: now,
      lastFailureAt: now,
      lockedUntil: until,
      locks: 1,
    });
    const what = verdict.kind === 'spraying' ? 'Password spraying' : 'Password guessing';
    await this.deps.audit.record({
      action: 'mail.source_locked',
      outcome: 'denied',
      ip: source,
      details: {
        kind: verdict.kind,
        failures: verdict.failures,
        accounts: verdict.users,
        lockedUntil: until.toISOString(),
      },
    });
    await this.deps.alerts.raise({
      severity: 'high',
      source: 'identity',
      title: `${what} against mail from ${source}: ${verdict.accounts} accounts, ${verdict.failures} failures`,
      details: {
        kind: verdict.kind,
        ip: source,
        accounts: verdict.users,
        failures: verdict.failures,
        lockedUntil: until.toISOString(),
      },
    });
    this.deps.log.warn({ ip: source, kind: verdict.kind, failures: verdict.failures }, 'mail source locked');
  }

  private hashOf(secret: string): string {
    return this.deps.keys.pepper(`mail:${normaliseSecret(secret)}`);
  }

  private view(row: MailPasswordRow, now: Date): MailPassword {
    return {
      id: row.id,
      agentId: row.agentId,
      device: row.device,
      status: row.revokedAt ? 'revoked' : row.expiresAt <= now ? 'expired' : 'active',
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      revokedAt: row.revokedAt?.toISOString() ?? null,
      lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
      lastIp: row.lastIp,
      lastService: row.lastService,
      uses: row.uses,
    };
  }
}

function sourceKey(ip: string): string {
  return `mail-ip:${ip}`;
}

/** A new mail secret: six groups of four, e.g. `k7mq-2vxd-…`. */
export function newSecret(): string {
  const groups = Array.from({ length: SECRET_GROUPS }, () =>
    Array.from(
      { length: SECRET_GROUP_LENGTH },
      () => SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)],
    ).join(''),
  );
  return groups.join('-');
}

/** Dashes, spaces and case are not part of the secret: a client may keep or drop them. */
export function normaliseSecret(typed: string): string {
  return typed.replace(/[\s-]/g, '').toLowerCase();
}
