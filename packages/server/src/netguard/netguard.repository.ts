/** The network guard's tables: groups, lists, the query log and enrolled devices. */
import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.js';
import { CopyTimestamps, copyField } from '../db/copy-text.js';
import { netguardDevices, netguardGroups, netguardLists, netguardQueries } from '../db/schema.js';

export type GroupRow = typeof netguardGroups.$inferSelect;
export type ListRow = typeof netguardLists.$inferSelect;
/** A list without its text, for listings. */
export type ListSummaryRow = Omit<ListRow, 'content'>;
export type QueryRow = typeof netguardQueries.$inferInsert;
export type DeviceRow = typeof netguardDevices.$inferSelect;
export type NewDeviceRow = typeof netguardDevices.$inferInsert;

/** Rows per INSERT of the query log: a bound on the size of one statement's arrays. */
const INSERT_CHUNK = 5000;

/** The query log's columns, in the order of its COPY rows. */
const QUERY_COLUMNS = [
  'at',
  'client',
  'protocol',
  'name',
  'type',
  'group_id',
  'action',
  'list',
  'rule',
  'rcode',
  'cached',
  'duration_ms',
  'count',
] as const;

export class NetguardRepository {
  /**
   * @param copyRows the database's bulk append when it has one (the embedded database): the
   *   query log is written with it.
   */
  constructor(
    private readonly db: Db,
    private readonly copyRows?: Database['copyRows'],
  ) {}

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

  /** Changes a list, its revision counted up. */
  async updateList(
    id: string,
    set: Omit<Partial<typeof netguardLists.$inferInsert>, 'revision'>,
  ): Promise<ListRow | undefined> {
    const [saved] = await this.db
      .update(netguardLists)
      .set({ ...set, revision: sql`${netguardLists.revision} + 1` })
      .where(eq(netguardLists.id, id))
      .returning();
    return saved;
  }

  async deleteList(id: string): Promise<boolean> {
    return (await this.db.delete(netguardLists).where(eq(netguardLists.id, id)).returning()).length > 0;
  }

  // --------------------------------------------------------------- query log

  /**
   * Writes query log rows: one statement per chunk, each column sent as one array and the rows
   * made by `unnest`, so that neither the ORM nor the driver handles a value at a time (building
   * an INSERT of thousands of rows through the ORM had cost more than the resolver itself).
   */
  async insertQueries(rows: readonly QueryRow[]): Promise<void> {
    if (this.copyRows) {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await this.copyRows('netguard_queries', QUERY_COLUMNS, queriesAsCopyText(rows, i, INSERT_CHUNK));
      }
      return;
    }
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const column = <T>(pick: (row: QueryRow) => T) => sql.param(chunk.map(pick));
      await this.db.execute(sql`
        insert into ${netguardQueries}
          (at, client, protocol, name, type, group_id, action, list, rule, rcode, cached, duration_ms, count)
        select to_timestamp(at / 1000.0), client, protocol, name, type, group_id, action, list, rule, rcode,
               cached, duration_ms, count
        from unnest(
          ${column((r) => r.at.getTime())}::float8[], ${column((r) => r.client)}::text[],
          ${column((r) => r.protocol)}::text[], ${column((r) => r.name)}::text[],
          ${column((r) => r.type)}::text[], ${column((r) => r.groupId)}::text[],
          ${column((r) => r.action)}::text[], ${column((r) => r.list ?? null)}::text[],
          ${column((r) => r.rule ?? null)}::text[], ${column((r) => r.rcode)}::text[],
          ${column((r) => r.cached)}::bool[], ${column((r) => r.durationMs)}::int[],
          ${column((r) => r.count ?? 1)}::int[]
        ) as q(at, client, protocol, name, type, group_id, action, list, rule, rcode, cached, duration_ms, count)`);
    }
  }

  /** Deletes the entries older than `before`; returns how many. */
  async pruneQueries(before: Date): Promise<number> {
    // Counted in the database: a week of log can be millions of rows, not to be sent back one by one.
    const gone = this.db
      .$with('gone')
      .as(
        this.db
          .delete(netguardQueries)
          .where(lt(netguardQueries.at, before))
          .returning({ at: netguardQueries.at }),
      );
    const [row] = await this.db
      .with(gone)
      .select({ removed: sql<number>`count(*)::int` })
      .from(gone);
    return row?.removed ?? 0;
  }

  async queryTotals(
    from: Date,
  ): Promise<{ queries: number; blocked: number; cached: number; clients: number }> {
    const [row] = await this.db
      .select({
        queries: sql<number>`coalesce(sum(${netguardQueries.count}), 0)::int`,
        blocked: sql<number>`coalesce(sum(${netguardQueries.count}) filter (where ${netguardQueries.action} = 'block'), 0)::int`,
        cached: sql<number>`coalesce(sum(${netguardQueries.count}) filter (where ${netguardQueries.cached}), 0)::int`,
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
        queries: sql<number>`sum(${netguardQueries.count})::int`,
        blocked: sql<number>`coalesce(sum(${netguardQueries.count}) filter (where ${netguardQueries.action} = 'block'), 0)::int`,
      })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from))
      .groupBy(bucket)
      .orderBy(bucket);
    return rows.map((r) => ({ bucket: Number(r.bucket), queries: r.queries, blocked: r.blocked }));
  }

  /** The distinct names asked for since `from`. */
  async queriedNames(from: Date): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ name: netguardQueries.name })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from));
    return rows.map((r) => r.name);
  }

  /** Who asked for one of `names` since `from`: per client and name, the first and last time and how often. */
  async queriesOfNames(
    names: readonly string[],
    from: Date,
  ): Promise<{ client: string; name: string; firstSeen: Date; lastSeen: Date; count: number }[]> {
    const found = [];
    // In chunks: a bound on the size of one statement's parameters.
    for (let i = 0; i < names.length; i += INSERT_CHUNK) {
      const rows = await this.db
        .select({
          client: netguardQueries.client,
          name: netguardQueries.name,
          firstSeen: sql<string>`min(${netguardQueries.at})`,
          lastSeen: sql<string>`max(${netguardQueries.at})`,
          count: sql<number>`sum(${netguardQueries.count})::int`,
        })
        .from(netguardQueries)
        .where(
          and(gte(netguardQueries.at, from), inArray(netguardQueries.name, names.slice(i, i + INSERT_CHUNK))),
        )
        .groupBy(netguardQueries.client, netguardQueries.name)
        .orderBy(asc(netguardQueries.client), asc(netguardQueries.name));
      for (const r of rows)
        found.push({ ...r, firstSeen: new Date(r.firstSeen), lastSeen: new Date(r.lastSeen) });
    }
    return found;
  }

  topBlocked(from: Date, limit: number): Promise<{ name: string; count: number; list: string }[]> {
    return this.db
      .select({
        name: netguardQueries.name,
        count: sql<number>`sum(${netguardQueries.count})::int`,
        list: sql<string>`coalesce(max(${netguardQueries.list}), '')`,
      })
      .from(netguardQueries)
      .where(and(gte(netguardQueries.at, from), eq(netguardQueries.action, 'block')))
      .groupBy(netguardQueries.name)
      .orderBy(desc(sql`sum(${netguardQueries.count})`), asc(netguardQueries.name))
      .limit(limit);
  }

  topClients(from: Date, limit: number): Promise<{ client: string; queries: number; blocked: number }[]> {
    return this.db
      .select({
        client: netguardQueries.client,
        queries: sql<number>`sum(${netguardQueries.count})::int`,
        blocked: sql<number>`coalesce(sum(${netguardQueries.count}) filter (where ${netguardQueries.action} = 'block'), 0)::int`,
      })
      .from(netguardQueries)
      .where(gte(netguardQueries.at, from))
      .groupBy(netguardQueries.client)
      .orderBy(desc(sql`sum(${netguardQueries.count})`), asc(netguardQueries.client))
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

/** Rows `from` to `from + count` of the query log in COPY's text format, columns as QUERY_COLUMNS. */
export function queriesAsCopyText(rows: readonly QueryRow[], from: number, count: number): string {
  const times = new CopyTimestamps();
  const end = Math.min(rows.length, from + count);
  let text = '';
  for (let i = from; i < end; i++) {
    const r = rows[i]!;
    text +=
      `${times.format(r.at)}\t${copyField(r.client)}\t${r.protocol}\t${copyField(r.name)}\t` +
      `${copyField(r.type)}\t${copyField(r.groupId)}\t${r.action}\t${copyField(r.list)}\t` +
      `${copyField(r.rule)}\t${copyField(r.rcode)}\t${r.cached ? 't' : 'f'}\t${Math.trunc(r.durationMs)}\t` +
      `${Math.trunc(r.count ?? 1)}\n`;
  }
  return text;
}
