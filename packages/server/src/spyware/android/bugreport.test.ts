import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RempartError, ScanReport, type TimelineEvent } from '@rempart/core';
import {
  buildBugreport,
  writeBugreportFolder,
  writeBugreportZip,
  type AndroidPlants,
} from '../../test-support/android-bugreport.js';
import { IndicatorMatcher } from '../matcher.js';
import { loadIndicatorFolder } from '../stix.js';
import { toldReport } from '../scan.js';
import { scanAndroidBugreport } from './bugreport.js';

const bundles = loadIndicatorFolder();
const matcher = IndicatorMatcher.from(bundles);
const now = () => new Date('2024-05-03T08:00:00Z');
const scan = async (path: string) => toldReport(await scanAndroidBugreport(path, { matcher, now }));

/** Traces of three published campaigns, each from the shipped bundles. */
const PLANTS: AndroidPlants = {
  property: 'sys.brand.note',
  app: { id: 'com.gu.activity', installedAt: '2024-04-28 21:40:12' },
  process: '/data/local/tmp/dropbox',
  file: '/data/local/tmp/wd/fs.db',
  domain: 'automatedrelax.org',
  removedApp: {
    id: 'com.serv.services',
    installedAt: '2024-04-28 22:05:00',
    removedAt: '2024-05-01 09:00:00',
  },
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rempart-bugreport-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const status = (report: ScanReport) =>
  Object.fromEntries(report.artifacts.map((a) => [a.artifact, a.status]));
const found = (report: ScanReport, artifact: string): TimelineEvent[] =>
  report.detections.filter((d) => d.artifact === artifact);

describe('the shipped bundles', () => {
  it('hold the indicators planted here', () => {
    const values = (source: string) =>
      bundles.find((b) => b.source === source)!.indicators.map((i) => i.value);
    expect(values('novispy.stix2')).toEqual(expect.arrayContaining(['com.gu.activity', 'com.serv.services']));
    expect(values('android_campaign_2023.stix2')).toEqual(
      expect.arrayContaining(['sys.brand.note', '/data/local/tmp/dropbox', 'automatedrelax.org']),
    );
    expect(values('cytrox.stix2')).toContain('/data/local/tmp/wd/fs.db');
  });
});

describe('scanning a clean bug report', () => {
  let report: ScanReport;
  beforeAll(async () => {
    report = await scan(writeBugreportZip(buildBugreport(), dir, 'clean.zip'));
  });

  it('finds nothing, and says so with a valid report', () => {
    expect(report.detections).toEqual([]);
    expect(() => ScanReport.parse(report)).not.toThrow();
    expect(report.kind).toBe('android-bugreport');
  });

  it('reads every module, each with its records', () => {
    expect(status(report)).toEqual({
      device: 'read',
      getprop: 'read',
      packages: 'read',
      processes: 'read',
      appops: 'read',
      accessibility: 'read',
      receivers: 'read',
      dbinfo: 'read',
      battery_daily: 'read',
      battery_history: 'read',
      logcat: 'read',
      files: 'read',
    });
    const records = Object.fromEntries(report.artifacts.map((a) => [a.artifact, a.records]));
    expect(records).toMatchObject({
      getprop: 20,
      packages: 6,
      // Eight rows, two of them threads (of the system server and of WhatsApp).
      processes: 6,
      // The uses of WAKE_LOCK, CAMERA and RECORD_AUDIO; READ_CONTACTS was never used.
      appops: 3,
      accessibility: 3,
      // Messages' SMS and data SMS receivers, WhatsApp's call-state receiver; not its boot receiver.
      receivers: 3,
      dbinfo: 1,
      // WhatsApp's and Signal's updates; Signal's install.
      battery_daily: 2,
      battery_history: 1,
      // No log line names an indicator.
      logcat: 0,
      files: 3,
    });
  });

  it('tells the device: model, Android version, build, serial', () => {
    expect(report.device).toMatchObject({
      model: 'Pixel 6',
      manufacturer: 'Google',
      osVersion: '13',
      securityPatch: '2023-02-05',
      build: 'TQ1A.230205.002',
      fingerprint: 'google/oriole/oriole:13/TQ1A.230205.002/9471150:user/release-keys',
      serial: '1A051FDEE00B9X',
      bugreportFormat: '2.0',
      bugreportTakenAt: '2024-05-02T10:15:30.000Z',
    });
  });

  it('puts each app on the timeline at its install, saying where it came from', () => {
    const apps = report.timeline.filter((e) => e.artifact === 'packages');
    const whatsapp = apps.find((e) => e.record.includes('com.whatsapp'));
    expect(whatsapp?.at).toBe('2023-02-11T09:40:03.000Z');
    expect(whatsapp?.record).toContain('from the store com.android.vending');
    expect(whatsapp?.record).toContain('updated 2024-04-27T02:31:40Z');
    expect(apps.find((e) => e.record.includes('com.android.settings'))?.record).toContain('system app');
    expect(apps.some((e) => e.record.includes('outside an app store'))).toBe(false);
  });
});

describe('scanning a bug report with planted traces', () => {
  const check = (report: ScanReport) => {
    const property = found(report, 'getprop');
    expect(property).toHaveLength(1);
    expect(property[0]?.detection).toMatchObject({
      type: 'android-property',
      indicator: 'sys.brand.note',
      source: 'android_campaign_2023.stix2',
    });

    const app = found(report, 'packages');
    expect(app).toHaveLength(1);
    expect(app[0]).toMatchObject({
      at: '2024-04-28T21:40:12.000Z',
      detection: {
        type: 'app-id',
        indicator: 'com.gu.activity',
        malware: ['NoviSpy'],
        source: 'novispy.stix2',
      },
    });
    expect(app[0]?.record).toContain(
      'installed outside an app store, by com.google.android.packageinstaller',
    );

    const processes = found(report, 'processes').map((e) => [e.detection?.type, e.detection?.matched]);
    expect(processes).toEqual([
      ['app-id', 'com.gu.activity'],
      ['file-path', '/data/local/tmp/dropbox'],
    ]);
    const dropbox = found(report, 'processes')[1]?.detection;
    expect(dropbox?.source).toBe('android_campaign_2023.stix2');
    expect(dropbox?.malware.length).toBeGreaterThan(0);

    expect(found(report, 'files')).toMatchObject([
      {
        file: 'FS/data/local/tmp/wd/fs.db',
        detection: { type: 'file-path', indicator: '/data/local/tmp/wd/fs.db', malware: ['Predator'] },
      },
    ]);

    const receivers = found(report, 'receivers');
    expect(receivers).toHaveLength(1);
    expect(receivers[0]?.record).toContain('com.gu.activity listens for incoming text messages');

    expect(found(report, 'accessibility').map((e) => e.record)).toEqual([
      expect.stringContaining('com.gu.activity/com.gu.activity.services.AccessService: enabled, installed'),
    ]);

    const ops = found(report, 'appops');
    expect(ops.map((e) => e.record.match(/ ([A-Z_]+) \(/)?.[1])).toEqual([
      'CAMERA',
      'RECORD_AUDIO',
      'READ_SMS',
      'REQUEST_INSTALL_PACKAGES',
    ]);
    expect(ops[0]?.at).toBe('2024-05-01T23:02:17.431Z');

    for (const artifact of ['logcat', 'dbinfo'])
      expect(found(report, artifact)).toMatchObject([
        {
          detection: {
            type: 'domain',
            indicator: 'automatedrelax.org',
            source: 'android_campaign_2023.stix2',
          },
        },
      ]);
    expect(found(report, 'logcat')[0]?.at).toBe('2024-05-02T10:04:41.907Z');

    // The app removed before the report is remembered by the battery history alone.
    expect(found(report, 'battery_history').map((e) => [e.at, e.record.replace(/^line \d+: /, '')])).toEqual([
      ['2024-04-28T21:40:12.000Z', 'com.gu.activity installed'],
      ['2024-04-28T22:05:00.000Z', 'com.serv.services installed'],
      ['2024-05-01T09:00:00.000Z', 'com.serv.services uninstalled'],
    ]);
    expect(found(report, 'battery_history')[1]?.detection?.malware).toEqual(['NoviSpy']);
    expect(found(report, 'battery_daily')).toMatchObject([
      {
        at: '2024-04-28T03:00:44.000Z',
        record: expect.stringContaining(
          'com.gu.activity updated to version 32 on the day from 2024-04-28T03:00:44Z to 2024-04-29T03:01:10Z',
        ),
      },
    ]);

    expect(report.artifacts.every((a) => a.status === 'read')).toBe(true);
    expect(() => ScanReport.parse(report)).not.toThrow();
  };

  it('finds each trace in the zip, by the right module, naming the right spyware', async () => {
    check(await scan(writeBugreportZip(buildBugreport(PLANTS), dir, 'infected.zip')));
  });

  it('finds the same in the folder the zip was extracted to', async () => {
    const fromZip = await scan(writeBugreportZip(buildBugreport(PLANTS), dir, 'same.zip'));
    const fromFolder = await scan(writeBugreportFolder(buildBugreport(PLANTS), dir, 'infected'));
    check(fromFolder);
    expect(fromFolder.detections).toEqual(fromZip.detections);
    expect(fromFolder.device).toEqual(fromZip.device);
  });
});

describe('what is not a bug report', () => {
  const refused = async (path: string, message: RegExp) => {
    const error: unknown = await scan(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('validation_failed');
    expect((error as RempartError).message).toContain(path);
    expect((error as RempartError).message).toMatch(message);
  };

  it('refuses a text file, naming it and why', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'shopping list\n');
    await refused(path, /not a zip file/);
  });

  it('refuses an empty zip and a zip of something else', async () => {
    const empty = join(dir, 'empty.zip');
    writeFileSync(empty, zipSync({}));
    await refused(empty, /not a bug report \(no main_entry\.txt\)/);
    const photos = join(dir, 'photos.zip');
    writeFileSync(photos, zipSync({ 'IMG_0001.jpg': strToU8('jpeg') }));
    await refused(photos, /no main_entry\.txt/);
  });

  it('refuses a zip whose main entry is missing or no dumpstate output', async () => {
    const dangling = join(dir, 'dangling.zip');
    writeFileSync(dangling, zipSync({ 'main_entry.txt': strToU8('bugreport-x.txt') }));
    await refused(dangling, /names bugreport-x\.txt, which the zip does not hold/);
    const other = join(dir, 'other.zip');
    writeFileSync(
      other,
      zipSync({ 'main_entry.txt': strToU8('bugreport-x.txt'), 'bugreport-x.txt': strToU8('dear diary') }),
    );
    await refused(other, /bugreport-x\.txt is not a bug report/);
  });

  it('refuses a corrupt zip', async () => {
    const zip = writeBugreportZip(buildBugreport(), dir, 'corrupt.zip');
    const bytes = zipSync({ 'main_entry.txt': strToU8('x') }).slice(0, 30);
    writeFileSync(zip, bytes);
    await refused(zip, /not a readable zip|not a bug report/);
  });

  it('refuses an empty folder, a folder whose main entry leads out of it, and a path that is not there', async () => {
    const empty = join(dir, 'nothing');
    mkdirSync(empty);
    await refused(empty, /not a bug report \(no main_entry\.txt\)/);
    const escaping = join(dir, 'escaping');
    mkdirSync(escaping);
    writeFileSync(join(escaping, 'main_entry.txt'), '../notes.txt');
    await refused(escaping, /outside the folder/);
    await refused(join(dir, 'absent.zip'), /cannot read \(ENOENT\)/);
  });
});

describe('a bug report cut short or garbled', () => {
  const scanText = async (name: string, edit: (text: string) => string) => {
    const fixture = buildBugreport(PLANTS);
    return scan(writeBugreportZip({ ...fixture, text: edit(fixture.text) }, dir, name));
  };

  it('marks only the module of a garbled section failed, naming the section', async () => {
    const report = await scanText('garbled-ps.zip', (text) =>
      text.replace(/LABEL +USER +PID[^\n]*/, '\u0000\u0001 ### 0x1f garbage ###'),
    );
    const processes = report.artifacts.find((a) => a.artifact === 'processes');
    expect(processes).toMatchObject({ status: 'failed' });
    expect(processes?.message).toMatch(/PROCESSES AND THREADS \(line \d+\) has no ps header row/);
    expect(report.artifacts.filter((a) => a.status !== 'read').map((a) => a.artifact)).toEqual(['processes']);
    expect(found(report, 'packages')).toHaveLength(1);
  });

  it('reads the apps listed before a package list cut in the middle of an app', async () => {
    const report = await scanText('cut.zip', (text) => {
      const at = text.indexOf('  Package [com.gu.activity]');
      return text.slice(0, text.indexOf('versionName=', at));
    });
    expect(status(report)).toMatchObject({
      device: 'read',
      getprop: 'read',
      packages: 'read',
      processes: 'read',
      appops: 'read',
      accessibility: 'read',
      receivers: 'read',
      dbinfo: 'read',
      logcat: 'read',
    });
    const apps = report.timeline.filter((e) => e.artifact === 'packages');
    expect(apps).toHaveLength(7);
    // The app cut short is still matched by its id, though its install time was lost.
    expect(found(report, 'packages')).toMatchObject([
      { at: null, detection: { indicator: 'com.gu.activity' } },
    ]);
  });

  it('says which modules are missing when the report stops early', async () => {
    const report = await scanText('early.zip', (text) => text.slice(0, text.indexOf('------ PROCESSES')));
    expect(status(report)).toMatchObject({
      device: 'read',
      getprop: 'read',
      packages: 'missing',
      processes: 'missing',
      appops: 'missing',
      accessibility: 'missing',
      receivers: 'missing',
      logcat: 'missing',
      files: 'read',
    });
    expect(report.artifacts.find((a) => a.artifact === 'packages')?.message).toMatch(
      /no DUMP OF SERVICE package: in bugreport-oriole/,
    );
  });

  it('fails the app ops module alone when its service holds nothing it can read', async () => {
    const report = await scanText('appops.zip', (text) =>
      text.replace(
        /DUMP OF SERVICE appops:\n[\s\S]*?\n---------/,
        'DUMP OF SERVICE appops:\n\u00ff\u00fe binary\n---------',
      ),
    );
    expect(report.artifacts.find((a) => a.artifact === 'appops')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/DUMP OF SERVICE appops: \(line \d+\) lists no app's operations/),
    });
    expect(report.artifacts.filter((a) => a.status === 'failed')).toHaveLength(1);
  });
});
