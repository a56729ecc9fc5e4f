/**
 * The meetings contract: scheduling over HTTP, and the signalling protocol spoken on
 * the meeting's WebSocket (`/api/meetings/live/<linkId>`). Every message both ways is
 * parsed with these schemas; anything else is refused with an `error` message.
 *
 * Knowing a meeting's identifiers grants nothing: admission is decided on the verified
 * identity behind the connection (see `decideAdmission` on the server).
 */
import { z } from 'zod';
import { classifications } from './classification.js';
import { DisplayName, Email, Uuid } from './identity.schema.js';

/** 128 random bits, base64url without padding: the `<id>` of `/m/<id>`. It rotates. */
export const MeetingLinkId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a meeting link id');
export type MeetingLinkId = z.infer<typeof MeetingLinkId>;

export const MeetingClassification = z.enum(classifications);
export type MeetingClassification = z.infer<typeof MeetingClassification>;

export const MeetingOptions = z.strictObject({
  /** People who are not invited wait for a host; off, they are refused. */
  lobby: z.boolean().default(true),
  /** External guests (email one-time code, lobby, host approval), off by default. */
  guests: z.boolean().default(false),
  /**
   * Media and chat end-to-end encrypted between the participants' browsers, on by default and
   * required from `restricted` up (see `e2eeRequired`). Off, they are sent in clear to the server.
   */
  e2ee: z.boolean().default(true),
});
export type MeetingOptions = z.infer<typeof MeetingOptions>;

/**
 * True where a meeting of this classification must be end-to-end encrypted.
 *
 * @example
 *   e2eeRequired('restricted') // → true
 */
export function e2eeRequired(classification: MeetingClassification): boolean {
  return classification === 'restricted' || classification === 'secret';
}

/** A person as the meeting shows them: every field comes from the identity service. */
export const AgentRef = z.object({
  id: Uuid,
  displayName: z.string(),
  unit: z.string(),
  email: z.string(),
});
export type AgentRef = z.infer<typeof AgentRef>;

export const MEETING_MAX_HOURS = 24;
export const MEETING_MAX_INVITEES = 500;
export const MEETING_MAX_UNITS = 50;

const Title = DisplayName.pipe(z.string().max(200));

export const CreateMeetingRequest = z
  .strictObject({
    title: Title,
    classification: MeetingClassification.default('internal'),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    /** Co-hosts besides the creator, by email; each must be an active agent. */
    cohosts: z.array(Email).max(20).default([]),
    invitees: z
      .strictObject({
        emails: z.array(Email).max(MEETING_MAX_INVITEES).default([]),
        units: z.array(z.string().trim().min(1).max(120)).max(MEETING_MAX_UNITS).default([]),
      })
      .default({ emails: [], units: [] }),
    options: MeetingOptions.default({ lobby: true, guests: false, e2ee: true }),
  })
  .meta({ id: 'CreateMeetingRequest' });
export type CreateMeetingRequest = z.infer<typeof CreateMeetingRequest>;

export const meetingStates = ['scheduled', 'open', 'ended'] as const;

export const Meeting = z
  .object({
    id: Uuid,
    linkId: MeetingLinkId,
    /** The address to share: `<public URL>/m/<linkId>`. */
    url: z.string(),
    title: z.string(),
    classification: MeetingClassification,
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    hosts: z.array(AgentRef),
    invitees: z.object({ agents: z.array(AgentRef), units: z.array(z.string()) }),
    options: MeetingOptions,
    locked: z.boolean(),
    endedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    createdBy: Uuid,
  })
  .meta({ id: 'Meeting' });
export type Meeting = z.infer<typeof Meeting>;

/** What a person who is not (yet) in the meeting may see of it: nothing that helps an intruder. */
export const MeetingPreview = z
  .object({
    linkId: MeetingLinkId,
    title: z.string(),
    classification: MeetingClassification,
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
  })
  .meta({ id: 'MeetingPreview' });
export type MeetingPreview = z.infer<typeof MeetingPreview>;

// ---------------------------------------------------------------------------------------------
// Admission

export const refusalReasons = [
  'unauthenticated',
  'not_invited',
  'clearance',
  'locked',
  'removed',
  'denied',
  'not_started',
  'ended',
  'guests_not_allowed',
  'rate_limited',
] as const;
export const RefusalReason = z.enum(refusalReasons);
export type RefusalReason = z.infer<typeof RefusalReason>;

export const AdmissionOutcome = z.enum(['admit', 'lobby', 'step_up', 'refuse']);
export type AdmissionOutcome = z.infer<typeof AdmissionOutcome>;

export const AdmissionCheck = z
  .object({
    outcome: AdmissionOutcome,
    reason: RefusalReason.nullable(),
    meeting: MeetingPreview.nullable(),
    /** Refused as signed out, but the meeting takes external guests: offer the guest flow. */
    guestsWelcome: z.boolean(),
  })
  .meta({ id: 'AdmissionCheck' });
export type AdmissionCheck = z.infer<typeof AdmissionCheck>;

// ---------------------------------------------------------------------------------------------
// External guests: an emailed one-time code proves the address, then the lobby and a host decide.

/** Eight letters and digits without look-alikes, shown as XXXX-XXXX; typed with or without the dash. */
export const GUEST_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const GuestCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-HJ-NP-Z2-9]{4}-?[A-HJ-NP-Z2-9]{4}$/, 'a code looks like ABCD-EF23')
  .transform((c) => c.replace('-', ''));

export const GuestStartRequest = z
  .strictObject({ email: Email, displayName: DisplayName })
  .meta({ id: 'GuestStartRequest' });
export type GuestStartRequest = z.infer<typeof GuestStartRequest>;

export const GuestStartResponse = z
  .object({ challengeId: Uuid, expiresAt: z.iso.datetime() })
  .meta({ id: 'GuestStartResponse' });
export type GuestStartResponse = z.infer<typeof GuestStartResponse>;

export const GuestVerifyRequest = z
  .strictObject({ challengeId: Uuid, code: GuestCode })
  .meta({ id: 'GuestVerifyRequest' });
export type GuestVerifyRequest = z.infer<typeof GuestVerifyRequest>;

export const GuestVerifyResponse = z
  .object({ guest: z.object({ displayName: z.string(), email: z.string() }) })
  .meta({ id: 'GuestVerifyResponse' });
export type GuestVerifyResponse = z.infer<typeof GuestVerifyResponse>;

// ---------------------------------------------------------------------------------------------
// Signalling: the meeting's WebSocket

/**
 * Largest signalling message accepted from a client, in bytes (an SDP offer with three tracks is
 * ~6 KiB; an MLS commit with its Welcome, see `E2EE_MAX_BYTES`, is the largest).
 */
export const SIGNAL_MAX_BYTES = 192 * 1024;
/**
 * Largest message a client takes from the server: a `welcome` carries the roster and the chat
 * history (200 messages of up to 2,000 characters, sealed ones a third larger in base64).
 */
export const SERVER_SIGNAL_MAX_BYTES = 4 * 1024 * 1024;
export const CHAT_MAX_CHARS = 2000;

export const MediaSource = z.enum(['camera', 'microphone', 'screen']);
export type MediaSource = z.infer<typeof MediaSource>;

export const Participant = z.object({
  /** One id per presence in the meeting (a rejoin gets a new one). */
  id: Uuid,
  agentId: Uuid.nullable(),
  displayName: z.string(),
  unit: z.string(),
  email: z.string(),
  guest: z.boolean(),
  host: z.boolean(),
  invited: z.boolean(),
  /** ISO time of the participant's last MFA check (null for a guest). */
  mfaAt: z.iso.datetime().nullable(),
  joinedAt: z.iso.datetime(),
  audio: z.boolean(),
  video: z.boolean(),
  screen: z.boolean(),
  hand: z.boolean(),
  /**
   * True while the participant's connection is down and their place is held for them to come
   * back (the grace period: a network blip, a restart of the server); absent otherwise.
   */
  reconnecting: z.boolean().optional(),
});
export type Participant = z.infer<typeof Participant>;

export const LobbyEntry = z.object({
  id: Uuid,
  agentId: Uuid.nullable(),
  displayName: z.string(),
  unit: z.string(),
  email: z.string(),
  guest: z.boolean(),
  invited: z.boolean(),
  /** Removed from this meeting earlier: re-admission is a host's decision. */
  removedBefore: z.boolean(),
  since: z.iso.datetime(),
});
export type LobbyEntry = z.infer<typeof LobbyEntry>;

/** Who tried to join, as far as the server could verify: an agent, a guest, or nobody signed in. */
export const AttemptPerson = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('agent'), displayName: z.string(), email: z.string(), unit: z.string() }),
  z.object({ kind: z.literal('guest'), displayName: z.string(), email: z.string() }),
  z.object({ kind: z.literal('signed_out'), ip: z.string() }),
]);
export type AttemptPerson = z.infer<typeof AttemptPerson>;

/**
 * A chat message sealed in the sender's browser (see `packages/web/src/meeting/e2ee/chat.ts`):
 * AES-128-GCM under the sender's chat key of MLS epoch `epoch`, leaf `leaf`; `data` is the
 * base64 of the 12-byte IV followed by the ciphertext and its tag. The server keeps and relays
 * it as it came: it holds no key that opens it.
 */
export const CHAT_SEALED_MAX_BYTES = 12 + CHAT_MAX_CHARS * 3 + 16;
export const SealedChat = z.strictObject({
  epoch: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  leaf: z.number().int().min(0).max(0xffff),
  data: z
    .string()
    .min(40)
    .max(Math.ceil(CHAT_SEALED_MAX_BYTES / 3) * 4)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64'),
});
export type SealedChat = z.infer<typeof SealedChat>;

const ChatBody = {
  id: Uuid,
  from: z.object({ participantId: Uuid, displayName: z.string(), guest: z.boolean() }),
  at: z.iso.datetime(),
};

/** A chat message: `text` in a meeting without end-to-end encryption, `sealed` in one with it. */
export const ChatMessage = z.union([
  z.object({ ...ChatBody, text: z.string() }),
  z.object({ ...ChatBody, sealed: SealedChat }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

export const Sdp = z.string().min(1).max(SIGNAL_MAX_BYTES);

/** A media track carried to a subscriber: which transceiver (mid) holds whose camera, microphone or screen. */
export const TrackInfo = z.object({ mid: z.string(), participantId: Uuid, source: MediaSource });
export type TrackInfo = z.infer<typeof TrackInfo>;

export const IceServer = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

/**
 * End-to-end encryption of media (see `packages/web/src/meeting/e2ee/`): the clients agree on
 * group keys with MLS (RFC 9420) and the server only carries their opaque messages, base64
 * encoded, between admitted participants of one meeting. It never parses nor keeps them.
 */
export const E2EE_MAX_BYTES = 64 * 1024;
/**
 * Members an MLS group is sized for. A Welcome carries the whole ratchet tree (RFC 9420 §12.4.3.3):
 * 22.4 KiB at 100 members (`node bench/mls.mjs`), so `E2EE_MAX_BYTES` holds about 250.
 */
export const E2EE_MAX_MEMBERS = 250;
export const MlsBlob = z
  .string()
  .min(4)
  .max(Math.ceil(E2EE_MAX_BYTES / 3) * 4)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64');

/** Every client message names the meeting it is for (the stable `id`, which a link rotation keeps). */
const client = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ type: z.literal(type), meetingId: Uuid, ...shape });

export const ClientMessage = z.discriminatedUnion('type', [
  /** The participant's sending connection: an SDP offer with its sendonly tracks. */
  client('publish', { sdp: Sdp, sources: z.record(z.string().max(16), MediaSource) }),
  client('subscribe.answer', { sdp: Sdp }),
  client('media.state', { audio: z.boolean(), video: z.boolean(), screen: z.boolean() }),
  client('hand', { raised: z.boolean() }),
  /** Exactly one of `text` (meeting without end-to-end encryption) and `sealed` (with it). */
  client('chat.send', {
    text: z.string().trim().min(1).max(CHAT_MAX_CHARS).optional(),
    sealed: SealedChat.optional(),
  }).refine((m) => (m.text === undefined) !== (m.sealed === undefined), {
    message: 'a chat message has either text or sealed',
  }),
  client('keyframe', { participantId: Uuid }),
  /** Asks the engine for a new subscribe offer with an ICE restart (RFC 8445 §9), after a network change. */
  client('ice.restart', {}),
  /** A fresh MLS KeyPackage (RFC 9420 §10) so that the committer can add this participant. */
  client('e2ee.keypackage', { data: MlsBlob }),
  /** An MLS commit for everyone else, and the Welcome (RFC 9420 §12.4.3.1) for those it adds. */
  client('e2ee.commit', {
    data: MlsBlob,
    welcome: z.strictObject({ data: MlsBlob, to: z.array(Uuid).min(1).max(E2EE_MAX_MEMBERS) }).nullable(),
  }),
  // Host actions
  client('lobby.admit', { entryId: Uuid }),
  client('lobby.deny', { entryId: Uuid }),
  client('participant.mute', { participantId: Uuid, source: z.enum(['microphone', 'camera', 'screen']) }),
  client('participant.remove', { participantId: Uuid }),
  client('participant.promote', { participantId: Uuid }),
  client('meeting.lock', { locked: z.boolean() }),
  client('meeting.end', {}),
  client('ping', {}),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const signalErrorCodes = [
  'malformed',
  'too_large',
  'wrong_meeting',
  'out_of_order',
  'forbidden',
  'unknown_participant',
  'rate_limited',
  'media_failed',
  /** Clear chat in an end-to-end encrypted meeting. */
  'e2ee_required',
  /** Sealed chat or MLS messages in a meeting without end-to-end encryption. */
  'e2ee_off',
] as const;
export const SignalErrorCode = z.enum(signalErrorCodes);
export type SignalErrorCode = z.infer<typeof SignalErrorCode>;

/** A view of the meeting for those inside it. */
export const MeetingView = Meeting.pick({
  id: true,
  linkId: true,
  url: true,
  title: true,
  classification: true,
  startsAt: true,
  endsAt: true,
  options: true,
  locked: true,
});
export type MeetingView = z.infer<typeof MeetingView>;

export const ServerMessage = z.discriminatedUnion('type', [
  /** First message of an admission: waiting, or refused / step-up (then the socket closes). */
  z.object({
    type: z.literal('admission'),
    outcome: AdmissionOutcome,
    reason: RefusalReason.nullable(),
    /** Null when refused: a refused person learns nothing of the meeting, not even its title. */
    meeting: MeetingPreview.nullable(),
  }),
  z.object({
    type: z.literal('welcome'),
    self: Participant,
    meeting: MeetingView,
    roster: z.array(Participant),
    chat: z.array(ChatMessage),
    iceServers: z.array(IceServer),
    /** A short-lived token that takes this presence back after a dropped socket (`?resume=`). */
    resume: z.string(),
    /** This welcome continues an earlier presence: same participant, no lobby, keys kept. */
    resumed: z.boolean(),
  }),
  /** A fresh resume token, sent before the previous one expires. */
  z.object({ type: z.literal('resume'), token: z.string() }),
  z.object({ type: z.literal('roster'), participants: z.array(Participant) }),
  z.object({ type: z.literal('meeting'), meeting: MeetingView }),
  /** Hosts only: who waits in the lobby. */
  z.object({ type: z.literal('lobby'), waiting: z.array(LobbyEntry) }),
  /** Hosts only: someone tried to join and was refused or sent to the lobby. */
  z.object({
    type: z.literal('attempt'),
    /** The same person as one line of text, for logs and tools; the console words `person` itself. */
    who: z.string(),
    person: AttemptPerson,
    outcome: AdmissionOutcome,
    reason: RefusalReason.nullable(),
    at: z.iso.datetime(),
  }),
  z.object({ type: z.literal('publish.answer'), sdp: Sdp }),
  z.object({ type: z.literal('subscribe.offer'), sdp: Sdp, tracks: z.array(TrackInfo) }),
  z.object({ type: z.literal('chat'), message: ChatMessage }),
  /** A host muted this participant's source; its forwarding has already stopped. */
  z.object({ type: z.literal('muted'), source: z.enum(['microphone', 'camera', 'screen']), by: z.string() }),
  z.object({ type: z.literal('removed'), by: z.string() }),
  z.object({ type: z.literal('denied') }),
  z.object({ type: z.literal('ended'), by: z.string().nullable() }),
  z.object({ type: z.literal('error'), code: SignalErrorCode, message: z.string() }),
  z.object({ type: z.literal('pong') }),
  /** Opaque MLS messages relayed from another participant of this meeting (`from`). */
  z.object({ type: z.literal('e2ee.keypackage'), from: Uuid, data: MlsBlob }),
  z.object({ type: z.literal('e2ee.commit'), from: Uuid, data: MlsBlob }),
  z.object({ type: z.literal('e2ee.welcome'), from: Uuid, data: MlsBlob }),
  /**
   * The engine lost this participant's media connections (its node moved, or the server
   * restarted): the client closes both, publishes again and waits for a new subscribe offer.
   */
  z.object({ type: z.literal('media.reset'), reason: z.enum(['engine_moved', 'server_restarted']) }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/**
 * How long a resume token (`welcome.resume`, `resume`) takes a dropped presence back: a client
 * tries to resume only with a token younger than this.
 */
export const RESUME_TOKEN_TTL_MS = 60_000;

/** WebSocket close codes of the meeting socket (4000–4999 are the application's). */
export const MeetingCloseCode = {
  unauthenticated: 4401,
  refused: 4403,
  stepUp: 4428,
  removed: 4410,
  ended: 4499,
  sessionEnded: 4440,
  /** Another socket resumed this presence (see `welcome.resume`). */
  replaced: 4409,
  protocol: 4400,
} as const;
