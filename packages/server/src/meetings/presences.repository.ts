/**
 * The only place that touches `meeting_presences`: who is in a running meeting, written as
 * people join and leave, read back when a meeting's room opens again after a restart of the
 * server (see `MeetingRoom`'s restore). Rows are parsed when read: one that no longer fits
 * the contract is skipped, never half-used.
 */
import { Participant } from '@rempart/core';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { meetingPresences, meetingStandings } from '../db/schema.js';
import type { Standing } from './admission.js';
import type { Member } from './meeting-room.js';

/** A host's decision about a person, as kept (`none` is no row). */
export type Decided = Exclude<Standing, 'none'>;
const DECIDED: ReadonlySet<string> = new Set<Decided>(['admitted', 'denied', 'removed']);

export interface StoredPresence {
  participant: Participant;
  member: Member;
}

const StoredMember = z.object({
  personKey: z.string(),
  holder: z.string(),
  agentId: z.string().nullable(),
  sessionId: z.string().nullable(),
  displayName: z.string(),
  unit: z.string(),
  email: z.string(),
  guest: z.boolean(),
  mfaAt: z.iso
    .datetime()
    .nullable()
    .transform((at) => (at === null ? null : new Date(at))),
  invited: z.boolean(),
  ip: z.string(),
});
const Stored = z.object({ participant: Participant, member: StoredMember });

export class PresencesRepository {
  constructor(private readonly db: Db) {}

  async save(meetingId: string, presence: StoredPresence, at: Date): Promise<void> {
    const row = {
      participantId: presence.participant.id,
      meetingId,
      presence: {
        ...presence,
        member: { ...presence.member, mfaAt: presence.member.mfaAt?.toISOString() ?? null },
      },
      savedAt: at,
    };
    await this.db
      .insert(meetingPresences)
      .values(row)
      .onConflictDoUpdate({
        target: meetingPresences.participantId,
        set: { presence: row.presence, savedAt: at },
      });
  }

  async forget(participantId: string): Promise<void> {
    await this.db.delete(meetingPresences).where(eq(meetingPresences.participantId, participantId));
  }

  /** Forgets a meeting's presences and its hosts' decisions (it has ended: nobody joins again). */
  async forgetMeeting(meetingId: string): Promise<void> {
    await this.db.delete(meetingPresences).where(eq(meetingPresences.meetingId, meetingId));
    await this.db.delete(meetingStandings).where(eq(meetingStandings.meetingId, meetingId));
  }

  async saveStanding(meetingId: string, personKey: string, standing: Decided, at: Date): Promise<void> {
    await this.db
      .insert(meetingStandings)
      .values({ meetingId, personKey, standing, decidedAt: at })
      .onConflictDoUpdate({
        target: [meetingStandings.meetingId, meetingStandings.personKey],
        set: { standing, decidedAt: at },
      });
  }

  /** The hosts' decisions in a meeting, by person key; a row of an unknown standing is skipped. */
  async standingsOf(meetingId: string): Promise<Map<string, Standing>> {
    const rows = await this.db
      .select({ personKey: meetingStandings.personKey, standing: meetingStandings.standing })
      .from(meetingStandings)
      .where(eq(meetingStandings.meetingId, meetingId));
    const standings = new Map<string, Standing>();
    for (const row of rows) if (DECIDED.has(row.standing)) standings.set(row.personKey, row.standing);
    return standings;
  }

  async ofMeeting(meetingId: string): Promise<StoredPresence[]> {
    const rows = await this.db
      .select({ presence: meetingPresences.presence })
      .from(meetingPresences)
      .where(eq(meetingPresences.meetingId, meetingId));
    const presences: StoredPresence[] = [];
    for (const row of rows) {
      const parsed = Stored.safeParse(row.presence);
      if (parsed.success) presences.push(parsed.data);
    }
    return presences;
  }
}
