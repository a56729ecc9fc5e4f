/**
 * The blocker's decisions in dry-run, where it runs nothing and records the commands: what is
 * refused, what is selected, what is extended. Running the commands for real is in
 * nftables.int.test.ts (the real nft, in a network namespace) and fail2ban.int.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import type { WatchHit } from '../detector.js';
import type { WatchEvent } from '../event.js';
import { parseAddress } from './address.js';
import { nftDuration } from './backends.js';
import { AddressBlocker, sourceAddress } from './blocker.js';
import { formatCommand } from './commands.js';
import type { BlockConfig } from './config.js';

const HOUR = 3_600_000;

const event = (fields: WatchEvent['fields']): WatchEvent => ({
  time: 0,
  logsource: { product: 'linux', service: 'dovecot' },
  fields,
  raw: 'x',
  parsed: true,
});

const hit = (fields: WatchEvent['fields'], level = 'high', id = 'brute'): WatchHit => ({
  rule: { id, title: 'Brute force', level, kind: 'detection', file: 'rules/brute.yml' },
  time: 0,
  events: [event(fields)],
});

/** A blocker in dry-run on a clock the test moves; the machine's interfaces replaced by one address. */
const blocker = (config: BlockConfig = {}) => {
  const clock = { now: 1_000_000 };
  const b = new AddressBlocker(
    { mode: 'dry-run', ...config },
    { now: () => clock.now, interfaceAddresses: () => ['192.0.2.250', 'fe80::1'], sweepIntervalMs: 0 },
  );
  return { b, clock };
};

describe('the address blocker in dry-run', () => {
  it('records the nft command it would run and lists the block, running nothing', async () => {
    const { b, clock } = blocker();
    const outcome = await b.blockHit(hit({ src_ip: '203.0.113.5' }));
    expect(outcome).toMatchObject({
      outcome: 'blocked',
      entry: {
        address: '203.0.113.5',
        family: 4,
        ruleId: 'brute',
        mode: 'dry-run',
        backend: 'nftables',
        expiresAt: clock.now + HOUR,
        command: [
          'nft',
          'add',
          'element',
          'inet',
          'rempart',
          'blocked4',
          '{',
          '203.0.113.5',
          'timeout',
          '1h',
          '}',
        ],
      },
    });
    expect(b.list()).toHaveLength(1);
    expect(b.commands()).toEqual([expect.objectContaining({ purpose: 'block', mode: 'dry-run', ok: true })]);
  });

  it('sends an IPv6 source to the IPv6 set, spelled canonically', async () => {
    const { b } = blocker();
    const outcome = await b.blockHit(hit({ src_ip: '2001:DB8:0:0::7' }));
    expect(outcome).toMatchObject({ outcome: 'blocked', entry: { address: '2001:db8::7', family: 6 } });
    if (outcome.outcome !== 'blocked') throw new Error('expected a block');
    expect(outcome.entry.command.slice(0, 8)).toEqual([
      'nft',
      'add',
      'element',
      'inet',
      'rempart',
      'blocked6',
      '{',
      '2001:db8::7',
    ]);
  });

  it('refuses loopback, unspecified, its own and allow-listed addresses, and what is not an address', async () => {
    const { b } = blocker({ allow: ['198.51.100.0/24', '2001:db8:1::/48'], ownAddresses: ['203.0.113.1'] });
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.2', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['192.0.2.250', 'own'],
      ['FE80::1', 'own'],
      ['203.0.113.1', 'own'],
      ['198.51.100.77', 'allowed'],
      ['2001:db8:1:2::3', 'allowed'],
      ['mail.example', 'invalid'],
      ['203.0.113.5; reboot', 'invalid'],
    ];
    for (const [address, reason] of cases)
      expect(await b.blockAddress(address, { ruleId: 'r', ruleTitle: 'R' })).toMatchObject({
        outcome: 'refused',
        reason,
      });
    expect(b.list()).toEqual([]);
    expect(b.commands()).toEqual([]);
    expect(b.stats()).toMatchObject({ refused: cases.length, blocked: 0 });
  });

  it('responds only to the rules selected by level or id', async () => {
    const { b } = blocker({ minLevel: 'critical', rules: ['listed'], exceptRules: ['never'] });
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }, 'high'))).toEqual({
      outcome: 'skipped',
      reason: 'not-selected',
    });
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }, 'critical', 'never'))).toMatchObject({
      outcome: 'skipped',
    });
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }, 'low', 'listed'))).toMatchObject({
      outcome: 'blocked',
    });
    expect(await b.blockHit(hit({ src_ip: '203.0.113.6' }, 'critical'))).toMatchObject({
      outcome: 'blocked',
    });
  });

  it('does nothing at all when off', async () => {
    const { b } = blocker({ mode: 'off' });
    expect(await b.start()).toEqual({ ok: true });
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }, 'critical'))).toEqual({
      outcome: 'skipped',
      reason: 'off',
    });
    expect(b.commands()).toEqual([]);
  });

  it('records the idempotent setup of the table, sets and chain at start', async () => {
    const { b } = blocker();
    const setup = await b.start();
    expect(setup.ok).toBe(true);
    const line = setup.command!.join(' ');
    expect(line).toContain('add table inet rempart ;');
    expect(line).toContain('add set inet rempart blocked4 { type ipv4_addr ; flags timeout ; }');
    expect(line).toContain('add set inet rempart blocked6 { type ipv6_addr ; flags timeout ; }');
    expect(line).toContain(
      'flush chain inet rempart input ; add rule inet rempart input ip saddr @blocked4 drop',
    );
    expect(line).not.toContain('flush set');
    expect(b.commands()[0]).toMatchObject({ purpose: 'setup', mode: 'dry-run' });
  });

  it('does not block an address twice: a later hit extends its expiry', async () => {
    const { b, clock } = blocker({ durationSeconds: 3600 });
    await b.blockHit(hit({ src_ip: '203.0.113.5' }));
    clock.now += 10_000;
    // Moments later: counted, nothing run again.
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }))).toMatchObject({ outcome: 'already' });
    clock.now += 20 * 60_000;
    const extended = await b.blockHit(hit({ src_ip: '::ffff:203.0.113.5' }));
    expect(extended).toMatchObject({ outcome: 'extended', entry: { hits: 3, expiresAt: clock.now + HOUR } });
    if (extended.outcome !== 'extended') throw new Error('expected an extension');
    // Add (in case it expired), delete, add with the new timeout: one transaction.
    expect(extended.command?.join(' ')).toBe(
      'nft add element inet rempart blocked4 { 203.0.113.5 timeout 1h } ; ' +
        'delete element inet rempart blocked4 { 203.0.113.5 } ; ' +
        'add element inet rempart blocked4 { 203.0.113.5 timeout 1h }',
    );
    expect(b.list()).toHaveLength(1);
    expect(b.stats()).toMatchObject({ blocked: 1, already: 1, extended: 1, active: 1 });
  });

  it('forgets a block past its expiry, and blocks the address afresh when it comes back', async () => {
    const { b, clock } = blocker({ durationSeconds: 60 });
    await b.blockHit(hit({ src_ip: '203.0.113.5' }));
    clock.now += 60_000;
    expect(b.list()).toEqual([]);
    expect(await b.sweep()).toBe(1);
    expect(await b.blockHit(hit({ src_ip: '203.0.113.5' }))).toMatchObject({
      outcome: 'blocked',
      entry: { hits: 1, command: expect.arrayContaining(['1m']) as unknown },
    });
  });

  it('unblocks, recording the delete command, and refuses to unblock what is not an address', async () => {
    const { b } = blocker();
    await b.blockHit(hit({ src_ip: '2001:db8::9' }));
    const outcome = await b.unblock('2001:DB8::9');
    expect(outcome).toMatchObject({
      outcome: 'unblocked',
      mode: 'dry-run',
      command: ['nft', 'delete', 'element', 'inet', 'rempart', 'blocked6', '{', '2001:db8::9', '}'],
    });
    expect(b.list()).toEqual([]);
    await expect(b.unblock('not an address')).rejects.toThrow(RempartError);
    await expect(b.unblock('not an address')).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('keeps at most its bound of blocks, forgetting the soonest to expire', async () => {
    const { b, clock } = blocker({ maxBlocks: 2 });
    for (let i = 1; i <= 4; i++) {
      await b.blockHit(hit({ src_ip: `203.0.113.${i}` }));
      clock.now += 1000;
    }
    expect(b.list().map((e) => e.address)).toEqual(['203.0.113.3', '203.0.113.4']);
  });

  it('tells its listeners of each block, and a listener that throws does not break the pipeline', async () => {
    const { b } = blocker();
    const told: string[] = [];
    b.on('blocked', (entry) => told.push(entry.address));
    b.on('blocked', () => {
      throw new Error('a broken listener');
    });
    await expect(b.blockHit(hit({ src_ip: '203.0.113.5' }))).resolves.toMatchObject({ outcome: 'blocked' });
    expect(told).toEqual(['203.0.113.5']);
  });

  it('rejects invalid settings with a validation error', () => {
    expect(() => new AddressBlocker({ durationSeconds: -5 })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });
});

describe('the commands of the blocker', () => {
  it('hold the address as one canonical word, whatever a log line put in the field', async () => {
    const vocabulary = new Set([
      'nft',
      'add',
      'delete',
      'element',
      'inet',
      'rempart',
      'blocked4',
      'blocked6',
    ]);
    vocabulary.add('{').add('}').add(';').add('timeout').add('1h');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.constant('::ffff:203.0.113.9')),
        async (text) => {
          const { b } = blocker();
          const outcome = await b.blockHit(hit({ src_ip: text }));
          const address = parseAddress(text.trim());
          if (outcome.outcome === 'blocked') {
            expect(outcome.entry.address).toBe(address?.address);
            for (const word of outcome.entry.command)
              expect(vocabulary.has(word) || word === address?.address).toBe(true);
          } else expect(['refused', 'skipped']).toContain(outcome.outcome);
          if (address === undefined) expect(outcome.outcome).not.toBe('blocked');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('read as one line for people, with the words that need it quoted', () => {
    expect(
      formatCommand(['nft', 'add', 'element', 'inet', 'rempart', 'blocked4', '{', '203.0.113.5', '}']),
    ).toBe("nft add element inet rempart blocked4 '{' 203.0.113.5 '}'");
    expect(formatCommand(['x', "it's"])).toBe(`x 'it'\\''s'`);
  });
});

describe('the source address of a hit', () => {
  const fields = ['src_ip', 'c-ip', 'IpAddress'];

  it("is a detection's event's first address field", () => {
    expect(sourceAddress(hit({ 'c-ip': '203.0.113.9' }), fields)).toEqual({ address: '203.0.113.9' });
    expect(sourceAddress(hit({ IpAddress: '-' }), fields)).toEqual({ reason: 'no-address' });
    expect(sourceAddress(hit({ user: 'alice' }), fields)).toEqual({ reason: 'no-address' });
  });

  it("is a correlation's group's, or the one address all its events share", () => {
    const events = (...ips: string[]) => ips.map((ip) => event({ src_ip: ip }));
    expect(sourceAddress({ group: { src_ip: '192.0.2.7' }, events: events('192.0.2.8') }, fields)).toEqual({
      address: '192.0.2.7',
    });
    expect(
      sourceAddress({ group: { user: 'bob' }, events: events('192.0.2.8', '::ffff:192.0.2.8') }, fields),
    ).toEqual({
      address: '192.0.2.8',
    });
    // A spraying grouped by user from many places names no one to block.
    expect(
      sourceAddress({ group: { user: 'bob' }, events: events('192.0.2.8', '192.0.2.9') }, fields),
    ).toEqual({
      reason: 'ambiguous',
    });
  });
});

describe('nft durations', () => {
  it('are written in the largest unit that divides them', () => {
    expect(nftDuration(3600)).toBe('1h');
    expect(nftDuration(5400)).toBe('90m');
    expect(nftDuration(86_400 * 2)).toBe('2d');
    expect(nftDuration(61)).toBe('61s');
  });
});
