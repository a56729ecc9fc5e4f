import { and, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditHead, auditLog } from '../db/schema.js';
import { GENESIS_HASH, entryHash, type ChainedFields, type StoredEntry } from './chain.js';

/** Serialises appends across processes sharing one PostgreSQL (any constant works; this one spells "audit"). */
const AUDIT_LOCK_KEY = 0x61756469;

export type NewEntry = Omit<ChainedFields, 'seq'>;

export class AuditRepository {
  /**
   * @param sharedDatabase true when other processes may append too (PostgreSQL): appends then
   *   take an advisory lock. PGlite has one connection whose transactions already run one at a time.
   */
  constructor(
    private readonly db: Db,
    private readonly sharedDatabase = true,
  ) {}

  async append(entry: NewEntry): Promise<StoredEntry> {
    return this.db.transaction(async (tx) => {
      if (this.sharedDatabase) await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
      const [head] = await tx.select().from(auditHead).where(eq(auditHead.id, 1));
      const seq = (head?.seq ?? 0) + 1;
      const prevHash = head?.hash ?? GENESIS_HASH;
      const fields: ChainedFields = { ...entry, seq };
      const hash = entryHash(fields, prevHash);
      await tx.insert(auditLog).values({ ...fields, prevHash, hash });
      await tx
        .insert(auditHead)
        .values({ id: 1, seq, hash })
        .onConflictDoUpdate({ target: auditHead.id, set: { seq, hash } });
      return { ...fields, prevHash, hash };
    });
  }

  async list(limit: number, before: number | undefined): Promise<StoredEntry[]> {
    return this.db
      .select()
      .from(auditLog)
      .where(before === undefined ? undefined : lt(auditLog.seq, before))
      .orderBy(desc(auditLog.seq))
      .limit(limit);
  }

  /** Reads the whole log in `seq` order, page by page, so verification runs in bounded memory. */
  async *scan(pageSize = 1000): AsyncGenerator<StoredEntry> {
    let after = 0;
    for (;;) {
      const page = await this.db
        .select()
        .from(auditLog)
        .where(and(gt(auditLog.seq, after)))
        .orderBy(auditLog.seq)
        .limit(pageSize);
      for (const row of page) yield row;
      const last = page.at(-1);
      if (!last || page.length < pageSize) return;
      after = last.seq;
    }
  }

  async head(): Promise<{ seq: number; hash: string } | undefined> {
    const [head] = await this.db.select().from(auditHead).where(eq(auditHead.id, 1));
    return head;
  }
}
