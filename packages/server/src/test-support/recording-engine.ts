/**
 * A media engine that forwards nothing and records what the meetings module asked of it,
 * for signalling tests that assert *when* media is started and stopped (media itself is
 * tested against the real engine and in Chromium).
 */
import type { IceServer, MediaSource } from '@rempart/core';
import type { MediaEngine, MediaRoom, RoomEvents, RoomStats } from '../media/engine.js';

export type EngineCall =
  | { room: string; op: 'join' | 'leave' | 'keyframe' | 'ice-restart'; participantId: string }
  | { room: string; op: 'forwarding'; participantId: string; source: MediaSource; on: boolean }
  | { room: string; op: 'publish' | 'answer'; participantId: string; sdp: string }
  | { room: string; op: 'close' };

export class RecordingEngine implements MediaEngine {
  readonly name = 'recording';
  readonly calls: EngineCall[] = [];
  readonly rooms = new Map<string, { events: RoomEvents; joined: Set<string> }>();

  openRoom(roomId: string, events: RoomEvents): MediaRoom {
    const joined = new Set<string>();
    this.rooms.set(roomId, { events, joined });
    const calls = this.calls;
    const stats = (): RoomStats => ({
      participants: joined.size,
      publishedTracks: 0,
      forwardedTracks: 0,
      packetsForwarded: 0,
      keyframeRequests: 0,
    });
    return {
      join(participantId) {
        joined.add(participantId);
        calls.push({ room: roomId, op: 'join', participantId });
      },
      publish(participantId, sdp) {
        calls.push({ room: roomId, op: 'publish', participantId, sdp });
        if (!joined.has(participantId)) return Promise.reject(new Error('not joined'));
        if (!sdp.startsWith('v=0')) return Promise.reject(new Error('not an SDP offer'));
        return Promise.resolve('v=0 answer');
      },
      subscribeAnswer(participantId, sdp) {
        calls.push({ room: roomId, op: 'answer', participantId, sdp });
        return Promise.resolve();
      },
      setForwarding(participantId, source, on) {
        calls.push({ room: roomId, op: 'forwarding', participantId, source, on });
      },
      requestKeyframe(participantId) {
        calls.push({ room: roomId, op: 'keyframe', participantId });
      },
      restartIce(participantId) {
        calls.push({ room: roomId, op: 'ice-restart', participantId });
      },
      leave(participantId) {
        joined.delete(participantId);
        calls.push({ room: roomId, op: 'leave', participantId });
      },
      stats,
      close() {
        calls.push({ room: roomId, op: 'close' });
      },
    };
  }

  /** Sends a subscribe offer to a participant, as the engine does when tracks change. */
  offer(roomId: string, participantId: string): void {
    this.rooms.get(roomId)?.events.subscribeOffer(participantId, 'v=0 offer', []);
  }

  /** Reports a participant's media connection as failed, as the engine does on a network failure. */
  fail(roomId: string, participantId: string, reason: string): void {
    this.rooms.get(roomId)?.events.mediaFailed?.(participantId, reason);
  }

  iceServers(): IceServer[] {
    return [];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
