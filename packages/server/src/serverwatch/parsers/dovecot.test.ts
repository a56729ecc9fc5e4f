import { describe, expect, it } from 'vitest';
import { parseLine } from './index.js';

const receivedAt = Date.UTC(2026, 11, 3, 23, 0, 0);
const parse = (line: string) => parseLine(line, 'dovecot', { receivedAt });

describe('Dovecot lines', () => {
  it('read a successful IMAP login with user, method and both addresses', () => {
    const e = parse(
      'Dec  3 08:31:12 mx1 dovecot: imap-login: Login: user=<marie.dupont@ville.example>, method=PLAIN, rip=90.12.44.7, lip=192.0.2.25, mpid=21877, TLS, session=<7yLx0e4Sb3VaDCwH>',
    );
    expect(e).toMatchObject({ parsed: true, logsource: { product: 'linux', service: 'dovecot' } });
    expect(e.fields).toEqual({
      host: 'mx1',
      program: 'dovecot',
      message:
        'imap-login: Login: user=<marie.dupont@ville.example>, method=PLAIN, rip=90.12.44.7, lip=192.0.2.25, mpid=21877, TLS, session=<7yLx0e4Sb3VaDCwH>',
      protocol: 'imap',
      process: 'imap-login',
      action: 'login',
      outcome: 'success',
      user: 'marie.dupont@ville.example',
      method: 'PLAIN',
      src_ip: '90.12.44.7',
      dst_ip: '192.0.2.25',
      mpid: 21877,
      TLS: true,
      session: '7yLx0e4Sb3VaDCwH',
    });
  });

  it('read a login line cut before its pairs as no success (what the offline scan’s head tells too)', () => {
    const e = parse('Dec  3 08:31:12 mx1 dovecot: imap-login: Login');
    expect(e.fields).toMatchObject({ process: 'imap-login', reason: 'Login' });
    expect(e.fields.outcome).toBeUndefined();
    expect(e.fields.action).toBeUndefined();
  });

  it('read a disconnection after failed authentication with the number of attempts', () => {
    const e = parse(
      'Dec  3 11:02:40 mx1 dovecot: imap-login: Disconnected (auth failed, 3 attempts in 14 secs): user=<paul.bernard@ville.example>, method=PLAIN, rip=185.220.101.47, lip=192.0.2.25, TLS, session=<qX2b0e4SqLy5XNwv>',
    );
    expect(e.fields).toMatchObject({
      action: 'login',
      outcome: 'failure',
      attempts: 3,
      user: 'paul.bernard@ville.example',
      src_ip: '185.220.101.47',
      dst_ip: '192.0.2.25',
      reason: 'Disconnected (auth failed, 3 attempts in 14 secs)',
    });
  });

  it('read Dovecot 2.3’s wording and an aborted POP3 login the same way', () => {
    expect(
      parse(
        'Dec  3 11:02:41 mx1 dovecot: imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<a@ville.example>, method=LOGIN, rip=185.220.101.47, lip=192.0.2.25, rport=51000, lport=993, TLS',
      ).fields,
    ).toMatchObject({
      action: 'login',
      outcome: 'failure',
      attempts: 1,
      user: 'a@ville.example',
      method: 'LOGIN',
      src_port: 51000,
      dst_port: 993,
    });
    expect(
      parse(
        'Dec  3 11:02:42 mx1 dovecot: pop3-login: Aborted login (auth failed, 1 attempts in 6 secs): user=<b@ville.example>, method=PLAIN, rip=185.220.101.47, lip=192.0.2.25, TLS',
      ).fields,
    ).toMatchObject({
      protocol: 'pop3',
      action: 'login',
      outcome: 'failure',
      attempts: 1,
      user: 'b@ville.example',
    });
  });

  it('read Dovecot 2.4’s “Login aborted” with its reason code', () => {
    expect(
      parse(
        'Dec  3 11:02:43 mx1 dovecot: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 12 secs) (auth_failed): user=<c@ville.example>, method=PLAIN, rip=185.220.101.47, lip=192.0.2.25, TLS, session=<Zz9b0e4SqLy5XNwv>',
      ).fields,
    ).toMatchObject({
      action: 'login',
      outcome: 'failure',
      attempts: 3,
      user: 'c@ville.example',
      src_ip: '185.220.101.47',
      session: 'Zz9b0e4SqLy5XNwv',
    });
  });

  it('read a disconnection without any attempt as a disconnection', () => {
    expect(
      parse(
        'Dec  3 11:05:00 mx1 dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=45.95.147.12, lip=192.0.2.25, TLS handshaking: SSL_accept() failed',
      ).fields,
    ).toMatchObject({ action: 'disconnect', src_ip: '45.95.147.12' });
  });

  it('read the logout of an IMAP session with the bytes it read and sent, as numbers', () => {
    const e = parse(
      'Dec  3 12:40:03 mx1 dovecot: imap(paul.bernard@ville.example)<30121><Hk1b0e4S0MVaDCwH>: Disconnected: Logged out in=2817 out=3158411233 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0',
    );
    expect(e.fields).toMatchObject({
      protocol: 'imap',
      user: 'paul.bernard@ville.example',
      mpid: 30121,
      session: 'Hk1b0e4S0MVaDCwH',
      action: 'logout',
      reason: 'Logged out',
      bytes_in: 2817,
      bytes_out: 3158411233,
      deleted: 0,
    });
  });

  it('take the bytes of a POP3 logout from its retr counter', () => {
    expect(
      parse(
        'Dec  3 12:41:00 mx1 dovecot: pop3(j.durand)<31000><abc>: Disconnected: Logged out top=0/0, retr=12/734112, del=0/12, size=734112',
      ).fields,
    ).toMatchObject({
      protocol: 'pop3',
      user: 'j.durand',
      action: 'logout',
      retr: '12/734112',
      bytes_out: 734112,
      size: 734112,
    });
  });

  it('read Dovecot’s own log file, which has no host and names the process itself', () => {
    expect(
      parse(
        'Dec 03 08:31:12 imap-login: Info: Login: user=<marie.dupont@ville.example>, method=PLAIN, rip=90.12.44.7, lip=192.0.2.25, mpid=21877, TLS',
      ).fields,
    ).toMatchObject({
      action: 'login',
      outcome: 'success',
      user: 'marie.dupont@ville.example',
      src_ip: '90.12.44.7',
    });
    expect(
      parse('Dec 03 12:40:03 imap(paul.bernard@ville.example)<30121><Hk1b>: Info: Logged out in=12 out=345')
        .fields,
    ).toMatchObject({ action: 'logout', user: 'paul.bernard@ville.example', bytes_in: 12, bytes_out: 345 });
  });

  it('read the auth process’s unknown users and password mismatches as failures', () => {
    expect(
      parse(
        'Dec  3 11:02:39 mx1 dovecot: auth: passwd-file(ghost@ville.example,185.220.101.47,<qX2b0e4SqLy5XNwv>): unknown user',
      ).fields,
    ).toMatchObject({
      process: 'auth',
      passdb: 'passwd-file',
      user: 'ghost@ville.example',
      src_ip: '185.220.101.47',
      action: 'login',
      outcome: 'failure',
    });
  });
});
