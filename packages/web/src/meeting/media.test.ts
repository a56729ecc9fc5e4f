import { describe, expect, it } from 'vitest';
import { iceGatheringComplete } from './media';

function fakePeer(state: string) {
  return Object.assign(new EventTarget(), { iceGatheringState: state });
}

describe('waiting for ICE gathering (non-trickle)', () => {
  it('goes on at once when gathering is already complete', async () => {
    await expect(iceGatheringComplete(fakePeer('complete'), 10_000)).resolves.toBeUndefined();
  });

  it('waits for the state to become complete', async () => {
    const pc = fakePeer('gathering');
    let done = false;
    const waiting = iceGatheringComplete(pc, 10_000).then(() => (done = true));
    pc.dispatchEvent(new Event('icegatheringstatechange'));
    await Promise.resolve();
    expect(done).toBe(false);
    pc.iceGatheringState = 'complete';
    pc.dispatchEvent(new Event('icegatheringstatechange'));
    await waiting;
    expect(done).toBe(true);
  });

  it('goes on with the candidates it has after the timeout', async () => {
    const started = Date.now();
    await iceGatheringComplete(fakePeer('gathering'), 20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});
