import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHAT_MAX_CHARS,
  ChatMessage,
  ClientMessage,
  CreateMeetingRequest,
  SealedChat,
  e2eeRequired,
} from './meetings.schema.js';

const meetingId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const sealedArb = fc.record({
  epoch: fc.nat({ max: 2 ** 32 - 1 }),
  leaf: fc.nat({ max: 0xffff }),
  data: fc.uint8Array({ minLength: 30, maxLength: 600 }).map(base64),
});

describe('meeting options', () => {
  it('turn end-to-end encryption on by default, and require it from restricted up', () => {
    const parsed = CreateMeetingRequest.parse({
      title: 'Cellule de crise',
      startsAt: '2026-12-01T09:00:00Z',
      endsAt: '2026-12-01T10:00:00Z',
    });
    expect(parsed.options).toEqual({ lobby: true, guests: false, e2ee: true });
    expect(['public', 'internal', 'restricted', 'secret'].map((c) => e2eeRequired(c as never))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});

describe('chat.send', () => {
  it('takes clear text or a sealed blob, never both, never neither', () => {
    const sealed = { epoch: 2, leaf: 1, data: base64(new Uint8Array(40)) };
    const parse = (body: Record<string, unknown>) =>
      ClientMessage.safeParse({ type: 'chat.send', meetingId, ...body }).success;
    expect(parse({ text: 'Bonjour' })).toBe(true);
    expect(parse({ sealed })).toBe(true);
    expect(parse({ text: 'Bonjour', sealed })).toBe(false);
    expect(parse({})).toBe(false);
    expect(parse({ sealed: { ...sealed, data: 'not base64!' } })).toBe(false);
    expect(parse({ sealed: { ...sealed, leaf: 70_000 } })).toBe(false);
    expect(parse({ sealed: { ...sealed, extra: 1 } })).toBe(false);
    expect(parse({ text: 'x'.repeat(CHAT_MAX_CHARS + 1) })).toBe(false);
  });

  it('keeps every well-formed sealed message as it came (property)', () => {
    fc.assert(
      fc.property(sealedArb, (sealed) => {
        const parsed = ClientMessage.parse({ type: 'chat.send', meetingId, sealed });
        expect(parsed).toEqual({ type: 'chat.send', meetingId, sealed });
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary input, and what it accepts is one of the two shapes (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            type: fc.constant('chat.send'),
            meetingId: fc.constantFrom(meetingId, 'x'),
            text: fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.constant(null)),
            sealed: fc.oneof(
              sealedArb,
              fc.record({ epoch: fc.double(), leaf: fc.integer(), data: fc.string() }),
              fc.anything(),
            ),
          },
          { requiredKeys: ['type'] },
        ),
        (input) => {
          const parsed = ClientMessage.safeParse(input);
          if (!parsed.success || parsed.data.type !== 'chat.send') return;
          expect((parsed.data.text === undefined) !== (parsed.data.sealed === undefined)).toBe(true);
          if (parsed.data.sealed) expect(SealedChat.safeParse(parsed.data.sealed).success).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('a chat message from the server', () => {
  it('carries text or a sealed blob', () => {
    const body = {
      id: meetingId,
      from: { participantId: meetingId, displayName: 'Jan Peeters', guest: false },
      at: '2026-12-01T09:00:00.000Z',
    };
    expect(ChatMessage.safeParse({ ...body, text: 'Bonjour' }).success).toBe(true);
    expect(
      ChatMessage.safeParse({ ...body, sealed: { epoch: 0, leaf: 0, data: base64(new Uint8Array(40)) } })
        .success,
    ).toBe(true);
    expect(ChatMessage.safeParse(body).success).toBe(false);
  });
});
