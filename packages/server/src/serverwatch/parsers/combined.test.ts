import { describe, expect, it } from 'vitest';
import { parseLine } from './index.js';

describe('combined log lines', () => {
  it('read an nginx line field by field, time with its zone', () => {
    const e = parseLine(
      '90.12.44.7 - marie [03/Dec/2026:09:31:15 +0100] "GET /owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.ville.example%2fowa%2f HTTP/2.0" 200 28734 "https://mail.ville.example/" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"',
      'combined',
      { source: 'access.log' },
    );
    expect(e).toMatchObject({
      parsed: true,
      time: Date.UTC(2026, 11, 3, 8, 31, 15),
      logsource: { category: 'webserver' },
      source: 'access.log',
    });
    expect(e.fields).toEqual({
      'c-ip': '90.12.44.7',
      'cs-username': 'marie',
      'cs-request':
        'GET /owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.ville.example%2fowa%2f HTTP/2.0',
      'cs-method': 'GET',
      'cs-uri': '/owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.ville.example%2fowa%2f',
      'cs-uri-stem': '/owa/auth/logon.aspx',
      'cs-uri-query': 'replaceCurrent=1&url=https%3a%2f%2fmail.ville.example%2fowa%2f',
      'cs-version': 'HTTP/2.0',
      'sc-status': 200,
      'sc-bytes': 28734,
      'cs-referer': 'https://mail.ville.example/',
      'cs-user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    });
  });

  it('read the common log format, escaped quotes and a request that is not HTTP', () => {
    expect(
      parseLine('192.0.2.1 - - [03/Dec/2026:05:00:00 +0000] "POST /cgi-bin/x HTTP/1.0" 404 -', 'combined')
        .fields,
    ).toMatchObject({ 'cs-method': 'POST', 'sc-status': 404, 'cs-uri-stem': '/cgi-bin/x' });
    const e = parseLine(
      '45.95.147.12 - - [03/Dec/2026:05:00:01 +0000] "\\x16\\x03\\x01\\x00\\xC8" 400 157 "-" "say \\"hi\\""',
      'combined',
    );
    expect(e.fields['cs-request']).toBe('\x16\x03\x01\x00\xC8');
    expect(e.fields['cs-method']).toBeUndefined();
    expect(e.fields['cs-user-agent']).toBe('say "hi"');
  });

  it('read nginx logging to syslog, and keep lines with extra columns', () => {
    const e = parseLine(
      '<190>Dec  3 05:00:02 web1 nginx: 203.0.113.9 - - [03/Dec/2026:05:00:02 +0000] "GET /.git/config HTTP/1.1" 404 153 "-" "Go-http-client/1.1"',
      'combined',
    );
    expect(e.fields).toMatchObject({
      host: 'web1',
      program: 'nginx',
      'cs-uri-stem': '/.git/config',
      'sc-status': 404,
    });
    expect(
      parseLine(
        '203.0.113.9 - - [03/Dec/2026:05:00:02 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8.5.0" "198.51.100.2"',
        'combined',
      ).parsed,
    ).toBe(true);
  });

  it('refuse lines with an impossible date or no request', () => {
    expect(
      parseLine('1.2.3.4 - - [33/Dec/2026:05:00:00 +0000] "GET / HTTP/1.1" 200 1', 'combined').parsed,
    ).toBe(false);
    expect(
      parseLine('1.2.3.4 - - [03/Foo/2026:05:00:00 +0000] "GET / HTTP/1.1" 200 1', 'combined').parsed,
    ).toBe(false);
    expect(parseLine('1.2.3.4 - - [03/Dec/2026:05:00:00 +0000] 200 1', 'combined').parsed).toBe(false);
  });
});
