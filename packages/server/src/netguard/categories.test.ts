import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import {
  DOH_CANARY_DOMAIN,
  domainsFromStix,
  loadCategories,
  netguardAssetsDir,
  TIKTOK_APPS,
  type Category,
  type CategoryId,
} from './categories.js';
import { compileMatcher } from './matcher.js';
import { shippedIndicatorsDir } from '../spyware/stix.js';

const categories = loadCategories();
const category = (id: CategoryId): Category => {
  const found = categories.find((c) => c.id === id);
  if (!found) throw new Error(`no category ${id}`);
  return found;
};
const matcherOf = (id: CategoryId) => compileMatcher([category(id).list]);

describe('shipped categories', () => {
  it('finds its data beside the sources, where the build finds it too', () => {
    expect(netguardAssetsDir()).toMatch(/packages\/server\/assets\/netguard\/$/);
    expect(existsSync(join(netguardAssetsDir(), 'SOURCES.md'))).toBe(true);
    expect(existsSync(join(shippedIndicatorsDir(), 'SOURCE.md'))).toBe(true);
  });

  it('loads the three categories, each with a title, a description and its source', () => {
    expect(categories.map((c) => c.id)).toEqual(['tiktok-bytedance', 'doh-bypass', 'spyware']);
    for (const c of categories) {
      expect(c.title).not.toBe('');
      expect(c.description).not.toBe('');
      expect(c.source).not.toBe('');
      expect(c.list.name).toBe(c.id);
    }
    expect(category('spyware').source).toContain('Amnesty International');
  });

  it('the lists written for Rempart have no line in error', () => {
    expect(category('tiktok-bytedance').list.problems).toEqual([]);
    expect(category('doh-bypass').list.problems).toEqual([]);
  });
});

describe('TikTok and ByteDance', () => {
  const m = matcherOf('tiktok-bytedance');

  it.each([
    'www.tiktok.com',
    'vm.tiktok.com',
    'api16-normal-c-useast1a.tiktokv.com',
    'log16-normal-no1a.tiktokv.eu',
    'v16-webapp-prime.tiktok.com',
    'p16-sign-va.tiktokcdn.com',
    'sf16-website-login.neutral.ttwstatic.com',
    'p16-tiktokcdn-com.akamaized.net',
    'mon.byteoversea.com',
    'www.douyin.com',
  ])('blocks %s', (name) => {
    expect(m.match(name)).toMatchObject({ action: 'block', list: 'tiktok-bytedance' });
  });

  it.each(['nottiktok.com', 'tiktok.com.example.org', 'other.akamaized.net', 'fastly.net'])(
    'leaves %s alone',
    (name) => {
      expect(m.match(name)).toBeUndefined();
    },
  );

  it('names the TikTok apps for the device profiles', () => {
    expect(category('tiktok-bytedance').apps).toBe(TIKTOK_APPS);
    expect(TIKTOK_APPS.android).toEqual(
      expect.arrayContaining([
        'com.zhiliaoapp.musically',
        'com.ss.android.ugc.trill',
        'com.zhiliaoapp.musically.go',
      ]),
    );
    expect(TIKTOK_APPS.ios).toContain('com.zhiliaoapp.musically');
    expect(Object.isFrozen(TIKTOK_APPS.android)).toBe(true);
  });
});

describe('encrypted DNS bypass', () => {
  const m = matcherOf('doh-bypass');

  it.each([
    DOH_CANARY_DOMAIN,
    'mozilla.cloudflare-dns.com',
    'chrome.cloudflare-dns.com',
    'dns.google',
    'dns.quad9.net',
    'doh.opendns.com',
    'dns.adguard-dns.com',
    'abc123.dns.nextdns.io',
    'doh.cleanbrowsing.org',
    'mask.icloud.com',
  ])('blocks %s', (name) => {
    expect(m.match(name)).toMatchObject({ action: 'block', list: 'doh-bypass' });
  });

  it('leaves the providers’ other services alone', () => {
    expect(m.match('www.google.com')).toBeUndefined();
    expect(m.match('www.cloudflare.com')).toBeUndefined();
    expect(m.match('www.icloud.com')).toBeUndefined();
  });
});

describe('spyware', () => {
  const spyware = category('spyware');
  const m = matcherOf('spyware');
  const bundleDir = shippedIndicatorsDir();
  const bundles = readdirSync(bundleDir).filter((f) => f.endsWith('.stix2'));

  it('holds every domain indicator of the shipped bundles', () => {
    // Counted here the plain way: every `[domain-name:value='…']` that is not an address.
    let expected = 0;
    for (const file of bundles) {
      const bundle = JSON.parse(readFileSync(join(bundleDir, file), 'utf8')) as {
        objects: { pattern?: string }[];
      };
      for (const o of bundle.objects) {
        const value = /^\[domain-name:value='([^']+)'\]$/.exec(o.pattern ?? '')?.[1];
        if (value !== undefined && isIP(value) === 0) expected++;
      }
    }
    expect(expected).toBeGreaterThan(4000);
    expect(spyware.list.domainCount).toBe(expected);
    expect(spyware.list.problems).toEqual([]);
  });

  it('a verdict on a Pegasus domain says Pegasus, the bundle and the indicator', () => {
    expect(m.match('weather4free.com')).toMatchObject({
      action: 'block',
      list: 'spyware',
      label: 'Pegasus',
      text: "pegasus.stix2 indicator--05b7c427-1452-437e-a19e-32590edf60c3 [domain-name:value='weather4free.com']",
    });
  });

  it('names the family of each bundle, and covers the names below an indicator', () => {
    expect(m.match('x.shortenurls.me')?.label).toBe('Predator');
    expect(m.match('bbc.tf')?.label).toBe('Wintego Helios');
    expect(spyware.description).toContain('Pegasus');
  });

  it('reports the addresses filed as domain names instead of blocking them', () => {
    expect(spyware.skipped).toHaveLength(7);
    expect(spyware.skipped?.[0]).toMatchObject({
      source: 'novispy.stix2',
      value: '176.223.111.131',
      reason: 'an IP address, not a domain name',
    });
  });
});

describe('domains from a STIX bundle', () => {
  const bundle = (...objects: unknown[]) => ({ type: 'bundle', id: 'bundle--1', objects });
  const indicator = (id: string, pattern: string) => ({
    type: 'indicator',
    id,
    pattern,
    pattern_type: 'stix',
  });
  const malware = (id: string, name: string) => ({ type: 'malware', id, name, is_family: false });
  const indicates = (from: string, to: string) => ({
    type: 'relationship',
    id: `relationship--${from}-${to}`,
    relationship_type: 'indicates',
    source_ref: from,
    target_ref: to,
  });

  it('reads comparisons joined by OR, IN lists and the host of a URL', () => {
    const found = domainsFromStix(
      bundle(
        indicator(
          'indicator--1',
          "[domain-name:value = 'a.example' OR domain-name:value = 'B.Example.'] OR [url:value = 'https://c.example:8443/x?y=1']",
        ),
        indicator('indicator--2', "[domain-name:value IN ('d.example', 'e\\'s.example', 'f.example')]"),
      ),
      'test.stix2',
    );
    expect(found.domains.map((d) => d.domain)).toEqual([
      'a.example',
      'b.example',
      'c.example',
      'd.example',
      'f.example',
    ]);
    expect(found.skipped).toEqual([
      {
        source: 'test.stix2',
        indicator: 'indicator--2',
        value: "e's.example",
        reason: 'characters a domain name cannot hold',
      },
    ]);
  });

  it('keeps every family an indicator indicates, and ignores relationships to objects elsewhere', () => {
    const found = domainsFromStix(
      bundle(
        malware('malware--p', 'Pegasus'),
        malware('malware--q', 'Predator'),
        indicator('indicator--1', "[domain-name:value='x.example']"),
        indicates('indicator--1', 'malware--p'),
        indicates('indicator--1', 'malware--q'),
        indicates('indicator--1', 'malware--in-another-bundle'),
        indicates('indicator--gone', 'malware--p'),
      ),
      't',
    );
    expect(found.domains).toEqual([
      {
        domain: 'x.example',
        indicator: 'indicator--1',
        pattern: "[domain-name:value='x.example']",
        malware: ['Pegasus', 'Predator'],
      },
    ]);
  });

  it('skips an indicator that needs more than a name, and ignores those about other things', () => {
    const found = domainsFromStix(
      bundle(
        indicator(
          'indicator--and',
          "[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '10.0.0.1']",
        ),
        indicator('indicator--like', "[domain-name:value LIKE '%.example']"),
        indicator('indicator--process', "[process:name = 'bh']"),
        indicator(
          'indicator--hash',
          "[file:hashes.'SHA-256' = 'aa'] FOLLOWEDBY [file:name = 'x'] WITHIN 10 SECONDS",
        ),
        { ...indicator('indicator--sigma', 'title: x'), pattern_type: 'sigma' },
      ),
      't',
    );
    expect(found.domains).toEqual([]);
    expect(found.skipped.map((s) => [s.indicator, s.reason])).toEqual([
      ['indicator--and', 'needs more than a name (AND)'],
      ['indicator--like', 'domain-name:value LIKE: not an exact value'],
    ]);
  });

  it.each([
    ['not a bundle', { type: 'report', objects: [] }, /t\.stix2: the bundle: type/],
    ['an object without an id', bundle({ type: 'indicator' }), /t\.stix2: object #0: id/],
    [
      'an indicator without a pattern',
      bundle({ type: 'indicator', id: 'indicator--nopattern' }),
      /indicator--nopattern: pattern/,
    ],
    ['a malware without a name', bundle({ type: 'malware', id: 'malware--noname' }), /malware--noname: name/],
    [
      'a relationship without its ends',
      bundle({ type: 'relationship', id: 'relationship--half', relationship_type: 'indicates' }),
      /relationship--half: source_ref/,
    ],
    [
      'an unterminated string',
      bundle(indicator('indicator--open', "[domain-name:value = 'a.example]")),
      /indicator--open: .*unterminated string/,
    ],
    [
      'unbalanced brackets',
      bundle(indicator('indicator--bracket', "[domain-name:value = 'a.example'")),
      /indicator--bracket: .*unbalanced/,
    ],
  ])('names the object when the bundle holds %s', (_, json, message) => {
    let error: unknown;
    try {
      domainsFromStix(json, 't.stix2');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('validation_failed');
    expect((error as RempartError).message).toMatch(message);
  });

  it('whatever it is given, either reads it or says it is malformed', () => {
    const stixish = fc.record({
      type: fc.constantFrom('indicator', 'malware', 'relationship', 'x-custom'),
      id: fc.string(),
      pattern: fc.oneof(fc.string(), fc.constant("[domain-name:value = 'a.example']")),
      name: fc.string(),
      relationship_type: fc.constant('indicates'),
      source_ref: fc.string(),
      target_ref: fc.string(),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.array(stixish).map((objects) => bundle(...objects)),
        ),
        (json) => {
          try {
            const found = domainsFromStix(json, 'fuzz');
            for (const d of found.domains) expect(d.domain).toMatch(/^[a-z0-9_.-]+$/);
          } catch (error) {
            expect(error).toBeInstanceOf(RempartError);
          }
        },
      ),
    );
  });
});
