import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatKeyring, chatAad } from './chat';
import { FakeMeeting, meetingId } from './relay.test-support';

const claire = '00000000-0000-4000-8000-00000000000c';
const jan = '00000000-0000-4000-8000-00000000000a';

describe('the chat keyring', () => {
  it('opens what a member sealed, and says nothing but "unreadable" of any forged blob (fuzzed)', async () => {
    const meeting = new FakeMeeting();
    meeting.join(claire);
    meeting.join(jan);
    await meeting.settle();
    const ring = new ChatKeyring(meetingId);
    for (const keys of meeting.clients.get(jan)?.keys ?? []) await ring.install(keys);
    const sender = new ChatKeyring(meetingId);
    for (const keys of meeting.clients.get(claire)?.keys ?? []) await sender.install(keys);
    const sealed = await sender.seal('Réunion à 15 h', claire);
    if (!sealed) throw new Error('not sealed');
    expect(await ring.open(sealed, claire)).toEqual({ kind: 'text', text: 'Réunion à 15 h' });

    await fc.assert(
      fc.asyncProperty(
        fc.record({
          epoch: fc.constantFrom(sealed.epoch, sealed.epoch + 1, 0),
          leaf: fc.constantFrom(sealed.leaf, 0, 1, 7),
          data: fc.uint8Array({ minLength: 0, maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')),
        }),
        async (forged) => {
          const opened = await ring.open(forged, claire);
          expect(opened.kind).not.toBe('text');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('binds the additional data to every field, without ambiguity between fields', () => {
    const base = { meetingId, from: claire, epoch: 1, leaf: 0 };
    const variants = [
      base,
      { ...base, meetingId: jan },
      { ...base, from: jan },
      { ...base, epoch: 2 },
      { ...base, leaf: 1 },
      { ...base, meetingId: `${meetingId}a`, from: claire.slice(1) },
    ];
    const encoded = new Set(variants.map((v) => Buffer.from(chatAad(v)).toString('hex')));
    expect(encoded.size).toBe(variants.length);
  });
});
