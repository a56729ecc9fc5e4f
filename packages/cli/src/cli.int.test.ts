import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@rempart/core';
import { openPlatform, serve } from '@rempart/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetPostgres, testDatabaseUrl } from '../../server/src/test-support/platform.js';
import { run } from './main.js';

let out: string[];
let err: string[];
const saved = { ...process.env };

beforeEach(async () => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.env.REMPART_DATA_DIR = mkdtempSync(join(tmpdir(), 'rempart-cli-'));
  process.env.REMPART_LOG_LEVEL = 'silent';
  process.env.REMPART_PORT = '0';
  if (testDatabaseUrl) {
    await resetPostgres(testDatabaseUrl);
    process.env.DATABASE_URL = testDatabaseUrl;
  }
});

afterEach(() => {
  vi.restoreAllMocks();
  if (process.env.REMPART_DATA_DIR) rmSync(process.env.REMPART_DATA_DIR, { recursive: true, force: true });
  process.env = { ...saved };
});

function config() {
  const result = parseConfig(process.env);
  if (!result.ok) throw new Error(result.errors.join());
  return result.config;
}

describe('rempart admin create', () => {
  it('creates an administrator and prints a one-time enrolment link', async () => {
    expect(
      await run(['admin', 'create', '--email', 'Claire.Martin@Interieur.gouv.fr', '--name', 'Claire Martin']),
    ).toBe(0);
    expect(out.join('\n')).toMatch(/Administrator claire\.martin@interieur\.gouv\.fr created/);
    expect(out.join('\n')).toMatch(/http:\/\/localhost:0\/enrol\/[A-Za-z0-9_-]{43}/);
    const platform = await openPlatform(config());
    try {
      const agents = await platform.identity.listAgents();
      expect(agents).toEqual([
        expect.objectContaining({
          email: 'claire.martin@interieur.gouv.fr',
          role: 'admin',
          clearance: 'secret',
          status: 'pending',
        }),
      ]);
    } finally {
      await platform.close();
    }
  });

  it('refuses bad arguments with exit status 2 and creates nothing', async () => {
    expect(await run(['admin', 'create', '--email', 'not-an-email', '--name', 'X'])).toBe(2);
    expect(err.join('\n')).toMatch(/--email/);
    expect(await run(['admin', 'create', '--email', 'a@b.fr'])).toBe(2);
    expect(await run(['admin', 'create', '--email', 'a@b.fr', '--name', 'A', '--admin', 'yes'])).toBe(2);
    expect(await run(['frobnicate'])).toBe(2);
    const platform = await openPlatform(config());
    try {
      expect(await platform.identity.listAgents()).toEqual([]);
    } finally {
      await platform.close();
    }
  });

  it('refuses a duplicate administrator', async () => {
    expect(await run(['admin', 'create', '--email', 'dup@x.fr', '--name', 'Dup'])).toBe(0);
    expect(await run(['admin', 'create', '--email', 'dup@x.fr', '--name', 'Dup'])).toBe(2);
    expect(err.join('\n')).toMatch(/already exists/);
  });

  it('goes through the running server when one holds the data directory', async () => {
    const server = await serve(config());
    try {
      expect(await run(['admin', 'create', '--email', 'live@x.fr', '--name', 'Live Admin'])).toBe(0);
      expect(out.join('\n')).toMatch(/\/enrol\//);
      expect((await server.platform.identity.listAgents()).map((a) => a.email)).toEqual(['live@x.fr']);
      expect(await run(['audit', 'verify'])).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('rempart audit verify', () => {
  it('passes on an intact log and fails naming the first altered entry', async () => {
    for (const email of ['a@x.fr', 'b@x.fr', 'c@x.fr']) {
      expect(await run(['admin', 'create', '--email', email, '--name', 'Someone'])).toBe(0);
    }
    expect(await run(['audit', 'verify'])).toBe(0);
    expect(out.at(-1)).toMatch(/intact: 3 entries/);

    const platform = await openPlatform(config());
    await platform.database.db.execute(
      `update audit_log set details = '{"email":"mallory@x.fr"}' where seq = 2`,
    );
    await platform.close();

    expect(await run(['audit', 'verify'])).toBe(1);
    expect(err.at(-1)).toMatch(/BROKEN at entry #2/);
  });
});
