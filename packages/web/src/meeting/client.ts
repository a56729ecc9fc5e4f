/**
 * One person's presence in one meeting, from the admission check to leaving: the socket
 * (`MeetingConnection`), the state reducer, the media connections (`MeetingMedia`), the
 * devices (`LocalMedia`) and the active speaker. Components read `getSnapshot()` (through
 * `useSyncExternalStore`) and call the actions; none of them touches a socket or a track.
 */
import {
  RESUME_TOKEN_TTL_MS,
  type AdmissionCheck,
  type ChatMessage,
  type IceServer,
  type MediaSource,
  type Participant,
  type SealedChat,
  type ServerMessage,
} from '@rempart/core';
import {
  MeetingConnection,
  browserSocket,
  reconnectDelay,
  resumeDelay,
  withResume,
  type Outgoing,
  type SocketFactory,
} from './connection';
import { LocalMedia, type LocalSnapshot } from './devices';
import type { OpenedChat } from './e2ee/chat';
import {
  MeetingE2ee,
  clearMeeting,
  initialE2ee,
  type E2eeEvents,
  type E2eeSnapshot,
  type FrameCrypto,
} from './e2ee/session';
import { MeetingMedia, type MediaSession, type MediaSessionFactory, type RemoteTracks } from './media';
import { ActiveSpeaker } from './speaker';
import { initialMeetingState, meetingReducer, type MeetingEvent, type MeetingState } from './state';

/** Reconnection attempts after the socket drops, before giving up (about a minute in all). */
export const MAX_RETRIES = 6;
/** A resume token is tried while younger than this (the server's lifetime, less a margin). */
const RESUME_WINDOW_MS = RESUME_TOKEN_TTL_MS - 5000;
/**
 * After a resumed welcome, how long to wait for a `media.reset` (sent right after it when the
 * engine lost the connections) before repairing the connections kept.
 */
const RECOVER_AFTER_MS = 1000;
const LEVEL_INTERVAL_MS = 250;

export type MediaStatus = 'off' | 'connecting' | 'connected' | 'failed';

export interface MeetingSnapshot {
  linkId: string;
  state: MeetingState;
  /** The admission check could not be made (network, server): the page offers to retry. */
  checkError: unknown;
  local: LocalSnapshot;
  remote: RemoteTracks;
  media: MediaStatus;
  /** The media server's or the browser's reason when media failed. */
  mediaProblem: string | undefined;
  /** The last participant to be the loudest, even if silent since. */
  speaker: string | undefined;
  /** Participants heard above the speaking threshold now. */
  speaking: ReadonlySet<string>;
  /** End-to-end encryption of the media: state, epoch, safety code, frame counters. */
  e2ee: E2eeSnapshot;
  /** What this participant made of each sealed chat message, by message id (absent: opening). */
  openedChat: ReadonlyMap<string, OpenedChat>;
}

/** What the client asks of end-to-end encryption (`MeetingE2ee` in the browser). */
export interface E2eeSession {
  readonly snapshot: E2eeSnapshot;
  /** The frame transforms; undefined when the browser cannot encrypt frames. */
  readonly crypto: FrameCrypto | undefined;
  roster(participants: readonly Participant[]): void;
  receive(
    message: Extract<ServerMessage, { type: 'e2ee.keypackage' | 'e2ee.commit' | 'e2ee.welcome' }>,
  ): void;
  /** True once a chat message can be sealed. */
  readonly chatReady: boolean;
  sealChat(text: string): Promise<SealedChat | undefined>;
  openChat(sealed: SealedChat, from: string): Promise<OpenedChat>;
  close(): void;
}

export type E2eeFactory = (selfId: string, meetingId: string, events: E2eeEvents) => E2eeSession;

export interface MeetingClientDeps {
  check(linkId: string): Promise<AdmissionCheck>;
  /** Shows the step-up prompt; true once the person confirmed their identity. */
  confirmIdentity(): Promise<boolean>;
  socketUrl(linkId: string): string;
  createSocket?: SocketFactory;
  createMedia?: MediaSessionFactory;
  /** The browser's devices (by default `navigator.mediaDevices`; none in Node, where tests run). */
  mediaDevices?: MediaDevices;
  createE2ee?: E2eeFactory;
}

const noSpeakers: ReadonlySet<string> = new Set();

export class MeetingClient {
  private state: MeetingState = initialMeetingState;
  private snapshot: MeetingSnapshot;
  private readonly listeners = new Set<() => void>();
  private connection: MeetingConnection | undefined;
  private media: MediaSession | undefined;
  /** The ICE servers of the latest welcome (a media reset opens new connections with them). */
  private iceServers: readonly IceServer[] = [];
  /** The latest resume token, and when it came (`Date.now()`). */
  private resume: { token: string; at: number } | undefined;
  private e2ee: E2eeSession | undefined;
  private e2eeOff = false;
  private openedChat = new Map<string, OpenedChat>();
  private local: LocalMedia;
  private remote: RemoteTracks = new Map();
  private mediaStatus: MediaStatus = 'off';
  private mediaProblem: string | undefined;
  private checkError: unknown;
  private speakers = new ActiveSpeaker();
  private speaking: ReadonlySet<string> = noSpeakers;
  private levelTimer: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private linkId: string;
  private closed = false;

  constructor(
    linkId: string,
    private readonly deps: MeetingClientDeps,
  ) {
    this.linkId = linkId;
    this.local = this.newLocalMedia();
    this.snapshot = this.makeSnapshot();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): MeetingSnapshot => this.snapshot;

  // ---------------------------------------------------------------- lifecycle

  /** Asks the server what would happen if this person joined now. */
  async check(): Promise<void> {
    if (this.closed) return;
    this.checkError = undefined;
    this.dispatch({ type: 'check.started' });
    let check: AdmissionCheck;
    try {
      check = await this.deps.check(this.linkId);
    } catch (error) {
      if (this.closed) return;
      this.checkError = error;
      this.emit();
      return;
    }
    if (this.closed) return;
    this.dispatch({ type: 'check.answered', check });
  }

  /** Opens the camera and microphone for the pre-join preview. */
  preview(): Promise<void> {
    return this.local.start();
  }

  /** Joins: opens the meeting socket (the lobby or the meeting follows). */
  join(): void {
    if (this.closed) return;
    this.clearRetry();
    this.dispatch({ type: 'connect' });
    this.openSocket();
  }

  /** Asks for the step-up again (after it was cancelled), then goes on where it stopped. */
  async stepUp(): Promise<void> {
    if (this.state.phase !== 'step-up') return;
    const from = this.state.stepUpFrom;
    if (!(await this.deps.confirmIdentity()) || this.closed) return;
    if (from === 'socket') this.join();
    else await this.check();
  }

  /** After leaving, or giving up on a lost connection: the check again, then the pre-join screen. */
  async rejoin(): Promise<void> {
    this.stopMeeting();
    this.local.close();
    this.local = this.newLocalMedia();
    await this.check();
  }

  leave(): void {
    this.stopMeeting();
    this.local.close();
    this.dispatch({ type: 'leave' });
  }

  /** Releases everything: socket, connections, devices, timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.stopMeeting();
    this.local.close();
    this.closed = true;
    this.listeners.clear();
  }

  dismissNotice(): void {
    this.dispatch({ type: 'notice.dismissed' });
  }

  // ---------------------------------------------------------------- own media

  async toggleMicrophone(): Promise<void> {
    const track = await this.local.setMicrophone(!this.local.snapshot.micOn);
    await this.media?.replaceTrack('microphone', track).catch((error: unknown) => this.mediaFailed(error));
    this.sendMediaState();
  }

  async toggleCamera(): Promise<void> {
    const track = await this.local.setCamera(!this.local.snapshot.cameraOn);
    await this.media?.replaceTrack('camera', track).catch((error: unknown) => this.mediaFailed(error));
    this.sendMediaState();
  }

  async toggleScreen(): Promise<void> {
    if (this.local.snapshot.screen) {
      this.local.stopScreen();
      this.sendMediaState();
      await this.media?.setScreen(null).catch((error: unknown) => this.mediaFailed(error));
      return;
    }
    const screen = await this.local.startScreen();
    if (!screen) return;
    this.sendMediaState();
    await this.media?.setScreen(screen).catch((error: unknown) => this.mediaFailed(error));
  }

  // ---------------------------------------------------------------- messages

  raiseHand(raised: boolean): boolean {
    return this.send({ type: 'hand', raised });
  }

  /**
   * Sends a chat message: in clear in a meeting without end-to-end encryption, else sealed, and
   * not at all (false) before this participant holds the keys to seal it.
   */
  sendChat(text: string): boolean {
    if (this.state.meeting?.options.e2ee === false) return this.send({ type: 'chat.send', text });
    const e2ee = this.e2ee;
    if (!e2ee?.chatReady || !this.connection) return false;
    void e2ee.sealChat(text).then((sealed) => {
      if (sealed && this.e2ee === e2ee) this.send({ type: 'chat.send', sealed });
    });
    return true;
  }

  admit(entryId: string): boolean {
    return this.send({ type: 'lobby.admit', entryId });
  }

  deny(entryId: string): boolean {
    return this.send({ type: 'lobby.deny', entryId });
  }

  mute(participantId: string, source: MediaSource): boolean {
    return this.send({ type: 'participant.mute', participantId, source });
  }

  remove(participantId: string): boolean {
    return this.send({ type: 'participant.remove', participantId });
  }

  promote(participantId: string): boolean {
    return this.send({ type: 'participant.promote', participantId });
  }

  lock(locked: boolean): boolean {
    return this.send({ type: 'meeting.lock', locked });
  }

  endMeeting(): boolean {
    return this.send({ type: 'meeting.end' });
  }

  /** A video tile appeared or froze: ask the sender for a fresh keyframe. */
  requestKeyframe(participantId: string): boolean {
    return this.send({ type: 'keyframe', participantId });
  }

  // ---------------------------------------------------------------- internals

  private send(message: Outgoing): boolean {
    return this.connection?.send(message) ?? false;
  }

  private openSocket(): void {
    this.connection?.close();
    const url = this.deps.socketUrl(this.linkId);
    const connection = new MeetingConnection(
      this.resume && this.resumable() ? withResume(url, this.resume.token) : url,
      {
        message: (message) => {
          if (this.connection === connection) this.onMessage(message);
        },
        closed: (code) => {
          if (this.connection !== connection) return;
          this.connection = undefined;
          this.dispatch({ type: 'closed', code });
          // A drop that can be resumed keeps the media connections and the MLS group meanwhile.
          if (this.state.phase !== 'reconnecting' || !this.resumable()) this.stopMedia();
        },
      },
      this.deps.createSocket ?? browserSocket,
    );
    this.connection = connection;
  }

  private onMessage(message: ServerMessage): void {
    const before = this.state;
    // After a rotation, a reconnection must use the new link: the old one is dead. Taken before
    // the dispatch, so the snapshot it emits (and the page's address) carries the new link at once.
    if (message.type === 'welcome' || message.type === 'meeting') this.linkId = message.meeting.linkId;
    this.dispatch({ type: 'message', message });
    switch (message.type) {
      case 'welcome':
        this.resume = { token: message.resume, at: Date.now() };
        if (!message.resumed || !this.resumeMedia(message)) this.startMedia(message);
        for (const chat of message.chat) this.openChat(chat);
        break;
      case 'resume':
        this.resume = { token: message.token, at: Date.now() };
        break;
      case 'media.reset':
        this.resetMedia();
        break;
      case 'meeting':
        break;
      case 'roster':
        this.afterRoster(before.roster, message.participants);
        this.e2ee?.roster(message.participants);
        break;
      case 'e2ee.keypackage':
      case 'e2ee.commit':
      case 'e2ee.welcome':
        this.e2ee?.receive(message);
        break;
      case 'publish.answer':
        this.media?.publishAnswer(message.sdp);
        break;
      case 'subscribe.offer':
        this.media
          ?.subscribeOffer(message.sdp, message.tracks)
          .catch((error: unknown) => this.mediaFailed(error));
        break;
      case 'muted':
        void this.applyMute(message.source);
        break;
      case 'error':
        if (message.code === 'media_failed') {
          this.media?.publishRefused(message.message);
          this.mediaFailed(message.message);
        }
        break;
      // Removed, denied and ended are phases: `afterTransition` has already let go of everything.
      case 'removed':
      case 'denied':
      case 'ended':
      case 'admission':
      case 'lobby':
      case 'attempt':
      case 'pong':
        break;
      case 'chat':
        this.openChat(message.message);
        break;
    }
  }

  private newLocalMedia(): LocalMedia {
    return new LocalMedia(
      { changed: () => this.emit(), screenEnded: () => void this.afterScreenEnded() },
      this.deps.mediaDevices,
    );
  }

  private startMedia(welcome: Extract<ServerMessage, { type: 'welcome' }>): void {
    this.stopMedia();
    this.e2eeOff = !welcome.meeting.options.e2ee;
    const e2ee = this.e2eeOff ? undefined : this.startE2ee(welcome);
    const frames = e2ee?.crypto;
    if (e2ee && !frames) {
      // In an end-to-end encrypted meeting, media goes encrypted or not at all.
      this.media = undefined;
      this.mediaStatus = 'failed';
      this.mediaProblem = 'end-to-end encryption is not available in this browser';
      this.emit();
      return;
    }
    this.iceServers = welcome.iceServers;
    this.openMedia(frames);
    this.levelTimer = setInterval(() => void this.measureLevels(), LEVEL_INTERVAL_MS);
    this.emit();
  }

  /**
   * The presence was taken back after a dropped socket: the MLS group and the media
   * connections go on; only connections whose network path broke restart their ICE.
   * False when there is nothing to go on with (then media starts afresh).
   */
  private resumeMedia(welcome: Extract<ServerMessage, { type: 'welcome' }>): boolean {
    const media = this.media;
    if (!media) return false;
    this.e2ee?.roster(welcome.roster);
    this.sendMediaState();
    // Repairing connections the engine no longer has would only race the new ones.
    setTimeout(() => {
      if (this.media === media) media.recover();
    }, RECOVER_AFTER_MS);
    return true;
  }

  /** The engine lost this participant's connections (`media.reset`): new ones, same keys. */
  private resetMedia(): void {
    if (!this.media) return;
    this.media.close();
    this.remote = new Map();
    this.openMedia(this.e2ee?.crypto);
    this.emit();
  }

  /** Opens both media connections and publishes the local devices. */
  private openMedia(frames: FrameCrypto | undefined): void {
    const createMedia = this.deps.createMedia ?? ((ice, handlers) => new MeetingMedia(ice, handlers));
    const media = createMedia(this.iceServers, {
      send: (message) => this.send(message),
      remote: (tracks) => this.onRemote(tracks),
      failed: (reason) => this.mediaFailed(reason),
      frames,
    });
    this.media = media;
    this.mediaStatus = 'connecting';
    this.mediaProblem = undefined;
    this.sendMediaState();
    void (async () => {
      const { microphone, camera, screen } = this.local.snapshot;
      try {
        await media.start({ microphone, camera });
        if (screen) await media.setScreen(screen);
        if (this.media !== media) return;
        this.mediaStatus = 'connected';
        this.emit();
      } catch (error) {
        if (this.media === media) this.mediaFailed(error);
      }
    })();
  }

  private startE2ee(welcome: Extract<ServerMessage, { type: 'welcome' }>): E2eeSession {
    const createE2ee =
      this.deps.createE2ee ?? ((selfId, meetingId, events) => new MeetingE2ee(selfId, meetingId, events));
    const e2ee = createE2ee(welcome.self.id, welcome.meeting.id, {
      send: (message) => this.send(message),
      changed: () => {
        if (this.e2ee === e2ee) this.emit();
      },
      newEpoch: (members) => {
        if (this.e2ee !== e2ee) return;
        // Frames of the new epoch: each video restarts from a keyframe its receivers can decrypt.
        for (const id of members) if (id !== welcome.self.id && this.remote.has(id)) this.requestKeyframe(id);
      },
    });
    this.e2ee = e2ee;
    e2ee.roster(welcome.roster);
    return e2ee;
  }

  /** A sealed message is opened in the background; the chat shows it once opened. */
  private openChat(message: ChatMessage): void {
    const e2ee = this.e2ee;
    if (!('sealed' in message) || !e2ee || this.openedChat.has(message.id)) return;
    void e2ee.openChat(message.sealed, message.from.participantId).then((opened) => {
      if (this.e2ee !== e2ee) return;
      this.openedChat = new Map(this.openedChat).set(message.id, opened);
      this.emit();
    });
  }

  private stopMedia(): void {
    if (this.levelTimer !== undefined) clearInterval(this.levelTimer);
    this.levelTimer = undefined;
    this.media?.close();
    this.media = undefined;
    this.e2ee?.close();
    this.e2ee = undefined;
    this.openedChat = new Map();
    this.mediaStatus = 'off';
    this.remote = new Map();
    this.speakers = new ActiveSpeaker();
    this.speaking = noSpeakers;
  }

  /** True while the last resume token may still take this presence back. */
  private resumable(): boolean {
    return this.resume !== undefined && Date.now() - this.resume.at < RESUME_WINDOW_MS;
  }

  private stopMeeting(): void {
    this.resume = undefined;
    this.clearRetry();
    this.connection?.close();
    this.connection = undefined;
    this.stopMedia();
  }

  private mediaFailed(error: unknown): void {
    if (!this.media) return;
    this.mediaStatus = 'failed';
    this.mediaProblem =
      typeof error === 'string' ? error : error instanceof Error ? error.message : undefined;
    this.emit();
  }

  private onRemote(tracks: RemoteTracks): void {
    const previous = this.remote;
    this.remote = tracks;
    // A video that just arrived starts cleanly only from a keyframe.
    for (const [participantId, sources] of tracks) {
      const before = previous.get(participantId);
      if (
        (sources.camera && sources.camera !== before?.camera) ||
        (sources.screen && sources.screen !== before?.screen)
      )
        this.requestKeyframe(participantId);
    }
    this.emit();
  }

  private afterRoster(before: readonly Participant[], now: readonly Participant[]): void {
    const present = new Set(now.map((p) => p.id));
    for (const p of before) if (!present.has(p.id)) this.speakers.forget(p.id);
    const selfId = this.state.self?.id;
    for (const p of now) {
      const previous = before.find((b) => b.id === p.id);
      const videoBack = (p.video && previous?.video === false) || (p.screen && previous?.screen === false);
      if (videoBack && p.id !== selfId && this.remote.has(p.id)) this.requestKeyframe(p.id);
    }
  }

  /** A host muted one of my sources: it is turned off here too, so what I see is what they hear. */
  private async applyMute(source: MediaSource): Promise<void> {
    switch (source) {
      case 'microphone':
        await this.local.setMicrophone(false);
        break;
      case 'camera':
        await this.local.setCamera(false);
        await this.media?.replaceTrack('camera', null).catch((error: unknown) => this.mediaFailed(error));
        break;
      case 'screen':
        this.local.stopScreen();
        await this.media?.setScreen(null).catch((error: unknown) => this.mediaFailed(error));
        break;
    }
    this.sendMediaState();
  }

  private async afterScreenEnded(): Promise<void> {
    this.sendMediaState();
    await this.media?.setScreen(null).catch((error: unknown) => this.mediaFailed(error));
  }

  private sendMediaState(): void {
    const { microphone, camera, screen, micOn, cameraOn } = this.local.snapshot;
    this.send({
      type: 'media.state',
      audio: micOn && microphone !== null,
      video: cameraOn && camera !== null,
      screen: screen !== null,
    });
  }

  private async measureLevels(): Promise<void> {
    const media = this.media;
    if (!media) return;
    const selfId = this.local.snapshot.micOn ? this.state.self?.id : undefined;
    let levels: Map<string, number>;
    try {
      levels = await media.audioLevels(selfId);
    } catch {
      return;
    }
    if (this.media !== media) return;
    const speaker = this.speakers.update(Date.now(), levels);
    const speaking = this.speakers.speaking();
    if (speaker === this.snapshot.speaker && sameSet(speaking, this.speaking)) return;
    this.speaking = speaking;
    this.emit();
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private dispatch(event: MeetingEvent): void {
    if (this.closed) return;
    const before = this.state;
    this.state = meetingReducer(before, event);
    this.afterTransition(before);
    this.emit();
  }

  /** What a change of phase sets in motion. */
  private afterTransition(before: MeetingState): void {
    const { phase } = this.state;
    if (phase === before.phase && this.state.retries === before.retries) {
      if (this.state.checkRound !== before.checkRound) void this.check();
      return;
    }
    switch (phase) {
      case 'prejoin':
        void this.local.start();
        break;
      case 'reconnecting':
        if (this.resumable()) {
          // The presence waits on the server: come back at once, and often.
          this.clearRetry();
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.join();
          }, resumeDelay(this.state.retries));
        } else if (this.state.retries > MAX_RETRIES) {
          // Dispatched after this transition has finished.
          queueMicrotask(() => this.dispatch({ type: 'gave-up' }));
        } else {
          this.clearRetry();
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.join();
          }, reconnectDelay(this.state.retries));
        }
        break;
      case 'step-up':
        this.stopMeeting();
        void this.stepUp();
        break;
      case 'refused':
      case 'removed':
      case 'ended':
      case 'denied':
      case 'disconnected':
        this.stopMeeting();
        this.local.close();
        break;
      case 'checking':
      case 'signed-out':
      case 'connecting':
      case 'lobby':
      case 'joined':
      case 'left':
        break;
    }
    if (this.state.checkRound !== before.checkRound) void this.check();
  }

  private emit(): void {
    if (this.closed) return;
    this.snapshot = this.makeSnapshot();
    for (const listener of this.listeners) listener();
  }

  private makeSnapshot(): MeetingSnapshot {
    return {
      linkId: this.linkId,
      state: this.state,
      checkError: this.checkError,
      local: this.local.snapshot,
      remote: this.remote,
      media: this.mediaStatus,
      mediaProblem: this.mediaProblem,
      speaker: this.media ? this.speakers.current : undefined,
      speaking: this.speaking,
      e2ee: this.e2eeOff ? clearMeeting : (this.e2ee?.snapshot ?? initialE2ee),
      openedChat: this.openedChat,
    };
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
