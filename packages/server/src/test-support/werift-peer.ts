/**
 * werift peer connections that play the browser against a media room, on loopback (directly,
 * or relay-only through a TURN server): a publisher that offers sendonly microphone and camera
 * (and screen) transceivers and writes RTP into them, and a subscriber that answers the
 * engine's offers the way the meeting client does and counts the packets it receives per
 * participant and source.
 */
import type { IceServer, MediaSource, TrackInfo } from '@rempart/core';
import {
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  RtpHeader,
  RtpPacket,
  useAbsSendTime,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
  type MediaStreamTrack,
  type RTCPeerConnectionConfig,
  type RTCRtpTransceiver,
} from 'werift';
import type { MediaRoom, RoomEvents } from '../media/engine.js';
import { restartIceChecks } from '../media/embedded.js';

/** How a fake browser reaches the engine. */
export interface BrowserNetwork {
  /** The only local address (default loopback). */
  ip?: string;
  /** The `iceServers` of the welcome message (TURN credentials); none by default. */
  iceServers?: IceServer[];
  /** Relay candidates only, as a browser behind a firewall that lets nothing but TURN out. */
  relayOnly?: boolean;
}

/** A browser's configuration, as the meeting client sets it: the server's ICE servers, max-bundle. */
export function browserConfig({
  ip = '127.0.0.1',
  iceServers = [],
  relayOnly = false,
}: BrowserNetwork = {}): RTCPeerConnectionConfig {
  return {
    iceServers,
    iceTransportPolicy: relayOnly ? 'relay' : 'all',
    bundlePolicy: 'max-bundle',
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [ip],
    iceInterfaceAddresses: { udp4: ip },
    codecs: {
      audio: [useOPUS()],
      video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
    },
    headerExtensions: { audio: [useSdesMid()], video: [useSdesMid(), useAbsSendTime()] },
  };
}

/** Polls `condition` until it holds, or fails after `timeoutMs` naming `what`. */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The start of a VP8 keyframe (RFC 7741 §4.2 descriptor, then a frame tag and start code). */
const vp8Keyframe = Buffer.from([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
const opusFrame = Buffer.alloc(60, 0xfc);

/** A browser's publish connection. */
export class FakePublisher {
  readonly pc: RTCPeerConnection;
  /** Keyframe requests (PLI) received, by source. */
  readonly plis: Record<MediaSource, number> = { microphone: 0, camera: 0, screen: 0 };
  private readonly sending = new Map<MediaSource, RTCRtpTransceiver>();
  private readonly sequence: Record<MediaSource, number> = { microphone: 0, camera: 0, screen: 0 };
  private timer: NodeJS.Timeout | undefined;
  private videoPayload = vp8Keyframe;

  constructor(sources: readonly MediaSource[] = ['microphone', 'camera'], network: BrowserNetwork = {}) {
    this.pc = new RTCPeerConnection(browserConfig(network));
    for (const source of sources) this.add(source);
  }

  /** Adds a sendonly transceiver (a screen share starting); a new offer must follow. */
  add(source: MediaSource): void {
    const transceiver = this.pc.addTransceiver(source === 'microphone' ? 'audio' : 'video', {
      direction: 'sendonly',
    });
    transceiver.sender.onPictureLossIndication.subscribe(() => this.plis[source]++);
    this.sending.set(source, transceiver);
  }

  /** Stops a transceiver (a screen share ending); a new offer must follow. */
  remove(source: MediaSource): void {
    this.sending.get(source)?.stop();
    this.sending.delete(source);
  }

  /** A complete offer (every candidate in it) and the mid → source map of the `publish` message. */
  async offer(): Promise<{ sdp: string; sources: Record<string, MediaSource> }> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const sources: Record<string, MediaSource> = {};
    for (const [source, transceiver] of this.sending)
      if (transceiver.mid !== null) sources[transceiver.mid] = source;
    return { sdp: this.pc.localDescription?.sdp ?? '', sources };
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    restartIceChecks(this.pc);
  }

  /** The bandwidth the engine last allowed this source (REMB), in bits per second. */
  allowedBitrate(source: MediaSource): number {
    return Number(this.sending.get(source)?.sender.receiverEstimatedMaxBitrate ?? 0n);
  }

  /** Writes one packet of a source (a keyframe start for video, an Opus frame for audio). */
  send(source: MediaSource): void {
    const transceiver = this.sending.get(source);
    if (!transceiver) return;
    const n = this.sequence[source]++;
    const video = source !== 'microphone';
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: n & 0xffff,
      timestamp: (n * (video ? 3000 : 960)) >>> 0,
      marker: video,
    });
    void transceiver.sender.sendRtp(new RtpPacket(header, video ? this.videoPayload : opusFrame));
  }

  /** Writes one packet of a source with the given payload (an encrypted frame, say). */
  sendPayload(source: MediaSource, payload: Buffer): void {
    const transceiver = this.sending.get(source);
    if (!transceiver) return;
    const n = this.sequence[source]++;
    const video = source !== 'microphone';
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: n & 0xffff,
      timestamp: (n * (video ? 3000 : 960)) >>> 0,
      marker: video,
    });
    void transceiver.sender.sendRtp(new RtpPacket(header, payload));
  }

  /** Sends a packet of every source every `intervalMs` until `stop`; video packets of `videoBytes`. */
  stream(intervalMs = 20, videoBytes = vp8Keyframe.length): void {
    this.stop();
    this.videoPayload = Buffer.concat([
      vp8Keyframe,
      Buffer.alloc(Math.max(0, videoBytes - vp8Keyframe.length)),
    ]);
    this.timer = setInterval(() => {
      for (const source of this.sending.keys()) this.send(source);
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await this.pc.close();
  }
}

/** A browser's subscribe connection: answers offers one at a time, as the meeting client does. */
export class FakeSubscriber {
  readonly pc: RTCPeerConnection;
  /** What the latest offer said each mid carries. */
  tracks: readonly TrackInfo[] = [];
  /** The latest offer applied. */
  lastOffer = '';
  offers = 0;
  /** While set, offers wait in `held` instead of being answered (a browser that is slow to answer). */
  hold = false;
  held: { sdp: string; tracks: readonly TrackInfo[] } | undefined;
  readonly errors: Error[] = [];
  private readonly counts = new Map<MediaStreamTrack, number>();
  /** The payloads received, by track (the latest 200). */
  private readonly payloadLog = new Map<MediaStreamTrack, Buffer[]>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sendAnswer: (sdp: string) => Promise<void>,
    network: BrowserNetwork = {},
  ) {
    this.pc = new RTCPeerConnection(browserConfig(network));
    this.pc.onTrack.subscribe((track) => this.count(track));
  }

  /** Takes an engine offer: applied, answered and the answer handed to the engine. */
  offer(sdp: string, tracks: readonly TrackInfo[]): Promise<void> {
    this.offers++;
    if (this.hold) {
      this.held = { sdp, tracks };
      return this.chain;
    }
    return this.answer(sdp, tracks);
  }

  /** Stops holding offers and answers the one held, if any. */
  release(): Promise<void> {
    this.hold = false;
    const held = this.held;
    this.held = undefined;
    return held ? this.answer(held.sdp, held.tracks) : this.chain;
  }

  /** Waits for the offers received so far to be answered. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** The live transceiver carrying a participant's source, per the latest offer. */
  transceiver(participantId: string, source: MediaSource): RTCRtpTransceiver | undefined {
    const info = this.tracks.find((t) => t.participantId === participantId && t.source === source);
    if (!info) return undefined;
    return this.pc
      .getTransceivers()
      .find((t) => t.mid === info.mid && !t.stopped && t.currentDirection !== 'inactive');
  }

  /** Packets received so far of a participant's source. */
  received(participantId: string, source: MediaSource): number {
    const transceiver = this.transceiver(participantId, source);
    let total = 0;
    for (const track of transceiver?.receiver.tracks ?? []) total += this.counts.get(track) ?? 0;
    return total;
  }

  /** Asks for a keyframe of a participant's video (PLI, RFC 4585 §6.3.1). */
  async pli(participantId: string, source: MediaSource): Promise<void> {
    const transceiver = this.transceiver(participantId, source);
    const ssrc = transceiver?.receiver.tracks[0]?.ssrc;
    if (!transceiver || ssrc === undefined) throw new Error(`no ${source} of ${participantId} received`);
    const packet = new RtcpPayloadSpecificFeedback({
      feedback: new PictureLossIndication({ senderSsrc: transceiver.receiver.rtcpSsrc, mediaSsrc: ssrc }),
    });
    await transceiver.receiver.dtlsTransport.sendRtcp([packet]);
  }

  /** Reports a downlink estimate for all received video (REMB), as a browser does each second. */
  async remb(bps: number): Promise<void> {
    const video = this.pc.getTransceivers().filter((t) => t.kind === 'video' && !t.stopped);
    const ssrcs = video.flatMap((t) => t.receiver.tracks.map((track) => track.ssrc ?? 0));
    const first = video[0];
    if (!first) throw new Error('no video received');
    let mantissa = bps;
    let exponent = 0;
    while (mantissa >= 1 << 18) {
      mantissa = Math.floor(mantissa / 2);
      exponent++;
    }
    const feedback = new ReceiverEstimatedMaxBitrate({
      senderSsrc: first.receiver.rtcpSsrc,
      mediaSsrc: 0,
      brExp: exponent,
      brMantissa: mantissa,
      ssrcNum: ssrcs.length,
      ssrcFeedbacks: ssrcs,
    });
    await first.receiver.dtlsTransport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback })]);
  }

  async close(): Promise<void> {
    await this.pc.close();
  }

  private answer(sdp: string, tracks: readonly TrackInfo[]): Promise<void> {
    this.chain = this.chain
      .then(async () => {
        this.tracks = tracks;
        this.lastOffer = sdp;
        await this.pc.setRemoteDescription({ type: 'offer', sdp });
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        // After the engine's ICE restart, as a browser does.
        restartIceChecks(this.pc);
        for (const transceiver of this.pc.getTransceivers())
          for (const track of transceiver.receiver.tracks) this.count(track);
        await this.sendAnswer(this.pc.localDescription?.sdp ?? '');
      })
      .catch((error: unknown) => {
        this.errors.push(error instanceof Error ? error : new Error(String(error)));
      });
    return this.chain;
  }

  private count(track: MediaStreamTrack): void {
    if (this.counts.has(track)) return;
    this.counts.set(track, 0);
    const payloads: Buffer[] = [];
    this.payloadLog.set(track, payloads);
    track.onReceiveRtp.subscribe((rtp) => {
      this.counts.set(track, (this.counts.get(track) ?? 0) + 1);
      payloads.push(Buffer.from(rtp.payload));
      if (payloads.length > 200) payloads.shift();
    });
  }

  /** The latest payloads received of a participant's source, as they arrived. */
  payloads(participantId: string, source: MediaSource): Buffer[] {
    const transceiver = this.transceiver(participantId, source);
    return (transceiver?.receiver.tracks ?? []).flatMap((track) => this.payloadLog.get(track) ?? []);
  }
}

/**
 * Routes a room's subscribe offers to the fake browsers in it, and records media failures and
 * resets (as the meeting room passes them on).
 */
export class FakeSignalling implements RoomEvents {
  readonly browsers = new Map<string, FakeBrowser>();
  readonly failures: { participantId: string; reason: string }[] = [];
  readonly resets: { participantId: string; reason: string }[] = [];

  subscribeOffer(participantId: string, sdp: string, tracks: TrackInfo[]): void {
    void this.browsers.get(participantId)?.subscriber.offer(sdp, tracks);
  }

  mediaFailed(participantId: string, reason: string): void {
    this.failures.push({ participantId, reason });
  }

  mediaReset(participantId: string, reason: string): void {
    this.resets.push({ participantId, reason });
  }
}

/** A participant's browser: both connections, joined to a room through fake signalling. */
export class FakeBrowser {
  readonly subscriber: FakeSubscriber;
  publisher: FakePublisher | undefined;

  constructor(
    readonly id: string,
    private readonly room: MediaRoom,
    private readonly signalling: FakeSignalling,
    private readonly network: BrowserNetwork = {},
  ) {
    this.subscriber = new FakeSubscriber((sdp) => room.subscribeAnswer(id, sdp), network);
  }

  join(): this {
    this.signalling.browsers.set(this.id, this);
    this.room.join(this.id);
    return this;
  }

  /** Offers the given sources (or renegotiates the current ones) and applies the engine's answer. */
  async publish(sources?: readonly MediaSource[]): Promise<FakePublisher> {
    const publisher = this.publisher ?? new FakePublisher(sources, this.network);
    this.publisher = publisher;
    const { sdp, sources: mids } = await publisher.offer();
    await publisher.accept(await this.room.publish(this.id, sdp, mids));
    return publisher;
  }

  received(from: FakeBrowser, source: MediaSource): number {
    return this.subscriber.received(from.id, source);
  }

  payloads(from: FakeBrowser, source: MediaSource): Buffer[] {
    return this.subscriber.payloads(from.id, source);
  }

  async close(): Promise<void> {
    this.signalling.browsers.delete(this.id);
    await Promise.all([this.publisher?.close(), this.subscriber.close()]);
  }
}
