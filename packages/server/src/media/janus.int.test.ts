import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { janusSecrets, startJanus, type RunningJanus } from '../test-support/janus.js';
import { describeMediaRoomContract, openTestRoom, type TestRoom } from '../test-support/media-contract.js';
import { waitUntil } from '../test-support/werift-peer.js';
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

/** Janus answers over HTTP and sets up its own connections: media takes longer to start and to stop. */
function openRoom(engine = openEngine()): TestRoom {
  return openTestRoom(engine, {
    defer: (cleanup) => cleanups.push(cleanup),
    flowTimeoutMs: 10_000,
    inFlightMs: 150,
  });
}

describeMediaRoomContract('Janus engine', {
  openEngine,
  openRoom,
  countsPackets: false,
  relaysKeyframeRequests: false,
  asksKeyframeOnResume: false,
  reoffersAfterBadAnswer: false,
});

describe('Janus engine', () => {
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
    await openRoom().browser().publish();
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
    await Promise.all([busy.flowing(bob, alice, 'camera'), busy.flowing(alice, bob, 'microphone')]);

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
    await Promise.all([busy.flowing(bob2, alice2, 'camera'), busy.flowing(alice2, bob2, 'microphone')]);
    expect(busy.room.stats()).toMatchObject({ participants: 2, publishedTracks: 3, forwardedTracks: 3 });
  });
});
