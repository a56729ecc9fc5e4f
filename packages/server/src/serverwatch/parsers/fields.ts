/**
 * The field names the mail and authentication parsers share where Sigma's taxonomy names none
 * (it has no Postfix, Dovecot or sshd fields; its `firewall` category gives `src_ip`, `src_port`,
 * `dst_ip`, `dst_port`). One vocabulary across services lets a rule or a correlation group Postfix,
 * Dovecot, sshd and Rempart's own sign-ins by the same `src_ip` or `user`.
 *
 * | field        | meaning                                                                      |
 * |--------------|------------------------------------------------------------------------------|
 * | `action`     | `login`, `connect`, `disconnect`, `logout`, `reject`, `invalid_user`, `max_attempts`, `session_open`, `session_close`, `lost_connection`, `queue`, `delivery` |
 * | `outcome`    | `success` or `failure` (for `login`; `failure` for `invalid_user`, `max_attempts`, `reject`) |
 * | `user`       | the account as the client gave it (`sasl_username`, Dovecot `user=`, sshd)   |
 * | `src_ip`, `src_port` | the client's address and port                                      |
 * | `dst_ip`, `dst_port` | the server's address and port (Dovecot `lip`, sshd `on … port`)    |
 * | `method`     | the authentication mechanism: `PLAIN`, `LOGIN`, `password`, `publickey`…     |
 * | `protocol`   | `smtp`, `submission`, `imap`, `pop3`, `ssh2`…                                |
 * | `attempts`   | authentication attempts the server counted for that connection               |
 * | `bytes_in`, `bytes_out` | what a mail session read and sent (Dovecot `in=`, `out=`)         |
 * | `reason`     | the server's words for a failure, rejection or disconnection                 |
 * | `process`    | the daemon within the service: `smtpd`, `qmgr`, `imap-login`, `imap`, `auth`… |
 * | `client_host`, `src_host` | the client's name as Postfix or PAM resolved it               |
 * | `queue_id`   | Postfix's queue id (`NOQUEUE` for a rejection before queueing)               |
 * | `invalid_user`, `preauth` | sshd: the account does not exist; before authentication       |
 *
 * The syslog header adds `host`, `program`, `pid`, `facility`, `severity` and `message`.
 */
import type { FieldValue } from '../event.js';

export type Fields = Record<string, FieldValue>;

const INTEGER = /^\d{1,15}$/;

/** A decimal integer as a number (so that `gt`/`lt` modifiers compare numbers), else the text. */
export function numeric(value: string): FieldValue {
  return INTEGER.test(value) ? Number(value) : value;
}

/**
 * `key=value` and `key=<value>` pairs separated by `, ` or spaces, as Postfix and Dovecot log them;
 * a bare word (Dovecot's `TLS`, `secured`) becomes a `true` flag. `names` renames keys as they are
 * read (no `delete` afterwards, which would slow every later access to the object), and the
 * fields named in `numbers` hold numbers.
 *
 * @example
 *   keyValues('user=<alice>, method=PLAIN, rip=198.51.100.7, TLS', {})
 *   // { user: 'alice', method: 'PLAIN', rip: '198.51.100.7', TLS: true }
 */
export function keyValues(
  text: string,
  out: Fields,
  names?: ReadonlyMap<string, string>,
  numbers?: ReadonlySet<string>,
): Fields {
  let i = 0;
  const n = text.length;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (i < n && (c === SPACE || c === COMMA)) c = text.charCodeAt(++i);
    if (i >= n) break;
    let j = i;
    while (j < n && (c = text.charCodeAt(j)) !== EQUALS && c !== SPACE && c !== COMMA) j++;
    const key = text.slice(i, j);
    if (c !== EQUALS || j >= n) {
      if (FLAG.test(key)) out[key] = true;
      i = j;
      continue;
    }
    j++;
    let value: string;
    if (text.charCodeAt(j) === LESS) {
      // Postfix and Dovecot bracket values that may hold spaces or commas: up to the closing `>`.
      const close = text.indexOf('>', j + 1);
      const end = close < 0 ? n : close;
      value = text.slice(j + 1, end);
      i = close < 0 ? n : close + 1;
    } else {
      let k = j;
      while (k < n && (c = text.charCodeAt(k)) !== COMMA && c !== SPACE) k++;
      value = text.slice(j, k);
      i = k;
    }
    // `__proto__` would replace the object's prototype rather than add a field.
    if (key === '' || key === '__proto__') continue;
    const name = names?.get(key) ?? key;
    out[name] = numbers?.has(name) === true ? numeric(value) : value;
  }
  return out;
}

const SPACE = 0x20;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const LESS = 0x3c;
const FLAG = /^[A-Za-z][\w-]*$/;

/** `host[ip]` or `host[ip]:port`, as Postfix names a client. */
const CLIENT = /^([^\s[\]]*)\[([0-9A-Fa-f.:]{1,45}|unknown)\](?::(\d{1,5}))?/;

/** Fills `client_host`, `src_ip` and `src_port` from Postfix's `host[ip]`; false when `text` is not one. */
export function postfixClient(text: string, out: Fields): boolean {
  const m = CLIENT.exec(text);
  if (!m) return false;
  out.client_host = m[1] as string;
  if (m[2] !== 'unknown') out.src_ip = m[2] as string;
  if (m[3] !== undefined) out.src_port = Number(m[3]);
  return true;
}
