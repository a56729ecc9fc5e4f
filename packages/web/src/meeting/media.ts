/**
 * The participant's two media connections with the meeting's SFU:
 *
 * - *publish*: this browser offers its microphone, camera and, while sharing, screen as
 *   sendonly transceivers; the `publish` message maps each transceiver's mid to its source.
 * - *subscribe*: the engine offers everyone else's tracks, at any time (renegotiation as
 *   people come and go); each `subscribe.offer` says whose source each mid carries.
 *
 * Candidates are not trickled: an SDP goes out once ICE gathering is complete, so it holds
 * every candidate (JSEP, RFC 8829 §3.5.1). Offers on the publish connection are serialised:
 * the engine takes one at a time.
 */
import type { IceServer, MediaSource, TrackInfo } from '@rempart/core';
import type { Outgoing } from './connection';
import type { FrameCrypto } from './e2ee/session';
import { audioLevelsFromStats, localAudioLevel, toAudioStat, type AudioStat } from './speaker';
import { publishSources, sameTracks, tracksByParticipant, type SourceTracks } from './tracks';

/** Beyond this, the SDP goes out with the candidates gathered so far. */
export const ICE_GATHERING_TIMEOUT_MS = 5000;
/** How long the engine has to answer a publish offer. */
export const ANSWER_TIMEOUT_MS = 15_000;

/** Resolves when the connection has gathered every ICE candidate, or after `timeoutMs`. */
export function iceGatheringComplete(
  pc: EventTarget & { readonly iceGatheringState: string },
  timeoutMs: number = ICE_GATHERING_TIMEOUT_MS,
): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export type RemoteTracks = ReadonlyMap<string, SourceTracks<MediaStreamTrack>>;

export interface MediaHandlers {
  /** Sends a signalling message; false when the socket cannot take it. */
  send(message: Outgoing): boolean;
  /** The received tracks changed (someone's camera arrived, someone left). */
  remote(tracks: RemoteTracks): void;
  /** A connection failed on the network side. */
  failed(reason: string): void;
  /**
   * End-to-end encryption of every sent and received frame (see `e2ee/`). Absent, nothing
   * is transformed: only tests that fake the browser leave it out.
   */
  frames?: FrameCrypto;
}

export interface DeviceTracks {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
}

export type PeerFactory = (config: RTCConfiguration) => RTCPeerConnection;

/** What the meeting client asks of its media connections (a fake stands in for it in tests). */
export interface MediaSession {
  start(tracks: DeviceTracks): Promise<void>;
  replaceTrack(source: 'microphone' | 'camera', track: MediaStreamTrack | null): Promise<void>;
  setScreen(track: MediaStreamTrack | null): Promise<void>;
  publishAnswer(sdp: string): void;
  publishRefused(reason: string): boolean;
  subscribeOffer(sdp: string, tracks: readonly TrackInfo[]): Promise<void>;
  audioLevels(selfId: string | undefined): Promise<Map<string, number>>;
  /**
   * After the signalling came back: each connection whose ICE is disconnected or failed
   * restarts it (RFC 8445 §9), the publish one with a new offer, the subscribe one by asking
   * the engine (`ice.restart`). A connection that kept working is left alone.
   */
  recover(): void;
  close(): void;
}

export type MediaSessionFactory = (iceServers: readonly IceServer[], handlers: MediaHandlers) => MediaSession;

function iceBroken(pc: RTCPeerConnection): boolean {
  return pc.iceConnectionState === 'disconnected' || pc.iceConnectionState === 'failed';
}

function* audioStats(report: RTCStatsReport): Generator<AudioStat> {
  for (const value of report.values() as Iterable<unknown>) {
    const stat = toAudioStat(value);
    if (stat) yield stat;
  }
}

export class MeetingMedia implements MediaSession {
  private readonly config: RTCConfiguration;
  private readonly publisher: RTCPeerConnection;
  private subscriber: RTCPeerConnection | undefined;
  /** What each of our sending transceivers carries. */
  private readonly sending = new Map<RTCRtpTransceiver, MediaSource>();
  private screen: RTCRtpTransceiver | undefined;
  /** Stream ids announced in the SDP (msid, RFC 8830): the camera and microphone, and the screen apart. */
  private readonly cameraStream = new MediaStream();
  private readonly screenStream = new MediaStream();
  private publishChain: Promise<void> = Promise.resolve();
  private subscribeChain: Promise<void> = Promise.resolve();
  private waitingAnswer: { resolve: (sdp: string) => void; reject: (error: Error) => void } | undefined;
  private tracks: readonly TrackInfo[] = [];
  private remote: Map<string, SourceTracks<MediaStreamTrack>> = new Map();
  private closed = false;

  constructor(
    iceServers: readonly IceServer[],
    private readonly handlers: MediaHandlers,
    private readonly createPeer: PeerFactory = (config) => new RTCPeerConnection(config),
  ) {
    this.config = {
      iceServers: iceServers.map((server) => ({
        urls: server.urls,
        ...(server.username === undefined ? {} : { username: server.username }),
        ...(server.credential === undefined ? {} : { credential: server.credential }),
      })),
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
    };
    this.publisher = this.createPeer(this.config);
    this.watch(this.publisher, 'publish');
  }

  /**
   * Starts sending: one transceiver for the microphone and one for the camera, with or
   * without a track yet, so that turning a device on later needs no renegotiation.
   */
  start(tracks: DeviceTracks): Promise<void> {
    const audio = this.publisher.addTransceiver(tracks.microphone ?? 'audio', {
      direction: 'sendonly',
      streams: [this.cameraStream],
    });
    this.sending.set(audio, 'microphone');
    const video = this.publisher.addTransceiver(tracks.camera ?? 'video', {
      direction: 'sendonly',
      streams: [this.cameraStream],
    });
    this.sending.set(video, 'camera');
    this.handlers.frames?.attachSender(audio.sender, 'audio');
    this.handlers.frames?.attachSender(video.sender, 'video');
    return this.renegotiate();
  }

  /** Puts a device's new track in place (null: nothing sent); no renegotiation needed. */
  async replaceTrack(source: 'microphone' | 'camera', track: MediaStreamTrack | null): Promise<void> {
    for (const [transceiver, carries] of this.sending)
      if (carries === source && transceiver.sender.track !== track)
        await transceiver.sender.replaceTrack(track);
  }

  /** Starts (a track) or stops (null) the screen share: a third transceiver, offered anew. */
  async setScreen(track: MediaStreamTrack | null): Promise<void> {
    if (this.closed) return;
    if (track) {
      if (this.screen) return this.screen.sender.replaceTrack(track);
      this.screen = this.publisher.addTransceiver(track, {
        direction: 'sendonly',
        streams: [this.screenStream],
      });
      this.sending.set(this.screen, 'screen');
      this.handlers.frames?.attachSender(this.screen.sender, 'video');
    } else {
      if (!this.screen) return;
      this.sending.delete(this.screen);
      this.screen.stop();
      this.screen = undefined;
    }
    return this.renegotiate();
  }

  /** The engine's answer to our latest publish offer. */
  publishAnswer(sdp: string): void {
    this.waitingAnswer?.resolve(sdp);
  }

  /** The engine refused our publish offer; false when no offer was waiting (it was about something else). */
  publishRefused(reason: string): boolean {
    if (!this.waitingAnswer) return false;
    this.waitingAnswer.reject(new Error(reason));
    return true;
  }

  /** An offer for the subscribe connection: applied, answered once gathering completes. */
  subscribeOffer(sdp: string, tracks: readonly TrackInfo[]): Promise<void> {
    const run = this.subscribeChain.catch(() => undefined).then(() => this.answerOffer(sdp, tracks));
    this.subscribeChain = run;
    return run;
  }

  /** Received audio levels by participant, plus one's own (under `selfId`) when given. */
  async audioLevels(selfId: string | undefined): Promise<Map<string, number>> {
    const levels = new Map<string, number>();
    const subscriber = this.subscriber;
    if (subscriber && !this.closed) {
      const midOfTrack = new Map<string, string>();
      for (const transceiver of subscriber.getTransceivers())
        if (transceiver.mid !== null) midOfTrack.set(transceiver.receiver.track.id, transceiver.mid);
      const report = await subscriber.getStats();
      for (const [participantId, level] of audioLevelsFromStats(audioStats(report), this.tracks, midOfTrack))
        levels.set(participantId, level);
    }
    if (selfId !== undefined && !this.closed) {
      const level = localAudioLevel(audioStats(await this.publisher.getStats()));
      if (level > 0) levels.set(selfId, level);
    }
    return levels;
  }

  recover(): void {
    if (this.closed) return;
    if (iceBroken(this.publisher)) this.restartPublishIce();
    if (this.subscriber && iceBroken(this.subscriber)) this.handlers.send({ type: 'ice.restart' });
  }

  /** Closes both connections at once. Idempotent; local devices are the caller's to stop. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waitingAnswer?.reject(new Error('closed'));
    this.publisher.close();
    this.subscriber?.close();
    this.subscriber = undefined;
    this.remote = new Map();
  }

  // ------------------------------------------------------------------ internals

  private renegotiate(): Promise<void> {
    const run = this.publishChain.catch(() => undefined).then(() => this.negotiate());
    this.publishChain = run;
    return run;
  }

  private async negotiate(): Promise<void> {
    if (this.closed) return;
    const pc = this.publisher;
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    if (this.closed) return;
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error('the browser produced no offer');
    const sources = publishSources(
      [...this.sending].map(([transceiver, source]) => ({
        mid: transceiver.mid,
        source,
        stopped: transceiver.currentDirection === 'stopped',
      })),
    );
    const answer = new Promise<string>((resolve, reject) => {
      this.waitingAnswer = { resolve, reject };
    });
    const timer = setTimeout(
      () => this.waitingAnswer?.reject(new Error('the media server did not answer')),
      ANSWER_TIMEOUT_MS,
    );
    try {
      if (!this.handlers.send({ type: 'publish', sdp, sources })) throw new Error('signalling is closed');
      const answerSdp = await answer;
      if (this.closed) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    } catch (error) {
      // Back to stable, so that the next offer (a retry, a screen share) can be made.
      if (!this.closed && pc.signalingState === 'have-local-offer')
        await pc.setLocalDescription({ type: 'rollback' });
      throw error;
    } finally {
      clearTimeout(timer);
      this.waitingAnswer = undefined;
    }
  }

  private async answerOffer(sdp: string, tracks: readonly TrackInfo[]): Promise<void> {
    if (this.closed) return;
    const pc = this.subscriber ?? this.openSubscriber();
    // Known before the tracks arrive, so each `track` event maps at once.
    this.tracks = tracks;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await iceGatheringComplete(pc);
    if (this.closed) return;
    const answer = pc.localDescription?.sdp;
    if (!answer) throw new Error('the browser produced no answer');
    this.handlers.send({ type: 'subscribe.answer', sdp: answer });
    this.updateRemote();
  }

  private openSubscriber(): RTCPeerConnection {
    const pc = this.createPeer(this.config);
    pc.addEventListener('track', (event) => {
      this.handlers.frames?.attachReceiver(event.receiver);
      this.updateRemote();
    });
    this.watch(pc, 'subscribe');
    this.subscriber = pc;
    return pc;
  }

  private restartPublishIce(): void {
    this.publisher.restartIce();
    this.renegotiate().catch((error: unknown) =>
      this.handlers.failed(error instanceof Error ? error.message : 'publish ICE restart failed'),
    );
  }

  private watch(pc: RTCPeerConnection, which: 'publish' | 'subscribe'): void {
    pc.addEventListener('connectionstatechange', () => {
      if (!this.closed && pc.connectionState === 'failed') this.handlers.failed(`${which} connection failed`);
    });
    // A network change broke the path: try new candidates on the same connection.
    pc.addEventListener('iceconnectionstatechange', () => {
      if (this.closed || pc.iceConnectionState !== 'failed') return;
      if (which === 'publish') this.restartPublishIce();
      else this.handlers.send({ type: 'ice.restart' });
    });
  }

  private updateRemote(): void {
    const pc = this.subscriber;
    if (!pc || this.closed) return;
    const receiving = pc
      .getTransceivers()
      .filter((transceiver) => transceiver.currentDirection !== 'stopped')
      .map((transceiver) => ({ mid: transceiver.mid, track: transceiver.receiver.track }));
    const next = tracksByParticipant(this.tracks, receiving);
    if (sameTracks(next, this.remote)) return;
    this.remote = next;
    this.handlers.remote(next);
  }
}
