import { createHmac, randomUUID } from 'node:crypto';
import type { MediaSource } from '@rempart/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { FakeBrowser, FakeSignalling, waitUntil } from '../test-support/werift-peer.js';
import { EmbeddedEngine, KEYFRAME_REQUEST_INTERVAL_MS } from './embedded.js';
import type { MediaRoom } from './engine.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openEngine(options: Partial<ConstructorParameters<typeof EmbeddedEngine>[0]> = {}): EmbeddedEngine {
  const engine = new EmbeddedEngine({ ip: '127.0.0.1', ports: undefined, turn: undefined, ...options });
  cleanups.push(() => engine.close());
  return engine;
}

function openRoom(engine = openEngine()): {
  room: MediaRoom;
  signalling: FakeSignalling;
  browser: () => FakeBrowser;
} {
  const signalling = new FakeSignalling();
  const room = engine.openRoom(randomUUID(), signalling);
  const browser = () => {
    const b = new FakeBrowser(randomUUID(), room, signalling).join();
    cleanups.push(() => b.close());
    return b;
  };
  return { room, signalling, browser };
}

/** Waits until `to` receives packets of `from`'s source, and returns how many arrived. */
async function flowing(
  to: FakeBrowser,
  from: FakeBrowser,
  source: MediaSource,
  atLeast = 5,
): Promise<number> {
  const start = to.received(from, source);
  await waitUntil(`${source} packets`, () => to.received(from, source) >= start + atLeast);
  return to.received(from, source);
}

/** Packets of `from`'s source that reach `to` during `ms`. */
async function arriving(to: FakeBrowser, from: FakeBrowser, source: MediaSource, ms = 300): Promise<number> {
  await sleep(100); // packets already in flight land first
  const start = to.received(from, source);
  await sleep(ms);
  return to.received(from, source) - start;
}

describe('embedded SFU', () => {
  it('forwards a publisher’s microphone and camera to a subscriber, with mids mapped to who and what', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();

    await flowing(bob, alice, 'microphone');
    await flowing(bob, alice, 'camera');
    const infos = bob.subscriber.tracks;
    expect(infos.map(({ participantId, source }) => ({ participantId, source })).sort(bySource)).toEqual([
      { participantId: alice.id, source: 'camera' },
      { participantId: alice.id, source: 'microphone' },
    ]);
    for (const info of infos) {
      const transceiver = bob.subscriber.pc.getTransceivers().find((t) => t.mid === info.mid);
      expect(transceiver?.kind).toBe(info.source === 'microphone' ? 'audio' : 'video');
    }
    // Alice receives nothing of her own.
    expect(alice.subscriber.offers).toBe(0);
    const stats = room.stats();
    expect(stats).toMatchObject({ participants: 2, publishedTracks: 2, forwardedTracks: 2 });
    expect(stats.packetsForwarded).toBeGreaterThanOrEqual(10);
  });

  it('forwards end-to-end encrypted frames byte for byte: the SFU needs no key and changes nothing', async () => {
    const { browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await flowing(bob, alice, 'camera');
    await flowing(bob, alice, 'microphone');
    publisher.stop();

    // Frames as the browsers' encoded transform makes them (see the web client's e2ee/frame.ts):
    // the codec's first bytes in clear, then AES-GCM ciphertext and tag, then IV, epoch, leaf.
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']);
    const sealed = async (header: number[], size: number) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const body = crypto.getRandomValues(new Uint8Array(size));
      const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, body));
      const trailer = Buffer.from([...iv, 0, 0, 0, 3, 0, 1, header.length, 0xe1]);
      return Buffer.concat([Buffer.from(header), ciphertext, trailer]);
    };
    const video: Buffer[] = [];
    const audio: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      video.push(
        await sealed([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01].slice(0, 10), 600),
      );
      audio.push(await sealed([0xfc], 80));
    }
    for (let i = 0; i < 20; i++) {
      publisher.sendPayload('camera', video[i] ?? Buffer.alloc(0));
      publisher.sendPayload('microphone', audio[i] ?? Buffer.alloc(0));
      await sleep(20);
    }
    const has = (got: Buffer[], sent: Buffer[]) => sent.filter((p) => got.some((g) => g.equals(p))).length;
    await waitUntil(
      'the encrypted frames to arrive',
      () =>
        has(bob.payloads(alice, 'camera'), video) >= 18 &&
        has(bob.payloads(alice, 'microphone'), audio) >= 18,
    );
    // Whatever arrived is exactly what was sent: not one byte of ciphertext, tag or trailer rewritten.
    const sentAll = [...video, ...audio];
    const arrived = [...bob.payloads(alice, 'camera'), ...bob.payloads(alice, 'microphone')].filter(
      (p) => p.length > 100 && p.at(-1) === 0xe1,
    );
    for (const p of arrived) expect(sentAll.some((s) => s.equals(p))).toBe(true);
  });

  it('gives a newcomer the existing tracks and everyone else the newcomer’s, by renegotiation', async () => {
    const { room, signalling, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    (await bob.publish(['microphone'])).stream();
    await flowing(bob, alice, 'camera');
    await flowing(alice, bob, 'microphone');

    const carol = browser();
    (await carol.publish()).stream();
    await Promise.all([
      flowing(carol, alice, 'camera'),
      flowing(carol, alice, 'microphone'),
      flowing(carol, bob, 'microphone'),
      flowing(alice, carol, 'camera'),
      flowing(bob, carol, 'camera'),
      flowing(bob, carol, 'microphone'),
    ]);
    expect(room.stats()).toMatchObject({ participants: 3, publishedTracks: 5, forwardedTracks: 10 });

    // A screen share added to Alice's connection reaches both, then goes away with its track.
    alice.publisher?.add('screen');
    await alice.publish();
    await Promise.all([flowing(bob, alice, 'screen'), flowing(carol, alice, 'screen')]);
    alice.publisher?.remove('screen');
    await alice.publish();
    await waitUntil('the screen to leave the offers', () =>
      [bob, carol].every((b) => !b.subscriber.tracks.some((t) => t.source === 'screen')),
    );
    expect(await arriving(bob, alice, 'camera')).toBeGreaterThan(0);
    for (const b of [alice, bob, carol]) expect(b.subscriber.errors).toEqual([]);
    expect(signalling.failures).toEqual([]);
  });

  it('stops forwarding a muted source to everyone at once and resumes it with a keyframe request', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const carol = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);

    room.setForwarding(alice.id, 'camera', false);
    expect(await arriving(bob, alice, 'camera')).toBe(0);
    expect(await arriving(carol, alice, 'camera')).toBe(0);
    expect(await arriving(bob, alice, 'microphone')).toBeGreaterThan(0);

    const plis = publisher.plis.camera;
    room.setForwarding(alice.id, 'camera', true);
    await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);
    await waitUntil('a keyframe request', () => publisher.plis.camera > plis);
  });

  it('cuts a leaving subscriber off at once, and removes a leaving publisher’s tracks from the others', async () => {
    const { room, signalling, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const carol = browser();
    (await alice.publish()).stream();
    await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);
    expect(room.stats().forwardedTracks).toBe(4);

    room.leave(bob.id);
    expect(room.stats()).toMatchObject({ participants: 2, forwardedTracks: 2 });
    expect(await arriving(bob, alice, 'camera')).toBe(0);
    expect(await arriving(carol, alice, 'camera')).toBeGreaterThan(0);
    await expect(room.publish(bob.id, alice.publisher?.pc.localDescription?.sdp ?? '', {})).rejects.toThrow(
      /not joined/,
    );

    // Alice's microphone tags the BUNDLE group of Carol's connection; Dave comes in after her.
    const dave = browser();
    (await dave.publish()).stream();
    await flowing(carol, dave, 'camera');

    let offers = carol.subscriber.offers;
    room.leave(alice.id);
    expect(room.stats()).toMatchObject({ participants: 2, publishedTracks: 2, forwardedTracks: 2 });
    expect(await arriving(carol, alice, 'camera')).toBe(0);
    await waitUntil('a new offer without Alice', () => carol.subscriber.offers > offers);
    await carol.subscriber.settled();
    expect(carol.subscriber.tracks.map((t) => t.participantId)).toEqual([dave.id, dave.id]);
    // The tagged m-section stays (inactive): Chromium moves to a new transport when it goes.
    expect(carol.subscriber.lastOffer.match(/^m=.*$/m)?.[0]).toMatch(/^m=audio [1-9]/);
    expect(await arriving(carol, dave, 'camera')).toBeGreaterThan(0);

    offers = carol.subscriber.offers;
    room.leave(dave.id);
    await waitUntil('a new offer without Dave', () => carol.subscriber.offers > offers);
    await carol.subscriber.settled();
    expect(carol.subscriber.tracks).toEqual([]);
    // Still a BUNDLE group, which Chromium requires under max-bundle.
    expect(carol.subscriber.lastOffer).toMatch(/^a=group:BUNDLE \S+/m);

    const erin = browser();
    (await erin.publish()).stream();
    await flowing(carol, erin, 'camera');
    expect(carol.subscriber.errors).toEqual([]);
    expect(carol.subscriber.pc.connectionState).toBe('connected');
    expect(signalling.failures).toEqual([]);
  });

  it('relays a subscriber’s keyframe request to the publisher as a PLI, throttled', async () => {
    const { room, browser } = openRoom();
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
    const { browser } = openRoom();
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

  it('restarts ICE on the same connections: new credentials both ways, media flowing on', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await flowing(bob, alice, 'camera');

    // Subscribe side: the engine offers anew with an ICE restart (RFC 8445 §9) when asked.
    const subscribeBefore = iceCredentials(bob.subscriber.lastOffer);
    const offers = bob.subscriber.offers;
    room.restartIce(bob.id);
    await waitUntil('a new subscribe offer', () => bob.subscriber.offers > offers);
    await bob.subscriber.settled();
    const subscribeAfter = iceCredentials(bob.subscriber.lastOffer);
    expect(subscribeAfter.ufrag).not.toBe(subscribeBefore.ufrag);
    expect(subscribeAfter.pwd).not.toBe(subscribeBefore.pwd);
    expect(bob.subscriber.errors).toEqual([]);
    await flowing(bob, alice, 'camera');

    // Publish side: the browser's re-offer with new credentials is answered on its connection.
    const publishBefore = iceCredentials(publisher.pc.remoteDescription?.sdp ?? '');
    publisher.pc.restartIce();
    await alice.publish();
    const publishAfter = iceCredentials(publisher.pc.remoteDescription?.sdp ?? '');
    expect(publishAfter.ufrag).not.toBe(publishBefore.ufrag);
    expect(room.stats()).toMatchObject({ participants: 2, publishedTracks: 2 });
    await flowing(bob, alice, 'camera');
    await flowing(bob, alice, 'microphone');
  });

  it('refuses media from outside the room and malformed offers, and keeps the room working', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await flowing(bob, alice, 'camera');
    const validOffer = publisher.pc.localDescription?.sdp ?? '';

    await expect(room.publish(randomUUID(), validOffer, { '0': 'microphone' })).rejects.toThrow(/not joined/);
    await expect(room.publish(alice.id, 'hello', {})).rejects.toThrow(/malformed publish offer/);
    const noFingerprint = validOffer.replace(/^a=fingerprint:.*\r?\n/gm, '');
    await expect(room.publish(alice.id, noFingerprint, {})).rejects.toThrow(/fingerprint/);
    const application = validOffer.replace('m=audio', 'm=application');
    await expect(room.publish(bob.id, application, {})).rejects.toThrow(/application/);
    await expect(room.subscribeAnswer(alice.id, 'v=0')).rejects.toThrow(/no subscribe offer/);

    expect(await arriving(bob, alice, 'camera')).toBeGreaterThan(0);
    (await bob.publish()).stream();
    await flowing(alice, bob, 'camera');

    // A bad subscribe answer is refused; the engine offers again and a good answer works.
    const carol = browser();
    carol.subscriber.hold = true;
    await waitUntil('an offer for Carol', () => carol.subscriber.held !== undefined);
    await expect(room.subscribeAnswer(carol.id, 'v=0\r\n')).rejects.toThrow(/malformed subscribe answer/);
    await waitUntil('another offer for Carol', () => carol.subscriber.offers === 2);
    await carol.subscriber.release();
    await flowing(carol, alice, 'camera');
    await flowing(carol, bob, 'camera');
    expect(carol.subscriber.errors).toEqual([]);
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
    const { browser } = openRoom(openEngine({ ports: { min, max: min + 20 } }));
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

  it('closes idempotently: every connection ends and the counters stay readable', async () => {
    const engine = openEngine();
    const { room, browser } = openRoom(engine);
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    const received = await flowing(bob, alice, 'camera');
    const forwarded = room.stats().packetsForwarded;
    expect(forwarded).toBeGreaterThanOrEqual(received);

    room.close();
    room.close();
    expect(await arriving(bob, alice, 'camera')).toBe(0);
    expect(room.stats()).toEqual({
      participants: 0,
      publishedTracks: 0,
      forwardedTracks: 0,
      packetsForwarded: expect.any(Number),
      keyframeRequests: expect.any(Number),
    });
    room.join(randomUUID());
    expect(room.stats().participants).toBe(0);
    await engine.close();
    await engine.close();
    expect(() => engine.openRoom(randomUUID(), new FakeSignalling())).toThrow(/closed/);
  });
});

function bySource(a: { source: string }, b: { source: string }): number {
  return a.source.localeCompare(b.source);
}

/** The ICE credentials of a description (RFC 8839 §5.4); with BUNDLE, the first m-section's. */
function iceCredentials(sdp: string): { ufrag: string | undefined; pwd: string | undefined } {
  return { ufrag: /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1], pwd: /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1] };
}
