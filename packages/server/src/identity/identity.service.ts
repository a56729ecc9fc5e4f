/**
 * The identity service: enrolment, sign-in with a second factor for everyone,
 * sessions, factors and recovery codes. Routes call it; it calls its repository,
 * the audit log and the alert stream it is given.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import {
  IdentityError,
  RempartError,
  STEP_UP_MAX_AGE_SECONDS,
  type Agent,
  type Factor,
  type MeResponse,
  type SessionInfo,
  type SessionStage,
  type SessionState,
} from '@rempart/core';
import type { Logger } from 'pino';
import type { AlertSink } from '../alerts/alert.service.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import type { AgentRow, FactorRow, IdentityRepository, SessionRow } from './identity.repository.js';
import { checkPasswordPolicy, decoyPasswordHash, type PasswordHasher } from './password.js';
import { randomToken, sha256Hex, type KeyRing } from './secrets.js';
import {
  afterFailure,
  defaultPolicies,
  waitSeconds,
  type ThrottleKind,
  type ThrottlePolicy,
} from './throttle.js';
import { checkTotp, newTotpSecret, totpUri } from './totp.js';
import {
  authenticationOptions,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  type RelyingParty,
  type StoredCredential,
} from './webauthn.js';

/** Parts of an agent's view that cost a read each. */
interface AgentExtras {
  factorCount: number;
  lockedUntil: string | null;
}

/** How a session's last second-factor check was made. */
export type MfaMethod = NonNullable<SessionRow['mfaMethod']>;

/** Where a request comes from, for the audit log and throttling. */
export interface RequestContext {
  ip: string;
  userAgent: string;
}

export interface Authenticated {
  session: SessionRow;
  agent: AgentRow;
}

/** Result of a step that may create or upgrade a session: `token` is set when the cookie must change. */
export interface SessionStep {
  next: 'mfa' | 'enrol' | 'done';
  token?: string;
  state: SessionState;
}

/** Sessions that just ended: one (`sessionId`) or all of an agent's. */
export interface SessionsEnded {
  agentId: string;
  sessionId?: string;
  reason: 'signed_out' | 'revoked' | 'agent_disabled' | 'mfa_reset';
}

export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 3600 * 1000;
/** A password-only session must finish its second step quickly. */
const PENDING_MFA_MS = 10 * 60 * 1000;
const ENROL_SESSION_MS = 60 * 60 * 1000;
const ENROLMENT_LINK_MS = 24 * 3600 * 1000;
const CHALLENGE_MS = 5 * 60 * 1000;
/** An administrator's own MFA check must be this recent to reset another agent's MFA. */
export const ADMIN_STEP_UP_MAX_AGE_SECONDS = 300;
const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export interface IdentityDeps {
  repo: IdentityRepository;
  audit: AuditLog;
  alerts: AlertSink;
  keys: KeyRing;
  hasher: PasswordHasher;
  clock: Clock;
  publicUrl: string;
  rp: RelyingParty;
  log: Logger;
  policies?: Partial<Record<ThrottleKind, ThrottlePolicy>>;
}

export class IdentityService {
  private readonly repo: IdentityRepository;
  private readonly audit: AuditLog;
  private readonly alerts: AlertSink;
  private readonly keys: KeyRing;
  private readonly hasher: PasswordHasher;
  private readonly clock: Clock;
  private readonly rp: RelyingParty;
  private readonly publicUrl: string;
  private readonly log: Logger;
  private readonly policies: Record<ThrottleKind, ThrottlePolicy>;
  private readonly endedListeners = new Set<(ended: SessionsEnded) => void>();

  constructor(deps: IdentityDeps) {
    this.repo = deps.repo;
    this.audit = deps.audit;
    this.alerts = deps.alerts;
    this.keys = deps.keys;
    this.hasher = deps.hasher;
    this.clock = deps.clock;
    this.rp = deps.rp;
    this.publicUrl = deps.publicUrl;
    this.log = deps.log;
    this.policies = { ...defaultPolicies, ...deps.policies };
  }

  /**
   * Tells other modules when sessions end (sign-out, revocation, agent disabled, MFA reset), so
   * that live connections opened with them (meeting sockets) close at once. Returns the unsubscribe.
   */
  onSessionsEnded(listener: (ended: SessionsEnded) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private sessionsEnded(ended: SessionsEnded): void {
    for (const listener of this.endedListeners) {
      try {
        listener(ended);
      } catch (error) {
        this.log.error({ err: error }, 'session-ended listener failed');
      }
    }
  }

  // ------------------------------------------------------------------ agents

  /** Active agents by email, for invitations; the emails not found are returned apart. */
  async activeAgentsByEmail(emails: readonly string[]): Promise<{ found: AgentRow[]; unknown: string[] }> {
    const rows = await this.repo.agentsByEmails([...new Set(emails)]);
    const active = rows.filter((r) => r.status === 'active');
    const known = new Set(active.map((r) => r.email));
    return { found: active, unknown: emails.filter((e) => !known.has(e)) };
  }

  async agentsByIds(ids: readonly string[]): Promise<AgentRow[]> {
    return ids.length === 0 ? [] : this.repo.agentsByIds([...new Set(ids)]);
  }

  /** The directory hosts pick invitees from: active agents whose name, email or unit matches. */
  async searchDirectory(query: string, limit = 20): Promise<AgentRow[]> {
    return this.repo.searchActiveAgents(query.trim(), limit);
  }

  /** Organisational units that have at least one active agent. */
  async units(): Promise<string[]> {
    return this.repo.activeUnits();
  }

  /**
   * Creates an agent and an enrolment link (24 h, single use). `actor` is the
   * administrator, or null for the command line on the server's machine.
   */
  async inviteAgent(
    actor: AgentRow | null,
    input: {
      email: string;
      displayName: string;
      unit: string;
      role: AgentRow['role'];
      clearance: AgentRow['clearance'];
    },
    ctx: RequestContext,
  ): Promise<{ agent: Agent; enrolmentUrl: string; expiresAt: string }> {
    const now = this.clock.now();
    const row = await this.repo.insertAgent({
      ...input,
      status: 'pending',
      webauthnUserId: randomBytes(32),
      createdAt: now,
    });
    if (!row) throw RempartError.conflict('An agent with this email already exists.');
    const link = await this.issueEnrolmentLink(row, now);
    await this.audit.record({
      action: 'agent.invited',
      outcome: 'success',
      actor: actorRef(actor),
      targetId: row.id,
      ip: ctx.ip,
      details: { email: row.email, role: row.role, clearance: row.clearance, via: actor ? 'console' : 'cli' },
    });
    return { agent: await this.agentView(row), ...link };
  }

  async reissueEnrolmentLink(actor: AgentRow, agentId: string, ctx: RequestContext) {
    const agent = await this.requireAgent(agentId);
    if (agent.status !== 'pending') throw RempartError.conflict('This agent has already enrolled.');
    const link = await this.issueEnrolmentLink(agent, this.clock.now());
    await this.audit.record({
      action: 'enrolment.link_issued',
      outcome: 'success',
      actor: actorRef(actor),
      targetId: agent.id,
      ip: ctx.ip,
    });
    return { agent: await this.agentView(agent), ...link };
  }

  private async issueEnrolmentLink(agent: AgentRow, now: Date) {
    const token = randomToken();
    const expiresAt = new Date(now.getTime() + ENROLMENT_LINK_MS);
    await this.repo.replaceEnrolmentToken(agent.id, sha256Hex(token), now, expiresAt);
    return { enrolmentUrl: `${this.publicUrl}/enrol/${token}`, expiresAt: expiresAt.toISOString() };
  }

  async listAgents(): Promise<Agent[]> {
    const [rows, counts] = await Promise.all([this.repo.listAgents(), this.repo.factorCounts()]);
    const locks = await Promise.all(rows.map((r) => this.repo.throttle(`email:${r.email}`)));
    const now = this.clock.now();
    return rows.map((r, i) => toAgent(r, counts.get(r.id) ?? 0, lockedUntil(locks[i]?.lockedUntil, now)));
  }

  async setDisabled(
    actor: AgentRow,
    agentId: string,
    disabled: boolean,
    ctx: RequestContext,
  ): Promise<Agent> {
    const agent = await this.requireAgent(agentId);
    if (disabled && agent.id === actor.id)
      throw RempartError.conflict('You cannot disable your own account.');
    const now = this.clock.now();
    const hasFactor = (await this.repo.factorsOf(agent.id)).length > 0;
    const status = disabled ? 'disabled' : hasFactor ? 'active' : 'pending';
    const updated = await this.repo.updateAgent(agent.id, { status });
    // Every session of a disabled agent dies at once: they are revoked, and checked on each request.
    const revoked = disabled ? await this.repo.revokeAllSessions(agent.id, now) : 0;
    if (disabled) this.sessionsEnded({ agentId: agent.id, reason: 'agent_disabled' });
    await this.audit.record({
      action: disabled ? 'agent.disabled' : 'agent.enabled',
      outcome: 'success',
      actor: actorRef(actor),
      targetId: agent.id,
      ip: ctx.ip,
      details: disabled ? { sessionsRevoked: revoked } : {},
    });
    return this.agentView(updated ?? agent);
  }

  async unlock(actor: AgentRow, agentId: string, ctx: RequestContext): Promise<Agent> {
    const agent = await this.requireAgent(agentId);
    await this.repo.clearThrottle(`email:${agent.email}`);
    await this.repo.clearThrottle(`mfa:${agent.id}`);
    await this.audit.record({
      action: 'agent.unlocked',
      outcome: 'success',
      actor: actorRef(actor),
      targetId: agent.id,
      ip: ctx.ip,
    });
    return this.agentView(agent);
  }

  /**
   * Removes every factor, recovery code, password and session of an agent and issues a
   * new enrolment link; needs the administrator's own recent MFA check.
   */
  async resetMfa(auth: Authenticated, agentId: string, ctx: RequestContext) {
    this.requireFreshMfa(auth, ADMIN_STEP_UP_MAX_AGE_SECONDS);
    const agent = await this.requireAgent(agentId);
    if (agent.id === auth.agent.id)
      throw RempartError.conflict('Ask another administrator to reset your own MFA.');
    const now = this.clock.now();
    await this.repo.deleteAllFactors(agent.id);
    const revoked = await this.repo.revokeAllSessions(agent.id, now);
    this.sessionsEnded({ agentId: agent.id, reason: 'mfa_reset' });
    const updated = await this.repo.updateAgent(agent.id, { status: 'pending', passwordHash: null });
    const link = await this.issueEnrolmentLink(agent, now);
    await this.audit.record({
      action: 'agent.mfa_reset',
      outcome: 'success',
      actor: actorRef(auth.agent),
      targetId: agent.id,
      ip: ctx.ip,
      details: { sessionsRevoked: revoked },
    });
    return { agent: await this.agentView(updated ?? agent), ...link };
  }

  async hasAdministrator(): Promise<boolean> {
    return (await this.repo.countAdmins()) > 0;
  }

  // --------------------------------------------------------------- enrolment

  async enrolmentInfo(token: string) {
    const link = await this.repo.liveEnrolmentToken(sha256Hex(token), this.clock.now());
    const agent = link && (await this.repo.agentById(link.agentId));
    if (!link || !agent || agent.status !== 'pending') throw IdentityError.enrolmentInvalid();
    return { email: agent.email, displayName: agent.displayName, expiresAt: link.expiresAt.toISOString() };
  }

  /** Sets the password from an enrolment link; the session can then only enrol a factor. */
  async setEnrolmentPassword(token: string, password: string, ctx: RequestContext): Promise<SessionStep> {
    const now = this.clock.now();
    const link = await this.repo.liveEnrolmentToken(sha256Hex(token), now);
    const agent = link && (await this.repo.agentById(link.agentId));
    if (!link || !agent || agent.status !== 'pending') {
      await this.audit.record({
        action: 'enrolment.password_set',
        outcome: 'failure',
        ip: ctx.ip,
        details: { reason: 'invalid_link' },
      });
      throw IdentityError.enrolmentInvalid();
    }
    checkPasswordPolicy(password, [agent.email, agent.displayName]);
    const passwordHash = await this.hasher.hash(password);
    if (!(await this.repo.consumeEnrolmentToken(link.id, now))) throw IdentityError.enrolmentInvalid();
    await this.repo.updateAgent(agent.id, { passwordHash });
    await this.repo.deleteAllFactors(agent.id);
    await this.audit.record({
      action: 'enrolment.password_set',
      outcome: 'success',
      actor: actorRef(agent),
      targetId: agent.id,
      ip: ctx.ip,
    });
    return this.startSession(agent, 'enrol', null, ctx);
  }

  // ----------------------------------------------------------------- sign-in

  /** First step. The answer is the same whatever was wrong: unknown email, wrong password, disabled. */
  async passwordSignIn(email: string, password: string, ctx: RequestContext): Promise<SessionStep> {
    const counted = await this.checkThrottles([
      ['email', `email:${email}`],
      ['ip', `ip:${ctx.ip}`],
    ]);
    const agent = await this.repo.agentByEmail(email);
    const hashed = agent?.passwordHash ?? (await decoyPasswordHash(this.hasher));
    const passwordOk = await this.hasher.verify(hashed, password);
    if (!agent || !agent.passwordHash || !passwordOk || agent.status === 'disabled') {
      const reason = !agent
        ? 'unknown_email'
        : !passwordOk || !agent.passwordHash
          ? 'wrong_password'
          : 'disabled';
      await this.audit.record({
        action: 'auth.password',
        outcome: 'failure',
        actor: agent ? actorRef(agent) : null,
        targetId: agent?.id ?? null,
        ip: ctx.ip,
        details: { email, reason },
      });
      await this.recordFailure('email', `email:${email}`, { email, ip: ctx.ip, agentId: agent?.id ?? null });
      await this.recordFailure('ip', `ip:${ctx.ip}`, { ip: ctx.ip });
      throw IdentityError.invalidCredentials();
    }
    if (counted.has(`email:${email}`)) await this.repo.clearThrottle(`email:${email}`);
    await this.audit.record({
      action: 'auth.password',
      outcome: 'success',
      actor: actorRef(agent),
      targetId: agent.id,
      ip: ctx.ip,
    });
    const factorCount = (await this.repo.factorsOf(agent.id)).length;
    return this.startSession(agent, factorCount > 0 ? 'mfa' : 'enrol', null, ctx, {
      factorCount,
      lockedUntil: null,
    });
  }

  /** Second step of sign-in, or a step-up check in a full session. */
  async verifyTotp(auth: Authenticated, code: string, ctx: RequestContext): Promise<SessionStep> {
    this.requireStage(auth, ['mfa', 'full']);
    const key = `mfa:${auth.agent.id}`;
    const counted = await this.checkThrottles([['mfa', key]]);
    const now = this.clock.now();
    const all = await this.repo.factorsOf(auth.agent.id);
    const totps = all.filter((f) => f.kind === 'totp');
    let reused = false;
    for (const factor of totps) {
      const result = await checkTotp(this.totpSecretOf(factor), code, now, factor.totpLastStep);
      if (result.ok && (await this.repo.advanceTotpStep(factor.id, result.step, now))) {
        if (counted.has(key)) await this.repo.clearThrottle(key);
        await this.audit.record({
          action: 'auth.totp',
          outcome: 'success',
          actor: actorRef(auth.agent),
          targetId: factor.id,
          ip: ctx.ip,
          details: { stepUp: auth.session.stage === 'full' },
        });
        return this.completeMfa(auth, 'totp', { factorCount: all.length, lockedUntil: null });
      }
      if (result.ok || result.reason === 'reused') reused = true;
    }
    await this.audit.record({
      action: 'auth.totp',
      outcome: 'failure',
      actor: actorRef(auth.agent),
      ip: ctx.ip,
      details: { reason: reused ? 'reused' : totps.length === 0 ? 'no_totp_factor' : 'invalid' },
    });
    await this.recordFailure('mfa', key, { email: auth.agent.email, ip: ctx.ip, agentId: auth.agent.id });
    throw reused ? IdentityError.totpReused() : IdentityError.totpInvalid();
  }

  async verifyRecoveryCode(auth: Authenticated, code: string, ctx: RequestContext): Promise<SessionStep> {
    this.requireStage(auth, ['mfa', 'full']);
    const key = `mfa:${auth.agent.id}`;
    await this.checkThrottles([['mfa', key]]);
    if (!(await this.repo.useRecoveryCode(auth.agent.id, this.keys.pepper(code), this.clock.now()))) {
      await this.audit.record({
        action: 'auth.recovery_code',
        outcome: 'failure',
        actor: actorRef(auth.agent),
        ip: ctx.ip,
      });
      await this.recordFailure('mfa', key, { email: auth.agent.email, ip: ctx.ip, agentId: auth.agent.id });
      throw IdentityError.recoveryInvalid();
    }
    await this.repo.clearThrottle(key);
    const left = await this.repo.recoveryCodesLeft(auth.agent.id);
    await this.audit.record({
      action: 'auth.recovery_code',
      outcome: 'success',
      actor: actorRef(auth.agent),
      ip: ctx.ip,
      details: { left },
    });
    if (left <= 2) {
      await this.alerts.raise({
        severity: 'low',
        source: 'identity',
        title: `${auth.agent.email} has ${left} recovery codes left`,
        details: { agentId: auth.agent.id, left },
      });
    }
    return this.completeMfa(auth, 'recovery');
  }

  /** WebAuthn sign-in: with no session a discoverable passkey alone; with a session, its second step or a step-up. */
  async webauthnAuthBegin(auth: Authenticated | undefined) {
    if (auth) this.requireStage(auth, ['mfa', 'full']);
    const credentials = auth ? await this.credentialsOf(auth.agent.id) : 'discoverable';
    if (credentials !== 'discoverable' && credentials.length === 0)
      throw IdentityError.webauthnFailed('no passkey enrolled');
    const options = await authenticationOptions(this.rp, credentials);
    const challenge = await this.repo.insertChallenge({
      purpose: 'authenticate',
      challenge: options.challenge,
      agentId: auth?.agent.id ?? null,
      sessionId: auth?.session.id ?? null,
      expiresAt: new Date(this.clock.now().getTime() + CHALLENGE_MS),
    });
    return { challengeId: challenge.id, options: options as unknown as Record<string, unknown> };
  }

  async webauthnAuthFinish(
    auth: Authenticated | undefined,
    challengeId: string,
    response: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<SessionStep> {
    if (!auth) await this.checkThrottles([['ip', `ip:${ctx.ip}`]]);
    const now = this.clock.now();
    const challenge = await this.repo.takeChallenge(challengeId, now);
    const fail = async (reason: string, agent?: AgentRow): Promise<never> => {
      await this.audit.record({
        action: auth ? 'auth.webauthn' : 'auth.passkey',
        outcome: 'failure',
        actor: agent ? actorRef(agent) : null,
        ip: ctx.ip,
        details: { reason },
      });
      if (agent)
        await this.recordFailure('mfa', `mfa:${agent.id}`, {
          email: agent.email,
          ip: ctx.ip,
          agentId: agent.id,
        });
      else await this.recordFailure('ip', `ip:${ctx.ip}`, { ip: ctx.ip });
      throw IdentityError.webauthnFailed();
    };
    if (
      !challenge ||
      challenge.purpose !== 'authenticate' ||
      (challenge.sessionId ?? undefined) !== auth?.session.id
    ) {
      return fail('unknown_challenge', auth?.agent);
    }
    const credentialId = typeof response.id === 'string' ? response.id : '';
    const factor = credentialId ? await this.repo.factorByCredentialId(credentialId) : undefined;
    if (!factor || !factor.confirmed || (auth && factor.agentId !== auth.agent.id)) {
      return fail('unknown_credential', auth?.agent);
    }
    const agent = auth?.agent ?? (await this.repo.agentById(factor.agentId));
    if (!agent || agent.status !== 'active') return fail('agent_not_active');
    if (auth) await this.checkThrottles([['mfa', `mfa:${agent.id}`]]);
    let verified: { newCounter: number } | undefined;
    try {
      verified = await verifyAuthentication(
        this.rp,
        response as unknown as AuthenticationResponseJSON,
        challenge.challenge,
        credentialOf(factor),
        // A passkey alone is both factors: it must have verified the user (PIN or biometrics).
        !auth,
      );
    } catch (error) {
      this.log.debug({ err: error }, 'webauthn assertion rejected');
    }
    if (!verified) return fail('assertion_rejected', agent);
    await this.repo.updateFactor(factor.id, { signCount: verified.newCounter, lastUsedAt: now });
    await this.audit.record({
      action: auth ? 'auth.webauthn' : 'auth.passkey',
      outcome: 'success',
      actor: actorRef(agent),
      targetId: factor.id,
      ip: ctx.ip,
      details: auth ? { stepUp: auth.session.stage === 'full' } : {},
    });
    if (auth) return this.completeMfa(auth, 'webauthn');
    await this.repo.updateAgent(agent.id, { lastSignInAt: now });
    return this.startSession(agent, 'full', { at: now, method: 'passkey' }, ctx);
  }

  async signOut(auth: Authenticated, ctx: RequestContext): Promise<void> {
    await this.repo.revokeSession(auth.agent.id, auth.session.id, this.clock.now());
    this.sessionsEnded({ agentId: auth.agent.id, sessionId: auth.session.id, reason: 'signed_out' });
    await this.audit.record({
      action: 'auth.sign_out',
      outcome: 'success',
      actor: actorRef(auth.agent),
      targetId: auth.session.id,
      ip: ctx.ip,
    });
  }

  // ---------------------------------------------------------------- sessions

  /** Finds the live session behind a cookie token, or undefined (expired, idle, revoked, agent disabled). */
  async resolveSession(token: string): Promise<Authenticated | undefined> {
    if (token.length !== 43) return undefined;
    const session = await this.repo.sessionByTokenHash(sha256Hex(token));
    const now = this.clock.now();
    if (!session || session.revokedAt || session.expiresAt <= now) return undefined;
    if (now.getTime() - session.lastSeenAt.getTime() > SESSION_IDLE_MS) return undefined;
    const agent = await this.repo.agentById(session.agentId);
    if (!agent || agent.status === 'disabled') return undefined;
    if (session.stage !== 'enrol' && agent.status !== 'active') return undefined;
    if (now.getTime() - session.lastSeenAt.getTime() > 30_000) {
      await this.repo.updateSession(session.id, { lastSeenAt: now });
    }
    return { session, agent };
  }

  /** `known` saves the reads a caller has just done (factor count, lock) on the sign-in path. */
  async sessionState(auth: Authenticated, known?: AgentExtras): Promise<SessionState> {
    return {
      authenticated: true,
      stage: auth.session.stage,
      agent: known
        ? toAgent(auth.agent, known.factorCount, known.lockedUntil)
        : await this.agentView(auth.agent),
      csrfToken: this.keys.csrfToken(auth.session.id),
      mfaAt: auth.session.mfaAt?.toISOString() ?? null,
      expiresAt: auth.session.expiresAt.toISOString(),
    };
  }

  csrfTokenFor(sessionId: string): string {
    return this.keys.csrfToken(sessionId);
  }

  async listSessions(auth: Authenticated): Promise<SessionInfo[]> {
    const rows = await this.repo.liveSessionsOf(auth.agent.id, this.clock.now());
    return rows.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
      ip: s.ip,
      userAgent: s.userAgent,
      stage: s.stage,
      mfaAt: s.mfaAt?.toISOString() ?? null,
      current: s.id === auth.session.id,
    }));
  }

  async revokeSession(auth: Authenticated, sessionId: string, ctx: RequestContext): Promise<void> {
    if (!(await this.repo.revokeSession(auth.agent.id, sessionId, this.clock.now()))) {
      throw RempartError.notFound('session');
    }
    this.sessionsEnded({ agentId: auth.agent.id, sessionId, reason: 'revoked' });
    await this.audit.record({
      action: 'session.revoked',
      outcome: 'success',
      actor: actorRef(auth.agent),
      targetId: sessionId,
      ip: ctx.ip,
    });
  }

  /**
   * Step-up: sensitive actions need a second-factor check no older than `maxAgeSeconds`, or made
   * at or after `since` (the start of the request it is for: with a limit of 0, a check made for it).
   */
  requireFreshMfa(auth: Authenticated, maxAgeSeconds = STEP_UP_MAX_AGE_SECONDS, since?: Date): void {
    const at = auth.session.mfaAt;
    const recent = at !== null && this.clock.now().getTime() - at.getTime() <= maxAgeSeconds * 1000;
    const afterwards = at !== null && since !== undefined && at >= since;
    if (!recent && !afterwards) {
      throw IdentityError.stepUpRequired(maxAgeSeconds);
    }
  }

  // ----------------------------------------------------------------- factors

  async me(auth: Authenticated): Promise<MeResponse> {
    const factorRows = await this.repo.factorsOf(auth.agent.id);
    return {
      agent: await this.agentView(auth.agent),
      factors: factorRows.map(toFactor),
      recoveryCodesLeft: await this.repo.recoveryCodesLeft(auth.agent.id),
    };
  }

  async totpBegin(auth: Authenticated): Promise<{ secret: string; otpauthUri: string }> {
    this.requireEnrolOrFresh(auth);
    const secret = newTotpSecret();
    await this.repo.deleteUnconfirmedTotp(auth.agent.id);
    await this.repo.insertFactor({
      agentId: auth.agent.id,
      kind: 'totp',
      label: 'Authenticator app',
      totpSecretSealed: this.keys.seal(secret),
      confirmed: false,
      createdAt: this.clock.now(),
    });
    return { secret, otpauthUri: totpUri(secret, auth.agent.email) };
  }

  async totpConfirm(auth: Authenticated, code: string, label: string | undefined, ctx: RequestContext) {
    this.requireEnrolOrFresh(auth);
    const pending = (await this.repo.factorsOf(auth.agent.id, false)).find(
      (f) => f.kind === 'totp' && !f.confirmed,
    );
    if (!pending) throw RempartError.badRequest('Start the authenticator enrolment first.');
    const now = this.clock.now();
    const result = await checkTotp(this.totpSecretOf(pending), code, now, null);
    if (!result.ok) {
      await this.audit.record({
        action: 'factor.added',
        outcome: 'failure',
        actor: actorRef(auth.agent),
        ip: ctx.ip,
        details: { kind: 'totp', reason: 'invalid_code' },
      });
      throw IdentityError.totpInvalid();
    }
    await this.repo.updateFactor(pending.id, {
      confirmed: true,
      totpLastStep: result.step,
      lastUsedAt: now,
      label: label ?? 'Authenticator app',
      createdAt: now,
    });
    const factor = await this.repo.factorById(pending.id);
    if (!factor) throw RempartError.internal();
    return this.factorAdded(auth, factor, ctx);
  }

  async webauthnRegisterBegin(auth: Authenticated) {
    this.requireEnrolOrFresh(auth);
    const options = await registrationOptions(
      this.rp,
      { id: auth.agent.webauthnUserId, email: auth.agent.email, displayName: auth.agent.displayName },
      await this.credentialsOf(auth.agent.id),
    );
    const challenge = await this.repo.insertChallenge({
      purpose: 'register',
      challenge: options.challenge,
      agentId: auth.agent.id,
      sessionId: auth.session.id,
      expiresAt: new Date(this.clock.now().getTime() + CHALLENGE_MS),
    });
    return { challengeId: challenge.id, options: options as unknown as Record<string, unknown> };
  }

  async webauthnRegisterFinish(
    auth: Authenticated,
    challengeId: string,
    response: Record<string, unknown>,
    label: string | undefined,
    ctx: RequestContext,
  ) {
    this.requireEnrolOrFresh(auth);
    const now = this.clock.now();
    const challenge = await this.repo.takeChallenge(challengeId, now);
    if (!challenge || challenge.purpose !== 'register' || challenge.sessionId !== auth.session.id) {
      throw IdentityError.webauthnFailed('unknown or expired challenge');
    }
    let credential: StoredCredential | undefined;
    try {
      credential = await verifyRegistration(
        this.rp,
        response as unknown as RegistrationResponseJSON,
        challenge.challenge,
      );
    } catch (error) {
      this.log.debug({ err: error }, 'webauthn registration rejected');
    }
    if (!credential || (await this.repo.factorByCredentialId(credential.id))) {
      await this.audit.record({
        action: 'factor.added',
        outcome: 'failure',
        actor: actorRef(auth.agent),
        ip: ctx.ip,
        details: { kind: 'webauthn' },
      });
      throw IdentityError.webauthnFailed();
    }
    const factor = await this.repo.insertFactor({
      agentId: auth.agent.id,
      kind: 'webauthn',
      label: label ?? 'Passkey',
      credentialId: credential.id,
      publicKey: credential.publicKey,
      signCount: credential.counter,
      transports: credential.transports,
      confirmed: true,
      createdAt: now,
      lastUsedAt: now,
    });
    return this.factorAdded(auth, factor, ctx);
  }

  async removeFactor(auth: Authenticated, factorId: string, ctx: RequestContext): Promise<void> {
    this.requireFreshMfa(auth);
    const all = await this.repo.factorsOf(auth.agent.id);
    const factor = all.find((f) => f.id === factorId);
    if (!factor) throw RempartError.notFound('factor');
    if (all.length <= 1) throw IdentityError.lastFactor();
    await this.repo.deleteFactor(factor.id);
    await this.audit.record({
      action: 'factor.removed',
      outcome: 'success',
      actor: actorRef(auth.agent),
      targetId: factor.id,
      ip: ctx.ip,
      details: { kind: factor.kind },
    });
  }

  async regenerateRecoveryCodes(auth: Authenticated, ctx: RequestContext): Promise<string[]> {
    this.requireFreshMfa(auth);
    const codes = await this.newRecoveryCodes(auth.agent.id);
    await this.audit.record({
      action: 'recovery_codes.generated',
      outcome: 'success',
      actor: actorRef(auth.agent),
      ip: ctx.ip,
    });
    return codes;
  }

  // ----------------------------------------------------------------- helpers

  /** The first confirmed factor completes the account: it becomes active and gets its recovery codes. */
  private async factorAdded(auth: Authenticated, factor: FactorRow, ctx: RequestContext) {
    await this.audit.record({
      action: 'factor.added',
      outcome: 'success',
      actor: actorRef(auth.agent),
      targetId: factor.id,
      ip: ctx.ip,
      details: { kind: factor.kind },
    });
    if (auth.session.stage !== 'enrol') return { factor: toFactor(factor) };
    const recoveryCodes = await this.newRecoveryCodes(auth.agent.id);
    const agent =
      (await this.repo.updateAgent(auth.agent.id, { status: 'active', lastSignInAt: this.clock.now() })) ??
      auth.agent;
    await this.audit.record({
      action: 'enrolment.completed',
      outcome: 'success',
      actor: actorRef(agent),
      targetId: agent.id,
      ip: ctx.ip,
    });
    const step = await this.upgrade({ session: auth.session, agent }, 'full', factor.kind);
    return { factor: toFactor(factor), recoveryCodes, token: step.token, state: step.state };
  }

  private async newRecoveryCodes(agentId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
      Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join(''),
    );
    await this.repo.replaceRecoveryCodes(
      agentId,
      codes.map((c) => this.keys.pepper(c)),
    );
    return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
  }

  private async completeMfa(
    auth: Authenticated,
    method: MfaMethod,
    known?: AgentExtras,
  ): Promise<SessionStep> {
    if (auth.session.stage === 'mfa') {
      await this.repo.updateAgent(auth.agent.id, { lastSignInAt: this.clock.now() });
    }
    return this.upgrade(auth, 'full', method, known);
  }

  /**
   * Moves a session to a new stage with a fresh token (no session fixation across a
   * privilege change) and a fresh MFA time.
   */
  private async upgrade(
    auth: Authenticated,
    stage: SessionStage,
    method: MfaMethod,
    known?: AgentExtras,
  ): Promise<SessionStep> {
    const now = this.clock.now();
    const token = randomToken();
    const wasFull = auth.session.stage === 'full';
    const session = await this.repo.updateSession(auth.session.id, {
      tokenHash: sha256Hex(token),
      stage,
      mfaAt: now,
      mfaMethod: method,
      lastSeenAt: now,
      // The absolute lifetime starts when the session becomes full; a step-up does not extend it.
      ...(wasFull ? {} : { expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS) }),
    });
    if (!session) throw IdentityError.unauthenticated();
    return { next: 'done', token, state: await this.sessionState({ session, agent: auth.agent }, known) };
  }

  private async startSession(
    agent: AgentRow,
    stage: SessionStage,
    mfa: { at: Date; method: MfaMethod } | null,
    ctx: RequestContext,
    known?: AgentExtras,
  ): Promise<SessionStep> {
    const now = this.clock.now();
    const token = randomToken();
    const lifetime =
      stage === 'full' ? SESSION_ABSOLUTE_MS : stage === 'mfa' ? PENDING_MFA_MS : ENROL_SESSION_MS;
    const session = await this.repo.insertSession({
      id: randomUUID(),
      agentId: agent.id,
      tokenHash: sha256Hex(token),
      stage,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + lifetime),
      mfaAt: mfa?.at ?? null,
      mfaMethod: mfa?.method ?? null,
      ip: ctx.ip,
      userAgent: ctx.userAgent.slice(0, 300),
    });
    const next = stage === 'full' ? 'done' : stage;
    return { next, token, state: await this.sessionState({ session, agent }, known) };
  }

  private requireStage(auth: Authenticated, stages: SessionStage[]): void {
    if (stages.includes(auth.session.stage)) return;
    throw auth.session.stage === 'enrol' ? IdentityError.enrolmentRequired() : IdentityError.mfaRequired();
  }

  /** Adding a factor: during enrolment, or in a full session with a recent MFA check. */
  private requireEnrolOrFresh(auth: Authenticated): void {
    if (auth.session.stage === 'enrol') return;
    this.requireStage(auth, ['full']);
    this.requireFreshMfa(auth);
  }

  /** Refuses the attempt while any key must wait; returns the keys that have counted failures. */
  private async checkThrottles(keys: [ThrottleKind, string][]): Promise<Set<string>> {
    const now = this.clock.now();
    let wait = 0;
    const counted = new Set<string>();
    for (const [kind, key] of keys) {
      const state = await this.repo.throttle(key);
      if (state) counted.add(key);
      wait = Math.max(wait, waitSeconds(this.policies[kind], state, now));
    }
    if (wait > 0) throw IdentityError.tooManyAttempts(wait);
    return counted;
  }

  /** Counts a failure; a key that becomes locked is a failure burst and raises an alert. */
  private async recordFailure(
    kind: ThrottleKind,
    key: string,
    who: { email?: string; ip: string; agentId?: string | null },
  ): Promise<void> {
    const now = this.clock.now();
    const { state, locked } = afterFailure(this.policies[kind], await this.repo.throttle(key), now);
    await this.repo.saveThrottle(key, state);
    if (!locked) return;
    const until = state.lockedUntil?.toISOString();
    await this.audit.record({
      action: 'auth.locked',
      outcome: 'denied',
      targetId: who.agentId ?? null,
      ip: who.ip,
      details: { key: kind, email: who.email, failures: state.failures, lockedUntil: until },
    });
    const subject = kind === 'ip' ? `source ${who.ip}` : (who.email ?? 'an account');
    await this.alerts.raise({
      severity: kind === 'ip' ? 'high' : 'medium',
      source: 'identity',
      title: `Sign-in locked after ${state.failures} failures: ${subject}`,
      details: {
        kind,
        email: who.email ?? null,
        ip: who.ip,
        agentId: who.agentId ?? null,
        failures: state.failures,
        lockedUntil: until,
      },
    });
    this.log.warn({ kind, ip: who.ip, agentId: who.agentId }, 'sign-in locked');
  }

  private totpSecretOf(factor: FactorRow): string {
    if (!factor.totpSecretSealed) throw RempartError.internal(new Error('TOTP factor without a secret'));
    return this.keys.open(factor.totpSecretSealed);
  }

  private async credentialsOf(agentId: string): Promise<StoredCredential[]> {
    return (await this.repo.factorsOf(agentId)).filter((f) => f.kind === 'webauthn').map(credentialOf);
  }

  private async requireAgent(id: string): Promise<AgentRow> {
    const agent = await this.repo.agentById(id);
    if (!agent) throw RempartError.notFound('agent');
    return agent;
  }

  private async agentView(row: AgentRow): Promise<Agent> {
    const [factorRows, throttle] = await Promise.all([
      this.repo.factorsOf(row.id),
      this.repo.throttle(`email:${row.email}`),
    ]);
    return toAgent(row, factorRows.length, lockedUntil(throttle?.lockedUntil, this.clock.now()));
  }
}

function actorRef(agent: AgentRow | null): { id: string; email: string } | null {
  return agent ? { id: agent.id, email: agent.email } : null;
}

function lockedUntil(until: Date | null | undefined, now: Date): string | null {
  return until && until > now ? until.toISOString() : null;
}

function toAgent(row: AgentRow, factorCount: number, locked: string | null): Agent {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    unit: row.unit,
    role: row.role,
    clearance: row.clearance,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    lastSignInAt: row.lastSignInAt?.toISOString() ?? null,
    factorCount,
    lockedUntil: locked,
  };
}

function toFactor(row: FactorRow): Factor {
  return {
    id: row.id,
    kind: row.kind,
    label: row.label,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

function credentialOf(f: FactorRow): StoredCredential {
  return {
    id: f.credentialId ?? '',
    publicKey: f.publicKey ?? new Uint8Array(),
    counter: f.signCount ?? 0,
    transports: f.transports ?? [],
  };
}
