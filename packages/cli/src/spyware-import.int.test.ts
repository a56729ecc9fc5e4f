/**
 * `rempart spyware import` and `rempart spyware indicators` on a real data directory: a DNS query
 * made through the platform's resolver first, then bundles imported from files, the retro-hunt's
 * hits printed, and the sets listed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type IndicatorSet } from '@rempart/core';
import { openPlatform, serve } from '@rempart/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ask } from '../../server/src/test-support/dns-client.js';
import { resetPostgres, testDatabaseUrl } from '../../server/src/test-support/platform.js';
import { testBundle } from '../../server/src/spyware/store/test-bundle.js';
import { run } from './main.js';

let out: string[];
let err: string[];
let files: string;
const saved = { ...process.env };

beforeEach(async () => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.env.REMPART_DATA_DIR = mkdtempSync(join(tmpdir(), 'rempart-cli-iocs-'));
  process.env.REMPART_LOG_LEVEL = 'silent';
  process.env.REMPART_PORT = '0';
  process.env.REMPART_DNS_UPSTREAMS = '127.0.0.1:1';
  if (testDatabaseUrl) {
    await resetPostgres(testDatabaseUrl);
    process.env.DATABASE_URL = testDatabaseUrl;
  }
  files = mkdtempSync(join(tmpdir(), 'rempart-bundles-'));
});

afterEach(() => {
  vi.restoreAllMocks();
  if (process.env.REMPART_DATA_DIR) rmSync(process.env.REMPART_DATA_DIR, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
  process.env = { ...saved };
});

function config() {
  const result = parseConfig(process.env);
  if (!result.ok) throw new Error(result.errors.join());
  return result.config;
}

function bundleFile(name: string, bytes: Buffer | string): string {
  const path = join(files, name);
  writeFileSync(path, bytes);
  return path;
}

async function storedSets(): Promise<IndicatorSet[]> {
  const platform = await openPlatform(config(), { watchIndicatorFolder: false });
  try {
    return platform.spyware.store.list().filter((s) => s.origin !== 'shipped');
  } finally {
    await platform.close();
  }
}

describe('rempart spyware import', () => {
  it('imports a bundle, prints its counts and the clients the retro-hunt finds in the DNS log', async () => {
    // A phone asked the platform's resolver for a name the bundle will list, before the import.
    const platform = await openPlatform({
      ...config(),
      dns: { ...config().dns, listen: { host: '127.0.0.1', port: 0 } },
    });
    try {
      const port = Number(/:(\d+)$/.exec(platform.netguard.resolverStats()?.listening[0] ?? '')?.[1]);
      await ask(port, 'eu.secure-cdn-sync.com');
      await platform.netguard.flushLog();
    } finally {
      await platform.close();
    }

    const file = bundleFile('nightjar.stix2', testBundle());
    expect(await run(['spyware', 'import', file, '--name', 'nightjar-2025.stix2'])).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(
      '→ nightjar-2025.stix2: 3 indicator(s) (domain 2, process 1); malware: Nightjar; 1 skipped',
    );
    expect(text).toMatch(/skipped indicator--[0-9a-f-]+: needs more than one value \(AND\)/);
    expect(text).toContain('retro-hunt: 1 client(s) of the DNS query log asked for these names:');
    expect(text).toMatch(
      /127\.0\.0\.1 asked for eu\.secure-cdn-sync\.com \(Nightjar; indicator secure-cdn-sync\.com\) 1 time\(s\)/,
    );
    expect((await storedSets()).map((s) => [s.name, s.origin])).toEqual([['nightjar-2025.stix2', 'cli']]);
    // The platform reads the stored set again at its next start, and its resolver blocks the names.
    const restarted = await openPlatform(config(), { watchIndicatorFolder: false });
    try {
      expect(restarted.netguard.explain('msg-relay-push.net', '10.1.2.3')).toMatchObject({
        action: 'block',
        decidedBy: { category: 'spyware', malware: 'Nightjar' },
      });
      expect(restarted.spyware.store.matcher().process('nightjard')?.source).toBe('nightjar-2025.stix2');
    } finally {
      await restarted.close();
    }

    out = [];
    expect(await run(['spyware', 'indicators'])).toBe(0);
    const listing = out.join('\n');
    expect(listing).toMatch(/^NAME +ORIGIN +INDICATORS +MALWARE$/m);
    expect(listing).toMatch(/^nightjar-2025\.stix2 +cli +3 +Nightjar$/m);
    expect(listing).toMatch(/^pegasus\.stix2 +shipped +\d+ +Pegasus$/m);
  });

  it('says when no client asked for the names, and imports several files under their own names', async () => {
    const a = bundleFile('wren.json', testBundle({ malware: 'Wren', domains: ['wren-cdn.net'] }));
    const b = bundleFile('kite.stix2', testBundle({ malware: 'Kite', domains: ['kite-sync.org'] }));
    expect(await run(['spyware', 'import', a, b])).toBe(0);
    expect(out.join('\n')).toContain('retro-hunt: no client of the DNS query log asked for these names');
    expect((await storedSets()).map((s) => s.name)).toEqual(['kite.stix2', 'wren.json']);
  });

  it('refuses a malformed bundle with exit status 2 naming the object, and stores nothing of it', async () => {
    const bundle = JSON.parse(testBundle({ malware: 'Wren' }).toString()) as {
      objects: Record<string, unknown>[];
    };
    const broken = bundle.objects.find((o) => o.type === 'relationship')!;
    delete broken.target_ref;
    const bad = bundleFile('broken.stix2', JSON.stringify(bundle));
    const good = bundleFile('kite.stix2', testBundle({ malware: 'Kite', domains: ['kite-sync.org'] }));
    expect(await run(['spyware', 'import', bad, good])).toBe(2);
    expect(err.join('\n')).toContain(`broken.stix2: ${String(broken.id)}: target_ref`);
    expect(err.join('\n')).toContain('(validation_failed)');
    expect((await storedSets()).map((s) => s.name)).toEqual(['kite.stix2']);
  });

  it('refuses bad usage with exit status 2', async () => {
    const file = bundleFile('a.stix2', testBundle());
    expect(await run(['spyware', 'import'])).toBe(2);
    expect(await run(['spyware', 'import', file, file, '--name', 'x.stix2'])).toBe(2);
    expect(err.join('\n')).toContain('--name names one bundle');
    expect(await run(['spyware', 'import', join(files, 'missing.stix2')])).toBe(2);
    expect(err.join('\n')).toContain('missing.stix2: cannot read (ENOENT)');
    expect(await run(['spyware', 'import', file, '--name', 'no spaces.stix2'])).toBe(2);
    expect(await run(['spyware', 'indicators', 'extra'])).toBe(2);
    expect(await run(['spyware', 'frobnicate'])).toBe(2);
    expect(await storedSets()).toEqual([]);
  });

  it('refuses while a server holds the data directory, naming its watched folder', async () => {
    const server = await serve(config());
    try {
      expect(await run(['spyware', 'import', bundleFile('a.stix2', testBundle())])).toBe(2);
      expect(err.join('\n')).toContain('a Rempart server holds this data directory');
      expect(err.join('\n')).toContain(config().spyware.iocsDir);
      expect(server.platform.spyware.store.list().some((s) => s.name === 'a.stix2')).toBe(false);
    } finally {
      await server.close();
    }
  });
});
