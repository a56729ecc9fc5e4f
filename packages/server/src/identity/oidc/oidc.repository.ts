/** The only place that touches the OpenID provider's tables: its artifacts, clients and keys. */
import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { oidcClients, oidcKeys, oidcPayloads } from '../../db/schema.js';

export type OidcClientRow = typeof oidcClients.$inferSelect;
export type OidcKeyRow = typeof oidcKeys.$inferSelect;
export type OidcPayload = Record<string, unknown>;

export class OidcRepository {
  constructor(private readonly db: Db) {}

  // ---- artifacts (oidc-provider's adapter) ----

  async upsert(kind: string, id: string, payload: OidcPayload, expiresAt: Date | null): Promise<void> {
    const row = {
      kind,
      id,
      payload,
      grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
      userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      expiresAt,
    };
    await this.db
      .insert(oidcPayloads)
      .values(row)
      .onConflictDoUpdate({ target: [oidcPayloads.kind, oidcPayloads.id], set: row });
  }

  async find(kind: string, id: string, now: Date) {
    const [row] = await this.db
      .select()
      .from(oidcPayloads)
      .where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads.id, id), live(now)));
    return row;
  }

  async findBy(kind: string, column: 'uid' | 'userCode', value: string, now: Date) {
    const [row] = await this.db
      .select()
      .from(oidcPayloads)
      .where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads[column], value), live(now)));
    return row;
  }

  async consume(kind: string, id: string, at: Date): Promise<void> {
    await this.db
      .update(oidcPayloads)
      .set({ consumedAt: at })
      .where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads.id, id)));
  }

  async destroy(kind: string, id: string): Promise<void> {
    await this.db.delete(oidcPayloads).where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads.id, id)));
  }

  /** A grant's every artifact, whatever its kind (codes, tokens): revoking a grant revokes them all. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.delete(oidcPayloads).where(eq(oidcPayloads.grantId, grantId));
  }

  /** The provider's live sessions of one agent. */
  async sessionsOf(accountId: string, now: Date) {
    return this.db
      .select()
      .from(oidcPayloads)
      .where(
        and(
          eq(oidcPayloads.kind, 'Session'),
          sql`${oidcPayloads.payload}->>'accountId' = ${accountId}`,
          live(now),
        ),
      );
  }

  async deleteExpired(now: Date): Promise<number> {
    const rows = await this.db
      .delete(oidcPayloads)
      .where(lt(oidcPayloads.expiresAt, now))
      .returning({ id: oidcPayloads.id });
    return rows.length;
  }

  // ---- clients ----

  async insertClient(row: typeof oidcClients.$inferInsert): Promise<OidcClientRow> {
    const [inserted] = await this.db.insert(oidcClients).values(row).returning();
    if (!inserted) throw new Error('client not inserted');
    return inserted;
  }

  async client(id: string): Promise<OidcClientRow | undefined> {
    const [row] = await this.db.select().from(oidcClients).where(eq(oidcClients.id, id));
    return row;
  }

  async clients(): Promise<OidcClientRow[]> {
    return this.db.select().from(oidcClients).orderBy(asc(oidcClients.name));
  }

  async updateClient(
    id: string,
    set: Partial<typeof oidcClients.$inferInsert>,
  ): Promise<OidcClientRow | undefined> {
    const [row] = await this.db.update(oidcClients).set(set).where(eq(oidcClients.id, id)).returning();
    return row;
  }

  // ---- keys ----

  async insertKey(row: typeof oidcKeys.$inferInsert): Promise<void> {
    await this.db.insert(oidcKeys).values(row);
  }

  /** Published keys, newest first: the first signs. */
  async liveKeys(): Promise<OidcKeyRow[]> {
    return this.db
      .select()
      .from(oidcKeys)
      .where(isNull(oidcKeys.retiredAt))
      .orderBy(desc(oidcKeys.createdAt));
  }

  async markRotated(kid: string, at: Date): Promise<void> {
    await this.db
      .update(oidcKeys)
      .set({ rotatedAt: at })
      .where(and(eq(oidcKeys.kid, kid), isNull(oidcKeys.rotatedAt)));
  }

  async retire(kid: string, at: Date): Promise<void> {
    await this.db.update(oidcKeys).set({ retiredAt: at }).where(eq(oidcKeys.kid, kid));
  }
}

/** An artifact not yet expired (one without an expiry lives until it is destroyed). */
function live(now: Date) {
  return or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, now));
}
