/**
 * What end-to-end encryption promises, checked with the real MLS groups, frame format and chat
 * sealing: forward secrecy towards removed members, no past for newcomers, and a safety code
 * that tells a man in the middle apart.
 */
import type { SealedChat } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { ChatKeyring, importChatKey, openChat, sealChat } from './chat';
import { decryptFrame, encryptFrame, importMediaKey } from './frame';
import { MediaKeyGroup, type EpochKeys, type GroupMessage, type RelayedMessage } from './group';
import { FakeMeeting, meetingId } from './relay.test-support';

const ids = {
  claire: '00000000-0000-4000-8000-00000000000c',
  jan: '00000000-0000-4000-8000-00000000000a',
  lucas: '00000000-0000-4000-8000-00000000000b',
};

const frame = new Uint8Array(300).map((_, i) => i % 251);

/** What one member sends in an epoch: a video frame and a chat message, both sealed. */
interface Sent {
  epoch: number;
  from: string;
  frame: ArrayBuffer;
  chat: SealedChat;
}

async function send(keys: EpochKeys, from: string, text: string): Promise<Sent> {
  const media = keys.keys.get(keys.ownLeaf);
  const chat = keys.chatKeys.get(keys.ownLeaf);
  if (!media || !chat) throw new Error('no own key');
  const context = { meetingId, from, epoch: keys.epoch, leaf: keys.ownLeaf };
  return {
    epoch: keys.epoch,
    from,
    frame: await encryptFrame(
      frame.buffer,
      { epoch: keys.epoch, leaf: keys.ownLeaf, key: await importMediaKey(media) },
      10,
    ),
    chat: await sealChat(text, await importChatKey(chat), context),
  };
}

/** Every key in every epoch a member held: what they could have copied out of their browser. */
function capturedKeys(held: readonly EpochKeys[]): Uint8Array[] {
  return held.flatMap((k) => [...k.keys.values(), ...k.chatKeys.values()]);
}

/** How many of `keys` open the frame or the chat message of `sent`. */
async function opened(sent: Sent, keys: readonly Uint8Array[]): Promise<number> {
  let count = 0;
  for (const raw of keys) {
    const frameOpens = await decryptFrame(sent.frame, await importMediaKey(raw)).then(
      () => true,
      () => false,
    );
    const chatOpens = await openChat(sent.chat, await importChatKey(raw), {
      meetingId,
      from: sent.from,
    }).then(
      () => true,
      () => false,
    );
    if (frameOpens) count++;
    if (chatOpens) count++;
  }
  return count;
}

function latest(meeting: FakeMeeting, id: string): EpochKeys {
  const keys = meeting.latest(id);
  if (!keys) throw new Error(`${id} holds no keys`);
  return keys;
}

async function keyringOf(held: readonly EpochKeys[]): Promise<ChatKeyring> {
  const ring = new ChatKeyring(meetingId);
  for (const keys of held) await ring.install(keys);
  return ring;
}

describe('a removed participant', () => {
  it('reads frames and chat sent before the rekey, and nothing sent after, with every key they held', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    meeting.join(ids.lucas);
    await meeting.settle();
    const before = await send(latest(meeting, ids.claire), ids.claire, 'avant');
    const lucasHeld = [...(meeting.clients.get(ids.lucas)?.keys ?? [])];
    expect(lucasHeld.length).toBeGreaterThan(0);

    // Removed by the host: the roster loses him, the committer moves the epoch on.
    meeting.leave(ids.lucas);
    await meeting.settle();
    const after = await send(latest(meeting, ids.claire), ids.claire, 'après');
    expect(after.epoch).toBe(before.epoch + 1);

    const captured = capturedKeys(lucasHeld);
    // Before: his keys open Claire's frame and her chat message.
    expect(await opened(before, captured)).toBeGreaterThanOrEqual(2);
    expect(await (await keyringOf(lucasHeld)).open(before.chat, ids.claire)).toEqual({
      kind: 'text',
      text: 'avant',
    });
    // After: none of them opens either.
    expect(await opened(after, captured)).toBe(0);
    expect((await (await keyringOf(lucasHeld)).open(after.chat, ids.claire)).kind).not.toBe('text');
    // Jan, still in, reads both.
    const janHeld = meeting.clients.get(ids.jan)?.keys ?? [];
    expect(await opened(after, capturedKeys(janHeld))).toBe(2);
    expect(await (await keyringOf(janHeld)).open(after.chat, ids.claire)).toEqual({
      kind: 'text',
      text: 'après',
    });
  });
});

describe('a newcomer', () => {
  it('cannot read frames or chat of the epochs before they joined', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    const earlier = await send(latest(meeting, ids.jan), ids.jan, 'entre nous');

    meeting.join(ids.lucas);
    await meeting.settle();
    const lucasHeld = meeting.clients.get(ids.lucas)?.keys ?? [];
    expect(Math.min(...lucasHeld.map((k) => k.epoch))).toBeGreaterThan(earlier.epoch);
    const captured = capturedKeys(lucasHeld);
    expect(await opened(earlier, captured)).toBe(0);
    // The history the server hands him is shown as sent before he joined.
    expect(await (await keyringOf(lucasHeld)).open(earlier.chat, ids.jan)).toEqual({ kind: 'before-join' });

    // What is said from his epoch on, he reads.
    const now = await send(latest(meeting, ids.jan), ids.jan, 'bienvenue');
    expect(await opened(now, captured)).toBe(2);
  });
});

describe('a chat message relayed by a server that lies', () => {
  it('does not open under another sender’s name or in another meeting', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    const sent = await send(latest(meeting, ids.claire), ids.claire, 'signé Claire');
    const janRing = await keyringOf(meeting.clients.get(ids.jan)?.keys ?? []);
    expect(await janRing.open(sent.chat, ids.jan)).toEqual({ kind: 'unreadable' });
    const raw = latest(meeting, ids.jan).chatKeys.get(sent.chat.leaf);
    if (!raw) throw new Error('no key');
    await expect(
      openChat(sent.chat, await importChatKey(raw), {
        meetingId: '00000000-0000-4000-8000-0000000000ff',
        from: ids.claire,
      }),
    ).rejects.toThrow();
    // Relabelled to another epoch: the additional data no longer matches.
    await expect(
      openChat({ ...sent.chat, epoch: sent.chat.epoch + 1 }, await importChatKey(raw), {
        meetingId,
        from: ids.claire,
      }),
    ).rejects.toThrow();
    expect(await janRing.open(sent.chat, ids.claire)).toEqual({ kind: 'text', text: 'signé Claire' });
  });
});

/** A participant's browser, its key events kept. */
interface Endpoint {
  id: string;
  group: MediaKeyGroup;
  keys: EpochKeys[];
}

/**
 * A relay that delivers each endpoint's messages to one other endpoint, under the participant
 * id it chooses: what a server in the middle does. Work is awaited in rounds until nothing more
 * is sent, as on an ordered socket.
 */
class Wire {
  private work: Promise<void>[] = [];
  private readonly peers = new Map<Endpoint, { to: Endpoint; as: string }>();

  add(id: string): Endpoint {
    const endpoint: Endpoint = {
      id,
      keys: [],
      group: new MediaKeyGroup(
        id,
        meetingId,
        {
          send: (message) => this.deliver(endpoint, message),
          keys: (keys) => endpoint.keys.push(keys),
          failed: (error) => {
            throw error;
          },
        },
        0,
      ),
    };
    return endpoint;
  }

  /** What `from` sends reaches `to`, as if sent by participant `as`. */
  connect(from: Endpoint, to: Endpoint, as: string): void {
    this.peers.set(from, { to, as });
  }

  push(step: Promise<void>): void {
    this.work.push(step);
  }

  async settle(): Promise<void> {
    while (this.work.length > 0) {
      const batch = this.work;
      this.work = [];
      await Promise.all(batch);
    }
  }

  private deliver(from: Endpoint, message: GroupMessage): void {
    const peer = this.peers.get(from);
    if (!peer) return;
    const { to, as } = peer;
    let relayed: RelayedMessage;
    if (message.type === 'e2ee.keypackage')
      relayed = { type: 'e2ee.keypackage', from: as, data: message.data };
    else if (message.welcome?.to.includes(to.id))
      relayed = { type: 'e2ee.welcome', from: as, data: message.welcome.data };
    else relayed = { type: 'e2ee.commit', from: as, data: message.data };
    this.work.push(to.group.receive(relayed));
  }
}

describe('the safety code', () => {
  const roster = [
    { id: ids.claire, joinedAt: '2026-12-01T09:00:00.000Z' },
    { id: ids.jan, joinedAt: '2026-12-01T09:00:01.000Z' },
  ];

  it('is the same on both screens when the server relays faithfully', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    const claire = latest(meeting, ids.claire);
    const jan = latest(meeting, ids.jan);
    expect(claire.epoch).toBe(jan.epoch);
    expect(claire.safetyCode).toMatch(/^\d{4} \d{4} \d{4}$/);
    expect(jan.safetyCode).toBe(claire.safetyCode);
  });

  it('differs when a malicious server swaps a KeyPackage to sit in the middle', async () => {
    // The server substitutes its own KeyPackage for Jan's towards Claire, and for Claire's
    // towards Jan: two groups, each with the server posing as the other person.
    const wire = new Wire();
    const claire = wire.add(ids.claire);
    const jan = wire.add(ids.jan);
    const asJan = wire.add(ids.jan);
    const asClaire = wire.add(ids.claire);
    wire.connect(claire, asJan, ids.claire);
    wire.connect(asJan, claire, ids.jan);
    wire.connect(jan, asClaire, ids.jan);
    wire.connect(asClaire, jan, ids.claire);
    for (const endpoint of [claire, jan, asJan, asClaire]) {
      wire.push(endpoint.group.setRoster(roster));
      wire.push(endpoint.group.start());
    }
    await wire.settle();

    const claireKeys = claire.keys.at(-1);
    const janKeys = jan.keys.at(-1);
    if (!claireKeys || !janKeys) throw new Error('no keys');
    // The attack works at the key level: both see a two-member group of Claire and Jan…
    expect(new Set(claireKeys.members.values())).toEqual(new Set([ids.claire, ids.jan]));
    expect(new Set(janKeys.members.values())).toEqual(new Set([ids.claire, ids.jan]));
    // …and the server reads what Claire sends.
    const sent = await send(claireKeys, ids.claire, 'confidentiel');
    expect(await opened(sent, capturedKeys(asJan.keys))).toBe(2);
    // But the codes on their two screens differ: comparing them aloud reveals it.
    expect(claireKeys.safetyCode).not.toBe(janKeys.safetyCode);
    expect(claireKeys.safetyCode).toBe(asJan.keys.at(-1)?.safetyCode);
    expect(janKeys.safetyCode).toBe(asClaire.keys.at(-1)?.safetyCode);
  });
});
