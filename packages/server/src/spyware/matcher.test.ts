import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Indicator } from '@rempart/core';
import { IndicatorMatcher } from './matcher.js';
import { loadIndicatorFolder } from './stix.js';

const real = IndicatorMatcher.from(loadIndicatorFolder());

const indicator = (type: Indicator['type'], value: string, malware = ['Test']): Indicator => ({
  type,
  value,
  indicatorId: `indicator--${type}-${value}`,
  source: 'test.stix2',
  malware,
});

describe('matching against the shipped indicators', () => {
  it('holds every indicator of every bundle', () => {
    expect(real.count).toBe(4272);
    expect(real.sources).toHaveLength(5);
    expect(real.counts()).toMatchObject({ domain: 4131, ipv4: 7, process: 81, email: 29, 'app-id': 4 });
  });

  it('finds a Pegasus domain, and any name below it, but not a name that only ends alike', () => {
    expect(real.domain('weather4free.com')).toMatchObject({
      malware: ['Pegasus'],
      indicator: 'weather4free.com',
    });
    expect(real.domain('Cdn.Weather4Free.com.')).toMatchObject({
      malware: ['Pegasus'],
      matched: 'cdn.weather4free.com',
    });
    expect(real.domain('notweather4free.com')).toBeUndefined();
    expect(real.domain('weather4free.com.example')).toBeUndefined();
    expect(real.domain('')).toBeUndefined();
  });

  it('finds a URL by its host, and an address filed as a domain by the address', () => {
    expect(real.url('https://x.shortenurls.me/a/b?c=d')).toMatchObject({
      malware: ['Predator'],
      matched: 'https://x.shortenurls.me/a/b?c=d',
    });
    expect(real.url('not a url')).toBeUndefined();
    expect(real.ip('176.223.111.131')).toMatchObject({ type: 'ipv4', malware: ['NoviSpy'] });
    expect(real.domain('176.223.111.131')).toMatchObject({ type: 'ipv4' });
  });

  it('finds a process name, also cut to 15 or 16 characters as iOS records it', () => {
    expect(real.process('fservernetd')).toMatchObject({ malware: ['Pegasus'] });
    expect(real.process('ReminderIntentsUIExtension')).toMatchObject({
      indicator: 'ReminderIntentsUIExtension',
    });
    expect(real.process('ReminderIntents')).toMatchObject({
      indicator: 'ReminderIntentsUIExtension',
      matched: 'ReminderIntents',
    });
    expect(real.process('ReminderIntentsU')).toMatchObject({ indicator: 'ReminderIntentsUIExtension' });
    expect(real.process('ReminderIntentsX')).toBeUndefined();
    expect(real.process('ReminderInt')).toBeUndefined();
  });

  it('finds files by path, folder and name; apps, profiles, properties and e-mail addresses', () => {
    expect(real.filePath('/data/local/tmp/wd/fs.db')).toMatchObject({ malware: ['Predator'] });
    expect(real.filePath('/private/var/mobile/Library/Preferences/roleaccountd.plist')).toMatchObject({
      type: 'file-name',
      malware: ['Pegasus'],
      matched: '/private/var/mobile/Library/Preferences/roleaccountd.plist',
    });
    expect(real.appId('com.gu.activity')).toMatchObject({ malware: ['NoviSpy'] });
    expect(real.configurationProfile('76DAB334-7E17-475D-A5D6-0794EB5818A5')).toMatchObject({
      malware: ['Predator'],
    });
    expect(real.androidProperty('sys.brand.note')).toMatchObject({ malware: ['MercenarySpywareCampaign'] });
    expect(real.hash('D55E492D5FCE87898E065572A5553D1AC1389CD12BF3D28CABC1218CB29780AF')).toMatchObject({
      type: 'sha256',
    });
    expect(real.email('BogaardLisa803@gmail.com')).toMatchObject({ malware: ['Pegasus'] });
  });

  it('finds links, bare names and addresses in a message, once each', () => {
    const found = real.text(
      'Votre colis: https://weather4free.com/track?id=7. Or visit x.shortenurls.me, weather4free.com again; write to bogaardlisa803@gmail.com',
    );
    expect(found.map((d) => [d.type, d.matched])).toEqual([
      ['domain', 'https://weather4free.com/track?id=7'],
      ['domain', 'weather4free.com'],
      ['domain', 'x.shortenurls.me'],
      ['email', 'bogaardlisa803@gmail.com'],
    ]);
    expect(real.text('Rendez-vous à 15h au ministère, salle 3.2, ordre du jour en pièce jointe.')).toEqual(
      [],
    );
  });
});

describe('a matcher of given indicators', () => {
  it('matches a URL indicator by prefix, and a folder indicator by what lies below it', () => {
    const m = new IndicatorMatcher([
      indicator('url', 'https://cdn.example/payload/'),
      indicator('file-path', '/private/var/db/com.apple.xpc.roleaccountd.staging/'),
    ]);
    expect(m.url('https://cdn.example/payload/stage2.js')).toMatchObject({ type: 'url' });
    expect(m.url('https://cdn.example/other')).toBeUndefined();
    expect(m.filePath('/private/var/db/com.apple.xpc.roleaccountd.staging/subridged')).toMatchObject({
      type: 'file-path',
    });
    expect(m.filePath('/private/var/db/other')).toBeUndefined();
  });

  it('finds every planted domain in any text, and never one that is not planted', () => {
    const planted = ['evil.example', 'c2.spy.test', 'tracker.xn--bcher-kva.example'];
    const m = new IndicatorMatcher(planted.map((d) => indicator('domain', d)));
    const word = fc.stringMatching(/^[a-zA-Z0-9 ,;:!?'"()éàç-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            word,
            fc.constantFrom(...planted),
            fc.constantFrom(...planted).map((d) => `https://www.${d}/p?q=1`),
          ),
        ),
        (parts) => {
          const text = parts.join(' ');
          const found = new Set(m.text(text).map((d) => d.indicator));
          for (const d of planted) expect(found.has(d)).toBe(parts.some((p) => p.includes(d)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
