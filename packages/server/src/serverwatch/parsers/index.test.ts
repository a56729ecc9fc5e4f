import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../event.js';
import { MAX_LITERAL, numberMayHold } from '../sigma/literals.js';
import { type LogFormat, type ParseContext, detectFormat, logFormats, parseLine, readHead } from './index.js';
import { dayContexts, mailDay } from './mail-day.js';

const receivedAt = Date.UTC(2026, 11, 3, 23, 0, 0);

/** Real-looking lines of every format, as each daemon or tool writes them. */
const samples: Record<LogFormat, string[]> = {
  postfix: [
    'Dec  3 08:00:01 mx1 postfix/smtpd[1201]: connect from mail-ed1-f41.google.com[209.85.208.41]',
    'Dec  3 08:00:01 mx1 postfix/smtpd[1201]: 8A3C12E0F5: client=mail-ed1-f41.google.com[209.85.208.41]',
    'Dec  3 08:00:02 mx1 postfix/qmgr[880]: 8A3C12E0F5: from=<a@gmail.example>, size=4821, nrcpt=1 (queue active)',
    'Dec  3 11:02:17 mx1 postfix/submission/smtpd[30412]: warning: unknown[185.220.101.47]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
    'Dec  3 08:00:02 mx1 postfix/smtpd[1201]: disconnect from mail-ed1-f41.google.com[209.85.208.41] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5',
  ],
  dovecot: [
    'Dec  3 08:31:12 mx1 dovecot: imap-login: Login: user=<marie.dupont@ville.example>, method=PLAIN, rip=90.12.44.7, lip=192.0.2.25, mpid=21877, TLS, session=<7yLx0e4Sb3VaDCwH>',
    'Dec  3 08:40:12 mx1 dovecot: imap(marie.dupont@ville.example)<21877><7yLx0e4Sb3VaDCwH>: Disconnected: Logged out in=812 out=73311 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0',
    'Dec  3 11:02:40 mx1 dovecot: imap-login: Disconnected (auth failed, 3 attempts in 14 secs): user=<paul.bernard@ville.example>, method=PLAIN, rip=185.220.101.47, lip=192.0.2.25, TLS',
  ],
  sshd: [
    'Dec  3 03:14:06 mx1 sshd[24410]: Invalid user admin from 218.92.0.118 port 52144',
    'Dec  3 03:14:07 mx1 sshd[24410]: Failed password for invalid user admin from 218.92.0.118 port 52144 ssh2',
    'Dec  3 03:14:09 mx1 sshd[24410]: Connection closed by invalid user admin 218.92.0.118 port 52144 [preauth]',
    'Dec  3 07:58:31 mx1 sshd[1822]: Accepted publickey for deploy from 192.0.2.44 port 50122 ssh2: ED25519 SHA256:Yk2u7f3mJb0a9Vq1S2Zr6d4Hc8Xy5Wn3Lp7Qt1Ke0Ag',
  ],
  syslog: [
    'Dec  3 06:25:01 mx1 CRON[3301]: (root) CMD (test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; })',
    'Dec  3 06:25:02 mx1 systemd[1]: Starting logrotate.service - Rotate log files...',
    '<13>1 2026-12-03T06:25:03.000Z mx1 kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=45.95.147.12 DST=192.0.2.25 PROTO=TCP DPT=23',
  ],
  iis: [
    '#Software: Microsoft Internet Information Services 10.0',
    '#Version: 1.0',
    '#Date: 2026-12-03 00:00:00',
    '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
    '2026-12-03 08:31:15 192.0.2.30 GET /owa/ - 443 - 90.12.44.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 302 0 0 12',
  ],
  combined: [
    '90.12.44.7 - - [03/Dec/2026:09:31:15 +0100] "GET / HTTP/2.0" 200 28734 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"',
    '45.95.147.12 - - [03/Dec/2026:09:31:16 +0100] "GET /.env HTTP/1.1" 404 153 "-" "Go-http-client/1.1"',
  ],
  audit: [
    '{"seq":1,"at":"2026-12-03T11:04:00.123Z","actorId":null,"actor":"a@ville.example","action":"auth.password","outcome":"failure","targetId":null,"ip":"185.220.101.47","details":{},"hash":"ab"}',
  ],
  windows: [
    '{"Event":{"System":{"Provider_attributes":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":4625,"Channel":"Security","Computer":"EXCH01","TimeCreated_attributes":{"SystemTime":"2026-12-03T11:03:12.482144Z"}},"EventData":{"TargetUserName":"paul.bernard","IpAddress":"185.220.101.47","LogonType":8}}}',
    '{"@timestamp":"2026-12-03T11:20:10.000Z","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,"event_data":{"Image":"C:\\\\Windows\\\\System32\\\\cmd.exe"}}}',
  ],
  jsonl: ['{"time":"2026-12-03T11:00:00Z","level":"info","msg":"hello","src_ip":"192.0.2.1"}', '{"a":1}'],
};

describe('parsing by format', () => {
  it('reads every sample of every format', () => {
    for (const format of logFormats) {
      for (const line of samples[format]) {
        const e = parseLine(line, format, { receivedAt, source: 'sample' });
        expect({ format, line, parsed: e.parsed }).toEqual({ format, line, parsed: true });
        expect(e.raw).toBe(line);
        expect(e.source).toBe('sample');
      }
    }
  });

  it('keeps a line of the wrong format raw, unparsed, with no field, under the format’s log source', () => {
    const e = parseLine(samples.combined[0]!, 'sshd', { receivedAt });
    expect(e).toEqual({
      time: receivedAt,
      logsource: { product: 'linux', service: 'sshd' },
      fields: {},
      raw: samples.combined[0],
      parsed: false,
    });
    expect(parseLine('', 'iis', { receivedAt })).toMatchObject({ parsed: false, raw: '' });
    expect(parseLine(samples.sshd[0]!, 'windows', { receivedAt }).parsed).toBe(false);
  });

  it('reads a mail.log of Postfix and Dovecot lines whole with either format', () => {
    for (const format of ['postfix', 'dovecot', 'syslog'] as const) {
      const services = [...samples.postfix, ...samples.dovecot].map(
        (l) => parseLine(l, format, { receivedAt }).logsource.service,
      );
      expect(services).toEqual([
        'postfix',
        'postfix',
        'postfix',
        'postfix',
        'postfix',
        'dovecot',
        'dovecot',
        'dovecot',
      ]);
    }
    expect(parseLine(samples.syslog[0]!, 'postfix', { receivedAt }).logsource).toEqual({
      product: 'linux',
      service: 'cron',
    });
  });

  it('takes names that objects already carry (constructor, __proto__) as plain names', () => {
    expect(
      parseLine('Dec  3 06:25:01 mx1 constructor[1]: hello', 'syslog', { receivedAt }).logsource,
    ).toEqual({
      product: 'linux',
      service: 'syslog',
    });
    const channel = parseLine('{"winlog":{"event_id":1,"channel":"constructor"}}', 'windows');
    expect(channel.logsource).toEqual({ product: 'windows' });
    const pairs = parseLine(
      'Dec  3 08:31:12 mx1 dovecot: imap-login: Login: user=<a>, constructor=x, __proto__=y, toString, rip=192.0.2.1',
      'dovecot',
      { receivedAt },
    );
    expect(pairs.fields).toMatchObject({ user: 'a', constructor: 'x', toString: true, src_ip: '192.0.2.1' });
    expect(Object.getPrototypeOf(pairs.fields)).toBe(Object.prototype);
  });

  it('reads a Postfix, Dovecot or sshd message behind an RFC 5424 header as behind an RFC 3164 one', () => {
    const bsd = /^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^[:\s]+)(?:\[(\d+)\])?: (.*)$/;
    const lines = [...samples.postfix, ...samples.dovecot, ...samples.sshd].filter((l) => bsd.test(l));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const [, stamp = '', host = '', program = '', pid, message = ''] = bsd.exec(line) ?? [];
      const time = parseLine(line, 'syslog', { receivedAt }).time;
      const iso = new Date(time).toISOString();
      const modern = `<38>1 ${iso} ${host} ${program} ${pid ?? '-'} - - ${message}`;
      const [old, now] = [
        parseLine(`<38>${line}`, 'syslog', { receivedAt }),
        parseLine(modern, 'syslog', { receivedAt: 5 }),
      ];
      expect(now.logsource, modern).toEqual(old.logsource);
      expect(now.time, modern).toBe(old.time);
      expect(now.fields, modern).toEqual(old.fields);
      expect(stamp).not.toBe('');
    }
  });

  it('strips a Windows line ending before parsing, but keeps it in raw', () => {
    const line = `${samples.iis[4]!}\r`;
    const e = parseLine(line, 'iis', {});
    expect(e.parsed).toBe(true);
    expect(e.fields['time-taken']).toBe(12);
    expect(e.raw).toBe(line);
  });
});

describe('format detection', () => {
  it('names the format of a sample of each', () => {
    for (const format of logFormats)
      expect({ format, detected: detectFormat(samples[format]) }).toEqual({ format, detected: format });
  });

  it('names IIS from its directives alone, and IIS lines without directives', () => {
    expect(detectFormat(samples.iis.slice(0, 2))).toBe('iis');
    expect(detectFormat([samples.iis[4]!, samples.iis[4]!])).toBe('iis');
  });

  it('follows the majority, ignores blank lines, and falls back to syslog when nothing reads', () => {
    expect(detectFormat(['', ...samples.sshd, samples.postfix[0]!, '   '])).toBe('sshd');
    expect(detectFormat(['garbage', 'more garbage'])).toBe('syslog');
    expect(detectFormat([])).toBe('syslog');
  });
});

describe('parsing any input', () => {
  const valid = Object.entries(samples).flatMap(([format, lines]) =>
    lines.map((line) => [format as LogFormat, line] as const),
  );
  /** A valid line with a piece cut out and something else put in. */
  const mutated = fc
    .tuple(
      fc.constantFrom(...valid),
      fc.nat(),
      fc.nat(),
      fc.string({ maxLength: 12 }),
      fc.constantFrom(...logFormats),
    )
    .map(([[, line], a, b, insert, format]) => {
      const i = a % (line.length + 1);
      const j = b % (line.length + 1);
      return [format, line.slice(0, Math.min(i, j)) + insert + line.slice(Math.max(i, j))] as const;
    });
  const anything = fc.tuple(fc.constantFrom(...logFormats), fc.string({ maxLength: 300, unit: 'binary' }));

  it('never throws, always keeps the line, and gives no field to what it does not read', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, anything), ([format, line]) => {
        const context: ParseContext = { receivedAt };
        const e = parseLine(line, format, context);
        expect(e.raw).toBe(line);
        expect(Number.isFinite(e.time)).toBe(true);
        if (!e.parsed) expect(e.fields).toEqual({});
        expect(detectFormat([line, line])).toBeTypeOf('string');
      }),
      { numRuns: 5000 },
    );
  });

  it('reads hostile lines of 40,000 characters without quadratic backtracking', () => {
    // Each of these made an expression backtrack quadratically (350 ms and more) before it was bounded.
    const h = 'Dec  3 05:20:21 h ';
    const n = 20_000;
    const hostile = [
      `${h}postfix/smtpd[1]: warning: ${'a['.repeat(n)}`,
      `${h}dovecot: imap-login: ${'(auth failed, 1 attempts'.repeat(n / 20)}`,
      `${h}postfix/smtpd[1]: NOQUEUE: reject: X from a: 554 ${'; from='.repeat(n / 4)}`,
      `${h}sshd[1]: Failed password for ${' from 1.2.3.4'.repeat(n / 8)}`,
      `${h}sshd[1]: Connection closed by ${'authenticating user a '.repeat(n / 10)}`,
      `<13>1 2026-12-03T05:20:21Z h a - - [a b="${'\\'.repeat(n)}`,
      `1.2.3.4 - - [03/Dec/2026:05:00:00 +0000] "${'\\"'.repeat(n)}`,
    ];
    for (const line of hostile) {
      for (const format of logFormats) {
        const start = performance.now();
        expect(parseLine(line, format, { receivedAt }).raw).toBe(line);
        expect(performance.now() - start, `${format}: ${line.slice(0, 60)}`).toBeLessThan(100);
      }
    }
  });

  it('reads the fields of a Dovecot login whatever the user name and addresses', () => {
    const name = fc.stringMatching(/^[a-z0-9._+-]{1,30}(@[a-z0-9.-]{1,20})?$/);
    fc.assert(
      fc.property(name, fc.ipV4(), fc.ipV4(), fc.integer({ min: 1, max: 9 }), (user, rip, lip, attempts) => {
        const ok = parseLine(
          `Dec  3 08:31:12 mx1 dovecot: imap-login: Login: user=<${user}>, method=PLAIN, rip=${rip}, lip=${lip}, mpid=1, TLS`,
          'dovecot',
          { receivedAt },
        );
        expect(ok.fields).toMatchObject({
          action: 'login',
          outcome: 'success',
          user,
          src_ip: rip,
          dst_ip: lip,
        });
        const failed = parseLine(
          `Dec  3 08:31:12 mx1 dovecot: imap-login: Disconnected (auth failed, ${attempts} attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${rip}, lip=${lip}, TLS`,
          'dovecot',
          { receivedAt },
        );
        expect(failed.fields).toMatchObject({
          action: 'login',
          outcome: 'failure',
          attempts,
          user,
          src_ip: rip,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('reads the fields of sshd and Postfix failures whatever the user name, address and port', () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9._-]{1,24}$/);
    fc.assert(
      fc.property(
        name,
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.integer({ min: 1, max: 65535 }),
        fc.boolean(),
        (user, ip, port, invalid) => {
          const e = parseLine(
            `Dec  3 03:14:07 mx1 sshd[1]: Failed password for ${invalid ? 'invalid user ' : ''}${user} from ${ip} port ${port} ssh2`,
            'sshd',
            { receivedAt },
          );
          expect(e.fields).toMatchObject({
            action: 'login',
            outcome: 'failure',
            user,
            src_ip: ip,
            src_port: port,
            invalid_user: invalid,
          });
          const p = parseLine(
            `Dec  3 03:14:07 mx1 postfix/smtps/smtpd[1]: warning: unknown[${ip}]: SASL PLAIN authentication failed: authentication failure, sasl_username=${user}`,
            'postfix',
            { receivedAt },
          );
          expect(p.fields).toMatchObject({
            action: 'login',
            outcome: 'failure',
            user,
            src_ip: ip,
            protocol: 'submission',
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads the fields of a combined log line whatever the path, query, status and agent', () => {
    const path = fc.stringMatching(/^\/[A-Za-z0-9._~%/-]{0,40}$/);
    const query = fc.stringMatching(/^[A-Za-z0-9=&%._-]{1,40}$/);
    // A lone `-` is the format's empty value: an agent is anything else.
    const agent = fc.stringMatching(/^[A-Za-z0-9(][A-Za-z0-9 ();.,/:+-]{0,59}$/);
    fc.assert(
      fc.property(
        fc.ipV4(),
        path,
        fc.option(query),
        fc.integer({ min: 100, max: 599 }),
        agent,
        (ip, stem, q, status, ua) => {
          const uri = q === null ? stem : `${stem}?${q}`;
          const e = parseLine(
            `${ip} - - [03/Dec/2026:09:31:15 +0000] "GET ${uri} HTTP/1.1" ${status} 12 "-" "${ua}"`,
            'combined',
          );
          expect(e.fields).toMatchObject({
            'c-ip': ip,
            'cs-uri-stem': stem,
            'cs-uri': uri,
            'sc-status': status,
            'cs-user-agent': ua,
          });
          expect(e.fields['cs-uri-query']).toBe(q ?? undefined);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the fields a parser says it composed', () => {
  /**
   * The fields that break the promise of `composed`: neither named in it nor a number, a boolean
   * or a part of the raw line (none when the parser promises nothing).
   */
  function broken(e: WatchEvent): string[] {
    const composed = e.composed;
    if (composed === undefined) return [];
    const bad: string[] = [];
    for (const [key, value] of Object.entries(e.fields)) {
      if (composed.includes(key) || typeof value === 'number' || typeof value === 'boolean') continue;
      if (typeof value !== 'string' || !e.raw.includes(value)) bad.push(`${key}=${JSON.stringify(value)}`);
    }
    return bad;
  }

  /** Lines of every kind the syslog family and W3C parsers read, beyond the samples above. */
  const kinds: [LogFormat, string][] = [
    ...Object.entries(samples).flatMap(([format, lines]) =>
      lines.map((line) => [format as LogFormat, line] as [LogFormat, string]),
    ),
    [
      'postfix',
      'Dec  3 08:00:01 mx1 postfix/submission/smtpd[1201]: 8A3C12E0F5: client=unknown[203.0.113.9], sasl_method=PLAIN, sasl_username=alice@ville.example',
    ],
    [
      'postfix',
      'Dec  3 08:00:02 mx1 postfix/smtpd[1201]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <b@ville.example>: Relay access denied; from=<a@x.example> to=<b@ville.example> proto=ESMTP helo=<x>',
    ],
    [
      'postfix',
      'Dec  3 08:00:03 mx1 postfix/smtpd[1201]: lost connection after AUTH from unknown[203.0.113.9]',
    ],
    ['postfix', 'Dec  3 08:00:03 mx1 postfix/smtps/smtpd[1202]: connect from unknown[203.0.113.9]'],
    [
      'postfix',
      'Dec  3 08:00:04 mx1 postfix/smtpd[1201]: warning: unknown[203.0.113.9]: SASL PLAIN authentication failed: authentication failure, sasl_username=bob',
    ],
    [
      'postfix',
      'Dec  3 08:00:05 mx1 postfix/smtp[1300]: 8A3C12E0F5: to=<b@out.example>, relay=mx.out.example[198.51.100.2]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    ],
    [
      'dovecot',
      'Dec  3 08:31:13 mx1 dovecot: pop3(bob)<1234><Ab+Cd>: Disconnected: Logged out top=0/0, retr=2/1234, del=0/2, size=5678',
    ],
    ['dovecot', 'Dec  3 08:31:14 mx1 dovecot: auth-worker(4242): pam(bob,203.0.113.9,<Ab+Cd>): unknown user'],
    [
      'dovecot',
      'Dec  3 08:31:15 mx1 imap-login[812]: Info: Login: user=<bob>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.25',
    ],
    // Words that start as a login's do, but are a failure's (Dovecot 2.3.x), or have no pairs.
    [
      'dovecot',
      'Dec  3 08:31:15 mx1 dovecot: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 15 secs) (auth_failed): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.25',
    ],
    ['dovecot', 'Dec  3 08:31:15 mx1 dovecot: pop3-login: Login: something went wrong'],
    [
      'dovecot',
      'Dec  3 08:31:15 mx1 dovecot: pop3-login: Login: (auth failed, 2 attempts in 4 secs): user=<bob>, rip=203.0.113.9',
    ],
    ['dovecot', 'Dec  3 08:31:16 mx1 auth[813]: passwd-file(bob,203.0.113.9): unknown user'],
    [
      'dovecot',
      'Dec 03 08:31:17 imap(bob): Connection closed (UID FETCH finished 0.1 secs ago) in=10 out=20',
    ],
    [
      'sshd',
      'Dec  3 03:14:10 mx1 sshd[24410]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root',
    ],
    [
      'sshd',
      'Dec  3 03:14:11 mx1 sshd[24410]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example',
    ],
    [
      'sshd',
      'Dec  3 03:14:12 mx1 sshd[24410]: Received disconnect from 203.0.113.9 port 52144:11: Bye Bye [preauth]',
    ],
    [
      'sshd',
      'Dec  3 03:14:13 mx1 sshd[24410]: maximum authentication attempts exceeded for invalid user admin from 203.0.113.9 port 52144 ssh2 [preauth]',
    ],
    ['sshd', 'Dec  3 03:14:14 mx1 sshd[24410]: Connection from 203.0.113.9 port 52144 on 192.0.2.25 port 22'],
    [
      'sshd',
      'Dec  3 03:14:15 mx1 sshd[24410]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)',
    ],
    [
      'syslog',
      '<38>1 2026-12-03T06:25:03.000Z mx1 sshd 812 ID47 [origin ip="192.0.2.25" note="a \\"quoted\\" \\] text"] Failed password for root from 203.0.113.9 port 22 ssh2',
    ],
    ['syslog', '<22>1 2026-12-03T06:25:04Z mx1 postfix/smtpd - - - \uFEFFconnect from unknown[203.0.113.9]'],
    [
      'iis',
      '2026-12-03 08:31:16 192.0.2.30 POST /EWS/Exchange.asmx Cmd=Ping&User=bob 443 bob@ville.example 90.12.44.7 Microsoft+Office/16.0 - 200 0 0 31',
    ],
  ];

  it('names every field it may have written itself: the others are numbers, booleans or parts of the line', () => {
    for (const [format, line] of kinds) {
      const e = parseLine(line, format, { receivedAt });
      expect({ line, parsed: e.parsed, broken: broken(e) }).toEqual({ line, parsed: true, broken: [] });
    }
  });

  it('keeps that promise on a generated day of a mail server', () => {
    const contexts = dayContexts(receivedAt);
    let promised = 0;
    for (const l of mailDay({ seed: 11 }).lines()) {
      const e = parseLine(l.line, l.format, contexts[l.file]);
      if (e.composed !== undefined) promised++;
      expect(broken(e), l.line).toEqual([]);
    }
    expect(promised).toBeGreaterThan(1000);
  }, 60_000);

  const alphabet = fc.constantFrom(...' <>[](),:;=/-.@+?"\\\'\uFEFF\u0130\u212Aa1Zé'.split(''));
  /** A line of any kind with a piece cut out and anything put in, or anything at all. */
  const anyLine = (() => {
    const mutated = fc
      .tuple(
        fc.constantFrom(...kinds),
        fc.nat(),
        fc.nat(),
        fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: alphabet, maxLength: 12 })),
      )
      .map(([[format, line], a, b, insert]) => {
        const i = a % (line.length + 1);
        const j = b % (line.length + 1);
        return [format, line.slice(0, Math.min(i, j)) + insert + line.slice(Math.max(i, j))] as const;
      });
    const anything = fc.tuple(
      fc.constantFrom<LogFormat>('syslog', 'postfix', 'dovecot', 'sshd', 'iis'),
      fc.string({ maxLength: 200, unit: 'binary' }),
    );
    return fc.oneof(mutated, mutated, anything);
  })();

  it('keeps that promise on any line, a line of any kind with a piece cut out and anything put in', () => {
    fc.assert(
      fc.property(anyLine, ([format, line]) => {
        expect(broken(parseLine(line, format, { receivedAt }))).toEqual([]);
      }),
      { numRuns: 20_000 },
    );
  });

  /**
   * Where a line's head (`readHead`, read before the line and in the same context, as the offline
   * scan does) differs from the event `parseLine` gives: its time, log source, `parsed`, or a part
   * of a composed value, of up to MAX_LITERAL characters, that neither the line nor the head's
   * texts hold (a literal the prefilter would miss). None when there is no head.
   */
  function headProblems(line: string, format: LogFormat, context: ParseContext): string[] {
    const found = readHead(line, format, context);
    const head = found && { ...found, composedTexts: [...found.composedTexts] };
    const e = parseLine(line, format, context);
    if (head === undefined) return [];
    const bad: string[] = [];
    if (!Object.is(head.time, e.time)) bad.push(`time ${head.time} for ${e.time}`);
    if (head.logsource !== e.logsource) bad.push(`logsource ${JSON.stringify(head.logsource)}`);
    if (head.parsed !== e.parsed) bad.push(`parsed ${head.parsed}`);
    if (e.composed === undefined && Object.keys(e.fields).length > 0) bad.push('no composed fields named');
    const texts = [line, ...head.composedTexts];
    // A value `gt`/`gte` may read as a number of d digits: the line or texts hold as many
    // (literals.ts, `numberNeed`): the numbers the parsers read come from the line's digits.
    for (const [key, value] of Object.entries(e.fields)) {
      const text = typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
      const n = text === undefined || text.trim() === '' ? NaN : Number(text);
      if (!(n >= 10)) continue;
      const digits = n >= 1e21 ? 22 : String(Math.floor(n)).length;
      if (!texts.some((t) => numberMayHold(t, digits))) bad.push(`${key}=${text}: no ${digits} digits`);
    }
    for (const key of e.composed ?? []) {
      const value = e.fields[key];
      // Numbers and booleans: the prefilter reads an event's fields when a literal could be in them.
      if (value === undefined || typeof value === 'number' || typeof value === 'boolean') continue;
      if (typeof value !== 'string') {
        bad.push(`${key} is no string`);
        continue;
      }
      // Each run of MAX_LITERAL characters (or the whole value) held: every shorter part is too.
      const width = Math.min(MAX_LITERAL, value.length);
      for (let i = 0; i + width <= value.length; i++) {
        const part = value.slice(i, i + width);
        if (!texts.some((t) => t.includes(part))) {
          bad.push(`${key}=${JSON.stringify(value)}: ${JSON.stringify(part)}`);
          break;
        }
      }
    }
    return bad;
  }

  it('tells from a line’s head what parsing it gives, and every literal its composed values could hold', () => {
    for (const [format, line] of kinds) {
      const context: ParseContext = { receivedAt };
      // Every line of the syslog family and every W3C entry has one, but RFC 5424 lines.
      const headed =
        ['syslog', 'postfix', 'dovecot', 'sshd', 'iis'].includes(format) &&
        !/^<\d+>1 /.test(line) &&
        !line.startsWith('#');
      expect({ line, head: readHead(line, format, { receivedAt }) !== undefined }).toEqual({
        line,
        head: headed,
      });
      expect({ line, problems: headProblems(line, format, context) }).toEqual({ line, problems: [] });
    }
  });

  it('tells it on a generated day of a mail server, where most lines have a head', () => {
    const contexts = dayContexts(receivedAt);
    let heads = 0;
    let lines = 0;
    for (const l of mailDay({ seed: 12 }).lines()) {
      lines++;
      if (readHead(l.line, l.format, { ...contexts[l.file] }) !== undefined) heads++;
      expect(headProblems(l.line, l.format, contexts[l.file]), l.line).toEqual([]);
    }
    expect(heads).toBeGreaterThan(lines * 0.99);
  }, 60_000);

  it('tells it on any line', () => {
    fc.assert(
      fc.property(anyLine, ([format, line]) => {
        expect(headProblems(line, format, { receivedAt })).toEqual([]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives the texts around the `?` of cs-uri, which the line does not hold', () => {
    const line =
      '2026-12-03 08:31:16 192.0.2.30 GET /owa/auth/15.2.1118/scripts/x.js a=1&b=2&c=3&d=4&e=5 443 - 90.12.44.7 Mozilla/5.0 - 200 0 0 31';
    const head = readHead(line, 'iis', { receivedAt });
    // MAX_LITERAL - 1 characters on each side.
    expect(head?.composedTexts).toEqual(['18/scripts/x.js?a=1&b=2&c=3&d=4']);
    const short = readHead(
      line.replace('/owa/auth/15.2.1118/scripts/x.js a=1&b=2&c=3&d=4&e=5', '/a b'),
      'iis',
      {
        receivedAt,
      },
    );
    expect(short?.composedTexts).toEqual(['/a?b']);
    // As many characters as the context asks for, down to none.
    expect(readHead(line, 'iis', { receivedAt, jointSeam: 3 })?.composedTexts).toEqual(['.js?a=1']);
    expect(readHead(line, 'iis', { receivedAt, jointSeam: 0 })?.composedTexts).toEqual(['?']);
    const noQuery = readHead(line.replace('a=1&b=2&c=3&d=4&e=5', '-'), 'iis', { receivedAt });
    expect(noQuery?.composedTexts).toEqual([]);
  });
});

describe('the fields of a mail line', () => {
  it('are a plain object, as a literal would be', () => {
    const e = parseLine(
      'Dec  3 05:20:21 mx1 postfix/qmgr[880]: E4130F28EEA: from=<a@b>, size=12, nrcpt=1 (queue active)',
      'postfix',
      {
        receivedAt: Date.UTC(2026, 11, 3, 6),
      },
    );
    expect(Object.getPrototypeOf(e.fields)).toBe(Object.prototype);
    expect(e.fields.constructor).toBe(Object);
    expect(Object.keys(e.fields)).toEqual([
      'host',
      'program',
      'pid',
      'message',
      'process',
      'queue_id',
      'from',
      'size',
      'nrcpt',
      'detail',
    ]);
  });
});
