/**
 * A participant without a browser: an agent's session on the meeting's real WebSocket, speaking
 * the signalling protocol as the meeting client does. With `keys`, it runs the client's own MLS
 * group (`MediaKeyGroup`) and takes part in key agreement (large-meeting tests run many beside a
 * few real browsers); with `media`, it answers the engine's subscribe offers with a werift peer
 * connection and so receives what the SFU forwards, as a tap at the forwarding point would. It
 * publishes nothing, and can act as a host.
 */
import { ClientMessage, ServerMessage, type Participant } from '@rempart/core';
import WebSocket from 'ws';
import { FakeSubscriber } from '../../packages/server/src/test-support/werift-peer.js';
import { MediaKeyGroup, type EpochKeys, type GroupMessage } from '../../packages/web/src/meeting/e2ee/group';
import type { ApiAgent } from './api-agent.js';

type Outgoing =
  | GroupMessage
  | { type: 'participant.remove'; participantId: string }
  | { type: 'subscribe.answer'; sdp: string }
  | { type: 'keyframe'; participantId: string };

export interface BotOptions {
  /** Takes part in MLS key agreement (default true). */
  keys?: boolean;
  /** Receives the forwarded media (default false). */
  media?: boolean;
}

export class MeetingBot {
  self: Participant | undefined;
  /** The keys of the newest epoch this bot holds. */
  keys: EpochKeys | undefined;
  readonly failures: unknown[] = [];
  /** Error messages the server sent back (refused signalling). */
  readonly errors: string[] = [];
  closedWith: number | undefined;
  /** With `media`: the peer connection that receives what the SFU forwards. */
  readonly subscriber: FakeSubscriber | undefined;
  private meetingId = '';
  private group: MediaKeyGroup | undefined;

  private constructor(
    private readonly socket: WebSocket,
    private readonly options: Required<BotOptions>,
  ) {
    if (options.media)
      this.subscriber = new FakeSubscriber((sdp) => {
        this.send({ type: 'subscribe.answer', sdp });
        return Promise.resolve();
      });
    socket.on('message', (data: Buffer) => this.onMessage(data.toString()));
    socket.on('close', (code) => {
      this.closedWith = code;
      this.group?.close();
      void this.subscriber?.close();
    });
  }

  /** Opens the meeting's socket with the agent's session, as their browser would. */
  static async join(
    baseUrl: string,
    linkId: string,
    agent: ApiAgent,
    { keys = true, media = false }: BotOptions = {},
  ): Promise<MeetingBot> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/meetings/live/${linkId}`, {
      headers: { cookie: agent.cookie ?? '', origin: baseUrl },
    });
    const bot = new MeetingBot(socket, { keys, media });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return bot;
  }

  get epoch(): number | undefined {
    return this.keys?.epoch;
  }

  get safetyCode(): string | undefined {
    return this.keys?.safetyCode;
  }

  remove(participantId: string): void {
    this.send({ type: 'participant.remove', participantId });
  }

  /** Asks the engine for a keyframe of a participant's video. */
  requestKeyframe(participantId: string): void {
    this.send({ type: 'keyframe', participantId });
  }

  /** Leaves as a closed tab does: the socket goes, nothing said. */
  leave(): void {
    this.group?.close();
    void this.subscriber?.close();
    this.socket.close();
  }

  private send(message: Outgoing): void {
    if (this.socket.readyState !== WebSocket.OPEN || !this.meetingId) return;
    const parsed = ClientMessage.parse({ ...message, meetingId: this.meetingId });
    this.socket.send(JSON.stringify(parsed));
  }

  private onMessage(text: string): void {
    const parsed = ServerMessage.safeParse(JSON.parse(text));
    if (!parsed.success) {
      this.errors.push(`unreadable server message: ${text.slice(0, 80)}`);
      return;
    }
    const message = parsed.data;
    if (message.type === 'welcome') this.welcome(message);
    else if (message.type === 'roster') void this.group?.setRoster(message.participants);
    else if (
      message.type === 'e2ee.keypackage' ||
      message.type === 'e2ee.commit' ||
      message.type === 'e2ee.welcome'
    )
      void this.group?.receive(message);
    else if (message.type === 'subscribe.offer') void this.subscriber?.offer(message.sdp, message.tracks);
    // Without `media` it answers no subscribe offer: the engine's giving up on its media is
    // expected then. Anything else the server refused is kept for the test to see.
    else if (message.type === 'error' && (this.options.media || message.code !== 'media_failed'))
      this.errors.push(`${message.code}: ${message.message}`);
    // The rest (lobby, chat, hands…) is for people to read: a bot has no use for it.
  }

  private welcome(message: Extract<ServerMessage, { type: 'welcome' }>): void {
    this.self = message.self;
    this.meetingId = message.meeting.id;
    if (!this.options.keys) return;
    const group = new MediaKeyGroup(message.self.id, message.meeting.id, {
      send: (m) => this.send(m),
      keys: (keys) => {
        this.keys = keys;
      },
      failed: (error) => this.failures.push(error),
    });
    this.group = group;
    void group.setRoster(message.roster);
    void group.start();
  }
}
