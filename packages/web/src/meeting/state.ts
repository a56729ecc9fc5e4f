/**
 * What the meeting client knows, as a pure reducer over what happens: the admission check,
 * every parsed server message and the socket closing. Media (peer connections, tracks) is
 * not state here: `MeetingClient` handles it beside this reducer.
 *
 * Phases, in the usual order:
 *   checking → (signed-out | refused | step-up | prejoin) → connecting → (lobby →) joined
 *   and from there: removed | ended | denied | left, or reconnecting → disconnected.
 */
import {
  MeetingCloseCode,
  type AdmissionCheck,
  type AdmissionOutcome,
  type AttemptPerson,
  type ChatMessage,
  type LobbyEntry,
  type MediaSource,
  type MeetingPreview,
  type MeetingView,
  type Participant,
  type RefusalReason,
  type ServerMessage,
  type SignalErrorCode,
} from '@rempart/core';

export type MeetingPhase =
  | 'checking'
  /** Refused as signed out: the page sends the person to sign in, or offers the guest flow. */
  | 'signed-out'
  | 'refused'
  | 'step-up'
  | 'prejoin'
  | 'connecting'
  | 'lobby'
  | 'joined'
  /** The socket dropped without a reason: the client tries again. */
  | 'reconnecting'
  /** It tried again and gave up. */
  | 'disconnected'
  | 'removed'
  | 'ended'
  | 'denied'
  | 'left';

/** The word tests and tools read in `data-testid="meeting-state"`. */
export type MeetingStateLabel =
  | 'checking'
  | 'refused'
  | 'step-up'
  | 'prejoin'
  | 'lobby'
  | 'joined'
  | 'removed'
  | 'ended'
  | 'denied'
  | 'left'
  | 'disconnected';

export function stateLabel(phase: MeetingPhase): MeetingStateLabel {
  switch (phase) {
    case 'checking':
    case 'connecting':
    case 'reconnecting':
      return 'checking';
    case 'signed-out':
      return 'refused';
    case 'refused':
    case 'step-up':
    case 'prejoin':
    case 'lobby':
    case 'joined':
    case 'removed':
    case 'ended':
    case 'denied':
    case 'left':
    case 'disconnected':
      return phase;
  }
}

/** Phases after which nothing from the socket changes the outcome. */
const final: ReadonlySet<MeetingPhase> = new Set([
  'signed-out',
  'refused',
  'step-up',
  'removed',
  'ended',
  'denied',
  'left',
  'disconnected',
]);

export const MAX_ATTEMPTS_SHOWN = 50;
export const MAX_CHAT_KEPT = 500;

/** A refused or waiting attempt to join, as hosts hear of it. */
export interface AttemptNotice {
  /** Local, for lists: the server gives attempts no id. */
  key: number;
  who: AttemptPerson;
  outcome: AdmissionOutcome;
  reason: RefusalReason | null;
  at: string;
}

export type MeetingNotice =
  | { kind: 'muted'; source: MediaSource; by: string }
  | { kind: 'signal-error'; code: SignalErrorCode; message: string }
  | { kind: 'session-ended' };

export interface MeetingState {
  phase: MeetingPhase;
  /** Why admission was refused (null: no reason given, or not refused). */
  reason: RefusalReason | null;
  /** Where a step-up was asked: before joining (the HTTP check) or by the socket. */
  stepUpFrom: 'check' | 'socket' | null;
  guestsWelcome: boolean;
  /** What the check expects on joining: straight in, or the lobby first. */
  expected: 'admit' | 'lobby' | null;
  /** What a person outside may see of the meeting; null when refused. */
  preview: MeetingPreview | null;
  meeting: MeetingView | null;
  self: Participant | null;
  roster: readonly Participant[];
  lobby: readonly LobbyEntry[];
  /** Newest first. */
  attempts: readonly AttemptNotice[];
  chat: readonly ChatMessage[];
  /** Who removed me, or ended the meeting (null: the meeting reached its end time). */
  by: string | null;
  notice: MeetingNotice | null;
  /** Reconnection attempts since the socket last dropped. */
  retries: number;
  /** Bumped whenever the admission check must run again (after a step-up, a dropped session). */
  checkRound: number;
  attemptSeq: number;
}

export const initialMeetingState: MeetingState = {
  phase: 'checking',
  reason: null,
  stepUpFrom: null,
  guestsWelcome: false,
  expected: null,
  preview: null,
  meeting: null,
  self: null,
  roster: [],
  lobby: [],
  attempts: [],
  chat: [],
  by: null,
  notice: null,
  retries: 0,
  checkRound: 0,
  attemptSeq: 0,
};

export type MeetingEvent =
  | { type: 'check.started' }
  | { type: 'check.answered'; check: AdmissionCheck }
  /** Joining (from the pre-join screen, after a step-up, or to reconnect). */
  | { type: 'connect' }
  | { type: 'message'; message: ServerMessage }
  | { type: 'closed'; code: number }
  /** Reconnection gave up. */
  | { type: 'gave-up' }
  | { type: 'leave' }
  | { type: 'notice.dismissed' };

export function meetingReducer(state: MeetingState, event: MeetingEvent): MeetingState {
  switch (event.type) {
    case 'check.started':
      return { ...state, phase: 'checking', notice: keepSessionNotice(state.notice) };
    case 'check.answered':
      return afterCheck(state, event.check);
    case 'connect':
      return {
        ...state,
        phase: state.phase === 'reconnecting' ? 'reconnecting' : 'connecting',
        reason: null,
        stepUpFrom: null,
      };
    case 'message':
      return onMessage(state, event.message);
    case 'closed':
      return onClosed(state, event.code);
    case 'gave-up':
      return state.phase === 'reconnecting' ? { ...state, phase: 'disconnected' } : state;
    case 'leave':
      return { ...leftMeeting(state), phase: 'left' };
    case 'notice.dismissed':
      return { ...state, notice: null };
  }
}

function keepSessionNotice(notice: MeetingNotice | null): MeetingNotice | null {
  return notice?.kind === 'session-ended' ? notice : null;
}

function afterCheck(state: MeetingState, check: AdmissionCheck): MeetingState {
  const base = { ...state, preview: check.meeting, guestsWelcome: check.guestsWelcome, reason: check.reason };
  switch (check.outcome) {
    case 'refuse':
      return { ...base, phase: check.reason === 'unauthenticated' ? 'signed-out' : 'refused' };
    case 'step_up':
      return { ...base, phase: 'step-up', stepUpFrom: 'check' };
    case 'admit':
    case 'lobby':
      return { ...base, phase: 'prejoin', reason: null, expected: check.outcome };
  }
}

/** Nothing of the meeting's inside survives leaving it. */
function leftMeeting(state: MeetingState): MeetingState {
  return { ...state, self: null, roster: [], lobby: [], retries: 0 };
}

function onMessage(state: MeetingState, message: ServerMessage): MeetingState {
  if (final.has(state.phase)) return state;
  switch (message.type) {
    case 'admission':
      switch (message.outcome) {
        case 'lobby':
          return {
            ...state,
            phase: 'lobby',
            preview: message.meeting ?? state.preview,
            retries: 0,
            self: null,
            roster: [],
            lobby: [],
          };
        case 'refuse':
          return { ...leftMeeting(state), phase: 'refused', reason: message.reason, preview: null };
        case 'step_up':
          return { ...leftMeeting(state), phase: 'step-up', stepUpFrom: 'socket' };
        case 'admit':
          // The server says admitted with `welcome`; an `admission` saying so changes nothing.
          return state;
      }
      break;
    case 'welcome':
      return {
        ...state,
        phase: 'joined',
        reason: null,
        self: message.self,
        meeting: message.meeting,
        roster: message.roster,
        chat: message.chat.slice(-MAX_CHAT_KEPT),
        // The lobby and attempts are for hosts; a new presence starts from what the server sends.
        lobby: [],
        retries: 0,
        notice: null,
      };
    case 'roster': {
      const self = state.self
        ? (message.participants.find((p) => p.id === state.self?.id) ?? state.self)
        : state.self;
      return { ...state, roster: message.participants, self };
    }
    case 'meeting':
      return { ...state, meeting: message.meeting };
    case 'lobby':
      return { ...state, lobby: message.waiting };
    case 'attempt': {
      const key = state.attemptSeq + 1;
      const notice: AttemptNotice = {
        key,
        who: message.person,
        outcome: message.outcome,
        reason: message.reason,
        at: message.at,
      };
      return {
        ...state,
        attemptSeq: key,
        attempts: [notice, ...state.attempts].slice(0, MAX_ATTEMPTS_SHOWN),
      };
    }
    case 'chat':
      if (state.chat.some((m) => m.id === message.message.id)) return state;
      return { ...state, chat: [...state.chat, message.message].slice(-MAX_CHAT_KEPT) };
    case 'muted': {
      const self = state.self ? withSourceOff(state.self, message.source) : state.self;
      return { ...state, self, notice: { kind: 'muted', source: message.source, by: message.by } };
    }
    case 'removed':
      return { ...leftMeeting(state), phase: 'removed', by: message.by };
    case 'denied':
      return { ...leftMeeting(state), phase: 'denied' };
    case 'ended':
      return { ...leftMeeting(state), phase: 'ended', by: message.by };
    case 'error':
      return { ...state, notice: { kind: 'signal-error', code: message.code, message: message.message } };
    case 'publish.answer':
    case 'subscribe.offer':
    case 'resume':
    case 'media.reset':
    case 'pong':
    case 'e2ee.keypackage':
    case 'e2ee.commit':
    case 'e2ee.welcome':
      return state;
  }
}

function withSourceOff(participant: Participant, source: MediaSource): Participant {
  switch (source) {
    case 'microphone':
      return { ...participant, audio: false };
    case 'camera':
      return { ...participant, video: false };
    case 'screen':
      return { ...participant, screen: false };
  }
}

/** The socket closed: its close code (and the message before it, if any) says why. */
function onClosed(state: MeetingState, code: number): MeetingState {
  if (final.has(state.phase) || state.phase === 'checking' || state.phase === 'prejoin') return state;
  switch (code) {
    case MeetingCloseCode.stepUp:
      return { ...leftMeeting(state), phase: 'step-up', stepUpFrom: 'socket' };
    case MeetingCloseCode.removed:
      return { ...leftMeeting(state), phase: 'removed' };
    case MeetingCloseCode.ended:
      return { ...leftMeeting(state), phase: 'ended' };
    case MeetingCloseCode.refused:
      return { ...leftMeeting(state), phase: 'refused' };
    case MeetingCloseCode.unauthenticated:
      // Signed out meanwhile, or the session lost its standing: the check says where to go.
      return { ...leftMeeting(state), phase: 'checking', checkRound: state.checkRound + 1 };
    case MeetingCloseCode.sessionEnded:
      return {
        ...leftMeeting(state),
        phase: 'checking',
        checkRound: state.checkRound + 1,
        notice: { kind: 'session-ended' },
      };
    default:
      // A network drop, a server restart, a protocol error: try again.
      return { ...state, phase: 'reconnecting', retries: state.retries + 1, lobby: [] };
  }
}

/** Hosts see the lobby and act on people; derived from the roster, which the server keeps current. */
export function isHost(state: Pick<MeetingState, 'self'>): boolean {
  return state.self?.host === true;
}

/** The roster with hosts first, then by name; oneself first of all. */
export function sortedRoster(roster: readonly Participant[], selfId: string | undefined): Participant[] {
  return [...roster].sort((a, b) => {
    if (a.id === selfId) return -1;
    if (b.id === selfId) return 1;
    if (a.host !== b.host) return a.host ? -1 : 1;
    return a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id);
  });
}

/** Up to two initials for a placeholder tile: "Jean Dupont" → "JD", "alice" → "A". */
export function initials(name: string): string {
  const words = name
    .trim()
    .split(/[\s\-_.]+/u)
    .filter((w) => w !== '');
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters
    .map((w) => [...(w ?? '')][0] ?? '')
    .join('')
    .toLocaleUpperCase();
}
