/**
 * The only place that touches the meetings tables. Agents are referred to by id; their
 * names and units come from the identity service, never from its tables.
 */
import { and, asc, eq, inArray, isNull, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { meetingMembers, meetings, meetingUnits } from '../db/schema.js';

export type MeetingRow = typeof meetings.$inferSelect;
export type NewMeetingRow = typeof meetings.$inferInsert;

export interface MeetingRecord {
  row: MeetingRow;
  hostIds: string[];
  inviteeIds: string[];
  units: string[];
}

export class MeetingsRepository {
  constructor(private readonly db: Db) {}

  async create(
    row: NewMeetingRow,
    hostIds: string[],
    inviteeIds: string[],
    units: string[],
  ): Promise<MeetingRecord> {
    return this.db.transaction(async (tx) => {
      const [created] = await tx.insert(meetings).values(row).returning();
      if (!created) throw new Error('meeting insert returned nothing');
      const members = [
        ...hostIds.map((agentId) => ({ meetingId: created.id, agentId, role: 'host' as const })),
        ...inviteeIds
          .filter((id) => !hostIds.includes(id))
          .map((agentId) => ({ meetingId: created.id, agentId, role: 'invitee' as const })),
      ];
      if (members.length > 0) await tx.insert(meetingMembers).values(members);
      if (units.length > 0)
        await tx.insert(meetingUnits).values(units.map((unit) => ({ meetingId: created.id, unit })));
      return { row: created, hostIds, inviteeIds: inviteeIds.filter((id) => !hostIds.includes(id)), units };
    });
  }

  async byId(id: string): Promise<MeetingRecord | undefined> {
    const [row] = await this.db.select().from(meetings).where(eq(meetings.id, id));
    return row ? this.withMembers(row) : undefined;
  }

  async byLinkId(linkId: string): Promise<MeetingRecord | undefined> {
    const [row] = await this.db.select().from(meetings).where(eq(meetings.linkId, linkId));
    return row ? this.withMembers(row) : undefined;
  }

  /** The link ids of every meeting not yet ended (to match a link misread by OCR). */
  async openLinks(): Promise<{ id: string; linkId: string }[]> {
    return this.db
      .select({ id: meetings.id, linkId: meetings.linkId })
      .from(meetings)
      .where(isNull(meetings.endedAt));
  }

  /** Meetings an agent hosts or is invited to, directly or through their unit. */
  async forAgent(agentId: string, unit: string): Promise<MeetingRecord[]> {
    const direct = this.db
      .select({ id: meetingMembers.meetingId })
      .from(meetingMembers)
      .where(eq(meetingMembers.agentId, agentId));
    const byUnit = this.db
      .select({ id: meetingUnits.meetingId })
      .from(meetingUnits)
      .where(eq(meetingUnits.unit, unit));
    const rows = await this.db
      .select()
      .from(meetings)
      .where(
        unit === ''
          ? inArray(meetings.id, direct)
          : or(inArray(meetings.id, direct), inArray(meetings.id, byUnit)),
      )
      .orderBy(asc(meetings.startsAt))
      .limit(500);
    return Promise.all(rows.map((r) => this.withMembers(r)));
  }

  async update(id: string, set: Partial<NewMeetingRow>): Promise<MeetingRecord | undefined> {
    const [row] = await this.db.update(meetings).set(set).where(eq(meetings.id, id)).returning();
    return row ? this.withMembers(row) : undefined;
  }

  /** Makes an agent a host of the meeting (a co-host promoted during the meeting). */
  async addHost(meetingId: string, agentId: string): Promise<void> {
    await this.db
      .insert(meetingMembers)
      .values({ meetingId, agentId, role: 'host' })
      .onConflictDoUpdate({
        target: [meetingMembers.meetingId, meetingMembers.agentId],
        set: { role: 'host' },
      });
  }

  async removeMember(meetingId: string, agentId: string): Promise<void> {
    await this.db
      .delete(meetingMembers)
      .where(and(eq(meetingMembers.meetingId, meetingId), eq(meetingMembers.agentId, agentId)));
  }

  private async withMembers(row: MeetingRow): Promise<MeetingRecord> {
    const [members, units] = await Promise.all([
      this.db.select().from(meetingMembers).where(eq(meetingMembers.meetingId, row.id)),
      this.db.select().from(meetingUnits).where(eq(meetingUnits.meetingId, row.id)),
    ]);
    return {
      row,
      hostIds: members.filter((m) => m.role === 'host').map((m) => m.agentId),
      inviteeIds: members.filter((m) => m.role === 'invitee').map((m) => m.agentId),
      units: units.map((u) => u.unit),
    };
  }
}
