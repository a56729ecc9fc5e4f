/**
 * The SFU interface. The meetings module speaks only to this: it never knows which
 * engine forwards the media (the embedded werift engine, or Janus at scale).
 *
 * Each admitted participant has two connections: a *publish* connection it offers
 * (its camera, microphone, screen), and a *subscribe* connection the engine offers
 * (everyone else's tracks), renegotiated by the engine as tracks come and go. Only
 * the meetings module adds participants, and only after admission: the engine has
 * no way in of its own, so media flows only from and to admitted participants.
 */
import { RempartError, type IceServer, type MediaSource, type TrackInfo } from '@rempart/core';
import { sdpProblem } from './sdp-check.js';

export interface RoomEvents {
  /** The engine has a new offer for a participant's subscribe connection. */
  subscribeOffer(participantId: string, sdp: string, tracks: TrackInfo[]): void;
  /** A participant's connection failed or closed on the network side. */
  mediaFailed?(participantId: string, reason: string): void;
  /**
   * The engine lost every media connection of a participant (its media server died and the
   * room moved to another): the participant must publish again; a new subscribe offer follows.
   */
  mediaReset?(participantId: string, reason: 'engine_moved'): void;
}

export interface RoomStats {
  participants: number;
  /** Tracks received from publishers. */
  publishedTracks: number;
  /** Track copies sent to subscribers. */
  forwardedTracks: number;
  /** RTP packets forwarded to subscribers since the room opened. */
  packetsForwarded: number;
  /** Keyframe requests relayed from subscribers to publishers. */
  keyframeRequests: number;
}

export interface MediaRoom {
  /** Registers an admitted participant; its subscribe offer follows through `subscribeOffer`. */
  join(participantId: string): void;
  /**
   * Answers a participant's publish offer. `sources` maps each sendonly transceiver's
   * mid to what it carries. Rejects when the participant has not joined.
   */
  publish(participantId: string, offerSdp: string, sources: Record<string, MediaSource>): Promise<string>;
  /** Applies a participant's answer to the engine's last subscribe offer. */
  subscribeAnswer(participantId: string, answerSdp: string): Promise<void>;
  /** Starts or stops forwarding one source of a participant (a host's mute is enforced here). */
  setForwarding(participantId: string, source: MediaSource, on: boolean): void;
  /** Asks a publisher for a keyframe of its video (a subscriber's request, relayed). */
  requestKeyframe(participantId: string): void;
  /**
   * Renegotiates the participant's subscribe connection with new ICE credentials (an ICE
   * restart, RFC 8445 §9), after its network changed; the offer follows through
   * `subscribeOffer`. The publish connection restarts from the browser's side: a new offer.
   */
  restartIce(participantId: string): void;
  /** Stops every packet to and from the participant at once and closes its connections. */
  leave(participantId: string): void;
  stats(): RoomStats;
  close(): void;
}

export interface MediaEngine {
  readonly name: string;
  openRoom(roomId: string, events: RoomEvents): MediaRoom;
  /** ICE servers a browser should use (TURN credentials are per participant and time-limited). */
  iceServers(participantId: string): IceServer[];
  close(): Promise<void>;
}

/**
 * The engine of a process that serves no meetings (the DNS resolver run alone): it opens no
 * room, and so never loads the WebRTC stack (some 30 MB resident).
 */
export const noMediaEngine: MediaEngine = {
  name: 'none',
  openRoom() {
    throw new RempartError('service_unavailable', 'This Rempart process serves no meetings.');
  },
  iceServers: () => [],
  close: () => Promise.resolve(),
};

/** The media kinds of every m-section an engine takes from a browser: no data channels. */
export const mediaKinds = ['audio', 'video'] as const;

/**
 * The member of a room a publish offer comes from, or why the offer is refused before an engine
 * does any work: the participant has not joined the room, or the offer is malformed (sdp-check.ts).
 *
 * @example
 *   const member = publisherOf(this.members, participantId, offerSdp);
 *   if (member instanceof Error) return Promise.reject(member);
 */
export function publisherOf<Member>(
  members: ReadonlyMap<string, Member>,
  participantId: string,
  offerSdp: string,
): Member | Error {
  const member = members.get(participantId);
  if (!member) return new Error('the participant has not joined the media room');
  const problem = sdpProblem(offerSdp, { kinds: mediaKinds });
  if (problem) return new Error(`malformed publish offer: ${problem}`);
  return member;
}
