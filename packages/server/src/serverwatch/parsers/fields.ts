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
import { digitsValue, intern, internKey, isDigit, isRegExpSpace, isWordChar, knownKey } from './scan.js';

export type Fields = Record<string, FieldValue>;

/** A decimal integer as a number (so that `gt`/`lt` modifiers compare numbers), else the text. */
export function numeric(value: string): FieldValue {
  // `^\d{1,15}$`: up to 15 digits, which a double holds exactly.
  const number = value.length <= 15 ? digitsValue(value, 0, value.length) : -1;
  return number < 0 ? value : number;
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
  return keyValuesIn(text, 0, text.length, out, names, numbers);
}

/** `keyValues(text.slice(start, end), …)` without the slice. */
export function keyValuesIn(
  text: string,
  start: number,
  end: number,
  out: Fields,
  names?: ReadonlyMap<string, string>,
  numbers?: ReadonlySet<string>,
): Fields {
  let i = start;
  const n = end;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (i < n && (c === SPACE || c === COMMA)) c = text.charCodeAt(++i);
    if (i >= n) break;
    // A name met before is found from the `=` after it, without reading it character by character.
    let j = text.indexOf('=', i);
    let key = j > i && j < n ? knownKey(text, i, j) : undefined;
    if (key === undefined) {
      j = i;
      while (j < n && (c = text.charCodeAt(j)) !== EQUALS && c !== SPACE && c !== COMMA) j++;
      if (c !== EQUALS || j >= n) {
        if (isFlag(text, i, j)) out[internKey(text, i, j)] = true;
        i = j;
        continue;
      }
      key = internKey(text, i, j);
    }
    j++;
    let valueStart = j;
    let valueEnd: number;
    if (j < n && text.charCodeAt(j) === LESS) {
      // Postfix and Dovecot bracket values that may hold spaces or commas: up to the closing `>`.
      let close = text.indexOf('>', j + 1);
      if (close >= n) close = -1;
      valueStart = j + 1;
      valueEnd = close < 0 ? n : close;
      i = close < 0 ? n : close + 1;
    } else {
      let k = j;
      while (k < n && (c = text.charCodeAt(k)) !== COMMA && c !== SPACE) k++;
      valueEnd = k;
      i = k;
    }
    // `__proto__` would replace the object's prototype rather than add a field.
    if (key === '' || key === '__proto__') continue;
    const name = names === undefined ? key : (names.get(key) ?? key);
    if (numbers !== undefined && numbers.has(name)) {
      // `numeric`, without the string when the value is a number.
      const number = valueEnd - valueStart <= 15 ? digitsValue(text, valueStart, valueEnd) : -1;
      out[name] = number < 0 ? text.slice(valueStart, valueEnd) : number;
    } else {
      out[name] = text.slice(valueStart, valueEnd);
    }
  }
  return out;
}

const SPACE = 0x20;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const LESS = 0x3c;

/** Whether `text[start, end)` is a flag, `[A-Za-z][\w-]*`. */
function isFlag(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start) | 0x20;
  if (first < 0x61 || first > 0x7a) return false;
  for (let i = start + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c) && c !== 0x2d) return false;
  }
  return true;
}

/**
 * Fills `client_host`, `src_ip` and `src_port` from Postfix's `host[ip]` or `host[ip]:port`
 * at the start of `text`; false when `text` does not start with one.
 */
export function postfixClient(text: string, out: Fields): boolean {
  return postfixClientIn(text, 0, text.length, out);
}

/**
 * `postfixClient(text.slice(start, end), out)` without the slice: by hand what
 * `^([^\s[\]]*)\[([0-9A-Fa-f.:]{1,45}|unknown)\](?::(\d{1,5}))?` would capture.
 */
export function postfixClientIn(text: string, start: number, end: number, out: Fields): boolean {
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x5d || isRegExpSpace(c)) break;
  }
  if (i >= end || text.charCodeAt(i) !== 0x5b /* [ */) return false;
  const hostEnd = i++;
  let j = i;
  while (j < end && isAddressChar(text.charCodeAt(j))) j++;
  let ip: string | undefined;
  if (j > i) {
    if (j - i > 45 || j >= end || text.charCodeAt(j) !== 0x5d /* ] */) return false;
    ip = text.slice(i, j);
    j++;
  } else if (i + 8 <= end && text.startsWith('unknown]', i)) {
    j = i + 8;
  } else {
    return false;
  }
  out.client_host = intern(text, start, hostEnd);
  if (ip !== undefined) out.src_ip = ip;
  if (j < end && text.charCodeAt(j) === 0x3a /* : */) {
    let k = j + 1;
    const last = Math.min(end, j + 6);
    while (k < last && isDigit(text.charCodeAt(k))) k++;
    if (k > j + 1) out.src_port = digitsValue(text, j + 1, k);
  }
  return true;
}

/** `[0-9A-Fa-f.:]`: the characters of an IPv4 or IPv6 address. */
function isAddressChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x3a) /* 0-9 : */ || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2e
  );
}
