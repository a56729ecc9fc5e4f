import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import {
  indicatorsFromStix,
  loadIndicatorFolder,
  parseStixText,
  readIndicatorFile,
  shippedIndicatorsDir,
} from './stix.js';

const shipped = loadIndicatorFolder();
const bundle = (name: string) => {
  const found = shipped.find((b) => b.source === name);
  if (!found) throw new Error(`no bundle ${name}`);
  return found;
};
const countTypes = (name: string) => {
  const counts: Record<string, number> = {};
  for (const i of bundle(name).indicators) counts[i.type] = (counts[i.type] ?? 0) + 1;
  return counts;
};

describe('the shipped bundles', () => {
  it('are the five published by Amnesty International, with their attribution beside them', () => {
    expect(shipped.map((b) => b.source)).toEqual([
      'android_campaign_2023.stix2',
      'cytrox.stix2',
      'novispy.stix2',
      'pegasus.stix2',
      'wintego_helios.stix2',
    ]);
    const attribution = readFileSync(join(shippedIndicatorsDir(), 'SOURCE.md'), 'utf8');
    expect(attribution).toContain('Amnesty International');
    expect(attribution).toContain('CC-BY');
  });

  it('yield every indicator of each bundle, by type, as their publisher counts them', () => {
    // The counts of SOURCE.md, from the bundles as published.
    expect(countTypes('pegasus.stix2')).toEqual({ domain: 1438, process: 81, email: 29, 'file-name': 1 });
    expect(countTypes('cytrox.stix2')).toEqual({ domain: 336, 'file-path': 6, 'configuration-profile': 1 });
    expect(countTypes('android_campaign_2023.stix2')).toEqual({
      domain: 2183,
      'android-property': 3,
      'file-path': 1,
    });
    expect(countTypes('wintego_helios.stix2')).toEqual({ domain: 175 });
    // NoviSpy files its seven servers' addresses as domain names: they are read as addresses.
    expect(countTypes('novispy.stix2')).toEqual({ ipv4: 7, 'app-id': 4, sha256: 4, 'app-cert': 3 });
    for (const b of shipped) expect(b.skipped).toEqual([]);
  });

  it('name the malware of each indicator from the relationships', () => {
    expect(bundle('pegasus.stix2').malware).toEqual(['Pegasus']);
    expect(bundle('cytrox.stix2').malware).toEqual(['Predator']);
    expect(bundle('novispy.stix2').malware).toEqual(['NoviSpy']);
    const process = bundle('pegasus.stix2').indicators.find((i) => i.value === 'fservernetd');
    expect(process).toMatchObject({ type: 'process', source: 'pegasus.stix2', malware: ['Pegasus'] });
    expect(process?.indicatorId).toMatch(/^indicator--/);
    const profile = bundle('cytrox.stix2').indicators.find((i) => i.type === 'configuration-profile');
    expect(profile?.value).toBe('76dab334-7e17-475d-a5d6-0794eb5818a5');
  });

  it('reads a bundle file by its path, named by its file name', () => {
    const one = readIndicatorFile(join(shippedIndicatorsDir(), 'novispy.stix2'));
    expect(one.source).toBe('novispy.stix2');
    expect(one.indicators).toHaveLength(18);
    expect(() => readIndicatorFile('/nonexistent/x.stix2')).toThrow(/x\.stix2: cannot read/);
  });
});

describe('reading a bundle', () => {
  const of = (...objects: unknown[]) => ({ type: 'bundle', id: 'bundle--1', objects });
  const indicator = (id: string, pattern: string) => ({
    type: 'indicator',
    id,
    pattern,
    pattern_type: 'stix',
  });

  it('reads every kind of value MVT and STIX 2.1 use, normalised', () => {
    const found = indicatorsFromStix(
      of(
        indicator('indicator--1', "[domain-name:value = 'Evil.Example.']"),
        indicator(
          'indicator--2',
          "[ipv4-addr:value = '198.51.100.7'] OR [ipv6-addr:value = '2001:DB8:0:0::1']",
        ),
        indicator('indicator--3', "[url:value = 'HTTPS://Evil.Example/x?y=1']"),
        indicator('indicator--4', "[email-addr:value = 'Agent@Evil.Example']"),
        indicator('indicator--5', "[process:name = 'bh'] OR [file:name = 'roleaccountd.plist']"),
        indicator('indicator--6', "[file:path = '/private/var/db/com.apple.xpc.roleaccountd.staging/']"),
        indicator(
          'indicator--7',
          "[file:hashes.'SHA-256' = 'D55E492D5FCE87898E065572A5553D1AC1389CD12BF3D28CABC1218CB29780AF'] OR [file:hashes.md5 = '00112233445566778899aabbccddeeff']",
        ),
        indicator('indicator--8', "[app:id IN ('com.gu.activity', 'com.example.spy')]"),
        indicator('indicator--9', "[app:cert.sha1 = '0011223344556677889900112233445566778899']"),
        indicator('indicator--10', "[android-property:name = 'sys.brand.note']"),
      ),
      't.stix2',
    );
    expect(found.skipped).toEqual([]);
    expect(found.indicators.map((i) => [i.type, i.value])).toEqual([
      ['domain', 'evil.example'],
      ['ipv4', '198.51.100.7'],
      ['ipv6', '2001:db8::1'],
      ['url', 'https://evil.example/x?y=1'],
      ['email', 'agent@evil.example'],
      ['process', 'bh'],
      ['file-name', 'roleaccountd.plist'],
      ['file-path', '/private/var/db/com.apple.xpc.roleaccountd.staging/'],
      ['sha256', 'd55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af'],
      ['md5', '00112233445566778899aabbccddeeff'],
      ['app-id', 'com.gu.activity'],
      ['app-id', 'com.example.spy'],
      ['app-cert', '0011223344556677889900112233445566778899'],
      ['android-property', 'sys.brand.note'],
    ]);
  });

  it('skips and reports what one value alone would not prove, and values that are not what they claim', () => {
    const found = indicatorsFromStix(
      of(
        indicator('indicator--and', "[process:name = 'x' AND file:path = '/tmp/x']"),
        indicator('indicator--not', "[process:name NOT = 'launchd']"),
        indicator('indicator--like', "[file:path LIKE '/private/var/tmp/%']"),
        indicator('indicator--hash', "[file:hashes.sha256 = 'abc']"),
        indicator('indicator--range', "[ipv4-addr:value = '10.0.0.0/8']"),
        indicator('indicator--cert', "[x509-certificate:serial_number = '01']"),
      ),
      't',
    );
    expect(found.indicators).toEqual([]);
    expect(found.skipped.map((s) => [s.indicator, s.reason])).toEqual([
      ['indicator--and', 'needs more than one value (AND)'],
      ['indicator--not', 'process:name NOT =: a negation'],
      ['indicator--like', 'file:path LIKE: not an exact value'],
      ['indicator--hash', 'not a sha256 digest'],
      ['indicator--range', 'an address range'],
      ['indicator--cert', 'x509-certificate:serial_number: not a property Rempart looks for'],
    ]);
  });

  it.each([
    ['text that is not JSON', '{"type": "bundle", ', /t\.stix2: not JSON/],
    ['not a bundle', '{"type": "report", "objects": []}', /t\.stix2: the bundle: type/],
    [
      'an object without an id',
      '{"type": "bundle", "objects": [{"type": "indicator"}]}',
      /t\.stix2: object #0: id/,
    ],
    [
      'a malformed pattern',
      JSON.stringify(of(indicator('indicator--open', "[process:name = 'bh]"))),
      /t\.stix2: indicator--open: .*unterminated string/,
    ],
  ])('names the bundle and the object when given %s', (_, text, message) => {
    let error: unknown;
    try {
      parseStixText(text, 't.stix2');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RempartError);
    expect((error as RempartError).code).toBe('validation_failed');
    expect((error as RempartError).message).toMatch(message);
  });

  it('whatever it is given, reads it or says it is malformed, and every indicator it yields is well formed', () => {
    const path = fc.constantFrom(
      'domain-name:value',
      'process:name',
      'file:path',
      "file:hashes.'SHA-256'",
      'app:id',
      'ipv4-addr:value',
      'url:value',
      'x:y',
    );
    const pattern = fc.oneof(
      fc.string(),
      fc
        .tuple(
          path,
          fc.constantFrom('=', 'IN', 'LIKE', '!='),
          fc.string(),
          fc.constantFrom('', ' AND ', ' OR '),
        )
        .map(([p, op, v, join]) => {
          const value = `'${v.replace(/['\\]/g, '\\$&')}'`;
          const one = `${p} ${op} ${op === 'IN' ? `(${value})` : value}`;
          return join === '' ? `[${one}]` : `[${one}${join}${one}]`;
        }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc
            .array(fc.record({ type: fc.constant('indicator'), id: fc.string({ minLength: 1 }), pattern }))
            .map((objects) => of(...objects)),
        ),
        (json) => {
          try {
            const found = indicatorsFromStix(json, 'fuzz');
            for (const i of found.indicators) {
              expect(i.value.length).toBeGreaterThan(0);
              expect(i.source).toBe('fuzz');
            }
          } catch (error) {
            expect(error).toBeInstanceOf(RempartError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
