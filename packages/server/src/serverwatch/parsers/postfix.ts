/**
 * Postfix's messages (after the syslog header), for `product: linux, service: postfix`: what smtpd
 * and submission say about clients, SASL authentication, queue records and rejections. Names are
 * those of fields.ts; Postfix's own `key=value` pairs keep their names (`from`, `to`, `relay`,
 * `status`, `size`, `nrcpt`, `proto`, `helo`, `sasl_method`…).
 */
import { type Fields, keyValues, keyValuesIn, postfixClient, postfixClientIn } from './fields.js';
import { hasLineTerminatorFrom, isRegExpSpace } from './scan.js';

// The client part excludes brackets before its `[`: with them, a hostile `a[a[a[…` would make
// the match quadratic.
const SASL_FAILED =
  /^warning: ([^\s:[\]]*\[[^\]\s]{0,64}\](?::\d{1,5})?): SASL (\S+) authentication failed: ?(.*)$/;
const LOST = /^lost connection after (\S+)(?: \(.*?\))? from (\S+)/;
// `NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 <rcpt>: Relay access denied; from=<a> to=<b> proto=ESMTP helo=<h>`
const REJECT =
  /^(NOQUEUE|[0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (reject|reject_warning|discard|hold): (\S+) from (\S+): (\d{3})(?: (\d\.\d{1,3}\.\d{1,3}))? (.*?)(?:; (from=.*))?$/;

const SUBMISSION = /\/(submissions?|smtps)\//;
const SASL_USERNAME = /(?:^|, )sasl_username=(\S+)$/;
const QUEUE_NUMBERS = new Set(['size', 'nrcpt']);

/** What the daemon of a syslog tag is and which protocol it speaks: one answer per tag, remembered. */
const daemons = new Map<string, { daemon: string; protocol: string | undefined }>();
function daemonOf(program: string): { daemon: string; protocol: string | undefined } {
  let known = daemons.get(program);
  if (known === undefined) {
    const daemon = program.slice(program.lastIndexOf('/') + 1);
    // master.cf names the submission services `submission` and `smtps` (or `submissions`).
    const protocol = daemon === 'smtpd' ? (SUBMISSION.test(program) ? 'submission' : 'smtp') : undefined;
    known = { daemon, protocol };
    // Tags are few; a hostile source's many tags are not kept.
    if (daemons.size < 256) daemons.set(program, known);
  }
  return known;
}

/** The message kinds Postfix logs that `parsePostfixMessage` reads, each its own branch. */
const enum Kind {
  /** None of the others: only the daemon and its protocol are read. */
  Other,
  SaslFailed,
  Connection,
  Lost,
  Reject,
  Client,
  Queue,
}

// Where the kind `kindOf` found last has its part of interest: the end of a connection's client,
// or of a queue id. One number, not an object per line.
let mark = 0;

/**
 * The branch of `parsePostfixMessage` the message at `start` of `text` takes, told by the same
 * tests the branches make (the cheap ones first), without reading its fields; `mark` is left, as
 * an index of `text`, where the branch needs it. The message is only cut out of `text` for the
 * regular expressions of rare kinds.
 */
function kindOf(text: string, start: number): Kind {
  const first = text.charCodeAt(start);
  if (first === 0x77 /* w */ && SASL_FAILED.test(from(text, start))) return Kind.SaslFailed;
  if (first === 0x63 /* c */ || first === 0x64 /* d */) {
    mark = connectionEnd(text, start);
    if (mark >= 0) return Kind.Connection;
  }
  if (first === 0x6c /* l */ && LOST.test(from(text, start))) return Kind.Lost;
  const noQueue = text.startsWith('NOQUEUE: ', start);
  const idEnd = noQueue ? start + 7 : queueIdEndAt(text, start);
  if (idEnd < 0) return Kind.Other;
  mark = idEnd;
  // REJECT's `(NOQUEUE|queue id): (reject|reject_warning|discard|hold): `, tested before the
  // expression runs.
  if (
    (text.startsWith('reject', idEnd + 2) ||
      text.startsWith('discard: ', idEnd + 2) ||
      text.startsWith('hold: ', idEnd + 2)) &&
    REJECT.test(from(text, start))
  )
    return Kind.Reject;
  // QUEUE, `^(queue id): (.*)$`: NOQUEUE is no queue id, and `.*$` takes no line terminator.
  if (noQueue || hasLineTerminatorFrom(text, start)) return Kind.Other;
  return text.startsWith('client=', idEnd + 2) ? Kind.Client : Kind.Queue;
}

const from = (text: string, start: number): string => (start === 0 ? text : text.slice(start));

/**
 * What each kind of message may write itself into `action` and `outcome` (the event's composed
 * fields beside `protocol`): a superset, for the offline scan, which leaves a line unread when no
 * rule could match it even with all of these (index.ts, `readHead`; index.test.ts checks it).
 */
const KIND_WRITES: readonly (readonly string[])[] = [
  [],
  ['login', 'failure'],
  ['connect', 'disconnect'],
  ['lost_connection'],
  ['reject', 'failure'],
  ['login', 'success', 'queue'],
  ['delivery'],
  // A client record without `sasl_username=` (mail relayed in, not a login): `queue` alone.
  ['queue'],
];
/** Where KIND_WRITES has a relayed client's list, after one list per kind. */
const RELAYED = KIND_WRITES.length - 1;

// KIND_WRITES with each protocol a daemon speaks, by protocol (`undefined`: none): a few lists.
const writesByProtocol = new Map<string | undefined, readonly (readonly string[])[]>();

/**
 * Every value `parsePostfixMessage(program, line.slice(start), …)` may write itself into the
 * fields it composes (`action`, `outcome`, `protocol`), without reading the message's fields.
 */
export function postfixWrites(program: string, line: string, start: number): readonly string[] {
  const { protocol } = daemonOf(program);
  let lists = writesByProtocol.get(protocol);
  if (lists === undefined) {
    lists = KIND_WRITES.map((list) =>
      Object.freeze(protocol === undefined ? [...list] : [...list, protocol]),
    );
    writesByProtocol.set(protocol, lists);
  }
  const kind = kindOf(line, start);
  if (kind === Kind.Client && !line.includes('sasl_username=', mark + 2)) return lists[RELAYED]!;
  return lists[kind]!;
}

/** Reads a Postfix message into `out`; `program` is the syslog tag (`postfix/submission/smtpd`). */
export function parsePostfixMessage(program: string, message: string, out: Fields): void {
  const { daemon, protocol } = daemonOf(program);
  out.process = daemon;
  if (protocol !== undefined) out.protocol = protocol;
  switch (kindOf(message, 0)) {
    case Kind.SaslFailed: {
      const m = SASL_FAILED.exec(message)!;
      postfixClient(m[1] as string, out);
      out.action = 'login';
      out.outcome = 'failure';
      out.method = m[2] as string;
      // Postfix 3.x appends `, sasl_username=…` when the client gave a name.
      const reason = m[3] as string;
      const user = SASL_USERNAME.exec(reason);
      if (user) out.user = user[1] as string;
      out.reason = user ? reason.slice(0, user.index) : reason;
      return;
    }
    case Kind.Connection:
      return connection(message, mark, out);
    case Kind.Lost: {
      const m = LOST.exec(message)!;
      out.action = 'lost_connection';
      out.after = m[1] as string;
      postfixClient(m[2] as string, out);
      return;
    }
    case Kind.Reject: {
      const m = REJECT.exec(message)!;
      out.queue_id = m[1] as string;
      out.action = 'reject';
      out.outcome = 'failure';
      out.reject_kind = m[2] as string;
      out.stage = m[3] as string;
      postfixClient(m[4] as string, out);
      out.code = Number(m[5]);
      if (m[6] !== undefined) out.dsn = m[6];
      out.reason = m[7] as string;
      if (m[8] !== undefined) keyValues(m[8], out);
      return;
    }
    case Kind.Client:
      return client(message, mark, out);
    case Kind.Queue:
      return queue(message, mark, out);
    case Kind.Other:
      return;
  }
}

/**
 * `client=host[ip], sasl_method=PLAIN, sasl_username=alice` after the queue id that ends at
 * `idEnd`: the only trace of a successful SASL login Postfix leaves (it does not log the AUTH
 * command's success on its own).
 */
function client(message: string, idEnd: number, out: Fields): void {
  out.queue_id = message.slice(0, idEnd);
  const start = idEnd + 2;
  const n = message.length;
  const comma = message.indexOf(', ', start);
  postfixClientIn(message, start + 7, comma < 0 ? n : comma, out);
  if (comma >= 0) keyValuesIn(message, comma + 2, n, out);
  if (typeof out.sasl_username === 'string') {
    out.action = 'login';
    out.outcome = 'success';
    out.user = out.sasl_username;
    if (typeof out.sasl_method === 'string') out.method = out.sasl_method;
  } else {
    out.action = 'queue';
  }
}

/** qmgr's `from=<a>, size=1234, nrcpt=1 (queue active)`, smtp/lmtp's `to=<b>, relay=…, status=sent (…)`. */
function queue(message: string, idEnd: number, out: Fields): void {
  out.queue_id = message.slice(0, idEnd);
  const start = idEnd + 2;
  const n = message.length;
  const paren = message.indexOf(' (', start);
  keyValuesIn(message, start, paren < 0 ? n : paren, out, undefined, QUEUE_NUMBERS);
  if (paren >= 0) out.detail = message.slice(paren + 2, message.endsWith(')') ? n - 1 : n);
  if (out.status !== undefined) out.action = 'delivery';
}

/**
 * CONNECT by hand, `^(connect|disconnect) from (\S+)(?: (.*))?$`: smtpd's connections, with
 * the command counts of a disconnection (`ehlo=1 auth=0/1 quit=1 commands=2/3`; `auth=0/1` is a
 * failed AUTH), for the message at `at` of `text`. Where the client ends (an index of `text`), or -1
 * when the message is no such line.
 */
function connectionEnd(text: string, at: number): number {
  const start = text.startsWith('connect from ', at)
    ? at + 13
    : text.startsWith('disconnect from ', at)
      ? at + 16
      : -1;
  if (start < 0) return -1;
  const n = text.length;
  let k = start;
  while (k < n && !isRegExpSpace(text.charCodeAt(k))) k++;
  // `\S+` then the end, or a space and a rest without line terminator (which `.` and `$` refuse).
  if (k === start || (k < n && (text.charCodeAt(k) !== 0x20 || hasLineTerminatorFrom(text, at)))) return -1;
  return k;
}

/** A connection line (`connectionEnd` gave `end`) read into `out`. */
function connection(message: string, end: number, out: Fields): void {
  const connect = message.charCodeAt(0) === 0x63; /* c */
  out.action = connect ? 'connect' : 'disconnect';
  postfixClientIn(message, connect ? 13 : 16, end, out);
  if (end < message.length) keyValuesIn(message, end + 1, message.length, out);
}

/**
 * Where a queue id that starts `message` ends, when `: ` follows it, else -1: hexadecimal, or the
 * long form of `enable_long_queue_ids` (QUEUE's `[0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}`).
 */
export function queueIdEnd(message: string): number {
  return queueIdEndAt(message, 0);
}

/** `queueIdEnd` of the message at `start` of `text`, as an index of `text`. */
function queueIdEndAt(text: string, start: number): number {
  const hex = idRunEnd(text, start, isUpperHex, 6);
  return hex >= 0 ? hex : idRunEnd(text, start, isLongQueueIdChar, 10);
}

/** Where `min` to 20 characters of `isChar` at `start`, then `: `, end; -1 when they do not. */
function idRunEnd(text: string, start: number, isChar: (c: number) => boolean, min: number): number {
  let end = start;
  while (end <= start + 20 && isChar(text.charCodeAt(end))) end++;
  const length = end - start;
  return length >= min && length <= 20 && text.charCodeAt(end) === 0x3a && text.charCodeAt(end + 1) === 0x20
    ? end
    : -1;
}

const isUpperHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46);

/** `[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]`: digits and consonants, as long queue ids are written. */
function isLongQueueIdChar(c: number): boolean {
  if (c >= 0x30 && c <= 0x39) return true;
  const letter = c | 0x20;
  if (letter < 0x62 || letter > 0x7a || (c > 0x5a && c < 0x61)) return false;
  return letter !== 0x65 && letter !== 0x69 && letter !== 0x6f && letter !== 0x75;
}
