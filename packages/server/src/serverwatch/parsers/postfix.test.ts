import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fields, keyValues } from './fields.js';
import { type ParseContext, parseLine } from './index.js';
import { parsePostfixMessage, queueIdEnd } from './postfix.js';

const context = (): ParseContext => ({
  source: '/var/log/mail.log',
  receivedAt: Date.UTC(2026, 11, 3, 23, 0, 0),
});
const parse = (line: string) => parseLine(line, 'postfix', context());

describe('Postfix lines', () => {
  it('read a SASL authentication failure as a failed login from the client address', () => {
    const e = parse(
      'Dec  3 11:02:17 mx1 postfix/submission/smtpd[30412]: warning: unknown[185.220.101.47]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
    );
    expect(e).toMatchObject({
      parsed: true,
      time: Date.UTC(2026, 11, 3, 11, 2, 17),
      source: '/var/log/mail.log',
      logsource: { product: 'linux', service: 'postfix' },
    });
    expect(e.fields).toEqual({
      host: 'mx1',
      program: 'postfix/submission/smtpd',
      pid: 30412,
      message: 'warning: unknown[185.220.101.47]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
      process: 'smtpd',
      protocol: 'submission',
      action: 'login',
      outcome: 'failure',
      method: 'LOGIN',
      client_host: 'unknown',
      src_ip: '185.220.101.47',
      reason: 'UGFzc3dvcmQ6',
    });
  });

  it('take the user name Postfix 3 appends to a failure', () => {
    const e = parse(
      'Dec  3 11:02:18 mx1 postfix/smtps/smtpd[30413]: warning: host-7.example.net[2001:db8::7]: SASL PLAIN authentication failed: authentication failure, sasl_username=marie.dupont@ville.example',
    );
    expect(e.fields).toMatchObject({
      protocol: 'submission',
      action: 'login',
      outcome: 'failure',
      method: 'PLAIN',
      client_host: 'host-7.example.net',
      src_ip: '2001:db8::7',
      user: 'marie.dupont@ville.example',
      reason: 'authentication failure',
    });
  });

  it('read connect and disconnect with the command counts', () => {
    expect(
      parse('Dec  3 08:00:01 mx1 postfix/smtpd[1201]: connect from mail-ed1-f41.google.com[209.85.208.41]')
        .fields,
    ).toMatchObject({
      protocol: 'smtp',
      action: 'connect',
      client_host: 'mail-ed1-f41.google.com',
      src_ip: '209.85.208.41',
    });
    const d = parse(
      'Dec  3 08:00:02 mx1 postfix/smtpd[1201]: disconnect from unknown[185.220.101.47] ehlo=1 auth=0/1 quit=1 commands=2/3',
    );
    expect(d.fields).toMatchObject({
      action: 'disconnect',
      src_ip: '185.220.101.47',
      ehlo: '1',
      auth: '0/1',
      commands: '2/3',
    });
  });

  it('read a queue record with SASL as a successful login, and one without as mail accepted', () => {
    const e = parse(
      'Dec  3 09:14:55 mx1 postfix/submission/smtpd[4410]: 4QmB2k1XzYz9t: client=lfbn-idf1-1-123-45.w90-1.abo.wanadoo.fr[90.1.2.3]:51514, sasl_method=PLAIN, sasl_username=jean.martin@ville.example',
    );
    expect(e.fields).toMatchObject({
      queue_id: '4QmB2k1XzYz9t',
      action: 'login',
      outcome: 'success',
      user: 'jean.martin@ville.example',
      method: 'PLAIN',
      sasl_method: 'PLAIN',
      sasl_username: 'jean.martin@ville.example',
      client_host: 'lfbn-idf1-1-123-45.w90-1.abo.wanadoo.fr',
      src_ip: '90.1.2.3',
      src_port: 51514,
    });
    const q = parse(
      'Dec  3 09:15:01 mx1 postfix/smtpd[4411]: 8A3C12E0F5: client=mail.partner.example[203.0.113.40]',
    );
    expect(q.fields).toMatchObject({ queue_id: '8A3C12E0F5', action: 'queue', src_ip: '203.0.113.40' });
    expect(q.fields.user).toBeUndefined();
  });

  it('read a NOQUEUE reject with its stage, code, reason and envelope', () => {
    const e = parse(
      'Dec  3 10:41:09 mx1 postfix/smtpd[7781]: NOQUEUE: reject: RCPT from unknown[45.95.147.12]: 554 5.7.1 <x@elsewhere.example>: Relay access denied; from=<spam@bulk.example> to=<x@elsewhere.example> proto=ESMTP helo=<WIN-3KD2>',
    );
    expect(e.fields).toMatchObject({
      queue_id: 'NOQUEUE',
      action: 'reject',
      outcome: 'failure',
      reject_kind: 'reject',
      stage: 'RCPT',
      src_ip: '45.95.147.12',
      code: 554,
      dsn: '5.7.1',
      reason: '<x@elsewhere.example>: Relay access denied',
      from: 'spam@bulk.example',
      to: 'x@elsewhere.example',
      proto: 'ESMTP',
      helo: 'WIN-3KD2',
    });
  });

  it('read queue manager and delivery lines with numbers as numbers', () => {
    expect(
      parse(
        'Dec  3 09:15:01 mx1 postfix/qmgr[880]: 8A3C12E0F5: from=<newsletter@partner.example>, size=48213, nrcpt=2 (queue active)',
      ).fields,
    ).toMatchObject({
      queue_id: '8A3C12E0F5',
      from: 'newsletter@partner.example',
      size: 48213,
      nrcpt: 2,
      detail: 'queue active',
    });
    expect(
      parse(
        'Dec  3 09:15:02 mx1 postfix/lmtp[4470]: 8A3C12E0F5: to=<jean.martin@ville.example>, relay=mx1.ville.example[private/dovecot-lmtp], delay=0.21, delays=0.1/0.01/0.02/0.08, dsn=2.0.0, status=sent (250 2.0.0 <jean.martin@ville.example> Saved)',
      ).fields,
    ).toMatchObject({ action: 'delivery', to: 'jean.martin@ville.example', status: 'sent', dsn: '2.0.0' });
  });

  it('read lost connections with the command they followed', () => {
    expect(
      parse('Dec  3 11:00:00 mx1 postfix/smtpd[1]: lost connection after AUTH from unknown[185.220.101.47]')
        .fields,
    ).toMatchObject({
      action: 'lost_connection',
      after: 'AUTH',
      src_ip: '185.220.101.47',
    });
  });

  it('keep a Postfix line they do not know as parsed, with its message', () => {
    const e = parse(
      'Dec  3 11:00:00 mx1 postfix/master[1]: daemon started -- version 3.7.11, configuration /etc/postfix',
    );
    expect(e.parsed).toBe(true);
    expect(e.fields).toMatchObject({
      program: 'postfix/master',
      message: 'daemon started -- version 3.7.11, configuration /etc/postfix',
    });
    expect(e.fields.action).toBeUndefined();
  });
});

// Postfix's messages as the regular expressions read them before the scanners: the reference.
const CLIENT = /^([^\s[\]]*)\[([0-9A-Fa-f.:]{1,45}|unknown)\](?::(\d{1,5}))?/;
function client(text: string, out: Fields): void {
  const m = CLIENT.exec(text);
  if (!m) return;
  out.client_host = m[1] as string;
  if (m[2] !== 'unknown') out.src_ip = m[2] as string;
  if (m[3] !== undefined) out.src_port = Number(m[3]);
}
const SASL_FAILED =
  /^warning: ([^\s:[\]]*\[[^\]\s]{0,64}\](?::\d{1,5})?): SASL (\S+) authentication failed: ?(.*)$/;
const CONNECT = /^(connect|disconnect) from (\S+)(?: (.*))?$/;
const LOST = /^lost connection after (\S+)(?: \(.*?\))? from (\S+)/;
const REJECT =
  /^(NOQUEUE|[0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (reject|reject_warning|discard|hold): (\S+) from (\S+): (\d{3})(?: (\d\.\d{1,3}\.\d{1,3}))? (.*?)(?:; (from=.*))?$/;
const QUEUE = /^([0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (.*)$/;

function parsePostfixMessageWithoutShortcuts(program: string, message: string, out: Fields): void {
  const daemon = program.slice(program.lastIndexOf('/') + 1);
  out.process = daemon;
  if (daemon === 'smtpd') out.protocol = /\/(submissions?|smtps)\//.test(program) ? 'submission' : 'smtp';
  let m = SASL_FAILED.exec(message);
  if (m) {
    client(m[1] as string, out);
    out.action = 'login';
    out.outcome = 'failure';
    out.method = m[2] as string;
    const reason = m[3] as string;
    const user = /(?:^|, )sasl_username=(\S+)$/.exec(reason);
    if (user) out.user = user[1] as string;
    out.reason = user ? reason.slice(0, user.index) : reason;
    return;
  }
  m = CONNECT.exec(message);
  if (m) {
    out.action = m[1] as string;
    client(m[2] as string, out);
    if (m[3] !== undefined) keyValues(m[3], out);
    return;
  }
  m = LOST.exec(message);
  if (m) {
    out.action = 'lost_connection';
    out.after = m[1] as string;
    client(m[2] as string, out);
    return;
  }
  m = REJECT.exec(message);
  if (m) {
    out.queue_id = m[1] as string;
    out.action = 'reject';
    out.outcome = 'failure';
    out.reject_kind = m[2] as string;
    out.stage = m[3] as string;
    client(m[4] as string, out);
    out.code = Number(m[5]);
    if (m[6] !== undefined) out.dsn = m[6];
    out.reason = m[7] as string;
    if (m[8] !== undefined) keyValues(m[8], out);
    return;
  }
  m = QUEUE.exec(message);
  if (m) {
    out.queue_id = m[1] as string;
    const rest = m[2] as string;
    if (rest.startsWith('client=')) {
      const comma = rest.indexOf(', ');
      client(rest.slice(7, comma < 0 ? undefined : comma), out);
      if (comma >= 0) keyValues(rest.slice(comma + 2), out);
      if (typeof out.sasl_username === 'string') {
        out.action = 'login';
        out.outcome = 'success';
        out.user = out.sasl_username;
        if (typeof out.sasl_method === 'string') out.method = out.sasl_method;
      } else {
        out.action = 'queue';
      }
      return;
    }
    const paren = rest.indexOf(' (');
    keyValues(paren < 0 ? rest : rest.slice(0, paren), out, undefined, new Set(['size', 'nrcpt']));
    if (paren >= 0) out.detail = rest.slice(paren + 2, rest.endsWith(')') ? -1 : undefined);
    if (out.status !== undefined) out.action = 'delivery';
  }
}

/** Postfix messages made of the pieces of real ones, in any order: mostly near misses. */
const messageLike = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'connect from ',
        'disconnect from ',
        'lost connection after DATA',
        ' from ',
        'warning: ',
        'NOQUEUE: ',
        'E4130F28EEA: ',
        '4bGxYz1Lmnp2Qrs: ',
        'ABCDE: ',
        'a'.repeat(21),
        'reject: ',
        'reject_warning: ',
        'discard: ',
        'hold: ',
        'RCPT',
        ': 554 5.7.1 ',
        'Relay access denied',
        '; ',
        'from=<a@b>',
        ', ',
        ' ',
        'client=',
        'unknown[198.51.100.7]',
        'mx.example[203.0.113.4]:25',
        '[',
        ']',
        'size=1234',
        'nrcpt=1',
        'status=sent',
        'sasl_method=PLAIN',
        'sasl_username=alice',
        ' (queue active)',
        ' (',
        ')',
        'ehlo=1 auth=0/1 quit=1',
        ': SASL LOGIN authentication failed: ',
        '\r',
        '\n',
        '\u2028',
        '\t',
        '\u00a0',
      ),
      fc.string({ maxLength: 5 }),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(''));

describe('Postfix’s scanners against the regular expressions they replace', () => {
  it('read any message as the regular expressions do, field order included', () => {
    const programs = fc.constantFrom(
      'postfix/smtpd',
      'postfix/submission/smtpd',
      'postfix/qmgr',
      'postfix/smtps/smtpd',
    );
    fc.assert(
      fc.property(programs, messageLike, (program, message) => {
        const expected: Fields = {};
        parsePostfixMessageWithoutShortcuts(program, message, expected);
        const got: Fields = {};
        parsePostfixMessage(program, message, got);
        expect(Object.entries(got)).toEqual(Object.entries(expected));
      }),
      { numRuns: 20_000 },
    );
  });

  it('find where a queue id ends as QUEUE does', () => {
    const idLike = fc
      .array(fc.constantFrom('A', 'E', 'F', 'G', 'a', 'e', 'b', 'z', '0', '9', ':', ' ', ': ', 'é'), {
        maxLength: 24,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(idLike, (text) => {
        const m = /^([0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): /.exec(text);
        expect(queueIdEnd(text)).toBe(m ? (m[1] as string).length : -1);
      }),
      { numRuns: 10_000 },
    );
  });
});
