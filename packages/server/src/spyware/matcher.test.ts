import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Indicator } from '@rempart/core';
import { IndicatorMatcher, mayBeAddress, plainWebHost } from './matcher.js';
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

  it('tells from the UTF-8 bytes of a text whether the text may name anything, exactly', () => {
    const utf8 = new TextEncoder();
    const decoder = new TextDecoder();
    // The reference: the marks of the text once decoded as the SQLite file reader decodes it.
    const marked = (t: string) => /:\/\/|\.[a-z0-9]/i.test(t);
    const bytes = fc.oneof(
      text.map((t) => utf8.encode(t)),
      // Malformed sequences, a byte order mark, lead bytes before the marks.
      fc
        .array(
          fc.oneof(
            fc.constantFrom(0x2e, 0x3a, 0x2f, 0x41, 0x7a, 0x30, 0x39, 0x5b, 0x60, 0x40, 0x7b, 0x20),
            fc.constantFrom(0x80, 0xbf, 0xc2, 0xc3, 0xe2, 0xed, 0xef, 0xbb, 0xf0, 0xf4, 0xff),
          ),
          { maxLength: 24 },
        )
        .map((b) => Uint8Array.from(b)),
    );
    fc.assert(
      fc.property(bytes, fc.nat(4), fc.nat(4), (b, before, after) => {
        // Inside a larger buffer, as a text lies in its database page: what is around is not read
        // (a letter or a slash after a final dot or colon would make a mark there).
        const decoded = decoder.decode(b);
        const mayName = IndicatorMatcher.utf8MayName(b, 0, b.length);
        for (const around of [0x61, 0x2f]) {
          const page = new Uint8Array(before + b.length + after).fill(around);
          page.set(b, before);
          expect(IndicatorMatcher.utf8MayName(page, before, before + b.length)).toBe(mayName);
        }
        expect(mayName).toBe(marked(decoded));
        if (!mayName) expect(real.text(decoded)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
    expect(IndicatorMatcher.utf8MayName(utf8.encode('voir weather4free.com'), 0, 21)).toBe(true);
    expect(IndicatorMatcher.utf8MayName(utf8.encode('Réunion à 14:30. Merci !'), 0, 26)).toBe(false);
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

describe('the shortcuts of URL matching', () => {
  // Indicators of every kind a URL is matched by: names (one of them punycode), URL prefixes (one
  // on a host that is also a domain indicator, so that the prefix must win) and addresses.
  const planted = new IndicatorMatcher([
    indicator('domain', 'evil.example'),
    indicator('domain', 'xn--bcher-kva.example'),
    indicator('domain', '1.2.3.example'),
    indicator('url', 'https://cdn.example/payload/'),
    indicator('url', 'https://evil.example/login'),
    indicator('ipv4', '127.0.0.1'),
    indicator('ipv4', '203.0.113.7'),
    indicator('ipv6', '::1'),
    indicator('email', 'spy@evil.example'),
  ]);
  /** A word in upper, lower or mixed case. */
  const anyCase = (word: string) =>
    fc
      .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
      .map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
  /** Mostly `plain`, sometimes one of `odd`: so that about a quarter of the URLs are plain links. */
  const mostly = <T>(plain: fc.Arbitrary<T>, ...odd: T[]) =>
    fc.oneof({ weight: 8, arbitrary: plain }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
  const scheme = mostly(
    fc.constantFrom('http', 'https').chain(anyCase),
    'ftp',
    'file',
    'ws',
    'httpx',
    'htt',
    'h',
    'blob:http',
    ' http',
  );
  const separator = mostly(fc.constant('://'), ':/', ':', ':///', ':\\\\', '://\\', ':/\\', ' ://');
  const label = fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .constantFrom('evil', 'example', 'cdn', 'weather4free', 'com', 'www', '1', '2', '3')
        .chain(anyCase),
    },
    { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z0-9-]{0,8}$/) },
    fc.constantFrom('xn--bcher-kva', 'XN--Bcher-kva', 'xn--', 'xn--a', 'Xn--ab', 'xna', 'x-n--a', 'ab--cd'),
    fc.constantFrom('0x7f', '0X1F', '0x', '0xg', '09', '0', '255', '4294967296', '-a-', '-', 'a_b'),
    fc.constantFrom(
      'a'.repeat(64),
      'ſ',
      'K',
      'é',
      'ü',
      '%41',
      '%2e',
      '\\',
      '\t',
      '\n',
      ' ',
      '\u0000',
      '\uD800',
    ),
  );
  const host = fc.oneof(
    { weight: 12, arbitrary: fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.')) },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          fc.array(label, { maxLength: 2 }),
          fc
            .constantFrom(
              'evil.example',
              'cdn.example',
              '1.2.3.example',
              'weather4free.com',
              'x.shortenurls.me',
            )
            .chain(anyCase),
        )
        .map(([ls, name]) => [...ls, name].join('.')),
    },
    fc
      .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.constantFrom('.', '..', '.%2e'))
      .map(([ls, end]) => `${ls.join('.')}${end}`),
    fc.constantFrom('[::1]', '[::1', '[2001:db8::1]', '1.2.3.4', '127.0.0.1', '0x7f.1', '203.0.113.7', ''),
    fc.constantFrom('a..b', '.evil.example', 'evil.example.', 'EVIL.example.', 'ex ample.com', 'üb.example'),
  );
  const userinfo = mostly(fc.constant(''), 'user@', 'u:p@', '@', 'evil.example@', 'a%40b@');
  const port = mostly(fc.constant(''), ':8080', ':', ':0', ':x', ':99999', '.:1');
  const rest = fc.oneof(
    fc.constantFrom('', '/', '/payload/x', '/login?x=1', '?q=1', '#frag', '\\x', '/a b', ' ', '\n', '/%zz'),
    fc.constantFrom('/', '?', '#', '\\', '').chain((first) => fc.string().map((s) => `${first}${s}`)),
    fc.constantFrom('/', '?').chain((first) => fc.string({ unit: 'binary' }).map((s) => `${first}${s}`)),
  );
  const url = fc
    .tuple(mostly(fc.constant(''), ' ', '\t', '\n'), scheme, separator, userinfo, host, port, rest)
    .map((parts) => parts.join(''));

  it('reads the host of a plain web link as the URL parser does, and leaves every other URL to it', () => {
    fc.assert(
      fc.property(url, (u) => {
        const host = plainWebHost(u);
        if (host !== undefined) expect(new URL(u.trim()).hostname).toBe(host);
      }),
      { numRuns: 5000 },
    );
    expect(plainWebHost('HTTPS://Cdn.Weather4Free.com/a/b?c=d')).toBe('cdn.weather4free.com');
    expect(plainWebHost('http://www.lemonde.fr')).toBe('www.lemonde.fr');
    expect(plainWebHost('https://youtu.be?x#y')).toBe('youtu.be');
    for (const other of [
      'http://0x7f.1/',
      'http://1.2.3.4/',
      'http://a.09/',
      'http://xn--bcher-kva.example/',
      'http://a..b/',
      'http://example.com./',
      'http://user@example.com/',
      'http://example.com:8080/',
      'http://ex%41mple.com/',
      'http://example.com\\path',
      'http:///example.com/',
      'http://[::1]/',
      'ftp://example.com/',
      ' http://example.com/',
      'http://exämple.com/',
    ])
      expect(plainWebHost(other)).toBeUndefined();
  });

  it('finds exactly what the URL parser finds, in any URL', () => {
    fc.assert(
      fc.property(url, (u) => {
        expect(planted.url(u)).toEqual(planted.urlWithoutShortcuts(u));
        expect(real.url(u)).toEqual(real.urlWithoutShortcuts(u));
      }),
      { numRuns: 5000 },
    );
    expect(planted.url('HTTPS://Cdn.Evil.Example/x')).toMatchObject({
      type: 'domain',
      matched: 'HTTPS://Cdn.Evil.Example/x',
    });
    expect(planted.url('https://Evil.example/login/now')).toMatchObject({ type: 'url' });
    expect(planted.url('https://evil.example/logout')).toMatchObject({ type: 'domain' });
    expect(planted.url('http://0x7f.1/')).toMatchObject({ type: 'ipv4', indicator: '127.0.0.1' });
  });

  it('finds in messages exactly what the searches without shortcuts find, links and names in any form', () => {
    const chat = fc.constantFrom(
      'Ok merci',
      'Réunion reportée à jeudi 14:30',
      'Montant du devis : 12.50 € TTC',
      'Can you call me back?',
      'Vergadering om 9:15 in zaal 3',
      'Top 👍',
      'Le dossier est sur le partage, version 3.2.1.4',
    );
    const piece = fc.oneof(
      chat,
      url,
      host,
      fc
        .tuple(fc.constantFrom('spy', 'Spy', 'jean.dupont', 'A.B'), host)
        .map(([local, h]) => `${local}@${h}`),
      fc.oneof(fc.ipV4(), fc.constantFrom('203.0.113.7', '127.0.0.1', '1.2.3.4.5')),
      fc.stringMatching(/^[a-zA-Z0-9 ,;:!?'"()@./_éàçſK\n-]{0,12}$/),
    );
    const glue = fc.constantFrom(' ', ' ', '\n', '', '.', ', ', '(', ')', '"', '_', '@', '-', '/', '. ');
    const text = fc
      .array(fc.tuple(piece, glue), { maxLength: 6 })
      .map((parts) => parts.map(([p, g]) => `${p}${g}`).join(''));
    fc.assert(
      fc.property(text, (t) => {
        expect(planted.text(t)).toEqual(planted.textWithoutShortcuts(t));
        expect(real.text(t)).toEqual(real.textWithoutShortcuts(t));
      }),
      { numRuns: 3000 },
    );
    for (const t of [
      'Voir Cdn.EVIL.example.',
      'a.com.-x.evil.example',
      '_evil.example x@evil.example -evil.example evil.example_ evil.example.a evil.example-',
      'https://evil.example/login, https://EVIL.example/logout; http://0x7f.1/ ftp://evil.example',
      'abcdefghijklmnopq://evil.example 1.2.3.4.evil.example 203.0.113.7',
      'Écris à spy@evil.example (ou Spy@Evil.Example)',
    ])
      expect(planted.text(t)).toEqual(planted.textWithoutShortcuts(t));
    expect(planted.text('Voir Cdn.EVIL.example.')).toMatchObject([
      { indicator: 'evil.example', matched: 'cdn.evil.example' },
    ]);
    expect(planted.text('a.com.-x.evil.example')).toEqual([]);
  });
});
