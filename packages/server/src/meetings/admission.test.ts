import type { Classification } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideAdmission,
  EARLY_JOIN_MS,
  type AdmissionMeeting,
  type AdmissionPerson,
  type Standing,
} from './admission.js';

const NOW = new Date('2026-11-23T10:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function meeting(overrides: Partial<AdmissionMeeting> = {}): AdmissionMeeting {
  return {
    classification: 'internal',
    startsAt: minutesAgo(5),
    endsAt: new Date(NOW.getTime() + 3600_000),
    endedAt: null,
    locked: false,
    lobby: true,
    guests: false,
    hostIds: new Set(['host']),
    inviteeIds: new Set(['invitee']),
    invitedUnits: new Set(['Cabinet']),
    stepUpSeconds: 600,
    ...overrides,
  };
}

const agent = (
  id: string,
  clearance: Classification = 'secret',
  mfaMinutesAgo: number | null = 1,
  unit = 'DGSI',
): AdmissionPerson => ({
  kind: 'agent',
  id,
  unit,
  clearance,
  mfaAt: mfaMinutesAgo === null ? null : minutesAgo(mfaMinutesAgo),
});

interface Row {
  name: string;
  meeting?: Partial<AdmissionMeeting>;
  person: AdmissionPerson;
  standing?: Standing;
  now?: Date;
  expect: string;
}

const rows: Row[] = [
  // Who is asking
  { name: 'signed out', person: { kind: 'anonymous' }, expect: 'refuse:unauthenticated' },
  {
    name: 'signed out, guests allowed',
    meeting: { guests: true },
    person: { kind: 'anonymous' },
    expect: 'refuse:unauthenticated',
  },
  { name: 'invitee', person: agent('invitee'), expect: 'admit' },
  { name: 'host', person: agent('host'), expect: 'admit' },
  { name: 'invited through their unit', person: agent('x', 'secret', 1, 'Cabinet'), expect: 'admit' },
  {
    name: 'an empty unit invites nobody',
    meeting: { invitedUnits: new Set(['']) },
    person: agent('x', 'secret', 1, ''),
    expect: 'lobby',
  },
  { name: 'not invited, lobby on', person: agent('stranger'), expect: 'lobby' },
  {
    name: 'not invited, lobby off',
    meeting: { lobby: false },
    person: agent('stranger'),
    expect: 'refuse:not_invited',
  },
  {
    name: 'not invited, let in from the lobby',
    person: agent('stranger'),
    standing: 'admitted',
    expect: 'admit',
  },
  { name: 'not invited, denied', person: agent('stranger'), standing: 'denied', expect: 'refuse:denied' },
  // Clearance
  {
    name: 'clearance below',
    meeting: { classification: 'secret' },
    person: agent('invitee', 'restricted'),
    expect: 'refuse:clearance',
  },
  {
    name: 'clearance below, host',
    meeting: { classification: 'secret' },
    person: agent('host', 'internal'),
    expect: 'refuse:clearance',
  },
  {
    name: 'clearance equal',
    meeting: { classification: 'restricted' },
    person: agent('invitee', 'restricted'),
    expect: 'admit',
  },
  {
    name: 'clearance below, stranger, lobby on',
    meeting: { classification: 'restricted' },
    person: agent('stranger', 'internal'),
    expect: 'refuse:clearance',
  },
  // Step-up
  {
    name: 'restricted, MFA 9 min ago',
    meeting: { classification: 'restricted' },
    person: agent('invitee', 'secret', 9),
    expect: 'admit',
  },
  {
    name: 'restricted, MFA exactly 10 min ago',
    meeting: { classification: 'restricted' },
    person: agent('invitee', 'secret', 10),
    expect: 'admit',
  },
  {
    name: 'restricted, MFA 11 min ago',
    meeting: { classification: 'restricted' },
    person: agent('invitee', 'secret', 11),
    expect: 'step_up',
  },
  {
    name: 'secret, never MFA in this session',
    meeting: { classification: 'secret' },
    person: agent('host', 'secret', null),
    expect: 'step_up',
  },
  {
    name: 'restricted, a 5-minute policy, MFA 6 min ago',
    meeting: { classification: 'restricted', stepUpSeconds: 300 },
    person: agent('invitee', 'secret', 6),
    expect: 'step_up',
  },
  {
    name: 'a policy above 10 minutes is capped at 10',
    meeting: { classification: 'secret', stepUpSeconds: 3600 },
    person: agent('invitee', 'secret', 11),
    expect: 'step_up',
  },
  { name: 'internal, MFA 3 h ago', person: agent('invitee', 'secret', 180), expect: 'admit' },
  {
    name: 'secret, stale MFA, stranger',
    meeting: { classification: 'secret' },
    person: agent('stranger', 'secret', 60),
    expect: 'step_up',
  },
  // Locked
  { name: 'locked, invitee', meeting: { locked: true }, person: agent('invitee'), expect: 'admit' },
  { name: 'locked, stranger', meeting: { locked: true }, person: agent('stranger'), expect: 'refuse:locked' },
  {
    name: 'locked, stranger let in earlier',
    meeting: { locked: true },
    person: agent('stranger'),
    standing: 'admitted',
    expect: 'refuse:locked',
  },
  // Removed
  {
    name: 'removed invitee goes back to the lobby',
    person: agent('invitee'),
    standing: 'removed',
    expect: 'lobby',
  },
  {
    name: 'removed invitee, lobby off',
    meeting: { lobby: false },
    person: agent('invitee'),
    standing: 'removed',
    expect: 'refuse:removed',
  },
  {
    name: 'removed invitee, locked',
    meeting: { locked: true },
    person: agent('invitee'),
    standing: 'removed',
    expect: 'refuse:removed',
  },
  { name: 'removed, re-admitted by a host', person: agent('invitee'), standing: 'admitted', expect: 'admit' },
  { name: 'a removed host is still a host', person: agent('host'), standing: 'removed', expect: 'admit' },
  // Time
  { name: 'ended', meeting: { endedAt: minutesAgo(1) }, person: agent('host'), expect: 'refuse:ended' },
  { name: 'past its end', meeting: { endsAt: minutesAgo(1) }, person: agent('host'), expect: 'refuse:ended' },
  {
    name: 'too early',
    meeting: { startsAt: new Date(NOW.getTime() + EARLY_JOIN_MS + 1000) },
    person: agent('invitee'),
    expect: 'refuse:not_started',
  },
  {
    name: 'within the early window',
    meeting: { startsAt: new Date(NOW.getTime() + EARLY_JOIN_MS - 1000) },
    person: agent('invitee'),
    expect: 'admit',
  },
  {
    name: 'ended beats everything, even signed out',
    meeting: { endedAt: minutesAgo(1) },
    person: { kind: 'anonymous' },
    expect: 'refuse:ended',
  },
  // Guests
  {
    name: 'guest, guests off',
    person: { kind: 'guest', email: 'g@example.org' },
    expect: 'refuse:guests_not_allowed',
  },
  {
    name: 'guest waits in the lobby',
    meeting: { guests: true },
    person: { kind: 'guest', email: 'g@example.org' },
    expect: 'lobby',
  },
  {
    name: 'guest admitted by a host',
    meeting: { guests: true },
    person: { kind: 'guest', email: 'g@example.org' },
    standing: 'admitted',
    expect: 'admit',
  },
  {
    name: 'guest, locked',
    meeting: { guests: true, locked: true },
    person: { kind: 'guest', email: 'g@example.org' },
    standing: 'admitted',
    expect: 'refuse:locked',
  },
  {
    name: 'guest, removed',
    meeting: { guests: true },
    person: { kind: 'guest', email: 'g@example.org' },
    standing: 'removed',
    expect: 'refuse:removed',
  },
  {
    name: 'guest, restricted meeting with guests on',
    meeting: { guests: true, classification: 'restricted' },
    person: { kind: 'guest', email: 'g@example.org' },
    expect: 'refuse:guests_not_allowed',
  },
];

describe('decideAdmission', () => {
  it.each(rows)('$name → $expect', (row) => {
    const decision = decideAdmission({
      meeting: meeting(row.meeting),
      person: row.person,
      standing: row.standing ?? 'none',
      now: row.now ?? NOW,
    });
    const got = decision.outcome === 'refuse' ? `refuse:${decision.reason}` : decision.outcome;
    expect(got).toBe(row.expect);
  });

  const arbitraryMeeting = fc.record({
    classification: fc.constantFrom<Classification>('public', 'internal', 'restricted', 'secret'),
    startsAt: fc.integer({ min: -180, max: 180 }).map(minutesAgo),
    endsAt: fc.integer({ min: -180, max: 180 }).map(minutesAgo),
    endedAt: fc.option(fc.constant(minutesAgo(1)), { nil: null }),
    locked: fc.boolean(),
    lobby: fc.boolean(),
    guests: fc.boolean(),
    hostIds: fc.constant(new Set(['host'])),
    inviteeIds: fc.constant(new Set(['invitee'])),
    invitedUnits: fc.constant(new Set(['Cabinet'])),
    stepUpSeconds: fc.constantFrom(60, 300, 600, 3600),
  });
  const arbitraryPerson: fc.Arbitrary<AdmissionPerson> = fc.oneof(
    fc.constant({ kind: 'anonymous' as const }),
    fc.constant({ kind: 'guest' as const, email: 'g@example.org' }),
    fc.record({
      kind: fc.constant('agent' as const),
      id: fc.constantFrom('host', 'invitee', 'stranger'),
      unit: fc.constantFrom('', 'Cabinet', 'DGSI'),
      clearance: fc.constantFrom<Classification>('public', 'internal', 'restricted', 'secret'),
      mfaAt: fc.option(fc.integer({ min: 0, max: 60 }).map(minutesAgo), { nil: null }),
    }),
  );
  const arbitraryStanding = fc.constantFrom<Standing>('none', 'admitted', 'denied', 'removed');

  it('never admits anyone to a meeting that is over, nor without clearance or fresh MFA', () => {
    fc.assert(
      fc.property(arbitraryMeeting, arbitraryPerson, arbitraryStanding, (m, person, standing) => {
        const d = decideAdmission({ meeting: m, person, standing, now: NOW });
        if (d.outcome !== 'admit') return;
        expect(m.endedAt).toBeNull();
        expect(m.endsAt.getTime()).toBeGreaterThan(NOW.getTime());
        expect(person.kind).not.toBe('anonymous');
        if (person.kind === 'agent') {
          const rank = ['public', 'internal', 'restricted', 'secret'];
          expect(rank.indexOf(person.clearance)).toBeGreaterThanOrEqual(rank.indexOf(m.classification));
          if (m.classification === 'restricted' || m.classification === 'secret') {
            expect(person.mfaAt).not.toBeNull();
            expect(NOW.getTime() - (person.mfaAt?.getTime() ?? 0)).toBeLessThanOrEqual(
              Math.min(m.stepUpSeconds, 600) * 1000,
            );
          }
          // A locked meeting admits only hosts and invitees.
          if (m.locked)
            expect(['host', 'invitee'].includes(person.id) || person.unit === 'Cabinet').toBe(true);
        } else if (person.kind === 'guest') {
          expect(m.guests).toBe(true);
          expect(standing).toBe('admitted');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never puts anyone in the lobby of a locked meeting or one whose lobby is off', () => {
    fc.assert(
      fc.property(arbitraryMeeting, arbitraryPerson, arbitraryStanding, (m, person, standing) => {
        const d = decideAdmission({ meeting: m, person, standing, now: NOW });
        if (d.outcome === 'lobby') {
          expect(m.locked).toBe(false);
          if (person.kind === 'agent') expect(m.lobby).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
