import type { RuleMatch } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr, Policy, type ListMatcher, type PolicyGroup } from './policy.js';

/** A list of exact names, blocking or allowing them and their subdomains. */
function list(name: string, action: 'block' | 'allow', names: string[]): ListMatcher {
  const hit = (domain: string): RuleMatch | undefined => {
    const rule = names.find((n) => domain === n || domain.endsWith(`.${n}`));
    return rule === undefined ? undefined : { action, list: name, line: names.indexOf(rule) + 1, rule };
  };
  return { match: hit, explain: (d) => (hit(d) ? [hit(d) as RuleMatch] : []) };
}

function group(id: string, cidrs: string[], matchers: ListMatcher[]): PolicyGroup {
  return { id, name: id, cidrs, blockMode: 'nxdomain', trusted: false, categories: [], matchers };
}

const tiktok = list('tiktok', 'block', ['tiktok.com']);
const social = list('social', 'block', ['facebook.com', 'tiktok.com']);
const exceptions = list('exceptions', 'allow', ['business.tiktok.com']);

const policy = new Policy({
  groups: [
    group('default', [], [tiktok]),
    group('ministry', ['10.0.0.0/8'], [social]),
    group('press', ['10.20.0.0/16', '2001:db8:20::/48'], [tiktok, exceptions]),
  ],
  devices: [{ address: '10.20.0.99', group: 'default', device: 'iPhone de la ministre' }],
});

describe('Policy', () => {
  it('puts a client in the group of the most specific range holding it, else the default group', () => {
    expect(policy.groupOf('10.1.2.3')).toMatchObject({ group: { id: 'ministry' }, why: 'address range' });
    expect(policy.groupOf('10.20.1.1').group.id).toBe('press');
    expect(policy.groupOf('2001:db8:20::5').group.id).toBe('press');
    expect(policy.groupOf('192.0.2.1')).toMatchObject({ group: { id: 'default' } });
    expect(policy.groupOf('::ffff:10.1.2.3').group.id).toBe('ministry');
  });

  it('puts an enrolled device in its own group, whatever range holds its address', () => {
    expect(policy.groupOf('10.20.0.99')).toMatchObject({
      group: { id: 'default' },
      why: 'enrolled device iPhone de la ministre',
    });
  });

  it("judges a name by the client's group, an allow rule winning over a block rule", () => {
    expect(policy.decide('facebook.com', '10.1.2.3').action).toBe('block');
    expect(policy.decide('facebook.com', '192.0.2.1').action).toBe('allow');
    expect(policy.decide('www.tiktok.com', '10.20.1.1')).toMatchObject({
      action: 'block',
      rule: { list: 'tiktok' },
    });
    expect(policy.decide('ads.business.tiktok.com', '10.20.1.1')).toMatchObject({
      action: 'allow',
      rule: { list: 'exceptions' },
    });
  });

  it('explains a verdict with every matching rule and the deciding one', () => {
    const verdict = policy.explain('business.tiktok.com', '10.20.1.1');
    expect(verdict).toMatchObject({
      action: 'allow',
      group: { id: 'press' },
      decidedBy: { list: 'exceptions' },
    });
    expect(verdict.matches.map((m) => m.list)).toEqual(['tiktok', 'exceptions']);
  });

  it('refuses to start without a default group', () => {
    expect(() => new Policy({ groups: [group('x', ['10.0.0.0/8'], [])], devices: [] })).toThrow(
      /default group/,
    );
  });
});

describe('parseCidr', () => {
  it('reads ranges and lone addresses, and refuses anything else', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', family: 'ipv4', prefix: 8 });
    expect(parseCidr('2001:db8::1')).toEqual({ address: '2001:db8::1', family: 'ipv6', prefix: 128 });
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0/8',
      '::/129',
      '10.0.0.0/8/8',
      'x',
      '',
      '1.2.3.4/ 8',
    ])
      expect(parseCidr(bad), bad).toBeUndefined();
  });

  it('never throws and accepts only what it can hand to a range check', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const parsed = parseCidr(text);
        if (parsed)
          expect(
            () => new Policy({ groups: [group('default', [], []), group('g', [text], [])], devices: [] }),
          ).not.toThrow();
      }),
    );
  });
});
