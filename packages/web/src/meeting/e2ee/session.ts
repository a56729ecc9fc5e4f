/**
 * End-to-end encryption of one presence in a meeting: the MLS group (`MediaKeyGroup`), the
 * encoded transforms of every sender and receiver (`FrameEncryption`, a worker) and the chat
 * keys (`ChatKeyring`).
 *
 * State: `off` until this participant holds the current epoch's keys (its own frames are
 * dropped, not sent in clear, meanwhile, and its chat is not sent), `on` with them, `failed`
 * when the browser cannot transform encoded frames or the key agreement broke; `clear` in a
 * meeting whose hosts turned end-to-end encryption off.
 */
import type { SealedChat } from '@rempart/core';
import type { Outgoing } from '../connection';
import { ChatKeyring, type OpenedChat } from './chat';
import type { FrameKind } from './frame';
import { MediaKeyGroup, type EpochKeys, type RelayedMessage, type RosterEntry } from './group';
import type { FrameKeysMessage, FrameStats, TransformOptions } from './transform-protocol';

export type E2eeState = 'off' | 'on' | 'failed' | 'clear';

export interface E2eeSnapshot {
  state: E2eeState;
  epoch: number | undefined;
  safetyCode: string | undefined;
  /** Participant ids in the current epoch's group. */
  members: readonly string[];
  frames: FrameStats;
}

/** What the media connections ask of the frame encryption. */
export interface FrameCrypto {
  attachSender(sender: RTCRtpSender, kind: FrameKind): void;
  attachReceiver(receiver: RTCRtpReceiver): void;
}

const noFrames: FrameStats = { encrypted: 0, decrypted: 0, failed: 0, noKey: 0, unsent: 0 };

export const initialE2ee: E2eeSnapshot = {
  state: 'off',
  epoch: undefined,
  safetyCode: undefined,
  members: [],
  frames: noFrames,
};

/** A meeting without end-to-end encryption: media and chat go to the server in clear. */
export const clearMeeting: E2eeSnapshot = { ...initialE2ee, state: 'clear' };

/** True where the browser runs encoded transforms in a worker (WebRTC Encoded Transform). */
export function encodedTransformsSupported(): boolean {
  return typeof RTCRtpScriptTransform === 'function' && typeof Worker === 'function';
}

export class FrameEncryption implements FrameCrypto {
  private readonly worker: Worker;
  private readonly attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();

  constructor(onStats: (stats: FrameStats) => void) {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'e2ee' });
    this.worker.onmessage = (event: MessageEvent<FrameStats>) => onStats(event.data);
  }

  attachSender(sender: RTCRtpSender, kind: FrameKind): void {
    if (this.attached.has(sender)) return;
    this.attached.add(sender);
    const options: TransformOptions = { side: 'send', kind };
    sender.transform = new RTCRtpScriptTransform(this.worker, options);
  }

  attachReceiver(receiver: RTCRtpReceiver): void {
    if (this.attached.has(receiver)) return;
    this.attached.add(receiver);
    const options: TransformOptions = {
      side: 'receive',
      kind: receiver.track.kind === 'audio' ? 'audio' : 'video',
    };
    receiver.transform = new RTCRtpScriptTransform(this.worker, options);
  }

  setKeys(keys: EpochKeys): void {
    const message: FrameKeysMessage = { epoch: keys.epoch, ownLeaf: keys.ownLeaf, keys: [...keys.keys] };
    this.worker.postMessage(message);
  }

  close(): void {
    this.worker.terminate();
  }
}

export interface E2eeEvents {
  send(message: Outgoing): boolean;
  changed(): void;
  /** A new epoch's keys are in: video restarts cleanly only from keyframes sent with them. */
  newEpoch(members: readonly string[]): void;
}

export class MeetingE2ee {
  private group: MediaKeyGroup | undefined;
  private frames: FrameEncryption | undefined;
  private snap: E2eeSnapshot = initialE2ee;
  private readonly chat: ChatKeyring;
  /** Chat keys being imported: a message is opened only after the keys that came before it. */
  private installing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly selfId: string,
    meetingId: string,
    private readonly events: E2eeEvents,
  ) {
    this.chat = new ChatKeyring(meetingId);
    if (!encodedTransformsSupported()) {
      this.snap = { ...initialE2ee, state: 'failed' };
      return;
    }
    this.frames = new FrameEncryption((frames) => this.update({ frames }));
    this.group = new MediaKeyGroup(selfId, meetingId, {
      send: (message) => this.events.send(message),
      keys: (keys) => this.onKeys(keys),
      failed: () => this.update({ state: 'failed' }),
    });
    void this.group.start();
  }

  get snapshot(): E2eeSnapshot {
    return this.snap;
  }

  /** Undefined when encryption is unavailable: then nothing is sent (see `MeetingClient`). */
  get crypto(): FrameCrypto | undefined {
    return this.frames;
  }

  roster(participants: readonly RosterEntry[]): void {
    void this.group?.setRoster(participants);
  }

  receive(message: RelayedMessage): void {
    void this.group?.receive(message);
  }

  /** True once a chat message can be sealed (this participant holds an epoch's keys). */
  get chatReady(): boolean {
    return this.chat.ready;
  }

  /** Seals a chat message with this participant's key of the newest epoch; undefined before one. */
  async sealChat(text: string): Promise<SealedChat | undefined> {
    await this.installing;
    return this.chat.seal(text, this.selfId);
  }

  /** Opens a relayed message once every MLS message received before it has been applied. */
  async openChat(sealed: SealedChat, from: string): Promise<OpenedChat> {
    await this.group?.settled();
    await this.installing;
    return this.chat.open(sealed, from);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.group?.close();
    this.frames?.close();
    this.chat.close();
  }

  private onKeys(keys: EpochKeys): void {
    if (this.closed) return;
    this.installing = this.installing.then(() => this.chat.install(keys));
    this.frames?.setKeys(keys);
    const members = [...keys.members.values()];
    this.update({ state: 'on', epoch: keys.epoch, safetyCode: keys.safetyCode, members });
    this.events.newEpoch(members);
  }

  private update(change: Partial<E2eeSnapshot>): void {
    if (this.closed) return;
    // Once failed, failed: a meeting that lost its key agreement must say so until rejoined.
    if (this.snap.state === 'failed' && change.state === 'on') return;
    this.snap = { ...this.snap, ...change };
    this.events.changed();
  }
}
