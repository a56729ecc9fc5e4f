/**
 * Syslog framing: the header that daemons' lines carry before their own message, as it arrives on
 * the wire (RFC 3164 and RFC 5424, with `<PRI>`) and as rsyslog writes it to files (the same
 * headers without `<PRI>`, in the traditional `Mmm dd hh:mm:ss` or the ISO 8601 form).
 */
import { digitsValue, intern, isDigit, isWordChar } from './scan.js';

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

// RFC 5424 §6.2.3 TIMESTAMP (RFC 3339), also rsyslog's high-precision file format.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}) /;
const MONTH_MS = 31 * 24 * 3600 * 1000;

/**
 * What `readSyslogHeader` read of the last line: one object, reused, for the parsers that write
 * the header's fields straight into an event's (a record per line is garbage to collect).
 */
export interface SyslogHeader {
  time: number | undefined;
  host: string | undefined;
  program: string | undefined;
  pid: number | undefined;
  facility: number | undefined;
  severity: number | undefined;
  /** Where the message starts in the line. */
  messageStart: number;
  /** The whole record of an RFC 5424 line (which the fields above do not describe). */
  rfc5424: SyslogRecord | undefined;
}

const header: SyslogHeader = {
  time: undefined,
  host: undefined,
  program: undefined,
  pid: undefined,
  facility: undefined,
  severity: undefined,
  messageStart: 0,
  rfc5424: undefined,
};

/**
 * The header of a syslog line and its message, or undefined when the line has no syslog header.
 *
 * @example
 *   parseSyslog('<38>Dec  3 05:20:21 mx1 sshd[812]: Invalid user admin from 203.0.113.9 port 4022')
 *   // { time: …, host: 'mx1', program: 'sshd', pid: 812, message: 'Invalid user admin …',
 *   //   facility: 4, severity: 6 }
 */
export function parseSyslog(line: string, options: SyslogOptions = {}): SyslogRecord | undefined {
  const h = readSyslogHeader(line, options.receivedAt ?? Date.now(), options.utcOffsetMinutes ?? 0);
  if (h === undefined) return undefined;
  if (h.rfc5424 !== undefined) return h.rfc5424;
  return {
    time: h.time,
    host: h.host,
    program: h.program,
    pid: h.pid,
    message: line.slice(h.messageStart),
    facility: h.facility,
    severity: h.severity,
  };
}

/**
 * `parseSyslog` without its record: the header read into one shared object (valid until the next
 * call), or undefined when the line has no syslog header.
 */
export function readSyslogHeader(
  line: string,
  receivedAt: number,
  utcOffsetMinutes: number,
): SyslogHeader | undefined {
  // The offline scan reads a line's head, then the whole line when a rule may match it: the same
  // header twice in a row, read once (an RFC 3164 header: its fields are numbers and strings).
  const last = lastRead;
  if (line === last.line && receivedAt === last.receivedAt && utcOffsetMinutes === last.utcOffsetMinutes)
    return last.header;
  const read = readHeader(line, receivedAt, utcOffsetMinutes);
  const again = read === undefined || read.rfc5424 === undefined;
  last.line = again ? line : undefined;
  last.receivedAt = receivedAt;
  last.utcOffsetMinutes = utcOffsetMinutes;
  last.header = read;
  return read;
}

// The last line `readSyslogHeader` read, when reading it again gives the same header.
const lastRead: {
  line: string | undefined;
  receivedAt: number;
  utcOffsetMinutes: number;
  header: SyslogHeader | undefined;
} = { line: undefined, receivedAt: 0, utcOffsetMinutes: 0, header: undefined };

function readHeader(line: string, receivedAt: number, utcOffsetMinutes: number): SyslogHeader | undefined {
  const h = header;
  h.time = undefined;
  h.host = undefined;
  h.program = undefined;
  h.pid = undefined;
  h.facility = undefined;
  h.severity = undefined;
  h.rfc5424 = undefined;
  let i = 0;
  const priEnd = line.charCodeAt(0) === 0x3c /* < */ ? priorityEnd(line) : -1;
  if (priEnd > 0) {
    const value = digitsValue(line, 1, priEnd - 1);
    // RFC 5424 §6.2.1: PRI is facility × 8 + severity, facilities 0 to 23.
    if (value > 191) return undefined;
    h.facility = value >> 3;
    h.severity = value & 7;
    i = priEnd;
    if (line.charCodeAt(i) === 0x31 /* 1 */ && line.charCodeAt(i + 1) === 0x20) {
      const record = parse5424(line.slice(i + 2), h.facility, h.severity);
      if (record === undefined) return undefined;
      // The header tells the same of either form: its time, host and program pick the parser.
      h.rfc5424 = record;
      h.time = record.time;
      h.host = record.host;
      h.program = record.program;
      h.pid = record.pid;
      return h;
    }
  }
  const time = bsdTime(line, i, receivedAt, utcOffsetMinutes);
  if (time !== undefined) {
    h.time = time;
    i = bsdEnd;
  } else if (bsdEnd < 0) {
    return undefined;
  } else {
    const iso = isDigit(line.charCodeAt(i)) ? ISO_TIME.exec(i === 0 ? line : line.slice(i)) : null;
    if (iso) {
      h.time = isoTime(iso);
      if (h.time === undefined) return undefined;
      i += iso[0].length;
    } else if (priEnd < 0) {
      return undefined;
    } else {
      // RFC 3164 §4.3.2: a PRI without a valid TIMESTAMP is still a syslog message, whose time is
      // the receiver's; what follows is the message, possibly with a tag.
      h.messageStart = readTag(line, i, h);
      return h;
    }
  }
  // The host is the next word, unless that word is already the tag (Dovecot's own log files and
  // some RFC 3164 senders leave the host out). A file's lines mostly share their host.
  const known = lastHost;
  if (known !== '' && line.startsWith(known, i) && line.charCodeAt(i + known.length) === 0x20) {
    h.host = known;
    i += known.length + 1;
  } else {
    const hostEnd = hostWordEnd(line, i);
    if (hostEnd > i) {
      h.host = lastHost = intern(line, i, hostEnd);
      i = hostEnd < line.length ? hostEnd + 1 : hostEnd;
    }
  }
  h.messageStart = readTag(line, i, h);
  return h;
}

// The host of the last line that had one followed by a space (a host word, so checked already).
let lastHost = '';

/** The index after `<digits>` (one to three digits, as `PRI` matches), or -1. */
function priorityEnd(line: string): number {
  let i = 1;
  while (i < 5 && isDigit(line.charCodeAt(i))) i++;
  return i > 1 && i < 5 && line.charCodeAt(i) === 0x3e /* > */ ? i + 1 : -1;
}

/**
 * Where the host word that starts at `i` ends, or `i` when that word is no host: the word up to
 * the next space, of `[\w.:%-]{1,255}` (RFC 3164 §4.1.2 HOSTNAME, with IPv6 and zone ids), not
 * ending in `:` (then it is the tag).
 */
export function hostWordEnd(line: string, i: number): number {
  const n = line.length;
  let j = i;
  for (; j < n; j++) {
    const c = line.charCodeAt(j);
    if (c === 0x20) break;
    if (!isWordChar(c) && c !== 0x2e && c !== 0x3a && c !== 0x25 && c !== 0x2d) return i;
  }
  if (j - i > 255 || line.charCodeAt(j - 1) === 0x3a /* : */) return i;
  return j;
}

/** `[\w./@-]`: the characters of an RFC 3164 §4.1.3 TAG as daemons write it in practice. */
function isTagChar(c: number): boolean {
  return isWordChar(c) || c === 0x2e || c === 0x2f || c === 0x40 || c === 0x2d;
}

/**
 * Reads the tag at `i` (RFC 3164 §4.1.3: `[\w./@-]{1,64}`, an optional `[pid]` of up to ten
 * digits, a colon and an optional space) into `h.program` and `h.pid`; returns where the message
 * starts (`i` when there is no tag).
 */
export function readTag(
  line: string,
  i: number,
  h: { program: string | undefined; pid: number | undefined },
): number {
  // The usual `program[pid]: `: the program found among the tags of earlier lines by where its `[`
  // is, which costs less than reading it character by character.
  const bracket = line.indexOf('[', i);
  const length = bracket - i;
  if (length > 0 && length <= 64) {
    const slot = tagSlot(line, i, length);
    const known = knownTags[slot] as string;
    if (known.length === length && line.startsWith(known, i)) {
      const end = pidEnd(line, bracket);
      if (end > 0) {
        h.program = known;
        h.pid = digitsValue(line, bracket + 1, end - 2);
        return line.charCodeAt(end) === 0x20 ? end + 1 : end;
      }
    }
  }
  let k = i;
  while (isTagChar(line.charCodeAt(k))) k++;
  // More than 64 tag characters: the 65th is then neither `[` nor `:`, so there is no tag.
  if (k === i || k - i > 64) return i;
  let end: number;
  let pid: number | undefined;
  const c = line.charCodeAt(k);
  if (c === 0x3a /* : */) {
    end = k + 1;
  } else if (c === 0x5b /* [ */) {
    end = pidEnd(line, k);
    if (end < 0) return i;
    pid = digitsValue(line, k + 1, end - 2);
  } else {
    return i;
  }
  h.program = intern(line, i, k);
  h.pid = pid;
  if (c === 0x5b) knownTags[tagSlot(line, i, k - i)] = h.program;
  return line.charCodeAt(end) === 0x20 ? end + 1 : end;
}

/** Where `[pid]:` (one to ten digits) that starts at `bracket` ends, or -1. */
function pidEnd(line: string, bracket: number): number {
  let d = bracket + 1;
  while (isDigit(line.charCodeAt(d))) d++;
  if (
    d === bracket + 1 ||
    d - bracket - 1 > 10 ||
    line.charCodeAt(d) !== 0x5d ||
    line.charCodeAt(d + 1) !== 0x3a
  )
    return -1;
  return d + 2;
}

// Tags met before with a pid, by length and last characters: a tag found here is made of tag
// characters only, so that the `[` after it ends it as `TAG` would.
const knownTags: string[] = new Array<string>(64).fill('');
function tagSlot(line: string, i: number, length: number): number {
  const last = i + length - 1;
  return (
    (length * 7 +
      line.charCodeAt(last) * 3 +
      line.charCodeAt(last - 3) +
      line.charCodeAt(i + (length >> 1))) &
    63
  );
}

/** Where the timestamp `bsdTime` read last ends; -1 when it was one but not a valid time. */
let bsdEnd = 0;

const twoDigits = (s: string, i: number) =>
  isDigit(s.charCodeAt(i)) && isDigit(s.charCodeAt(i + 1))
    ? (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30
    : -1;

// `Jan` … `Dec` as three character codes in one number.
const MONTH_CODES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map(
  (m) => (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2),
);

/** The month (0 to 11) whose English abbreviation starts `s` at `i`, or -1. */
function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  const c = s.charCodeAt(i + 2);
  if (a > 0x7f || b > 0x7f || c > 0x7f) return -1;
  const code = (a << 16) | (b << 8) | c;
  // A file's lines share their month.
  if (code !== lastMonth.code) lastMonth = { code, month: MONTH_CODES.indexOf(code) };
  return lastMonth.month;
}
let lastMonth = { code: -1, month: -1 };

/**
 * RFC 3164 §4.1.2's `Mmm dd hh:mm:ss ` at `start` (the day padded with a space or a zero; rsyslog
 * may add fractions of a second), read by hand: it starts almost every line, and a regular
 * expression's match array per line is garbage to collect. Sets `bsdEnd`; undefined when `s` does
 * not have one there (`bsdEnd` 0) or when it names an impossible time (`bsdEnd` -1).
 */
function bsdTime(s: string, start: number, receivedAt: number, utcOffsetMinutes: number): number | undefined {
  bsdEnd = 0;
  const month = s.charCodeAt(start + 3) === 0x20 ? monthAt(s, start) : -1;
  if (month < 0) return undefined;
  let i = start + 4;
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
  const offset = utcOffsetMinutes * 60_000;
  const year = utcYear(receivedAt);
  const time = utcTime(year, month, day, h, min, sec) - offset;
  return time > receivedAt + MONTH_MS ? utcTime(year - 1, month, day, h, min, sec) - offset : time;
}

// A day starting this far from ECMA-262's limit of ±8.64e15 ms stays inside it all day long.
const SAFE_DAY_START = 8.64e15 - 2 * 86_400_000;

/**
 * `Date.UTC(year, month, day, h, min, sec)`: the start of the day (remembered) plus the time of
 * day, which is how ECMA-262 MakeDate computes it, exactly in integers. Near the limits of time,
 * where TimeClip may apply, it is `Date.UTC` itself.
 */
function utcTime(year: number, month: number, day: number, h: number, min: number, sec: number): number {
  const start = dayStart(year, month, day);
  if (!(Math.abs(start) <= SAFE_DAY_START)) return Date.UTC(year, month, day, h, min, sec);
  return start + ((h * 60 + min) * 60 + sec) * 1000;
}

// The last days asked for, and their starts: a file's lines share a day or two.
const days = { key: Number.NaN, start: 0, otherKey: Number.NaN, otherStart: 0 };
/** `Date.UTC(year, month, day)`, remembered for the last two days asked for. */
function dayStart(year: number, month: number, day: number): number {
  const key = (year * 12 + month) * 32 + day;
  if (key === days.key) return days.start;
  if (key === days.otherKey) {
    days.otherKey = days.key;
    days.key = key;
    const start = days.otherStart;
    days.otherStart = days.start;
    days.start = start;
    return start;
  }
  days.otherKey = days.key;
  days.otherStart = days.start;
  days.key = key;
  days.start = Date.UTC(year, month, day);
  return days.start;
}

// The UTC year of the instants from `from` to `to` (excluded): a file's lines share one, and a
// Date per line is garbage.
const years = { from: Number.NaN, to: Number.NaN, year: 1970 };
function utcYear(at: number): number {
  if (at >= years.from && at < years.to) return years.year;
  const year = new Date(at).getUTCFullYear();
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  // Years 0 to 99 are not what Date.UTC reads them as: those instants are not remembered.
  if (at >= from && at < to) {
    years.from = from;
    years.to = to;
    years.year = year;
  }
  return year;
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
