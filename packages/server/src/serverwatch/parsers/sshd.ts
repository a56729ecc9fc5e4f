/**
 * OpenSSH sshd's messages (after the syslog header), for `product: linux, service: sshd`: accepted
 * and failed authentications, invalid users, connections closed before authentication, and PAM's
 * failure lines. Names are those of fields.ts; `invalid_user` is true when sshd said the account
 * does not exist, `preauth` when the line ends with `[preauth]`, and publickey logins add
 * `key_type` and `fingerprint`.
 */
import type { Fields } from './fields.js';

const USER_FROM =
  /^(Accepted|Failed) (\S+) for (invalid user )?(.*?) from ([0-9A-Fa-f.:]{2,45}) port (\d{1,5})(?: (ssh\d?))?(?:: (\S+)(?: (\S+))?)?/;
const INVALID_USER = /^Invalid user (.*?) from ([0-9A-Fa-f.:]{2,45})(?: port (\d{1,5}))?/;
const CLOSED =
  /^(?:Connection closed|Disconnected|Connection reset) (?:by|from) (?:(authenticating|invalid) user (.*?) |user (.*?) )?([0-9A-Fa-f.:]{2,45}) port (\d{1,5})/;
const MAX_ATTEMPTS =
  /^(?:error: )?maximum authentication attempts exceeded for (invalid user )?(.*?) from ([0-9A-Fa-f.:]{2,45}) port (\d{1,5})/;
const RECEIVED_DISCONNECT =
  /^Received disconnect from ([0-9A-Fa-f.:]{2,45}) port (\d{1,5}):(\d+): ?(.*?)(?: \[preauth\])?$/;
const CONNECTION_FROM =
  /^Connection from ([0-9A-Fa-f.:]{2,45}) port (\d{1,5}) on ([0-9A-Fa-f.:]{2,45}) port (\d{1,5})/;
const PAM_FAILURE =
  /^(?:pam_unix\(sshd:auth\): authentication failure;|PAM (\d+) more authentication failures?;)(.*)$/;
const PAM_SESSION = /^pam_unix\(sshd:session\): session (opened|closed) for user ([^\s(]+)/;
const PAM_PAIR = /(\w+)=(\S*)/g;
const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

/**
 * Every value `parseSshdMessage` may write itself into the fields it composes (`action`,
 * `outcome`, PAM's `method`; index.ts): a superset, for the offline scan's `readHead`.
 * index.test.ts checks it.
 */
export const SSHD_WRITES: readonly string[] = Object.freeze([
  'login',
  'success',
  'failure',
  'invalid_user',
  'max_attempts',
  'connect',
  'disconnect',
  'session_open',
  'session_close',
  'pam',
]);

/** Reads an sshd message into `out`. */
export function parseSshdMessage(message: string, out: Fields): void {
  if (message.endsWith('[preauth]')) out.preauth = true;
  let m = USER_FROM.exec(message);
  if (m) {
    out.action = 'login';
    out.outcome = m[1] === 'Accepted' ? 'success' : 'failure';
    out.method = m[2] as string;
    out.invalid_user = m[3] !== undefined;
    out.user = m[4] as string;
    out.src_ip = m[5] as string;
    out.src_port = Number(m[6]);
    if (m[7] !== undefined) out.protocol = m[7];
    if (m[8] !== undefined && m[9] !== undefined) {
      out.key_type = m[8];
      out.fingerprint = m[9];
    }
    return;
  }
  m = INVALID_USER.exec(message);
  if (m) {
    out.action = 'invalid_user';
    out.outcome = 'failure';
    out.invalid_user = true;
    out.user = m[1] as string;
    out.src_ip = m[2] as string;
    if (m[3] !== undefined) out.src_port = Number(m[3]);
    return;
  }
  m = CLOSED.exec(message);
  if (m) {
    out.action = 'disconnect';
    if (m[1] !== undefined) {
      out.user = m[2] as string;
      out.invalid_user = m[1] === 'invalid';
    } else if (m[3] !== undefined) {
      out.user = m[3];
    }
    out.src_ip = m[4] as string;
    out.src_port = Number(m[5]);
    return;
  }
  m = MAX_ATTEMPTS.exec(message);
  if (m) {
    out.action = 'max_attempts';
    out.outcome = 'failure';
    out.invalid_user = m[1] !== undefined;
    out.user = m[2] as string;
    out.src_ip = m[3] as string;
    out.src_port = Number(m[4]);
    return;
  }
  m = RECEIVED_DISCONNECT.exec(message);
  if (m) {
    out.action = 'disconnect';
    out.src_ip = m[1] as string;
    out.src_port = Number(m[2]);
    out.reason_code = Number(m[3]);
    out.reason = m[4] as string;
    return;
  }
  m = CONNECTION_FROM.exec(message);
  if (m) {
    out.action = 'connect';
    out.src_ip = m[1] as string;
    out.src_port = Number(m[2]);
    out.dst_ip = m[3] as string;
    out.dst_port = Number(m[4]);
    return;
  }
  m = PAM_FAILURE.exec(message);
  if (m) {
    out.action = 'login';
    out.outcome = 'failure';
    out.method = 'pam';
    if (m[1] !== undefined) out.attempts = Number(m[1]) + 1;
    // `logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root`
    for (const pair of (m[2] as string).matchAll(PAM_PAIR)) {
      const value = pair[2] as string;
      if (value === '') continue;
      // rhost is the name when sshd resolved one (UseDNS yes), else the address.
      if (pair[1] === 'rhost') out[ADDRESS.test(value) ? 'src_ip' : 'src_host'] = value;
      else if (pair[1] === 'user') out.user = value;
    }
    return;
  }
  m = PAM_SESSION.exec(message);
  if (m) {
    out.action = m[1] === 'opened' ? 'session_open' : 'session_close';
    out.user = m[2] as string;
  }
}
