/**
 * What every media engine does behind the SFU interface (media/engine.ts), as one suite run
 * against each of them: werift browsers (werift-peer.ts) join a room of the engine, publish,
 * subscribe, mute, share a screen, restart ICE and leave, and the tests count the packets that
 * reach each of them. Each engine's test file runs the suite and adds its own tests.
 *
 * @example
 *   describeMediaRoomContract('embedded SFU', {
 *     openEngine,
 *     openRoom: (engine = openEngine()) => openTestRoom(engine, { defer: (c) => cleanups.push(c) }),
 *     countsPackets: true,
 *     relaysKeyframeRequests: true,
 *     asksKeyframeOnResume: true,
 *     reoffersAfterBadAnswer: true,
 *   });
 */
import { randomUUID } from 'node:crypto';
import type { MediaSource } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import type { MediaEngine, MediaRoom } from '../media/engine.js';
import { FakeBrowser, FakeSignalling, waitUntil } from './werift-peer.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A room of the engine under test, and the browsers that join it. */
export interface TestRoom {
  room: MediaRoom;
  signalling: FakeSignalling;
  /** A browser joined to the room (given an `id`, a participant coming back); closed after the test. */
  browser: (id?: string) => FakeBrowser;
  /** Waits until `to` receives packets of `from`'s source, and returns how many arrived. */
  flowing: (to: FakeBrowser, from: FakeBrowser, source: MediaSource, atLeast?: number) => Promise<number>;
  /** Packets of `from`'s source that reach `to` during `ms`. */
  arriving: (to: FakeBrowser, from: FakeBrowser, source: MediaSource, ms?: number) => Promise<number>;
}

export interface TestRoomOptions {
  /** Registers what closes a browser after the test. */
  defer: (cleanup: () => Promise<void>) => void;
  /** How long a source may take to start flowing (default 5 s). */
  flowTimeoutMs?: number;
  /** How long packets already in flight take to land, before a count starts (default 100 ms). */
  inFlightMs?: number;
}

export function openTestRoom(
  engine: MediaEngine,
  { defer, flowTimeoutMs = 5000, inFlightMs = 100 }: TestRoomOptions,
): TestRoom {
  const signalling = new FakeSignalling();
  const room = engine.openRoom(randomUUID(), signalling);
  return {
    room,
    signalling,
    browser: (id = randomUUID()) => {
      const browser = new FakeBrowser(id, room, signalling).join();
      defer(() => browser.close());
      return browser;
    },
    flowing: async (to, from, source, atLeast = 5) => {
      const start = to.received(from, source);
      await waitUntil(`${source} packets`, () => to.received(from, source) >= start + atLeast, flowTimeoutMs);
      return to.received(from, source);
    },
    arriving: async (to, from, source, ms = 300) => {
      await sleep(inFlightMs);
      const start = to.received(from, source);
      await sleep(ms);
      return to.received(from, source) - start;
    },
  };
}

/** How an engine differs where the interface leaves it free to. */
export interface MediaRoomContract<Engine extends MediaEngine> {
  /** An engine to test, closed after the test. */
  openEngine: () => Engine;
  /** A room of `engine` (by default a new one); its browsers are closed after the test. */
  openRoom: (engine?: Engine) => TestRoom;
  /** `stats().packetsForwarded` counts the packets (Janus counts them itself, out of Rempart's sight). */
  countsPackets: boolean;
  /**
   * Subscribers' keyframe requests pass through Rempart and count in `stats().keyframeRequests`
   * (Janus answers them itself: only participants' own requests count).
   */
  relaysKeyframeRequests: boolean;
  /** Resuming a muted video asks its publisher for a keyframe, for the subscribers to decode at once. */
  asksKeyframeOnResume: boolean;
  /** A malformed subscribe answer makes the engine offer again (rather than wait for a good one). */
  reoffersAfterBadAnswer: boolean;
}

/** Declares, in a `describe` named after the engine, the tests every media engine passes. */
export function describeMediaRoomContract<Engine extends MediaEngine>(
  engineName: string,
  setup: MediaRoomContract<Engine>,
): void {
  describe(`${engineName}, as every media engine`, () => {
    it('forwards each publisher’s sources to the others only, with each subscriber mid named by who and what', async () => {
      const { room, browser, flowing } = setup.openRoom();
      const alice = browser();
      const bob = browser();
      (await alice.publish()).stream();
      await flowing(bob, alice, 'microphone');
      await flowing(bob, alice, 'camera');
      // Alice receives nothing of her own.
      expect(alice.subscriber.offers).toBe(0);
      const stats = room.stats();
      expect(stats).toMatchObject({ participants: 2, publishedTracks: 2, forwardedTracks: 2 });
      if (setup.countsPackets) expect(stats.packetsForwarded).toBeGreaterThanOrEqual(10);

      (await bob.publish(['microphone'])).stream();
      await flowing(alice, bob, 'microphone');
      expect(
        bob.subscriber.tracks.map(({ participantId, source }) => ({ participantId, source })).sort(bySource),
      ).toEqual([
        { participantId: alice.id, source: 'camera' },
        { participantId: alice.id, source: 'microphone' },
      ]);
      for (const info of bob.subscriber.tracks) {
        const transceiver = bob.subscriber.pc.getTransceivers().find((t) => t.mid === info.mid);
        expect(transceiver?.kind).toBe(info.source === 'microphone' ? 'audio' : 'video');
      }
      expect(alice.subscriber.tracks.map((t) => [t.participantId, t.source])).toEqual([
        [bob.id, 'microphone'],
      ]);
      expect(room.stats()).toMatchObject({ participants: 2, publishedTracks: 3, forwardedTracks: 3 });
    });

    it('forwards end-to-end encrypted frames byte for byte: the SFU needs no key and changes nothing', async () => {
      const { browser, flowing } = setup.openRoom();
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
        video.push(await sealed([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0], 600));
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

    it('gives a late joiner the existing tracks and everyone else its own by renegotiation, and a screen share comes and goes the same way', async () => {
      const { room, signalling, browser, flowing, arriving } = setup.openRoom();
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

    it('stops forwarding a muted source to everyone at once, resumes it, and passes a participant’s keyframe request on to the publisher', async () => {
      const { room, browser, flowing, arriving } = setup.openRoom();
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

      let plis = publisher.plis.camera;
      room.setForwarding(alice.id, 'camera', true);
      await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);
      if (setup.asksKeyframeOnResume)
        await waitUntil('a keyframe request', () => publisher.plis.camera > plis);

      // A participant's own request (the `keyframe` message) reaches the publisher as a PLI, counted.
      plis = publisher.plis.camera;
      const counted = room.stats().keyframeRequests;
      if (!setup.relaysKeyframeRequests) expect(counted).toBe(0);
      room.requestKeyframe(alice.id);
      await waitUntil('the keyframe request at the publisher', () => publisher.plis.camera > plis);
      expect(room.stats().keyframeRequests).toBe(counted + 1);
    });

    it('cuts a leaving participant off at once both ways, and renegotiates the others without its tracks', async () => {
      const { room, signalling, browser, flowing, arriving } = setup.openRoom();
      const alice = browser();
      const bob = browser();
      const carol = browser();
      (await alice.publish()).stream();
      (await bob.publish()).stream();
      await Promise.all([
        flowing(bob, alice, 'camera'),
        flowing(carol, alice, 'camera'),
        flowing(carol, bob, 'camera'),
        flowing(alice, bob, 'camera'),
      ]);
      expect(room.stats()).toMatchObject({ participants: 3, publishedTracks: 4, forwardedTracks: 8 });

      let offers = carol.subscriber.offers;
      room.leave(bob.id);
      expect(room.stats()).toMatchObject({ participants: 2, publishedTracks: 2, forwardedTracks: 2 });
      expect(await arriving(bob, alice, 'camera')).toBe(0);
      expect(await arriving(carol, bob, 'camera')).toBe(0);
      expect(await arriving(carol, alice, 'camera')).toBeGreaterThan(0);
      await expect(room.publish(bob.id, alice.publisher?.pc.localDescription?.sdp ?? '', {})).rejects.toThrow(
        /not joined/,
      );
      await waitUntil(
        'an offer without Bob',
        () =>
          carol.subscriber.offers > offers &&
          !carol.subscriber.tracks.some((t) => t.participantId === bob.id),
      );
      await carol.subscriber.settled();
      expect(carol.subscriber.errors).toEqual([]);
      expect(await arriving(carol, alice, 'camera')).toBeGreaterThan(0);

      // The first m-section of Carol's connection, Alice's or Bob's, tags its BUNDLE group; Dave's come after.
      const dave = browser();
      (await dave.publish()).stream();
      await flowing(carol, dave, 'camera');

      offers = carol.subscriber.offers;
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

    it('restarts ICE on the same connections: new credentials both ways, media flowing on', async () => {
      const { room, browser, flowing } = setup.openRoom();
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

    it('refuses media from outside the room and malformed offers and answers, and keeps the room working', async () => {
      const { room, browser, flowing, arriving } = setup.openRoom();
      const alice = browser();
      const bob = browser();
      const publisher = await alice.publish();
      publisher.stream();
      await flowing(bob, alice, 'camera');
      const validOffer = publisher.pc.localDescription?.sdp ?? '';

      await expect(room.publish(randomUUID(), validOffer, { '0': 'microphone' })).rejects.toThrow(
        /not joined/,
      );
      await expect(room.publish(alice.id, 'hello', {})).rejects.toThrow(/malformed publish offer/);
      const noFingerprint = validOffer.replace(/^a=fingerprint:.*\r?\n/gm, '');
      await expect(room.publish(alice.id, noFingerprint, {})).rejects.toThrow(/fingerprint/);
      const application = validOffer.replace('m=audio', 'm=application');
      await expect(room.publish(bob.id, application, {})).rejects.toThrow(/application/);
      await expect(room.subscribeAnswer(alice.id, 'v=0')).rejects.toThrow(/no subscribe offer/);

      expect(await arriving(bob, alice, 'camera')).toBeGreaterThan(0);
      (await bob.publish()).stream();
      await flowing(alice, bob, 'camera');

      // A bad subscribe answer is refused; a good answer (to the engine's next offer, if it makes one) works.
      const carol = browser();
      carol.subscriber.hold = true;
      await waitUntil('an offer for Carol', () => carol.subscriber.held !== undefined);
      await expect(room.subscribeAnswer(carol.id, 'v=0\r\n')).rejects.toThrow(/malformed subscribe answer/);
      if (setup.reoffersAfterBadAnswer)
        await waitUntil('another offer for Carol', () => carol.subscriber.offers === 2);
      await carol.subscriber.release();
      await flowing(carol, alice, 'camera');
      await flowing(carol, bob, 'camera');
      expect(carol.subscriber.errors).toEqual([]);
    });

    it('closes idempotently: every connection ends and the counters stay readable', async () => {
      const engine = setup.openEngine();
      const { room, browser, flowing, arriving } = setup.openRoom(engine);
      const alice = browser();
      const bob = browser();
      (await alice.publish()).stream();
      const received = await flowing(bob, alice, 'camera');
      if (setup.countsPackets) expect(room.stats().packetsForwarded).toBeGreaterThanOrEqual(received);

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
}

function bySource(a: { source: string }, b: { source: string }): number {
  return a.source.localeCompare(b.source);
}

/** The ICE credentials of a description (RFC 8839 §5.4); with BUNDLE, the first m-section's. */
function iceCredentials(sdp: string): { ufrag: string | undefined; pwd: string | undefined } {
  return { ufrag: /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1], pwd: /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1] };
}
