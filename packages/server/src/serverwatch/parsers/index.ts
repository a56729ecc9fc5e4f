/**
 * Log lines into Sigma-normalised events: one entry point, `parseLine`, for every format the
 * server watch reads, and `detectFormat` for `--format auto`. A line no parser understands still
 * becomes an event (`parsed: false`, no fields, the line kept whole in `raw`, the format's log
 * source) so that it is counted and keyword rules still search it; no line makes these throw.
 *
 * | format     | what                                             | logsource                                  |
 * |------------|--------------------------------------------------|--------------------------------------------|
 * | `syslog`   | any syslog line (RFC 3164, RFC 5424, rsyslog files); Postfix, Dovecot and sshd lines are read as they are in their own formats | product linux, service from the program (`syslog` when unknown) |
 * | `postfix`  | Postfix (smtpd, submission, SASL, queue, rejects) | product linux, service postfix            |
 * | `dovecot`  | Dovecot (logins, failures, logouts with bytes)   | product linux, service dovecot             |
 * | `sshd`     | OpenSSH sshd                                     | product linux, service sshd                |
 * | `iis`      | W3C extended logs (IIS, Exchange)                | category webserver, product windows, service iis |
 * | `combined` | nginx/Apache combined or common log format        | category webserver                         |
 * | `audit`    | Rempart's audit log as JSON lines                | product rempart, service audit             |
 * | `windows`  | Windows events as JSON (evtx_dump, Winlogbeat)   | product windows, see windows.ts            |
 * | `jsonl`    | one JSON object per line, fields as they are     | the line's own `logsource` object, if any  |
 *
 * The syslog-based formats pick the parser from the line's program, so a `mail.log` holding both
 * Postfix and Dovecot lines reads whole with either format. Field names: fields.ts (mail and
 * authentication), w3c.ts and combined.ts (web), windows.ts, json.ts.
 */
import { watchLogFormats } from '@rempart/core';
import { z } from 'zod';
import type { LogSource, WatchEvent } from '../event.js';
import { MAX_LITERAL } from '../sigma/literals.js';
import { parseCombinedLine } from './combined.js';
import { DOVECOT_WRITES, dovecotWrites, parseDovecotMessage } from './dovecot.js';
import type { Fields } from './fields.js';
import { AUDIT_LOGSOURCE, auditFields, jsonObject, jsonTime, ownLogsource } from './json.js';
import { parsePostfixMessage, postfixWrites } from './postfix.js';
import { parseSshdMessage, SSHD_WRITES } from './sshd.js';
import { type SyslogRecord, parseSyslog, readSyslogHeader } from './syslog.js';
import { type W3cState, newW3cState, parseW3cLine, readW3cEntryHead } from './w3c.js';
import { windowsEvent } from './windows.js';

export { parseSyslog, type SyslogRecord, type SyslogOptions } from './syslog.js';
export { BROADER_CATEGORIES } from './windows.js';

export const logFormats = watchLogFormats;
/** A format name as the CLI's `--format` and the configuration take it (`auto` is resolved before). */
export const LogFormat = z.enum(logFormats);
export type LogFormat = z.infer<typeof LogFormat>;

/**
 * What parsing remembers about one source (a file, a syslog peer): keep one per source and pass it
 * with each of its lines, in order.
 */
export interface ParseContext {
  /** Copied into each event's `source`. */
  source?: string;
  /** When the line arrived (Unix ms): the event's time when the line has none; the year of RFC 3164 times. */
  receivedAt?: number;
  /** Minutes east of UTC of the clock that wrote zone-less syslog times (RFC 3164): 0 by default. */
  utcOffsetMinutes?: number;
  /** The columns of this source's last W3C `#Fields:` directive (kept here by `parseLine`). */
  w3c?: W3cState;
  /**
   * The characters on each side of the `?` that joins a W3C entry's stem and query into `cs-uri`
   * which `readHead` gives (MAX_LITERAL - 1 by default): the longest literal of the rules that
   * holds `?`, less one, is enough (scan-logs.ts, `jointSeam`), and with none, the `?` alone.
   */
  jointSeam?: number;
}

const LINUX = 'linux';
// Events of one kind share one log source object, frozen: nobody may change it for the others.
const WEBSERVER: LogSource = Object.freeze({ category: 'webserver' });
const IIS: LogSource = Object.freeze({ category: 'webserver', product: 'windows', service: 'iis' });
/** The log source of every W3C (IIS) entry. */
export const W3C_LOGSOURCE = IIS;
const WINDOWS: LogSource = Object.freeze({ product: 'windows' });
const NONE: LogSource = Object.freeze({});
const linuxSources = new Map<string, LogSource>();
function linux(service: string): LogSource {
  let source = linuxSources.get(service);
  if (source === undefined) {
    source = Object.freeze({ product: LINUX, service });
    linuxSources.set(service, source);
  }
  return source;
}

/** The log source of a line of `format` that could not be parsed, so that keyword rules still reach it. */
function fallbackLogsource(format: LogFormat): LogSource {
  switch (format) {
    case 'syslog':
    case 'postfix':
    case 'dovecot':
    case 'sshd':
      return linux(format);
    case 'iis':
      return IIS;
    case 'combined':
      return WEBSERVER;
    case 'audit':
      return AUDIT_LOGSOURCE;
    case 'windows':
      return WINDOWS;
    case 'jsonl':
      return NONE;
  }
}

// Dovecot's own log file names the process where syslog would name `dovecot`.
const DOVECOT_PROCESS =
  /^(?:[a-z0-9]+-login|auth(?:-worker)?|imap|pop3|lmtp|submission|managesieve|master|anvil|indexer(?:-worker)?|dict|config|log|stats)$/;
const DOVECOT_MAIL_PROCESS = /^[a-z0-9]+\([^)]*\)/;
/** Sigma's Linux services (taxonomy appendix, Linux folder) by the program that logs them. */
const LINUX_SERVICES = new Map([
  ['cron', 'cron'],
  ['CRON', 'cron'],
  ['crond', 'cron'],
  ['sudo', 'sudo'],
  ['vsftpd', 'vsftpd'],
  ['clamd', 'clamav'],
  ['freshclam', 'clamav'],
  ['guacd', 'guacamole'],
  ['auditd', 'auditd'],
]);

/**
 * The event of one line of `format` (never throws: a line no parser understands gives
 * `parsed: false`).
 *
 * @example
 *   const context: ParseContext = { source: '/var/log/mail.log', receivedAt: Date.now() };
 *   parseLine('Dec  3 05:20:21 mx1 dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.10', 'dovecot', context)
 *   // { logsource: { product: 'linux', service: 'dovecot' }, parsed: true,
 *   //   fields: { action: 'login', outcome: 'success', user: 'alice', src_ip: '198.51.100.7', … }, … }
 */
export function parseLine(line: string, format: LogFormat, context: ParseContext = {}): WatchEvent {
  const receivedAt = context.receivedAt ?? Date.now();
  const text = line.charCodeAt(line.length - 1) === 0x0d /* \r */ ? line.slice(0, -1) : line;
  let fields: Fields | undefined;
  let time: number | undefined;
  let logsource = NONE;
  let composed: readonly string[] | undefined;
  try {
    if (format === 'postfix' || format === 'dovecot' || format === 'syslog' || format === 'sshd') {
      // The mail formats, which hold most lines, skip parseAs's result object.
      fields = syslogFamily(text, context.utcOffsetMinutes ?? 0, receivedAt);
      time = family.time;
      logsource = family.logsource;
      composed = family.composed;
    } else if (format === 'iis') {
      // IIS logs, the next most common, skip it too.
      const w3c = parseW3cLine(text, (context.w3c ??= newW3cState()));
      if (w3c?.kind === 'entry') {
        fields = w3c.fields;
        time = w3c.time;
        logsource = IIS;
        // Without a query, `cs-uri` is the stem as the line holds it.
        composed = typeof fields['cs-uri-query'] === 'string' ? W3C_COMPOSED : NOTHING_COMPOSED;
      } else if (w3c !== undefined) {
        // Directives describe the file, not a request: an event with the directive alone.
        fields = { 'w3c-directive': w3c.name, 'w3c-value': w3c.value };
        logsource = IIS;
        composed = NOTHING_COMPOSED;
      }
    } else {
      const parsed = parseAs(text, format, context, receivedAt);
      if (parsed) {
        fields = parsed.fields;
        time = parsed.time;
        logsource = parsed.logsource;
      }
    }
  } catch {
    // The parsers are written not to throw; this only keeps a line that finds a bug from taking
    // the stream down with it: it is kept raw like any other line no parser understood.
    fields = undefined;
  }
  const source = context.source;
  if (fields === undefined) {
    const event: WatchEvent = {
      time: receivedAt,
      logsource: fallbackLogsource(format),
      fields: {},
      raw: line,
      parsed: false,
    };
    if (source !== undefined) event.source = source;
    return event;
  }
  // Both shapes written whole, with `source` last as before: no property added afterwards.
  return source === undefined
    ? { time: time ?? receivedAt, logsource, fields, raw: line, parsed: true, composed }
    : { time: time ?? receivedAt, logsource, fields, raw: line, parsed: true, composed, source };
}

/**
 * What the offline scan reads of a line before it decides whether to parse the line whole: what
 * `parseLine` would give as the event's time, log source and `parsed`, and texts that hold, with
 * the line, every literal of at most MAX_LITERAL characters (sigma/literals.ts) that the values
 * the parser composes could hold. The rules' prefilter run over the line and these texts finds
 * every rule that could match the event, and maybe more: when it finds none, the line needs no
 * fields at all (scan-logs.ts).
 */
export interface LineHead {
  time: number;
  logsource: LogSource;
  parsed: boolean;
  /**
   * Every value the syslog family's parsers may write themselves into the event's composed fields
   * (a superset, told without reading the message's fields); for a W3C entry, `cs-uri` around the
   * `?` that joins the stem and the query.
   */
  composedTexts: readonly string[];
}

const NOTHING_WRITTEN: readonly string[] = Object.freeze([]);
// One head, reused: valid until the next call.
const head: LineHead = { time: 0, logsource: NONE, parsed: false, composedTexts: NOTHING_WRITTEN };

/**
 * The head of a line of `format`, or undefined when it cannot be told without parsing the line
 * (formats other than the syslog family and W3C, RFC 5424 lines with their structured data, W3C
 * directives). The object is shared: valid until the next call. index.test.ts checks it against
 * `parseLine`.
 */
export function readHead(line: string, format: LogFormat, context: ParseContext = {}): LineHead | undefined {
  const receivedAt = context.receivedAt ?? Date.now();
  const text = line.charCodeAt(line.length - 1) === 0x0d /* \r */ ? line.slice(0, -1) : line;
  if (format === 'iis') {
    const seam = context.jointSeam ?? MAX_LITERAL - 1;
    const entry = readW3cEntryHead(text, (context.w3c ??= newW3cState()), seam);
    if (entry === undefined) return undefined;
    head.time = entry.time ?? receivedAt;
    head.logsource = IIS;
    head.parsed = true;
    // Any literal in `cs-uri` is in the stem or the query (parts of the line) or holds the `?`
    // between them, within MAX_LITERAL - 1 characters of it on each side (or `seam`, enough for
    // the rules at hand).
    head.composedTexts =
      entry.joint === undefined ? NOTHING_WRITTEN : seam === 0 ? QUERY_MARK : [entry.joint];
    return head;
  }
  if (format !== 'postfix' && format !== 'dovecot' && format !== 'syslog' && format !== 'sshd')
    return undefined;
  const header = readSyslogHeader(text, receivedAt, context.utcOffsetMinutes ?? 0);
  if (header === undefined) {
    head.time = receivedAt;
    head.logsource = fallbackLogsource(format);
    head.parsed = false;
    head.composedTexts = NOTHING_WRITTEN;
    return head;
  }
  if (header.rfc5424 !== undefined) return undefined;
  head.time = header.time ?? receivedAt;
  head.parsed = true;
  const program = header.program;
  if (program === undefined) {
    const dovecot = DOVECOT_MAIL_PROCESS.test(text.slice(header.messageStart));
    head.logsource = linux(dovecot ? 'dovecot' : 'syslog');
    head.composedTexts = dovecot ? dovecotWrites(text, header.messageStart) : NOTHING_WRITTEN;
    return head;
  }
  switch (readerOf(program)) {
    case Reader.Postfix:
      head.composedTexts = postfixWrites(program, text, header.messageStart);
      break;
    case Reader.Dovecot:
      head.composedTexts = dovecotWrites(text, header.messageStart);
      break;
    case Reader.DovecotProcess:
      head.composedTexts = DOVECOT_WRITES;
      break;
    case Reader.Sshd:
      head.composedTexts = SSHD_WRITES;
      break;
    case Reader.None:
      head.composedTexts = NOTHING_WRITTEN;
      break;
  }
  head.logsource = readerSource.get(program) as LogSource;
  return head;
}

// The fields each parser may write itself (an event's `composed`): what it names (`action`,
// `outcome`), the protocol a Postfix daemon speaks, sshd's `method: 'pam'`, RFC 5424 structured
// data with its escapes undone, a W3C entry's `cs-uri` (the stem and the query joined by a `?`).
// Every other field of theirs is a number, a boolean or a slice of the line (index.test.ts checks
// it over lines of every kind). The prefilter reads these for every line: the fewer, the better.
const POSTFIX_COMPOSED: readonly string[] = Object.freeze(['action', 'outcome', 'protocol']);
const DOVECOT_COMPOSED: readonly string[] = Object.freeze(['action', 'outcome']);
const SSHD_COMPOSED: readonly string[] = Object.freeze(['action', 'outcome', 'method']);
const RFC5424_COMPOSED: readonly string[] = Object.freeze([
  'structured_data',
  ...new Set([...POSTFIX_COMPOSED, ...DOVECOT_COMPOSED, ...SSHD_COMPOSED]),
]);
const W3C_COMPOSED: readonly string[] = Object.freeze(['cs-uri']);
/** A W3C entry's joint with no character on either side. */
const QUERY_MARK: readonly string[] = Object.freeze(['?']);
const NOTHING_COMPOSED: readonly string[] = Object.freeze([]);

/** The formats `parseLine` reads without `parseAs`. */
type ReadDirectly = 'syslog' | 'postfix' | 'dovecot' | 'sshd' | 'iis';

function parseAs(
  line: string,
  format: Exclude<LogFormat, ReadDirectly>,
  context: ParseContext,
  receivedAt: number,
): { time: number | undefined; fields: Fields; logsource: LogSource } | undefined {
  switch (format) {
    case 'combined': {
      const direct = parseCombinedLine(line);
      if (direct) return { ...direct, logsource: WEBSERVER };
      // nginx and Apache can also log to syslog: the same line after a syslog header.
      const record = parseSyslog(line, { receivedAt, utcOffsetMinutes: context.utcOffsetMinutes ?? 0 });
      const inner = record ? parseCombinedLine(record.message) : undefined;
      if (!record || !inner) return undefined;
      return { ...inner, fields: { ...syslogFields(record), ...inner.fields }, logsource: WEBSERVER };
    }
    case 'audit': {
      const object = jsonObject(line);
      const audit = object ? auditFields(object) : undefined;
      return audit ? { ...audit, logsource: AUDIT_LOGSOURCE } : undefined;
    }
    case 'windows': {
      const object = jsonObject(line);
      return object ? windowsEvent(object) : undefined;
    }
    case 'jsonl': {
      const object = jsonObject(line);
      return object ? { time: jsonTime(object), fields: object, logsource: ownLogsource(object) } : undefined;
    }
  }
}

function syslogFields(record: SyslogRecord): Fields {
  const fields: Fields = {};
  if (record.host !== undefined) fields.host = record.host;
  if (record.program !== undefined) fields.program = record.program;
  if (record.pid !== undefined) fields.pid = record.pid;
  if (record.facility !== undefined) fields.facility = record.facility;
  if (record.severity !== undefined) fields.severity = record.severity;
  if (record.msgid !== undefined) fields.msgid = record.msgid;
  if (record.structuredData !== undefined) fields.structured_data = record.structuredData;
  fields.message = record.message;
  return fields;
}

/**
 * The fields of a syslog line's usual header, as a plain object (its prototype is
 * Object.prototype, so nothing tells it from a literal) made by a constructor: the engine then
 * leaves room inside the object for the fields the mail parsers add, instead of growing a separate
 * store of properties several times per line.
 */
const HeaderFields = function HeaderFields(
  this: Fields,
  host: string,
  program: string,
  pid: number,
  message: string,
) {
  this.host = host;
  this.program = program;
  this.pid = pid;
  this.message = message;
} as unknown as new (host: string, program: string, pid: number, message: string) => Fields;
HeaderFields.prototype = Object.prototype;

// The time, log source and composed fields of the line `syslogFamily` read last (one object, not
// one per line).
const family: { time: number | undefined; logsource: LogSource; composed: readonly string[] } = {
  time: undefined,
  logsource: NONE,
  composed: NOTHING_COMPOSED,
};

/** The fields of a line of the syslog family, its time, log source and composed fields left in `family`. */
function syslogFamily(line: string, utcOffsetMinutes: number, receivedAt: number): Fields | undefined {
  const header = readSyslogHeader(line, receivedAt, utcOffsetMinutes);
  if (header === undefined) return undefined;
  let fields: Fields;
  let message: string;
  const program = header.program;
  if (header.rfc5424 !== undefined) {
    fields = syslogFields(header.rfc5424);
    message = header.rfc5424.message;
  } else {
    message = line.slice(header.messageStart);
    const host = header.host;
    const pid = header.pid;
    // The fields in syslogFields's order; the usual shape of a file's line written whole.
    if (host !== undefined && program !== undefined && pid !== undefined && header.facility === undefined) {
      fields = new HeaderFields(host, program, pid, message);
    } else {
      fields = {};
      if (host !== undefined) fields.host = host;
      if (program !== undefined) fields.program = program;
      if (pid !== undefined) fields.pid = pid;
      if (header.facility !== undefined) fields.facility = header.facility;
      if (header.severity !== undefined) fields.severity = header.severity;
      fields.message = message;
    }
  }
  family.time = header.time;
  let composed = NOTHING_COMPOSED;
  if (program === undefined) {
    if (DOVECOT_MAIL_PROCESS.test(message)) {
      parseDovecotMessage(message, fields);
      family.logsource = linux('dovecot');
      composed = DOVECOT_COMPOSED;
    } else {
      family.logsource = linux('syslog');
    }
  } else {
    switch (readerOf(program)) {
      case Reader.Postfix:
        parsePostfixMessage(program, message, fields);
        composed = POSTFIX_COMPOSED;
        break;
      case Reader.Dovecot:
        parseDovecotMessage(message, fields);
        composed = DOVECOT_COMPOSED;
        break;
      case Reader.Sshd:
        parseSshdMessage(message, fields);
        composed = SSHD_COMPOSED;
        break;
      case Reader.DovecotProcess:
        parseDovecotMessage(`${program}: ${message}`, fields);
        composed = DOVECOT_COMPOSED;
        break;
      case Reader.None:
        break;
    }
    family.logsource = readerSource.get(program) as LogSource;
  }
  family.composed = header.rfc5424 === undefined ? composed : RFC5424_COMPOSED;
  return fields;
}

const enum Reader {
  None,
  Postfix,
  Dovecot,
  Sshd,
  DovecotProcess,
}

// Which parser reads a program's messages, and their log source: one answer per program, kept.
const readers = new Map<string, Reader>();
const readerSource = new Map<string, LogSource>();
function readerOf(program: string): Reader {
  const known = readers.get(program);
  if (known !== undefined) return known;
  let reader = Reader.None;
  let service: string;
  if (program.startsWith('postfix')) {
    reader = Reader.Postfix;
    service = 'postfix';
  } else if (program === 'dovecot') {
    reader = Reader.Dovecot;
    service = 'dovecot';
  } else if (program === 'sshd' || program === 'sshd-session' || program === 'sshd-auth') {
    reader = Reader.Sshd;
    service = 'sshd';
  } else if (DOVECOT_PROCESS.test(program)) {
    reader = Reader.DovecotProcess;
    service = 'dovecot';
  } else {
    service = LINUX_SERVICES.get(program) ?? 'syslog';
  }
  // Programs are few; a hostile source's many names are answered without being kept.
  if (readers.size >= 1024) {
    readers.clear();
    readerSource.clear();
  }
  readers.set(program, reader);
  readerSource.set(program, linux(service));
  return reader;
}

const W3C_DIRECTIVE = /^#(Software|Version|Fields|Date|Start-Date|End-Date|Remark):/;

/**
 * The format of a log, from a sample of its first lines: the format that reads most of them.
 * Lines no format reads do not vote; with no vote at all the answer is `syslog`, the broadest.
 *
 * @example
 *   detectFormat(['#Software: Microsoft Internet Information Services 10.0', '#Fields: date time …']) // 'iis'
 */
export function detectFormat(sampleLines: readonly string[]): LogFormat {
  const votes = new Map<LogFormat, number>();
  const vote = (format: LogFormat, weight = 1) => votes.set(format, (votes.get(format) ?? 0) + weight);
  const w3c = newW3cState();
  const receivedAt = Date.now();
  for (const raw of sampleLines.slice(0, 200)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const object = jsonObject(line);
    if (object) {
      if (windowsEvent(object)) vote('windows');
      else if (auditFields(object)) vote('audit');
      else vote('jsonl');
      continue;
    }
    if (line.startsWith('#')) {
      // W3C directives (W3C WD-logfile §"Directives") say outright what the file is.
      if (W3C_DIRECTIVE.test(line)) {
        parseW3cLine(line, w3c);
        vote('iis', 5);
      }
      continue;
    }
    if (parseCombinedLine(line)) {
      vote('combined');
      continue;
    }
    const record = parseSyslog(line, { receivedAt });
    if (record) {
      const service = syslogFamily(line, 0, receivedAt) && family.logsource.service;
      vote(service === 'postfix' || service === 'dovecot' || service === 'sshd' ? service : 'syslog');
      continue;
    }
    const entry = parseW3cLine(line, w3c);
    if (entry?.kind === 'entry') vote('iis');
  }
  let best: LogFormat = 'syslog';
  let most = 0;
  for (const format of logFormats) {
    const n = votes.get(format) ?? 0;
    if (n > most) {
      best = format;
      most = n;
    }
  }
  return best;
}
