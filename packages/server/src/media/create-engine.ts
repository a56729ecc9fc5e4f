/**
 * The SFU a server process uses, as configured (REMPART_MEDIA_ENGINE). Each engine is loaded only
 * when chosen: the embedded engine's WebRTC stack weighs some 30 MB resident, and a server driving
 * Janus needs none of it.
 */
import type { Config } from '@rempart/core';
import type { Logger } from '../logger.js';
import type { MediaEngine } from './engine.js';

export async function createMediaEngine(media: Config['media'], logger: Logger): Promise<MediaEngine> {
  if (media.engine === 'janus' && media.janus) {
    const { JanusEngine } = await import('./janus.js');
    return new JanusEngine({
      nodes: media.janus.nodes.map((url) => ({ url })),
      apiSecret: media.janus.apiSecret,
      adminKey: media.janus.adminKey,
      turn: media.turn,
      logger,
    });
  }
  const { EmbeddedEngine } = await import('./embedded.js');
  return new EmbeddedEngine({ ...media, logger });
}
