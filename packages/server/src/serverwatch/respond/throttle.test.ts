import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WatchHit } from '../detector.js';
import type { WatchEvent } from '../event.js';
import { HitThrottle } from './throttle.js';

const MINUTE = 60_000;

const event = (time: number, fields: WatchEvent['fields'] = {}): WatchEvent => ({
  time,
  logsource: { product: 'linux', service: 'sshd' },
  fields,
  raw: `line at ${time}`,
  parsed: true,
});

const detection = (rule: string, time: number, fields: WatchEvent['fields'] = {}): WatchHit => ({
  rule: { id: rule, title: `Rule ${rule}`, level: 'high', kind: 'detection', file: 'rules/x.yml' },
  time,
  events: [event(time, fields)],
});

const correlation = (rule: string, time: number, group: Record<string, unknown>, events = 3): WatchHit => ({
  rule: { id: rule, title: `Rule ${rule}`, level: 'high', kind: 'correlation', file: 'rules/x.yml' },
  time,
  events: Array.from({ length: events }, (_, i) => event(time - i)),
  group,
  value: events,
});

describe('the hit throttle', () => {
  it('raises the first hit of a key and merges the next ones into its alert within the window', () => {
    const throttle = new HitThrottle({ windowMs: 10 * MINUTE });
    const from = { src_ip: '203.0.113.5', user: 'alice' };
    const first = throttle.offer(detection('brute', 0, from), 0);
    expect(first).toMatchObject({ action: 'raise', suppressedBefore: 0, group: from });
    const second = throttle.offer(detection('brute', 1000, from), 1000);
    expect(second).toMatchObject({ action: 'merge', count: 2 });
    if (second.action !== 'merge') throw new Error('expected a merge');
    expect(second.key).toBe(first.action === 'raise' ? first.key : '');
    expect(second.alert).toMatchObject({ firstTime: 0, lastTime: 1000, count: 2 });
    expect(second.alert.events.map((e) => e.time)).toEqual([0, 1000]);
  });

  it('keys a detection by its source address and user, whatever else its event holds', () => {
    const throttle = new HitThrottle();
    throttle.offer(detection('r', 0, { src_ip: '198.51.100.1', user: 'a', pid: 1 }), 0);
    expect(throttle.offer(detection('r', 1, { src_ip: '198.51.100.1', user: 'a', pid: 2 }), 1).action).toBe(
      'merge',
    );
    expect(throttle.offer(detection('r', 2, { src_ip: '198.51.100.2', user: 'a' }), 2).action).toBe('raise');
    expect(throttle.offer(detection('r', 3, { src_ip: '198.51.100.1', user: 'b' }), 3).action).toBe('raise');
    expect(throttle.offer(detection('other', 4, { src_ip: '198.51.100.1', user: 'a' }), 4).action).toBe(
      'raise',
    );
  });

  it('keys a web server or Windows detection by its client address too', () => {
    const throttle = new HitThrottle();
    expect(throttle.offer(detection('owa', 0, { 'c-ip': '198.51.100.1' }), 0).action).toBe('raise');
    expect(throttle.offer(detection('owa', 1, { 'c-ip': '198.51.100.2' }), 1).action).toBe('raise');
    expect(throttle.offer(detection('owa', 2, { 'c-ip': '198.51.100.1' }), 2).action).toBe('merge');
    const logon = { IpAddress: '198.51.100.1', TargetUserName: 'administrateur' };
    expect(throttle.offer(detection('4625', 3, logon), 3)).toMatchObject({ action: 'raise', group: logon });
  });

  it('keys a correlation by its group, in whatever order the group names its fields', () => {
    const throttle = new HitThrottle();
    expect(throttle.offer(correlation('spray', 0, { src_ip: '192.0.2.9', service: 'imap' }), 0).action).toBe(
      'raise',
    );
    expect(throttle.offer(correlation('spray', 5, { service: 'imap', src_ip: '192.0.2.9' }), 5).action).toBe(
      'merge',
    );
    expect(throttle.offer(correlation('spray', 6, { src_ip: '192.0.2.10', service: 'imap' }), 6).action).toBe(
      'raise',
    );
  });

  it('raises anew once the window since the raise has passed, even while hits kept coming', () => {
    const throttle = new HitThrottle({ windowMs: 10 * MINUTE });
    const at = (t: number) => throttle.offer(detection('r', t, { src_ip: '192.0.2.1' }), t);
    expect(at(0).action).toBe('raise');
    for (let t = MINUTE; t < 10 * MINUTE; t += MINUTE) expect(at(t).action).toBe('merge');
    expect(at(10 * MINUTE).action).toBe('raise');
    expect(at(11 * MINUTE).action).toBe('merge');
  });

  it('keeps only the last events of an alert', () => {
    const throttle = new HitThrottle({ maxEventsPerAlert: 4 });
    throttle.offer(correlation('c', 10, { user: 'x' }, 3), 10);
    const merged = throttle.offer(correlation('c', 20, { user: 'x' }, 3), 20);
    if (merged.action !== 'merge') throw new Error('expected a merge');
    expect(merged.alert.events.map((e) => e.time)).toEqual([8, 20, 19, 18]);
    expect(merged.alert.events).toHaveLength(4);
  });

  it('suppresses the alerts of a rule past its rate and reports how many with its next one', () => {
    const throttle = new HitThrottle({ maxAlertsPerMinute: 2 });
    const from = (n: number, t: number) => throttle.offer(detection('r', t, { src_ip: `192.0.2.${n}` }), t);
    expect(from(1, 0).action).toBe('raise');
    expect(from(2, 1).action).toBe('raise');
    expect(from(3, 2).action).toBe('suppress');
    expect(from(4, 3).action).toBe('suppress');
    // Another rule has its own rate.
    expect(throttle.offer(detection('other', 4, { src_ip: '192.0.2.3' }), 4).action).toBe('raise');
    expect(throttle.stats()).toMatchObject({ suppressed: 2, suppressedPending: 2 });
    expect(from(5, MINUTE)).toMatchObject({ action: 'raise', suppressedBefore: 2 });
    expect(from(6, MINUTE + 1)).toMatchObject({ action: 'raise', suppressedBefore: 0 });
    expect(throttle.stats().suppressedPending).toBe(0);
  });

  it('names the stored alert in later merges once attached', () => {
    const throttle = new HitThrottle();
    const raised = throttle.offer(detection('r', 0, { src_ip: '192.0.2.1' }), 0);
    if (raised.action !== 'raise') throw new Error('expected a raise');
    expect(throttle.attach(raised.key, 'alert-1')).toBe(true);
    const merged = throttle.offer(detection('r', 1, { src_ip: '192.0.2.1' }), 1);
    expect(merged).toMatchObject({ action: 'merge', alert: { alertId: 'alert-1' } });
    expect(throttle.attach('nothing', 'x')).toBe(false);
    expect(throttle.get(raised.key, 1)).toMatchObject({ alertId: 'alert-1', count: 2 });
    expect(throttle.get(raised.key, 10 * MINUTE)).toBeUndefined();
  });

  it('forgets closed alerts and idle rules when swept', () => {
    const throttle = new HitThrottle({ windowMs: MINUTE });
    throttle.offer(detection('r', 0, { src_ip: '192.0.2.1' }), 0);
    throttle.offer(detection('s', 0, { src_ip: '192.0.2.1' }), 30_000);
    expect(throttle.sweep(MINUTE)).toBe(1);
    expect(throttle.stats()).toMatchObject({ openAlerts: 1, rules: 1 });
    expect(throttle.sweep(2 * MINUTE)).toBe(1);
    expect(throttle.stats()).toMatchObject({ openAlerts: 0, rules: 0 });
  });

  it('rejects options out of range with a validation error', () => {
    expect(() => new HitThrottle({ windowMs: -1 })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
    expect(() => new HitThrottle({ maxAlertsPerMinute: 0 })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });

  it('turns N hits of one key within a window into one raise and N - 1 merges', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * MINUTE - 1 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 30 }),
        (offsets, maxEvents) => {
          const throttle = new HitThrottle({ windowMs: 10 * MINUTE, maxEventsPerAlert: maxEvents });
          const times = [0, ...offsets.sort((a, b) => a - b)];
          const decisions = times.map((t) => throttle.offer(detection('r', t, { src_ip: '192.0.2.1' }), t));
          expect(decisions.filter((d) => d.action === 'raise')).toHaveLength(1);
          expect(decisions[0]!.action).toBe('raise');
          const last = decisions.at(-1)!;
          if (times.length > 1) {
            expect(last).toMatchObject({ action: 'merge', count: times.length });
            if (last.action === 'merge') {
              expect(last.alert.events.length).toBe(Math.min(maxEvents, times.length));
              expect(last.alert.events.at(-1)?.time ?? times.at(-1)).toBe(times.at(-1));
            }
          }
          expect(throttle.stats()).toMatchObject({ raised: 1, merged: times.length - 1, suppressed: 0 });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never raises more than the cap of a rule in any minute, and reports every suppressed hit once', () => {
    const hitArb = fc.record({
      rule: fc.constantFrom('a', 'b', 'c'),
      source: fc.integer({ min: 0, max: 40 }),
      gap: fc.integer({ min: 0, max: 20_000 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(hitArb, { maxLength: 300 }), (cap, hits) => {
        const throttle = new HitThrottle({ maxAlertsPerMinute: cap, windowMs: 5 * MINUTE });
        const raises: Record<string, number[]> = {};
        const suppressed: Record<string, number> = {};
        const reported: Record<string, number> = {};
        let now = 0;
        for (const h of hits) {
          now += h.gap;
          const d = throttle.offer(detection(h.rule, now, { src_ip: `198.51.100.${h.source}` }), now);
          if (d.action === 'raise') {
            (raises[h.rule] ??= []).push(now);
            reported[h.rule] = (reported[h.rule] ?? 0) + d.suppressedBefore;
          } else if (d.action === 'suppress') suppressed[h.rule] = (suppressed[h.rule] ?? 0) + 1;
        }
        for (const times of Object.values(raises))
          for (let i = cap; i < times.length; i++)
            expect(times[i]! - times[i - cap]!).toBeGreaterThanOrEqual(MINUTE);
        const stats = throttle.stats();
        const total = Object.values(suppressed).reduce((a, b) => a + b, 0);
        const told = Object.values(reported).reduce((a, b) => a + b, 0);
        expect(stats.suppressed).toBe(total);
        // Every suppressed hit is told with a later alert of its rule, or still waiting to be.
        expect(told + stats.suppressedPending).toBe(total);
        expect(stats.offered).toBe(hits.length);
        expect(stats.raised + stats.merged + stats.suppressed).toBe(hits.length);
      }),
      { numRuns: 300 },
    );
  });

  it('holds at most its bound of open alerts and of events each, whatever comes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(
          fc.record({ source: fc.integer({ min: 0, max: 100 }), events: fc.integer({ min: 1, max: 8 }) }),
          { maxLength: 400 },
        ),
        (maxKeys, maxEvents, hits) => {
          const throttle = new HitThrottle({
            maxKeys,
            maxEventsPerAlert: maxEvents,
            maxAlertsPerMinute: 10_000,
          });
          let now = 0;
          for (const h of hits) {
            const d = throttle.offer(
              correlation('c', now, { src_ip: `192.0.2.${h.source}` }, h.events),
              now++,
            );
            expect(throttle.stats().openAlerts).toBeLessThanOrEqual(maxKeys);
            if (d.action === 'merge') expect(d.alert.events.length).toBeLessThanOrEqual(maxEvents);
          }
          const stats = throttle.stats();
          expect(stats.raised - stats.evicted).toBe(stats.openAlerts);
          expect(stats.rules).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('remembers the counters of at most its bound of rules', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }),
        (maxRules, rules) => {
          const throttle = new HitThrottle({ maxRules });
          rules.forEach((rule, t) => {
            throttle.offer(detection(`rule-${rule}`, t, { src_ip: '192.0.2.1' }), t);
            expect(throttle.stats().rules).toBeLessThanOrEqual(maxRules);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets the least recently hit alert first when full', () => {
    const throttle = new HitThrottle({ maxKeys: 2 });
    const hit = (n: number, t: number) => throttle.offer(detection('r', t, { src_ip: `192.0.2.${n}` }), t);
    hit(1, 0);
    hit(2, 1);
    hit(1, 2); // 1 is now the more recent
    expect(hit(3, 3).action).toBe('raise'); // 2 is forgotten
    expect(hit(1, 4).action).toBe('merge');
    expect(hit(2, 5).action).toBe('raise');
    expect(throttle.stats().evicted).toBe(2);
  });
});
