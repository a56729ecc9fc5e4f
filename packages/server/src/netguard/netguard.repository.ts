/** The network guard's tables: groups, lists, the query log and enrolled devices. */
import { and, asc, desc, eq, getTableColumns, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { netguardDevices, netguardGroups, netguardLists, netguardQueries } from '../db/schema.js';

export type GroupRow = typeof netguardGroups.$inferSelect;
export type ListRow = typeof netguardLists.$inferSelect;
/** A list without its text, for listings. */
export type ListSummaryRow = Omit<ListRow, 'content'>;
export type QueryRow = typeof netguardQueries.$inferInsert;
export type DeviceRow = typeof netguardDevices.$inferSelect;
export type NewDeviceRow = typeof netguardDevices.$inferInsert;

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement, and a row has 12. */
const INSERT_CHUNK = 2000;

export class NetguardRepository {
  constructor(private readonly db: Db) {}

  // ------------------------------------------------------------------ groups

  listGroups(): Promise<GroupRow[]> {
    return this.db.select().from(netguardGroups).orderBy(asc(netguardGroups.id));
  }

  async getGroup(id: string): Promise<GroupRow | undefined> {
    const [row] = await this.db.select().from(netguardGroups).where(eq(netguardGroups.id, id));
    return row;
  }

  /** Creates the group, or replaces it when `id` exists. */
  async upsertGroup(row: GroupRow): Promise<GroupRow> {
    const { id: _id, ...rest } = row;
    const [saved] = await this.db
      .insert(netguardGroups)
      .values(row)
      .onConflictDoUpdate({ target: netguardGroups.id, set: rest })
      .returning();
    if (!saved) throw new Error('group upsert returned nothing');
    return saved;
  }

  /** Inserts the group only when it does not exist yet; true when it was inserted. */
  async insertGroupIfMissing(row: GroupRow): Promise<boolean> {
    const inserted = await this.db.insert(netguardGroups).values(row).onConflictDoNothing().returning();
    return inserted.length > 0;
  }

  async deleteGroup(id: string): Promise<boolean> {
    return (await this.db.delete(netguardGroups).where(eq(netguardGroups.id, id)).returning()).length > 0;
  }

  // ------------------------------------------------------------------- lists

  listLists(): Promise<ListSummaryRow[]> {
    const { content: _content, ...columns } = getTableColumns(netguardLists);
    return this.db.select(columns).from(netguardLists).orderBy(asc(netguardLists.name));
  }

  /** Every list with its text: what a reload compiles. */
  allLists(): Promise<ListRow[]> {
    return this.db.select().from(netguardLists);
  }

  async getList(id: string): Promise<ListRow | undefined> {
    const [row] = await this.db.select().from(netguardLists).where(eq(netguardLists.id, id));
    return row;
  }

  async insertList(row: typeof netguardLists.$inferInsert): Promise<ListRow> {
    const [saved] = await this.db.insert(netguardLists).values(row).returning();
    if (!saved) throw new Error('list insert returned nothing');
    return saved;
  }

  async updateList(
    id: string,
    set: Partial<typeof netguardLists.$inferInsert>,
  ): Promise<ListRow | undefined> {
    const [saved] = await this.db.update(netguardLists).set(set).where(eq(netguardLists.id, id)).returning();
    return saved;
  }

  async deleteList(id: string): Promise<boolean> {
    return (await this.db.delete(netguardLists).where(eq(netguardLists.id, id)).returning()).length > 0;
  }

  // --------------------------------------------------------------- query log

  async insertQueries(rows: QueryRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await this.db.insert(netguardQueries).values(rows.slice(i, i + INSERT_CHUNK));
    }
  }

  /** Deletes the entries older than `before`; returns how many. */
  async pruneQueries(before: Date): Promise<number> {
    return (
      await this.db
        .delete(netguardQueries)
        .where(lt(netguardQueries.at, before))
        .returning({ id: netguardQueries.id })
    ).length;
  }

  async queryTotals(
    from: Date,
  ): Promise<{ queries: number; blocked: number; cached: number; clients: number }> {
    const [row] = await this.db
      .select({
        queries: sql<number>`count(*)::int`,
        blocked: sql<number>`count(*) filter (where ${netguardQueries.action} = 'block')::int`,
        cached: sql<number>`count(*) filter (where ${netguardQueries.cached})::int`,
        clients: sql<number>`count(distinct ${netguardQueries.client})::int`,
      })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from));
    return row ?? { queries: 0, blocked: 0, cached: 0, clients: 0 };
  }

  /** Queries and blocks per bucket of `bucketSeconds`, from `from`. */
  async querySeries(
    from: Date,
    bucketSeconds: number,
  ): Promise<{ bucket: number; queries: number; blocked: number }[]> {
    // A literal, not a parameter: PostgreSQL matches GROUP BY expressions by their text, and each
    // parameter of a repeated expression has its own number.
    const seconds = sql.raw(String(Math.max(1, Math.trunc(bucketSeconds))));
    const bucket = sql<number>`floor(extract(epoch from ${netguardQueries.at}) / ${seconds})::bigint`;
    const rows = await this.db
      .select({
        bucket: bucket,
        queries: sql<number>`count(*)::int`,
        blocked: sql<number>`count(*) filter (where ${netguardQueries.action} = 'block')::int`,
      })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from))
      .groupBy(bucket)
      .orderBy(bucket);
    return rows.map((r) => ({ bucket: Number(r.bucket), queries: r.queries, blocked: r.blocked }));
  }

  topBlocked(from: Date, limit: number): Promise<{ name: string; count: number; list: string }[]> {
    return this.db
      .select({
        name: netguardQueries.name,
        count: sql<number>`count(*)::int`,
        list: sql<string>`coalesce(max(${netguardQueries.list}), '')`,
      })
      .from(netguardQueries)
      .where(and(gte(netguardQueries.at, from), eq(netguardQueries.action, 'block')))
      .groupBy(netguardQueries.name)
      .orderBy(desc(sql`count(*)`), asc(netguardQueries.name))
      .limit(limit);
  }

  topClients(from: Date, limit: number): Promise<{ client: string; queries: number; blocked: number }[]> {
    return this.db
      .select({
        client: netguardQueries.client,
        queries: sql<number>`count(*)::int`,
        blocked: sql<number>`count(*) filter (where ${netguardQueries.action} = 'block')::int`,
      })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from))
      .groupBy(netguardQueries.client)
      .orderBy(desc(sql`count(*)`), asc(netguardQueries.client))
      .limit(limit);
  }

  // ----------------------------------------------------------------- devices

  async insertDevice(row: NewDeviceRow): Promise<DeviceRow> {
    const [saved] = await this.db.insert(netguardDevices).values(row).returning();
    if (!saved) throw new Error('device insert returned nothing');
    return saved;
  }

  listDevices(): Promise<DeviceRow[]> {
    return this.db.select().from(netguardDevices).orderBy(asc(netguardDevices.name));
  }

  async getDevice(id: string): Promise<DeviceRow | undefined> {
    const [row] = await this.db.select().from(netguardDevices).where(eq(netguardDevices.id, id));
    return row;
  }

  async deviceByToken(tokenHash: string): Promise<DeviceRow | undefined> {
    const [row] = await this.db
      .select()
      .from(netguardDevices)
      .where(eq(netguardDevices.tokenHash, tokenHash));
    return row;
  }

  async updateDevice(id: string, set: Partial<NewDeviceRow>): Promise<DeviceRow | undefined> {
    const [row] = await this.db
      .update(netguardDevices)
      .set(set)
      .where(eq(netguardDevices.id, id))
      .returning();
    return row;
  }

  async deleteDevice(id: string): Promise<boolean> {
    return (await this.db.delete(netguardDevices).where(eq(netguardDevices.id, id)).returning()).length > 0;
  }
}
