/**
 * Meetings: scheduling, link rotation, and the admission decision applied to a live
 * request. The in-meeting state (roster, lobby, media) lives in `MeetingRoom`s, kept by
 * the `RoomRegistry`; this service is the only one that reads or writes meetings.
 */
import { randomBytes } from 'node:crypto';
import {
  RempartError,
  e2eeRequired,
  type AgentRef,
  type AttemptPerson,
  type CreateMeetingRequest,
  type Meeting,
  type MeetingPreview,
  type MeetingView,
  MEETING_MAX_HOURS,
} from '@rempart/core';
import type { AlertSink } from '../alerts/alert.service.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import type { AgentRow } from '../identity/identity.repository.js';
import type { Authenticated, IdentityService, RequestContext } from '../identity/identity.service.js';
import type { Logger } from '../logger.js';
import {
  decideAdmission,
  type AdmissionDecision,
  type AdmissionMeeting,
  type AdmissionPerson,
  type Standing,
} from './admission.js';
import { AttemptLimiter } from './attempts.js';
import type { GuestPass } from './guests.js';
import type { MeetingRecord, MeetingsRepository } from './meetings.repository.js';

/** Refused attempts one source may make in the window before it is refused outright. */
export const ATTEMPT_LIMIT = 10;
export const ATTEMPT_WINDOW_MS = 5 * 60 * 1000;

export interface MeetingsDeps {
  repo: MeetingsRepository;
  identity: IdentityService;
  audit: AuditLog;
  alerts: AlertSink;
  clock: Clock;
  publicUrl: string;
  log: Logger;
  /** Outgoing mail is configured, so guests can receive their codes. */
  mailConfigured: boolean;
  stepUpSeconds: number;
}

/** Who is asking: an agent's session, and a way to find a guest pass for the meeting asked for. */
export interface Requester {
  auth: Authenticated | undefined;
  guest?: (meetingId: string) => Promise<GuestPass | undefined>;
}

/** A join attempt as the rooms see it: who, what was decided, and whether the hosts should hear of it. */
export interface JoinAttempt {
  record: MeetingRecord;
  decision: AdmissionDecision;
  person: AdmissionPerson;
  /** The person as hosts will see them: verified name and unit, or what is known of a stranger. */
  label: string;
  /** The same person, structured, for hosts' consoles to word in their own language. */
  who: AttemptPerson;
  guest: GuestPass | undefined;
}

export function newLinkId(): string {
  return randomBytes(16).toString('base64url');
}

const isHostRole = (agent: AgentRow) => agent.role === 'host' || agent.role === 'admin';

export class MeetingsService {
  private readonly limiter = new AttemptLimiter({ limit: ATTEMPT_LIMIT, windowMs: ATTEMPT_WINDOW_MS });

  constructor(private readonly deps: MeetingsDeps) {}

  // -------------------------------------------------------------- scheduling

  async create(auth: Authenticated, request: CreateMeetingRequest, ctx: RequestContext): Promise<Meeting> {
    const { identity, clock } = this.deps;
    if (!isHostRole(auth.agent))
      throw RempartError.forbidden('Only hosts and administrators schedule meetings.');
    const startsAt = new Date(request.startsAt);
    const endsAt = new Date(request.endsAt);
    if (endsAt <= startsAt) throw RempartError.validation('The meeting must end after it starts.');
    if (endsAt.getTime() - startsAt.getTime() > MEETING_MAX_HOURS * 3600_000)
      throw RempartError.validation(`A meeting lasts at most ${MEETING_MAX_HOURS} hours.`);
    if (endsAt <= clock.now()) throw RempartError.validation('The meeting would already be over.');
    if (
      request.options.guests &&
      (request.classification === 'restricted' || request.classification === 'secret')
    )
      throw RempartError.validation('External guests cannot join restricted or secret meetings.');
    if (!request.options.e2ee && e2eeRequired(request.classification))
      throw new RempartError(
        'e2ee_required',
        `A ${request.classification} meeting is always end-to-end encrypted.`,
      );
    if (request.options.guests && !this.deps.mailConfigured)
      throw RempartError.validation(
        'External guests receive a code by email: configure REMPART_SMTP_URL first.',
      );

    const emails = [...request.cohosts, ...request.invitees.emails];
    const { found, unknown } = await identity.activeAgentsByEmail(emails);
    if (unknown.length > 0)
      throw RempartError.validation(`No active agent with the email ${unknown.slice(0, 5).join(', ')}.`);
    const byEmail = new Map(found.map((a) => [a.email, a]));
    const cohosts = request.cohosts.map((e) => byEmail.get(e)).filter((a): a is AgentRow => a !== undefined);
    const uncleared = [auth.agent, ...cohosts].filter((a) => !clearsLevel(a, request.classification));
    if (uncleared.length > 0)
      throw RempartError.validation(
        `Every host needs clearance for a ${request.classification} meeting: ${uncleared.map((a) => a.email).join(', ')}.`,
      );
    const hostIds = [...new Set([auth.agent.id, ...cohosts.map((a) => a.id)])];
    const inviteeIds = [
      ...new Set(request.invitees.emails.map((e) => byEmail.get(e)?.id).filter((id) => id !== undefined)),
    ];
    const record = await this.deps.repo.create(
      {
        linkId: newLinkId(),
        title: request.title,
        classification: request.classification,
        startsAt,
        endsAt,
        lobby: request.options.lobby,
        guests: request.options.guests,
        e2ee: request.options.e2ee,
        createdAt: clock.now(),
        createdBy: auth.agent.id,
      },
      hostIds,
      inviteeIds,
      [...new Set(request.invitees.units)],
    );
    await this.deps.audit.record({
      action: 'meeting.created',
      outcome: 'success',
      actor: { id: auth.agent.id, email: auth.agent.email },
      targetId: record.row.id,
      ip: ctx.ip,
      details: {
        classification: record.row.classification,
        hosts: hostIds.length,
        invitees: inviteeIds.length,
        units: record.units,
        lobby: record.row.lobby,
        guests: record.row.guests,
        e2ee: record.row.e2ee,
      },
    });
    return this.view(record);
  }

  async list(auth: Authenticated): Promise<Meeting[]> {
    const records = await this.deps.repo.forAgent(auth.agent.id, auth.agent.unit);
    return Promise.all(records.map((r) => this.view(r)));
  }

  /** Hosts and invitees see a meeting; to anyone else it does not exist. */
  async get(auth: Authenticated, id: string): Promise<Meeting> {
    const record = await this.deps.repo.byId(id);
    if (!record || !isMember(record, auth.agent)) throw RempartError.notFound('meeting');
    return this.view(record);
  }

  async requireHosted(auth: Authenticated, id: string): Promise<MeetingRecord> {
    const record = await this.deps.repo.byId(id);
    if (!record || !isMember(record, auth.agent)) throw RempartError.notFound('meeting');
    if (!record.hostIds.includes(auth.agent.id))
      throw RempartError.forbidden('Only the meeting’s hosts can do this.');
    return record;
  }

  /** A new link; the old one stops working at once. */
  async rotateLink(actor: { id: string; email: string } | null, id: string, ip: string | null, why: string) {
    const record = await this.deps.repo.update(id, { linkId: newLinkId() });
    if (!record) throw RempartError.notFound('meeting');
    await this.deps.audit.record({
      action: 'meeting.link_rotated',
      outcome: 'success',
      actor,
      targetId: id,
      ip,
      details: { why },
    });
    return record;
  }

  async setLocked(id: string, locked: boolean): Promise<MeetingRecord> {
    const record = await this.deps.repo.update(id, { locked });
    if (!record) throw RempartError.notFound('meeting');
    return record;
  }

  async end(id: string): Promise<MeetingRecord> {
    const record = await this.deps.repo.update(id, { endedAt: this.deps.clock.now() });
    if (!record) throw RempartError.notFound('meeting');
    return record;
  }

  async addHost(id: string, agentId: string): Promise<void> {
    await this.deps.repo.addHost(id, agentId);
  }

  async directory(query: string): Promise<AgentRow[]> {
    return this.deps.identity.searchDirectory(query);
  }

  async units(): Promise<string[]> {
    return this.deps.identity.units();
  }

  async byLinkId(linkId: string): Promise<MeetingRecord | undefined> {
    return this.deps.repo.byLinkId(linkId);
  }

  async hostEmails(record: MeetingRecord): Promise<string[]> {
    return (await this.deps.identity.agentsByIds(record.hostIds)).map((a) => a.email);
  }

  async openLinks(): Promise<{ id: string; linkId: string }[]> {
    return this.deps.repo.openLinks();
  }

  async byId(id: string): Promise<MeetingRecord | undefined> {
    return this.deps.repo.byId(id);
  }

  // ---------------------------------------------------------------- admission

  /**
   * Decides a join attempt and writes it to the audit log. `source` is the requester's
   * address; a source past the limit of refused attempts is refused outright, and crossing
   * the limit raises an alert. Unknown links are refused like any stranger and audited too.
   */
  async attempt(
    linkId: string,
    requester: Requester,
    standingOf: (meetingId: string, person: AdmissionPerson) => Promise<Standing>,
    ctx: RequestContext & { via: 'http' | 'socket' },
  ): Promise<JoinAttempt | { record: undefined; decision: AdmissionDecision }> {
    const now = this.deps.clock.now();
    const { auth } = requester;
    let person = personOf(auth);
    // A signed-in person is limited as themselves, so that one agent behind an institution's
    // NAT cannot shut out their colleagues; a signed-out one by their address.
    const source = person.kind === 'agent' ? `agent:${person.id}` : `ip:${ctx.ip}`;
    const record = await this.deps.repo.byLinkId(linkId);
    const actor = auth ? { id: auth.agent.id, email: auth.agent.email } : null;

    if (this.limiter.isLimited(source, now)) {
      const decision: AdmissionDecision = { outcome: 'refuse', reason: 'rate_limited', invited: false };
      await this.deps.audit.record({
        action: 'meeting.join',
        outcome: 'denied',
        actor,
        targetId: record?.row.id ?? null,
        ip: ctx.ip,
        details: { via: ctx.via, outcome: 'refuse', reason: 'rate_limited' },
      });
      return record
        ? { record, decision, person, ...describe(auth, undefined, ctx.ip), guest: undefined }
        : { record: undefined, decision };
    }

    if (!record) {
      await this.countRefusal(source, ctx.ip, actor, null);
      await this.deps.audit.record({
        action: 'meeting.join',
        outcome: 'denied',
        actor,
        targetId: null,
        ip: ctx.ip,
        details: { via: ctx.via, outcome: 'refuse', reason: 'unknown_link' },
      });
      return { record: undefined, decision: { outcome: 'refuse', reason: 'not_invited', invited: false } };
    }

    // A guest pass counts only for its own meeting, and only for someone without an agent session.
    const guest = person.kind === 'anonymous' ? await requester.guest?.(record.row.id) : undefined;
    if (guest) person = { kind: 'guest', email: guest.email };
    const decision = decideAdmission({
      meeting: admissionMeeting(record, this.deps.stepUpSeconds),
      person,
      standing: await standingOf(record.row.id, person),
      now,
    });
    await this.deps.audit.record({
      action: 'meeting.join',
      outcome: decision.outcome === 'admit' ? 'success' : 'denied',
      actor,
      targetId: record.row.id,
      ip: ctx.ip,
      details: {
        via: ctx.via,
        outcome: decision.outcome,
        reason: decision.reason,
        invited: decision.invited,
        classification: record.row.classification,
        ...(guest && { guest: guest.email }),
      },
    });
    if (decision.outcome === 'refuse') await this.countRefusal(source, ctx.ip, actor, record);
    return { record, decision, person, ...describe(auth, guest, ctx.ip), guest };
  }

  private async countRefusal(
    source: string,
    ip: string,
    actor: { id: string; email: string } | null,
    record: MeetingRecord | null,
  ): Promise<void> {
    const count = this.limiter.record(source, this.deps.clock.now());
    if (!count.crossed) return;
    await this.deps.alerts.raise({
      severity: 'high',
      source: 'meetings',
      title: `Repeated refused attempts to join meetings from ${actor ? actor.email : ip}`,
      details: {
        ip,
        attempts: count.count,
        windowSeconds: ATTEMPT_WINDOW_MS / 1000,
        agent: actor?.email ?? null,
        meetingId: record?.row.id ?? null,
        meetingTitle: record?.row.title ?? null,
      },
    });
    this.deps.log.warn({ ip, attempts: count.count }, 'meeting join attempts rate-limited');
  }

  /** A refused attempt that looks hostile (a stranger holding the link) is raised as an alert. */
  async alertRefused(attempt: JoinAttempt, ip: string): Promise<void> {
    const { record, decision } = attempt;
    if (decision.outcome !== 'refuse' || decision.reason === 'rate_limited') return;
    if (
      !['unauthenticated', 'not_invited', 'clearance', 'locked', 'removed', 'denied'].includes(
        decision.reason ?? '',
      )
    )
      return;
    const sensitive = record.row.classification === 'restricted' || record.row.classification === 'secret';
    await this.deps.alerts.raise({
      severity: sensitive ? 'high' : 'medium',
      source: 'meetings',
      title: `Refused: ${attempt.label} tried to join “${record.row.title}” (${decision.reason})`,
      details: {
        meetingId: record.row.id,
        classification: record.row.classification,
        reason: decision.reason,
        who: attempt.label,
        ip,
        hosts: record.hostIds,
      },
    });
  }

  // ------------------------------------------------------------------- views

  preview(record: MeetingRecord): MeetingPreview {
    return {
      linkId: record.row.linkId,
      title: record.row.title,
      classification: record.row.classification,
      startsAt: record.row.startsAt.toISOString(),
      endsAt: record.row.endsAt.toISOString(),
    };
  }

  meetingView(record: MeetingRecord): MeetingView {
    const { row } = record;
    return {
      id: row.id,
      linkId: row.linkId,
      url: this.url(row.linkId),
      title: row.title,
      classification: row.classification,
      startsAt: row.startsAt.toISOString(),
      endsAt: row.endsAt.toISOString(),
      options: { lobby: row.lobby, guests: row.guests, e2ee: row.e2ee },
      locked: row.locked,
    };
  }

  async view(record: MeetingRecord): Promise<Meeting> {
    const agents = await this.deps.identity.agentsByIds([...record.hostIds, ...record.inviteeIds]);
    const byId = new Map(agents.map((a) => [a.id, a]));
    const refs = (ids: string[]) =>
      ids
        .map((id) => byId.get(id))
        .filter((a): a is AgentRow => a !== undefined)
        .map(agentRef);
    return {
      ...this.meetingView(record),
      hosts: refs(record.hostIds),
      invitees: { agents: refs(record.inviteeIds), units: record.units },
      endedAt: record.row.endedAt?.toISOString() ?? null,
      createdAt: record.row.createdAt.toISOString(),
      createdBy: record.row.createdBy,
    };
  }

  url(linkId: string): string {
    return `${this.deps.publicUrl}/m/${linkId}`;
  }
}

export function agentRef(agent: AgentRow): AgentRef {
  return { id: agent.id, displayName: agent.displayName, unit: agent.unit, email: agent.email };
}

export function admissionMeeting(record: MeetingRecord, stepUpSeconds: number): AdmissionMeeting {
  const { row } = record;
  return {
    classification: row.classification,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    endedAt: row.endedAt,
    locked: row.locked,
    lobby: row.lobby,
    guests: row.guests,
    hostIds: new Set(record.hostIds),
    inviteeIds: new Set(record.inviteeIds),
    invitedUnits: new Set(record.units),
    stepUpSeconds,
  };
}

/** Only a complete (MFA) session is an agent; a password-only session is nobody. */
export function personOf(auth: Authenticated | undefined): AdmissionPerson {
  if (!auth || auth.session.stage !== 'full') return { kind: 'anonymous' };
  return {
    kind: 'agent',
    id: auth.agent.id,
    unit: auth.agent.unit,
    clearance: auth.agent.clearance,
    mfaAt: auth.session.mfaAt,
  };
}

function describe(
  auth: Authenticated | undefined,
  guest: GuestPass | undefined,
  ip: string,
): { label: string; who: AttemptPerson } {
  const label = labelOf(auth, guest, ip);
  if (guest) return { label, who: { kind: 'guest', displayName: guest.displayName, email: guest.email } };
  if (!auth || auth.session.stage !== 'full') return { label, who: { kind: 'signed_out', ip } };
  const { displayName, email, unit } = auth.agent;
  return { label, who: { kind: 'agent', displayName, email, unit } };
}

function labelOf(auth: Authenticated | undefined, guest: GuestPass | undefined, ip: string): string {
  if (guest) return `GUEST ${guest.displayName} (${guest.email})`;
  if (!auth || auth.session.stage !== 'full') return `someone signed out (${ip})`;
  const unit = auth.agent.unit === '' ? '' : `, ${auth.agent.unit}`;
  return `${auth.agent.displayName} (${auth.agent.email}${unit})`;
}

function isMember(record: MeetingRecord, agent: AgentRow): boolean {
  return (
    record.hostIds.includes(agent.id) ||
    record.inviteeIds.includes(agent.id) ||
    (agent.unit !== '' && record.units.includes(agent.unit))
  );
}

function clearsLevel(agent: AgentRow, level: AgentRow['clearance']): boolean {
  const order = ['public', 'internal', 'restricted', 'secret'];
  return order.indexOf(agent.clearance) >= order.indexOf(level);
}
