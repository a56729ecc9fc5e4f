/**
 * The indicator store through the whole platform, on a real database: bundles imported over
 * HTTP by a signed-in administrator, real DNS packets to the platform's resolver before and after
 * an import, the retro-hunt over the query log, the watched folder, the audit log and the alerts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndicatorImport, IndicatorSet, RetroHunt } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { ask } from '../../test-support/dns-client.js';
import { enrolWithTotp, HttpAgent } from '../../test-support/http-agent.js';
import { awaitAlert, openTestPlatform, type TestPlatform } from '../../test-support/platform.js';
import { RecordingEngine } from '../../test-support/recording-engine.js';
import { shippedIndicatorsDir } from '../stix.js';
import { INDICATOR_BUNDLE_MAX_BYTES } from './indicators.routes.js';
import { testBundle } from './test-bundle.js';

let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let agent: HttpAgent;
let port: number;
const iocsDir = mkdtempSync(join(tmpdir(), 'rempart-iocs-'));

beforeAll(async () => {
  // A bundle already in the folder at start is imported with the rest.
  writeFileSync(
    join(iocsDir, 'sparrow.stix2'),
    testBundle({ malware: 'Sparrow', domains: ['sparrow-sync.org'], processes: ['sparrowd'] }),
  );
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: { REMPART_DNS_LISTEN: '127.0.0.1:0', REMPART_SPYWARE_IOCS_DIR: iocsDir },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'rssi@interieur.gouv.fr', role: 'admin' }));
  ({ agent } = await enrolWithTotp(platform, app, { email: 'agent@interieur.gouv.fr', role: 'agent' }));
  port = Number(/:(\d+)$/.exec(platform.netguard.resolverStats()?.listening[0] ?? '')?.[1]);
  expect(port).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await platform?.close();
  rmSync(iocsDir, { recursive: true, force: true });
});

const upload = (name: string, bytes: Buffer, type = 'application/stix+json') =>
  admin.upload(`/api/spyware/indicator-sets?name=${encodeURIComponent(name)}`, bytes, type);

async function huntDone(id: string): Promise<RetroHunt> {
  let hunt: RetroHunt | undefined;
  await expect
    .poll(async () => (hunt = (await admin.get(`/api/spyware/retro-hunts/${id}`)).json as RetroHunt).status, {
      timeout: 15_000,
    })
    .toBe('done');
  return hunt!;
}

const sets = async () => (await admin.get('/api/spyware/indicator-sets')).json as unknown as IndicatorSet[];

describe('the indicator store', () => {
  it('lists the shipped bundles, which cannot be removed', async () => {
    const list = await sets();
    const pegasus = list.find((s) => s.id === 'shipped:pegasus.stix2');
    expect(pegasus).toMatchObject({ name: 'pegasus.stix2', origin: 'shipped', importedAt: null });
    expect(pegasus?.malware).toContain('Pegasus');
    expect(pegasus?.indicators).toBeGreaterThan(1000);
    const res = await admin.delete('/api/spyware/indicator-sets/shipped:pegasus.stix2');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
    expect((await sets()).some((s) => s.id === 'shipped:pegasus.stix2')).toBe(true);
  });

  it('imported the bundle that was in the watched folder at start', async () => {
    expect((await sets()).find((s) => s.name === 'sparrow.stix2')).toMatchObject({
      origin: 'folder',
      malware: ['Sparrow'],
      importedBy: null,
    });
    expect(platform.spyware.store.matcher().process('sparrowd')?.malware).toEqual(['Sparrow']);
  });

  it('is for administrators only', async () => {
    expect((await agent.get('/api/spyware/indicator-sets')).status).toBe(403);
    const res = await agent.upload(
      '/api/spyware/indicator-sets?name=x.stix2',
      testBundle(),
      'application/json',
    );
    expect(res.status).toBe(403);
    const anonymous = await new HttpAgent(app).upload(
      '/api/spyware/indicator-sets?name=x.stix2',
      testBundle(),
      'application/json',
    );
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('unauthenticated');
    expect((await sets()).some((s) => s.name === 'x.stix2')).toBe(false);
  });

  it('imports a bundle over HTTP, blocks its domains at once, and retro-hunts a query made before the import', async () => {
    // A phone asks for a name below one of the bundle's domains before anyone knows it is bad.
    const before = await ask(port, 'eu.secure-cdn-sync.com');
    expect(before.rcode).not.toBe('NXDOMAIN');

    const res = await upload('nightjar-2025.stix2', testBundle({ urls: ['https://parcel-status.info/t/'] }));
    expect(res.status).toBe(201);
    const result = res.json as IndicatorImport;
    expect(result.set).toMatchObject({
      name: 'nightjar-2025.stix2',
      origin: 'upload',
      importedBy: 'rssi@interieur.gouv.fr',
      indicators: 4,
      byType: { domain: 2, url: 1, process: 1 },
      malware: ['Nightjar'],
      skipped: 1,
    });
    expect(result.skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('needs more than one value') }),
    ]);
    expect((await sets()).find((s) => s.name === 'nightjar-2025.stix2')?.id).toBe(result.set.id);

    // The retro-hunt finds the phone that asked before, and raises a critical alert naming it.
    const hunt = await huntDone(result.retroHunt.id);
    expect(hunt.dnsHits).toEqual([
      expect.objectContaining({
        client: '127.0.0.1',
        domain: 'eu.secure-cdn-sync.com',
        indicator: 'secure-cdn-sync.com',
        malware: ['Nightjar'],
        count: 1,
      }),
    ]);
    expect(hunt.scanHits).toEqual([]);
    const critical = await awaitAlert(platform, 'eu.secure-cdn-sync.com');
    expect(critical).toMatchObject({ severity: 'critical', source: 'spyware' });
    expect(critical.title).toContain('127.0.0.1');
    expect(critical.title).toContain('Nightjar');
    const hunts = (await admin.get('/api/spyware/retro-hunts')).json as unknown as RetroHunt[];
    expect(hunts[0]?.id).toBe(hunt.id);

    // The resolver blocks the new domains now, for the default group, and alerts with the malware.
    const after = await ask(port, 'msg-relay-push.net');
    expect(after.rcode).toBe('NXDOMAIN');
    expect((await ask(port, 'parcel-status.info')).rcode).toBe('NXDOMAIN');
    const high = await awaitAlert(platform, 'Spyware domain queried by 127.0.0.1: msg-relay-push.net');
    expect(high).toMatchObject({ severity: 'high', source: 'netguard' });
    expect(high.details).toMatchObject({ malware: 'Nightjar' });

    const audit = await platform.audit.list(50);
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['spyware.indicators.imported', 'spyware.retrohunt.finished']),
    );
  });

  it('changes nothing when the same bundle is imported again', async () => {
    const before = await sets();
    const hunts = ((await admin.get('/api/spyware/retro-hunts')).json as unknown as RetroHunt[]).length;
    const res = await upload('nightjar-2025.stix2', testBundle({ urls: ['https://parcel-status.info/t/'] }));
    expect(res.status).toBe(201);
    expect(await sets()).toEqual(before);
    expect(((await admin.get('/api/spyware/retro-hunts')).json as unknown as RetroHunt[]).length).toBe(hunts);
  });

  it('refuses a malformed bundle naming the object at fault, and stores nothing', async () => {
    const bundle = JSON.parse(testBundle({ malware: 'Wren' }).toString()) as {
      objects: Record<string, unknown>[];
    };
    const broken = bundle.objects.find((o) => o.type === 'indicator')!;
    delete broken.pattern;
    const auditBefore = (await platform.audit.list(200)).length;
    const res = await upload('wren.stix2', Buffer.from(JSON.stringify(bundle)), 'application/json');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('validation_failed');
    expect(res.json.error.message).toContain('wren.stix2');
    expect(res.json.error.message).toContain(String(broken.id));
    expect((await sets()).some((s) => s.name === 'wren.stix2')).toBe(false);
    expect((await platform.audit.list(200)).length).toBe(auditBefore);

    const notJson = await upload('wren.stix2', Buffer.from('{"type": "bundle", "objects": ['));
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.message).toMatch(/wren\.stix2: not JSON/);
    const empty = await upload('wren.stix2', testBundle({ malware: 'Wren', domains: [], processes: [] }));
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/no indicator Rempart can look for/);
    const badName = await upload('../etc/passwd', testBundle());
    expect(badName.status).toBe(400);
    const shippedName = await upload('pegasus.stix2', testBundle());
    expect(shippedName.status).toBe(409);
    const text = await admin.upload('/api/spyware/indicator-sets?name=a.stix2', testBundle(), 'text/plain');
    expect(text.status).toBe(415);
    const huge = await upload('huge.stix2', Buffer.alloc(INDICATOR_BUNDLE_MAX_BYTES + 1, 0x20));
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('payload_too_large');
    expect((await sets()).map((s) => s.name)).not.toEqual(expect.arrayContaining(['wren.stix2', 'a.stix2']));
  });

  it('accepts a slice of the shipped Pegasus bundle under a new name', async () => {
    const pegasus = JSON.parse(readFileSync(join(shippedIndicatorsDir(), 'pegasus.stix2'), 'utf8')) as {
      objects: { type: string; id: string; pattern?: string }[];
    };
    const indicators = pegasus.objects.filter((o) => o.type === 'indicator').slice(0, 40);
    const ids = new Set(indicators.map((o) => o.id));
    const slice = {
      ...pegasus,
      objects: pegasus.objects.filter(
        (o) =>
          o.type === 'malware' ||
          ids.has(o.id) ||
          (o.type === 'relationship' && ids.has((o as unknown as { source_ref: string }).source_ref)),
      ),
    };
    const res = await upload('pegasus-slice.stix2', Buffer.from(JSON.stringify(slice)));
    expect(res.status).toBe(201);
    expect((res.json as IndicatorImport).set).toMatchObject({ indicators: 40, malware: ['Pegasus'] });
    await huntDone((res.json as IndicatorImport).retroHunt.id);
  });

  it('removes an imported set: its domains are no longer blocked', async () => {
    const set = (await sets()).find((s) => s.name === 'nightjar-2025.stix2')!;
    expect((await ask(port, 'msg-relay-push.net')).rcode).toBe('NXDOMAIN');
    expect((await admin.delete(`/api/spyware/indicator-sets/${set.id}`)).status).toBe(204);
    expect((await admin.delete(`/api/spyware/indicator-sets/${set.id}`)).status).toBe(404);
    expect((await sets()).some((s) => s.name === 'nightjar-2025.stix2')).toBe(false);
    await expect.poll(async () => (await ask(port, 'msg-relay-push.net')).rcode).not.toBe('NXDOMAIN');
    expect((await platform.audit.list(50)).map((e) => e.action)).toContain('spyware.indicators.removed');
    expect((await admin.get('/api/spyware/retro-hunts/00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
  });

  it('stores a bundle imported twice at once only once, and audits it once', async () => {
    const bytes = testBundle({ malware: 'Heron', domains: ['heron-sync.net'], processes: [] });
    const store = platform.spyware.store;
    const results = await Promise.all([
      store.import('heron.stix2', bytes, 'upload', null),
      store.import('heron.stix2', bytes, 'cli', null),
      store.import('heron.stix2', bytes, 'folder', null),
    ]);
    expect(new Set(results.map((r) => r.set.id)).size).toBe(1);
    expect(results.map((r) => r.set.origin)).toEqual(['upload', 'upload', 'upload']);
    const imported = (await platform.audit.list(200)).filter(
      (e) => e.action === 'spyware.indicators.imported' && e.details.name === 'heron.stix2',
    );
    expect(imported).toHaveLength(1);
    // The import's retro-hunt runs in the background: it ends here, not in the next test's hunter.
    for (const result of results) await huntDone(result.retroHunt.id);
    const removals = await Promise.allSettled([
      store.remove(results[0].set.id, null),
      store.remove(results[0].set.id, null),
    ]);
    expect(removals.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('hands the new set alone to the stored scans’ retro-hunter, and reports its hits and progress', async () => {
    const store = platform.spyware.store;
    const seen: { count: number; sources: string[] }[] = [];
    const previous = store.useScanRetroHunter({
      retroHunt: (matcher, onProgress) => {
        seen.push({ count: matcher.count, sources: matcher.sources });
        onProgress(1, 2);
        onProgress(2, 2);
        const hit = matcher.process('heronsvc');
        return Promise.resolve(
          hit
            ? [
                {
                  scanId: '0b0f6a2c-6a43-4c57-9f6c-5f0cb2a1e001',
                  deviceId: '0b0f6a2c-6a43-4c57-9f6c-5f0cb2a1e002',
                  device: 'iPhone de Claire',
                  owner: 'claire.martin@interieur.gouv.fr',
                  detections: 1,
                  malware: hit.malware,
                },
              ]
            : [],
        );
      },
    });
    try {
      const res = await upload(
        'heron-2.stix2',
        testBundle({ malware: 'Heron', domains: ['heron-push.org'], processes: ['heronsvc'] }),
      );
      expect(res.status).toBe(201);
      const hunt = await huntDone((res.json as IndicatorImport).retroHunt.id);
      expect(seen).toEqual([{ count: 2, sources: ['heron-2.stix2'] }]);
      expect(hunt.scanHits).toEqual([
        expect.objectContaining({ device: 'iPhone de Claire', malware: ['Heron'] }),
      ]);
      expect(hunt.progress.done).toBe(hunt.progress.total);
      expect(hunt.progress.total).toBeGreaterThanOrEqual(2);
    } finally {
      store.useScanRetroHunter(previous);
    }
  });

  it('imports a bundle dropped into the watched folder, and alerts on a malformed one without stopping', async () => {
    writeFileSync(
      join(iocsDir, 'kestrel.json'),
      testBundle({ malware: 'Kestrel', domains: ['kestrel-push.io'], processes: [] }),
    );
    await expect
      .poll(() => platform.spyware.store.list().find((s) => s.name === 'kestrel.json')?.origin, {
        timeout: 10_000,
      })
      .toBe('folder');
    await expect.poll(async () => (await ask(port, 'kestrel-push.io')).rcode).toBe('NXDOMAIN');

    // Changed in place: the set is replaced, and the resolver follows.
    writeFileSync(
      join(iocsDir, 'kestrel.json'),
      testBundle({ malware: 'Kestrel', domains: ['kestrel-push.io', 'kestrel-cdn.io'], processes: [] }),
    );
    await expect
      .poll(() => platform.spyware.store.list().find((s) => s.name === 'kestrel.json')?.indicators, {
        timeout: 10_000,
      })
      .toBe(2);
    await expect.poll(async () => (await ask(port, 'kestrel-cdn.io')).rcode).toBe('NXDOMAIN');

    writeFileSync(join(iocsDir, 'broken.stix2'), '{"type":"bundle","objects":[{"type":"indicator"}]}');
    const alert = await awaitAlert(platform, 'Indicator file refused: broken.stix2');
    expect(alert.severity).toBe('medium');
    expect(alert.details).toMatchObject({ error: expect.stringContaining('object #0') });
    expect(platform.spyware.store.list().some((s) => s.name === 'broken.stix2')).toBe(false);
    // The server still answers.
    expect((await admin.get('/api/spyware/indicator-sets')).status).toBe(200);
  });
});
