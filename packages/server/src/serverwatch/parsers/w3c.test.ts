import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParseContext, parseLine } from './index.js';
import { IIS_DEFAULT_FIELDS, newW3cState, parseW3cLine, timeOfDay, w3cFieldName } from './w3c.js';

const HEADER = [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2026-12-03 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
];

describe('IIS W3C lines', () => {
  it('read an OWA request field by field under the webserver taxonomy names', () => {
    const context: ParseContext = { source: 'u_ex261203.log' };
    for (const h of HEADER) expect(parseLine(h, 'iis', context).parsed).toBe(true);
    const e = parseLine(
      '2026-12-03 08:31:15 192.0.2.30 GET /owa/service.svc action=GetItem&ID=-37&AC=1 443 VILLE\\marie.dupont 90.12.44.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36 https://mail.ville.example/owa/ 200 0 0 46',
      'iis',
      context,
    );
    expect(e).toMatchObject({
      parsed: true,
      time: Date.UTC(2026, 11, 3, 8, 31, 15),
      source: 'u_ex261203.log',
      logsource: { category: 'webserver', product: 'windows', service: 'iis' },
    });
    expect(e.fields).toEqual({
      date: '2026-12-03',
      time: '08:31:15',
      's-ip': '192.0.2.30',
      'cs-method': 'GET',
      'cs-uri-stem': '/owa/service.svc',
      'cs-uri-query': 'action=GetItem&ID=-37&AC=1',
      's-port': 443,
      'cs-username': 'VILLE\\marie.dupont',
      'c-ip': '90.12.44.7',
      'cs-user-agent':
        'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36',
      'cs-referer': 'https://mail.ville.example/owa/',
      'sc-status': 200,
      'sc-substatus': 0,
      'sc-win32-status': 0,
      'time-taken': 46,
      'cs-uri': '/owa/service.svc?action=GetItem&ID=-37&AC=1',
    });
  });

  it('leave out fields whose value is W3C’s hyphen', () => {
    const e = parseLine(
      '2026-12-03 11:20:02 192.0.2.30 POST /ecp/DDI/DDIService.svc/SetObject schema=ResetOABVirtualDirectory&msExchEcpCanary=x 443 - 185.220.101.47 python-requests/2.25.1 - 200 0 0 187',
      'iis',
      {},
    );
    expect(e.fields['cs-username']).toBeUndefined();
    expect(e.fields['cs-referer']).toBeUndefined();
    expect(e.fields).toMatchObject({
      'cs-method': 'POST',
      'cs-uri-stem': '/ecp/DDI/DDIService.svc/SetObject',
      'c-ip': '185.220.101.47',
    });
  });

  it('follow a #Fields directive for the lines after it, per source', () => {
    const exchange: ParseContext = {};
    const other: ParseContext = {};
    parseLine(
      '#Fields: date time c-ip cs-method cs-uri-stem sc-status sc-bytes cs(Host) cs(X-Forwarded-For)',
      'iis',
      exchange,
    );
    const line =
      '2026-12-03 05:00:00 203.0.113.9 GET /autodiscover/autodiscover.xml 401 1293 autodiscover.ville.example 198.51.100.1';
    expect(parseLine(line, 'iis', exchange).fields).toEqual({
      date: '2026-12-03',
      time: '05:00:00',
      'c-ip': '203.0.113.9',
      'cs-method': 'GET',
      'cs-uri-stem': '/autodiscover/autodiscover.xml',
      'sc-status': 401,
      'sc-bytes': 1293,
      'cs-host': 'autodiscover.ville.example',
      'cs-x-forwarded-for': '198.51.100.1',
      'cs-uri': '/autodiscover/autodiscover.xml',
    });
    // The other source still has IIS's default columns: nine columns are not fifteen.
    expect(parseLine(line, 'iis', other)).toMatchObject({ parsed: false, fields: {}, raw: line });
  });

  it('name header columns as the taxonomy does', () => {
    expect(IIS_DEFAULT_FIELDS.map(w3cFieldName)).toContain('cs-user-agent');
    expect(w3cFieldName('cs(Cookie)')).toBe('cs-cookie');
    expect(w3cFieldName('sc(Content-Type)')).toBe('sc-content-type');
    expect(w3cFieldName('c-ip')).toBe('c-ip');
  });

  it('refuse lines with the wrong number of columns, or no date where the date goes', () => {
    const state = newW3cState();
    expect(parseW3cLine('2026-12-03 05:00:00 1.2.3.4 GET /', state)).toBeUndefined();
    expect(
      parseW3cLine('yesterday 08:31:15 192.0.2.30 GET /owa/ - 443 - 90.12.44.7 UA - 200 0 0 46', state),
    ).toBeUndefined();
    expect(parseW3cLine('#Fields: date time c ip "quoted"', state)).toBeUndefined();
  });

  it('never throw on random lines or on valid lines cut and mutated, and keep the raw line', () => {
    const valid =
      '2026-12-03 11:20:02 192.0.2.30 POST /ecp/DDI/DDIService.svc/SetObject schema=Reset 443 - 185.220.101.47 python-requests/2.25.1 - 200 0 0 187';
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(fc.nat(valid.length), fc.nat(valid.length), fc.string({ maxLength: 8 }))
            .map(([a, b, s]) => valid.slice(0, Math.min(a, b)) + s + valid.slice(Math.max(a, b))),
        ),
        (line) => {
          const e = parseLine(line, 'iis', {});
          expect(e.raw).toBe(line);
          if (!e.parsed) expect(e.fields).toEqual({});
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('W3C times', () => {
  it('are what Date.UTC makes of the date and the time, for any date and time, one line after another', () => {
    const state = newW3cState();
    parseW3cLine('#Fields: date time c-ip', state);
    const digits = (n: number, max: number) =>
      fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            digits(4, 9999),
            digits(2, 99),
            digits(2, 99),
            digits(2, 99),
            digits(2, 99),
            digits(2, 99),
            fc.option(fc.integer({ min: 0, max: 999 }).map((v) => `.${v}`)),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (stamps) => {
          for (const [y, mo, d, h, mi, s, frac] of stamps) {
            const entry = parseW3cLine(`${y}-${mo}-${d} ${h}:${mi}:${s}${frac ?? ''} 192.0.2.1`, state);
            const expected = Date.UTC(
              Number(y),
              Number(mo) - 1,
              Number(d),
              Number(h),
              Number(mi),
              Number(s),
              frac === null ? 0 : Math.floor(Number(frac) * 1000),
            );
            expect(entry?.kind === 'entry' ? entry.time : 'none').toBe(
              Number.isNaN(expected) ? undefined : expected,
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('the W3C time scanner against the regular expression it replaces', () => {
  it('reads any text as TIME does, to the millisecond', () => {
    const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/;
    const timeLike = fc
      .array(fc.constantFrom('0', '1', '5', '9', ':', '.', ' ', '\r', '\n', 'a', '12', '59', '99'), {
        maxLength: 14,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(timeLike, fc.string({ maxLength: 13 })), (text) => {
        const m = TIME.exec(text);
        const expected = m
          ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 +
            (m[4] === undefined ? 0 : Math.floor(Number(m[4]) * 1000))
          : -1;
        expect(timeOfDay(text)).toBe(expected);
      }),
      { numRuns: 10_000 },
    );
  });

  it('gives entries plain objects, as a literal would be', () => {
    const e = parseW3cLine(
      '2026-12-03 05:20:21 192.0.2.30 GET /owa/ - 443 - 203.0.113.9 UA - 200 0 0 46',
      newW3cState(),
    );
    expect(e?.kind).toBe('entry');
    if (e?.kind === 'entry') {
      expect(Object.getPrototypeOf(e.fields)).toBe(Object.prototype);
      expect(e.fields.constructor).toBe(Object);
    }
  });
});
