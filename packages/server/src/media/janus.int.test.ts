import { randomUUID } from 'node:crypto';
import type { MediaSource } from '@rempart/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { janusSecrets, startJanus, type RunningJanus } from '../test-support/janus.js';
import { FakeBrowser, FakeSignalling, waitUntil } from '../test-support/werift-peer.js';
import type { MediaRoom } from './engine.js';
import { post } from './janus-api.js';
import { JanusEngine } from './janus.js';

const secrets = janusSecrets();
let first: RunningJanus;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  first = await startJanus(secrets);
});
afterAll(async () => {
  await first.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openEngine(nodes: RunningJanus[] = [first], probeIntervalMs?: number): JanusEngine {
  const engine = new JanusEngine({
    nodes: nodes.map(({ url }) => ({ url })),
    apiSecret: secrets.apiSecret,
    adminKey: secrets.adminKey,
    turn: undefined,
    probeIntervalMs,
    probeFailures: 2,
  });
  cleanups.push(() => engine.close());
  return engine;
}

/** Signalling that also records media resets, as the meeting room passes them on. */
class ResettableSignalling extends FakeSignalling {
  readonly resets: { participantId: string; reason: string }[] = [];
  mediaReset(participantId: string, reason: string): void {
    this.resets.push({ participantId, reason });
  }
}

function openRoom(engine = openEngine()): {
  room: MediaRoom;
  signalling: ResettableSignalling;
  browser: (id?: string) => FakeBrowser;
} {
  const signalling = new ResettableSignalling();
  const room = engine.openRoom(randomUUID(), signalling);
  const browser = (id: string = randomUUID()) => {
    const b = new FakeBrowser(id, room, signalling).join();
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
  await waitUntil(`${source} packets`, () => to.received(from, source) >= start + atLeast, 10_000);
  return to.received(from, source);
}

/** Packets of `from`'s source that reach `to` during `ms`. */
async function arriving(to: FakeBrowser, from: FakeBrowser, source: MediaSource, ms = 300): Promise<number> {
  await sleep(150); // packets already in flight land first
  const start = to.received(from, source);
  await sleep(ms);
  return to.received(from, source) - start;
}

const bySource = (a: { source: string }, b: { source: string }) => a.source.localeCompare(b.source);

describe('Janus engine', () => {
  it('forwards media both ways through Janus, with each subscriber mid named by who and what', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    (await bob.publish(['microphone'])).stream();

    await Promise.all([
      flowing(bob, alice, 'microphone'),
      flowing(bob, alice, 'camera'),
      flowing(alice, bob, 'microphone'),
    ]);
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
    expect(alice.subscriber.tracks.map((t) => [t.participantId, t.source])).toEqual([[bob.id, 'microphone']]);
    expect(room.stats()).toMatchObject({ participants: 2, publishedTracks: 3, forwardedTracks: 3 });
  });

  it('forwards end-to-end encrypted frames byte for byte', async () => {
    const { browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const publisher = await alice.publish();
    publisher.stream();
    await flowing(bob, alice, 'camera');
    await flowing(bob, alice, 'microphone');
    publisher.stop();

    // As the browsers' encoded transform makes them (the web client's e2ee/frame.ts): the codec's
    // first bytes in clear, then AES-GCM ciphertext and tag, then IV, epoch, leaf.
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
    const sentAll = [...video, ...audio];
    const arrived = [...bob.payloads(alice, 'camera'), ...bob.payloads(alice, 'microphone')].filter(
      (p) => p.length > 100 && p.at(-1) === 0xe1,
    );
    for (const p of arrived) expect(sentAll.some((s) => s.equals(p))).toBe(true);
  });

  it('gives a late joiner the existing tracks, and the others its own', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    (await bob.publish(['microphone'])).stream();
    await flowing(bob, alice, 'camera');

    const carol = browser();
    (await carol.publish()).stream();
    await Promise.all([
      flowing(carol, alice, 'camera'),
      flowing(carol, alice, 'microphone'),
      flowing(carol, bob, 'microphone'),
      flowing(alice, carol, 'camera'),
      flowing(bob, carol, 'camera'),
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
  });

  it('stops forwarding a muted source to everyone and resumes it', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const carol = browser();
    (await alice.publish()).stream();
    await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);

    room.setForwarding(alice.id, 'camera', false);
    expect(await arriving(bob, alice, 'camera')).toBe(0);
    expect(await arriving(carol, alice, 'camera')).toBe(0);
    expect(await arriving(bob, alice, 'microphone')).toBeGreaterThan(0);

    room.setForwarding(alice.id, 'camera', true);
    await Promise.all([flowing(bob, alice, 'camera'), flowing(carol, alice, 'camera')]);

    // A participant's keyframe request reaches the publisher as a PLI.
    const publisher = alice.publisher;
    const plis = publisher?.plis.camera ?? 0;
    room.requestKeyframe(alice.id);
    await waitUntil('the keyframe request at the publisher', () => (publisher?.plis.camera ?? 0) > plis);
    expect(room.stats().keyframeRequests).toBe(1);
  });

  it('cuts a leaving participant off at once, both ways', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    const carol = browser();
    (await alice.publish()).stream();
    (await bob.publish()).stream();
    await Promise.all([
      flowing(bob, alice, 'camera'),
      flowing(carol, alice, 'camera'),
      flowing(carol, bob, 'camera'),
    ]);

    room.leave(bob.id);
    expect(room.stats().participants).toBe(2);
    expect(await arriving(bob, alice, 'camera')).toBe(0);
    expect(await arriving(carol, bob, 'camera')).toBe(0);
    expect(await arriving(carol, alice, 'camera')).toBeGreaterThan(0);
    // Janus renegotiates Carol's connection without Bob's streams.
    await waitUntil(
      'an offer without Bob',
      () => carol.subscriber.offers > 1 && !carol.subscriber.tracks.some((t) => t.participantId === bob.id),
    );
    await carol.subscriber.settled();
    expect(carol.subscriber.errors).toEqual([]);
    expect(await arriving(carol, alice, 'camera')).toBeGreaterThan(0);
    await expect(room.publish(bob.id, alice.publisher?.pc.localDescription?.sdp ?? '', {})).rejects.toThrow(
      /not joined/,
    );
  });

  it('restarts ICE on a subscriber’s connection with new credentials, media going on', async () => {
    const { room, browser } = openRoom();
    const alice = browser();
    const bob = browser();
    (await alice.publish()).stream();
    await flowing(bob, alice, 'camera');
    const ufrag = (sdp: string) => /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
    const before = ufrag(bob.subscriber.lastOffer);
    const offers = bob.subscriber.offers;

    room.restartIce(bob.id);
    await waitUntil('a restart offer', () => bob.subscriber.offers > offers);
    await bob.subscriber.settled();
    expect(ufrag(bob.subscriber.lastOffer)).not.toBe(before);
    expect(bob.subscriber.errors).toEqual([]);
    await flowing(bob, alice, 'camera');
  });

  it('refuses API requests without the api_secret, and room creation without the admin key', async () => {
    await expect(post(first.url, { janus: 'create', transaction: 't' })).rejects.toThrow(/Unauthorized/);
    await expect(post(first.url, { janus: 'create', transaction: 't', apisecret: 'guess' })).rejects.toThrow(
      /Unauthorized/,
    );
    // Even with the API secret, a room needs the VideoRoom admin key.
    const session = await post(first.url, {
      janus: 'create',
      transaction: 't',
      apisecret: secrets.apiSecret,
    });
    const base = `${first.url}/${session.data?.id}`;
    const handle = await post(base, {
      janus: 'attach',
      plugin: 'janus.plugin.videoroom',
      transaction: 't',
      apisecret: secrets.apiSecret,
    });
    const create = await post(`${base}/${handle.data?.id}`, {
      janus: 'message',
      transaction: 't',
      apisecret: secrets.apiSecret,
      body: { request: 'create', room: 4242, admin_key: 'guess' },
    });
    expect(create.plugindata?.data).toMatchObject({ error_code: expect.any(Number) });
    // And the rooms Rempart makes are private: the list shows none.
    const { room } = openRoom();
    const alice = new FakeBrowser(randomUUID(), room, new FakeSignalling()).join();
    cleanups.push(() => alice.close());
    await alice.publish();
    const list = await post(`${base}/${handle.data?.id}`, {
      janus: 'message',
      transaction: 't',
      apisecret: secrets.apiSecret,
      body: { request: 'list' },
    });
    expect(list.plugindata?.data).toMatchObject({ list: [] });
  });
});

describe('Janus engine on several nodes', () => {
  it('places each meeting on the least-loaded node, and moves a dead node’s meetings to another', async () => {
    const second = await startJanus(secrets);
    cleanups.push(() => second.stop());
    const engine = openEngine([first, second], 300);
    const nodeOf = async (room: MediaRoom) => {
      await waitUntil('the room placed', () => engine.placements().get(room) !== undefined);
      return engine.placements().get(room);
    };

    const busy = openRoom(engine);
    const alice = busy.browser();
    const bob = busy.browser();
    const quiet = openRoom(engine);
    const carol = quiet.browser();
    const busyNode = await nodeOf(busy.room);
    const quietNode = await nodeOf(quiet.room);
    expect(new Set([busyNode, quietNode])).toEqual(new Set([first.url, second.url]));
    // The third meeting goes beside the one with a single participant.
    const third = openRoom(engine);
    third.browser();
    expect(await nodeOf(third.room)).toBe(quietNode);

    (await alice.publish()).stream();
    (await bob.publish(['microphone'])).stream();
    (await carol.publish()).stream();
    await Promise.all([flowing(bob, alice, 'camera'), flowing(alice, bob, 'microphone')]);

    const dying = busyNode === first.url ? first : second;
    await dying.kill();
    await waitUntil('both participants reset', () => busy.signalling.resets.length === 2, 10_000);
    expect(busy.signalling.resets.sort((a, b) => a.participantId.localeCompare(b.participantId))).toEqual(
      [alice.id, bob.id].sort().map((participantId) => ({ participantId, reason: 'engine_moved' })),
    );
    expect(quiet.signalling.resets).toEqual([]);
    expect(await nodeOf(busy.room)).toBe(quietNode);

    // Each browser publishes again on new connections, and media flows through the other node.
    const alice2 = busy.browser(alice.id);
    const bob2 = busy.browser(bob.id);
    (await alice2.publish()).stream();
    (await bob2.publish(['microphone'])).stream();
    await Promise.all([flowing(bob2, alice2, 'camera'), flowing(alice2, bob2, 'microphone')]);
    expect(busy.room.stats()).toMatchObject({ participants: 2, publishedTracks: 3, forwardedTracks: 3 });
  });
});
