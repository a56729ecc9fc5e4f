/**
 * The Janus engine: meetings' media forwarded by Janus Gateway's VideoRoom plugin (Debian's
 * `janus`) on one or more nodes, driven over Janus's HTTP API (janus-api.ts). Browsers speak
 * only Rempart's signalling: the SDP they send is handed to Janus and Janus's SDP handed back,
 * with the same two connections as the embedded engine:
 * - *publish*: the browser offers; Janus answers a VideoRoom publisher's `configure`.
 * - *subscribe*: Janus offers (a multistream subscriber: `join` with the streams, then
 *   `subscribe`/`unsubscribe` as tracks come and go: Janus 1.1 does not reliably renegotiate by
 *   itself when a feed leaves); the browser answers through `start`. One negotiation at a time
 *   per subscriber; an offer Janus sends unasked (one it held back while busy, or its own after
 *   a feed left) is passed on like the others.
 *
 * Janus admits no one by itself: each room is created with the plugin's `admin_key` and a random
 * `secret` (to moderate, kick, destroy) and `pin` (to join) that only Rempart knows, and Janus's
 * API is reached only with its `api_secret`. Rempart keeps admission control: a participant gets
 * a Janus handle only after the meetings module has let them in.
 *
 * Frames are end-to-end encrypted by the browsers; Janus forwards RTP without looking past the
 * VP8 payload descriptor, so they arrive byte for byte (rooms are made without simulcast or SVC,
 * which would have Janus rewrite descriptors).
 *
 * Nodes (janus-nodes.ts) are probed every few seconds; a meeting goes to the least-loaded healthy
 * one, and when a node dies its meetings are re-created on another: each participant is told
 * (`mediaReset`), publishes again, and gets a new subscribe offer there.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Config, IceServer, MediaSource, TrackInfo } from '@rempart/core';
import { pino } from 'pino';
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
import type { JanusHandle, JanusMessage, Jsep, PluginData } from './janus-api.js';
import { JanusNodes, type JanusNode, type JanusNodeOptions } from './janus-nodes.js';
import { sdpProblem } from './sdp-check.js';
import { turnCredentials } from './turn-credentials.js';

export interface JanusEngineOptions {
  nodes: JanusNodeOptions[];
  /** Janus's `api_secret` (janus.jcfg), the same on every node. */
  apiSecret: string;
  /** The VideoRoom plugin's `admin_key` (janus.plugin.videoroom.jcfg): rooms are created with it. */
  adminKey: string;
  turn: Config['media']['turn'];
  logger?: Logger;
  clock?: Clock;
  /** How often each node is probed (default 2 s). */
  probeIntervalMs?: number;
  /** Consecutive failed probes after which a node is dead (default 3). */
  probeFailures?: number;
}

const VIDEOROOM = 'janus.plugin.videoroom';
/** Publishers one room takes (Janus refuses the next `join`): a meeting's own limit is lower. */
const MAX_PUBLISHERS = 1000;
const ignore = (): void => undefined;

/** A meeting's room on one Janus node. */
interface Placement {
  readonly node: JanusNode;
  /** The handle that created the room, and moderates, kicks and destroys. */
  readonly control: JanusHandle;
  readonly room: number;
  readonly secret: string;
  readonly pin: string;
}

/** A stream of a subscribe connection, as Janus's last offer listed it. */
interface SubscribedStream {
  mid: string;
  feed: number;
  feedMid: string;
}

/** A participant's connections on the current placement; a move starts them afresh. */
interface Connections {
  /** The participant's publisher id in the Janus room. */
  readonly feed: number;
  publisher: Promise<JanusHandle> | undefined;
  publishChain: Promise<unknown>;
  /** What each mid of the publish connection carries, per the latest publish. */
  sources: Map<string, MediaSource>;
  /** Janus's publish connection is up: others may subscribe to its streams. */
  live: boolean;
  subscriber: JanusHandle | undefined;
  streams: SubscribedStream[];
  negotiation: 'idle' | 'requesting' | 'awaiting-answer' | 'applying-answer';
  /** The wanted streams changed during a negotiation. */
  dirty: boolean;
  /** The next subscribe offer restarts ICE. */
  iceRestart: boolean;
}

interface Member {
  readonly id: string;
  readonly log: Logger;
  /** Sources whose forwarding is off; a track published later starts muted too. */
  readonly off: Set<MediaSource>;
  left: boolean;
  conn: Connections;
}

/** What a room needs from its engine. */
interface EngineContext {
  readonly adminKey: string;
  placeRoom(room: JanusRoom, avoid: JanusNode | undefined): Promise<JanusNode>;
  roomClosed(room: JanusRoom): void;
}

export class JanusEngine implements MediaEngine {
  readonly name = 'janus';
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly nodes: JanusNodes<JanusRoom>;
  private readonly rooms = new Set<JanusRoom>();
  private closed = false;

  constructor(private readonly options: JanusEngineOptions) {
    if (options.nodes.length === 0) throw new Error('the Janus engine needs at least one node');
    this.log = options.logger ?? pino({ level: 'silent' });
    this.clock = options.clock ?? systemClock;
    this.nodes = new JanusNodes<JanusRoom>({
      nodes: options.nodes,
      apiSecret: options.apiSecret,
      log: this.log,
      probeIntervalMs: options.probeIntervalMs ?? 2000,
      probeFailures: options.probeFailures ?? 3,
      load: (room) => room.load(),
      moveAway: (room, node) => room.move(node),
    });
  }

  openRoom(roomId: string, events: RoomEvents): MediaRoom {
    if (this.closed) throw new Error('the media engine is closed');
    const context: EngineContext = {
      adminKey: this.options.adminKey,
      placeRoom: (room, avoid) => this.nodes.place(room, avoid),
      roomClosed: (room) => {
        this.rooms.delete(room);
        this.nodes.release(room);
      },
    };
    const room = new JanusRoom(events, context, this.log.child({ roomId }));
    this.rooms.add(room);
    return room;
  }

  iceServers(participantId: string): IceServer[] {
    const { turn } = this.options;
    return turn ? [turnCredentials(turn, participantId, this.clock.now())] : [];
  }

  /** Which node each open room is on (its API URL), for operators and tests. */
  placements(): Map<MediaRoom, string | undefined> {
    return new Map([...this.rooms].map((room) => [room, room.nodeUrl()]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.rooms].map((room) => room.closeNow()));
    await this.nodes.close();
  }
}

class JanusRoom implements MediaRoom {
  private readonly members = new Map<string, Member>();
  private placement: Promise<Placement>;
  private current: Placement | undefined;
  private keyframeRequests = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly events: RoomEvents,
    private readonly engine: EngineContext,
    private readonly log: Logger,
  ) {
    this.placement = this.place(undefined);
  }

  // ------------------------------------------------------------------ MediaRoom

  join(participantId: string): void {
    if (this.closed || this.members.has(participantId)) return;
    const member: Member = {
      id: participantId,
      log: this.log.child({ participantId }),
      off: new Set(),
      left: false,
      conn: newConnections(),
    };
    this.members.set(participantId, member);
    member.log.debug('joined media');
    this.requestOffer(member);
  }

  publish(participantId: string, offerSdp: string, sources: Record<string, MediaSource>): Promise<string> {
    const member = publisherOf(this.members, participantId, offerSdp);
    if (member instanceof Error) return Promise.reject(member);
    const conn = member.conn;
    const run = conn.publishChain.then(() => this.negotiatePublish(member, conn, offerSdp, sources));
    conn.publishChain = run.catch(ignore);
    return run;
  }

  async subscribeAnswer(participantId: string, answerSdp: string): Promise<void> {
    const member = this.members.get(participantId);
    if (!member) throw new Error('the participant has not joined the media room');
    const conn = member.conn;
    const handle = conn.subscriber;
    if (conn.negotiation !== 'awaiting-answer' || !handle)
      throw new Error('no subscribe offer is waiting for an answer');
    const problem = sdpProblem(answerSdp, { kinds: mediaKinds });
    if (problem) throw new Error(`malformed subscribe answer: ${problem}`);
    conn.negotiation = 'applying-answer';
    try {
      await handle.request({ request: 'start' }, { type: 'answer', sdp: answerSdp });
    } catch (error) {
      if (member.conn === conn) conn.negotiation = 'awaiting-answer';
      throw new Error(`the subscribe answer was refused: ${messageOf(error)}`, { cause: error });
    }
    // Janus may have sent its next offer (one it held back, or its own) before this reply came.
    if (member.conn !== conn || member.left || conn.negotiation !== 'applying-answer') return;
    conn.negotiation = 'idle';
    if (conn.dirty) void this.subscribeLoop(member, conn);
  }

  setForwarding(participantId: string, source: MediaSource, on: boolean): void {
    const member = this.members.get(participantId);
    if (!member || member.off.has(source) === !on) return;
    if (on) member.off.delete(source);
    else member.off.add(source);
    const conn = member.conn;
    for (const [mid, published] of conn.sources)
      if (published === source && conn.publisher) void this.moderate(member, conn, mid, !on);
  }

  requestKeyframe(participantId: string): void {
    const member = this.members.get(participantId);
    const publisher = member?.conn.publisher;
    if (!member || !publisher) return;
    this.keyframeRequests++;
    void publisher
      .then((handle) => handle.request({ request: 'configure', keyframe: true }))
      .catch((error: unknown) => member.log.debug({ err: error }, 'keyframe request failed'));
  }

  restartIce(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member?.conn.subscriber) return;
    member.conn.iceRestart = true;
    this.requestOffer(member);
  }

  leave(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member) return;
    member.left = true;
    this.members.delete(participantId);
    void this.hangUp(member.conn, true);
    this.tracksChanged(member);
    member.log.debug('left media');
  }

  stats(): RoomStats {
    let publishedTracks = 0;
    let forwardedTracks = 0;
    for (const { conn } of this.members.values()) {
      if (conn.live) publishedTracks += conn.sources.size;
      forwardedTracks += this.trackInfos(conn).length;
    }
    return {
      participants: this.members.size,
      publishedTracks,
      forwardedTracks,
      // Janus counts packets itself (its admin API's handle_info); Rempart does not ask it per room.
      packetsForwarded: 0,
      keyframeRequests: this.keyframeRequests,
    };
  }

  close(): void {
    void this.closeNow();
  }

  // ------------------------------------------------------------------ engine side

  /** Participants and streams on this room: what placement weighs. */
  load(): number {
    let streams = 0;
    for (const { conn } of this.members.values()) streams += conn.sources.size + conn.streams.length;
    return this.members.size + streams;
  }

  nodeUrl(): string | undefined {
    return this.current?.node.url;
  }

  /**
   * The room's node died: every connection there is gone. The room is re-created on another
   * node and each participant told to publish again; subscribe offers follow from there.
   */
  move(from: JanusNode): void {
    if (this.closed) return;
    this.log.warn({ node: from.url }, 'janus node lost: moving the media room');
    this.current = undefined;
    this.placement = this.place(from);
    for (const member of this.members.values()) {
      member.conn = newConnections();
      try {
        this.events.mediaReset?.(member.id, 'engine_moved');
      } catch (error) {
        member.log.warn({ err: error }, 'media reset not delivered');
      }
    }
  }

  closeNow(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    const members = [...this.members.values()];
    this.members.clear();
    for (const member of members) member.left = true;
    await Promise.all(members.map((member) => this.hangUp(member.conn, false)));
    const placement = await this.placement.catch(() => undefined);
    if (placement) {
      await placement.control
        .request({ request: 'destroy', room: placement.room, secret: placement.secret })
        .catch((error: unknown) => this.log.debug({ err: error }, 'janus room not destroyed'));
      await placement.control.detach().catch(ignore);
    }
    this.engine.roomClosed(this);
    this.log.debug('media room closed');
  }

  // ------------------------------------------------------------------ placement

  private place(avoid: JanusNode | undefined): Promise<Placement> {
    const placing = this.createRoom(avoid);
    placing.then(
      (placement) => {
        if (this.placement === placing) this.current = placement;
      },
      (error: unknown) => {
        if (this.closed || this.placement !== placing) return;
        this.log.error({ err: error }, 'no janus room for the meeting');
        for (const member of this.members.values())
          this.events.mediaFailed?.(member.id, 'no media server is available');
      },
    );
    return placing;
  }

  private async createRoom(avoid: JanusNode | undefined): Promise<Placement> {
    const node = await this.engine.placeRoom(this, avoid);
    const session = node.liveSession();
    const control = await session.attach(VIDEOROOM);
    const placement: Placement = {
      node,
      control,
      room: randomInt(1, 2 ** 48),
      secret: randomBytes(24).toString('base64url'),
      pin: randomBytes(24).toString('base64url'),
    };
    await control.request({
      request: 'create',
      admin_key: this.engine.adminKey,
      room: placement.room,
      secret: placement.secret,
      pin: placement.pin,
      is_private: true,
      permanent: false,
      publishers: MAX_PUBLISHERS,
      // One codec each for everyone: forwarding without transcoding (as the embedded engine).
      audiocodec: 'opus',
      videocodec: 'vp8',
      notify_joining: false,
    });
    this.log.info({ node: node.url }, 'media room placed on janus');
    return placement;
  }

  /** The placement of `conn`'s member, or an error when the member left or the room moved. */
  private async placementFor(member: Member, conn: Connections): Promise<Placement> {
    const placement = await this.placement;
    this.checkCurrent(member, conn);
    return placement;
  }

  private checkCurrent(member: Member, conn: Connections): void {
    if (member.left || this.closed) throw new Error('the participant left');
    if (member.conn !== conn) throw new Error('the media room moved to another server');
  }

  // ------------------------------------------------------------------ publishing

  private async negotiatePublish(
    member: Member,
    conn: Connections,
    sdp: string,
    sources: Record<string, MediaSource>,
  ): Promise<string> {
    const placement = await this.placementFor(member, conn);
    conn.publisher ??= this.openPublisher(member, conn, placement);
    const handle = await conn.publisher;
    const { jsep } = await handle.request({ request: 'configure' }, { type: 'offer', sdp });
    this.checkCurrent(member, conn);
    if (jsep?.type !== 'answer') throw new Error('janus gave no answer to the publish offer');
    conn.sources = new Map(Object.entries(sources));
    for (const [mid, source] of conn.sources)
      if (member.off.has(source)) await this.moderate(member, conn, mid, true);
    if (conn.live) this.tracksChanged(member);
    return jsep.sdp;
  }

  private async openPublisher(member: Member, conn: Connections, placement: Placement): Promise<JanusHandle> {
    const handle = await placement.node.liveSession().attach(VIDEOROOM);
    handle.onEvent = (message) => this.publisherEvent(member, conn, message);
    try {
      this.checkCurrent(member, conn);
      await handle.request({
        request: 'join',
        ptype: 'publisher',
        room: placement.room,
        pin: placement.pin,
        id: conn.feed,
      });
      return handle;
    } catch (error) {
      await handle.detach().catch(ignore);
      throw error;
    }
  }

  private publisherEvent(member: Member, conn: Connections, message: JanusMessage): void {
    if (member.left || member.conn !== conn) return;
    if (message.janus === 'webrtcup') {
      conn.live = true;
      member.log.debug('publishing through janus');
      this.tracksChanged(member);
    } else if (message.janus === 'hangup') {
      conn.live = false;
      this.events.mediaFailed?.(member.id, 'publish connection closed');
    }
  }

  private async moderate(member: Member, conn: Connections, mid: string, mute: boolean): Promise<void> {
    try {
      const placement = await this.placementFor(member, conn);
      await conn.publisher;
      await placement.control.request({
        request: 'moderate',
        room: placement.room,
        secret: placement.secret,
        id: conn.feed,
        mid,
        mute,
      });
    } catch (error) {
      member.log.debug({ err: error, mid, mute }, 'moderation failed');
    }
  }

  /** A publisher's streams changed: every other participant's subscription follows. */
  private tracksChanged(publisher: Member): void {
    for (const member of this.members.values()) if (member !== publisher) this.requestOffer(member);
  }

  // ------------------------------------------------------------------ subscribing

  private requestOffer(member: Member): void {
    const conn = member.conn;
    if (member.left || this.closed) return;
    conn.dirty = true;
    if (conn.negotiation === 'idle') void this.subscribeLoop(member, conn);
  }

  /** Brings the subscription to what others publish: at most one request, then waits for the answer. */
  private async subscribeLoop(member: Member, conn: Connections): Promise<void> {
    if (conn.negotiation !== 'idle') return;
    conn.negotiation = 'requesting';
    conn.dirty = false;
    try {
      const placement = await this.placementFor(member, conn);
      const wanted = this.wantedStreams(member);
      const has = (list: { feed: number; mid: string }[], s: { feed: number; mid: string }) =>
        list.some((o) => o.feed === s.feed && o.mid === s.mid);
      const current = conn.streams.map(({ feed, feedMid }) => ({ feed, mid: feedMid }));
      const add = wanted.filter((s) => !has(current, s));
      // Dropped by the subscription's own mid (`sub_mid`): once a publisher is gone (kicked as it
      // left, which may reach Janus before this request), Janus no longer matches its feed and
      // mid, and would answer that nothing changed, with no new offer.
      const drop = conn.streams
        .filter(({ feed, feedMid }) => !has(wanted, { feed, mid: feedMid }))
        .map(({ mid }) => ({ sub_mid: mid }));
      let reply: { data: PluginData; jsep: Jsep | undefined } | undefined;
      if (!conn.subscriber) {
        if (add.length > 0) reply = await this.openSubscriber(member, conn, placement, add);
      } else if (conn.iceRestart) {
        conn.iceRestart = false;
        reply = await conn.subscriber.request({ request: 'configure', restart: true });
        conn.dirty ||= add.length > 0 || drop.length > 0;
      } else if (drop.length > 0) {
        reply = await conn.subscriber.request({ request: 'unsubscribe', streams: drop });
        conn.dirty ||= add.length > 0;
      } else if (add.length > 0) {
        reply = await conn.subscriber.request({ request: 'subscribe', streams: add });
      }
      this.checkCurrent(member, conn);
      if (reply?.jsep) {
        this.offer(member, conn, reply.data, reply.jsep);
        return;
      }
      // Janus answers `updating` when the connection is still busy with the last negotiation: its
      // offer comes later as an event (`subscriberEvent`), and may have come already.
      if (reply?.data.videoroom === 'updating' || conn.negotiation !== 'requesting') return;
      if (reply) this.noteStreams(conn, reply.data);
    } catch (error) {
      if (member.left || member.conn !== conn || this.closed) return;
      member.log.warn({ err: error }, 'subscribe negotiation failed');
      conn.negotiation = 'idle';
      this.events.mediaFailed?.(member.id, 'subscribe negotiation failed');
      return;
    }
    conn.negotiation = 'idle';
    if (conn.dirty) void this.subscribeLoop(member, conn);
  }

  private async openSubscriber(
    member: Member,
    conn: Connections,
    placement: Placement,
    streams: { feed: number; mid: string }[],
  ): Promise<{ data: PluginData; jsep: Jsep | undefined }> {
    const handle = await placement.node.liveSession().attach(VIDEOROOM);
    if (member.left || member.conn !== conn) {
      await handle.detach().catch(ignore);
      throw new Error('the participant left');
    }
    conn.subscriber = handle;
    handle.onEvent = (message) => this.subscriberEvent(member, conn, message);
    return handle.request({
      request: 'join',
      ptype: 'subscriber',
      room: placement.room,
      pin: placement.pin,
      streams,
    });
  }

  /** Offers and notices Janus sends a subscribe handle unasked. */
  private subscriberEvent(member: Member, conn: Connections, message: JanusMessage): void {
    if (member.left || member.conn !== conn) return;
    const data = message.plugindata?.data;
    if (message.janus === 'event' && data) {
      if (message.jsep?.type === 'offer') this.offer(member, conn, data, message.jsep);
      else this.noteStreams(conn, data);
    } else if (message.janus === 'hangup') {
      this.events.mediaFailed?.(member.id, 'subscribe connection closed');
    }
  }

  private offer(member: Member, conn: Connections, data: PluginData, jsep: Jsep): void {
    this.noteStreams(conn, data);
    conn.negotiation = 'awaiting-answer';
    try {
      this.events.subscribeOffer(member.id, jsep.sdp, this.trackInfos(conn));
    } catch (error) {
      member.log.warn({ err: error }, 'subscribe offer not delivered');
    }
  }

  private noteStreams(conn: Connections, data: PluginData): void {
    if (Array.isArray(data.streams)) conn.streams = subscribedStreams(data.streams);
  }

  /** The streams a member should receive: every live source of everyone else. */
  private wantedStreams(member: Member): { feed: number; mid: string }[] {
    const wanted: { feed: number; mid: string }[] = [];
    for (const other of this.members.values()) {
      if (other === member || !other.conn.live) continue;
      for (const mid of other.conn.sources.keys()) wanted.push({ feed: other.conn.feed, mid });
    }
    return wanted;
  }

  /** What each mid of a subscribe connection carries: who, and which of their sources. */
  private trackInfos(conn: Connections): TrackInfo[] {
    const tracks: TrackInfo[] = [];
    for (const stream of conn.streams)
      for (const member of this.members.values()) {
        if (member.conn.feed !== stream.feed) continue;
        const source = member.conn.sources.get(stream.feedMid);
        if (source) tracks.push({ mid: stream.mid, participantId: member.id, source });
      }
    return tracks;
  }

  // ------------------------------------------------------------------ leaving

  /** Kicks the publisher out of the Janus room and detaches both handles, at once. */
  private async hangUp(conn: Connections, kick: boolean): Promise<void> {
    const placement = this.current;
    const steps: Promise<unknown>[] = [];
    if (conn.publisher) {
      if (kick && placement)
        steps.push(
          placement.control.request({
            request: 'kick',
            room: placement.room,
            secret: placement.secret,
            id: conn.feed,
          }),
        );
      steps.push(conn.publisher.then((handle) => handle.detach()));
    }
    if (conn.subscriber) steps.push(conn.subscriber.detach());
    conn.publisher = undefined;
    conn.subscriber = undefined;
    conn.live = false;
    const results = await Promise.allSettled(steps);
    for (const result of results)
      if (result.status === 'rejected') this.log.debug({ err: result.reason }, 'janus hang-up step failed');
  }
}

function newConnections(): Connections {
  return {
    feed: randomInt(1, 2 ** 48),
    publisher: undefined,
    publishChain: Promise.resolve(),
    sources: new Map(),
    live: false,
    subscriber: undefined,
    streams: [],
    negotiation: 'idle',
    dirty: false,
    iceRestart: false,
  };
}

/** The active media streams of a VideoRoom subscriber's `streams` list. */
function subscribedStreams(list: unknown[]): SubscribedStream[] {
  const streams: SubscribedStream[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const { mid, feed_id: feed, feed_mid: feedMid, active, type } = item as Record<string, unknown>;
    if (active === false || (type !== 'audio' && type !== 'video')) continue;
    if (typeof mid === 'string' && typeof feed === 'number' && typeof feedMid === 'string')
      streams.push({ mid, feed, feedMid });
  }
  return streams;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
