import { describe, expect, it } from 'vitest';
import { noMediaEngine } from './engine.js';

describe('the engine of a process that serves no meetings', () => {
  it('opens no room, with a clear error, and offers no ICE server', async () => {
    const events = { onSubscribeOffer: () => undefined } as unknown as Parameters<
      typeof noMediaEngine.openRoom
    >[1];
    expect(() => noMediaEngine.openRoom('room-1', events)).toThrow(
      expect.objectContaining({ code: 'service_unavailable' }),
    );
    expect(noMediaEngine.iceServers('p1')).toEqual([]);
    await expect(noMediaEngine.close()).resolves.toBeUndefined();
  });
});
