/**
 * The two database drivers behind one drizzle type: PGlite (embedded, default) and
 * node-postgres (production, with DATABASE_URL). Migrations are applied at open.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /**
   * Appends rows given in COPY's text format (RFC-less but documented: PostgreSQL's `COPY … FROM`
   * text format, one row per line, columns separated by tabs, `\N` for null) to `table`. Only
   * the embedded database has it: there a bulk write runs on the server's own thread, and COPY
   * costs half as much per row as an INSERT whose values come as arrays (PGlite's serialising of
   * array parameters, and PostgreSQL's parsing of them, were most of that). PostgreSQL's own
   * process bears that cost for the production path, which writes with INSERT.
   */
  copyRows?: (table: string, columns: readonly string[], text: string) => Promise<void>;
  close(): Promise<void>;
}

/** `name` as a quoted SQL identifier. */
const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The embedded database's page cache. PostgreSQL's default of 128 MB is resident in the process
 * once touched (PGlite's memory is the process's); Rempart's tables other than the DNS query log
 * are small, and the log is written at its end and read by time. 16 MB measured: a reopened data
 * folder holds 164 MB resident instead of 288 MB, and 193 MB instead of 329 MB after 200,000
 * rows written; the operating system still caches the files.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

/** PGlite's options for Rempart's embedded database (also what the DNS benchmark's probe opens it with). */
export function embeddedOptions(): PGliteOptions {
  return { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`] };
}

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  /**
   * `dataDir` undefined means in memory (tests). `client`, an open PGlite to use instead of
   * starting one (tests share one per process: a start is an initdb, ~3 s); it stays open when
   * the database is closed, for its owner to close.
   */
  | { kind: 'pglite'; dataDir: string | undefined; client?: PGlite };

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    const db = drizzlePg(pool, { schema });
    await migratePg(db, { migrationsFolder });
    let closed = false;
    return {
      db: db as unknown as Db,
      kind: 'postgres',
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      },
    };
  }
  if (target.dataDir !== undefined) mkdirSync(target.dataDir, { recursive: true });
  const owned = target.client === undefined;
  const client = target.client ?? new PGlite(target.dataDir, embeddedOptions());
  await client.waitReady;
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    copyRows: async (table, columns, text) => {
      await client.query(
        `copy ${identifier(table)} (${columns.map(identifier).join(', ')}) from '/dev/blob'`,
        [],
        { blob: new Blob([text]) },
      );
    },
    close: async () => {
      if (owned && !client.closed) await client.close();
    },
  };
}
