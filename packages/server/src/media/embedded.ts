/**
 * The embedded SFU: a selective forwarding unit inside the server process, on werift
 * (WebRTC in TypeScript). Nothing is decoded: each RTP packet a publisher sends is handed to
 * every subscriber's sender, which rewrites SSRC, payload type and sequence/timestamp offsets.
 *
 * Every participant has two peer connections, both BUNDLEd on one UDP port (RFC 8843) with
 * RTCP multiplexed (RFC 5761):
 * - *publish*: the browser offers its sendonly microphone, camera and screen; we answer.
 * - *subscribe*: we offer one sendonly transceiver per track of everyone else; the browser
 *   answers. Tracks come and go by renegotiation, one offer at a time.
 *
 * Feedback: keyframe requests (PLI, RFC 4585 §6.3.1; FIR, RFC 5104 §4.3.1) from subscribers
 * are relayed to the publisher, throttled per track; a subscriber's receiver bandwidth
 * estimate (REMB, draft-alvestrand-rmcat-remb) limits the publishers it receives from when it
 * says that subscriber is congested (see `relayBandwidth`).
 */
import { isIPv6 } from 'node:net';
import type { Config, IceServer, MediaSource, TrackInfo } from '@rempart/core';
import { pino } from 'pino';
import {
  MediaStream,
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  useAbsSendTime,
  useFIR,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
  type Extension,
  type MediaStreamTrack,
  type RTCDtlsTransport,
  type RTCPeerConnectionConfig,
  type RTCRtpReceiver,
  type RTCRtpSender,
  type RTCRtpTransceiver,
  type RtcpPacket,
  type RtpPacket,
} from 'werift';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import {
  mediaKinds,
  publisherOf,
  type MediaEngine,
  type MediaRoom,
  type RoomEvents,
  type RoomStats,
} from './engine.js';
import { sdpProblem } from './sdp-check.js';
import { turnCredentials } from './turn-credentials.js';

export interface EmbeddedEngineOptions {
  /** The address of media sockets and the only ICE candidate; loopback when undefined. */
  ip: Config['media']['ip'];
  /** UDP ports for media; each peer connection takes one (two per participant). */
  ports: Config['media']['ports'];
  turn: Config['media']['turn'];
  logger?: Logger;
  clock?: Clock;
}

/** At most one keyframe request per publisher track in this window (a keyframe costs a burst). */
export const KEYFRAME_REQUEST_INTERVAL_MS = 500;
/** How often bandwidth estimates are relayed to publishers (Chromium sends REMB about once a second). */
const REMB_INTERVAL_MS = 1000;
/** A subscriber's estimate older than this no longer limits anyone. */
const REMB_FRESH_MS = 3000;
/** One subscriber's poor link never pushes a publisher below this: the others still need a picture. */
const REMB_FLOOR_BPS = 150_000;
/** A subscriber whose estimate is below this share of what it receives is congested. */
const REMB_CONGESTED = 0.9;
/** Once limited, a publisher nobody finds too fast again may go up to this multiple of its rate. */
const REMB_HEADROOM = 2;
/** A negotiation step (description, host candidates) that takes longer than this has failed. */
const NEGOTIATION_TIMEOUT_MS = 10_000;
/** Consecutive bad (or missing) subscribe answers after which the engine stops re-offering. */
const MAX_FAILED_ANSWERS = 3;
/** A browser answers in milliseconds, or within its 5 s gathering limit: past this, it will not. */
const SUBSCRIBE_ANSWER_TIMEOUT_MS = 20_000;

type Kind = (typeof mediaKinds)[number];
const kindOf = (source: MediaSource): Kind => (source === 'microphone' ? 'audio' : 'video');

/**
 * A publisher's header extensions carry its own ids; the subscriber's sender writes the ones
 * negotiated with the subscriber, and werift would otherwise merge the publisher's in by id.
 * Shared and never mutated (werift replaces the array of the copy it sends).
 */
const NO_EXTENSIONS: Extension[] = [];
const ignore = (): void => undefined;

/** A track a participant publishes, and the senders it is forwarded through. */
interface Published {
  readonly owner: Member;
  readonly mid: string;
  readonly source: MediaSource;
  readonly kind: Kind;
  readonly receiver: RTCRtpReceiver;
  /** The publisher's SSRC, known once the description or the first packet names it. */
  ssrc: number | undefined;
  clockRate: number;
  /** Forwarding on (off while muted by its owner or a host). */
  on: boolean;
  pausedAt: number;
  /** Senders of ready forwards: the only thing the packet path reads. */
  targets: readonly RTCRtpSender[];
  /** Payload bytes forwarded (counted once, however many subscribers), and the rate they make. */
  bytes: number;
  bytesAtLastRate: number;
  /** Bits per second forwarded over the last bandwidth period. */
  rate: number;
  readonly forwards: Set<Forward>;
  lastKeyframeAt: number;
  keyframeTimer: NodeJS.Timeout | undefined;
  removed: boolean;
  detach: () => void;
}

/** One published track carried on one subscriber's connection. */
interface Forward {
  readonly track: Published;
  readonly subscriber: Member;
  readonly transceiver: RTCRtpTransceiver;
  /** Negotiated and connected: packets flow. */
  ready: boolean;
}

type Negotiation = 'idle' | 'offering' | 'awaiting-answer' | 'applying-answer';

interface Member {
  readonly id: string;
  readonly log: Logger;
  /** Sources whose forwarding is off; a track published later starts muted too. */
  readonly off: Set<MediaSource>;
  /** Rejects when the member leaves, so that no step waits on a closed connection. */
  readonly gone: Promise<never>;
  readonly depart: () => void;
  left: boolean;
  publisher: RTCPeerConnection | undefined;
  publishChain: Promise<unknown>;
  readonly published: Map<string, Published>;
  subscriber: RTCPeerConnection | undefined;
  readonly forwards: Map<Published, Forward>;
  /** Forwards by the SSRC of our sender, as RTCP feedback names them. */
  readonly forwardsBySsrc: Map<number, Forward>;
  readonly hooked: Map<RTCDtlsTransport, () => void>;
  negotiation: Negotiation;
  answerTimer: NodeJS.Timeout | undefined;
  /**
   * The subscribe connection's first m-section, which tags its BUNDLE group (RFC 8843 §7.2.1):
   * never rejected, only made inactive when its track goes. When the offerer rejects the
   * tagged m-section, Chromium answers with a new transport (new ICE credentials) that werift
   * does not follow, and the connection fails; and with every m-section rejected an offer has
   * no BUNDLE group at all, which Chromium refuses under max-bundle.
   */
  anchor: RTCRtpTransceiver | undefined;
  /** Tracks changed since the last subscribe offer. */
  dirty: boolean;
  /** The next subscribe offer carries new ICE credentials (the participant asked for an ICE restart). */
  iceRestart: boolean;
  failedAnswers: number;
  /** The subscriber's latest receiver estimate of its whole downlink. */
  remb: { bps: number; at: number } | undefined;
  /** A congested subscriber limited this publisher: from then on it gets a REMB each period. */
  limited: boolean;
  readonly streams: { main: MediaStream; screen: MediaStream };
}

/** What a room needs from its engine. */
interface EngineContext {
  createPeer(): RTCPeerConnection;
  /** Creates and applies a local description, returning it with its candidates. */
  describe(
    pc: RTCPeerConnection,
    kind: 'offer' | 'answer',
    gone: Promise<never>,
    options?: { iceRestart: boolean },
  ): Promise<string>;
  closePeer(pc: RTCPeerConnection): void;
  roomClosed(room: EmbeddedRoom): void;
}

export class EmbeddedEngine implements MediaEngine {
  readonly name = 'embedded';
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly ip: string;
  private readonly portRange: [number, number] | undefined;
  private readonly rooms = new Set<EmbeddedRoom>();
  private readonly closing = new Set<Promise<void>>();
  private readonly context: EngineContext;
  /** With a port range, host candidates are gathered one connection at a time (see `describe`). */
  private gathering: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: EmbeddedEngineOptions) {
    this.log = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? systemClock;
    this.ip = options.ip ?? '127.0.0.1';
    if (this.ip === '0.0.0.0' || this.ip === '::')
      throw new Error('REMPART_MEDIA_IP must be an address browsers can reach, not a wildcard address');
    if (options.ip === undefined)
      this.log.warn('REMPART_MEDIA_IP is not set: media uses 127.0.0.1, reachable from this machine only');
    const { ports } = options;
    if (ports && ports.min >= ports.max)
      throw new Error(
        'REMPART_MEDIA_PORTS: the embedded engine needs at least two ports (one per connection)',
      );
    this.portRange = ports ? [ports.min, ports.max] : undefined;
    this.context = this.createContext();
  }

  openRoom(roomId: string, events: RoomEvents): MediaRoom {
    if (this.closed) throw new Error('the media engine is closed');
    const room = new EmbeddedRoom(events, this.context, this.log.child({ roomId }));
    this.rooms.add(room);
    return room;
  }

  iceServers(participantId: string): IceServer[] {
    const { turn } = this.options;
    return turn ? [turnCredentials(turn, participantId, this.clock.now())] : [];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const room of [...this.rooms]) room.close();
    await Promise.all([...this.closing]);
  }

  private createContext(): EngineContext {
    return {
      createPeer: () => new RTCPeerConnection(this.peerConfig()),
      describe: (pc, kind, gone, options) => {
        const run = () =>
          guard(
            withTimeout(this.describeNow(pc, kind, options?.iceRestart ?? false), NEGOTIATION_TIMEOUT_MS),
            gone,
          );
        if (!this.portRange) return run();
        // werift finds a free port in the range by binding and closing a probe socket, then
        // binds again: two connections gathering at once can pick the same port. One at a time.
        const result = this.gathering.then(run);
        this.gathering = result.catch(ignore);
        return result;
      },
      closePeer: (pc) => {
        const done = pc.close().catch(ignore);
        this.closing.add(done);
        void done.then(() => this.closing.delete(done));
      },
      roomClosed: (room) => void this.rooms.delete(room),
    };
  }

  private async describeNow(
    pc: RTCPeerConnection,
    kind: 'offer' | 'answer',
    iceRestart: boolean,
  ): Promise<string> {
    const description = kind === 'offer' ? await pc.createOffer({ iceRestart }) : await pc.createAnswer();
    // werift gathers host candidates inside setLocalDescription: the SDP holds them all after it.
    await pc.setLocalDescription(description);
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('no local description');
    if (/^m=\S+ [1-9]/m.test(sdp) && !sdp.includes('a=candidate:'))
      throw new Error(`no ICE candidate on ${this.ip} (media ports exhausted?)`);
    return sdp;
  }

  private peerConfig(): RTCPeerConnectionConfig {
    const videoFeedback = () => [useNACK(), usePLI(), useFIR(), useREMB()];
    return {
      // The server's candidates are its own address: no STUN, no TURN on this side.
      iceServers: [],
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      // Host candidates on the configured address only (werift otherwise lists every interface).
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [this.ip],
      iceInterfaceAddresses: isIPv6(this.ip) ? { udp6: this.ip } : { udp4: this.ip },
      icePortRange: this.portRange,
      // One video codec for everyone: forwarding without transcoding needs every subscriber to
      // decode what any publisher sends. No transport-cc: werift keeps transport-wide feedback
      // per receiver, so with BUNDLE each video receiver would report the others' packets as lost.
      // Publishers' congestion control runs on RTCP receiver reports plus the REMB relayed here.
      codecs: {
        audio: [useOPUS({ parameters: 'minptime=10;useinbandfec=1' })],
        video: [useVP8({ rtcpFeedback: videoFeedback() })],
      },
      // abs-send-time lets a browser subscriber estimate its downlink and send REMB.
      headerExtensions: { audio: [useSdesMid()], video: [useSdesMid(), useAbsSendTime()] },
    };
  }
}

class EmbeddedRoom implements MediaRoom {
  private readonly members = new Map<string, Member>();
  private packetsForwarded = 0;
  private keyframeRequests = 0;
  private closed = false;
  private readonly rembTimer: NodeJS.Timeout;
  private lastRelayAt = performance.now();

  constructor(
    private readonly events: RoomEvents,
    private readonly engine: EngineContext,
    private readonly log: Logger,
  ) {
    this.rembTimer = setInterval(() => this.relayBandwidth(), REMB_INTERVAL_MS);
    this.rembTimer.unref();
    this.log.debug('media room opened');
  }

  // ------------------------------------------------------------------ MediaRoom

  join(participantId: string): void {
    if (this.closed || this.members.has(participantId)) return;
    const member = this.newMember(participantId);
    this.members.set(participantId, member);
    member.log.debug('joined media');
    this.requestOffer(member);
  }

  publish(participantId: string, offerSdp: string, sources: Record<string, MediaSource>): Promise<string> {
    const member = publisherOf(this.members, participantId, offerSdp);
    if (member instanceof Error) return Promise.reject(member);
    const run = member.publishChain.then(() => this.negotiatePublish(member, offerSdp, sources));
    member.publishChain = run.catch(ignore);
    return run;
  }

  async subscribeAnswer(participantId: string, answerSdp: string): Promise<void> {
    const member = this.members.get(participantId);
    if (!member) throw new Error('the participant has not joined the media room');
    const pc = member.subscriber;
    if (member.negotiation !== 'awaiting-answer' || !pc)
      throw new Error('no subscribe offer is waiting for an answer');
    member.negotiation = 'applying-answer';
    clearTimeout(member.answerTimer);
    const problem = sdpProblem(answerSdp, { kinds: mediaKinds });
    try {
      if (problem) throw new Error(`malformed subscribe answer: ${problem}`);
      await guard(pc.setRemoteDescription({ type: 'answer', sdp: answerSdp }), member.gone);
      restartIceChecks(pc);
    } catch (error) {
      if (member.left) throw new Error('the participant left', { cause: error });
      await this.answerFailed(member, pc);
      const message = problem ? messageOf(error) : `the subscribe answer was refused: ${messageOf(error)}`;
      throw new Error(message, { cause: error });
    }
    member.negotiation = 'idle';
    member.failedAnswers = 0;
    this.refreshForwards(member);
    if (member.dirty) void this.offerLoop(member);
  }

  setForwarding(participantId: string, source: MediaSource, on: boolean): void {
    const member = this.members.get(participantId);
    if (!member) return;
    if (on) member.off.delete(source);
    else member.off.add(source);
    for (const track of member.published.values()) if (track.source === source) this.setTrackOn(track, on);
  }

  requestKeyframe(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member) return;
    for (const track of member.published.values()) if (track.kind === 'video') this.keyframe(track);
  }

  restartIce(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member?.subscriber) return;
    member.iceRestart = true;
    this.requestOffer(member);
  }

  leave(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member) return;
    this.members.delete(participantId);
    this.teardown(member);
    member.log.debug('left media');
  }

  stats(): RoomStats {
    let publishedTracks = 0;
    let forwardedTracks = 0;
    for (const member of this.members.values()) {
      publishedTracks += member.published.size;
      for (const forward of member.forwards.values()) if (forward.ready) forwardedTracks++;
    }
    return {
      participants: this.members.size,
      publishedTracks,
      forwardedTracks,
      packetsForwarded: this.packetsForwarded,
      keyframeRequests: this.keyframeRequests,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.rembTimer);
    for (const member of this.members.values()) this.teardown(member);
    this.members.clear();
    this.engine.roomClosed(this);
    this.log.debug(
      { packetsForwarded: this.packetsForwarded, keyframeRequests: this.keyframeRequests },
      'media room closed',
    );
  }

  // ------------------------------------------------------------------ members

  private newMember(id: string): Member {
    let depart: (reason: Error) => void = ignore;
    const gone = new Promise<never>((_, reject) => (depart = reject));
    gone.catch(ignore);
    return {
      id,
      log: this.log.child({ participantId: id }),
      off: new Set(),
      gone,
      depart: () => depart(new Error('the participant left')),
      left: false,
      publisher: undefined,
      publishChain: Promise.resolve(),
      published: new Map(),
      subscriber: undefined,
      forwards: new Map(),
      forwardsBySsrc: new Map(),
      hooked: new Map(),
      negotiation: 'idle',
      answerTimer: undefined,
      anchor: undefined,
      dirty: false,
      iceRestart: false,
      failedAnswers: 0,
      remb: undefined,
      limited: false,
      // Stream ids (msid, RFC 8830) group a participant's camera and microphone, so that the
      // browser synchronises them; the screen stands apart.
      streams: { main: new MediaStream({ id }), screen: new MediaStream({ id: `${id}-screen` }) },
    };
  }

  /** Tells the room's owner; its trouble stays its own (this may run inside werift's events). */
  private failed(member: Member, reason: string): void {
    member.log.debug({ reason }, 'media failed');
    try {
      this.events.mediaFailed?.(member.id, reason);
    } catch (error) {
      member.log.warn({ err: error }, 'media failure not delivered');
    }
  }

  /** No packet to or from the member from now on; its connections close. */
  private teardown(member: Member): void {
    member.left = true;
    member.depart();
    clearTimeout(member.answerTimer);
    for (const track of [...member.published.values()]) this.unpublish(track);
    for (const forward of [...member.forwards.values()]) this.dropForward(forward);
    for (const unhook of member.hooked.values()) unhook();
    member.hooked.clear();
    if (member.publisher) this.engine.closePeer(member.publisher);
    if (member.subscriber) this.engine.closePeer(member.subscriber);
    member.publisher = undefined;
    member.subscriber = undefined;
  }

  // ------------------------------------------------------------------ publishing

  private async negotiatePublish(
    member: Member,
    sdp: string,
    sources: Record<string, MediaSource>,
  ): Promise<string> {
    if (member.left) throw new Error('the participant left');
    const fresh = member.publisher === undefined;
    const pc = member.publisher ?? this.openPublisher(member);
    let answer: string;
    try {
      await guard(pc.setRemoteDescription({ type: 'offer', sdp }), member.gone);
      answer = await this.engine.describe(pc, 'answer', member.gone);
      restartIceChecks(pc);
    } catch (error) {
      if (member.left) throw new Error('the participant left', { cause: error });
      member.log.debug({ err: error }, 'publish offer refused');
      if (fresh) {
        // A first offer that fails leaves nothing worth keeping: the next one starts afresh.
        member.publisher = undefined;
        this.engine.closePeer(pc);
      } else if (pc.signalingState !== 'stable') {
        await pc.setRemoteDescription({ type: 'rollback', sdp: '' }).catch(ignore);
      }
      throw new Error(`the publish offer could not be applied: ${messageOf(error)}`, { cause: error });
    }
    if (member.left) throw new Error('the participant left');
    this.updatePublished(member, pc, sources);
    return answer;
  }

  private openPublisher(member: Member): RTCPeerConnection {
    const pc = this.engine.createPeer();
    member.publisher = pc;
    pc.connectionStateChange.subscribe((state) => {
      if (member.left || member.publisher !== pc) return;
      member.log.debug({ state }, 'publish connection');
      if (state === 'failed') this.failed(member, 'publish connection failed');
    });
    return pc;
  }

  /** Matches the published tracks to the transceivers the latest offer keeps sending. */
  private updatePublished(member: Member, pc: RTCPeerConnection, sources: Record<string, MediaSource>): void {
    const live = new Map<string, { transceiver: RTCRtpTransceiver; source: MediaSource }>();
    for (const transceiver of pc.getTransceivers()) {
      const { mid } = transceiver;
      if (mid === null || transceiver.stopped || transceiver.stopping) continue;
      if (transceiver.currentDirection !== 'recvonly' && transceiver.currentDirection !== 'sendrecv')
        continue;
      const source = Object.hasOwn(sources, mid) ? sources[mid] : undefined;
      if (source === undefined || kindOf(source) !== transceiver.kind) continue;
      live.set(mid, { transceiver, source });
    }
    let changed = false;
    for (const track of [...member.published.values()]) {
      const next = live.get(track.mid);
      if (next?.transceiver.receiver === track.receiver && next.source === track.source) continue;
      this.unpublish(track);
      changed = true;
    }
    for (const [mid, { transceiver, source }] of live) {
      if (member.published.has(mid)) continue;
      this.publishTrack(member, mid, transceiver, source);
      changed = true;
    }
    if (!changed) return;
    for (const other of this.members.values()) if (other !== member) this.requestOffer(other);
  }

  private publishTrack(
    member: Member,
    mid: string,
    transceiver: RTCRtpTransceiver,
    source: MediaSource,
  ): void {
    const kind = kindOf(source);
    const track: Published = {
      owner: member,
      mid,
      source,
      kind,
      receiver: transceiver.receiver,
      ssrc: undefined,
      clockRate: kind === 'audio' ? 48_000 : 90_000,
      on: !member.off.has(source),
      pausedAt: performance.now(),
      targets: [],
      bytes: 0,
      bytesAtLastRate: 0,
      rate: 0,
      forwards: new Set(),
      lastKeyframeAt: -Infinity,
      keyframeTimer: undefined,
      removed: false,
      detach: ignore,
    };
    // The packet path: no allocation here beyond werift's own, no logging.
    const forward = (rtp: RtpPacket): void => {
      if (!track.on) return;
      const { targets } = track;
      if (targets.length === 0) return;
      rtp.header.extensions = NO_EXTENSIONS;
      for (const sender of targets) sender.sendRtp(rtp).catch(ignore);
      this.packetsForwarded += targets.length;
      track.bytes += rtp.payload.length;
    };
    let unsubscribeRtp = ignore;
    let current: MediaStreamTrack | undefined;
    const attach = (remote: MediaStreamTrack): void => {
      if (remote === current) return;
      unsubscribeRtp();
      current = remote;
      track.ssrc = remote.ssrc;
      if (remote.codec?.clockRate) track.clockRate = remote.codec.clockRate;
      unsubscribeRtp = remote.onReceiveRtp.subscribe(forward).unSubscribe;
    };
    const first = transceiver.receiver.tracks[0];
    if (first) attach(first);
    // A track whose SSRC the description did not name arrives with its first packets.
    const { unSubscribe } = transceiver.onTrack.subscribe((remote) => attach(remote));
    track.detach = () => {
      unSubscribe();
      unsubscribeRtp();
    };
    member.published.set(mid, track);
    member.log.debug({ mid, source }, 'track published');
  }

  private unpublish(track: Published): void {
    track.removed = true;
    track.on = false;
    track.targets = [];
    track.detach();
    clearTimeout(track.keyframeTimer);
    track.owner.published.delete(track.mid);
    for (const forward of [...track.forwards]) this.dropForward(forward);
    track.owner.log.debug({ mid: track.mid, source: track.source }, 'track unpublished');
  }

  private setTrackOn(track: Published, on: boolean): void {
    if (track.on === on || track.removed) return;
    track.on = on;
    if (!on) {
      track.pausedAt = performance.now();
      return;
    }
    // Sequence numbers go on from where they stopped and timestamps advance by the time paused
    // (RFC 3550 §5.1): the subscriber sees no gap to repair, and its jitter buffer no time warp.
    const step = Math.max(1, Math.round(((performance.now() - track.pausedAt) * track.clockRate) / 1000));
    for (const forward of track.forwards)
      forward.transceiver.sender.replaceRTP({ sequenceNumber: 0, timestamp: 0 }, false, step);
    if (track.kind === 'video') this.keyframe(track);
  }

  // ------------------------------------------------------------------ keyframes

  /** Asks the publisher for a keyframe: at once, or at the end of the throttle window. */
  private keyframe(track: Published): void {
    if (track.removed || !track.on || track.kind !== 'video' || track.keyframeTimer) return;
    const wait = track.lastKeyframeAt + KEYFRAME_REQUEST_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.sendPli(track);
      return;
    }
    track.keyframeTimer = setTimeout(() => {
      track.keyframeTimer = undefined;
      this.sendPli(track);
    }, wait);
    track.keyframeTimer.unref();
  }

  private sendPli(track: Published): void {
    if (track.removed || !track.on || track.ssrc === undefined) return;
    track.lastKeyframeAt = performance.now();
    this.keyframeRequests++;
    track.receiver.sendRtcpPLI(track.ssrc).catch(ignore);
  }

  // ------------------------------------------------------------------ subscribing

  /** Notes that a member's subscribe connection must change, and offers when none is pending. */
  private requestOffer(member: Member): void {
    if (member.left || this.closed) return;
    member.dirty = true;
    if (member.negotiation === 'idle') void this.offerLoop(member);
  }

  private async offerLoop(member: Member): Promise<void> {
    if (member.negotiation !== 'idle') return;
    member.negotiation = 'offering';
    try {
      member.dirty = false;
      this.addMissingForwards(member);
      const pc = member.subscriber;
      // Nothing to carry yet: the first offer goes out with the first track.
      if (pc && !member.left && !this.closed) {
        const iceRestart = member.iceRestart;
        member.iceRestart = false;
        const sdp = await this.engine.describe(pc, 'offer', member.gone, { iceRestart });
        if (member.left || this.closed) return;
        this.hookTransports(member, pc);
        member.negotiation = 'awaiting-answer';
        member.answerTimer = setTimeout(() => this.answerMissing(member, pc), SUBSCRIBE_ANSWER_TIMEOUT_MS);
        member.answerTimer.unref();
        try {
          this.events.subscribeOffer(member.id, sdp, this.trackInfos(member));
        } catch (error) {
          // Signalling's trouble; the answer timeout re-offers.
          member.log.warn({ err: error }, 'subscribe offer not delivered');
        }
        return;
      }
    } catch (error) {
      if (member.left || this.closed) return;
      member.log.warn({ err: error }, 'subscribe offer failed');
      member.negotiation = 'idle';
      this.failed(member, 'subscribe negotiation failed');
      return;
    }
    member.negotiation = 'idle';
  }

  private answerMissing(member: Member, pc: RTCPeerConnection): void {
    if (member.left || this.closed || member.negotiation !== 'awaiting-answer') return;
    member.log.warn('no answer to the subscribe offer');
    void this.answerFailed(member, pc);
  }

  private addMissingForwards(member: Member): void {
    for (const other of this.members.values()) {
      if (other === member || other.left) continue;
      for (const track of other.published.values())
        if (!track.removed && !member.forwards.has(track)) this.addForward(member, track);
    }
  }

  private addForward(member: Member, track: Published): void {
    const pc = member.subscriber ?? this.openSubscriber(member);
    const stream = track.source === 'screen' ? track.owner.streams.screen : track.owner.streams.main;
    const transceiver = pc.addTransceiver(track.kind, { direction: 'sendonly', streams: [stream] });
    member.anchor ??= transceiver;
    const forward: Forward = { track, subscriber: member, transceiver, ready: false };
    member.forwards.set(track, forward);
    member.forwardsBySsrc.set(transceiver.sender.ssrc, forward);
    track.forwards.add(forward);
  }

  /** Stops a forward at once; the subscriber learns of it by the next offer. */
  private dropForward(forward: Forward): void {
    const { track, subscriber } = forward;
    forward.ready = false;
    track.forwards.delete(forward);
    track.targets = readySenders(track);
    subscriber.forwards.delete(track);
    subscriber.forwardsBySsrc.delete(forward.transceiver.sender.ssrc);
    if (subscriber.left) return;
    try {
      if (forward.transceiver === subscriber.anchor) forward.transceiver.setDirection('inactive');
      else forward.transceiver.stop();
    } catch (error) {
      subscriber.log.debug({ err: error }, 'transceiver stop failed');
    }
    this.requestOffer(subscriber);
  }

  private openSubscriber(member: Member): RTCPeerConnection {
    const pc = this.engine.createPeer();
    member.subscriber = pc;
    pc.connectionStateChange.subscribe((state) => {
      if (member.left || member.subscriber !== pc) return;
      member.log.debug({ state }, 'subscribe connection');
      if (state === 'connected' || state === 'failed' || state === 'closed') this.refreshForwards(member);
      if (state === 'failed') this.failed(member, 'subscribe connection failed');
    });
    return pc;
  }

  private trackInfos(member: Member): TrackInfo[] {
    const tracks: TrackInfo[] = [];
    for (const { track, transceiver } of member.forwards.values())
      if (transceiver.mid !== null)
        tracks.push({ mid: transceiver.mid, participantId: track.owner.id, source: track.source });
    return tracks;
  }

  /** Starts (or stops) each forward whose negotiation or connection changed. */
  private refreshForwards(member: Member): void {
    const connected = member.subscriber?.connectionState === 'connected';
    for (const forward of member.forwards.values()) {
      const direction = forward.transceiver.currentDirection;
      const ready = connected && !member.left && (direction === 'sendonly' || direction === 'sendrecv');
      if (ready === forward.ready) continue;
      forward.ready = ready;
      forward.track.targets = readySenders(forward.track);
      // A new viewer cannot decode until the next keyframe.
      if (ready) this.keyframe(forward.track);
    }
  }

  private async answerFailed(member: Member, pc: RTCPeerConnection): Promise<void> {
    await pc.setLocalDescription({ type: 'rollback' }).catch(ignore);
    member.negotiation = 'idle';
    member.failedAnswers++;
    if (member.failedAnswers < MAX_FAILED_ANSWERS) this.requestOffer(member);
    else this.failed(member, 'subscribe answers refused');
  }

  /** Listens to RTCP from the subscriber: keyframe requests and bandwidth estimates. */
  private hookTransports(member: Member, pc: RTCPeerConnection): void {
    for (const transport of pc.dtlsTransports) {
      if (member.hooked.has(transport)) continue;
      const { unSubscribe } = transport.onRtcp.subscribe((rtcp) => this.subscriberRtcp(member, rtcp));
      member.hooked.set(transport, unSubscribe);
    }
  }

  private subscriberRtcp(member: Member, rtcp: RtcpPacket): void {
    if (member.left || rtcp.type !== RtcpPayloadSpecificFeedback.type) return;
    const feedback = rtcp.feedback as RtcpPayloadSpecificFeedback['feedback'] | undefined;
    if (feedback === undefined) return;
    if (feedback instanceof PictureLossIndication) {
      const forward = member.forwardsBySsrc.get(feedback.mediaSsrc);
      if (forward) this.keyframe(forward.track);
    } else if (feedback instanceof ReceiverEstimatedMaxBitrate) {
      member.remb = { bps: Number(feedback.bitrate), at: performance.now() };
    } else {
      // A full intra request. werift routes it by its media SSRC, which is zero (RFC 5104
      // §4.3.1.2), and drops it; its entries name our senders.
      for (const entry of feedback.fir) {
        const forward = member.forwardsBySsrc.get(entry.ssrc);
        if (forward) this.keyframe(forward.track);
      }
    }
  }

  // ------------------------------------------------------------------ bandwidth

  /**
   * Relays congestion from subscribers to publishers as REMB. A browser's REMB is its estimate
   * of its whole downlink: above what it receives, all is well; well below, it is congested
   * (its estimator drops to about 0.85× the incoming rate on overuse). For each video track:
   * - with congested subscribers, the limit is the lowest of their estimates' shares (in
   *   proportion to what the track sends each), with a floor: without simulcast a publisher
   *   encodes once for everyone, so the weakest congested link sets the rate;
   * - otherwise no limit: the publisher's own congestion control (RTCP receiver reports) sets
   *   the pace. Relaying estimates as they come would cap a publisher at about what it already
   *   sends and halve its ramp-up (measured with Chromium). A REMB stays in force until the
   *   next, so once limited a publisher gets one each period, twice its rate when unlimited.
   * werift makes no estimate of its own on the publish side, and its transport-cc feedback is
   * not used (see `peerConfig`).
   */
  private relayBandwidth(): void {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.lastRelayAt) / 1000);
    this.lastRelayAt = now;
    const videoTracks: Published[] = [];
    for (const member of this.members.values())
      for (const track of member.published.values()) {
        if (track.kind !== 'video') continue;
        track.rate = ((track.bytes - track.bytesAtLastRate) * 8) / seconds;
        track.bytesAtLastRate = track.bytes;
        videoTracks.push(track);
      }
    /** The video rate each subscriber receives, against which its estimate is read. */
    const received = new Map<Member, number>();
    for (const track of videoTracks)
      for (const forward of track.forwards)
        if (forward.ready && track.on)
          received.set(forward.subscriber, (received.get(forward.subscriber) ?? 0) + track.rate);
    const remb = new Map<Member, { bps: number; ssrcs: number[]; receiver: RTCRtpReceiver }>();
    for (const track of videoTracks) {
      if (!track.on || track.ssrc === undefined || track.targets.length === 0) continue;
      let limit = Math.max(REMB_HEADROOM * track.rate, REMB_FLOOR_BPS);
      for (const forward of track.forwards) {
        const estimate = forward.subscriber.remb;
        const demand = received.get(forward.subscriber) ?? 0;
        if (!forward.ready || !estimate || now - estimate.at > REMB_FRESH_MS) continue;
        if (estimate.bps >= REMB_CONGESTED * demand) continue;
        limit = Math.min(limit, Math.max((estimate.bps * track.rate) / demand, REMB_FLOOR_BPS));
        track.owner.limited = true;
      }
      const entry = remb.get(track.owner);
      if (entry) {
        entry.bps += limit;
        entry.ssrcs.push(track.ssrc);
      } else remb.set(track.owner, { bps: limit, ssrcs: [track.ssrc], receiver: track.receiver });
    }
    for (const [publisher, { bps, ssrcs, receiver }] of remb)
      if (publisher.limited) sendRemb(receiver, bps, ssrcs);
  }
}

function readySenders(track: Published): RTCRtpSender[] {
  const senders: RTCRtpSender[] = [];
  for (const forward of track.forwards) if (forward.ready) senders.push(forward.transceiver.sender);
  return senders;
}

/** REMB's bitrate is an 18-bit mantissa and a 6-bit exponent (draft-alvestrand-rmcat-remb §2.2). */
function sendRemb(receiver: RTCRtpReceiver, bps: number, ssrcs: number[]): void {
  const transport = receiver.dtlsTransport;
  if (transport.state !== 'connected') return;
  let mantissa = Math.floor(bps);
  let exponent = 0;
  while (mantissa >= 1 << 18) {
    mantissa = Math.floor(mantissa / 2);
    exponent++;
  }
  const packet = new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({
      senderSsrc: receiver.rtcpSsrc,
      mediaSsrc: 0,
      brExp: exponent,
      brMantissa: mantissa,
      ssrcNum: ssrcs.length,
      ssrcFeedbacks: ssrcs,
    }),
  });
  transport.sendRtcp([packet]).catch(ignore);
}

/**
 * Starts ICE checks again after an ICE restart (RFC 8445 §9), once both sides' new credentials
 * are known. werift drops the selected pair on a restart but starts no checks while its DTLS
 * transport is up (it skips connected transports): nothing would be sent again. The DTLS
 * session goes on over the new pair, as after a browser's restart.
 */
export function restartIceChecks(pc: RTCPeerConnection): void {
  for (const dtls of pc.dtlsTransports) {
    const ice = dtls.iceTransport;
    if (!ice.connection.nominated && dtls.state === 'connected') ice.start().catch(ignore);
  }
}

/** Settles with the promise, or rejects as soon as `gone` does. */
function guard<T>(promise: Promise<T>, gone: Promise<never>): Promise<T> {
  return Promise.race([promise, gone]);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the WebRTC stack within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
