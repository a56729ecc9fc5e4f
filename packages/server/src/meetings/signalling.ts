/**
 * The meeting's WebSocket, `/api/meetings/live/<linkId>`: the only way into a running
 * meeting. Admission is decided before anything else is sent; a refused or step-up
 * connection gets one `admission` message and is closed, a lobby connection can only
 * wait, and an admitted one gets the roster, chat and media.
 *
 * Every message is parsed with the contract's schemas; a bad one (malformed, too large,
 * out of order, for another meeting) is answered with an `error` and changes nothing.
 *
 * A socket opened with `?resume=<token>` (see `resume.ts`) takes back a presence whose socket
 * dropped, when admission would still let the person in: same participant, no lobby.
 */
import {
  ClientMessage,
  MeetingCloseCode,
  SIGNAL_MAX_BYTES,
  type ServerMessage,
  type SignalErrorCode,
} from '@rempart/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import { requestContext } from '../http/auth.js';
import type { Authenticated, IdentityService } from '../identity/identity.service.js';
import type { Logger } from '../logger.js';
import type { MediaEngine } from '../media/engine.js';
import type { AdmissionPerson, Standing } from './admission.js';
import { MeetingRoom, SignalError, type Connection, type Member } from './meeting-room.js';
import type { MeetingRecord } from './meetings.repository.js';
import { GUEST_COOKIE, type GuestPass, type GuestService } from './guests.js';
import { type JoinAttempt, type MeetingsService, type Requester } from './meetings.service.js';
import type { PresenceJournal } from './presences.js';
import { resumeHolder, type ResumeClaims, type ResumeTokens } from './resume.js';

/** Messages one connection may send per second, on average, with bursts of twice that. */
const MESSAGES_PER_SECOND = 20;

export interface LiveDeps {
  meetings: MeetingsService;
  guests: GuestService;
  /** Cookies carry `Secure` and the `__Host-` prefix (the server speaks TLS). */
  secureCookies: boolean;
  identity: IdentityService;
  engine: MediaEngine;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  presences: PresenceJournal;
  resume: ResumeTokens;
  /** See `RoomDeps.resumeGraceMs`. */
  resumeGraceMs: number;
}

/** The running meetings of this process. */
export class LiveMeetings {
  private readonly rooms = new Map<string, MeetingRoom>();
  /** Each meeting's hosts' decisions, read once from the database and kept up to date here. */
  private readonly standings = new Map<string, Promise<Map<string, Standing>>>();
  private readonly stopListening: () => void;

  constructor(readonly deps: LiveDeps) {
    this.stopListening = deps.identity.onSessionsEnded(({ agentId, sessionId }) => {
      for (const room of this.rooms.values()) room.sessionsEnded(agentId, sessionId);
    });
  }

  get secureCookies(): boolean {
    return this.deps.secureCookies;
  }

  roomOf(meetingId: string): MeetingRoom | undefined {
    return this.rooms.get(meetingId);
  }

  async room(record: MeetingRecord): Promise<MeetingRoom> {
    const standings = await this.standingsOfMeeting(record.row.id);
    const existing = this.rooms.get(record.row.id);
    if (existing) return existing;
    const room = new MeetingRoom(record, {
      ...this.deps,
      standings,
      onEmpty: () => {
        if (this.rooms.get(record.row.id) === room) this.rooms.delete(record.row.id);
        if (room.record.row.endedAt !== null) this.standings.delete(record.row.id);
      },
    });
    this.rooms.set(record.row.id, room);
    return room;
  }

  standingOf = async (meetingId: string, person: AdmissionPerson): Promise<Standing> =>
    (await this.standingsOfMeeting(meetingId)).get(personKey(person)) ?? 'none';

  /** A read that fails is not kept: admission fails with it (closed), and the next attempt reads again. */
  private standingsOfMeeting(meetingId: string): Promise<Map<string, Standing>> {
    let standings = this.standings.get(meetingId);
    if (!standings) {
      standings = this.deps.presences.standingsOf(meetingId);
      this.standings.set(meetingId, standings);
      standings.catch(() => {
        if (this.standings.get(meetingId) === standings) this.standings.delete(meetingId);
      });
    }
    return standings;
  }

  /** Hosts in the meeting hear about refused and waiting attempts, however they came (HTTP or socket). */
  notifyHosts(attempt: JoinAttempt): void {
    if (attempt.decision.outcome === 'admit') return;
    this.rooms
      .get(attempt.record.row.id)
      ?.notifyAttempt(attempt.label, attempt.who, attempt.decision.outcome, attempt.decision.reason);
  }

  async close(): Promise<void> {
    this.stopListening();
    for (const room of [...this.rooms.values()]) room.close();
    await this.deps.presences.settled();
  }
}

export function personKey(person: AdmissionPerson): string {
  return person.kind === 'agent'
    ? `agent:${person.id}`
    : person.kind === 'guest'
      ? `guest:${person.email}`
      : 'anonymous';
}

function memberOf(auth: Authenticated, invited: boolean, ip: string): Member {
  return {
    personKey: `agent:${auth.agent.id}`,
    holder: resumeHolder({ sessionId: auth.session.id }),
    agentId: auth.agent.id,
    sessionId: auth.session.id,
    displayName: auth.agent.displayName,
    unit: auth.agent.unit,
    email: auth.agent.email,
    guest: false,
    mfaAt: auth.session.mfaAt,
    invited,
    ip,
  };
}

function guestMemberOf(pass: GuestPass, ip: string): Member {
  return {
    personKey: `guest:${pass.email}`,
    holder: resumeHolder({ guestPassId: pass.id }),
    agentId: null,
    sessionId: null,
    displayName: pass.displayName,
    unit: '',
    email: pass.email,
    guest: true,
    mfaAt: null,
    invited: false,
    ip,
  };
}

/** The requester of an HTTP or socket request: the agent session, and the guest cookie if any. */
export function guestAwareRequester(
  request: FastifyRequest,
  guests: GuestService,
  secure: boolean,
): Requester {
  const token = request.cookies[guestCookieName(secure)];
  return { auth: request.auth, guest: (meetingId) => guests.resolve(token, meetingId) };
}

export function guestCookieName(secure: boolean): string {
  return secure ? `__Host-${GUEST_COOKIE}` : GUEST_COOKIE;
}

/** Wraps a ws socket: JSON out, silent when already closed. */
function connectionOf(socket: WebSocket): Connection {
  return {
    send: (message: ServerMessage) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
    close: (code, reason) => {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
        socket.close(code, reason);
    },
  };
}

export function signallingRoutes(app: FastifyInstance, live: LiveMeetings, publicOrigin: string): void {
  const deps = live.deps;
  app.get<{ Params: { linkId: string }; Querystring: { resume?: unknown } }>(
    '/api/meetings/live/:linkId',
    { websocket: true, schema: { hide: true } },
    (socket, request) => {
      const conn = connectionOf(socket);
      // Messages that arrive while admission is being decided wait for it.
      const early: Buffer[] = [];
      const buffer = (data: Buffer) => early.push(data);
      socket.on('message', buffer);
      void admit(socket, conn, request, live, deps, publicOrigin, early, () =>
        socket.off('message', buffer),
      ).catch((error: unknown) => {
        deps.log.error({ err: error }, 'meeting socket failed');
        conn.close(1011, 'internal error');
      });
    },
  );
}

async function admit(
  socket: WebSocket,
  conn: Connection,
  request: FastifyRequest<{ Params: { linkId: string }; Querystring: { resume?: unknown } }>,
  live: LiveMeetings,
  deps: LiveDeps,
  publicOrigin: string,
  early: Buffer[],
  stopBuffering: () => void,
): Promise<void> {
  // Browsers send cookies on WebSocket upgrades: a foreign Origin is a cross-site hijack attempt.
  if (request.headers.origin !== undefined && request.headers.origin !== publicOrigin) {
    conn.close(MeetingCloseCode.unauthenticated, 'csrf_failed');
    return;
  }
  const ctx = requestContext(request);
  const linkId = /^[A-Za-z0-9_-]{22}$/.test(request.params.linkId) ? request.params.linkId : '';
  const auth = request.auth;
  const requester = guestAwareRequester(request, deps.guests, live.secureCookies);
  const attempt = await deps.meetings.attempt(linkId, requester, live.standingOf, { ...ctx, via: 'socket' });
  if (socket.readyState !== socket.OPEN) return;
  const { decision } = attempt;

  if (!attempt.record || decision.outcome === 'refuse') {
    conn.send({ type: 'admission', outcome: 'refuse', reason: decision.reason, meeting: null });
    if (attempt.record) {
      live.notifyHosts(attempt);
      await deps.meetings.alertRefused(attempt, ctx.ip);
    }
    conn.close(
      decision.reason === 'unauthenticated' ? MeetingCloseCode.unauthenticated : MeetingCloseCode.refused,
      decision.reason ?? 'refused',
    );
    return;
  }
  const { record } = attempt;
  const preview = deps.meetings.preview(record);
  if (decision.outcome === 'step_up') {
    // Hosts hear of it: a stale MFA check on a sensitive meeting may be a stolen session.
    live.notifyHosts(attempt);
    conn.send({ type: 'admission', outcome: 'step_up', reason: null, meeting: preview });
    conn.close(MeetingCloseCode.stepUp, 'step-up required');
    return;
  }
  // From here the person is a verified agent, or a guest whose email was verified.
  const member = auth
    ? memberOf(auth, decision.invited, ctx.ip)
    : attempt.guest
      ? guestMemberOf(attempt.guest, ctx.ip)
      : undefined;
  if (!member) return conn.close(MeetingCloseCode.unauthenticated, 'unauthenticated');
  const room = await live.room(record);
  // Presences a restart left behind are back before anyone joins or resumes.
  await room.restored;
  if (socket.readyState !== socket.OPEN) return;
  const resume = await resumeClaims(request.query.resume, record, member, deps, ctx.ip);
  const limiter = new MessageBudget(deps.clock);
  let participantId: string | undefined;
  let waitingId: string | undefined;

  const enter = () => {
    const present = room.join(member, conn);
    participantId = present.participant.id;
    waitingId = undefined;
  };

  socket.on('close', (code: number) => {
    // The client leaves with 1000. Anything else may be a blip to resume from: a lost network,
    // the server closing its sockets to restart (no status), a page closing (1001).
    const intended = code === 1000;
    if (participantId) room.disconnect(participantId, conn, intended);
    else if (waitingId) room.disconnect(waitingId, conn, intended);
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    void onMessage(data, isBinary);
  });

  const fail = (code: SignalErrorCode, message: string) => conn.send({ type: 'error', code, message });
  const onMessage = async (data: Buffer, isBinary: boolean) => {
    if (!limiter.take()) return fail('rate_limited', 'Too many messages: slow down.');
    if (isBinary) return fail('malformed', 'Messages are JSON text.');
    if (data.length > SIGNAL_MAX_BYTES)
      return fail('too_large', `Messages are at most ${SIGNAL_MAX_BYTES} bytes.`);
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      return fail('malformed', 'Not JSON.');
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) return fail('malformed', parsed.error.issues[0]?.message ?? 'Not a valid message.');
    if (!participantId) {
      // In the lobby one may only wait.
      if (parsed.data.type === 'ping') return conn.send({ type: 'pong' });
      return fail('out_of_order', 'You are not in the meeting yet.');
    }
    try {
      await room.handle(participantId, parsed.data);
    } catch (error) {
      if (error instanceof SignalError) return fail(error.code, error.message);
      deps.log.error({ err: error, meetingId: room.id }, 'signalling message failed');
      return fail('media_failed', 'The message could not be applied.');
    }
  };

  const resumed = resume ? room.resume(resume.participantId, member, conn) : undefined;
  if (resumed) {
    participantId = resumed.participant.id;
    deps.log.info({ meetingId: room.id, participantId }, 'presence resumed');
  } else if (decision.outcome === 'admit') {
    enter();
  } else {
    conn.send({ type: 'admission', outcome: 'lobby', reason: null, meeting: preview });
    const waiting = room.enterLobby(member, conn, async () => {
      // A host said yes: decide again (the meeting or the session may have changed meanwhile).
      const again = await deps.meetings.attempt(room.record.row.linkId, requester, live.standingOf, {
        ...ctx,
        via: 'socket',
      });
      if (again.decision.outcome === 'admit' && again.record) enter();
      else {
        conn.send({
          type: 'admission',
          outcome: again.decision.outcome,
          reason: again.decision.reason,
          meeting: again.decision.outcome === 'refuse' ? null : preview,
        });
        conn.close(
          again.decision.outcome === 'step_up' ? MeetingCloseCode.stepUp : MeetingCloseCode.refused,
          again.decision.reason ?? 'refused',
        );
      }
    });
    waitingId = waiting.entry.id;
    live.notifyHosts(attempt);
  }
  stopBuffering();
  for (const data of early.splice(0)) void onMessage(data, false);
}

/**
 * The claims of the `?resume=` token when it is one for this meeting and this session or guest
 * pass; anything else (forged, expired, someone else's) is ignored, and written to the audit log.
 */
async function resumeClaims(
  token: unknown,
  record: MeetingRecord,
  member: Member,
  deps: LiveDeps,
  ip: string,
): Promise<ResumeClaims | undefined> {
  if (token === undefined) return undefined;
  const check =
    typeof token === 'string'
      ? deps.resume.check(token, deps.clock.now())
      : { ok: false as const, reason: 'malformed' as const };
  const reason = !check.ok
    ? check.reason
    : check.claims.meetingId !== record.row.id
      ? 'other_meeting'
      : check.claims.holder !== member.holder
        ? 'other_holder'
        : undefined;
  if (check.ok && reason === undefined) return check.claims;
  await deps.audit.record({
    action: 'meeting.resume',
    outcome: 'denied',
    actor: member.agentId ? { id: member.agentId, email: member.email } : null,
    targetId: record.row.id,
    ip,
    details: { reason, guest: member.guest ? member.email : undefined },
  });
  return undefined;
}

/** A token bucket per connection. */
class MessageBudget {
  private tokens = MESSAGES_PER_SECOND * 2;
  private last: number;

  constructor(private readonly clock: Clock) {
    this.last = clock.now().getTime();
  }

  take(): boolean {
    const now = this.clock.now().getTime();
    this.tokens = Math.min(
      MESSAGES_PER_SECOND * 2,
      this.tokens + ((now - this.last) / 1000) * MESSAGES_PER_SECOND,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
