import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CSV_ERRORS_MAX,
  DeviceInventory,
  evaluateCompliance,
  parseMdmCsv,
  platformOf,
  type CompliancePolicy,
} from './compliance.js';

const TIKTOK = {
  android: ['com.zhiliaoapp.musically', 'com.ss.android.ugc.trill', 'com.zhiliaoapp.musically.go'],
  ios: ['com.zhiliaoapp.musically'],
};
const categoryOf = (app: string, platform: 'ios' | 'android') =>
  TIKTOK[platform].includes(app) ? 'tiktok-bytedance' : undefined;
const tiktokOnly: CompliancePolicy = { blockedApps: TIKTOK, noPrivateApps: false, categoryOf };
const catalogue: CompliancePolicy = {
  blockedApps: TIKTOK,
  categoryOf,
  noPrivateApps: true,
  allowedApps: {
    android: ['com.microsoft.teams', 'org.thoughtcrime.securesms'],
    ios: ['com.microsoft.skype.teams'],
  },
};
const reportedAt = new Date('2025-03-04T10:00:00Z');

describe('compliance', () => {
  it('flags a phone with TikTok, naming the app and its category', () => {
    const result = evaluateCompliance(
      { platform: 'android', installedApps: ['com.microsoft.teams', 'com.zhiliaoapp.musically.go'] },
      tiktokOnly,
    );
    expect(result).toEqual({
      compliant: false,
      violations: [{ app: 'com.zhiliaoapp.musically.go', reason: 'blocked', category: 'tiktok-bytedance' }],
    });
  });

  it('names no category when the policy does not know them', () => {
    const { categoryOf: _, ...bare } = tiktokOnly;
    expect(
      evaluateCompliance({ platform: 'ios', installedApps: ['com.zhiliaoapp.musically'] }, bare).violations,
    ).toEqual([{ app: 'com.zhiliaoapp.musically', reason: 'blocked' }]);
  });

  it('passes a clean phone', () => {
    expect(
      evaluateCompliance(
        { platform: 'ios', installedApps: ['com.microsoft.skype.teams', 'com.apple.mobilesafari'] },
        tiktokOnly,
      ),
    ).toEqual({ compliant: true, violations: [] });
  });

  it('judges an app by the device’s platform only', () => {
    // `com.ss.android.ugc.trill` is blocked on Android; an iOS device naming it is another app.
    expect(
      evaluateCompliance({ platform: 'ios', installedApps: ['com.ss.android.ugc.trill'] }, tiktokOnly)
        .compliant,
    ).toBe(true);
  });

  it('flags apps outside the catalogue when private apps are forbidden, but not the system’s own', () => {
    const result = evaluateCompliance(
      {
        platform: 'android',
        installedApps: [
          'com.microsoft.teams',
          { id: 'com.example.sideloaded', name: 'Free VPN' },
          { id: 'com.android.settings', system: true },
          'com.zhiliaoapp.musically',
        ],
      },
      catalogue,
    );
    expect(result.compliant).toBe(false);
    expect(result.violations).toEqual([
      { app: 'com.example.sideloaded', reason: 'not_in_catalogue' },
      { app: 'com.zhiliaoapp.musically', reason: 'blocked', category: 'tiktok-bytedance' },
    ]);
  });

  it('still flags a blocked app the device calls a system app', () => {
    const result = evaluateCompliance(
      { platform: 'android', installedApps: [{ id: 'com.zhiliaoapp.musically', system: true }] },
      catalogue,
    );
    expect(result.violations).toEqual([
      { app: 'com.zhiliaoapp.musically', reason: 'blocked', category: 'tiktok-bytedance' },
    ]);
  });

  it('checks only blocked apps when no catalogue is given', () => {
    const policy: CompliancePolicy = { ...tiktokOnly, noPrivateApps: true };
    expect(
      evaluateCompliance({ platform: 'android', installedApps: ['com.example.any'] }, policy).compliant,
    ).toBe(true);
  });

  it('reports an app listed twice once', () => {
    const result = evaluateCompliance(
      { platform: 'ios', installedApps: ['com.zhiliaoapp.musically', ' com.zhiliaoapp.musically '] },
      tiktokOnly,
    );
    expect(result.violations).toHaveLength(1);
  });

  it('is compliant exactly when no installed app is blocked or outside the catalogue (property)', () => {
    const ids = fc.constantFrom(
      'com.zhiliaoapp.musically',
      'com.ss.android.ugc.trill',
      'com.microsoft.teams',
      'org.thoughtcrime.securesms',
      'com.example.other',
      'com.android.settings',
    );
    fc.assert(
      fc.property(fc.array(ids, { maxLength: 8 }), fc.boolean(), (apps, strict) => {
        const policy = strict ? catalogue : tiktokOnly;
        const result = evaluateCompliance({ platform: 'android', installedApps: apps }, policy);
        const bad = new Set(
          apps.filter(
            (a) =>
              policy.blockedApps.android.includes(a) ||
              (strict && !(catalogue.allowedApps?.android ?? []).includes(a)),
          ),
        );
        expect(result.compliant).toBe(bad.size === 0);
        expect(new Set(result.violations.map((v) => v.app))).toEqual(bad);
      }),
    );
  });
});

describe('device inventory report', () => {
  it('accepts bare ids and detailed apps, and drops duplicates', () => {
    const report = DeviceInventory.parse({
      deviceId: 'F2LXK0ABCD',
      platform: 'android',
      osVersion: '14',
      ownerEmail: 'agent@example.gouv.fr',
      installedApps: [
        'android',
        { id: 'com.microsoft.teams', version: '1416/1.0.0', system: false },
        'android',
      ],
      reportedAt: '2025-03-04T10:00:00+01:00',
    });
    expect(report.installedApps).toEqual([
      { id: 'android' },
      { id: 'com.microsoft.teams', version: '1416/1.0.0', system: false },
    ]);
    expect(report.reportedAt.toISOString()).toBe('2025-03-04T09:00:00.000Z');
  });

  it('refuses a report without a time zone, with a bad email or with an app id holding spaces', () => {
    const base = { deviceId: 'x', platform: 'ios', installedApps: [], reportedAt: '2025-03-04T10:00:00Z' };
    expect(DeviceInventory.safeParse(base).success).toBe(true);
    expect(DeviceInventory.safeParse({ ...base, reportedAt: '2025-03-04T10:00:00' }).success).toBe(false);
    expect(DeviceInventory.safeParse({ ...base, ownerEmail: 'not-an-email' }).success).toBe(false);
    expect(DeviceInventory.safeParse({ ...base, platform: 'windows' }).success).toBe(false);
    expect(DeviceInventory.safeParse({ ...base, installedApps: ['com.tik tok'] }).success).toBe(false);
  });
});

describe('MDM CSV export', () => {
  it('reads one inventory per serial number, with its apps in file order', () => {
    const csv = [
      'Device Name,Serial Number,Platform,OS Version,User Email,Bundle ID,App Name',
      'iPhone de Léa,F2LX1,iOS,17.4,lea@example.gouv.fr,com.zhiliaoapp.musically,TikTok',
      'iPhone de Léa,F2LX1,iOS,17.4,lea@example.gouv.fr,com.microsoft.skype.teams,Teams',
      'Pixel de Marc,R58M2,Android,14,,com.microsoft.teams,',
    ].join('\n');
    const { devices, errors } = parseMdmCsv(csv, { reportedAt });
    expect(errors).toEqual([]);
    expect(devices).toEqual([
      {
        deviceId: 'F2LX1',
        serial: 'F2LX1',
        deviceName: 'iPhone de Léa',
        platform: 'ios',
        osVersion: '17.4',
        ownerEmail: 'lea@example.gouv.fr',
        installedApps: [
          { id: 'com.zhiliaoapp.musically', name: 'TikTok' },
          { id: 'com.microsoft.skype.teams', name: 'Teams' },
        ],
        reportedAt,
      },
      {
        deviceId: 'R58M2',
        serial: 'R58M2',
        deviceName: 'Pixel de Marc',
        platform: 'android',
        osVersion: '14',
        installedApps: [{ id: 'com.microsoft.teams' }],
        reportedAt,
      },
    ]);
    for (const device of devices)
      expect(DeviceInventory.safeParse({ ...device, reportedAt: '2025-03-04T10:00:00Z' }).success).toBe(true);
  });

  it('reads a French spreadsheet export: semicolons, accented headers, a byte order mark and CRLF', () => {
    const csv =
      '\ufeffNom de l’appareil;Numéro de série;Plateforme;Identifiant\r\nTéléphone;F2LX1;iPadOS;com.zhiliaoapp.musically\r\n';
    const { devices, errors } = parseMdmCsv(csv, { reportedAt });
    expect(errors).toEqual([]);
    expect(devices).toMatchObject([
      { serial: 'F2LX1', platform: 'ios', installedApps: [{ id: 'com.zhiliaoapp.musically' }] },
    ]);
  });

  it('reads quoted fields holding separators, quotes and line breaks', () => {
    const csv =
      'Serial,Platform,Package Name,Device Name\nR58M2,Android,com.microsoft.teams,"Pixel ""pro"", bureau\n2e étage"\n';
    const { devices, errors } = parseMdmCsv(csv, { reportedAt });
    expect(errors).toEqual([]);
    expect(devices[0]?.deviceName).toBe('Pixel "pro", bureau\n2e étage');
  });

  it('reports each bad line with its number and still reads the good ones', () => {
    const csv = [
      'Serial,Platform,App Identifier', // 1
      'A1,iOS,com.zhiliaoapp.musically', // 2
      'A2,Windows,com.microsoft.teams', // 3: platform
      ',Android,com.microsoft.teams', // 4: no serial
      'A3,Android,com.tik tok', // 5: app id
      'A4,Android', // 6: field count
      'A1,Android,com.microsoft.teams', // 7: A1 is iOS
      'A5,Android,co"m.example', // 8: stray quote
      '"A6",Android,com.microsoft.teams', // 9: good
      '', // 10: blank, skipped
      'A7,"Android"x,com.example.app', // 11: text after a quote
      'A8,Android,"com.example.app', // 12: never closed
    ].join('\n');
    const { devices, errors } = parseMdmCsv(csv, { reportedAt });
    expect(devices.map((d) => d.serial)).toEqual(['A1', 'A6']);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 11, 12]);
    expect(errors[0]?.message).toBe('platform "Windows" is neither iOS nor Android');
    expect(errors[2]?.message).toContain('app "com.tik tok"');
    expect(errors[3]?.message).toBe('expected 3 fields like the header, found 2');
    expect(errors[4]?.message).toBe('device A1 is iOS on an earlier line');
    expect(errors[7]?.message).toContain('not closed');
  });

  it('counts lines inside quoted fields, so later line numbers stay right', () => {
    // A CRLF and a lone CR inside the quotes: three physical lines for record 2.
    const csv =
      'Serial,Platform,App ID,Device Name\nA1,iOS,com.a.b,"one\r\ntwo\rthree"\r\nA2,Symbian,com.a.b,x\r\n';
    expect(parseMdmCsv(csv, { reportedAt }).errors).toEqual([
      { line: 5, message: 'platform "Symbian" is neither iOS nor Android' },
    ]);
  });

  it('refuses a file without the columns it needs, on line 1', () => {
    const { devices, errors } = parseMdmCsv('Name,Platform\nx,iOS\n', { reportedAt });
    expect(devices).toEqual([]);
    expect(errors.map((e) => e.line)).toEqual([1, 1]);
    expect(errors[0]?.message).toContain('no Serial number column');
    expect(errors[1]?.message).toContain('no App identifier column');
  });

  it('lists at most CSV_ERRORS_MAX errors and counts the rest', () => {
    const lines = [
      'Serial,Platform,App ID',
      ...Array.from({ length: CSV_ERRORS_MAX + 25 }, (_, i) => `S${i},BeOS,com.a.b`),
    ];
    const result = parseMdmCsv(lines.join('\n'), { reportedAt });
    expect(result.errors).toHaveLength(CSV_ERRORS_MAX);
    expect(result.errorsOmitted).toBe(25);
  });

  it('names the platforms MDMs use', () => {
    expect(['iOS', 'iPadOS', 'iPhone OS', 'Android', 'Android Enterprise'].map(platformOf)).toEqual([
      'ios',
      'ios',
      'ios',
      'android',
      'android',
    ]);
    expect(platformOf('Windows')).toBeUndefined();
  });

  it('reads back any export written with RFC 4180 quoting (property)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'B', ' ', ',', ';', '"', '\n', '\r\n', 'é', '1'),
      maxLength: 12,
    });
    const row = fc.record({
      serial: fc.stringMatching(/^[A-Z0-9]{1,10}$/),
      platform: fc.constantFrom('iOS', 'Android'),
      app: fc.constantFrom('com.zhiliaoapp.musically', 'com.microsoft.teams', 'org.example.app'),
      name: text,
    });
    const quote = (s: string) => (/[",;\r\n]/.test(s) || s.trim() !== s ? `"${s.replace(/"/g, '""')}"` : s);
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 10 }),
        fc.constantFrom(',', ';'),
        fc.constantFrom('\n', '\r\n'),
        (rows, sep, eol) => {
          const csv =
            ['Serial', 'Platform', 'Bundle ID', 'Device Name'].join(sep) +
            eol +
            rows.map((r) => [r.serial, r.platform, r.app, quote(r.name)].join(sep)).join(eol);
          const { devices, errors } = parseMdmCsv(csv, { reportedAt });
          // What a reader must find: per serial, the first platform wins and later lines of another platform are errors.
          const expected = new Map<string, { platform: string; apps: Set<string>; name?: string }>();
          let conflicts = 0;
          for (const r of rows) {
            const platform = r.platform === 'iOS' ? 'ios' : 'android';
            const seen = expected.get(r.serial);
            if (seen && seen.platform !== platform) {
              conflicts++;
              continue;
            }
            const entry = seen ?? { platform, apps: new Set<string>() };
            entry.apps.add(r.app);
            if (entry.name === undefined && r.name.trim() !== '') entry.name = r.name.trim();
            expected.set(r.serial, entry);
          }
          expect(errors).toHaveLength(conflicts);
          expect(devices.map((d) => d.deviceId)).toEqual([...expected.keys()]);
          for (const d of devices) {
            const e = expected.get(d.deviceId)!;
            expect(d.platform).toBe(e.platform);
            expect(d.installedApps.map((a) => a.id)).toEqual([...e.apps]);
            expect(d.deviceName).toBe(e.name);
          }
        },
      ),
    );
  });

  it('feeds compliance: a CSV device with TikTok is not compliant', () => {
    const { devices } = parseMdmCsv('Serial,Platform,App ID\nA1,Android,com.ss.android.ugc.trill\n', {
      reportedAt,
    });
    const device = devices[0]!;
    expect(evaluateCompliance(device, tiktokOnly)).toEqual({
      compliant: false,
      violations: [{ app: 'com.ss.android.ugc.trill', reason: 'blocked', category: 'tiktok-bytedance' }],
    });
  });
});
