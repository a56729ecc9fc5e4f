/** The only place that touches the identity tables. */
import { and, asc, count, eq, gt, ilike, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  agents,
  enrolmentTokens,
  factors,
  recoveryCodes,
  sessions,
  throttles,
  webauthnChallenges,
} from '../db/schema.js';
import type { ThrottleState } from './throttle.js';

export type AgentRow = typeof agents.$inferSelect;
export type NewAgentRow = typeof agents.$inferInsert;
export type FactorRow = typeof factors.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type ChallengeRow = typeof webauthnChallenges.$inferSelect;

export class IdentityRepository {
  constructor(private readonly db: Db) {}

  // ---- agents ----

  async insertAgent(row: NewAgentRow): Promise<AgentRow | undefined> {
    const [inserted] = await this.db.insert(agents).values(row).onConflictDoNothing().returning();
    return inserted;
  }

  async agentById(id: string): Promise<AgentRow | undefined> {
    const [row] = await this.db.select().from(agents).where(eq(agents.id, id));
    return row;
  }

  async agentByEmail(email: string): Promise<AgentRow | undefined> {
    const [row] = await this.db.select().from(agents).where(eq(agents.email, email));
    return row;
  }

  async agentByWebauthnUserId(userId: Uint8Array): Promise<AgentRow | undefined> {
    const [row] = await this.db.select().from(agents).where(eq(agents.webauthnUserId, userId));
    return row;
  }

  async agentsByEmails(emails: string[]): Promise<AgentRow[]> {
    if (emails.length === 0) return [];
    return this.db.select().from(agents).where(inArray(agents.email, emails));
  }

  async agentsByIds(ids: string[]): Promise<AgentRow[]> {
    return this.db.select().from(agents).where(inArray(agents.id, ids));
  }

  async searchActiveAgents(query: string, limit: number): Promise<AgentRow[]> {
    // ILIKE patterns: the user's % and _ are literal.
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.db
      .select()
      .from(agents)
      .where(
        and(
          eq(agents.status, 'active'),
          or(ilike(agents.displayName, pattern), ilike(agents.email, pattern), ilike(agents.unit, pattern)),
        ),
      )
      .orderBy(asc(agents.displayName))
      .limit(limit);
  }

  async activeUnits(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ unit: agents.unit })
      .from(agents)
      .where(and(eq(agents.status, 'active'), ne(agents.unit, '')))
      .orderBy(asc(agents.unit));
    return rows.map((r) => r.unit);
  }

  async listAgents(): Promise<AgentRow[]> {
    return this.db.select().from(agents).orderBy(agents.displayName);
  }

  async updateAgent(id: string, set: Partial<NewAgentRow>): Promise<AgentRow | undefined> {
    const [row] = await this.db.update(agents).set(set).where(eq(agents.id, id)).returning();
    return row;
  }

  async countAdmins(): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(agents)
      .where(and(eq(agents.role, 'admin'), ne(agents.status, 'disabled')));
    return row?.n ?? 0;
  }

  async factorCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ agentId: factors.agentId, n: count() })
      .from(factors)
      .where(eq(factors.confirmed, true))
      .groupBy(factors.agentId);
    return new Map(rows.map((r) => [r.agentId, r.n]));
  }

  // ---- enrolment links ----

  /** Issues a new link and voids any earlier unused one of the same agent. */
  async replaceEnrolmentToken(agentId: string, tokenHash: string, now: Date, expiresAt: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .update(enrolmentTokens)
        .set({ usedAt: now })
        .where(and(eq(enrolmentTokens.agentId, agentId), isNull(enrolmentTokens.usedAt)));
      await tx.insert(enrolmentTokens).values({ agentId, tokenHash, createdAt: now, expiresAt });
    });
  }

  async liveEnrolmentToken(tokenHash: string, now: Date) {
    const [row] = await this.db
      .select()
      .from(enrolmentTokens)
      .where(
        and(
          eq(enrolmentTokens.tokenHash, tokenHash),
          isNull(enrolmentTokens.usedAt),
          gt(enrolmentTokens.expiresAt, now),
        ),
      );
    return row;
  }

  /** Marks the link used; false when another request used it first (single use). */
  async consumeEnrolmentToken(id: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(enrolmentTokens)
      .set({ usedAt: now })
      .where(and(eq(enrolmentTokens.id, id), isNull(enrolmentTokens.usedAt)))
      .returning({ id: enrolmentTokens.id });
    return rows.length === 1;
  }

  // ---- factors ----

  async insertFactor(row: typeof factors.$inferInsert): Promise<FactorRow> {
    const [inserted] = await this.db.insert(factors).values(row).returning();
    if (!inserted) throw new Error('factor insert returned nothing');
    return inserted;
  }

  async factorsOf(agentId: string, onlyConfirmed = true): Promise<FactorRow[]> {
    return this.db
      .select()
      .from(factors)
      .where(and(eq(factors.agentId, agentId), onlyConfirmed ? eq(factors.confirmed, true) : undefined))
      .orderBy(factors.createdAt);
  }

  async factorById(id: string): Promise<FactorRow | undefined> {
    const [row] = await this.db.select().from(factors).where(eq(factors.id, id));
    return row;
  }

  async factorByCredentialId(credentialId: string): Promise<FactorRow | undefined> {
    const [row] = await this.db.select().from(factors).where(eq(factors.credentialId, credentialId));
    return row;
  }

  async updateFactor(id: string, set: Partial<typeof factors.$inferInsert>): Promise<void> {
    await this.db.update(factors).set(set).where(eq(factors.id, id));
  }

  /**
   * Records an accepted TOTP step only if it is newer than the stored one, atomically,
   * so two requests racing with the same code cannot both pass (RFC 6238 §5.2).
   */
  async advanceTotpStep(id: string, step: number, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(factors)
      .set({ totpLastStep: step, lastUsedAt: now })
      .where(and(eq(factors.id, id), or(isNull(factors.totpLastStep), lt(factors.totpLastStep, step))))
      .returning({ id: factors.id });
    return rows.length === 1;
  }

  async deleteFactor(id: string): Promise<void> {
    await this.db.delete(factors).where(eq(factors.id, id));
  }

  async deleteUnconfirmedTotp(agentId: string): Promise<void> {
    await this.db
      .delete(factors)
      .where(and(eq(factors.agentId, agentId), eq(factors.kind, 'totp'), eq(factors.confirmed, false)));
  }

  async deleteAllFactors(agentId: string): Promise<void> {
    await this.db.delete(factors).where(eq(factors.agentId, agentId));
    await this.db.delete(recoveryCodes).where(eq(recoveryCodes.agentId, agentId));
  }

  // ---- recovery codes ----

  async replaceRecoveryCodes(agentId: string, hashes: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.agentId, agentId));
      await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ agentId, codeHash })));
    });
  }

  async useRecoveryCode(agentId: string, codeHash: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(recoveryCodes)
      .set({ usedAt: now })
      .where(
        and(
          eq(recoveryCodes.agentId, agentId),
          eq(recoveryCodes.codeHash, codeHash),
          isNull(recoveryCodes.usedAt),
        ),
      )
      .returning({ id: recoveryCodes.id });
    return rows.length === 1;
  }

  async recoveryCodesLeft(agentId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.agentId, agentId), isNull(recoveryCodes.usedAt)));
    return row?.n ?? 0;
  }

  // ---- sessions ----

  async insertSession(row: typeof sessions.$inferInsert): Promise<SessionRow> {
    const [inserted] = await this.db.insert(sessions).values(row).returning();
    if (!inserted) throw new Error('session insert returned nothing');
    return inserted;
  }

  async sessionByTokenHash(tokenHash: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.tokenHash, tokenHash));
    return row;
  }

  async updateSession(
    id: string,
    set: Partial<typeof sessions.$inferInsert>,
  ): Promise<SessionRow | undefined> {
    const [row] = await this.db.update(sessions).set(set).where(eq(sessions.id, id)).returning();
    return row;
  }

  async liveSessionsOf(agentId: string, now: Date): Promise<SessionRow[]> {
    return this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.agentId, agentId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
      .orderBy(sessions.createdAt);
  }

  async revokeSession(agentId: string, id: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.id, id), eq(sessions.agentId, agentId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.length === 1;
  }

  async revokeAllSessions(agentId: string, now: Date): Promise<number> {
    const rows = await this.db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.agentId, agentId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.length;
  }

  /** Removes sessions and challenges that can no longer be used. */
  async purgeExpired(now: Date, idleCutoff: Date): Promise<void> {
    await this.db
      .delete(sessions)
      .where(
        or(
          lt(sessions.expiresAt, now),
          lt(sessions.lastSeenAt, idleCutoff),
          sql`${sessions.revokedAt} is not null`,
        ),
      );
    await this.db.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, now));
  }

  // ---- WebAuthn challenges ----

  async insertChallenge(row: typeof webauthnChallenges.$inferInsert): Promise<ChallengeRow> {
    const [inserted] = await this.db.insert(webauthnChallenges).values(row).returning();
    if (!inserted) throw new Error('challenge insert returned nothing');
    return inserted;
  }

  /** Takes a challenge out of the store: each one is used once at most. */
  async takeChallenge(id: string, now: Date): Promise<ChallengeRow | undefined> {
    const [row] = await this.db.delete(webauthnChallenges).where(eq(webauthnChallenges.id, id)).returning();
    return row && row.expiresAt > now ? row : undefined;
  }

  // ---- throttles ----

  async throttle(key: string): Promise<ThrottleState | undefined> {
    const [row] = await this.db.select().from(throttles).where(eq(throttles.key, key));
    return row;
  }

  async saveThrottle(key: string, state: ThrottleState): Promise<void> {
    await this.db
      .insert(throttles)
      .values({ key, ...state })
      .onConflictDoUpdate({ target: throttles.key, set: state });
  }

  async clearThrottle(key: string): Promise<void> {
    await this.db.delete(throttles).where(eq(throttles.key, key));
  }
}
