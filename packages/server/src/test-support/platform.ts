/**
 * Test platforms on a real database: an in-memory PGlite by default, or, in the PostgreSQL
 * cluster named by REMPART_TEST_DATABASE_URL (the test script starts a throwaway one), a
 * database of the test worker's own; either is reset to an empty schema for each platform.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parseConfig, type Alert, type Config } from '@rempart/core';
import pg from 'pg';
import { expect } from 'vitest';
import { ManualClock } from '../clock.js';
import { embeddedOptions, type DatabaseTarget } from '../db/client.js';
import { createLogger } from '../logger.js';
import { openPlatform, type Platform, type PlatformOptions } from '../platform.js';

const clusterUrl = process.env.REMPART_TEST_DATABASE_URL;

/**
 * This test worker's own database in the cluster named by REMPART_TEST_DATABASE_URL (its
 * database's name with the worker's number after it): test files running side by side never
 * share one. Made on first use by `resetPostgres`.
 */
export const testDatabaseUrl = clusterUrl === undefined ? undefined : workerDatabaseUrl(clusterUrl);

function workerDatabaseUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname}_${process.env.VITEST_POOL_ID ?? '0'}`;
  return u.toString();
}

const ensured = new Map<string, Promise<void>>();

/**
 * Creates the database of `url` in its cluster when missing, connected to the cluster's own;
 * once per test process (a failed attempt is tried again by the next call).
 */
function ensureDatabase(url: string): Promise<void> {
  let done = ensured.get(url);
  if (!done) {
    done = createDatabase(url);
    ensured.set(url, done);
    done.catch(() => ensured.delete(url));
  }
  return done;
}

async function createDatabase(url: string): Promise<void> {
  if (clusterUrl === undefined) return;
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const client = new pg.Client({ connectionString: clusterUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** Empties a database: Rempart's tables and the migrations' own record, so the next open migrates afresh. */
const RESET_SCHEMA =
  'drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public;';

export async function resetPostgres(url: string): Promise<void> {
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(RESET_SCHEMA);
  } finally {
    await client.end();
  }
}

let pglite: Promise<PGlite> | undefined;

/**
 * The test process's one in-memory PGlite, emptied like the PostgreSQL database is: starting
 * a PGlite runs initdb (about 3 s here), emptying it and migrating again about 0.3 s. Like
 * the PostgreSQL one, a test database is the same database for every platform a test opens
 * with `testTarget()`, emptied at each open; it closes when the test process ends.
 */
async function sharedPglite(): Promise<PGlite> {
  pglite ??= PGlite.create(undefined, embeddedOptions());
  const client = await pglite;
  await client.exec(RESET_SCHEMA);
  return client;
}

export async function testTarget(): Promise<DatabaseTarget> {
  if (testDatabaseUrl) {
    await resetPostgres(testDatabaseUrl);
    return { kind: 'postgres', url: testDatabaseUrl };
  }
  return { kind: 'pglite', dataDir: undefined, client: await sharedPglite() };
}

export function testConfig(env: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(join(tmpdir(), 'rempart-test-'));
  const result = parseConfig({
    REMPART_DATA_DIR: dataDir,
    REMPART_LOG_LEVEL: 'silent',
    REMPART_PORT: '0',
    // No test reaches a real resolver: nothing listens on port 1 of loopback, so the guard
    // answers SERVFAIL at once unless a test starts its own upstream.
    REMPART_DNS_UPSTREAMS: '127.0.0.1:1',
    ...env,
  });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

export interface TestPlatform extends Platform {
  clock: ManualClock;
}

export async function openTestPlatform(
  options: PlatformOptions & { env?: Record<string, string> } = {},
): Promise<TestPlatform> {
  const clock = new ManualClock(new Date());
  const config = testConfig(options.env);
  const platform = await openPlatform(config, {
    // A test that reopens its own database (a restart) must not have it reset first.
    database: options.database ?? (await testTarget()),
    clock,
    log: createLogger('silent'),
    masterKey: randomBytes(32),
    ...options,
  });
  return {
    ...platform,
    clock,
    close: async () => {
      await platform.close();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** The open alert whose title mentions `text`, waited for: alerts are raised off the request's path. */
export async function awaitAlert(platform: Pick<Platform, 'alerts'>, text: string): Promise<Alert> {
  let found: Alert | undefined;
  await expect
    .poll(async () => (found = (await platform.alerts.list('open', 50)).find((a) => a.title.includes(text))))
    .toBeDefined();
  return found!;
}
