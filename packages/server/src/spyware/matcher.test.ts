import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Indicator } from '@rempart/core';
import { IndicatorMatcher, mayBeAddress } from './matcher.js';
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

describe('the shortcuts of text matching', () => {
  // Pieces a message is made of, indicators of every kind the text search finds among them, and
  // the marks the shortcuts look for (dots, colons, "://", "@") in every position.
  const planted = new IndicatorMatcher([
    indicator('domain', 'evil.example'),
    indicator('domain', 'xn--bcher-kva.example'),
    indicator('url', 'https://cdn.example/payload/'),
    indicator('ipv4', '203.0.113.7'),
    indicator('email', 'spy@evil.example'),
  ]);
  const piece = fc.oneof(
    fc.stringMatching(/^[a-zA-Z0-9 ,;:!?'"()@./éàçſK\n-]{0,16}$/),
    fc.constantFrom(
      'evil.example',
      'www.Evil.Example',
      'weather4free.com',
      'https://cdn.example/payload/x',
      'HTTPS://EVIL.EXAMPLE/a',
      'ftp://203.0.113.7/',
      '203.0.113.7',
      '1.2.3.4.5',
      'spy@evil.example',
      'Spy@Evil.Example',
      'bogaardlisa803@gmail.com',
      'a.b',
      '14:30',
      '3.5',
      '://',
      '.',
      '@',
      'xn--bcher-kva.example',
    ),
  );
  const text = fc.array(piece, { maxLength: 8 }).chain((parts) =>
    fc
      .array(fc.constantFrom('', ' ', '.', ':', '/', '@', '\n'), {
        minLength: parts.length,
        maxLength: parts.length,
      })
      .map((glue) => parts.map((p, i) => `${p}${glue[i]}`).join('')),
  );

  it('finds exactly what the searches without shortcuts find, in any text', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(planted.text(t)).toEqual(planted.textWithoutShortcuts(t));
        expect(real.text(t)).toEqual(real.textWithoutShortcuts(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('skips a chat with no link, name or address, and still finds one after a full stop', () => {
    expect(real.text('Réunion reportée à jeudi 14:30. Merci !')).toEqual([]);
    expect(real.text('Bien reçu.Voir weather4free.com')).toMatchObject([{ indicator: 'weather4free.com' }]);
  });

  it('checks a name as an address only when it could be one', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[0-9a-fA-F.:[\]%a-z]{0,24}$/),
          fc.tuple(fc.ipV4(), fc.boolean()).map(([a, bracketed]) => (bracketed ? `[${a}]` : a)),
          fc.ipV6(),
          fc.domain(),
        ),
        (host) => {
          if (!mayBeAddress(host)) expect(isIP(host.replace(/^\[|\]$/g, ''))).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
    expect(mayBeAddress('176.223.111.131')).toBe(true);
    expect(mayBeAddress('[::1]')).toBe(true);
    expect(mayBeAddress('weather4free.com')).toBe(false);
  });
});
