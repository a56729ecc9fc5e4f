/** The spyware check's indicator sets: each imported STIX bundle, its text kept whole. */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { spywareIndicatorSets } from '../../db/schema.js';

export type IndicatorSetRow = typeof spywareIndicatorSets.$inferSelect;
export type NewIndicatorSetRow = Omit<typeof spywareIndicatorSets.$inferInsert, 'id'>;

export class IndicatorStoreRepository {
  constructor(private readonly db: Db) {}

  /** Every stored set with its bundle's text, in name order: what the store reads at start. */
  list(): Promise<IndicatorSetRow[]> {
    return this.db.select().from(spywareIndicatorSets).orderBy(asc(spywareIndicatorSets.name));
  }

  /** Stores the set, or replaces the one of the same name (keeping its id). */
  async save(row: NewIndicatorSetRow): Promise<IndicatorSetRow> {
    const [saved] = await this.db
      .insert(spywareIndicatorSets)
      .values(row)
      .onConflictDoUpdate({ target: spywareIndicatorSets.name, set: row })
      .returning();
    if (!saved) throw new Error('indicator set upsert returned nothing');
    return saved;
  }

  /** Deletes the set; the row deleted, or undefined when there was none. */
  async delete(id: string): Promise<IndicatorSetRow | undefined> {
    const [row] = await this.db
      .delete(spywareIndicatorSets)
      .where(eq(spywareIndicatorSets.id, id))
      .returning();
    return row;
  }
}
