import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RempartError, ScanReport } from '@rempart/core';
import { writeAndroidqf, type AndroidPlants } from '../../test-support/android-bugreport.js';
import { IndicatorMatcher } from '../matcher.js';
import { loadIndicatorFolder } from '../stix.js';
import { toldReport } from '../scan.js';
import { scanAndroidqf } from './androidqf.js';

const bundles = loadIndicatorFolder();
const matcher = IndicatorMatcher.from(bundles);
const scan = async (dir: string) =>
  toldReport(await scanAndroidqf(dir, { matcher, now: () => new Date('2024-05-03T08:00:00Z') }));

/** NoviSpy's app, with the digests of one of its APKs and of its signing certificate. */
const NOVISPY_APK = 'd55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af';
const NOVISPY_CERTIFICATE = '3ac97735164824657b683e805133b1274b2dedabf9fdd6aa9aca31089d501e64';
const PLANTS: AndroidPlants = {
  property: 'sys.brand.doc',
  app: {
    id: 'com.gu.activity',
    installedAt: '2024-04-28 21:40:12',
    sha256: NOVISPY_APK,
    certificateSha256: NOVISPY_CERTIFICATE,
  },
  process: '/data/local/tmp/dropbox',
  file: '/data/local/tmp/wd/fs.db',
  domain: 'automatedrelax.org',
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rempart-androidqf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODULES = [
  'device',
  'getprop',
  'settings',
  'packages',
  'processes',
  'appops',
  'accessibility',
  'receivers',
  'dbinfo',
  'battery_daily',
  'battery_history',
  'files',
  'sms',
  'logcat',
];
const found = (report: ScanReport, artifact: string) =>
  report.detections.filter((d) => d.artifact === artifact);

describe('scanning an androidqf acquisition', () => {
  it('finds nothing in a clean one, every module read', async () => {
    const report = await scan(writeAndroidqf(dir, {}, 'clean'));
    expect(report.detections).toEqual([]);
    expect(report.kind).toBe('androidqf');
    expect(report.artifacts.map((a) => [a.artifact, a.status])).toEqual(MODULES.map((m) => [m, 'read']));
    expect(report.device).toMatchObject({ model: 'Pixel 6', osVersion: '13', serial: '1A051FDEE00B9X' });
    const records = Object.fromEntries(report.artifacts.map((a) => [a.artifact, a.records]));
    // The keyboard is the one setting naming an app; none weakens the checks of apps.
    expect(records).toMatchObject({ getprop: 20, settings: 1, packages: 6, processes: 3, files: 2, sms: 1 });
    const whatsapp = report.timeline.find(
      (e) => e.artifact === 'packages' && e.record.includes('com.whatsapp'),
    );
    // androidqf's list has no times: they come from dumpsys.txt.
    expect(whatsapp?.at).toBe('2023-02-11T09:40:03.000Z');
    expect(whatsapp?.record).toContain('from the store com.android.vending');
    expect(() => ScanReport.parse(report)).not.toThrow();
  });

  it('finds each planted trace, by its app id, APK digest, certificate, process, file, setting and domain', async () => {
    const report = await scan(writeAndroidqf(dir, PLANTS, 'infected'));
    expect(report.artifacts.every((a) => a.status === 'read')).toBe(true);

    const app = found(report, 'packages');
    expect(app.map((e) => e.detection?.type)).toEqual(['app-id', 'sha256', 'app-cert']);
    for (const e of app) {
      expect(e.detection?.malware).toEqual(['NoviSpy']);
      expect(e.at).toBe('2024-04-28T21:40:12.000Z');
      expect(e.record).toContain(
        'com.gu.activity, installed outside an app store, by com.google.android.packageinstaller',
      );
    }

    expect(found(report, 'processes').map((e) => [e.detection?.type, e.detection?.indicator])).toEqual([
      ['app-id', 'com.gu.activity'],
      ['file-path', '/data/local/tmp/dropbox'],
    ]);
    expect(found(report, 'getprop')).toMatchObject([
      { detection: { indicator: 'sys.brand.doc', source: 'android_campaign_2023.stix2' } },
    ]);
    expect(found(report, 'files')).toMatchObject([
      {
        at: '2024-04-30T23:33:20.000Z',
        record: '/data/local/tmp/wd/fs.db (40960 bytes)',
        detection: { indicator: '/data/local/tmp/wd/fs.db', malware: ['Predator'] },
      },
    ]);
    expect(found(report, 'settings')).toMatchObject([
      {
        file: 'settings_secure.txt',
        record: expect.stringContaining('enabled_accessibility_services=com.gu.activity/'),
        detection: { type: 'app-id', indicator: 'com.gu.activity' },
      },
    ]);
    expect(report.timeline.find((e) => e.record.includes('package_verifier_enable=0'))?.record).toContain(
      'Play Protect does not check the apps installed',
    );
    expect(found(report, 'sms')).toMatchObject([
      { at: '2024-05-02T10:04:40.000Z', detection: { type: 'domain', indicator: 'automatedrelax.org' } },
    ]);
    expect(found(report, 'logcat')).toMatchObject([
      { at: null, detection: { indicator: 'automatedrelax.org' } },
    ]);
    for (const artifact of [
      'appops',
      'accessibility',
      'receivers',
      'dbinfo',
      'battery_daily',
      'battery_history',
    ])
      expect(found(report, artifact).length).toBeGreaterThan(0);
    expect(() => ScanReport.parse(report)).not.toThrow();
  });

  it('fails only the module of a malformed file, naming the file', async () => {
    const root = writeAndroidqf(dir, PLANTS, 'malformed');
    writeFileSync(join(root, 'packages.json'), JSON.stringify([{ name: 5, files: 'none' }]));
    writeFileSync(join(root, 'files.json'), '[{"path": "/data/local/tmp/wd/fs.db",');
    const report = await scan(root);
    const byName = Object.fromEntries(report.artifacts.map((a) => [a.artifact, a]));
    expect(byName.packages).toMatchObject({ status: 'failed' });
    expect(byName.packages?.message).toMatch(
      /^packages\.json: not what androidqf writes: 0\.name: .*; 0\.files: /,
    );
    expect(byName.files).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/^files\.json: not JSON/),
    });
    expect(report.artifacts.filter((a) => a.status !== 'read').map((a) => a.artifact)).toEqual([
      'packages',
      'files',
    ]);
    // The other modules still find what they find.
    expect(found(report, 'processes')).toHaveLength(2);
  });

  it('says which files an acquisition lacks', async () => {
    const root = join(dir, 'partial');
    mkdirSync(root);
    writeFileSync(join(root, 'getprop.txt'), '[ro.product.model]: [Pixel 6]\n');
    const report = await scan(root);
    expect(report.artifacts.filter((a) => a.status === 'read').map((a) => a.artifact)).toEqual([
      'device',
      'getprop',
    ]);
    expect(report.artifacts.find((a) => a.artifact === 'packages')?.message).toBe('no packages.json');
    expect(report.artifacts.find((a) => a.artifact === 'appops')?.message).toBe('no dumpsys.txt');
  });

  it('refuses a folder with none of androidqf’s files, a file, and a path that is not there', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'notes.txt'), 'x');
    const refused = async (path: string, message: RegExp) => {
      const error: unknown = await scan(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RempartError);
      expect((error as RempartError).code).toBe('validation_failed');
      expect((error as RempartError).message).toContain(path);
      expect((error as RempartError).message).toMatch(message);
    };
    await refused(empty, /not an androidqf acquisition/);
    await refused(join(empty, 'notes.txt'), /not a folder/);
    await refused(join(dir, 'absent'), /cannot read \(ENOENT\)/);
  });
});
