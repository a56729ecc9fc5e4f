/**
 * The fleet through the whole platform over HTTP, on a real database: an administrator asks for a
 * check of an agent's phone, the owner consents (or a signed form is attached, or consent is
 * withdrawn), the artifact is uploaded as a zip and scanned in the background against the shipped
 * indicators, the findings, timeline and report are read by whom may read them, an infection
 * raises one critical alert, a retro-hunt finds what new indicators name, and the retention sweep
 * deletes the raw extracts but keeps the findings.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Alert, Scan, SpywareDevice, TimelinePage } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { buildBugreport, writeBugreportZip } from '../../test-support/android-bugreport.js';
import { enrolWithTotp, type HttpAgent } from '../../test-support/http-agent.js';
import { CLEAN_IOS_BACKUP, writeIosBackup, type IosBackupFixture } from '../../test-support/ios-backup.js';
import { openTestPlatform, type TestPlatform } from '../../test-support/platform.js';
import { RecordingEngine } from '../../test-support/recording-engine.js';
import { IndicatorMatcher } from '../matcher.js';
import { loadIndicatorFolder } from '../stix.js';
import { testBundle } from '../store/test-bundle.js';
import { FleetFiles } from './files.js';
import { FleetRepository } from './fleet.repository.js';
import { FleetService, runScanner } from './fleet.service.js';
import { tarGz } from './archive-fixtures.js';

const OWNER = 'm.dupont@interieur.gouv.fr';
const OTHER = 'j.martin@interieur.gouv.fr';
const PURPOSE = 'Minister travelling abroad; check before and after the trip.';

let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let owner: HttpAgent;
let other: HttpAgent;
let work: string;

/** The clean backup with Pegasus' traces: a link to one of its domains, and one of its processes. */
const INFECTED: IosBackupFixture = {
  ...CLEAN_IOS_BACKUP,
  sms: [
    ...CLEAN_IOS_BACKUP.sms!,
    {
      text: 'Your parcel is waiting: https://weather4free.com/track?id=77',
      handle: '+33699999999',
      at: new Date('2023-02-03T09:20:15Z'),
    },
  ],
  dataUsage: [
    ...CLEAN_IOS_BACKUP.dataUsage!,
    { process: 'bh', first: new Date('2021-07-01T01:00:00Z'), last: new Date('2021-07-02T02:00:00Z') },
  ],
};

/** The folder `dir` as a zip, holding the folder itself (as Finder's "Compress" makes it). */
function zipFolder(dir: string): Buffer {
  const read = (path: string): Zippable => {
    const out: Zippable = {};
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      out[name] = statSync(full).isDirectory() ? read(full) : new Uint8Array(readFileSync(full));
    }
    return out;
  };
  return Buffer.from(zipSync({ [dir.split('/').pop()!]: read(dir) }));
}

async function backupZip(name: string, fixture: IosBackupFixture): Promise<Buffer> {
  return zipFolder(await writeIosBackup(join(work, name, '00008110-001A2B3C4D5E6F70'), fixture));
}

async function requestScan(
  device: { name: string; platform: 'ios' | 'android' },
  kind: Scan['kind'] = 'ios-backup',
  who = OWNER,
) {
  return admin.post('/api/spyware/scans', { owner: who, device, kind, purpose: PURPOSE });
}

const upload = (id: string, zip: Buffer, agent = admin) =>
  agent.upload(`/api/spyware/scans/${id}/artifact`, zip, 'application/zip');

async function scanned(id: string): Promise<Scan> {
  await platform.spyware.fleet.idle();
  const res = await admin.get(`/api/spyware/scans/${id}`);
  expect(res.status).toBe(200);
  return res.json as Scan;
}

const spywareAlerts = async (): Promise<Alert[]> =>
  (await platform.alerts.list('all', 200)).filter((a) => a.source === 'spyware');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rempart-fleet-'));
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: { REMPART_SPYWARE_UPLOAD_MAX_MB: '2', REMPART_SPYWARE_RAW_DAYS: '30' },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'rssi@interieur.gouv.fr', role: 'admin' }));
  ({ agent: owner } = await enrolWithTotp(platform, app, { email: OWNER, ip: '198.51.100.20' }));
  ({ agent: other } = await enrolWithTotp(platform, app, { email: OTHER, ip: '198.51.100.21' }));
}, 120_000);

afterAll(async () => {
  await app?.close();
  await platform?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a check of an iPhone, from the request to the verdict', () => {
  let scan: Scan;

  it('is asked for by an administrator, with a purpose, and waits for the owner', async () => {
    const res = await requestScan({ name: 'iPhone 14 Pro', platform: 'ios' });
    expect(res.status).toBe(201);
    scan = res.json as Scan;
    expect(scan).toMatchObject({
      status: 'awaiting_consent',
      kind: 'ios-backup',
      purpose: PURPOSE,
      requestedBy: 'rssi@interieur.gouv.fr',
      device: { name: 'iPhone 14 Pro', platform: 'ios', owner: OWNER },
      consent: null,
    });
    const audit = await platform.audit.list(20);
    expect(audit.find((e) => e.action === 'spyware.scan.requested')).toMatchObject({
      targetId: scan.id,
      actor: 'rssi@interieur.gouv.fr',
    });
  });

  it('is refused for an unknown owner, a malformed request, or an agent who is not an administrator', async () => {
    const unknown = await requestScan(
      { name: 'Phone', platform: 'ios' },
      'ios-backup',
      'nobody@interieur.gouv.fr',
    );
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('owner_unknown');
    const short = await admin.post('/api/spyware/scans', {
      owner: OWNER,
      device: { name: 'Phone', platform: 'ios' },
      kind: 'ios-backup',
      purpose: 'why',
    });
    expect(short.status).toBe(400);
    expect(short.json.error.code).toBe('validation_failed');
    const mismatch = await requestScan({ name: 'Pixel', platform: 'ios' }, 'android-bugreport');
    expect(mismatch.status).toBe(400);
    const byAgent = await owner.post('/api/spyware/scans', {
      owner: OWNER,
      device: { name: 'Mine', platform: 'ios' },
      kind: 'ios-backup',
      purpose: PURPOSE,
    });
    expect(byAgent.status).toBe(403);
    const devices = (await admin.get('/api/spyware/devices')).json as unknown as SpywareDevice[];
    expect(devices.map((d) => d.name)).toEqual(['iPhone 14 Pro']);
  });

  it('refuses the artifact while the owner has not consented', async () => {
    const res = await upload(scan.id, await backupZip('early', CLEAN_IOS_BACKUP));
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('consent_required');
    expect((await scanned(scan.id)).status).toBe('awaiting_consent');
  });

  it('lets no one but the owner consent: not another agent, not an administrator', async () => {
    const byOther = await other.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    expect(byOther.status).toBe(403);
    expect(byOther.json.error.code).toBe('consent_owner_only');
    const byAdmin = await admin.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.json.error.code).toBe('consent_owner_only');
    expect((await scanned(scan.id)).status).toBe('awaiting_consent');
    const denied = (await platform.audit.list(50)).filter(
      (e) => e.action === 'spyware.consent.given' && e.outcome === 'denied',
    );
    expect(denied.map((e) => e.actor).sort()).toEqual([OTHER, 'rssi@interieur.gouv.fr'].sort());
  });

  it('becomes ready when the owner consents, signed in', async () => {
    const res = await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ready', consent: { by: 'agent', agent: OWNER } });
    const again = await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    expect(again.status).toBe(409);
  });

  it('refuses an upload that is not a zip, a zip cut short, or a zip of something else, changing nothing', async () => {
    const zip = await backupZip('refused', INFECTED);
    const notZip = await upload(scan.id, Buffer.from('%PDF-1.7 this is not a backup'));
    expect(notZip.status).toBe(400);
    expect(notZip.json.error).toMatchObject({ code: 'artifact_invalid' });
    expect(notZip.json.error.message).toMatch(/neither a zip nor a tar.gz/);
    const cut = await upload(scan.id, zip.subarray(0, Math.floor(zip.length / 2)));
    expect(cut.status).toBe(400);
    expect(cut.json.error.code).toBe('artifact_invalid');
    const other = await upload(scan.id, Buffer.from(zipSync({ 'notes.txt': new Uint8Array([104, 105]) })));
    expect(other.status).toBe(400);
    expect(other.json.error).toMatchObject({ code: 'artifact_invalid' });
    expect(other.json.error.message).toMatch(/not an iOS backup/);
    const tooLarge = await upload(scan.id, Buffer.alloc(3 * 1024 * 1024));
    expect(tooLarge.status).toBe(413);
    expect((await scanned(scan.id)).status).toBe('ready');
    expect(existsSync(join(platform.config.dataDir, 'spyware', scan.id))).toBe(false);
  });

  it('scans the uploaded backup in the background and finds Pegasus', async () => {
    const res = await upload(scan.id, await backupZip('infected', INFECTED));
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('scanning');
    const done = await scanned(scan.id);
    expect(done).toMatchObject({ status: 'done', verdict: 'infected', malware: ['Pegasus'], error: null });
    const indicators = done.detections.map((d) => d.detection?.indicator);
    expect(indicators).toContain('weather4free.com');
    expect(indicators).toContain('bh');
    expect(done.deviceInfo).toMatchObject({ serial: 'F2LXK0AAAAAA' });
    expect(done.timelineCount).toBeGreaterThan(done.detections.length);
    expect(done.artifacts.find((a) => a.artifact === 'sms')).toMatchObject({ status: 'read' });
    expect(done.indicators?.count).toBeGreaterThan(1000);
    expect(Date.parse(done.rawKeptUntil!) - Date.parse(done.finishedAt!)).toBe(30 * 86_400_000);
    // The upload is kept for retro-hunts; its extraction is gone.
    expect(readdirSync(join(platform.config.dataDir, 'spyware', scan.id))).toEqual(['artifact']);
  });

  it('shows the device infected, and raises one critical alert naming the agent, the device, the malware and the scan', async () => {
    const devices = (await admin.get('/api/spyware/devices')).json as unknown as SpywareDevice[];
    expect(devices.find((d) => d.name === 'iPhone 14 Pro')).toMatchObject({
      status: 'infected',
      malware: ['Pegasus'],
      owner: { email: OWNER },
    });
    const alerts = await spywareAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      severity: 'critical',
      details: { scanId: scan.id, owner: OWNER, device: 'iPhone 14 Pro', malware: ['Pegasus'] },
    });
    expect(alerts[0]!.title).toContain(OWNER);
    expect(alerts[0]!.title).toContain('Pegasus');
  });

  it('lets the owner see their device and its results, and no other agent', async () => {
    const mine = (await owner.get('/api/spyware/devices')).json as unknown as SpywareDevice[];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: 'infected' });
    const detail = await owner.get(`/api/spyware/devices/${mine[0]!.id}`);
    expect(detail.status).toBe(200);
    expect(detail.json.scans[0]).toMatchObject({ id: scan.id, verdict: 'infected' });
    expect((await owner.get(`/api/spyware/scans/${scan.id}`)).status).toBe(200);

    expect((await other.get('/api/spyware/devices')).json).toEqual([]);
    expect((await other.get(`/api/spyware/devices/${mine[0]!.id}`)).status).toBe(404);
    expect((await other.get(`/api/spyware/scans/${scan.id}`)).status).toBe(404);
    expect((await other.get(`/api/spyware/scans/${scan.id}/timeline`)).status).toBe(404);
  });

  it('pages through the timeline, all of it or only the detections', async () => {
    const done = await scanned(scan.id);
    const first = (await admin.get(`/api/spyware/scans/${scan.id}/timeline?limit=5`)).json as TimelinePage;
    expect(first.total).toBe(done.timelineCount);
    expect(first.events).toHaveLength(5);
    const rest = (await admin.get(`/api/spyware/scans/${scan.id}/timeline?offset=5&limit=1000`))
      .json as TimelinePage;
    expect(rest.events).toHaveLength(done.timelineCount - 5);
    expect(rest.events[0]).not.toEqual(first.events[4]);
    const hits = (await owner.get(`/api/spyware/scans/${scan.id}/timeline?detections=only`))
      .json as TimelinePage;
    expect(hits.total).toBe(done.detections.length);
    expect(hits.events.every((e) => e.detection !== undefined)).toBe(true);
    const sms = (await admin.get(`/api/spyware/scans/${scan.id}/timeline?artifact=sms`)).json as TimelinePage;
    expect(sms.events.length).toBeGreaterThan(0);
    expect(sms.events.every((e) => e.artifact === 'sms')).toBe(true);
    const bad = await admin.get(`/api/spyware/scans/${scan.id}/timeline?limit=0`);
    expect(bad.status).toBe(400);
  });

  it('renders the report as an HTML page naming the detections', async () => {
    const res = await owner.get(`/api/spyware/scans/${scan.id}/report.html`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.raw.body).toContain('weather4free.com');
    expect(res.raw.body).toContain('iPhone 14 Pro');
    expect(res.raw.body).not.toContain('<script');
  });

  it('takes no second artifact for a scan that is done', async () => {
    const res = await upload(scan.id, await backupZip('second', CLEAN_IOS_BACKUP));
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('conflict');
  });
});

describe('a check consented by a signed form, of a clean phone', () => {
  let scan: Scan;
  const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

  it('accepts the form as a PDF from an administrator, and refuses what is not one', async () => {
    scan = (await requestScan({ name: 'iPad', platform: 'ios' })).json as Scan;
    const url = `/api/spyware/scans/${scan.id}/consent-form?fileName=${encodeURIComponent('consent dupont.pdf')}`;
    const html = await admin.upload(url, Buffer.from('<html>consent</html>'), 'application/pdf');
    expect(html.status).toBe(400);
    expect(html.json.error.code).toBe('consent_form_invalid');
    const byAgent = await owner.upload(url, PDF, 'application/pdf');
    expect(byAgent.status).toBe(403);
    const res = await admin.upload(url, PDF, 'application/pdf');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: 'ready',
      consent: { by: 'form', attachedBy: 'rssi@interieur.gouv.fr', fileName: 'consent dupont.pdf' },
    });
    expect(res.json.consent.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await platform.audit.list(10)).some((e) => e.action === 'spyware.consent.form_attached')).toBe(
      true,
    );
  });

  it('gives the form back to the owner and administrators, and to no other agent', async () => {
    const res = await owner.get(`/api/spyware/scans/${scan.id}/consent-form`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.raw.rawPayload).toEqual(PDF);
    expect((await admin.get(`/api/spyware/scans/${scan.id}/consent-form`)).status).toBe(200);
    expect((await other.get(`/api/spyware/scans/${scan.id}/consent-form`)).status).toBe(404);
  });

  it('finds nothing in a clean backup, and raises no alert', async () => {
    expect((await upload(scan.id, await backupZip('clean', CLEAN_IOS_BACKUP))).status).toBe(202);
    const done = await scanned(scan.id);
    expect(done).toMatchObject({ status: 'done', verdict: 'clean', malware: [], detections: [] });
    const device = ((await admin.get('/api/spyware/devices')).json as unknown as SpywareDevice[]).find(
      (d) => d.name === 'iPad',
    );
    expect(device).toMatchObject({ status: 'clean', detections: 0 });
    expect(await spywareAlerts()).toHaveLength(1);
  });

  it('finds in it, in a retro-hunt, what newly imported indicators name, and raises the alert', async () => {
    const matcher = new IndicatorMatcher(
      [
        {
          type: 'domain',
          value: 'wikipedia.org',
          indicatorId: 'indicator--0b7f0a52-8c59-4d1c-9f11-111111111111',
          source: 'nightjar.stix2',
          malware: ['Nightjar'],
        },
      ],
      ['nightjar.stix2'],
    );
    const progress: [number, number][] = [];
    const hits = await platform.spyware.fleet.retroHunt(matcher, (done, total) =>
      progress.push([done, total]),
    );
    expect(hits.map((h) => h.scanId).sort()).toContain(scan.id);
    expect(hits.find((h) => h.scanId === scan.id)).toMatchObject({
      owner: OWNER,
      device: 'iPad',
      malware: ['Nightjar'],
    });
    expect(progress.at(-1)).toEqual([2, 2]);
    const after = await scanned(scan.id);
    expect(after).toMatchObject({ verdict: 'infected', malware: ['Nightjar'] });
    const hitsOnTimeline = (await admin.get(`/api/spyware/scans/${scan.id}/timeline?detections=only`))
      .json as TimelinePage;
    expect(hitsOnTimeline.total).toBe(after.detections.length);
    expect(hitsOnTimeline.total).toBeGreaterThan(0);
    const whole = (await admin.get(`/api/spyware/scans/${scan.id}/timeline?limit=1`)).json as TimelinePage;
    expect(whole.total).toBe(after.timelineCount);
    const alerts = await spywareAlerts();
    expect(alerts.filter((a) => a.details.scanId === scan.id)).toHaveLength(1);
    expect(alerts.find((a) => a.details.scanId === scan.id)?.severity).toBe('critical');
    // The same indicators again find nothing new, nor do Pegasus' published ones in another bundle.
    const again = await platform.spyware.fleet.retroHunt(matcher, () => {});
    expect(again.filter((h) => h.scanId === scan.id)).toEqual([]);
    const copied = await platform.spyware.fleet.retroHunt(
      new IndicatorMatcher(
        [
          {
            type: 'domain',
            value: 'weather4free.com',
            indicatorId: 'indicator--5e0e4a3c-9a77-4f0e-8d7c-222222222222',
            source: 'copy-of-pegasus.stix2',
            malware: ['Pegasus'],
          },
        ],
        ['copy-of-pegasus.stix2'],
      ),
      () => {},
    );
    expect(copied).toEqual([]);
  });
});

describe('an import of indicators into the store', () => {
  it('starts a retro-hunt that finds them in the kept scans, and alerts', async () => {
    const before = (await spywareAlerts()).length;
    const imported = await platform.spyware.store.import(
      'kingfisher.stix2',
      testBundle({ malware: 'Kingfisher', domains: ['mmg.whatsapp.net'] }),
      'cli',
      null,
    );
    const hunt = await platform.spyware.store.retroHuntDone(imported.retroHunt.id);
    expect(hunt.status).toBe('done');
    expect(hunt.scanHits.map((h) => [h.device, h.malware]).sort()).toEqual([
      ['iPad', ['Kingfisher']],
      ['iPhone 14 Pro', ['Kingfisher']],
    ]);
    expect((await spywareAlerts()).length).toBe(before + 2);
    await platform.spyware.store.remove(imported.set.id, null);
  });
});

describe('consent withdrawn', () => {
  it('stops the scan before it runs, and its artifact is refused', async () => {
    const scan = (await requestScan({ name: 'Old iPhone', platform: 'ios' })).json as Scan;
    await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    expect((await other.post(`/api/spyware/scans/${scan.id}/withdraw`)).status).toBe(403);
    const res = await owner.post(`/api/spyware/scans/${scan.id}/withdraw`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('withdrawn');
    const up = await upload(scan.id, await backupZip('withdrawn', CLEAN_IOS_BACKUP));
    expect(up.status).toBe(409);
    expect(up.json.error.code).toBe('consent_required');
    expect((await platform.audit.list(10)).some((e) => e.action === 'spyware.consent.withdrawn')).toBe(true);
  });
});

describe('an Android bug report', () => {
  it('is scanned from the zip adb bugreport writes', async () => {
    const scan = (await requestScan({ name: 'Pixel 6', platform: 'android' }, 'android-bugreport'))
      .json as Scan;
    await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    const zip = readFileSync(
      writeBugreportZip(buildBugreport({ property: 'sys.brand.note', domain: 'automatedrelax.org' }), work),
    );
    expect((await upload(scan.id, zip)).status).toBe(202);
    const done = await scanned(scan.id);
    expect(done).toMatchObject({ status: 'done', verdict: 'infected', kind: 'android-bugreport' });
    expect(done.detections.map((d) => d.detection?.indicator)).toEqual(
      expect.arrayContaining(['sys.brand.note', 'automatedrelax.org']),
    );
    expect(done.deviceInfo.build).toBeDefined();
  });
});

describe('a backup that cannot be read', () => {
  it('ends failed with the reason, naming no path of the server, and takes the artifact again', async () => {
    const scan = (await requestScan({ name: 'Damaged iPhone', platform: 'ios' })).json as Scan;
    await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    const damaged = Buffer.from(
      zipSync({ backup: { 'Manifest.db': new Uint8Array(2048).fill(7), 'Info.plist': new Uint8Array(10) } }),
    );
    expect((await upload(scan.id, damaged)).status).toBe(202);
    const failed = await scanned(scan.id);
    expect(failed).toMatchObject({ status: 'failed', verdict: null, timelineCount: 0 });
    expect(failed.error).toMatch(/\S/);
    expect(failed.error).not.toContain(platform.config.dataDir);
    expect(existsSync(join(platform.config.dataDir, 'spyware', scan.id))).toBe(false);
    const device = ((await admin.get('/api/spyware/devices')).json as unknown as SpywareDevice[]).find(
      (d) => d.name === 'Damaged iPhone',
    );
    expect(device?.status).toBe('failed');

    expect((await upload(scan.id, await backupZip('retry', CLEAN_IOS_BACKUP))).status).toBe(202);
    expect(await scanned(scan.id)).toMatchObject({ status: 'done', verdict: 'clean', error: null });
  });
});

describe('a sysdiagnose, as the .tar.gz the phone writes', () => {
  it('is extracted and its shutdown.log scanned', async () => {
    const scan = (await requestScan({ name: 'iPhone 15', platform: 'ios' }, 'sysdiagnose')).json as Scan;
    await owner.post(`/api/spyware/scans/${scan.id}/consent`, { consent: true });
    const root = 'sysdiagnose_2024.01.10_15-32-10+0100_iPhone-OS_iPhone_21C66';
    const archive = tarGz([
      { name: `${root}/`, type: '5' },
      {
        name: `${root}/system_logs.logarchive/Extra/shutdown.log`,
        data: [
          'remaining client pid: 312 (/usr/libexec/backboardd)',
          'remaining client pid: 5120 (/private/var/tmp/fservernetd)',
          'SIGTERM: [1675502415] Cleaned up 1 processes',
        ].join('\n'),
      },
    ]);
    expect((await upload(scan.id, archive)).status).toBe(202);
    const done = await scanned(scan.id);
    expect(done).toMatchObject({ status: 'done', verdict: 'infected', malware: ['Pegasus'] });
    expect(done.deviceInfo).toMatchObject({ model: 'iPhone', build: '21C66' });
    expect(done.detections[0]?.record).toContain('/private/var/tmp/fservernetd');
  });
});

describe('retention of the raw extracts', () => {
  it('deletes the upload and the timeline when the retention ends, and keeps the findings', async () => {
    const devices = (await admin.get('/api/spyware/devices')).json as unknown as SpywareDevice[];
    const iphone = devices.find((d) => d.name === 'iPhone 14 Pro')!;
    const scanId = ((await admin.get(`/api/spyware/devices/${iphone.id}`)).json.scans[0] as Scan).id;
    expect(await platform.spyware.fleet.sweep()).toBe(0);
    // Back to the present afterwards, where the test's sessions are still open.
    const now = platform.clock.now();
    platform.clock.advance(31 * 86_400_000);
    expect(await platform.spyware.fleet.sweep()).toBeGreaterThanOrEqual(5);
    platform.clock.set(now);
    const scan = await scanned(scanId);
    // Pegasus from the scan, Nightjar and Kingfisher from the retro-hunts above.
    expect(scan).toMatchObject({
      status: 'done',
      verdict: 'infected',
      malware: ['Kingfisher', 'Nightjar', 'Pegasus'],
    });
    expect(scan.detections.length).toBeGreaterThan(0);
    expect(scan.rawPurgedAt).not.toBeNull();
    const page = (await admin.get(`/api/spyware/scans/${scanId}/timeline`)).json as TimelinePage;
    expect(page).toEqual({ total: 0, events: [] });
    expect(existsSync(join(platform.config.dataDir, 'spyware', scanId))).toBe(false);
    const report = await admin.get(`/api/spyware/scans/${scanId}/report.html`);
    expect(report.raw.body).toContain('weather4free.com');
    expect(report.raw.body).toMatch(/deleted on .* at the end of its retention/);
    // A retro-hunt has nothing left to read.
    expect(await platform.spyware.fleet.retroHunt(new IndicatorMatcher([]), () => {})).toEqual([]);
  });
});

describe('retention of 0 days', () => {
  it('deletes the raw extracts as soon as the scan ends, keeping the findings', async () => {
    const dir = join(work, 'zero-days');
    const fleet = new FleetService({
      repo: new FleetRepository(platform.database.db, platform.database.copyRows),
      files: new FleetFiles(dir),
      indicators: { matcher: () => IndicatorMatcher.from(loadIndicatorFolder()) },
      audit: platform.audit,
      alerts: platform.alerts,
      clock: platform.clock,
      log: platform.log,
      config: { rawDays: 0, uploadMaxBytes: 2 * 1024 * 1024 },
      agentByEmail: (email) => platform.identityRepo.agentByEmail(email),
      agentsByIds: (ids) => platform.identityRepo.agentsByIds(ids),
    });
    await fleet.start();
    const me = (await platform.identityRepo.agentByEmail(OWNER))!;
    const viewer = { id: me.id, email: me.email, role: me.role };
    const adminRow = (await platform.identityRepo.agentByEmail('rssi@interieur.gouv.fr'))!;
    const actor = { id: adminRow.id, email: adminRow.email, role: adminRow.role };
    const scan = await fleet.requestScan(
      actor,
      {
        owner: OWNER,
        device: { name: 'Short-lived', platform: 'ios' },
        kind: 'ios-backup',
        purpose: PURPOSE,
      },
      null,
    );
    await fleet.consent(viewer, scan.id, null);
    const zip = await backupZip('zero-days', INFECTED);
    await fleet.uploadArtifact(actor, scan.id, Readable.from([zip]), { ip: null });
    await fleet.idle();
    const done = await fleet.scan(actor, scan.id);
    expect(done).toMatchObject({ status: 'done', verdict: 'infected', malware: ['Pegasus'] });
    expect(done.rawPurgedAt).toBe(done.finishedAt);
    expect(done.detections.length).toBeGreaterThan(0);
    expect(await fleet.timeline(actor, scan.id, { offset: 0, limit: 10, detections: 'all' })).toEqual({
      total: 0,
      events: [],
    });
    expect(existsSync(join(dir, scan.id))).toBe(false);
    await fleet.close();
  });
});

describe('the scan queue', () => {
  it('runs one scan at a time, showing the waiting one queued and the running one its progress', async () => {
    let active = 0;
    let most = 0;
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const firstRunning = new Promise<void>((resolve) => (reached = resolve));
    const dir = join(work, 'queue');
    const fleet = new FleetService({
      repo: new FleetRepository(platform.database.db, platform.database.copyRows),
      files: new FleetFiles(dir),
      indicators: { matcher: () => IndicatorMatcher.from(loadIndicatorFolder()) },
      audit: platform.audit,
      alerts: platform.alerts,
      clock: platform.clock,
      log: platform.log,
      config: { rawDays: 30, uploadMaxBytes: 2 * 1024 * 1024 },
      agentByEmail: (email) => platform.identityRepo.agentByEmail(email),
      agentsByIds: (ids) => platform.identityRepo.agentsByIds(ids),
      scanner: async (kind, root, options) => {
        active++;
        most = Math.max(most, active);
        order.push(root);
        options.onProgress?.({ artifact: 'sms', done: 2, total: 13 });
        if (order.length === 1) {
          reached();
          await gate;
        }
        const report = await runScanner(kind, root, options);
        active--;
        return report;
      },
    });
    const me = (await platform.identityRepo.agentByEmail(OWNER))!;
    const viewer = { id: me.id, email: me.email, role: me.role };
    const adminRow = (await platform.identityRepo.agentByEmail('rssi@interieur.gouv.fr'))!;
    const actor = { id: adminRow.id, email: adminRow.email, role: adminRow.role };
    const ask = async (name: string) => {
      const scan = await fleet.requestScan(
        actor,
        { owner: OWNER, device: { name, platform: 'ios' }, kind: 'ios-backup', purpose: PURPOSE },
        null,
      );
      await fleet.consent(viewer, scan.id, null);
      return scan;
    };
    const first = await ask('Queued 1');
    const second = await ask('Queued 2');
    await fleet.uploadArtifact(actor, first.id, Readable.from([await backupZip('q1', CLEAN_IOS_BACKUP)]), {
      ip: null,
    });
    await firstRunning;
    await fleet.uploadArtifact(actor, second.id, Readable.from([await backupZip('q2', CLEAN_IOS_BACKUP)]), {
      ip: null,
    });
    await expect
      .poll(async () => (await fleet.scan(actor, first.id)).progress)
      .toEqual({ artifact: 'sms', done: 2, total: 13 });
    expect(await fleet.scan(actor, second.id)).toMatchObject({
      status: 'scanning',
      startedAt: null,
      progress: { artifact: 'queued', done: 0, total: 0 },
    });
    release();
    await fleet.idle();
    expect(most).toBe(1);
    expect(order).toHaveLength(2);
    expect((await fleet.scan(actor, first.id)).status).toBe('done');
    expect((await fleet.scan(actor, second.id)).status).toBe('done');
    await fleet.close();
  });
});

describe('a restart', () => {
  it('marks a scan left running as failed with a clear message', async () => {
    const scan = (await requestScan({ name: 'Interrupted', platform: 'ios' })).json as Scan;
    const repo = new FleetRepository(platform.database.db, platform.database.copyRows);
    await repo.updateScan(scan.id, { status: 'scanning', progress: { artifact: 'sms', done: 2, total: 13 } });
    const restarted = new FleetService({
      repo,
      files: new FleetFiles(join(platform.config.dataDir, 'spyware')),
      indicators: { matcher: () => new IndicatorMatcher([]) },
      audit: platform.audit,
      alerts: platform.alerts,
      clock: platform.clock,
      log: platform.log,
      config: { rawDays: 30, uploadMaxBytes: 1024 },
      agentByEmail: (email) => platform.identityRepo.agentByEmail(email),
      agentsByIds: (ids) => platform.identityRepo.agentsByIds(ids),
    });
    await restarted.start();
    await restarted.close();
    const after = await scanned(scan.id);
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/server stopped while this scan ran/);
  });
});
