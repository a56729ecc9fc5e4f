#!/usr/bin/env node
/**
 * What Rempart's embedded database weighs on its own: the resident memory of a bare Node
 * process, then of the same process once PGlite has opened a Rempart data folder (with Rempart's
 * own options), and how many rows that folder's DNS query log holds and how many queries they
 * stand for. Prints one JSON line; the folder must not be in use.
 *
 *   node bench/lib/pglite-probe.mjs <REMPART_DATA_DIR>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

const bareMb = rssMb();
const { PGlite } = await import('@electric-sql/pglite');
const { embeddedOptions } = await import('@rempart/server');
const db = new PGlite(join(process.argv[2], 'pgdata'), embeddedOptions());
await db.waitReady;
const openMb = rssMb();
let queryLogRows;
let queryLogQueries;
try {
  const { rows } = await db.query(
    'SELECT count(*)::int AS n, coalesce(sum(count), 0)::int AS queries FROM netguard_queries',
  );
  queryLogRows = rows[0]?.n;
  queryLogQueries = rows[0]?.queries;
} catch {
  // A folder made before the query log existed: nothing to count.
}
await db.close();
console.log(JSON.stringify({ bareMb, openMb, queryLogRows, queryLogQueries }));
