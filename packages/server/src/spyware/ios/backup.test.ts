import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildBinary } from 'plist';
import initSqlJs from 'sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RempartError, type ScanReport } from '@rempart/core';
import {
  attributedBody,
  backupContentPath,
  CLEAN_IOS_BACKUP,
  type SmsFixture,
  IOS_ARTIFACT_FILES,
  writeIosBackup,
  type IosBackupFixture,
} from '../../test-support/ios-backup.js';
import { IndicatorMatcher } from '../matcher.js';
import { oneLine, toldReport, type ScanProgress } from '../scan.js';
import { loadIndicatorFolder } from '../stix.js';
import { scanIosBackup as scanBackup } from './backup.js';

/** The scan, its timeline told whole (these backups are small). */
const scanIosBackup = async (...args: Parameters<typeof scanBackup>) => toldReport(await scanBackup(...args));

const matcher = IndicatorMatcher.from(loadIndicatorFolder());
const scratch = mkdtempSync(join(tmpdir(), 'rempart-ios-backup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
/** A new, empty folder for one backup. */
function folder(name: string): string {
  return join(scratch, `${name}-${folders++}`);
}

const MODULES = [
  'device',
  'installed_apps',
  'sms',
  'sms_attachments',
  'safari_history',
  'safari_browser_state',
  'webkit',
  'datausage',
  'osanalytics_addaily',
  'tcc',
  'configuration_profiles',
  'whatsapp',
  'files',
];

const PREDATOR_PROFILE = '76DAB334-7E17-475D-A5D6-0794EB5818A5';

/** The clean backup, with records of real Pegasus and Predator indicators planted in each artifact. */
const INFECTED: IosBackupFixture = {
  ...CLEAN_IOS_BACKUP,
  sms: [
    ...CLEAN_IOS_BACKUP.sms!,
    // iOS 11+: nanoseconds since 2001.
    {
      text: 'Your parcel is waiting: https://weather4free.com/track?id=77',
      handle: '+33699999999',
      at: new Date('2023-02-03T09:20:15Z'),
      unit: 'ns',
    },
    // Older iOS: seconds since 2001.
    {
      text: 'News for you smscentro.com/a1',
      handle: '+33688888888',
      at: new Date('2019-06-10T14:00:00Z'),
      unit: 's',
    },
    {
      text: 'hi',
      handle: 'bogaardlisa803@gmail.com',
      at: new Date('2021-04-01T10:00:00Z'),
      service: 'iMessage',
    },
  ],
  attachments: [
    ...CLEAN_IOS_BACKUP.attachments!,
    {
      filename: '/private/var/tmp/com.apple.messages/1F3A.gif',
      mimeType: null,
      at: new Date('2021-03-01T00:00:00Z'),
    },
  ],
  safariVisits: [
    ...CLEAN_IOS_BACKUP.safariVisits!,
    { url: 'https://bit.ly/3xAbCdE', at: new Date('2022-05-05T05:05:05Z') },
    {
      url: 'https://tookcheckout.com/l/8812',
      title: 'Loading',
      at: new Date('2022-05-05T05:05:06Z'),
      redirectedFrom: 2,
    },
  ],
  safariTabs: [
    ...CLEAN_IOS_BACKUP.safariTabs!,
    { url: 'https://oneleadingchat.com/c/1', lastViewed: new Date('2022-06-06T06:06:06Z') },
  ],
  dataUsage: [
    ...CLEAN_IOS_BACKUP.dataUsage!,
    {
      process: 'bh',
      first: new Date('2021-07-01T01:00:00Z'),
      last: new Date('2021-07-02T02:00:00Z'),
      usage: { at: new Date('2021-07-02T02:00:00Z'), wifiIn: 4000, wifiOut: 9000, wwanIn: 0, wwanOut: 0 },
    },
    {
      process: 'roleaccountd/412',
      first: new Date('2021-07-03T00:00:00Z'),
      last: new Date('2021-07-04T00:00:00Z'),
    },
    // CommsCenterRootHelper, as iOS cuts a process name to 15 characters.
    {
      process: 'CommsCenterRoot',
      first: new Date('2021-07-05T00:00:00Z'),
      last: new Date('2021-07-06T00:00:00Z'),
    },
  ],
  adDaily: [...CLEAN_IOS_BACKUP.adDaily!, { process: 'msgacntd', at: new Date('2021-08-01T00:00:00Z') }],
  profiles: [
    ...CLEAN_IOS_BACKUP.profiles!,
    {
      uuid: PREDATOR_PROFILE,
      identifier: 'com.example.update',
      displayName: 'Update',
      installed: new Date('2021-09-09T09:09:09Z'),
    },
    {
      uuid: '0F0E0D0C-0B0A-4908-8706-050403020100',
      identifier: 'com.example.vpn',
      displayName: 'VPN',
      installed: new Date('2021-09-10T10:10:10Z'),
      payloads: [{ type: 'com.apple.vpn.managed', uuid: PREDATOR_PROFILE.toLowerCase() }],
      xml: true,
    },
  ],
  tcc: [
    ...CLEAN_IOS_BACKUP.tcc!,
    {
      service: 'kTCCServiceMicrophone',
      client: '/private/var/db/com.apple.xpc.roleaccountd.staging/fservernetd',
      clientType: 1,
      authValue: 2,
      modified: new Date('2021-10-10T10:00:00Z'),
    },
  ],
  observations: [
    ...CLEAN_IOS_BACKUP.observations!,
    { domain: 'pincattape.com', lastSeen: new Date('2021-11-11T11:11:11Z') },
  ],
  websiteData: [
    ...CLEAN_IOS_BACKUP.websiteData!,
    {
      app: 'com.apple.mobilesafari',
      path: 'LocalStorage/https_in2date.com_0.localstorage',
      created: new Date('2021-12-01T00:00:00Z'),
    },
    {
      app: 'org.wikipedia',
      path: 'IndexedDB/v1/https_hot-motors.com_0/IndexedDB.sqlite3',
      created: new Date('2021-12-02T00:00:00Z'),
    },
  ],
  whatsapp: [
    ...CLEAN_IOS_BACKUP.whatsapp!,
    {
      text: 'look https://reseufun.com/v',
      at: new Date('2022-01-01T01:01:01Z'),
      from: '1555@s.whatsapp.net',
    },
    {
      at: new Date('2022-01-02T01:01:01Z'),
      from: '1555@s.whatsapp.net',
      mediaUrl: 'https://redirectnet.net/m/1.enc',
    },
  ],
  files: [
    ...CLEAN_IOS_BACKUP.files!,
    {
      domain: 'HomeDomain',
      path: 'Library/Preferences/roleaccountd.plist',
      content: 'bplist00',
      created: new Date('2021-07-01T00:00:00Z'),
    },
  ],
};

/** The detections of one artifact, as [what matched, malware, time]. */
function detectionsOf(report: ScanReport, artifact: string): [string, string[], string | null][] {
  return report.detections
    .filter((event) => event.artifact === artifact)
    .map((event) => [event.detection!.matched, event.detection!.malware, event.at]);
}

function statusOf(report: ScanReport, artifact: string) {
  return report.artifacts.find((a) => a.artifact === artifact);
}

describe('an iOS backup scan', () => {
  it('finds nothing in a clean backup, reads every artifact and the device it came from', async () => {
    const dir = await writeIosBackup(folder('clean'), CLEAN_IOS_BACKUP);
    const report = await scanIosBackup(dir, { matcher });
    expect(report.kind).toBe('ios-backup');
    expect(report.detections).toEqual([]);
    expect(report.artifacts.map((a) => a.artifact)).toEqual(MODULES);
    for (const artifact of report.artifacts)
      expect(artifact, artifact.artifact).toMatchObject({ status: 'read' });
    expect(report.device).toEqual({
      name: 'Test iPhone',
      model: 'iPhone14,2',
      osVersion: '16.3.1',
      build: '20D67',
      serial: 'F2LXK0AAAAAA',
      imei: '356789104567890',
      udid: '00008110-001A2B3C4D5E6F70',
      backupDate: '2023-03-01T10:00:00.000Z',
    });
    expect(statusOf(report, 'sms')?.records).toBe(3);
    expect(statusOf(report, 'installed_apps')?.records).toBe(3);
    expect(
      report.timeline.some(
        (e) => e.artifact === 'files' && e.record.includes('/private/var/mobile/Library/SMS/sms.db'),
      ),
    ).toBe(true);
  });

  it('reports the artifacts a backup lacks as missing, never as failed', async () => {
    const dir = await writeIosBackup(folder('bare'), {});
    const report = await scanIosBackup(dir, { matcher });
    expect(report.detections).toEqual([]);
    for (const artifact of report.artifacts) expect(['read', 'missing']).toContain(artifact.status);
    expect(statusOf(report, 'sms')).toMatchObject({ status: 'missing', message: 'no sms.db in this backup' });
    expect(statusOf(report, 'safari_history')?.message).toMatch(/History\.db.*without encryption/);
    expect(statusOf(report, 'device')?.status).toBe('read');
  });

  describe('of an infected backup', () => {
    let report: ScanReport;
    beforeAll(async () => {
      report = await scanIosBackup(await writeIosBackup(folder('infected'), INFECTED), { matcher });
    });

    it('finds the spyware links of SMS and iMessages, dated from nanoseconds or seconds since 2001', () => {
      expect(detectionsOf(report, 'sms')).toEqual([
        ['smscentro.com', ['Pegasus'], '2019-06-10T14:00:00.000Z'],
        ['bogaardlisa803@gmail.com', ['Pegasus'], '2021-04-01T10:00:00.000Z'],
        ['https://weather4free.com/track?id=77', ['Pegasus'], '2023-02-03T09:20:15.000Z'],
      ]);
      const event = report.detections.find((e) => e.detection?.indicator === 'weather4free.com');
      expect(event?.record).toContain('received from +33699999999 (SMS): Your parcel is waiting');
      expect(event?.file).toBe('HomeDomain/Library/SMS/sms.db');
    });

    it('notes an attachment stored in a temporary folder without calling it a detection', () => {
      expect(detectionsOf(report, 'sms_attachments')).toEqual([]);
      const attachment = report.timeline.find(
        (e) => e.artifact === 'sms_attachments' && e.record.includes('1F3A.gif'),
      );
      expect(attachment?.record).toMatch(/suspicious: stored under \/private\/var\/tmp\//);
      expect(attachment?.at).toBe('2021-03-01T00:00:00.000Z');
    });

    it('finds a Safari visit to an exploit domain, with the redirect that led to it', () => {
      expect(detectionsOf(report, 'safari_history')).toEqual([
        ['https://tookcheckout.com/l/8812', ['Pegasus'], '2022-05-05T05:05:06.000Z'],
      ]);
      const visit = report.detections.find((e) => e.artifact === 'safari_history');
      expect(visit?.record).toContain('redirected from https://bit.ly/3xAbCdE');
      expect(detectionsOf(report, 'safari_browser_state')).toEqual([
        ['https://oneleadingchat.com/c/1', ['Pegasus'], '2022-06-06T06:06:06.000Z'],
      ]);
    });

    it('finds Pegasus processes in the network use records, also with a pid or a name cut to 15 characters', () => {
      expect(detectionsOf(report, 'datausage')).toEqual([
        ['bh', ['Pegasus'], '2021-07-02T02:00:00.000Z'],
        ['roleaccountd', ['Pegasus'], '2021-07-04T00:00:00.000Z'],
        ['CommsCenterRoot', ['Pegasus'], '2021-07-06T00:00:00.000Z'],
      ]);
      expect(
        report.detections.find((e) => e.detection?.matched === 'CommsCenterRoot')?.detection?.indicator,
      ).toBe('CommsCenterRootHelper');
      expect(detectionsOf(report, 'osanalytics_addaily')).toEqual([
        ['msgacntd', ['Pegasus'], '2021-08-01T00:00:00.000Z'],
      ]);
    });

    it("finds Predator's configuration profile, by its own UUID or a payload's, binary or XML", () => {
      expect(detectionsOf(report, 'configuration_profiles')).toEqual([
        [PREDATOR_PROFILE, ['Predator'], '2021-09-09T09:09:09.000Z'],
        [PREDATOR_PROFILE.toLowerCase(), ['Predator'], '2021-09-10T10:10:10.000Z'],
      ]);
      expect(
        report.timeline.some((e) => e.record === 'profile com.example.update: install by Preferences'),
      ).toBe(true);
    });

    it('finds a permission given to a Pegasus process by its path', () => {
      expect(detectionsOf(report, 'tcc')).toEqual([['fservernetd', ['Pegasus'], '2021-10-10T10:00:00.000Z']]);
      expect(report.detections.find((e) => e.artifact === 'tcc')?.record).toContain(
        'allowed access to Microphone',
      );
    });

    it('finds exploit domains WebKit kept data of, in Safari and in other apps', () => {
      expect(detectionsOf(report, 'webkit')).toEqual([
        ['pincattape.com', ['Pegasus'], '2021-11-11T11:11:11.000Z'],
        ['in2date.com', ['Pegasus'], '2021-12-01T00:00:00.000Z'],
        ['hot-motors.com', ['Pegasus'], '2021-12-02T00:00:00.000Z'],
      ]);
      expect(report.detections.find((e) => e.detection?.matched === 'hot-motors.com')?.record).toContain(
        'in org.wikipedia',
      );
    });

    it('finds spyware links in WhatsApp messages and media URLs', () => {
      expect(detectionsOf(report, 'whatsapp')).toEqual([
        ['https://reseufun.com/v', ['Pegasus'], '2022-01-01T01:01:01.000Z'],
        ['https://redirectnet.net/m/1.enc', ['Pegasus'], '2022-01-02T01:01:01.000Z'],
      ]);
    });

    it("finds a file named as Pegasus' files, dated from its record in Manifest.db", () => {
      expect(detectionsOf(report, 'files')).toEqual([
        [
          '/private/var/mobile/Library/Preferences/roleaccountd.plist',
          ['Pegasus'],
          '2021-07-01T00:00:00.000Z',
        ],
      ]);
    });

    it('lists every detection once, oldest first, and nothing from the clean records', () => {
      expect(report.detections).toHaveLength(18);
      const times = report.detections.map((e) => e.at!);
      expect([...times].sort()).toEqual(times);
      expect(report.detections.every((e) => e.detection!.malware.length > 0)).toBe(true);
    });
  });

  it('reads a message iOS kept only in attributedBody', async () => {
    const text = 'Tap https://weather4free.com/x to see';
    const body = attributedBody(text);
    const dir = await writeIosBackup(folder('attributed'), {
      sms: [{ text: null, attributedBody: body, handle: '+1555', at: new Date('2023-05-05T00:00:00Z') }],
    });
    const report = await scanIosBackup(dir, { matcher });
    expect(detectionsOf(report, 'sms')).toEqual([
      ['https://weather4free.com/x', ['Pegasus'], '2023-05-05T00:00:00.000Z'],
    ]);
    expect(report.detections[0]?.record).toContain(`: ${text}`);
  });

  it('reads an XML Manifest.plist and a backup whose files are not in sub-folders', async () => {
    const dir = await writeIosBackup(folder('flat'), {
      apps: ['com.gu.activity'],
      xmlManifestPlist: true,
      flat: true,
      sms: [{ text: 'https://weather4free.com/', at: new Date('2023-01-01T00:00:00Z') }],
    });
    const report = await scanIosBackup(dir, { matcher });
    expect(detectionsOf(report, 'sms')).toHaveLength(1);
    expect(detectionsOf(report, 'installed_apps')).toEqual([['com.gu.activity', ['NoviSpy'], null]]);
  });

  it('scans the one backup of a folder that holds it, and asks which when it holds several', async () => {
    const parent = folder('parent');
    await writeIosBackup(join(parent, '00008110-001A2B3C4D5E6F70'), CLEAN_IOS_BACKUP);
    expect((await scanIosBackup(parent, { matcher })).device.udid).toBe('00008110-001A2B3C4D5E6F70');
    await writeIosBackup(join(parent, '00008110-0000000000000001'), {});
    await expect(scanIosBackup(parent, { matcher })).rejects.toThrow(/holds 2 iOS backups .*: name one/);
  });

  it('reports each module as it starts, from 0 to the total', async () => {
    const dir = await writeIosBackup(folder('progress'), CLEAN_IOS_BACKUP);
    const progress: ScanProgress[] = [];
    await scanIosBackup(dir, { matcher, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.done)).toEqual([...MODULES.keys(), MODULES.length]);
    expect(progress.every((p) => p.total === MODULES.length)).toBe(true);
    expect(progress.slice(0, -1).map((p) => p.artifact)).toEqual(MODULES);
  });

  it('marks only the modules that read a damaged sms.db failed, and the others still run', async () => {
    const dir = await writeIosBackup(folder('corrupt'), INFECTED);
    const { domain, path } = IOS_ARTIFACT_FILES.sms;
    const damaged = Buffer.alloc(8192, 0x5a);
    Buffer.from('SQLite format 3\u0000').copy(damaged);
    writeFileSync(backupContentPath(dir, domain, path), damaged);
    const report = await scanIosBackup(dir, { matcher });
    // sms and sms_attachments both read sms.db.
    expect(report.artifacts.filter((a) => a.status === 'failed').map((a) => a.artifact)).toEqual([
      'sms',
      'sms_attachments',
    ]);
    expect(statusOf(report, 'sms')?.message).toMatch(/sms\.db/);
    expect(detectionsOf(report, 'datausage')).toHaveLength(3);
  });
});

describe('a folder the scan refuses', () => {
  it('refuses an encrypted backup without its password, saying the password is needed', async () => {
    const dir = await writeIosBackup(folder('encrypted'), { ...CLEAN_IOS_BACKUP, encrypted: true });
    const error: unknown = await scanIosBackup(dir, { matcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RempartError);
    expect(error).toMatchObject({
      code: 'backup_encrypted',
      details: { encrypted: true, passwordGiven: false },
    });
    expect((error as Error).message).toMatch(/the backup is encrypted.*password/);
  });

  it('calls an encrypted backup whose keybag is not one damaged when the password is given', async () => {
    const dir = await writeIosBackup(folder('encrypted'), { ...CLEAN_IOS_BACKUP, encrypted: true });
    await expect(scanIosBackup(dir, { matcher, password: 'hunter2' })).rejects.toThrow(
      /the backup is encrypted but its keybag \(Manifest\.plist BackupKeyBag\) is damaged/,
    );
  });

  it('takes a Manifest.db that is not SQLite for an encrypted backup when Manifest.plist does not say', async () => {
    const dir = await writeIosBackup(folder('no-manifest-plist'), { ...CLEAN_IOS_BACKUP, encrypted: true });
    rmSync(join(dir, 'Manifest.plist'));
    await expect(scanIosBackup(dir, { matcher })).rejects.toThrow(
      /not a SQLite database: the backup is encrypted.*password/,
    );
  });

  it('calls a backup damaged when Manifest.plist says it is not encrypted but Manifest.db is not SQLite', async () => {
    const dir = await writeIosBackup(folder('damaged'), CLEAN_IOS_BACKUP);
    writeFileSync(join(dir, 'Manifest.db'), 'not a database');
    await expect(scanIosBackup(dir, { matcher })).rejects.toThrow(/damaged or incomplete/);
  });

  it('refuses a folder that is not a backup, a file, and a path that does not exist', async () => {
    const empty = folder('empty');
    mkdirSync(empty, { recursive: true });
    await expect(scanIosBackup(empty, { matcher })).rejects.toThrow(
      /not an iOS backup: no Manifest\.db in it/,
    );
    const file = join(empty, 'notes.txt');
    writeFileSync(file, 'hello');
    await expect(scanIosBackup(file, { matcher })).rejects.toThrow(/not an iOS backup: not a folder/);
    await expect(scanIosBackup(join(empty, 'nope'), { matcher })).rejects.toThrow(/no such folder/);
    const old = folder('ios9');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'Manifest.mbdb'), 'mbdb');
    await expect(scanIosBackup(old, { matcher })).rejects.toThrow(/iOS 9 or earlier/);
  });

  it('refuses a Manifest.db without a Files table', async () => {
    const dir = await writeIosBackup(folder('no-files'), {});
    const other = await writeIosBackup(folder('donor'), { sms: [] });
    // A SQLite database of another kind (sms.db) in Manifest.db's place.
    const { domain, path } = IOS_ARTIFACT_FILES.sms;
    writeFileSync(join(dir, 'Manifest.db'), readFileSync(backupContentPath(other, domain, path)));
    await expect(scanIosBackup(dir, { matcher })).rejects.toThrow(
      /Manifest\.db cannot be read \(it has no Files table\)/,
    );
  });
});

describe('a scan of damaged or hostile files', () => {
  const bytes = (prefix: string) =>
    fc.uint8Array({ maxLength: 4096 }).map((body) => Buffer.concat([Buffer.from(prefix, 'latin1'), body]));
  const anyBytes = fc.oneof(
    bytes(''),
    bytes('SQLite format 3\u0000'),
    bytes('bplist00'),
    bytes('<?xml version="1.0"?><plist>'),
  );

  /** Runs a scan; it may refuse the folder with a RempartError, and nothing else may escape. */
  async function scanOrRefuse(dir: string): Promise<ScanReport | undefined> {
    try {
      return await scanIosBackup(dir, { matcher });
    } catch (error) {
      expect(error).toBeInstanceOf(RempartError);
      return undefined;
    }
  }

  it('refuses any bytes as Manifest.db with a validation error', async () => {
    const dir = await writeIosBackup(folder('fuzz-manifest'), CLEAN_IOS_BACKUP);
    await fc.assert(
      fc.asyncProperty(anyBytes, async (content) => {
        writeFileSync(join(dir, 'Manifest.db'), content);
        await expect(scanIosBackup(dir, { matcher })).rejects.toBeInstanceOf(RempartError);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it("reads any bytes as a module's database or plist without failing the scan", async () => {
    const dir = await writeIosBackup(folder('fuzz-modules'), CLEAN_IOS_BACKUP);
    const targets = [
      IOS_ARTIFACT_FILES.sms,
      IOS_ARTIFACT_FILES.dataUsage,
      IOS_ARTIFACT_FILES.safariHistory,
      IOS_ARTIFACT_FILES.adDaily,
      {
        domain: IOS_ARTIFACT_FILES.profiles.domain,
        path: `${IOS_ARTIFACT_FILES.profiles.path}/MCProfileEvents.plist`,
      },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), anyBytes, async ({ domain, path }, content) => {
        const target = backupContentPath(dir, domain, path);
        writeFileSync(target, content);
        const report = await scanIosBackup(dir, { matcher });
        expect(report.artifacts.map((a) => a.artifact)).toEqual(MODULES);
        expect(report.detections).toEqual([]);
      }),
      { numRuns: 80 },
    );
  }, 60_000);

  it('reads any bytes as the root plists, or refuses the folder with a validation error', async () => {
    const dir = await writeIosBackup(folder('fuzz-plists'), CLEAN_IOS_BACKUP);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Info.plist', 'Manifest.plist', 'Status.plist'),
        anyBytes,
        async (name, content) => {
          writeFileSync(join(dir, name), content);
          const report = await scanOrRefuse(dir);
          if (report) expect(report.artifacts.map((a) => a.artifact)).toEqual(MODULES);
        },
      ),
      { numRuns: 60 },
    );
    // A Manifest.plist that says the backup is encrypted is refused like an encrypted backup.
    writeFileSync(join(dir, 'Manifest.plist'), buildBinary({ IsEncrypted: true }));
    await expect(scanIosBackup(dir, { matcher })).rejects.toThrow(/encrypted/);
  }, 60_000);
});

describe('the messages and the history, read for speed', () => {
  /** Changes sms.db of the backup at `dir` with `sql`. */
  async function alterSms(dir: string, sql: string): Promise<void> {
    const SQL = await initSqlJs();
    const { domain, path } = IOS_ARTIFACT_FILES.sms;
    const db = new SQL.Database(readFileSync(backupContentPath(dir, domain, path)));
    db.exec(sql);
    writeFileSync(backupContentPath(dir, domain, path), db.export());
    db.close();
  }

  it('tells every message as a plain reading would, and finds what a search without shortcuts finds', async () => {
    const piece = fc.oneof(
      fc.stringMatching(/^[a-zA-Z0-9 ,;:!?'"()@./éàç\n-]{0,12}$/),
      fc.constantFrom(
        'https://weather4free.com/x',
        'tookcheckout.com',
        'bogaardlisa803@gmail.com',
        'https://www.wikipedia.org/',
        '14:30',
        '3.5',
      ),
    );
    const message = fc.record({
      text: fc.oneof(
        fc.constant(null),
        fc.array(piece, { maxLength: 5 }).map((parts) => parts.join(' ')),
      ),
      handle: fc.option(fc.constantFrom('+33612345678', 'friend@example.org', 'bogaardlisa803@gmail.com'), {
        nil: undefined,
      }),
      fromMe: fc.boolean(),
      service: fc.option(fc.constantFrom<'SMS' | 'iMessage'>('SMS', 'iMessage'), { nil: undefined }),
      attributed: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (list) => {
        const sms: SmsFixture[] = list.map((m, i) => ({
          // iOS 16+ keeps the text only in attributedBody: the reader must find it there.
          text: m.attributed ? null : m.text,
          ...(m.attributed && m.text !== null ? { attributedBody: attributedBody(m.text) } : {}),
          ...(m.handle === undefined ? {} : { handle: m.handle }),
          at: new Date(Date.UTC(2022, 0, 1) + i * 60_000),
          fromMe: m.fromMe,
          ...(m.service === undefined ? {} : { service: m.service }),
        }));
        const dir = await writeIosBackup(folder('sms-property'), { sms });
        const report = await scanIosBackup(dir, { matcher });
        const told = report.timeline.filter((e) => e.artifact === 'sms');
        const expected = list.flatMap((m, i) => {
          const text = m.text ?? '';
          const who = m.handle === undefined ? '' : ` ${m.fromMe ? 'to' : 'from'} ${m.handle}`;
          const record = oneLine(
            `message ${i + 1} ${m.fromMe ? 'sent' : 'received'}${who} (${m.service ?? 'SMS'}): ${text}`,
          );
          const found = [
            ...matcher.textWithoutShortcuts(text),
            ...(m.handle?.includes('@') ? [matcher.email(m.handle)] : []),
          ].filter((d) => d !== undefined);
          const once = found.filter((d, k) => found.findIndex((e) => e.indicatorId === d.indicatorId) === k);
          return once.length === 0
            ? [{ record }]
            : once.map((d) => ({ record, indicator: d.indicator, matched: d.matched }));
        });
        expect(
          told.map((e) =>
            e.detection === undefined
              ? { record: e.record }
              : { record: e.record, indicator: e.detection.indicator, matched: e.detection.matched },
          ),
        ).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('tells a message without a sender when its handle is gone, or sms.db has no handle table', async () => {
    const dir = await writeIosBackup(folder('sms-handles'), {
      sms: [
        { text: 'first', handle: '+33611111111', at: new Date('2023-01-01T00:00:00Z') },
        {
          text: 'second https://weather4free.com/a',
          handle: '+33622222222',
          at: new Date('2023-01-02T00:00:00Z'),
        },
      ],
    });
    await alterSms(dir, 'UPDATE message SET handle_id = 999 WHERE ROWID = 1');
    let report = await scanIosBackup(dir, { matcher });
    expect(report.timeline.filter((e) => e.artifact === 'sms').map((e) => e.record)).toEqual([
      'message 1 received (SMS): first',
      'message 2 received from +33622222222 (SMS): second https://weather4free.com/a',
    ]);
    await alterSms(dir, 'DROP TABLE handle');
    report = await scanIosBackup(dir, { matcher });
    expect(report.timeline.filter((e) => e.artifact === 'sms').map((e) => e.record)).toEqual([
      'message 1 received (SMS): first',
      'message 2 received (SMS): second https://weather4free.com/a',
    ]);
    expect(detectionsOf(report, 'sms')).toEqual([
      ['https://weather4free.com/a', ['Pegasus'], '2023-01-02T00:00:00.000Z'],
    ]);
  });

  it('reads an sms.db of an older iOS, without attributedBody, handle_id or service', async () => {
    const dir = await writeIosBackup(folder('sms-old'), {
      sms: [
        { text: 'Tap https://weather4free.com/b', handle: '+1555', at: new Date('2019-01-01T00:00:00Z') },
      ],
    });
    await alterSms(
      dir,
      'ALTER TABLE message DROP COLUMN attributedBody; ALTER TABLE message DROP COLUMN handle_id; ALTER TABLE message DROP COLUMN service',
    );
    const report = await scanIosBackup(dir, { matcher });
    expect(statusOf(report, 'sms')).toMatchObject({ status: 'read', records: 1, detections: 1 });
    expect(report.detections[0]?.record).toBe('message 1 received: Tap https://weather4free.com/b');
  });

  it('finds every visit of a page it matched once, and none of a clean page visited again', async () => {
    const page = 'https://tookcheckout.com/l/1';
    const dir = await writeIosBackup(folder('history-repeat'), {
      safariVisits: [
        { url: 'https://bit.ly/abc', at: new Date('2022-05-05T05:05:05Z') },
        { url: page, at: new Date('2022-05-05T05:05:06Z'), redirectedFrom: 0 },
        { url: 'https://www.apple.com/', at: new Date('2022-05-06T00:00:00Z') },
        { url: page, title: 'Again', at: new Date('2022-05-07T00:00:00Z') },
        { url: 'https://www.apple.com/', at: new Date('2022-05-08T00:00:00Z') },
        { url: page, at: new Date('2022-05-09T00:00:00Z') },
      ],
    });
    const report = await scanIosBackup(dir, { matcher });
    expect(statusOf(report, 'safari_history')).toMatchObject({ records: 6, detections: 3 });
    expect(report.detections.map((e) => e.record)).toEqual([
      `visit of ${page} redirected from https://bit.ly/abc (3 visits of this page)`,
      `visit of ${page} "Again" (3 visits of this page)`,
      `visit of ${page} (3 visits of this page)`,
    ]);
    expect(report.timeline.filter((e) => e.artifact === 'safari_history')[0]?.record).toBe(
      `visit of https://bit.ly/abc redirected to ${page} (1 visits of this page)`,
    );
  });
});
