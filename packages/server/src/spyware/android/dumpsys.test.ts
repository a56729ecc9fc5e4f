import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  componentsIn,
  logcatTime,
  parseAccessibility,
  parseAppops,
  parseBatteryDaily,
  parseBatteryHistory,
  parseDbinfo,
  parsePackageList,
  parseReceivers,
} from './dumpsys.js';

const lines = (text: string) => text.split('\n');

describe('dumpsys package', () => {
  it('lists the apps of Android 13 with their installer, times, path and flags', () => {
    const packages = parsePackageList(
      lines(`Key Set Manager:
  [com.whatsapp]
      Signing KeySets: 41

Packages:
  Package [com.whatsapp] (5e3f2a1):
    codePath=/data/app/~~Xk3w==/com.whatsapp-Lm8Z==
    versionCode=241097800 minSdk=21 targetSdk=33
    versionName=2.24.9.78
    privateFlags=[ HAS_DOMAIN_URLS ]
    flags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ]
    timeStamp=2024-04-27 02:31:40
    lastUpdateTime=2024-04-27 02:31:40
    installerPackageName=com.android.vending
    initiatingPackageName=com.android.vending
    User 0: ceDataInode=1234 installed=true hidden=false
      firstInstallTime=2023-02-11 09:40:03
  Package [com.android.settings] (1b2c3d4):
    codePath=/system_ext/priv-app/SettingsGoogle
    pkgFlags=[ SYSTEM HAS_CODE ]
    installerPackageName=null

Hidden system packages:
  Package [com.google.android.apps.messaging] (7f00aa1):
    codePath=/product/app/PrebuiltBugle`),
      100,
    );
    expect(packages).toEqual([
      {
        name: 'com.whatsapp',
        line: 105,
        versionName: '2.24.9.78',
        versionCode: '241097800',
        codePath: '/data/app/~~Xk3w==/com.whatsapp-Lm8Z==',
        installer: 'com.android.vending',
        firstInstallTime: new Date('2023-02-11T09:40:03Z'),
        lastUpdateTime: new Date('2024-04-27T02:31:40Z'),
        flags: ['HAS_CODE', 'ALLOW_CLEAR_USER_DATA'],
      },
      {
        name: 'com.android.settings',
        line: 117,
        versionName: undefined,
        versionCode: undefined,
        codePath: '/system_ext/priv-app/SettingsGoogle',
        installer: undefined,
        firstInstallTime: null,
        lastUpdateTime: null,
        flags: ['SYSTEM', 'HAS_CODE'],
      },
    ]);
  });

  it('reads the install time of Android 10 and before, kept on the app itself', () => {
    const [app] = parsePackageList(
      lines(`Packages:
  Package [com.gu.activity] (4c1d):
    firstInstallTime=2019-06-03 18:22:10
    lastUpdateTime=2019-06-03 18:22:10
    installerPackageName=com.google.android.packageinstaller`),
    )!;
    expect(app).toMatchObject({
      name: 'com.gu.activity',
      installer: 'com.google.android.packageinstaller',
      firstInstallTime: new Date('2019-06-03T18:22:10Z'),
    });
  });

  it('keeps what it read of an app whose block was cut short, and is nothing without a Packages: list', () => {
    const packages = parsePackageList(
      lines('Packages:\n  Package [com.x] (1):\n    versionName=1.0\n    codePath=/da'),
    );
    expect(packages).toMatchObject([
      { name: 'com.x', versionName: '1.0', codePath: '/da', firstInstallTime: null },
    ]);
    expect(parsePackageList(lines('Verifiers:\n  Required: com.android.vending'))).toBeUndefined();
    expect(parsePackageList(lines('Packages:'))).toEqual([]);
  });
});

describe('dumpsys package receivers', () => {
  it('files each receiver under its action and the actions of its filter', () => {
    const receivers = parseReceivers(
      lines(`Activity Resolver Table:
  Non-Data Actions:
      android.provider.Telephony.SMS_RECEIVED:
        1a2b3c4 com.not.a.receiver/.Activity filter 5d6e7f8
Receiver Resolver Table:
  Schemes:
      sms:
        2b1c0d9 com.google.android.apps.messaging/.shared.receiver.SmsReceiver filter 8e7f6a5
          Action: "android.intent.action.DATA_SMS_RECEIVED"
          Scheme: "sms"
          Authority: "localhost": 65535
  Non-Data Actions:
      android.provider.Telephony.SMS_RECEIVED:
        9a8b7c6 com.gu.activity/.receivers.SmsListener filter a8b7c6f
          Action: "android.provider.Telephony.SMS_RECEIVED"
          mPriority=999, mOrder=0`),
    );
    expect(receivers).toEqual([
      {
        action: 'sms',
        component: 'com.google.android.apps.messaging/.shared.receiver.SmsReceiver',
        package: 'com.google.android.apps.messaging',
        line: 8,
      },
      {
        action: 'android.intent.action.DATA_SMS_RECEIVED',
        component: 'com.google.android.apps.messaging/.shared.receiver.SmsReceiver',
        package: 'com.google.android.apps.messaging',
        line: 9,
      },
      {
        action: 'android.provider.Telephony.SMS_RECEIVED',
        component: 'com.gu.activity/.receivers.SmsListener',
        package: 'com.gu.activity',
        line: 14,
      },
    ]);
    expect(parseReceivers(lines('Packages:\n  Package [x] (1):'))).toBeUndefined();
  });
});

describe('dumpsys appops', () => {
  it('gives each operation of each app with its mode and last access and rejection (Android 11 and later)', () => {
    const ops = parseAppops(
      lines(`Current AppOps Service state:
  Op mode watchers:
    Op COARSE_LOCATION:
      #0: ModeCallback{b8f0c1a watchinguid=-1}
  Uid u0a230:
    state=cch
    LEGACY_STORAGE: mode=allow
    Package com.gu.activity:
      CAMERA (allow):
        null=[
          Access: [fgsvc-s] 2024-05-01 23:02:17.431 (-11h13m12s569ms) duration=+41s210ms
          Access: [bg-s] 2024-04-30 23:02:17.000 (-2d)
          Reject: [bg-s] 2024-05-01 08:00:00.000 (-1d)
        ]
      RECORD_AUDIO (allow / switch COARSE_LOCATION=allow):
      READ_SMS (ignore):`),
      1,
      null,
    );
    expect(ops).toEqual([
      {
        uid: 'u0a230',
        package: 'com.gu.activity',
        op: 'CAMERA',
        mode: 'allow',
        lastAccess: new Date('2024-05-01T23:02:17.431Z'),
        lastReject: new Date('2024-05-01T08:00:00Z'),
        line: 9,
      },
      {
        uid: 'u0a230',
        package: 'com.gu.activity',
        op: 'RECORD_AUDIO',
        mode: 'allow',
        lastAccess: null,
        lastReject: null,
        line: 15,
      },
      {
        uid: 'u0a230',
        package: 'com.gu.activity',
        op: 'READ_SMS',
        mode: 'ignore',
        lastAccess: null,
        lastReject: null,
        line: 16,
      },
    ]);
  });

  it('places the times Android 10 and before print relative to the dump, from the report’s time', () => {
    const text = lines(`  Uid u0a88:
    Package com.x:
      CAMERA (allow): time=+1h2m ago; duration=+5s
      READ_SMS: mode=ignore; rejectTime=+1d ago
      COARSE_LOCATION (allow):
          time=+30s ago`);
    const takenAt = new Date('2024-05-02T10:00:00Z');
    expect(parseAppops(text, 1, takenAt).map((o) => [o.op, o.mode, o.lastAccess, o.lastReject])).toEqual([
      ['CAMERA', 'allow', new Date('2024-05-02T08:58:00Z'), null],
      ['READ_SMS', 'ignore', null, new Date('2024-05-01T10:00:00Z')],
      ['COARSE_LOCATION', 'allow', new Date('2024-05-02T09:59:30Z'), null],
    ]);
    expect(parseAppops(text, 1, null).every((o) => o.lastAccess === null && o.lastReject === null)).toBe(
      true,
    );
  });
});

describe('dumpsys accessibility', () => {
  it('gives each service with what the dump says of it, from lists on one line or several', () => {
    const services = parseAccessibility(
      lines(`User state[
  attributes:{id=0, touchExplorationEnabled=false}
  Bound services:{Service[label=Services, feedbackType[FEEDBACK_GENERIC]]}
  Enabled services:{{com.gu.activity/com.gu.activity.services.AccessService}}
  Client list info:{
    Client[pid=1234, package=android]
  }
]
installed services: {
  0 : com.google.android.marvin.talkback/com.google.android.marvin.talkback.TalkBackService
  1 : com.gu.activity/com.gu.activity.services.AccessService
}
not/a.list`),
    );
    expect(services).toEqual([
      {
        component: 'com.gu.activity/com.gu.activity.services.AccessService',
        package: 'com.gu.activity',
        states: ['enabled', 'installed'],
        line: 4,
      },
      {
        component: 'com.google.android.marvin.talkback/com.google.android.marvin.talkback.TalkBackService',
        package: 'com.google.android.marvin.talkback',
        states: ['installed'],
        line: 10,
      },
    ]);
  });

  it('finds the components a setting lists', () => {
    expect(componentsIn('com.x/.A:com.y/com.y.B')).toEqual([
      { component: 'com.x/.A', package: 'com.x' },
      { component: 'com.y/com.y.B', package: 'com.y' },
    ]);
    expect(componentsIn('nothing/here')).toEqual([]);
  });
});

describe('dumpsys batterystats', () => {
  const text = lines(`Battery History (2% used, 5080 used of 256KB, 45 strings using 2842):
                    0 (15) RESET:TIME: 2024-04-28-09-00-00
             +1s023ms (2) 100 +wake_lock_in=u0a130:"*job*/com.x/.Job"
        +12h40m12s0ms (2) 097 pkginst=u0a230:"com.gu.activity"
         +1d0h0m0s0ms (2) 096 TIME: 2024-04-29-12-00-00
         +1d1h0m0s0ms (2) 071 pkgunin=u0a230:"com.gu.activity"

Per-PID Stats:
  PID 1234 wake time: +1m12s004ms
       +5d (2) 050 pkginst=u0a1:"not.in.the.history"

Daily stats:
  Current start time: 2024-05-02-03-01-10
    Update com.today vers=3
  Daily from 2024-04-28-03-00-44 to 2024-04-29-03-01-10:
    Update com.gu.activity vers=32`);

  it('dates the installs and uninstalls of the history from its clock, set again when it changed', () => {
    expect(parseBatteryHistory(text, 10)).toEqual([
      { event: 'installed', package: 'com.gu.activity', at: new Date('2024-04-28T21:40:12Z'), line: 13 },
      // The clock was set three hours later a day in: the uninstall is an hour after that.
      { event: 'uninstalled', package: 'com.gu.activity', at: new Date('2024-04-29T13:00:00Z'), line: 15 },
    ]);
    expect(parseBatteryHistory(lines('+1h (2) pkginst=u0a1:"com.x"'))).toEqual([]);
    expect(parseBatteryHistory(lines('Battery History:\n     +1h (2) pkginst=u0a1:"com.x"'))).toMatchObject([
      { package: 'com.x', at: null },
    ]);
  });

  it('places each update of the daily stats on the day it happened in', () => {
    expect(parseBatteryDaily(text)).toEqual([
      {
        event: 'updated',
        package: 'com.today',
        at: new Date('2024-05-02T03:01:10Z'),
        version: '3',
        until: null,
        line: 14,
      },
      {
        event: 'updated',
        package: 'com.gu.activity',
        at: new Date('2024-04-28T03:00:44Z'),
        version: '32',
        until: new Date('2024-04-29T03:01:10Z'),
        line: 16,
      },
    ]);
  });
});

describe('dumpsys dbinfo and logcat', () => {
  it('gives the recent statements of each database with their process and file', () => {
    const ops = parseDbinfo(
      lines(`** Database info for pid 3210 [com.android.providers.telephony] **

Connection pool for /data/user_de/0/com.android.providers.telephony/databases/mmssms.db:
  Available primary connection:
    Connection #0:
      Most recently executed operations:
        0: [2024-05-02 10:02:40.601] executeForCursorWindow took 1ms - succeeded, sql="SELECT 1"`),
    );
    expect(ops).toEqual([
      {
        at: new Date('2024-05-02T10:02:40.601Z'),
        process: 'com.android.providers.telephony',
        database: '/data/user_de/0/com.android.providers.telephony/databases/mmssms.db',
        statement: 'executeForCursorWindow took 1ms - succeeded, sql="SELECT 1"',
        line: 7,
      },
    ]);
  });

  it('dates a log line in the report’s year, or the year before for a day after the report', () => {
    const takenAt = new Date('2024-01-02T10:00:00Z');
    expect(logcatTime('01-02 09:00:00.123  1000  1234  1250 I Tag: x', takenAt)).toEqual(
      new Date('2024-01-02T09:00:00.123Z'),
    );
    expect(logcatTime('12-31 23:59:59.000  1000  1234  1250 I Tag: x', takenAt)).toEqual(
      new Date('2023-12-31T23:59:59Z'),
    );
    expect(logcatTime('2022-06-01 08:00:00.000  1000  1 1 I Tag: x', null)).toEqual(
      new Date('2022-06-01T08:00:00Z'),
    );
    expect(logcatTime('01-02 09:00:00.123  1000 I Tag: x', null)).toBeNull();
    expect(logcatTime('--------- beginning of main', takenAt)).toBeNull();
  });
});

/** Lines that look like dumpsys output, and their pieces. */
const dumpsysLine = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    'Packages:',
    'Receiver Resolver Table:',
    'Hidden system packages:',
    '  Package [com.x] (1a2b):',
    '  Package [] ():',
    '    firstInstallTime=2024-02-30 10:00:00',
    '    lastUpdateTime=',
    '    installerPackageName=',
    '    pkgFlags=[ SYSTEM',
    '      sms:',
    '        1a2b com.x/.R filter 3c',
    '          Action: "',
    '  Uid :',
    '  Uid u0a1:',
    '    Package com.x:',
    '      CAMERA (:',
    '      CAMERA (allow): time=+ ago; rejectTime=+1d1d ago',
    '          Access: [x] 2024-05-02 10:00:00.0000000000',
    'Enabled services:{{',
    'Battery History (1% used):',
    '                    0 (15) RESET:TIME: 2024-04-28-09-00-00',
    '        +12h40m12s0ms (2) 097 pkginst=u0a230:"com.gu.activity"',
    '        +99999999999999999999d (2) TIME: 9999-99-99-99-99-99 pkgunin=:""',
    '  Daily from 2024-04-28-03-00-44 to x:',
    '    Update com.x vers=',
    'installed services: {',
    '}',
    '** Database info for pid 1 [] **',
    '        0: [2024-05-02 10:00:00] ',
  ),
  fc
    .tuple(
      fc.constantFrom(
        '    versionName=',
        '    codePath=',
        '  Package [',
        '      ',
        '        ',
        'Enabled services:{',
      ),
      fc.string({ maxLength: 30 }),
    )
    .map(([a, b]) => a + b),
);

describe('the dumpsys parsers, on any text', () => {
  it('never throw, and give only what they could read whole', () => {
    fc.assert(
      fc.property(
        fc.array(dumpsysLine, { maxLength: 60 }),
        fc.option(fc.date({ noInvalidDate: true })),
        (text, takenAt) => {
          for (const p of parsePackageList(text) ?? []) {
            expect(p.name).not.toBe('');
            expect(p.firstInstallTime === null || Number.isFinite(p.firstInstallTime.getTime())).toBe(true);
          }
          for (const r of parseReceivers(text) ?? []) expect(r.component).toContain('/');
          for (const o of parseAppops(text, 1, takenAt)) {
            expect(o.op).toMatch(/^[A-Z][A-Z0-9_]+$/);
            expect(o.lastAccess === null || Number.isFinite(o.lastAccess.getTime())).toBe(true);
          }
          for (const a of parseAccessibility(text)) expect(a.states.length).toBeGreaterThan(0);
          parseDbinfo(text);
          for (const line of text) logcatTime(line, takenAt);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keep their pace on large and hostile input', () => {
    const hostile = [
      'Packages:',
      ...Array.from(
        { length: 20_000 },
        (_, i) => `  Package [p${i}] (${i}):\n    versionName=${'='.repeat(100)}`,
      ),
      'Receiver Resolver Table:',
      ...Array.from({ length: 20_000 }, () => `      ${'a'.repeat(200)}:`),
      '  Uid u0a1:',
      '    Package com.x:',
      `      CAMERA (allow): ${'time=+1d'.repeat(5_000)}`,
      `installed services: {${'{'.repeat(50_000)}`,
      `${'a.'.repeat(5_000)}/`,
    ].flatMap((l) => l.split('\n'));
    const started = performance.now();
    parsePackageList(hostile);
    parseReceivers(hostile);
    parseAppops(hostile, 1, new Date());
    parseAccessibility(hostile);
    parseDbinfo(hostile);
    parseBatteryHistory([
      'Battery History',
      ...Array.from({ length: 50_000 }, (_, i) => `  +${i}s (2) pkginst=u:"p${i}"`),
    ]);
    parseBatteryDaily(hostile);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
