/**
 * Blocking through a fail2ban-compatible action. There is no fail2ban here: a small stand-in
 * `fail2ban-client` (a shell script) records each argv it is run with, one line of tab-separated
 * words, so the test reads exactly what a real client would have been given. A real process, run
 * by the real runner; the stand-in fails for one address and hangs for another, as a real client
 * can.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WatchHit } from '../detector.js';
import { AddressBlocker } from './blocker.js';
import type { BlockConfig } from './config.js';

let dir: string;
let client: string;
let calls: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rempart-fail2ban-'));
  client = join(dir, 'fail2ban-client');
  calls = join(dir, 'calls');
  writeFileSync(
    client,
    [
      '#!/bin/sh',
      `out='${calls}'`,
      'line=""',
      'for word in "$@"; do line="$line$word\t"; done',
      'printf "%s\\n" "$line" >> "$out"',
      'case "$3 $4" in',
      '  "banip 198.51.100.66") echo "ERROR  NOK: (\'198.51.100.66 refused\',)" >&2; exit 255 ;;',
      '  "banip 198.51.100.99") exec sleep 5 ;;',
      '  "unbanip 198.51.100.77") echo "ERROR  fail2ban is busy" >&2; exit 1 ;;',
      'esac',
      'echo 1',
    ].join('\n'),
  );
  chmodSync(client, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blockers: AddressBlocker[] = [];
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((b) => b.close()));
  rmSync(calls, { force: true });
});

/** Each run of the stand-in: its argv after the program. */
const runs = (): string[][] =>
  existsSync(calls)
    ? readFileSync(calls, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.replace(/\t$/, '').split('\t'))
    : [];

const clock = { now: 1_000_000 };
const blocker = (config: BlockConfig = {}) => {
  const b = new AddressBlocker(
    { mode: 'apply', backend: 'fail2ban', fail2ban: { command: client, jail: 'rempart-watch' }, ...config },
    { now: () => clock.now, interfaceAddresses: () => [], sweepIntervalMs: 0 },
  );
  blockers.push(b);
  return b;
};

const hit = (srcIp: string): WatchHit => ({
  rule: { id: 'owa', title: 'OWA exploitation', level: 'critical', kind: 'detection', file: 'x.yml' },
  time: 0,
  events: [
    { time: 0, logsource: { category: 'webserver' }, fields: { 'c-ip': srcIp }, raw: 'x', parsed: true },
  ],
});

describe('blocking through fail2ban (a stand-in client)', () => {
  it('bans an address with `set <jail> banip <ip>` and lists the block as applied', async () => {
    const b = blocker();
    expect(await b.start()).toEqual({ ok: true });
    const outcome = await b.blockHit(hit('203.0.113.5'));
    expect(outcome).toMatchObject({
      outcome: 'blocked',
      entry: {
        address: '203.0.113.5',
        mode: 'applied',
        backend: 'fail2ban',
        ruleId: 'owa',
        level: 'critical',
      },
    });
    expect(runs()).toEqual([['set', 'rempart-watch', 'banip', '203.0.113.5']]);
    expect(b.list()[0]?.command).toEqual([client, 'set', 'rempart-watch', 'banip', '203.0.113.5']);
  });

  it('bans an IPv6 address as written canonically', async () => {
    const b = blocker();
    await b.blockHit(hit('2001:0DB8::0001'));
    expect(runs()).toEqual([['set', 'rempart-watch', 'banip', '2001:db8::1']]);
  });

  it('does not ban twice: a later hit only extends the expiry Rempart keeps', async () => {
    const b = blocker({ durationSeconds: 600 });
    await b.blockHit(hit('203.0.113.5'));
    clock.now += 300_000;
    expect(await b.blockHit(hit('203.0.113.5'))).toMatchObject({
      outcome: 'extended',
      entry: { expiresAt: clock.now + 600_000, hits: 2 },
    });
    expect(runs()).toHaveLength(1);
  });

  it('lifts a ban with `unbanip` when asked, and by itself once it expires', async () => {
    const b = blocker({ durationSeconds: 60 });
    await b.blockHit(hit('203.0.113.5'));
    await b.blockHit(hit('203.0.113.6'));
    expect(await b.unblock('203.0.113.5')).toMatchObject({ outcome: 'unblocked', mode: 'applied' });
    clock.now += 61_000;
    expect(await b.sweep()).toBe(1);
    expect(runs()).toEqual([
      ['set', 'rempart-watch', 'banip', '203.0.113.5'],
      ['set', 'rempart-watch', 'banip', '203.0.113.6'],
      ['set', 'rempart-watch', 'unbanip', '203.0.113.5'],
      ['set', 'rempart-watch', 'unbanip', '203.0.113.6'],
    ]);
    expect(b.list()).toEqual([]);
    expect(b.stats()).toMatchObject({ unblocked: 1, expired: 1, active: 0 });
  });

  it('tries again at the next sweep to lift an expired ban whose unbanip failed', async () => {
    const b = blocker({ durationSeconds: 60 });
    await b.blockHit(hit('198.51.100.77'));
    clock.now += 61_000;
    expect(await b.sweep()).toBe(0);
    expect(await b.sweep()).toBe(0);
    expect(runs().filter((argv) => argv[2] === 'unbanip')).toHaveLength(2);
    expect(b.stats()).toMatchObject({ failed: 2, expired: 0 });
  });

  it('reports what the client said when it fails, without throwing or listing a block', async () => {
    const b = blocker();
    const outcome = await b.blockHit(hit('198.51.100.66'));
    expect(outcome).toMatchObject({ outcome: 'failed', address: '198.51.100.66' });
    if (outcome.outcome !== 'failed') throw new Error('expected a failure');
    expect(outcome.error).toBe("exit status 255: ERROR  NOK: ('198.51.100.66 refused',)");
    expect(outcome.command).toEqual([client, 'set', 'rempart-watch', 'banip', '198.51.100.66']);
    expect(b.list()).toEqual([]);
    expect(b.commands().at(-1)).toMatchObject({ ok: false, mode: 'applied' });
  });

  it('gives up on a client that hangs, after the command timeout', async () => {
    const b = blocker({ commandTimeoutMs: 300 });
    const started = Date.now();
    const outcome = await b.blockHit(hit('198.51.100.99'));
    expect(outcome).toMatchObject({ outcome: 'failed', error: 'timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('runs the commands of simultaneous hits one at a time, each address once', async () => {
    const b = blocker();
    const addresses = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
    const outcomes = await Promise.all(
      [...addresses, ...addresses].map((address) => b.blockHit(hit(address))),
    );
    expect(outcomes.filter((o) => o.outcome === 'blocked')).toHaveLength(16);
    expect(new Set(outcomes.map((o) => (o.outcome === 'blocked' ? o.entry.address : '')))).toEqual(
      new Set(addresses),
    );
    expect(runs().map((argv) => argv[3])).toEqual(addresses);
  });

  it('in dry-run runs nothing and records the command', async () => {
    const b = blocker({ mode: 'dry-run' });
    const outcome = await b.blockHit(hit('203.0.113.5'));
    expect(outcome).toMatchObject({
      outcome: 'blocked',
      entry: { mode: 'dry-run', command: [client, 'set', 'rempart-watch', 'banip', '203.0.113.5'] },
    });
    expect(runs()).toEqual([]);
  });
});
