import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSyslog } from './syslog.js';

// 2026-12-03 06:00:00 UTC: lines of the same morning, and of last December read in January.
const receivedAt = Date.UTC(2026, 11, 3, 6, 0, 0);

describe('the syslog header', () => {
  it('reads an RFC 3164 line with its priority, host, program and pid', () => {
    const r = parseSyslog(
      '<38>Dec  3 05:20:21 mx1 sshd[812]: Invalid user admin from 203.0.113.9 port 4022',
      {
        receivedAt,
      },
    );
    expect(r).toEqual({
      time: Date.UTC(2026, 11, 3, 5, 20, 21),
      host: 'mx1',
      program: 'sshd',
      pid: 812,
      message: 'Invalid user admin from 203.0.113.9 port 4022',
      facility: 4,
      severity: 6,
    });
  });

  it('reads an rsyslog file line, which has no priority, and a tag with slashes', () => {
    const r = parseSyslog(
      'Dec 03 05:20:22 mx1 postfix/submission/smtpd[2291]: connect from unknown[198.51.100.23]',
      { receivedAt },
    );
    expect(r).toMatchObject({
      host: 'mx1',
      program: 'postfix/submission/smtpd',
      pid: 2291,
      message: 'connect from unknown[198.51.100.23]',
      facility: undefined,
      severity: undefined,
    });
  });

  it('puts a December line read in January in the year before', () => {
    const january = Date.UTC(2027, 0, 2, 0, 0, 0);
    expect(parseSyslog('Dec 31 23:59:59 h cron[1]: x', { receivedAt: january })?.time).toBe(
      Date.UTC(2026, 11, 31, 23, 59, 59),
    );
    expect(parseSyslog('Jan  1 00:00:01 h cron[1]: x', { receivedAt: january })?.time).toBe(
      Date.UTC(2027, 0, 1, 0, 0, 1),
    );
  });

  it('applies the writer’s UTC offset to zone-less times', () => {
    const r = parseSyslog('Dec  3 07:20:21 mx1 sshd[1]: x', { receivedAt, utcOffsetMinutes: 120 });
    expect(r?.time).toBe(Date.UTC(2026, 11, 3, 5, 20, 21));
  });

  it('reads rsyslog’s high-precision ISO 8601 timestamps with their zone', () => {
    const r = parseSyslog('2026-12-03T06:20:21.123456+01:00 mx1 dovecot: imap-login: Login: user=<a>');
    expect(r).toMatchObject({
      time: Date.UTC(2026, 11, 3, 5, 20, 21, 123),
      host: 'mx1',
      program: 'dovecot',
      message: 'imap-login: Login: user=<a>',
    });
  });

  it('reads a line without host, as Dovecot writes its own log file', () => {
    const r = parseSyslog('Dec 03 05:20:21 imap-login: Info: Login: user=<alice>', { receivedAt });
    expect(r).toMatchObject({ host: undefined, program: 'imap-login', message: 'Info: Login: user=<alice>' });
  });

  it('reads an RFC 5424 line with structured data, escapes and a byte order mark', () => {
    const r = parseSyslog(
      '<165>1 2026-12-03T05:20:21.003Z mx1.example.org sshd 812 ID47 [exampleSDID@32473 iut="3" eventSource="App\\"lic\\]ation"][origin ip="192.0.2.1"] \uFEFFFailed password for root from 203.0.113.9 port 4022 ssh2',
    );
    expect(r).toEqual({
      time: Date.UTC(2026, 11, 3, 5, 20, 21, 3),
      host: 'mx1.example.org',
      program: 'sshd',
      pid: 812,
      msgid: 'ID47',
      structuredData: {
        'exampleSDID@32473': { iut: '3', eventSource: 'App"lic]ation' },
        origin: { ip: '192.0.2.1' },
      },
      message: 'Failed password for root from 203.0.113.9 port 4022 ssh2',
      facility: 20,
      severity: 5,
    });
  });

  it('reads RFC 5424 nil values as absent', () => {
    const r = parseSyslog('<13>1 - - - - - - hello');
    expect(r).toEqual({
      time: undefined,
      host: undefined,
      program: undefined,
      pid: undefined,
      message: 'hello',
      facility: 1,
      severity: 5,
    });
  });

  it('reads a priority without a timestamp as a message whose time is the receiver’s (RFC 3164 §4.3.2)', () => {
    expect(parseSyslog('<34>su: BAD SU mark to root on /dev/pts/8')).toEqual({
      time: undefined,
      host: undefined,
      program: 'su',
      pid: undefined,
      message: 'BAD SU mark to root on /dev/pts/8',
      facility: 4,
      severity: 2,
    });
  });

  it('drops structured data named __proto__ rather than let it change an object', () => {
    const r = parseSyslog('<14>1 2026-12-03T05:20:21Z h app - - [__proto__ a="1"][x __proto__="2" b="3"] m');
    expect(r?.structuredData).toEqual({ x: { b: '3' } });
    expect(Object.getPrototypeOf(r?.structuredData)).toBe(Object.prototype);
  });

  it('refuses lines without a header, impossible dates and priorities, and broken structured data', () => {
    expect(parseSyslog('hello world')).toBeUndefined();
    expect(parseSyslog('<192>Dec  3 05:20:21 h p: m', { receivedAt })).toBeUndefined();
    expect(parseSyslog('Dec 32 05:20:21 h p: m', { receivedAt })).toBeUndefined();
    expect(parseSyslog('Foo  3 05:20:21 h p: m', { receivedAt })).toBeUndefined();
    expect(parseSyslog('Dec  3 25:20:21 h p: m', { receivedAt })).toBeUndefined();
    expect(parseSyslog('<13>1 2026-12-03T05:20:21Z h a - - [x a="1" hello')).toBeUndefined();
    expect(parseSyslog('<13>1 2026-13-03T05:20:21Z h a - - - m')).toBeUndefined();
  });
});

describe('the syslog header against any input', () => {
  it('never throws, and what it reads ends the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (line) => {
        const r = parseSyslog(line, { receivedAt });
        if (r) expect(line.endsWith(r.message) || r.message === '').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back what a sender wrote, whatever the host, program, pid and message', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 191 }),
        fc.date({
          min: new Date(Date.UTC(2026, 0, 1)),
          max: new Date(Date.UTC(2026, 11, 3)),
          noInvalidDate: true,
        }),
        word,
        fc.stringMatching(/^[a-z][a-z0-9/_-]{0,20}$/),
        fc.integer({ min: 1, max: 99999 }),
        fc.string({ maxLength: 80 }),
        (pri, date, host, program, pid, message) => {
          const d = new Date(Math.floor(date.getTime() / 1000) * 1000);
          const month = d.toUTCString().slice(8, 11);
          const day = String(d.getUTCDate()).padStart(2, ' ');
          const clock = d.toISOString().slice(11, 19);
          const line = `<${pri}>${month} ${day} ${clock} ${host} ${program}[${pid}]: ${message}`;
          expect(parseSyslog(line, { receivedAt })).toEqual({
            time: d.getTime(),
            host,
            program,
            pid,
            message,
            facility: pri >> 3,
            severity: pri & 7,
          });
          const iso = `<${pri}>1 ${d.toISOString()} ${host} ${program} ${pid} - - ${message}`;
          expect(parseSyslog(iso)).toMatchObject({ time: d.getTime(), host, program, pid, message });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads back any RFC 5424 structured data, whatever its values hold (§6.3.3 escapes)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9@._-]{1,32}$/).filter((n) => n !== '__proto__');
    const escape = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, fc.dictionary(name, fc.string({ maxLength: 20 }), { maxKeys: 3 })), {
          selector: ([id]) => id,
          minLength: 1,
          maxLength: 3,
        }),
        fc.string({ maxLength: 40 }),
        (elements, message) => {
          const sd = elements
            .map(
              ([id, params]) =>
                `[${id}${Object.entries(params)
                  .map(([k, v]) => ` ${k}="${escape(v)}"`)
                  .join('')}]`,
            )
            .join('');
          const r = parseSyslog(`<14>1 2026-12-03T05:20:21Z h app - - ${sd} ${message}`);
          expect(r?.structuredData).toEqual(Object.fromEntries(elements));
          expect(r?.message).toBe(message.startsWith('\uFEFF') ? message.slice(1) : message);
        },
      ),
      { numRuns: 500 },
    );
  });
});
