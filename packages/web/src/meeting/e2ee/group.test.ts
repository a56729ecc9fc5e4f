import { describe, expect, it, vi } from 'vitest';
import { decryptFrame, encryptFrame, importMediaKey } from './frame';
import { MediaKeyGroup, committerOf, safetyCode, type EpochKeys } from './group';
import { FakeMeeting, meetingId } from './relay.test-support';

const ids = {
  claire: '00000000-0000-4000-8000-00000000000c',
  jan: '00000000-0000-4000-8000-00000000000a',
  lucas: '00000000-0000-4000-8000-00000000000b',
};

function sameEpoch(meeting: FakeMeeting, who: string[]): EpochKeys {
  const first = meeting.latest(who[0] ?? '');
  if (!first) throw new Error('no keys');
  for (const id of who) {
    const keys = meeting.latest(id);
    expect(keys?.epoch).toBe(first.epoch);
    expect(keys?.safetyCode).toBe(first.safetyCode);
    expect([...(keys?.keys ?? [])]).toEqual([...first.keys]);
  }
  return first;
}

describe('choosing the committer', () => {
  it('is the participant present longest, whatever the roster order', () => {
    const roster = [
      { id: 'b', joinedAt: '2026-11-25T10:00:02.000Z' },
      { id: 'a', joinedAt: '2026-11-25T10:00:01.000Z' },
      { id: 'c', joinedAt: '2026-11-25T10:00:03.000Z' },
    ];
    expect(committerOf(roster)).toBe('a');
    expect(committerOf([...roster].reverse())).toBe('a');
    expect(committerOf([])).toBeUndefined();
  });

  it('breaks a tie on the arrival time by participant id', () => {
    const at = '2026-11-25T10:00:00.000Z';
    expect(
      committerOf([
        { id: 'y', joinedAt: at },
        { id: 'x', joinedAt: at },
      ]),
    ).toBe('x');
  });
});

describe('the safety code', () => {
  it('is twelve digits in three groups, the same for the same authenticator', () => {
    const a = new Uint8Array(32).fill(7);
    expect(safetyCode(a)).toMatch(/^\d{4} \d{4} \d{4}$/);
    expect(safetyCode(a)).toBe(safetyCode(new Uint8Array(32).fill(7)));
    expect(safetyCode(a)).not.toBe(safetyCode(new Uint8Array(32).fill(8)));
  });
});

describe('media keys agreed with MLS between the participants only', () => {
  it('gives everyone present the same epoch, keys and safety code, one epoch per change', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    await meeting.settle();
    expect(meeting.latest(ids.claire)?.epoch).toBe(0);

    meeting.join(ids.jan);
    await meeting.settle();
    const two = sameEpoch(meeting, [ids.claire, ids.jan]);
    expect(two.epoch).toBe(1);
    expect(two.keys.size).toBe(2);

    meeting.join(ids.lucas);
    await meeting.settle();
    const three = sameEpoch(meeting, [ids.claire, ids.jan, ids.lucas]);
    expect(three.epoch).toBe(2);
    expect(new Set(three.members.values())).toEqual(new Set(Object.values(ids)));
    expect(three.safetyCode).not.toBe(two.safetyCode);
    for (const c of meeting.clients.values()) expect(c.failures).toEqual([]);
  });

  it('gives each sender its own key, and its own leaf to encrypt with', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    const claire = meeting.latest(ids.claire);
    const jan = meeting.latest(ids.jan);
    expect(claire?.ownLeaf).not.toBe(jan?.ownLeaf);
    const [k0, k1] = [...(claire?.keys.values() ?? [])];
    expect(k0).not.toEqual(k1);
  });

  it('locks a removed participant out of what is sent after their removal', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    meeting.join(ids.lucas);
    await meeting.settle();
    const before = sameEpoch(meeting, [ids.claire, ids.jan, ids.lucas]);
    const lucasKnew = meeting.latest(ids.lucas);

    meeting.leave(ids.lucas);
    await meeting.settle();
    const after = sameEpoch(meeting, [ids.claire, ids.jan]);
    expect(after.epoch).toBe(before.epoch + 1);
    expect(after.keys.size).toBe(2);

    // Claire's next frame, under the new epoch: nothing Lucas held opens it.
    const claireKey = after.keys.get(after.ownLeaf);
    if (!claireKey || !lucasKnew) throw new Error('no keys');
    const frame = new Uint8Array(200).fill(42).buffer;
    const sealed = await encryptFrame(
      frame,
      { epoch: after.epoch, leaf: after.ownLeaf, key: await importMediaKey(claireKey) },
      3,
    );
    for (const old of lucasKnew.keys.values())
      await expect(decryptFrame(sealed, await importMediaKey(old))).rejects.toThrow();
    // Jan opens it with the key of Claire's leaf.
    const jan = meeting.latest(ids.jan)?.keys.get(after.ownLeaf);
    if (!jan) throw new Error('no key');
    expect(new Uint8Array(await decryptFrame(sealed, await importMediaKey(jan)))).toEqual(
      new Uint8Array(frame),
    );
  });

  it('hands the commits over when the committer leaves, and goes on', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    meeting.leave(ids.claire);
    await meeting.settle();
    // Jan is now longest present: he removed Claire's leaf himself.
    expect(meeting.latest(ids.jan)?.keys.size).toBe(1);
    meeting.join(ids.lucas);
    await meeting.settle();
    const keys = sameEpoch(meeting, [ids.jan, ids.lucas]);
    expect(new Set(keys.members.values())).toEqual(new Set([ids.jan, ids.lucas]));
  });

  it('brings back a participant who lost step, with a fresh leaf', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    meeting.join(ids.jan);
    await meeting.settle();
    // Jan misses the commit that adds Lucas, so he cannot apply the next one.
    meeting.deaf.add(ids.jan);
    meeting.join(ids.lucas);
    await meeting.settle();
    meeting.deaf.clear();
    expect(meeting.latest(ids.jan)?.epoch).toBe(1);
    meeting.leave(ids.lucas);
    await meeting.settle();
    // He sent a fresh KeyPackage; Claire replaced his leaf; both are in step again.
    const keys = sameEpoch(meeting, [ids.claire, ids.jan]);
    expect(keys.epoch).toBeGreaterThan(3);
    expect(new Set(keys.members.values())).toEqual(new Set([ids.claire, ids.jan]));
    for (const c of meeting.clients.values()) expect(c.failures).toEqual([]);
  });

  it('adds a burst of arrivals in one commit, one new epoch for all of them', async () => {
    const meeting = new FakeMeeting(50);
    meeting.join(ids.claire);
    await meeting.settle();
    await vi.waitFor(() => expect(meeting.latest(ids.claire)?.epoch).toBe(0));
    meeting.join(ids.jan);
    meeting.join(ids.lucas);
    await meeting.settle();
    // Claire waits for the batch: nothing is committed at once.
    expect(meeting.latest(ids.claire)?.epoch).toBe(0);
    await vi.waitFor(async () => {
      await meeting.settle();
      expect(meeting.latest(ids.lucas)?.epoch).toBe(1);
      expect(meeting.latest(ids.jan)?.epoch).toBe(1);
    });
    const keys = sameEpoch(meeting, [ids.claire, ids.jan, ids.lucas]);
    expect(keys.epoch).toBe(1);
    expect(keys.members.size).toBe(3);
    for (const c of meeting.clients.values()) expect(c.failures).toEqual([]);
  });

  it('refuses a KeyPackage whose credential names someone other than its sender', async () => {
    const meeting = new FakeMeeting();
    meeting.join(ids.claire);
    await meeting.settle();
    const claire = meeting.clients.get(ids.claire);
    // Another client's KeyPackage, replayed under Jan's name by a server that lies.
    const other = new FakeMeeting();
    let stolen = '';
    const thief = new MediaKeyGroup(ids.lucas, meetingId, {
      send: (message) => {
        if (message.type === 'e2ee.keypackage') stolen = message.data;
      },
      keys: () => undefined,
      failed: () => undefined,
    });
    await thief.start();
    expect(other.relayed).toBe(0);
    await claire?.group.setRoster([
      { id: ids.claire, joinedAt: '2026-01-01T00:00:00.000Z' },
      { id: ids.jan, joinedAt: '2026-01-01T00:00:01.000Z' },
    ]);
    await claire?.group.receive({ type: 'e2ee.keypackage', from: ids.jan, data: stolen });
    expect(meeting.latest(ids.claire)?.epoch).toBe(0);
    expect(claire?.group.members().size).toBe(1);
  });
});
