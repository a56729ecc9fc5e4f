/**
 * Dovecot's messages (after the syslog header, or in Dovecot's own log file), for
 * `product: linux, service: dovecot`: IMAP/POP3 logins and their failures from the `*-login`
 * processes, and the mail processes' logout lines with the bytes read and sent, which show a
 * mailbox being emptied. Names are those of fields.ts; `rip`/`lip` become `src_ip`/`dst_ip`,
 * `rport`/`lport` `src_port`/`dst_port`, and Dovecot's other pairs keep their names (`mpid`,
 * `session`, `TLS`, `deleted`, `expunged`, `retr`, …).
 */
import { type Fields, keyValues, keyValuesIn } from './fields.js';

// `imap-login: `, `pop3-login: `, `submission-login: `…
const LOGIN_PROCESS = /^([a-z0-9]+)-login: (?:(?:Info|Warning|Error): )?(.*)$/;
// `imap(alice@example.org)<4242><AbCdEf>: ` (2.3) or `imap(alice): ` (2.2), `lmtp(123): `.
const MAIL_PROCESS = /^([a-z0-9]+)\(([^)]*)\)(?:<(\d+)>)?(?:<([^>]*)>)?: (?:(?:Info|Warning|Error): )?(.*)$/;
// `auth: passwd-file(bob,203.0.113.9): unknown user`, `auth-worker(123): pam(bob,1.2.3.4,<s>): …`.
const AUTH_PROCESS =
  /^(auth(?:-worker)?)(?:\(\d+\))?: (?:(?:Info|Warning|Error): )?(?:([\w-]+)\(([^,)]*),([^,)]*)(?:,<[^>]*>)?\): )?(.*)$/;
// The reason of a failed or aborted login: `(auth failed, 3 attempts in 12 secs)`.
// Bounded: an unanchored search with unbounded runs would be quadratic on a hostile line.
const AUTH_FAILED = /\(auth failed(?:, (\d{1,9}) attempts?)?[^)]{0,200}\)/;
const AUTH_WORKER_FAILED = /unknown user|[Pp]assword mismatch|Authentication failure/;
// `Disconnected: Logged out in=… out=…`, `Logged out in=…`, `Connection closed (…) in=… out=…`
// and POP3's `Disconnected: Logged out top=0/0, retr=2/1234, del=0/2, size=5678`.
const LOGOUT =
  /(?:^|: )(Logged out|Connection closed(?: \([^)]*\))?|Disconnected for inactivity(?: \([^)]*\))?) ?(.*)$/;
const LOGOUT_NAMES = new Map([
  ['in', 'bytes_in'],
  ['out', 'bytes_out'],
]);
const LOGOUT_NUMBERS = new Set([
  'bytes_in',
  'bytes_out',
  'deleted',
  'expunged',
  'trashed',
  'hdr_count',
  'hdr_bytes',
  'body_count',
  'body_bytes',
  'size',
]);
const RETR = /^\d+\/(\d{1,15})$/;
const LOGIN_NAMES = new Map([
  ['rip', 'src_ip'],
  ['lip', 'dst_ip'],
  ['rport', 'src_port'],
  ['lport', 'dst_port'],
]);
const LOGIN_NUMBERS = new Set(['src_port', 'dst_port', 'mpid']);
const NO_AUTH = /\((?:no auth attempts|disconnected before auth was ready)/;

/**
 * Every value `parseDovecotMessage` may write itself into the fields it composes (`action`,
 * `outcome`; index.ts): a superset, for the offline scan's `readHead`. index.test.ts checks it.
 */
export const DOVECOT_WRITES: readonly string[] = Object.freeze([
  'login',
  'success',
  'failure',
  'disconnect',
  'logout',
]);

// What each kind of message may write, as far as its first words tell (the prefixes of LOGIN_PROCESS
// and MAIL_PROCESS, and AUTH_PROCESS's `auth`): a login process's login (its words are `Login`
// when its pairs follow, as `pairsStart` finds them) or else its failure or a disconnection, a mail
// process's logout, an authentication process's failure.
const LOGIN_HEAD = /[a-z0-9]+-login: /y;
const LOGIN_SUCCESS_HEAD = /[a-z0-9]+-login: (?:(?:Info|Warning|Error): )?Login: [a-z_]+=/y;
const MAIL_HEAD = /[a-z0-9]+\(/y;
const LOGIN_WRITES: readonly string[] = Object.freeze(['login', 'success']);
const LOGIN_FAILURE_WRITES: readonly string[] = Object.freeze(['login', 'failure', 'disconnect']);
const MAIL_WRITES: readonly string[] = Object.freeze(['logout']);
const AUTH_WRITES: readonly string[] = Object.freeze(['login', 'failure']);
const MAIL_OR_AUTH_WRITES: readonly string[] = Object.freeze(['logout', 'login', 'failure']);
const NOTHING: readonly string[] = Object.freeze([]);

/**
 * Every value `parseDovecotMessage(line.slice(start), …)` may write itself into the fields it
 * composes, from the message's first words: a frozen list, the same for messages alike (a subset
 * of DOVECOT_WRITES; index.test.ts checks it).
 */
export function dovecotWrites(line: string, start: number): readonly string[] {
  LOGIN_SUCCESS_HEAD.lastIndex = start;
  if (LOGIN_SUCCESS_HEAD.test(line)) return LOGIN_WRITES;
  LOGIN_HEAD.lastIndex = start;
  if (LOGIN_HEAD.test(line)) return LOGIN_FAILURE_WRITES;
  const auth = line.startsWith('auth', start);
  MAIL_HEAD.lastIndex = start;
  if (MAIL_HEAD.test(line)) return auth ? MAIL_OR_AUTH_WRITES : MAIL_WRITES;
  return auth ? AUTH_WRITES : NOTHING;
}

/** Reads a Dovecot message into `out`. */
export function parseDovecotMessage(message: string, out: Fields): void {
  let m = LOGIN_PROCESS.exec(message);
  if (m) {
    out.protocol = m[1] as string;
    out.process = `${m[1] as string}-login`;
    const text = m[2] as string;
    const colon = pairsStart(text);
    const head = colon < 0 ? text : text.slice(0, colon);
    if (colon >= 0) keyValuesIn(text, colon + 2, text.length, out, LOGIN_NAMES, LOGIN_NUMBERS);
    // A login's words are `Login` with its pairs after them; a bare `Login` (a cut line) tells no success.
    if (head === 'Login' && colon >= 0) {
      out.action = 'login';
      out.outcome = 'success';
    } else {
      const failed = AUTH_FAILED.exec(head);
      if (failed) {
        out.action = 'login';
        out.outcome = 'failure';
        if (failed[1] !== undefined) out.attempts = Number(failed[1]);
      } else {
        if (NO_AUTH.test(head) || head.startsWith('Disconnected')) out.action = 'disconnect';
      }
      out.reason = head;
    }
    return;
  }
  m = MAIL_PROCESS.exec(message);
  if (m) {
    out.protocol = m[1] as string;
    out.process = m[1] as string;
    if (m[2] !== '') out.user = m[2] as string;
    if (m[3] !== undefined) out.mpid = Number(m[3]);
    if (m[4] !== undefined) out.session = m[4];
    const text = m[5] as string;
    const stats = LOGOUT.exec(text);
    if (stats) {
      out.action = 'logout';
      out.reason = stats[1] as string;
      keyValues(stats[2] as string, out, LOGOUT_NAMES, LOGOUT_NUMBERS);
      // POP3 counts `retr=messages/bytes`: the bytes are what left the server.
      if (typeof out.retr === 'string' && out.bytes_out === undefined) {
        const bytes = RETR.exec(out.retr);
        if (bytes) out.bytes_out = Number(bytes[1]);
      }
    } else {
      out.reason = text;
    }
    return;
  }
  m = AUTH_PROCESS.exec(message);
  if (m) {
    out.process = m[1] as string;
    if (m[2] !== undefined) {
      out.passdb = m[2];
      if (m[3] !== '') out.user = m[3] as string;
      if (m[4] !== '') out.src_ip = m[4] as string;
    }
    const text = m[5] as string;
    out.reason = text;
    if (AUTH_WORKER_FAILED.test(text)) {
      out.action = 'login';
      out.outcome = 'failure';
    }
  }
}

const KEY_AT = /[a-z_]+=/y;

/**
 * Where `: user=<…>, …` starts, after a head that may hold colons itself
 * (`Disconnected: Connection closed (auth failed, 3 attempts in 12 secs): user=<bob>, …`).
 */
function pairsStart(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28 /* ( */) depth++;
    else if (c === 0x29 /* ) */) depth--;
    else if (c === 0x3a /* : */ && depth <= 0 && text.charCodeAt(i + 1) === 0x20) {
      KEY_AT.lastIndex = i + 2;
      if (KEY_AT.test(text)) return i;
    }
  }
  return -1;
}
