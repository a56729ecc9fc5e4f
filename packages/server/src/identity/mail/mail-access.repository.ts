/** The only place that touches the mail passwords table. */
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { mailPasswords } from '../../db/schema.js';

export type MailPasswordRow = typeof mailPasswords.$inferSelect;

export class MailAccessRepository {
  constructor(private readonly db: Db) {}

  async insert(row: typeof mailPasswords.$inferInsert): Promise<MailPasswordRow> {
    const [inserted] = await this.db.insert(mailPasswords).values(row).returning();
    if (!inserted) throw new Error('mail password not inserted');
    return inserted;
  }

  async bySecretHash(secretHash: string): Promise<MailPasswordRow | undefined> {
    const [row] = await this.db.select().from(mailPasswords).where(eq(mailPasswords.secretHash, secretHash));
    return row;
  }

  async byId(id: string): Promise<MailPasswordRow | undefined> {
    const [row] = await this.db.select().from(mailPasswords).where(eq(mailPasswords.id, id));
    return row;
  }

  async ofAgent(agentId: string): Promise<MailPasswordRow[]> {
    return this.db
      .select()
      .from(mailPasswords)
      .where(eq(mailPasswords.agentId, agentId))
      .orderBy(desc(mailPasswords.createdAt));
  }

  /** Revokes one password still in force; undefined when there was none. */
  async revoke(id: string, by: string | null, at: Date): Promise<MailPasswordRow | undefined> {
    const [row] = await this.db
      .update(mailPasswords)
      .set({ revokedAt: at, revokedBy: by })
      .where(and(eq(mailPasswords.id, id), isNull(mailPasswords.revokedAt)))
      .returning();
    return row;
  }

  async recordUse(id: string, at: Date, ip: string, service: string): Promise<void> {
    await this.db
      .update(mailPasswords)
      .set({ lastUsedAt: at, lastIp: ip, lastService: service, uses: sql`${mailPasswords.uses} + 1` })
      .where(eq(mailPasswords.id, id));
  }
}
