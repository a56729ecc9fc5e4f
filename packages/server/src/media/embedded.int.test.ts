import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import {
  describeMediaRoomContract,
  openTestRoom,
  sleep,
  type TestRoom,
} from '../test-support/media-contract.js';
import { waitUntil } from '../test-support/werift-peer.js';
import { EmbeddedEngine, KEYFRAME_REQUEST_INTERVAL_MS } from './embedded.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openEngine(options: Partial<ConstructorParameters<typeof EmbeddedEngine>[0]> = {}): EmbeddedEngine {
  const engine = new EmbeddedEngine({ ip: '127.0.0.1', ports: undefined, turn: undefined, ...options });
  cleanups.push(() => engine.close());
  return engine;
}

function openRoom(engine = openEngine()): TestRoom {
  return openTestRoom(engine, { defer: (cleanup) => cleanups.push(cleanup) });
}

describeMediaRoomContract('embedded SFU', {
  openEngine,
  openRoom,
  countsPackets: true,
  relaysKeyframeRequests: true,
  asksKeyframeOnResume: true,
  reoffersAfterBadAnswer: true,
});

describe('embedded SFU', () => {
  it('relays a subscriber’s keyframe request to the publisher as a PLI, throttled', async () => {
    const { room, browser, flowing } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await flowing(bob, alice, 'camera');
    await sleep(KEYFRAME_REQUEST_INTERVAL_MS); // past the request made when Bob started receiving

    const plis = publisher.plis.camera;
    const counted = room.stats().keyframeRequests;
    for (let i = 0; i < 10; i++) await bob.subscriber.pli(alice.id, 'camera');
    await waitUntil('the PLI at the publisher', () => publisher.plis.camera > plis);
    await sleep(KEYFRAME_REQUEST_INTERVAL_MS + 200);
    // One at once, one at the end of the window for those that came during it.
    expect(publisher.plis.camera - plis).toBe(2);
    expect(room.stats().keyframeRequests - counted).toBe(2);

    // A participant's own request (the `keyframe` message) goes the same way.
    room.requestKeyframe(alice.id);
    await waitUntil('the requested keyframe', () => publisher.plis.camera - plis === 3);
  });

  it('limits a publisher to what a congested subscriber can take, and lifts the limit when it can take more', async () => {
    const { browser, flowing } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish(['camera']);
    publisher.stream(20, 1000); // about 400 kbit/s
    await flowing(bob, alice, 'camera');

    // An estimate above what Bob receives: nothing to relay, Alice's own control sets her pace.
    await bob.subscriber.remb(2_000_000);
    await sleep(1500);
    expect(publisher.allowedBitrate('camera')).toBe(0);

    // Below it: Bob is congested, and Alice may send no more than his estimate.
    await bob.subscriber.remb(200_000);
    await waitUntil('a limit', () => publisher.allowedBitrate('camera') > 0, 3000);
    expect(publisher.allowedBitrate('camera')).toBeGreaterThan(190_000);
    expect(publisher.allowedBitrate('camera')).toBeLessThanOrEqual(200_000);

    await bob.subscriber.remb(2_000_000);
    await waitUntil('the limit lifted', () => publisher.allowedBitrate('camera') > 600_000, 3000);
  });

  it('gives time-limited TURN credentials that coturn’s shared secret verifies', () => {
    const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
    const turn = {
      urls: ['turn:turn.example.gouv.fr:3478', 'turns:turn.example.gouv.fr:5349'],
      secret: 's'.repeat(32),
    };
    const [server, ...rest] = openEngine({ turn, clock }).iceServers('p-1');
    expect(rest).toEqual([]);
    const expiry = Date.parse('2026-03-02T10:00:00Z') / 1000;
    expect(server).toEqual({
      urls: turn.urls,
      username: `${expiry}:p-1`,
      credential: createHmac('sha1', turn.secret).update(`${expiry}:p-1`).digest('base64'),
    });
    expect(openEngine().iceServers('p-1')).toEqual([]);
  });

  it('uses only the configured address and port range', async () => {
    const min = 40_000 + Math.floor(Math.random() * 20_000);
    const { browser, flowing } = openRoom(openEngine({ ports: { min, max: min + 20 } }));
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    await flowing(bob, alice, 'camera');
    const candidates = [
      alice.publisher?.pc.remoteDescription?.sdp ?? '',
      bob.subscriber.pc.remoteDescription?.sdp ?? '',
    ].flatMap((sdp) => sdp.match(/^a=candidate:.*$/gm) ?? []);
    expect(candidates.length).toBeGreaterThan(0);
    for (const candidate of candidates) {
      const [, , , , address, port] = candidate.split(' ');
      expect(address).toBe('127.0.0.1');
      expect(Number(port)).toBeGreaterThanOrEqual(min);
      expect(Number(port)).toBeLessThanOrEqual(min + 20);
    }
  });
});
