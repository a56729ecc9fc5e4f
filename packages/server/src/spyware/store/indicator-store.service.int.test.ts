/**
 * The indicator store as a service, on a real database with the real audit log and alert stream:
 * what changes and what does not, the events the network guard follows, the compiled matcher,
 * the retro-hunts kept and how a failing one ends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertRepository } from '../../alerts/alert.repository.js';
import { AlertService } from '../../alerts/alert.service.js';
import { AuditRepository } from '../../audit/audit.repository.js';
import { AuditService } from '../../audit/audit.service.js';
import { ManualClock } from '../../clock.js';
import { openDatabase, type Database } from '../../db/client.js';
import { createLogger } from '../../logger.js';
import { testTarget } from '../../test-support/platform.js';
import { parseStixText } from '../stix.js';
import { IndicatorStoreRepository } from './indicator-store.repository.js';
import { IndicatorStore, type IndicatorStoreDeps } from './indicator-store.service.js';
import type { DnsQueryLog } from './retro-hunt.js';
import { testBundle } from './test-bundle.js';

let database: Database;
let audit: AuditService;
let alerts: AlertService;
const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
const shipped = () => [
  parseStixText(
    testBundle({ malware: 'Shipped', domains: ['shipped-cdn.net'], processes: ['shippedd'] }).toString(),
    'shipped.stix2',
  ),
];
const stores: IndicatorStore[] = [];

beforeEach(async () => {
  database = await openDatabase(await testTarget());
  audit = new AuditService(new AuditRepository(database.db, database.kind === 'postgres'), clock);
  alerts = new AlertService(new AlertRepository(database.db), clock);
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await database.close();
});

async function openStore(deps: Partial<IndicatorStoreDeps> = {}): Promise<IndicatorStore> {
  const store = new IndicatorStore({
    repo: new IndicatorStoreRepository(database.db),
    audit,
    alerts,
    clock,
    log: createLogger('silent'),
    shipped,
    ...deps,
  });
  stores.push(store);
  await store.start();
  return store;
}

const admin = { id: '7d0b7c6e-5d2a-4a43-9d1f-1b2c3d4e5f60', email: 'rssi@interieur.gouv.fr' };

describe('the indicator store', () => {
  it('replaces a set of the same name in place, and tells its listeners once per change only', async () => {
    const store = await openStore();
    let changes = 0;
    const stop = store.onChange(() => changes++);
    const first = await store.import('kite.stix2', testBundle({ malware: 'Kite' }), 'upload', admin);
    const matcher = store.matcher();
    expect(store.matcher()).toBe(matcher);
    expect(changes).toBe(1);

    await store.import('kite.stix2', testBundle({ malware: 'Kite' }), 'upload', admin);
    expect(changes).toBe(1);
    expect(store.matcher()).toBe(matcher);

    const second = await store.import(
      'kite.stix2',
      testBundle({ malware: 'Kite', domains: ['kite-sync.org', 'kite-cdn.org', 'kite-push.org'] }),
      'cli',
      null,
    );
    expect(changes).toBe(2);
    expect(second.set).toMatchObject({ id: first.set.id, origin: 'cli', indicators: 4, importedBy: null });
    expect(store.matcher()).not.toBe(matcher);
    expect(store.matcher().domain('a.kite-push.org')?.malware).toEqual(['Kite']);
    expect(store.spywareDomains().map((d) => d.domain)).toEqual([
      'shipped-cdn.net',
      'kite-sync.org',
      'kite-cdn.org',
      'kite-push.org',
    ]);
    const entries = (await audit.list(10)).filter((e) => e.action === 'spyware.indicators.imported');
    expect(entries.map((e) => e.details.replaced)).toEqual([true, false]);

    stop();
    await store.remove(first.set.id, admin);
    expect(changes).toBe(2);
    expect(store.list().map((s) => s.name)).toEqual(['shipped.stix2']);
  });

  it('reads the stored sets again at start, after the shipped ones', async () => {
    const before = await openStore();
    await before.import('wren.json', testBundle({ malware: 'Wren' }), 'folder', null);
    await before.import('heron.stix2', testBundle({ malware: 'Heron' }), 'upload', admin);
    const after = await openStore();
    expect(after.list().map((s) => [s.name, s.origin, s.importedBy])).toEqual([
      ['shipped.stix2', 'shipped', null],
      ['heron.stix2', 'upload', 'rssi@interieur.gouv.fr'],
      ['wren.json', 'folder', null],
    ]);
    expect(after.matcher().sources).toEqual(['heron.stix2', 'shipped.stix2', 'wren.json']);
  });

  it('starts without a stored set it can no longer read, leaving it out', async () => {
    await new IndicatorStoreRepository(database.db).save({
      name: 'garbled.stix2',
      origin: 'upload',
      sha256: '0'.repeat(64),
      content: '{"type":"bundle","objects":[{"type":"indicator"}]}',
      indicators: 1,
      byType: { domain: 1 },
      malware: [],
      skipped: 0,
      importedAt: clock.now(),
      importedBy: null,
    });
    const store = await openStore();
    expect(store.list().map((s) => s.name)).toEqual(['shipped.stix2']);
  });

  it('keeps the last 20 retro-hunts, most recent first', async () => {
    const store = await openStore();
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) {
      const result = await store.import(
        `set-${String(i).padStart(2, '0')}.stix2`,
        testBundle({ malware: `M${i}`, domains: [`m${i}-sync.net`] }),
        'upload',
        admin,
      );
      ids.push(result.retroHunt.id);
      await store.retroHuntDone(result.retroHunt.id);
    }
    const hunts = store.retroHunts();
    expect(hunts.map((h) => h.id)).toEqual(ids.slice(2).reverse());
    expect(hunts.every((h) => h.status === 'done')).toBe(true);
    expect(() => store.retroHunt(ids[0]!)).toThrow('No such retro-hunt');
  });

  it('ends a retro-hunt whose DNS log fails as failed, with the error, and audits it so', async () => {
    const failing: DnsQueryLog = {
      queriedNames: () => Promise.reject(new Error('the query log is unavailable')),
      queriesOf: () => Promise.resolve([]),
    };
    const store = await openStore({ dnsLog: failing });
    const result = await store.import('kite.stix2', testBundle({ malware: 'Kite' }), 'upload', admin);
    expect(result.retroHunt.status).toBe('running');
    const hunt = await store.retroHuntDone(result.retroHunt.id);
    expect(hunt).toMatchObject({ status: 'failed', error: 'the query log is unavailable' });
    expect(hunt.finishedAt).toBe(clock.now().toISOString());
    const entry = (await audit.list(10)).find((e) => e.action === 'spyware.retrohunt.finished');
    expect(entry).toMatchObject({ outcome: 'failure', details: { set: 'kite.stix2', dnsHits: 0 } });
    // The set itself is imported all the same.
    expect(store.matcher().process('nightjard')?.malware).toEqual(['Kite']);
  });

  it('raises one critical alert per DNS hit, naming the client, the name and the malware', async () => {
    const log: DnsQueryLog = {
      queriedNames: () => Promise.resolve(['eu.kite-sync.org', 'www.example', 'kite-sync.org']),
      queriesOf: (names) =>
        Promise.resolve(
          names.flatMap((name) =>
            ['10.0.0.7', '10.0.0.9'].map((client) => ({
              client,
              name,
              firstSeen: new Date('2026-03-01T08:00:00Z'),
              lastSeen: new Date('2026-03-01T09:00:00Z'),
              count: 3,
            })),
          ),
        ),
    };
    const store = await openStore({ dnsLog: log });
    const result = await store.import(
      'kite.stix2',
      testBundle({ malware: 'Kite', domains: ['kite-sync.org'] }),
      'upload',
      admin,
    );
    const hunt = await store.retroHuntDone(result.retroHunt.id);
    expect(hunt.dnsHits).toHaveLength(4);
    const raised = (await alerts.list('open', 50)).filter((a) => a.source === 'spyware');
    expect(raised.map((a) => a.title).sort()).toEqual([
      'Retro-hunt: 10.0.0.7 asked for eu.kite-sync.org (Kite)',
      'Retro-hunt: 10.0.0.7 asked for kite-sync.org (Kite)',
      'Retro-hunt: 10.0.0.9 asked for eu.kite-sync.org (Kite)',
      'Retro-hunt: 10.0.0.9 asked for kite-sync.org (Kite)',
    ]);
    expect(raised.every((a) => a.severity === 'critical')).toBe(true);
    expect(raised[0]?.details).toMatchObject({ set: 'kite.stix2', retroHunt: hunt.id, count: 3 });
  });
});
