import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SyslogRecord, hostWordEnd, parseSyslog, readSyslogHeader, readTag } from './syslog.js';

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

  it('reads the same line again as it read it, and anew with another reception time or offset', () => {
    const line = 'Dec 31 23:59:59 h cron[1]: x';
    const january = Date.UTC(2027, 0, 2, 0, 0, 0);
    const december = Date.UTC(2026, 11, 31, 23, 59, 59);
    const read = (at: number, offset = 0) => ({ ...readSyslogHeader(line, at, offset) });
    expect(read(january).time).toBe(december);
    expect(read(january).time).toBe(december);
    expect(read(Date.UTC(2028, 0, 2)).time).toBe(Date.UTC(2027, 11, 31, 23, 59, 59));
    expect(read(Date.UTC(2028, 0, 2), 60).time).toBe(Date.UTC(2027, 11, 31, 22, 59, 59));
    expect(readSyslogHeader('Dec 31 23:59:59 h cron[2]: x', january, 0)?.pid).toBe(2);
    expect(readSyslogHeader(line, january, 0)?.pid).toBe(1);
    // An RFC 5424 record is the caller's: each reading gives one of its own.
    const rfc5424 = '<34>1 2026-12-03T05:20:21Z mx1 sshd 812 - [a b="c"] x';
    const first = parseSyslog(rfc5424, { receivedAt });
    expect(parseSyslog(rfc5424, { receivedAt })).not.toBe(first);
    expect(parseSyslog(rfc5424, { receivedAt })).toEqual(first);
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

// The header as regular expressions read it, before the scanners replaced them: the reference
// the scanners must equal (RFC 5424 lines, read by the same code either way, left out).
const TAG = /^([\w./@-]{1,64})(?:\[(\d{1,10})\])?: ?/;
const HOST = /^[\w.:%-]{1,255}$/;
const BSD_TIME =
  /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( ?\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})? /;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) /;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function parseSyslogWithoutShortcuts(
  line: string,
  at: number,
  offsetMinutes: number,
): SyslogRecord | undefined | 'rfc5424' {
  let rest = line;
  let facility: number | undefined;
  let severity: number | undefined;
  const pri = /^<(\d{1,3})>/.exec(rest);
  if (pri) {
    const value = Number(pri[1]);
    if (value > 191) return undefined;
    facility = value >> 3;
    severity = value & 7;
    rest = rest.slice(pri[0].length);
    if (rest.startsWith('1 ')) return 'rfc5424';
  }
  let time: number | undefined;
  const bsd = BSD_TIME.exec(rest);
  const day = bsd ? Number((bsd[2] as string).trim()) : 0;
  if (bsd && (bsd[2] as string).trim().length > 0 && !(bsd[2] as string).startsWith('  ')) {
    const [h, min, sec] = [Number(bsd[3]), Number(bsd[4]), Number(bsd[5])];
    if (day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return undefined;
    const month = MONTHS.indexOf(bsd[1] as string);
    const year = new Date(at).getUTCFullYear();
    const offset = offsetMinutes * 60_000;
    time = Date.UTC(year, month, day, h, min, sec) - offset;
    if (time > at + 31 * 24 * 3600 * 1000) time = Date.UTC(year - 1, month, day, h, min, sec) - offset;
    rest = rest.slice(bsd[0].length);
  } else {
    const iso = ISO_TIME.exec(rest);
    if (iso) {
      const [y, mo, d, h, min, sec] = iso.slice(1, 7).map(Number) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || min > 59 || sec > 60) return undefined;
      const ms = iso[7] === undefined ? 0 : Math.floor(Number(iso[7]) * 1000);
      const zone = iso[8] as string;
      const zoneMinutes =
        zone === 'Z'
          ? 0
          : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      time = Date.UTC(y, mo - 1, d, h, min, sec, ms) - zoneMinutes * 60_000;
      rest = rest.slice(iso[0].length);
    } else if (!pri) {
      return undefined;
    } else {
      const tag = TAG.exec(rest);
      return {
        time: undefined,
        host: undefined,
        program: tag?.[1],
        pid: tag?.[2] === undefined ? undefined : Number(tag[2]),
        message: tag ? rest.slice(tag[0].length) : rest,
        facility,
        severity,
      };
    }
  }
  let host: string | undefined;
  const space = rest.indexOf(' ');
  const firstWord = space < 0 ? rest : rest.slice(0, space);
  if (!firstWord.endsWith(':') && !firstWord.endsWith(']') && HOST.test(firstWord)) {
    host = firstWord;
    rest = space < 0 ? '' : rest.slice(space + 1);
  }
  const tag = TAG.exec(rest);
  return {
    time,
    host,
    program: tag?.[1],
    pid: tag?.[2] === undefined ? undefined : Number(tag[2]),
    message: tag ? rest.slice(tag[0].length) : rest,
    facility,
    severity,
  };
}

/** Lines made of the pieces of syslog headers, in any order: mostly near misses. */
const headerLike = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '<13>',
        '<191>',
        '<192>',
        '<1234>',
        '<',
        '>',
        '1 ',
        'Dec',
        'Jan',
        'Foo',
        'dec',
        ' ',
        '  ',
        ' 3',
        '03',
        '32',
        '0',
        '05:20:21',
        '25:20:21',
        '05:60:21',
        '05:20:61',
        '.123',
        '.',
        '2026-12-03T05:20:21Z',
        '2026-13-03T05:20:21+01:00',
        'mx1',
        'mx1.example.org',
        'h:',
        'h]',
        '%',
        'postfix/smtpd',
        'sshd',
        'a'.repeat(64),
        'b'.repeat(65),
        '[',
        ']',
        '[812]',
        '[12345678901]',
        '[]',
        ':',
        ': ',
        'é',
        '\t',
        '\r',
        '\u2028',
        'x@y',
        'a-b.c_d',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 14 },
  )
  .map((parts) => parts.join(''));

describe('the syslog header’s scanners against the regular expressions they replace', () => {
  it('read any line as the regular expressions do', () => {
    const instants = fc.constantFrom(
      receivedAt,
      Date.UTC(2027, 0, 2),
      Date.UTC(2026, 5, 30, 23, 59, 59, 999),
      Date.UTC(50, 0, 1),
    );
    fc.assert(
      fc.property(headerLike, instants, fc.constantFrom(0, 120, -330), (line, at, offset) => {
        const expected = parseSyslogWithoutShortcuts(line, at, offset);
        if (expected === 'rfc5424') return;
        expect(parseSyslog(line, { receivedAt: at, utcOffsetMinutes: offset })).toEqual(expected);
      }),
      { numRuns: 20_000 },
    );
  });

  it('read a tag as TAG does, from anywhere in a line', () => {
    const tagLike = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'postfix/smtpd',
            'dovecot',
            'a'.repeat(63),
            '[',
            ']',
            '[1]',
            '[0123456789]',
            ':',
            ' ',
            '@',
            '-',
          ),
          fc.string({ maxLength: 4 }),
        ),
        { maxLength: 8 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.string({ maxLength: 4 }), tagLike, (before, text) => {
        const line = before + text;
        const h = { program: undefined as string | undefined, pid: undefined as number | undefined };
        const start = readTag(line, before.length, h);
        const m = TAG.exec(text);
        expect(start).toBe(before.length + (m ? m[0].length : 0));
        expect(h.program).toBe(m?.[1]);
        expect(h.pid).toBe(m?.[2] === undefined ? undefined : Number(m[2]));
      }),
      { numRuns: 10_000 },
    );
  });

  it('take a word for the host as HOST does', () => {
    fc.assert(
      fc.property(headerLike, (text) => {
        const space = text.indexOf(' ');
        const word = space < 0 ? text : text.slice(0, space);
        const isHost = !word.endsWith(':') && !word.endsWith(']') && HOST.test(word);
        expect(hostWordEnd(text, 0)).toBe(isHost ? word.length : 0);
      }),
      { numRuns: 10_000 },
    );
  });
});
