/**
 * Syslog framing: the header that daemons' lines carry before their own message, as it arrives on
 * the wire (RFC 3164 and RFC 5424, with `<PRI>`) and as rsyslog writes it to files (the same
 * headers without `<PRI>`, in the traditional `Mmm dd hh:mm:ss` or the ISO 8601 form).
 */

/** What the syslog header says about a line, and the message that follows it. */
export interface SyslogRecord {
  /** Unix milliseconds, or undefined when the header carries no usable time (RFC 5424 `-`). */
  time: number | undefined;
  host: string | undefined;
  /** The tag (RFC 3164 §4.1.3) or APP-NAME (RFC 5424 §6.2.5): `sshd`, `postfix/smtpd`, `dovecot`. */
  program: string | undefined;
  pid: number | undefined;
  message: string;
  /** PRI / 8 (RFC 5424 §6.2.1): 2 is mail, 4 auth, 10 authpriv… Undefined in files without PRI. */
  facility: number | undefined;
  /** PRI % 8: 0 emergency … 7 debug. */
  severity: number | undefined;
  /** RFC 5424 MSGID. */
  msgid?: string;
  /** RFC 5424 STRUCTURED-DATA: `{ 'origin@32473': { ip: '192.0.2.1' } }`. */
  structuredData?: Record<string, Record<string, string>>;
}

export interface SyslogOptions {
  /**
   * When the line was received, in Unix milliseconds: RFC 3164 timestamps have no year, so the
   * year is the one that puts the time at most a month after this instant (a December line read in
   * January belongs to last year).
   */
  receivedAt?: number;
  /** Minutes east of UTC of the clock that wrote RFC 3164 timestamps (which carry no zone): 0 by default. */
  utcOffsetMinutes?: number;
}

const MONTHS = new Map(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [m, i]),
);

const PRI = /^<(\d{1,3})>/;
// RFC 5424 §6.2.3 TIMESTAMP (RFC 3339), also rsyslog's high-precision file format.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) /;
// RFC 3164 §4.1.3 TAG: alphanumerics (and, in practice, `/._-@`), then `[pid]` and a colon.
const TAG = /^([\w./@-]{1,64})(?:\[(\d{1,10})\])?: ?/;
const HOST = /^[\w.:%-]{1,255}$/;
const MONTH_MS = 31 * 24 * 3600 * 1000;

/**
 * The header of a syslog line and its message, or undefined when the line has no syslog header.
 *
 * @example
 *   parseSyslog('<38>Dec  3 05:20:21 mx1 sshd[812]: Invalid user admin from 203.0.113.9 port 4022')
 *   // { time: …, host: 'mx1', program: 'sshd', pid: 812, message: 'Invalid user admin …',
 *   //   facility: 4, severity: 6 }
 */
export function parseSyslog(line: string, options: SyslogOptions = {}): SyslogRecord | undefined {
  let rest = line;
  let facility: number | undefined;
  let severity: number | undefined;
  const pri = rest.charCodeAt(0) === 0x3c /* < */ ? PRI.exec(rest) : null;
  if (pri) {
    const value = Number(pri[1]);
    // RFC 5424 §6.2.1: PRI is facility × 8 + severity, facilities 0 to 23.
    if (value > 191) return undefined;
    facility = value >> 3;
    severity = value & 7;
    rest = rest.slice(pri[0].length);
    if (rest.startsWith('1 ')) return parse5424(rest.slice(2), facility, severity);
  }
  let time: number | undefined = bsdTime(rest, options);
  if (time !== undefined) {
    rest = rest.slice(bsdEnd);
  } else if (bsdEnd < 0) {
    return undefined;
  } else {
    const iso = isDigit(rest.charCodeAt(0)) ? ISO_TIME.exec(rest) : null;
    if (iso) {
      time = isoTime(iso);
      if (time === undefined) return undefined;
      rest = rest.slice(iso[0].length);
    } else if (pri === null) {
      return undefined;
    }
    // RFC 3164 §4.3.2: a PRI without a valid TIMESTAMP is still a syslog message, whose time is
    // the receiver's; what follows is the message, possibly with a tag.
    if (!iso) {
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
  // The host is the next word, unless that word is already the tag (Dovecot's own log files and
  // some RFC 3164 senders leave the host out).
  let host: string | undefined;
  const space = rest.indexOf(' ');
  const firstWord = space < 0 ? rest : rest.slice(0, space);
  if (!firstWord.endsWith(':') && !firstWord.endsWith(']') && HOST.test(firstWord)) {
    host = firstWord;
    rest = space < 0 ? '' : rest.slice(space + 1);
  }
  let program: string | undefined;
  let pid: number | undefined;
  const tag = TAG.exec(rest);
  if (tag) {
    program = tag[1];
    pid = tag[2] === undefined ? undefined : Number(tag[2]);
    rest = rest.slice(tag[0].length);
  }
  return { time, host, program, pid, message: rest, facility, severity };
}

/** Where the timestamp `bsdTime` read last ends; -1 when it was one but not a valid time. */
let bsdEnd = 0;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const twoDigits = (s: string, i: number) =>
  isDigit(s.charCodeAt(i)) && isDigit(s.charCodeAt(i + 1))
    ? (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30
    : -1;

/**
 * RFC 3164 §4.1.2's `Mmm dd hh:mm:ss ` (the day padded with a space or a zero; rsyslog may add
 * fractions of a second), read by hand: it starts almost every line, and a regular expression's
 * match array per line is garbage to collect. Sets `bsdEnd`; undefined when `s` does not start
 * with one (`bsdEnd` 0) or when it names an impossible time (`bsdEnd` -1).
 */
function bsdTime(s: string, options: SyslogOptions): number | undefined {
  bsdEnd = 0;
  const month = s.charCodeAt(3) === 0x20 ? MONTHS.get(s.slice(0, 3)) : undefined;
  if (month === undefined) return undefined;
  let i = 4;
  if (s.charCodeAt(i) === 0x20) i++;
  if (!isDigit(s.charCodeAt(i))) return undefined;
  let day = s.charCodeAt(i++) - 0x30;
  if (isDigit(s.charCodeAt(i))) day = day * 10 + s.charCodeAt(i++) - 0x30;
  if (s.charCodeAt(i) !== 0x20) return undefined;
  const h = twoDigits(s, i + 1);
  const min = twoDigits(s, i + 4);
  const sec = twoDigits(s, i + 7);
  if (h < 0 || min < 0 || sec < 0 || s.charCodeAt(i + 3) !== 0x3a || s.charCodeAt(i + 6) !== 0x3a)
    return undefined;
  i += 9;
  if (s.charCodeAt(i) === 0x2e /* . */) {
    let k = i + 1;
    while (k < i + 7 && isDigit(s.charCodeAt(k))) k++;
    if (k === i + 1) return undefined;
    i = k;
  }
  if (s.charCodeAt(i) !== 0x20) return undefined;
  if (day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) {
    bsdEnd = -1;
    return undefined;
  }
  bsdEnd = i + 1;
  const receivedAt = options.receivedAt ?? Date.now();
  const offset = (options.utcOffsetMinutes ?? 0) * 60_000;
  const year = utcYear(receivedAt);
  const time = Date.UTC(year, month, day, h, min, sec) - offset;
  return time > receivedAt + MONTH_MS ? Date.UTC(year - 1, month, day, h, min, sec) - offset : time;
}

// The year of the last `receivedAt` seen: a file's lines share one, and a Date per line is garbage.
let yearOf = { at: Number.NaN, year: 1970 };
function utcYear(at: number): number {
  if (at !== yearOf.at) yearOf = { at, year: new Date(at).getUTCFullYear() };
  return yearOf.year;
}

function isoTime(m: RegExpExecArray): number | undefined {
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const min = Number(m[5]);
  const s = Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || min > 59 || s > 60) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000);
  const zone = m[8] as string;
  const offset =
    zone === 'Z'
      ? 0
      : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return Date.UTC(y, mo - 1, d, h, min, s, ms) - offset * 60_000;
}

const PROCID = /^\d{1,10}$/;

/** RFC 5424 §6: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`. */
function parse5424(header: string, facility: number, severity: number): SyslogRecord | undefined {
  const words: string[] = [];
  let i = 0;
  for (let n = 0; n < 5; n++) {
    const end = header.indexOf(' ', i);
    if (end < 0) return undefined;
    words.push(header.slice(i, end));
    i = end + 1;
  }
  const [timestamp, hostname, app, procid, msgid] = words as [string, string, string, string, string];
  let time: number | undefined;
  if (timestamp !== '-') {
    const iso = ISO_TIME.exec(`${timestamp} `);
    if (!iso) return undefined;
    time = isoTime(iso);
    if (time === undefined) return undefined;
  }
  const nil = (v: string) => (v === '-' ? undefined : v);
  const record: SyslogRecord = {
    time,
    host: nil(hostname),
    program: nil(app),
    pid: PROCID.test(procid) ? Number(procid) : undefined,
    message: '',
    facility,
    severity,
  };
  if (msgid !== '-') record.msgid = msgid;
  if (header[i] === '-') {
    i++;
  } else if (header[i] === '[') {
    const sd: Record<string, Record<string, string>> = {};
    const end = readStructuredData(header, i, sd);
    if (end < 0) return undefined;
    record.structuredData = sd;
    i = end;
  } else {
    return undefined;
  }
  if (i < header.length) {
    if (header[i] !== ' ') return undefined;
    i++;
  }
  let message = header.slice(i);
  // RFC 5424 §6.4: a UTF-8 message may start with a byte order mark.
  if (message.startsWith('\uFEFF')) message = message.slice(1);
  record.message = message;
  return record;
}

const SD_NAME = /^[^\s=\]"]{1,32}/;

/** Reads `[id k="v" …][id2 …]` from `i`; returns the index after it, or -1 when malformed (RFC 5424 §6.3). */
function readStructuredData(s: string, start: number, out: Record<string, Record<string, string>>): number {
  let i = start;
  while (s[i] === '[') {
    const id = SD_NAME.exec(s.slice(i + 1, i + 34));
    if (!id) return -1;
    const params: Record<string, string> = {};
    // `__proto__` would replace the object's prototype: such an element or parameter is read and dropped.
    if (id[0] !== '__proto__') out[id[0]] = params;
    i += 1 + id[0].length;
    while (s[i] === ' ') {
      const name = SD_NAME.exec(s.slice(i + 1, i + 34));
      if (!name || s[i + 1 + name[0].length] !== '=' || s[i + 2 + name[0].length] !== '"') return -1;
      i += 3 + name[0].length;
      let value = '';
      // §6.3.3: inside PARAM-VALUE, `"`, `\` and `]` are escaped with a backslash.
      for (;;) {
        const c = s[i];
        if (c === undefined) return -1;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (name[0] !== '__proto__') params[name[0]] = value;
    }
    if (s[i] !== ']') return -1;
    i++;
  }
  return i;
}
