/**
 * `rempart spyware scan` as an analyst runs it: real artifacts written to disk, the real shipped
 * STIX bundles (or a folder of new ones), its output, reports and exit status.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  writeAndroidqf,
  buildBugreport,
  writeBugreportZip,
} from '../../server/src/test-support/android-bugreport.js';
import { CLEAN_IOS_BACKUP, writeIosBackup } from '../../server/src/test-support/ios-backup.js';
import { run } from './main.js';

let out: string[];
let err: string[];
const scratch = mkdtempSync(join(tmpdir(), 'rempart-cli-spyware-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

/** An extracted sysdiagnose whose shutdown.log holds `lines`. */
function sysdiagnose(name: string, lines: string[]): string {
  const root = join(scratch, name, 'sysdiagnose_2023.02.03_10-20-15+0100_iPhone-OS_iPhone_20D47');
  mkdirSync(join(root, 'system_logs.logarchive', 'Extra'), { recursive: true });
  writeFileSync(join(root, 'system_logs.logarchive', 'Extra', 'shutdown.log'), `${lines.join('\n')}\n`);
  return join(scratch, name);
}

const infected = sysdiagnose('infected', [
  'remaining client pid: 312 (/usr/libexec/backboardd)',
  'remaining client pid: 5120 (/private/var/tmp/fservernetd)',
  'SIGTERM: [1675416015] Cleaned up 2 processes',
]);
const clean = sysdiagnose('clean', [
  'remaining client pid: 312 (/usr/libexec/backboardd)',
  'SIGTERM: [1675416015] Cleaned up 1 processes',
]);

describe('rempart spyware scan', () => {
  it('finds Pegasus in a sysdiagnose, prints it, writes the reports and exits 1', async () => {
    const reportDir = join(scratch, 'report');
    expect(await run(['spyware', 'scan', '--sysdiagnose', infected, '--report', reportDir])).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/indicators: 4,272 from 5 bundle\(s\)/);
    expect(text).toMatch(/DETECTED: Pegasus \(1\)/);
    expect(text).toMatch(
      /2023-02-03T09:20:15.000Z {2}shutdown_log {2}process fservernetd → Pegasus \[pegasus\.stix2\]/,
    );
    const html = readFileSync(join(reportDir, 'report.html'), 'utf8');
    expect(html).toContain('1 detection: Pegasus (1)');
    expect(html).toContain('/private/var/tmp/fservernetd');
    const json = JSON.parse(readFileSync(join(reportDir, 'report.json'), 'utf8')) as {
      timeline: unknown[];
      detections: unknown[];
    };
    expect(json.timeline).toHaveLength(2);
    expect(json.detections).toHaveLength(1);
  });

  it('prints each detection as JSON with the indicator, the malware, the artifact and the record', async () => {
    expect(await run(['spyware', 'scan', '--sysdiagnose', infected, '--json'])).toBe(1);
    const printed = JSON.parse(out.join('\n')) as { kind: string; detections: unknown[]; timeline?: unknown };
    expect(printed.kind).toBe('sysdiagnose');
    expect(printed.timeline).toBeUndefined();
    expect(printed.detections).toEqual([
      {
        at: '2023-02-03T09:20:15.000Z',
        artifact: 'shutdown_log',
        file: 'system_logs.logarchive/Extra/shutdown.log',
        record: 'line 3: pid 5120 (/private/var/tmp/fservernetd) delayed the shutdown',
        indicator: {
          type: 'process',
          value: 'fservernetd',
          id: expect.stringMatching(/^indicator--/) as string,
          source: 'pegasus.stix2',
        },
        malware: ['Pegasus'],
        matched: 'fservernetd',
      },
    ]);
  });

  it('exits 0 on a clean phone', async () => {
    expect(await run(['spyware', 'scan', '--sysdiagnose', clean])).toBe(0);
    expect(out.join('\n')).toMatch(/No indicator of compromise found/);
  });

  it('matches against the bundles of --iocs instead of the shipped ones', async () => {
    const iocs = join(scratch, 'iocs');
    mkdirSync(iocs, { recursive: true });
    writeFileSync(
      join(iocs, 'new.stix2'),
      JSON.stringify({
        type: 'bundle',
        id: 'bundle--new',
        objects: [
          { type: 'malware', id: 'malware--x', name: 'NewSpy', is_family: false },
          {
            type: 'indicator',
            id: 'indicator--x',
            pattern: "[process:name = 'backboardd']",
            pattern_type: 'stix',
          },
          {
            type: 'relationship',
            id: 'relationship--x',
            relationship_type: 'indicates',
            source_ref: 'indicator--x',
            target_ref: 'malware--x',
          },
        ],
      }),
    );
    expect(await run(['spyware', 'scan', '--sysdiagnose', clean, '--iocs', iocs, '--json'])).toBe(1);
    const printed = JSON.parse(out.join('\n')) as {
      indicators: { count: number };
      detections: { malware: string[] }[];
    };
    expect(printed.indicators.count).toBe(1);
    expect(printed.detections.map((d) => d.malware)).toEqual([['NewSpy']]);
  });

  it("finds a Pegasus link in an iOS backup's messages, and nothing in a clean backup", async () => {
    const infectedBackup = await writeIosBackup(join(scratch, 'ios-infected'), {
      ...CLEAN_IOS_BACKUP,
      sms: [
        ...(CLEAN_IOS_BACKUP.sms ?? []),
        {
          text: 'Your parcel: https://weather4free.com/track?id=7',
          handle: '+33699999999',
          at: new Date('2023-02-01T10:00:00Z'),
        },
      ],
    });
    expect(await run(['spyware', 'scan', '--ios-backup', infectedBackup, '--json'])).toBe(1);
    const printed = JSON.parse(out.join('\n')) as {
      kind: string;
      detections: { artifact: string; malware: string[]; indicator: { value: string } }[];
    };
    expect(printed.kind).toBe('ios-backup');
    expect(printed.detections.map((d) => [d.artifact, d.indicator.value, d.malware])).toEqual([
      ['sms', 'weather4free.com', ['Pegasus']],
    ]);
    out = [];
    const cleanBackup = await writeIosBackup(join(scratch, 'ios-clean'), CLEAN_IOS_BACKUP);
    expect(await run(['spyware', 'scan', '--ios-backup', cleanBackup])).toBe(0);
    expect(out.join('\n')).toMatch(/No indicator of compromise found/);
  });

  it('finds a NoviSpy app in an Android bug report zip and in an androidqf folder', async () => {
    const app = { id: 'com.gu.activity', installedAt: '2024-04-28 21:40:12' };
    mkdirSync(join(scratch, 'android'), { recursive: true });
    const zip = writeBugreportZip(buildBugreport({ app }), join(scratch, 'android'));
    expect(await run(['spyware', 'scan', '--android-bugreport', zip, '--json'])).toBe(1);
    const fromZip = JSON.parse(out.join('\n')) as {
      detections: { indicator: { value: string }; malware: string[] }[];
    };
    expect(
      fromZip.detections.some(
        (d) => d.indicator.value === 'com.gu.activity' && d.malware.includes('NoviSpy'),
      ),
    ).toBe(true);
    out = [];
    expect(
      await run(['spyware', 'scan', '--androidqf', writeAndroidqf(join(scratch, 'android'), { app })]),
    ).toBe(1);
    expect(out.join('\n')).toMatch(/DETECTED: NoviSpy/);
    out = [];
    expect(
      await run([
        'spyware',
        'scan',
        '--android-bugreport',
        writeBugreportZip(buildBugreport(), join(scratch, 'android'), 'clean.zip'),
      ]),
    ).toBe(0);
  });

  it.each([
    [[], /exactly one of --ios-backup/],
    [['--sysdiagnose', 'a', '--ios-backup', 'b'], /got --ios-backup and --sysdiagnose/],
    [['--sysdiagnose', ''], /--sysdiagnose needs a path/],
    [['--sysdiagnose', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['--sysdiagnose', join(scratch, 'nowhere')], /no such folder/],
    [['--sysdiagnose', clean, '--iocs', join(scratch, 'nowhere')], /--iocs .*no such file or folder/],
  ])('refuses %j with exit status 2', async (args, message) => {
    expect(await run(['spyware', 'scan', ...args])).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('names the object of a malformed bundle, exit status 2', async () => {
    const bad = join(scratch, 'bad.stix2');
    writeFileSync(
      bad,
      JSON.stringify({
        type: 'bundle',
        objects: [{ type: 'indicator', id: 'indicator--broken', pattern: "[process:name = 'x" }],
      }),
    );
    expect(await run(['spyware', 'scan', '--sysdiagnose', clean, '--iocs', bad])).toBe(2);
    expect(err.join('\n')).toMatch(
      /bad\.stix2: indicator--broken: .*unterminated string \(validation_failed\)/,
    );
  });

  it('decrypts an encrypted iOS backup with REMPART_BACKUP_PASSWORD, and refuses a missing or wrong one with exit status 2', async () => {
    const backup = await writeIosBackup(
      join(scratch, 'ios-encrypted'),
      {
        ...CLEAN_IOS_BACKUP,
        sms: [
          ...(CLEAN_IOS_BACKUP.sms ?? []),
          {
            text: 'Your parcel: https://weather4free.com/track?id=7',
            handle: '+33699999999',
            at: new Date('2023-02-01T10:00:00Z'),
          },
        ],
      },
      { password: 'correct horse battery', iterations: 1000 },
    );
    try {
      vi.stubEnv('REMPART_BACKUP_PASSWORD', '');
      expect(await run(['spyware', 'scan', '--ios-backup', backup])).toBe(2);
      expect(err.join('\n')).toMatch(
        /the backup is encrypted .*REMPART_BACKUP_PASSWORD environment variable\) \(backup_encrypted\)/,
      );
      vi.stubEnv('REMPART_BACKUP_PASSWORD', 'correct horse battery staple');
      expect(await run(['spyware', 'scan', '--ios-backup', backup])).toBe(2);
      expect(err.join('\n')).toMatch(/not the backup's password.*\(backup_password_wrong\)/);
      expect(out).toEqual([]);
      vi.stubEnv('REMPART_BACKUP_PASSWORD', 'correct horse battery');
      expect(await run(['spyware', 'scan', '--ios-backup', backup, '--json'])).toBe(1);
      const printed = JSON.parse(out.join('\n')) as {
        detections: { artifact: string; malware: string[]; indicator: { value: string } }[];
      };
      expect(printed.detections.map((d) => [d.artifact, d.indicator.value, d.malware])).toEqual([
        ['sms', 'weather4free.com', ['Pegasus']],
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
