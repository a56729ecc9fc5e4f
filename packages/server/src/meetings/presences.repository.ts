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
import { meetingPresences } from '../db/schema.js';
import type { Member } from './meeting-room.js';

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

  async forgetMeeting(meetingId: string): Promise<void> {
    await this.db.delete(meetingPresences).where(eq(meetingPresences.meetingId, meetingId));
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
