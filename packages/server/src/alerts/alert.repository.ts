import { desc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { alerts } from '../db/schema.js';

export type AlertRow = typeof alerts.$inferSelect;
export type NewAlertRow = typeof alerts.$inferInsert;

export class AlertRepository {
  constructor(private readonly db: Db) {}

  async insert(row: NewAlertRow): Promise<AlertRow> {
    const [inserted] = await this.db.insert(alerts).values(row).returning();
    if (!inserted) throw new Error('alert insert returned nothing');
    return inserted;
  }

  async list(status: 'open' | 'acknowledged' | 'all', limit: number): Promise<AlertRow[]> {
    const where =
      status === 'open'
        ? isNull(alerts.acknowledgedAt)
        : status === 'acknowledged'
          ? isNotNull(alerts.acknowledgedAt)
          : undefined;
    return this.db.select().from(alerts).where(where).orderBy(desc(alerts.createdAt)).limit(limit);
  }

  async acknowledge(id: string, by: string, at: Date): Promise<AlertRow | undefined> {
    const [row] = await this.db
      .update(alerts)
      .set({ acknowledgedAt: at, acknowledgedBy: by })
      .where(eq(alerts.id, id))
      .returning();
    return row;
  }

  async get(id: string): Promise<AlertRow | undefined> {
    const [row] = await this.db.select().from(alerts).where(eq(alerts.id, id));
    return row;
  }
}
