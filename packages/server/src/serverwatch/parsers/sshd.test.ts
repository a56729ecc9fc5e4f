import { describe, expect, it } from 'vitest';
import { parseLine } from './index.js';

const receivedAt = Date.UTC(2026, 11, 3, 23, 0, 0);
const parse = (line: string) => parseLine(line, 'sshd', { receivedAt });

describe('sshd lines', () => {
  it('read a failed password for an invalid user, field by field', () => {
    const e = parse(
      'Dec  3 03:14:07 mx1 sshd[24410]: Failed password for invalid user admin from 218.92.0.118 port 52144 ssh2',
    );
    expect(e).toMatchObject({
      parsed: true,
      time: Date.UTC(2026, 11, 3, 3, 14, 7),
      logsource: { product: 'linux', service: 'sshd' },
    });
    expect(e.fields).toEqual({
      host: 'mx1',
      program: 'sshd',
      pid: 24410,
      message: 'Failed password for invalid user admin from 218.92.0.118 port 52144 ssh2',
      action: 'login',
      outcome: 'failure',
      method: 'password',
      invalid_user: true,
      user: 'admin',
      src_ip: '218.92.0.118',
      src_port: 52144,
      protocol: 'ssh2',
    });
  });

  it('read an accepted public key with its type and fingerprint', () => {
    expect(
      parse(
        'Dec  3 07:58:31 mx1 sshd[1822]: Accepted publickey for deploy from 192.0.2.44 port 50122 ssh2: ED25519 SHA256:Yk2u7f3mJb0a9Vq1S2Zr6d4Hc8Xy5Wn3Lp7Qt1Ke0Ag',
      ).fields,
    ).toMatchObject({
      action: 'login',
      outcome: 'success',
      method: 'publickey',
      invalid_user: false,
      user: 'deploy',
      src_ip: '192.0.2.44',
      src_port: 50122,
      key_type: 'ED25519',
      fingerprint: 'SHA256:Yk2u7f3mJb0a9Vq1S2Zr6d4Hc8Xy5Wn3Lp7Qt1Ke0Ag',
    });
    expect(
      parse('Dec  3 07:58:31 mx1 sshd[1823]: Accepted password for root from 2001:db8::1 port 40000 ssh2')
        .fields,
    ).toMatchObject({
      outcome: 'success',
      method: 'password',
      user: 'root',
      src_ip: '2001:db8::1',
    });
  });

  it('read invalid users, closed connections and exceeded attempts', () => {
    expect(
      parse('Dec  3 03:14:06 mx1 sshd[24410]: Invalid user admin from 218.92.0.118 port 52144').fields,
    ).toMatchObject({
      action: 'invalid_user',
      invalid_user: true,
      user: 'admin',
      src_ip: '218.92.0.118',
      src_port: 52144,
    });
    expect(
      parse(
        'Dec  3 03:14:09 mx1 sshd[24410]: Connection closed by authenticating user root 218.92.0.118 port 52150 [preauth]',
      ).fields,
    ).toMatchObject({
      action: 'disconnect',
      user: 'root',
      invalid_user: false,
      src_ip: '218.92.0.118',
      src_port: 52150,
      preauth: true,
    });
    expect(
      parse(
        'Dec  3 03:14:09 mx1 sshd[24411]: Connection closed by invalid user oracle 218.92.0.118 port 52151 [preauth]',
      ).fields,
    ).toMatchObject({ action: 'disconnect', user: 'oracle', invalid_user: true });
    expect(
      parse('Dec  3 03:14:09 mx1 sshd[24412]: Connection closed by 218.92.0.118 port 52152 [preauth]').fields,
    ).toMatchObject({
      action: 'disconnect',
      src_ip: '218.92.0.118',
    });
    expect(
      parse(
        'Dec  3 03:14:10 mx1 sshd[24413]: error: maximum authentication attempts exceeded for root from 218.92.0.118 port 52153 ssh2 [preauth]',
      ).fields,
    ).toMatchObject({
      action: 'max_attempts',
      outcome: 'failure',
      user: 'root',
      invalid_user: false,
      src_ip: '218.92.0.118',
      src_port: 52153,
    });
  });

  it('read PAM’s authentication failures with the remote host and user', () => {
    expect(
      parse(
        'Dec  3 03:14:08 mx1 sshd[24414]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=218.92.0.118  user=root',
      ).fields,
    ).toMatchObject({
      action: 'login',
      outcome: 'failure',
      method: 'pam',
      src_ip: '218.92.0.118',
      user: 'root',
    });
    expect(
      parse(
        'Dec  3 03:14:08 mx1 sshd[24414]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=218.92.0.118  user=root',
      ).fields,
    ).toMatchObject({ action: 'login', attempts: 3 });
    const named = parse(
      'Dec  3 03:14:08 mx1 sshd[24414]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.bad.example  user=root',
    );
    expect(named.fields).toMatchObject({ src_host: 'scanner.bad.example', user: 'root' });
    expect(named.fields.src_ip).toBeUndefined();
  });

  it('read sessions, received disconnects and connections, and OpenSSH 9.8’s sshd-session', () => {
    expect(
      parse(
        'Dec  3 07:58:31 mx1 sshd[1822]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)',
      ).fields,
    ).toMatchObject({
      action: 'session_open',
      user: 'deploy',
    });
    expect(
      parse(
        'Dec  3 07:58:40 mx1 sshd[1822]: Received disconnect from 192.0.2.44 port 50122:11: disconnected by user',
      ).fields,
    ).toMatchObject({
      action: 'disconnect',
      src_ip: '192.0.2.44',
      reason_code: 11,
      reason: 'disconnected by user',
    });
    expect(
      parse(
        'Dec  3 07:58:30 mx1 sshd[1822]: Connection from 192.0.2.44 port 50122 on 192.0.2.25 port 22 rdomain ""',
      ).fields,
    ).toMatchObject({
      action: 'connect',
      dst_ip: '192.0.2.25',
      dst_port: 22,
    });
    const e = parse(
      'Dec  3 03:14:07 mx1 sshd-session[24410]: Failed password for alice from 203.0.113.5 port 1 ssh2',
    );
    expect(e.logsource).toEqual({ product: 'linux', service: 'sshd' });
    expect(e.fields).toMatchObject({ user: 'alice', outcome: 'failure' });
  });

  it('keep a user name with spaces whole', () => {
    expect(
      parse('Dec  3 03:14:07 mx1 sshd[1]: Failed password for invalid user a b from 203.0.113.5 port 1 ssh2')
        .fields.user,
    ).toBe('a b');
  });
});
