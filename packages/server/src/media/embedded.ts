/**
 * The embedded SFU (werift). Until its forwarding lands, rooms accept participants for
 * signalling and refuse media offers with a clear error.
 */
import type { Config, IceServer } from '@rempart/core';
import type { Logger } from '../logger.js';
import type { MediaEngine, MediaRoom, RoomEvents } from './engine.js';

export interface EmbeddedEngineOptions {
  ip: Config['media']['ip'];
  ports: Config['media']['ports'];
  turn: Config['media']['turn'];
  logger?: Logger;
}

export class EmbeddedEngine implements MediaEngine {
  readonly name = 'embedded';

  constructor(private readonly options: EmbeddedEngineOptions) {}

  openRoom(_roomId: string, _events: RoomEvents): MediaRoom {
    const joined = new Set<string>();
    return {
      join: (id) => void joined.add(id),
      publish: () => Promise.reject(new Error('media forwarding is not available yet')),
      subscribeAnswer: () => Promise.reject(new Error('media forwarding is not available yet')),
      setForwarding: () => undefined,
      requestKeyframe: () => undefined,
      leave: (id) => void joined.delete(id),
      stats: () => ({
        participants: joined.size,
        publishedTracks: 0,
        forwardedTracks: 0,
        packetsForwarded: 0,
        keyframeRequests: 0,
      }),
      close: () => joined.clear(),
    };
  }

  iceServers(_participantId: string): IceServer[] {
    return [];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
