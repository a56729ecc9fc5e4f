/**
 * The live server watch from the command line: `rempart watch serve` receiving syslog on loopback
 * until stopped, then `rempart watch search` and `rempart watch hunt` over what it stored, on the
 * same data directory, and their refusals of bad input.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetPostgres, testDatabaseUrl } from '../../server/src/test-support/platform.js';
import { run } from './main.js';

let out: string[];
let err: string[];
const saved = { ...process.env };
const dataDir = mkdtempSync(join(tmpdir(), 'rempart-cli-watch-serve-'));

beforeAll(async () => {
  if (testDatabaseUrl) await resetPostgres(testDatabaseUrl);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  // One data directory for the whole file: search and hunt read what serve stored.
  process.env.REMPART_DATA_DIR = dataDir;
  process.env.REMPART_LOG_LEVEL = 'silent';
  process.env.REMPART_DNS_UPSTREAMS = '127.0.0.1:1';
  if (testDatabaseUrl) process.env.DATABASE_URL = testDatabaseUrl;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
});

function failedLogin(user: string, ip: string): string {
  return `<38>1 ${new Date().toISOString()} mx1 dovecot 2211 - - imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=192.0.2.25, TLS`;
}

describe('rempart watch serve, search and hunt', () => {
  it('receives syslog until stopped, then finds what it stored by search and by a retro-hunt', async () => {
    const stop = new AbortController();
    const serving = run(['watch', 'serve', '--syslog', '127.0.0.1:0'], { stop: stop.signal });
    await vi.waitFor(() => expect(out.join('\n')).toMatch(/UDP and TCP on 127\.0\.0\.1:\d+/), {
      timeout: 60_000,
    });
    const port = Number(/UDP and TCP on 127\.0\.0\.1:(\d+)/.exec(out.join('\n'))?.[1]);
    expect(out.join('\n')).toMatch(/Rules: \d{3} detection, \d+ correlation/);
    expect(out.join('\n')).toMatch(/Responses: block dry-run/);
    const socket = createSocket('udp4');
    for (let i = 0; i < 12; i++)
      await new Promise<void>((done, fail) =>
        socket.send(failedLogin('jeanne@interieur.gouv.fr', '203.0.113.9'), port, '127.0.0.1', (e) =>
          e ? fail(e) : done(),
        ),
      );
    socket.close();
    // The datagrams are read off the socket before it closes; what the queue holds is stored on close.
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop.abort();
    expect(await serving).toBe(0);

    out = [];
    expect(await run(['watch', 'search', 'src_ip:203.0.113.9', 'outcome:failure', '--json'])).toBe(0);
    const events = out.map((line) => JSON.parse(line) as { fields: { user: string }; source: string });
    expect(events).toHaveLength(12);
    expect(
      events.every((e) => e.fields.user === 'jeanne@interieur.gouv.fr' && e.source === 'syslog-udp'),
    ).toBe(true);

    const rule = join(dataDir, 'jeanne.yml');
    writeFileSync(
      rule,
      [
        'title: Failures of Jeanne',
        'logsource:',
        '  product: linux',
        'detection:',
        '  selection:',
        '    user: jeanne@interieur.gouv.fr',
        '    outcome: failure',
        '  condition: selection',
        'level: low',
      ].join('\n'),
    );
    out = [];
    expect(await run(['watch', 'hunt', '--rules', rule])).toBe(1);
    expect(out.join('\n')).toMatch(/12 stored event\(s\) searched .*: 12 hit\(s\)/);
    expect(out.join('\n')).toMatch(/ 12 {2}low +Failures of Jeanne$/m);
  }, 120_000);

  it('refuses a bad query, a broken rule and a serve with nothing to receive, with exit status 2', async () => {
    expect(await run(['watch', 'search', 'user:"unclosed'])).toBe(2);
    expect(err.join('\n')).toMatch(/validation_failed/);
    const broken = join(dataDir, 'broken.yml');
    writeFileSync(broken, 'title: Broken\ndetection:\n  selection: [unclosed\n');
    expect(await run(['watch', 'hunt', '--rules', broken])).toBe(2);
    expect(err.join('\n')).toMatch(/hunt\.yml/);
    expect(await run(['watch', 'hunt', '--rules', join(dataDir, 'missing.yml')])).toBe(2);
    expect(await run(['watch', 'search', '--from', 'yesterday'])).toBe(2);
    expect(await run(['watch', 'serve'])).toBe(2);
    expect(err.join('\n')).toMatch(/needs something to receive/);
  }, 60_000);
});
