import type { DnsVerdict, RuleMatch } from '@rempart/core';
import { describe, expect, it } from 'vitest';
import { explainVerdict, groupReason, nameOf, readTestQuery } from './verdict';

const tiktok: RuleMatch = {
  action: 'block',
  list: 'tiktok-bytedance',
  category: 'tiktok-bytedance',
  line: 12,
  rule: 'tiktok.com',
};
const ads: RuleMatch = { action: 'block', list: 'ads', line: 3, rule: '0.0.0.0 www.tiktok.com' };
const press: RuleMatch = { action: 'allow', list: 'press office', line: 1, rule: '@@||tiktok.com^' };
const pegasus: RuleMatch = {
  action: 'block',
  list: 'spyware',
  category: 'spyware',
  line: 0,
  rule: "pegasus.stix2 indicator--4f1c [domain-name:value = 'x.example']",
  malware: 'Pegasus',
};

function verdict(overrides: Partial<DnsVerdict>): DnsVerdict {
  return {
    domain: 'www.tiktok.com',
    client: '10.20.4.17',
    group: { id: 'cabinet', name: 'Cabinet', why: 'address range' },
    action: 'block',
    decidedBy: tiktok,
    matches: [ads, tiktok],
    blockMode: 'nxdomain',
    ...overrides,
  };
}

describe('the name to test', () => {
  it('reads the name out of a pasted web address', () => {
    expect(nameOf(' https://WWW.TikTok.com/@rempart?lang=fr ')).toBe('www.tiktok.com');
  });

  it('drops the root’s final dot and lowers the letters', () => {
    expect(nameOf('TikTok.com.')).toBe('tiktok.com');
  });

  it('asks for an international name in its ASCII form, as resolvers see it', () => {
    expect(nameOf('bücher.example')).toBe('xn--bcher-kva.example');
  });

  it('leaves the client to the server when none is given', () => {
    expect(readTestQuery('tiktok.com', '  ')).toEqual({ ok: true, query: { domain: 'tiktok.com' } });
  });

  it('sends an IPv4 or IPv6 client as it was typed', () => {
    expect(readTestQuery('tiktok.com', '2001:db8::17')).toEqual({
      ok: true,
      query: { domain: 'tiktok.com', client: '2001:db8::17' },
    });
  });

  it('refuses an empty name, a name with spaces and a client that is not an address, sending nothing', () => {
    expect(readTestQuery('', '')).toEqual({ ok: false, problems: { domain: 'required' } });
    expect(readTestQuery('tik tok.com', '10.20.4')).toEqual({
      ok: false,
      problems: { domain: 'invalid', client: 'invalid' },
    });
    expect(readTestQuery('tiktok.com', 'cabinet-pc')).toEqual({ ok: false, problems: { client: 'invalid' } });
  });
});

describe('why a client is in its group', () => {
  it('understands each reason the resolver gives', () => {
    expect(groupReason('address range')).toEqual({ kind: 'range' });
    expect(groupReason('no other group claims this client')).toEqual({ kind: 'fallback' });
    expect(groupReason('enrolled device iPhone of the minister')).toEqual({
      kind: 'device',
      device: 'iPhone of the minister',
    });
  });

  it('shows a reason it does not know as the server wrote it', () => {
    expect(groupReason('pinned by an operator')).toEqual({ kind: 'other', text: 'pinned by an operator' });
  });
});

describe('a verdict explained', () => {
  it('puts the deciding rule first and marks it, then the other matches in the group’s order', () => {
    const explained = explainVerdict(verdict({}));
    expect(explained.outcome).toBe('blocked');
    expect(explained.rows.map((row) => [row.match.rule, row.deciding])).toEqual([
      ['tiktok.com', true],
      ['0.0.0.0 www.tiktok.com', false],
    ]);
    expect(explained.deciding?.source).toEqual({ kind: 'category', id: 'tiktok-bytedance' });
    expect(explained.rows[1]?.source).toEqual({ kind: 'list', name: 'ads' });
  });

  it('says an allow rule let a name through, and how many block rules it overruled', () => {
    const explained = explainVerdict(
      verdict({ action: 'allow', decidedBy: press, matches: [tiktok, press, ads] }),
    );
    expect(explained.outcome).toBe('allowed-by-rule');
    expect(explained.overruled).toBe(2);
    expect(explained.rows[0]).toMatchObject({ match: press, deciding: true });
  });

  it('says a name no rule matches is simply allowed', () => {
    const explained = explainVerdict(verdict({ action: 'allow', decidedBy: undefined, matches: [] }));
    expect(explained.outcome).toBe('allowed');
    expect(explained.deciding).toBeUndefined();
    expect(explained.rows).toEqual([]);
    expect(explained.overruled).toBe(0);
  });

  it('keeps the spyware a rule names, with the category it comes from', () => {
    const explained = explainVerdict(verdict({ decidedBy: pegasus, matches: [pegasus] }));
    expect(explained.rows).toHaveLength(1);
    expect(explained.deciding?.match.malware).toBe('Pegasus');
    expect(explained.deciding?.source).toEqual({ kind: 'category', id: 'spyware' });
  });
});
