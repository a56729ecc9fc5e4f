import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import { IndicatorMatcher } from './matcher.js';
import { loadIndicatorFolder } from './stix.js';
import { HEURISTIC_SOURCE, parseShutdownLog, scanSysdiagnose } from './sysdiagnose.js';

const matcher = IndicatorMatcher.from(loadIndicatorFolder());
const scratch = mkdtempSync(join(tmpdir(), 'rempart-sysdiagnose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An extracted sysdiagnose named as iOS names it, with `log` as its shutdown.log. */
function sysdiagnose(name: string, log: string | undefined): string {
  const root = join(scratch, name, 'sysdiagnose_2024.01.10_15-32-10+0100_iPhone-OS_iPhone_21C66');
  mkdirSync(join(root, 'system_logs.logarchive', 'Extra'), { recursive: true });
  if (log !== undefined) writeFileSync(join(root, 'system_logs.logarchive', 'Extra', 'shutdown.log'), log);
  return join(scratch, name);
}

const CLEAN = [
  'remaining client pid: 123 (/System/Library/PrivateFrameworks/MediaRemote.framework/Support/mediaremoted)',
  'remaining client pid: 123 (/System/Library/PrivateFrameworks/MediaRemote.framework/Support/mediaremoted)',
  'SIGTERM: [1704897130] Cleaned up 1 processes',
  'After 3.21s, these clients are still here:',
  'SIGTERM: [1704983530] Cleaned up 0 processes',
].join('\n');

const INFECTED = [
  'remaining client pid: 312 (/usr/libexec/backboardd)',
  'remaining client pid: 4021 (/private/var/db/com.apple.xpc.roleaccountd.staging/cfprefsd)',
  'SIGTERM: [1675416015] Cleaned up 2 processes',
  'remaining client pid: 5120 (/private/var/tmp/fservernetd)',
  'SIGTERM: [1675502415] Cleaned up 1 processes',
].join('\n');

describe('shutdown.log', () => {
  it('reads each reboot: its time and the clients that delayed it, counting repeated waits', () => {
    const entries = parseShutdownLog(CLEAN);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toEqual({
      at: new Date(1704897130 * 1000),
      clients: [
        {
          pid: 123,
          path: '/System/Library/PrivateFrameworks/MediaRemote.framework/Support/mediaremoted',
          waits: 2,
        },
      ],
      line: 3,
    });
    expect(entries[1]?.clients).toEqual([]);
  });

  it('keeps the clients of a log cut short after its last SIGTERM, without a time', () => {
    expect(parseShutdownLog('remaining client pid: 9 (/private/var/tmp/x)')).toEqual([
      { at: null, clients: [{ pid: 9, path: '/private/var/tmp/x', waits: 1 }], line: 1 },
    ]);
  });

  it('reads any text without failing, and every client it reports is one of its lines', () => {
    const line = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.nat(), fc.string())
        .map(([pid, path]) => `remaining client pid: ${pid} (${path.replace(/[\r\n]/g, '')})`),
      fc.nat().map((t) => `SIGTERM: [${t}] Cleaned up`),
    );
    fc.assert(
      fc.property(fc.array(line), (lines) => {
        const text = lines.join('\n');
        for (const entry of parseShutdownLog(text))
          for (const client of entry.clients)
            expect(text).toContain(`remaining client pid: ${client.pid} (${client.path})`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('a sysdiagnose scan', () => {
  it('finds nothing in a clean phone, and reads the model and build from the folder name', async () => {
    const report = await scanSysdiagnose(sysdiagnose('clean', CLEAN), { matcher });
    expect(report.detections).toEqual([]);
    expect(report.device).toEqual({ os: 'iPhone OS', model: 'iPhone', build: '21C66' });
    expect(report.artifacts.find((a) => a.artifact === 'shutdown_log')).toMatchObject({
      status: 'read',
      records: 1,
    });
  });

  it('flags a client from /private/var/db/ even unnamed, and a Pegasus process by its indicator', async () => {
    const report = await scanSysdiagnose(sysdiagnose('infected', INFECTED), { matcher });
    expect(report.detections.map((d) => [d.at, d.detection?.source, d.detection?.malware])).toEqual([
      ['2023-02-03T09:20:15.000Z', HEURISTIC_SOURCE, []],
      ['2023-02-04T09:20:15.000Z', 'pegasus.stix2', ['Pegasus']],
    ]);
    expect(report.detections[0]?.record).toContain(
      '/private/var/db/com.apple.xpc.roleaccountd.staging/cfprefsd',
    );
    expect(report.timeline).toHaveLength(3);
  });

  it('reports a sysdiagnose without shutdown.log as missing, and refuses what is not a sysdiagnose', async () => {
    const report = await scanSysdiagnose(sysdiagnose('nolog', undefined), { matcher });
    expect(report.artifacts.find((a) => a.artifact === 'shutdown_log')?.status).toBe('missing');
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    await expect(scanSysdiagnose(empty, { matcher })).rejects.toThrow(RempartError);
    await expect(scanSysdiagnose(join(scratch, 'nowhere'), { matcher })).rejects.toThrow(/no such folder/);
    writeFileSync(join(scratch, 'a.tar.gz'), 'x');
    await expect(scanSysdiagnose(join(scratch, 'a.tar.gz'), { matcher })).rejects.toThrow(
      /extract the sysdiagnose/,
    );
  });
});
