/**
 * A meeting while it runs: who is in, who waits in the lobby, chat, hands, and the media
 * room. Everything that changes is broadcast to those entitled to see it; nothing here is
 * reachable before admission (the signalling socket adds people only after the decision).
 */
import { randomUUID } from 'node:crypto';
import {
  MeetingCloseCode,
  type AdmissionOutcome,
  type AttemptPerson,
  type ChatMessage,
  type ClientMessage,
  type LobbyEntry,
  type Participant,
  type RefusalReason,
  type SealedChat,
  type ServerMessage,
  type SignalErrorCode,
} from '@rempart/core';
import type { AuditLog } from '../audit/audit.service.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MediaEngine, MediaRoom } from '../media/engine.js';
import type { Standing } from './admission.js';
import type { MeetingRecord } from './meetings.repository.js';
import type { MeetingsService } from './meetings.service.js';
import type { PresenceJournal } from './presences.js';
import type { Decided } from './presences.repository.js';
import { RESUME_REFRESH_MS, type ResumeTokens } from './resume.js';

const CHAT_HISTORY = 200;
/** Messages kept for a presence while its socket is gone, replayed when it resumes. */
const MAX_HELD = 500;
/**
 * What is kept for an absent presence: what it could not learn otherwise (MLS messages, its
 * media negotiation, a mute). Roster, lobby, meeting and chat are in the `welcome` it gets back.
 */
const heldTypes: ReadonlySet<ServerMessage['type']> = new Set([
  'e2ee.keypackage',
  'e2ee.commit',
  'e2ee.welcome',
  'subscribe.offer',
  'publish.answer',
  'muted',
]);

/** The socket as the room sees it. */
export interface Connection {
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
}

/** A verified person behind a connection. */
export interface Member {
  personKey: string;
  /** The agent session or guest pass behind the connection (see `resumeHolder`): resume tokens name it. */
  holder: string;
  agentId: string | null;
  sessionId: string | null;
  displayName: string;
  unit: string;
  email: string;
  guest: boolean;
  mfaAt: Date | null;
  invited: boolean;
  ip: string;
}

const hostMessageTypes = [
  'lobby.admit',
  'lobby.deny',
  'participant.mute',
  'participant.remove',
  'participant.promote',
  'meeting.lock',
  'meeting.end',
] as const;
type HostMessage = Extract<ClientMessage, { type: (typeof hostMessageTypes)[number] }>;
type OwnMessage = Exclude<ClientMessage, HostMessage>;
const isHostMessage = (m: ClientMessage): m is HostMessage =>
  (hostMessageTypes as readonly string[]).includes(m.type);

interface Present {
  participant: Participant;
  member: Member;
  conn: Connection;
  /** The engine sent a subscribe offer that the client has not answered yet. */
  offerPending: boolean;
  publishing: boolean;
  /** Set while the socket is gone: the presence leaves when `timer` fires unless it is resumed. */
  away: { timer: NodeJS.Timeout; held: ServerMessage[] } | undefined;
  /** The engine holds this participant's media (not a presence restored after a restart, until it resumes). */
  inMedia: boolean;
}

interface Waiting {
  entry: LobbyEntry;
  member: Member;
  conn: Connection;
  /** Called when a host admits: re-runs the admission decision and joins or refuses. */
  onAdmitted: () => Promise<void>;
}

export class SignalError extends Error {
  constructor(
    readonly code: SignalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RoomDeps {
  meetings: MeetingsService;
  engine: MediaEngine;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /**
   * Standings survive the room (a removed person stays removed if everyone leaves and comes
   * back) and, written to the database, a restart of the server.
   */
  standings: Map<string, Standing>;
  presences: PresenceJournal;
  resume: ResumeTokens;
  /**
   * How long a presence whose socket dropped (or that a restart of the server left behind) is
   * kept for its participant to resume it, media connections included, before it has left.
   */
  resumeGraceMs: number;
  onEmpty: () => void;
}

export class MeetingRoom {
  private readonly present = new Map<string, Present>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly chat: ChatMessage[] = [];
  private readonly media: MediaRoom;
  private endTimer: NodeJS.Timeout | undefined;
  private readonly resumeTimer: NodeJS.Timeout;
  private closed = false;
  /** Settles once the presences a restart of the server left behind are back (see `restore`). */
  readonly restored: Promise<void>;

  constructor(
    public record: MeetingRecord,
    private readonly deps: RoomDeps,
  ) {
    this.media = deps.engine.openRoom(record.row.id, {
      subscribeOffer: (participantId, sdp, tracks) => {
        const p = this.present.get(participantId);
        if (!p) return;
        p.offerPending = true;
        p.conn.send({ type: 'subscribe.offer', sdp, tracks });
      },
      mediaFailed: (participantId, reason) => {
        deps.log.warn({ meetingId: record.row.id, participantId, reason }, 'media connection failed');
        // The participant's client shows it as a media failure, with this reason.
        this.present.get(participantId)?.conn.send({ type: 'error', code: 'media_failed', message: reason });
      },
      mediaReset: (participantId, reason) => {
        const p = this.present.get(participantId);
        if (!p) return;
        deps.log.warn({ meetingId: record.row.id, participantId, reason }, 'media connections lost');
        // The client publishes again on new connections; the engine's next offer starts afresh.
        p.offerPending = false;
        p.conn.send({ type: 'media.reset', reason });
      },
    });
    this.scheduleEnd();
    this.resumeTimer = setInterval(() => this.refreshResumeTokens(), RESUME_REFRESH_MS);
    this.resumeTimer.unref();
    this.restored = this.restore();
  }

  get id(): string {
    return this.record.row.id;
  }

  get isEmpty(): boolean {
    return this.present.size === 0 && this.waiting.size === 0;
  }

  standing(personKey: string): Standing {
    return this.deps.standings.get(personKey) ?? 'none';
  }

  // ------------------------------------------------------------ people in/out

  join(member: Member, conn: Connection): Present {
    const now = this.deps.clock.now();
    const participant: Participant = {
      id: randomUUID(),
      agentId: member.agentId,
      displayName: member.displayName,
      unit: member.unit,
      email: member.email,
      guest: member.guest,
      host: member.agentId !== null && this.record.hostIds.includes(member.agentId),
      invited: member.invited,
      mfaAt: member.mfaAt?.toISOString() ?? null,
      joinedAt: now.toISOString(),
      audio: false,
      video: false,
      screen: false,
      hand: false,
    };
    const present: Present = {
      participant,
      member,
      conn,
      offerPending: false,
      publishing: false,
      away: undefined,
      inMedia: true,
    };
    this.present.set(participant.id, present);
    this.deps.presences.save(this.id, { participant, member });
    this.welcome(present, false);
    this.media.join(participant.id);
    this.broadcastRoster();
    return present;
  }

  /**
   * Takes a presence back on a new socket (its resume token was checked, and admission decided
   * again): the same participant, no lobby. A socket still open for it is replaced. Undefined
   * when the presence is gone (left, removed, its grace period over) or not this person's.
   */
  resume(participantId: string, member: Member, conn: Connection): Present | undefined {
    const present = this.present.get(participantId);
    if (present?.member.holder !== member.holder || present.member.personKey !== member.personKey)
      return undefined;
    const held = present.away?.held ?? [];
    if (present.away) clearTimeout(present.away.timer);
    else present.conn.close(MeetingCloseCode.replaced, 'resumed on another connection');
    present.away = undefined;
    present.conn = conn;
    present.member = { ...present.member, ip: member.ip };
    this.welcome(present, true);
    this.broadcastRoster(present);
    if (!present.inMedia) {
      // Restored after a restart: the engine has no connection of this participant any more.
      present.inMedia = true;
      present.offerPending = false;
      this.media.join(participantId);
      conn.send({ type: 'media.reset', reason: 'server_restarted' });
    }
    for (const message of held) conn.send(message);
    return present;
  }

  enterLobby(member: Member, conn: Connection, onAdmitted: () => Promise<void>): Waiting {
    const waiting: Waiting = {
      entry: {
        id: randomUUID(),
        agentId: member.agentId,
        displayName: member.displayName,
        unit: member.unit,
        email: member.email,
        guest: member.guest,
        invited: member.invited,
        removedBefore: this.standing(member.personKey) === 'removed',
        since: this.deps.clock.now().toISOString(),
      },
      member,
      conn,
      onAdmitted,
    };
    this.waiting.set(waiting.entry.id, waiting);
    this.broadcastLobby();
    return waiting;
  }

  /**
   * The connection went away: no decision. Leaving on purpose, one is gone at once; a socket
   * that dropped (network, server) leaves its presence for the grace period (`resumeGraceMs`) to be resumed.
   * A connection that another has replaced changes nothing.
   */
  disconnect(id: string, conn: Connection, intended: boolean): void {
    // Closing the server closes every socket: the presences stay written for its restart.
    if (this.closed) return;
    const present = this.present.get(id);
    if (present) {
      if (present.conn !== conn) return;
      if (intended) this.leave(present);
      else {
        this.holdFor(present);
        // The others see this person as reconnecting, not gone.
        this.broadcastRoster();
      }
    } else if (this.waiting.get(id)?.conn === conn) {
      this.waiting.delete(id);
      this.broadcastLobby();
    }
    this.closeIfEmpty();
  }

  /** Hosts hear about everyone who tried to get in and did not. */
  notifyAttempt(
    who: string,
    person: AttemptPerson,
    outcome: AdmissionOutcome,
    reason: RefusalReason | null,
  ): void {
    const at = this.deps.clock.now().toISOString();
    this.toHosts({ type: 'attempt', who, person, outcome, reason, at });
  }

  /** Closes every connection of a person whose session ended (revoked, signed out, disabled). */
  sessionsEnded(agentId: string, sessionId: string | undefined): void {
    const matches = (m: Member) =>
      m.agentId === agentId && (sessionId === undefined || m.sessionId === sessionId);
    for (const p of [...this.present.values()]) {
      if (!matches(p.member)) continue;
      this.drop(p);
      p.conn.close(MeetingCloseCode.sessionEnded, 'session ended');
    }
    for (const [id, w] of this.waiting) {
      if (!matches(w.member)) continue;
      this.waiting.delete(id);
      w.conn.close(MeetingCloseCode.sessionEnded, 'session ended');
    }
    this.broadcastRoster();
    this.broadcastLobby();
    this.closeIfEmpty();
  }

  // ------------------------------------------------------------------ messages

  /** Applies one parsed message from a participant. Throws `SignalError` for a refused message. */
  async handle(participantId: string, message: ClientMessage): Promise<void> {
    const me = this.present.get(participantId);
    if (!me) throw new SignalError('out_of_order', 'You are not in the meeting.');
    if (message.meetingId !== this.id)
      throw new SignalError('wrong_meeting', 'This socket is for another meeting.');
    if (isHostMessage(message)) return this.hostAction(me, message);
    return this.ownAction(participantId, me, message);
  }

  private async ownAction(participantId: string, me: Present, message: OwnMessage): Promise<void> {
    switch (message.type) {
      case 'ping':
        me.conn.send({ type: 'pong' });
        return;
      case 'publish': {
        if (me.publishing) throw new SignalError('out_of_order', 'A publish negotiation is in progress.');
        me.publishing = true;
        try {
          const sdp = await this.media.publish(participantId, message.sdp, message.sources);
          if (this.present.get(participantId) === me) me.conn.send({ type: 'publish.answer', sdp });
        } catch (error) {
          throw new SignalError('media_failed', `The media engine refused the offer: ${messageOf(error)}`);
        } finally {
          me.publishing = false;
        }
        return;
      }
      case 'subscribe.answer':
        if (!me.offerPending)
          throw new SignalError('out_of_order', 'No subscribe offer is waiting for an answer.');
        me.offerPending = false;
        try {
          await this.media.subscribeAnswer(participantId, message.sdp);
        } catch (error) {
          throw new SignalError('media_failed', `The media engine refused the answer: ${messageOf(error)}`);
        }
        return;
      case 'media.state': {
        const { participant } = me;
        // A participant may turn their own sources on and off; a host's mute is lifted this way too.
        participant.audio = message.audio;
        participant.video = message.video;
        participant.screen = message.screen;
        this.media.setForwarding(participantId, 'microphone', message.audio);
        this.media.setForwarding(participantId, 'camera', message.video);
        this.media.setForwarding(participantId, 'screen', message.screen);
        this.broadcastRoster();
        return;
      }
      case 'hand':
        me.participant.hand = message.raised;
        this.broadcastRoster();
        return;
      case 'chat.send': {
        const chat: ChatMessage = {
          id: randomUUID(),
          from: { participantId, displayName: me.participant.displayName, guest: me.participant.guest },
          ...this.chatBody(message),
          at: this.deps.clock.now().toISOString(),
        };
        this.chat.push(chat);
        if (this.chat.length > CHAT_HISTORY) this.chat.shift();
        this.broadcast({ type: 'chat', message: chat });
        return;
      }
      case 'keyframe':
        if (!this.present.has(message.participantId))
          throw new SignalError('unknown_participant', 'No such participant in this meeting.');
        this.media.requestKeyframe(message.participantId);
        return;
      case 'ice.restart':
        this.media.restartIce(participantId);
        return;
      case 'e2ee.keypackage':
        this.requireE2ee();
        this.relay(participantId, { type: 'e2ee.keypackage', from: participantId, data: message.data });
        return;
      case 'e2ee.commit': {
        this.requireE2ee();
        const to = new Set(message.welcome?.to ?? []);
        for (const id of to)
          if (id === participantId || !this.present.has(id))
            throw new SignalError(
              'unknown_participant',
              'A Welcome is addressed to someone not in the meeting.',
            );
        this.relay(participantId, { type: 'e2ee.commit', from: participantId, data: message.data }, to);
        if (message.welcome)
          for (const id of to)
            this.present
              .get(id)
              ?.conn.send({ type: 'e2ee.welcome', from: participantId, data: message.welcome.data });
        return;
      }
    }
  }

  /**
   * In an end-to-end encrypted meeting the server takes sealed chat only (and keeps it sealed:
   * its history holds ciphertext); in one without, clear text only.
   */
  private chatBody(
    message: Extract<ClientMessage, { type: 'chat.send' }>,
  ): { text: string } | { sealed: SealedChat } {
    if (this.record.row.e2ee) {
      if (!message.sealed)
        throw new SignalError('e2ee_required', 'This meeting is end-to-end encrypted: chat is sealed.');
      return { sealed: message.sealed };
    }
    if (message.text === undefined)
      throw new SignalError('e2ee_off', 'This meeting is not end-to-end encrypted: chat is in clear.');
    return { text: message.text };
  }

  private requireE2ee(): void {
    if (!this.record.row.e2ee) throw new SignalError('e2ee_off', 'This meeting is not end-to-end encrypted.');
  }

  /**
   * End-to-end encryption's MLS messages go from one admitted participant to the others of this
   * meeting only, as they came: the server can neither read nor forge them (they are signed and
   * encrypted between clients) and keeps nothing of them.
   */
  private relay(from: string, message: ServerMessage, except: ReadonlySet<string> = new Set()): void {
    for (const [id, p] of this.present) if (id !== from && !except.has(id)) p.conn.send(message);
  }

  private async hostAction(me: Present, message: HostMessage): Promise<void> {
    if (!me.participant.host) throw new SignalError('forbidden', 'Only hosts can do this.');
    const actor = { id: me.member.agentId ?? '', email: me.member.email };
    const audit = (action: string, targetId: string, details: Record<string, unknown> = {}) =>
      this.deps.audit.record({
        action,
        outcome: 'success',
        actor,
        targetId,
        ip: me.member.ip,
        details: { meetingId: this.id, ...details },
      });
    switch (message.type) {
      case 'lobby.admit':
      case 'lobby.deny': {
        const w = this.waiting.get(message.entryId);
        if (!w) throw new SignalError('unknown_participant', 'Nobody with this id waits in the lobby.');
        this.waiting.delete(w.entry.id);
        const admit = message.type === 'lobby.admit';
        this.decide(w.member.personKey, admit ? 'admitted' : 'denied');
        await audit(
          admit ? 'meeting.lobby_admitted' : 'meeting.lobby_denied',
          w.entry.agentId ?? w.member.email,
          {
            who: w.member.email,
          },
        );
        this.broadcastLobby();
        if (admit) await w.onAdmitted();
        else {
          w.conn.send({ type: 'denied' });
          w.conn.close(MeetingCloseCode.refused, 'denied');
        }
        return;
      }
      case 'participant.mute': {
        const target = this.target(message.participantId);
        this.media.setForwarding(target.participant.id, message.source, false);
        if (message.source === 'microphone') target.participant.audio = false;
        else if (message.source === 'camera') target.participant.video = false;
        else target.participant.screen = false;
        target.conn.send({ type: 'muted', source: message.source, by: me.participant.displayName });
        await audit('meeting.participant_muted', target.participant.agentId ?? target.member.email, {
          source: message.source,
        });
        this.broadcastRoster();
        return;
      }
      case 'participant.remove': {
        const target = this.target(message.participantId);
        if (target === me)
          throw new SignalError('forbidden', 'Leave the meeting instead of removing yourself.');
        // Media stops before anything else: not one more packet to or from them.
        this.drop(target);
        this.decide(target.member.personKey, 'removed');
        target.conn.send({ type: 'removed', by: me.participant.displayName });
        target.conn.close(MeetingCloseCode.removed, 'removed by a host');
        this.broadcastRoster();
        await audit('meeting.participant_removed', target.participant.agentId ?? target.member.email);
        return;
      }
      case 'participant.promote': {
        const target = this.target(message.participantId);
        if (target.member.agentId === null || target.member.guest)
          throw new SignalError('forbidden', 'Guests cannot be hosts.');
        if (target.participant.host) return;
        await this.deps.meetings.addHost(this.id, target.member.agentId);
        this.record = (await this.deps.meetings.byId(this.id)) ?? this.record;
        target.participant.host = true;
        target.conn.send({ type: 'lobby', waiting: this.lobbyList() });
        await audit('meeting.cohost_promoted', target.member.agentId);
        this.broadcastRoster();
        return;
      }
      case 'meeting.lock': {
        this.record = await this.deps.meetings.setLocked(this.id, message.locked);
        await audit(message.locked ? 'meeting.locked' : 'meeting.unlocked', this.id);
        if (message.locked) {
          // A locked meeting has no lobby: whoever waits is turned away.
          for (const w of this.waiting.values()) {
            w.conn.send({ type: 'admission', outcome: 'refuse', reason: 'locked', meeting: null });
            w.conn.close(MeetingCloseCode.refused, 'locked');
          }
          this.waiting.clear();
          this.broadcastLobby();
        }
        this.broadcast({ type: 'meeting', meeting: this.deps.meetings.meetingView(this.record) });
        return;
      }
      case 'meeting.end':
        await this.end(me.participant.displayName, actor, me.member.ip);
        return;
    }
  }

  // -------------------------------------------------------------- whole room

  /** Another path changed the meeting (a link rotation over HTTP): tell those inside. */
  refresh(record: MeetingRecord): void {
    this.record = record;
    this.broadcast({ type: 'meeting', meeting: this.deps.meetings.meetingView(record) });
  }

  async end(
    by: string | null,
    actor: { id: string; email: string } | null,
    ip: string | null,
  ): Promise<void> {
    if (this.closed) return;
    if (this.record.row.endedAt === null) this.record = await this.deps.meetings.end(this.id);
    await this.deps.audit.record({
      action: 'meeting.ended',
      outcome: 'success',
      actor,
      targetId: this.id,
      ip,
      details: { participants: this.present.size, by },
    });
    const everyone = [...this.present.values(), ...this.waiting.values()];
    for (const p of this.present.values()) if (p.away) clearTimeout(p.away.timer);
    this.present.clear();
    this.deps.presences.forgetMeeting(this.id);
    this.waiting.clear();
    for (const p of everyone) {
      p.conn.send({ type: 'ended', by });
      p.conn.close(MeetingCloseCode.ended, 'meeting ended');
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.endTimer);
    clearInterval(this.resumeTimer);
    // Presences still in their grace period stay written: a restart of the server finds them.
    for (const p of this.present.values()) if (p.away) clearTimeout(p.away.timer);
    this.media.close();
    this.deps.onEmpty();
  }

  stats() {
    return { participants: this.present.size, waiting: this.waiting.size, media: this.media.stats() };
  }

  // ------------------------------------------------------------------ helpers

  private scheduleEnd(): void {
    const ms = this.record.row.endsAt.getTime() - this.deps.clock.now().getTime();
    // setTimeout holds at most ~24.8 days; meetings last at most a day.
    if (ms > 0 && ms < 2 ** 31 - 1) {
      this.endTimer = setTimeout(() => void this.end(null, null, null).catch(() => undefined), ms);
      this.endTimer.unref();
    }
  }

  private welcome(present: Present, resumed: boolean): void {
    const { participant, conn } = present;
    conn.send({
      type: 'welcome',
      self: participant,
      meeting: this.deps.meetings.meetingView(this.record),
      roster: this.roster(),
      chat: [...this.chat],
      iceServers: this.deps.engine.iceServers(participant.id),
      resume: this.resumeToken(present),
      resumed,
    });
    if (participant.host) conn.send({ type: 'lobby', waiting: this.lobbyList() });
  }

  private resumeToken({ participant, member }: Present): string {
    const claims = { meetingId: this.id, participantId: participant.id, holder: member.holder };
    return this.deps.resume.issue(claims, this.deps.clock.now());
  }

  private refreshResumeTokens(): void {
    for (const p of this.present.values())
      if (!p.away) p.conn.send({ type: 'resume', token: this.resumeToken(p) });
  }

  /** Keeps a presence whose socket dropped, holding what it must not miss, until it resumes or leaves. */
  private holdFor(present: Present): void {
    const held: ServerMessage[] = [];
    const timer = setTimeout(() => {
      if (this.closed || this.present.get(present.participant.id) !== present) return;
      this.deps.log.info(
        { meetingId: this.id, participantId: present.participant.id },
        'presence not resumed: left',
      );
      this.leave(present);
      this.closeIfEmpty();
    }, this.deps.resumeGraceMs);
    timer.unref();
    present.away = { timer, held };
    present.conn = holdingConnection(held);
  }

  /** Brings back, as absent, the presences written before a restart of the server. */
  private async restore(): Promise<void> {
    let stored;
    try {
      stored = await this.deps.presences.ofMeeting(this.id);
    } catch (error) {
      this.deps.log.warn({ err: error, meetingId: this.id }, 'meeting presences not restored');
      return;
    }
    if (this.closed || this.record.row.endedAt !== null) return;
    for (const { participant, member } of stored) {
      if (this.present.has(participant.id)) continue;
      participant.host = member.agentId !== null && this.record.hostIds.includes(member.agentId);
      const present: Present = {
        participant,
        member,
        conn: holdingConnection([]),
        offerPending: false,
        publishing: false,
        away: undefined,
        inMedia: false,
      };
      this.present.set(participant.id, present);
      this.holdFor(present);
    }
    if (stored.length > 0) this.broadcastRoster();
  }

  private leave(present: Present): void {
    this.drop(present);
    this.broadcastRoster();
  }

  /** The presence ends: media first (not one more packet), then the roster entry and its row. */
  private drop(present: Present): void {
    const id = present.participant.id;
    if (present.inMedia) this.media.leave(id);
    if (present.away) clearTimeout(present.away.timer);
    present.away = undefined;
    this.present.delete(id);
    this.deps.presences.forget(id);
  }

  private target(participantId: string): Present {
    const target = this.present.get(participantId);
    if (!target) throw new SignalError('unknown_participant', 'No such participant in this meeting.');
    return target;
  }

  /** A host's decision about a person: in force at once, and written for a restart of the server. */
  private decide(personKey: string, standing: Decided): void {
    this.deps.standings.set(personKey, standing);
    this.deps.presences.standing(this.id, personKey, standing);
  }

  private roster(): Participant[] {
    return [...this.present.values()].map((p) =>
      p.away ? { ...p.participant, reconnecting: true } : p.participant,
    );
  }

  private lobbyList(): LobbyEntry[] {
    return [...this.waiting.values()].map((w) => w.entry);
  }

  /** To everyone present, or to everyone but `except` (who has it already). */
  private broadcast(message: ServerMessage, except?: Present): void {
    for (const p of this.present.values()) if (p !== except) p.conn.send(message);
  }

  private broadcastRoster(except?: Present): void {
    this.broadcast({ type: 'roster', participants: this.roster() }, except);
  }

  private broadcastLobby(): void {
    this.toHosts({ type: 'lobby', waiting: this.lobbyList() });
  }

  private toHosts(message: ServerMessage): void {
    for (const p of this.present.values()) if (p.participant.host) p.conn.send(message);
  }

  private closeIfEmpty(): void {
    if (this.isEmpty) this.close();
  }
}

/** The connection of an absent presence: keeps what it must not miss (see `heldTypes`). */
function holdingConnection(held: ServerMessage[]): Connection {
  return {
    send: (message) => {
      if (!heldTypes.has(message.type)) return;
      // Only the latest subscribe offer is worth answering.
      if (message.type === 'subscribe.offer') {
        const stale = held.findIndex((m) => m.type === 'subscribe.offer');
        if (stale >= 0) held.splice(stale, 1);
      }
      if (held.length < MAX_HELD) held.push(message);
    },
    close: () => undefined,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}
