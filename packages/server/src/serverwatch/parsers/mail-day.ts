/**
 * A generated day of an institution's mail server, for detection tests and the benchmark: Postfix
 * and Dovecot in `mail.log`, sshd in `auth.log`, Exchange's IIS log (OWA, EWS, ActiveSync,
 * autodiscover) in `u_ex.log`, with a few hundred users going about their day, and an attack in the
 * middle of it:
 *
 * | label               | when (UTC)  | what                                                                 |
 * |---------------------|-------------|----------------------------------------------------------------------|
 * | `password_spraying` | 10:00–10:25 | one address tries 80 mailboxes, one or two passwords each (IMAP, SMTP submission) |
 * | `brute_force`       | 10:40–11:05 | one address, one mailbox, 150 failed SMTP/IMAP authentications        |
 * | `compromise`        | 11:15–11:30 | one address fails 60 times on one mailbox, then logs in               |
 * | `mass_download`     | 11:31–12:20 | that address empties the mailbox over IMAP (logouts with `out=` in gigabytes) |
 * | `owa_exploitation`  | 12:30–12:40 | ProxyShell and ProxyNotShell autodiscover requests, ECP `DDIService.svc/SetObject` (CVE-2021-26858) |
 * | `webshell`          | 12:45–13:00 | POSTs to `.aspx` web shells under `/owa/auth/` and `/aspnet_client/`  |
 *
 * Every labelled line comes with the fields it must parse to. Lines are streamed in time order, so
 * a million of them cost no more memory than a thousand; the same seed gives the same day, byte for
 * byte. Times are UTC; read `mail.log` and `auth.log` with a `receivedAt` within the month after the
 * day, as RFC 3164 times carry no year.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import type { FieldValue } from '../event.js';
import type { LogFormat, ParseContext } from './index.js';

export type MailDayFile = 'mail.log' | 'auth.log' | 'u_ex.log';
export type MailDayAttack =
  'password_spraying' | 'brute_force' | 'compromise' | 'mass_download' | 'owa_exploitation' | 'webshell';

export interface MailDayLine {
  file: MailDayFile;
  /** The format to read the file with. */
  format: LogFormat;
  /** 1-based line number in its file. */
  lineNo: number;
  /** Unix ms. */
  time: number;
  line: string;
  /** The attack the line belongs to; absent on normal traffic. */
  attack?: MailDayAttack;
  /** On attack lines: fields the parsed event must have, with these values. */
  expected?: Record<string, FieldValue>;
}

export interface MailDayAttackSummary {
  kind: MailDayAttack;
  /** The attacker's address. */
  srcIp: string;
  /** The mailboxes it went for. */
  users: string[];
  from: number;
  to: number;
  lines: number;
}

export interface MailDayOptions {
  /** Same seed, same day (default 1). */
  seed?: number;
  /** About how many lines (default 5,000; at least the attack's ~600 and some traffic). */
  lines?: number;
  /** The day, `YYYY-MM-DD` (default 2026-12-03). */
  date?: string;
  /** How many mailboxes (default 300). */
  users?: number;
}

export interface MailDay {
  date: string;
  domain: string;
  users: readonly string[];
  attacks: readonly MailDayAttackSummary[];
  /** The largest `out=` of a normal IMAP session: anything far above is not ordinary. */
  normalMaxBytesOut: number;
  /** Every line of the day in time order (each call starts the same day again). */
  lines(): Generator<MailDayLine>;
}

const DOMAIN = 'ville.example';
const MX = 'mx1';
const MAIL_IP = '192.0.2.25';
const EXCHANGE_IP = '192.0.2.30';
const NETBIOS = 'VILLE';
const NORMAL_MAX_OUT = 48_000_000;
const FORMATS: Record<MailDayFile, LogFormat> = {
  'mail.log': 'postfix',
  'auth.log': 'sshd',
  'u_ex.log': 'iis',
};
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FIRST = [
  'marie',
  'jean',
  'sophie',
  'pierre',
  'nathalie',
  'luc',
  'isabelle',
  'thomas',
  'claire',
  'nicolas',
  'julie',
  'antoine',
  'camille',
  'mathieu',
  'emma',
  'hugo',
  'lea',
  'louis',
  'chloe',
  'paul',
  'ines',
  'arthur',
  'sarah',
  'jules',
  'anne',
  'bart',
  'els',
  'pieter',
  'sofie',
  'koen',
];
const LAST = [
  'martin',
  'bernard',
  'dubois',
  'thomas',
  'robert',
  'richard',
  'petit',
  'durand',
  'leroy',
  'moreau',
  'simon',
  'laurent',
  'lefebvre',
  'michel',
  'garcia',
  'david',
  'bertrand',
  'roux',
  'vincent',
  'fournier',
  'peeters',
  'janssens',
  'maes',
  'jacobs',
  'mertens',
  'willems',
  'claes',
  'goossens',
  'wouters',
  'dupont',
];
const BROWSERS = [
  'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36+Edg/131.0.0.0',
  'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:133.0)+Gecko/20100101+Firefox/133.0',
  'Mozilla/5.0+(Macintosh;+Intel+Mac+OS+X+10_15_7)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)+Version/18.1+Safari/605.1.15',
];
const PARTNERS = [
  'mail.prefecture.example',
  'smtp.region.example',
  'mx.fournisseur.example',
  'out.newsletter.example',
];
const SCANNER_USERS = ['admin', 'test', 'oracle', 'ubuntu', 'user', 'postgres', 'git', 'support'];

/** A small seeded generator (mulberry32): fast, and the same sequence on every platform. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HEX = '0123456789ABCDEF';
const chars = (rng: Rng, alphabet: string, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
};

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** RFC 3164 time as rsyslog writes it in files. */
function syslogTime(t: number): string {
  const d = new Date(t);
  return `${MONTHS[d.getUTCMonth()] as string} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
function w3cTime(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

interface Pending {
  time: number;
  seq: number;
  file: MailDayFile;
  line: string;
  attack?: MailDayAttack;
  expected?: Record<string, FieldValue>;
}

/** A min-heap on (time, seq): lines leave in time order, and in order of creation at equal times. */
class LineHeap {
  private readonly items: Pending[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Pending | undefined {
    return this.items[0];
  }
  push(p: Pending): void {
    const a = this.items;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i] as Pending, a[parent] as Pending)) break;
      [a[i], a[parent]] = [a[parent] as Pending, a[i] as Pending];
      i = parent;
    }
  }
  pop(): Pending | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as Pending, a[m] as Pending)) m = l;
        if (r < a.length && before(a[r] as Pending, a[m] as Pending)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Pending, a[i] as Pending];
        i = m;
      }
    }
    return top;
  }
}
const before = (x: Pending, y: Pending) => x.time < y.time || (x.time === y.time && x.seq < y.seq);

interface User {
  name: string;
  mail: string;
  ip: string;
}

/** Where the day's traffic falls, hour by hour (UTC): quiet nights, busy office hours. */
const HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 14, 15, 14, 12, 9, 12, 14, 13, 11, 8, 5, 4, 3, 2, 2, 1];

/**
 * A generated day of mail-server logs with an attack in the middle.
 *
 * @example
 *   const day = mailDay({ seed: 7, lines: 1_000_000 });
 *   for (const l of day.lines()) if (l.attack) console.log(l.file, l.lineNo, l.attack);
 */
export function mailDay(options: MailDayOptions = {}): MailDay {
  const seed = options.seed ?? 1;
  const date = options.date ?? '2026-12-03';
  const dayStart = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(dayStart)) throw new RangeError(`not a date: ${date}`);
  const target = Math.max(options.lines ?? 5000, 1000);
  const setup = random(seed);
  const users = makeUsers(setup, Math.max(options.users ?? 300, 100));
  const attackPlan = planAttacks(random(seed ^ 0x5eed), users, dayStart);
  const attackLines = attackPlan.lines.length;
  const summary = attackPlan.summary;

  return {
    date,
    domain: DOMAIN,
    users: users.map((u) => u.mail),
    attacks: summary,
    normalMaxBytesOut: NORMAL_MAX_OUT,
    *lines() {
      const rng = random(seed ^ 0x7a11);
      const heap = new LineHeap();
      const counters: Record<MailDayFile, number> = { 'mail.log': 0, 'auth.log': 0, 'u_ex.log': 0 };
      let seq = 0;
      const emit = (p: Pending): MailDayLine => {
        counters[p.file]++;
        const out: MailDayLine = {
          file: p.file,
          format: FORMATS[p.file],
          lineNo: counters[p.file],
          time: p.time,
          line: p.line,
        };
        if (p.attack !== undefined) out.attack = p.attack;
        if (p.expected !== undefined) out.expected = p.expected;
        return out;
      };
      for (const header of [
        '#Software: Microsoft Internet Information Services 10.0',
        '#Version: 1.0',
        `#Date: ${date} 00:00:00`,
        '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
      ]) {
        yield emit({ time: dayStart, seq: seq++, file: 'u_ex.log', line: header });
      }
      const sessions = Math.ceil(Math.max(target - attackLines - 4, 500) / AVERAGE_LINES_PER_SESSION);
      const cumulative: number[] = [];
      let total = 0;
      for (const w of HOURLY) cumulative.push((total += w));
      let next = 0;
      const attacks = attackPlan.lines;
      for (let i = 0; i < sessions; i++) {
        // The i-th session starts where the day's activity reaches the fraction i / sessions.
        const x = ((i + rng()) / sessions) * total;
        let hour = 0;
        while ((cumulative[hour] as number) < x) hour++;
        const inHour = (x - (hour === 0 ? 0 : (cumulative[hour - 1] as number))) / (HOURLY[hour] as number);
        const start = dayStart + Math.floor((hour + inHour) * 3_600_000);
        while (next < attacks.length && (attacks[next] as Pending).time <= start) {
          heap.push({ ...(attacks[next] as Pending), seq: seq++ });
          next++;
        }
        while (heap.size > 0 && (heap.peek() as Pending).time <= start) yield emit(heap.pop() as Pending);
        for (const p of session(rng, users, start)) heap.push({ ...p, seq: seq++ });
      }
      while (next < attacks.length) heap.push({ ...(attacks[next++] as Pending), seq: seq++ });
      while (heap.size > 0) yield emit(heap.pop() as Pending);
    },
  };
}

export interface WrittenMailDay {
  day: MailDay;
  /** The path of each file written. */
  files: Record<MailDayFile, string>;
  /** The attack's lines (a few hundred whatever the size of the day), with their file and line number. */
  labelled: MailDayLine[];
  /** How many lines were written in all. */
  lines: number;
}

/**
 * Writes the day's three files into `dir` (`mail.log`, `auth.log`, `u_ex.log`), streaming, so a
 * day of a million lines for the benchmark takes no more memory than a small one.
 *
 * @example
 *   const { files, labelled } = await writeMailDay('/tmp/day', { lines: 1_000_000 });
 */
export async function writeMailDay(dir: string, options: MailDayOptions = {}): Promise<WrittenMailDay> {
  const day = mailDay(options);
  const files = {
    'mail.log': join(dir, 'mail.log'),
    'auth.log': join(dir, 'auth.log'),
    'u_ex.log': join(dir, 'u_ex.log'),
  };
  const streams: Record<MailDayFile, WriteStream> = {
    'mail.log': createWriteStream(files['mail.log']),
    'auth.log': createWriteStream(files['auth.log']),
    'u_ex.log': createWriteStream(files['u_ex.log']),
  };
  const labelled: MailDayLine[] = [];
  let lines = 0;
  // A stream that fails (no such folder, disk full) closes: the error is kept and thrown once all
  // three are closed, rather than waiting for a drain that never comes.
  let failure: Error | undefined;
  for (const s of Object.values(streams)) s.on('error', (e) => (failure ??= e));
  try {
    for (const l of day.lines()) {
      if (failure !== undefined) break;
      lines++;
      if (l.attack !== undefined) labelled.push(l);
      // IIS writes CRLF line ends; the syslog files LF.
      const stream = streams[l.file];
      if (!stream.write(l.file === 'u_ex.log' ? `${l.line}\r\n` : `${l.line}\n`)) {
        // The listener of the event that did not come is removed (a million lines wait thousands
        // of times: left, they pile up on the stream).
        const waited = new AbortController();
        try {
          await Promise.race([
            once(stream, 'drain', { signal: waited.signal }),
            once(stream, 'close', { signal: waited.signal }),
          ]);
        } finally {
          waited.abort();
        }
      }
    }
  } finally {
    await Promise.all(
      Object.values(streams).map((s) =>
        s.closed ? Promise.resolve() : new Promise<void>((resolve) => s.end(() => resolve())),
      ),
    );
  }
  if (failure !== undefined) throw failure;
  return { day, files, labelled, lines };
}

function makeUsers(rng: Rng, count: number): User[] {
  const users: User[] = [];
  const seen = new Set<string>();
  for (let i = 0; users.length < count; i++) {
    let name = `${pick(rng, FIRST)}.${pick(rng, LAST)}`;
    if (seen.has(name)) name = `${name}${(i % 9) + 2}`;
    if (seen.has(name)) continue;
    seen.add(name);
    // Most work from the office network; the others from home or a phone, each from their own address.
    const ip =
      rng() < 0.6
        ? `10.20.${int(rng, 1, 40)}.${int(rng, 2, 254)}`
        : rng() < 0.5
          ? `198.51.100.${int(rng, 1, 254)}`
          : `100.${int(rng, 64, 127)}.${int(rng, 0, 255)}.${int(rng, 1, 254)}`;
    users.push({ name, mail: `${name}@${DOMAIN}`, ip });
  }
  return users;
}

type Line = Omit<Pending, 'seq'>;
const AVERAGE_LINES_PER_SESSION = 3.3;

const mailLine = (time: number, program: string, pid: number, message: string): Line => ({
  time,
  file: 'mail.log',
  line: `${syslogTime(time)} ${MX} ${program}[${pid}]: ${message}`,
});
const authLine = (time: number, pid: number, message: string): Line => ({
  time,
  file: 'auth.log',
  line: `${syslogTime(time)} ${MX} sshd[${pid}]: ${message}`,
});
const iisLine = (
  time: number,
  method: string,
  stem: string,
  query: string,
  user: string,
  ip: string,
  agent: string,
  status: number,
  taken: number,
): Line => ({
  time,
  file: 'u_ex.log',
  line: `${w3cTime(time)} ${EXCHANGE_IP} ${method} ${stem} ${query} 443 ${user} ${ip} ${agent} - ${status} 0 0 ${taken}`,
});

/** One normal piece of the day's traffic: a few lines close together, starting at `t`. */
function session(rng: Rng, users: readonly User[], t: number): Line[] {
  const u = pick(rng, users);
  const r = rng();
  const lines: Line[] = [];
  let at = t;
  const later = (min: number, max: number) => (at += int(rng, min, max));
  if (r < 0.3) {
    // An IMAP session: login, then logout with what the client synchronised. Now and then a
    // mistyped password first, as people do.
    const mpid = int(rng, 2000, 60000);
    const sessionId = chars(rng, B64, 16);
    if (rng() < 0.03) {
      lines.push(
        mailLine(
          at,
          'dovecot',
          1,
          `imap-login: Disconnected (auth failed, 1 attempts in ${int(rng, 2, 9)} secs): user=<${u.mail}>, method=PLAIN, rip=${u.ip}, lip=${MAIL_IP}, TLS, session=<${chars(rng, B64, 16)}>`,
        ),
      );
      later(3000, 20000);
    }
    lines.push(
      mailLine(
        at,
        'dovecot',
        1,
        `imap-login: Login: user=<${u.mail}>, method=PLAIN, rip=${u.ip}, lip=${MAIL_IP}, mpid=${mpid}, TLS, session=<${sessionId}>`,
      ),
    );
    later(2000, 600_000);
    const out = Math.floor(rng() ** 3 * NORMAL_MAX_OUT);
    lines.push(
      mailLine(
        at,
        'dovecot',
        1,
        `imap(${u.mail})<${mpid}><${sessionId}>: Disconnected: Logged out in=${int(rng, 200, 40000)} out=${out} deleted=${int(rng, 0, 3)} expunged=${int(rng, 0, 3)} trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
      ),
    );
  } else if (r < 0.5) {
    // Mail arriving from a partner's server, delivered to a mailbox over LMTP.
    const pid = int(rng, 1000, 60000);
    const host = pick(rng, PARTNERS);
    const ip = `203.0.113.${int(rng, 10, 50)}`;
    const qid = chars(rng, HEX, 11);
    lines.push(mailLine(at, 'postfix/smtpd', pid, `connect from ${host}[${ip}]`));
    lines.push(mailLine(later(50, 400), 'postfix/smtpd', pid, `${qid}: client=${host}[${ip}]`));
    lines.push(
      mailLine(
        later(50, 400),
        'postfix/qmgr',
        880,
        `${qid}: from=<info@${host.slice(host.indexOf('.') + 1)}>, size=${int(rng, 2000, 900000)}, nrcpt=1 (queue active)`,
      ),
    );
    lines.push(
      mailLine(
        later(50, 400),
        'postfix/lmtp',
        int(rng, 1000, 60000),
        `${qid}: to=<${u.mail}>, relay=${MX}.${DOMAIN}[private/dovecot-lmtp], delay=0.${int(rng, 10, 99)}, delays=0.1/0.01/0.02/0.08, dsn=2.0.0, status=sent (250 2.0.0 <${u.mail}> Saved)`,
      ),
    );
    lines.push(
      mailLine(
        later(20, 200),
        'postfix/smtpd',
        pid,
        `disconnect from ${host}[${ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`,
      ),
    );
  } else if (r < 0.62) {
    // A user sending through submission: the queue record carries the SASL login.
    const pid = int(rng, 1000, 60000);
    const qid = chars(rng, HEX, 11);
    lines.push(mailLine(at, 'postfix/submission/smtpd', pid, `connect from unknown[${u.ip}]`));
    lines.push(
      mailLine(
        later(100, 900),
        'postfix/submission/smtpd',
        pid,
        `${qid}: client=unknown[${u.ip}], sasl_method=PLAIN, sasl_username=${u.mail}`,
      ),
    );
    lines.push(
      mailLine(
        later(50, 400),
        'postfix/qmgr',
        880,
        `${qid}: from=<${u.mail}>, size=${int(rng, 1500, 4_000_000)}, nrcpt=1 (queue active)`,
      ),
    );
    const partner = pick(rng, PARTNERS);
    lines.push(
      mailLine(
        later(100, 1500),
        'postfix/smtp',
        int(rng, 1000, 60000),
        `${qid}: to=<contact@${partner.slice(partner.indexOf('.') + 1)}>, relay=${partner}[203.0.113.${int(rng, 10, 50)}]:25, delay=1.${int(rng, 0, 9)}, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)`,
      ),
    );
    lines.push(
      mailLine(
        later(20, 200),
        'postfix/submission/smtpd',
        pid,
        `disconnect from unknown[${u.ip}] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8`,
      ),
    );
  } else if (r < 0.66) {
    // Spam from a botnet address, refused at RCPT.
    const pid = int(rng, 1000, 60000);
    const ip = `198.18.${int(rng, 0, 255)}.${int(rng, 1, 254)}`;
    lines.push(mailLine(at, 'postfix/smtpd', pid, `connect from unknown[${ip}]`));
    lines.push(
      mailLine(
        later(200, 2000),
        'postfix/smtpd',
        pid,
        `NOQUEUE: reject: RCPT from unknown[${ip}]: 554 5.7.1 Service unavailable; Client host [${ip}] blocked using zen.spamhaus.org; from=<promo@${chars(rng, 'abcdefghijklmnopqrstuvwxyz', 8)}.example> to=<${u.mail}> proto=ESMTP helo=<${chars(rng, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 6)}>`,
      ),
    );
    lines.push(
      mailLine(
        later(20, 300),
        'postfix/smtpd',
        pid,
        `disconnect from unknown[${ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`,
      ),
    );
  } else if (r < 0.67) {
    // An administrator's SSH session with a key, from the admin network.
    const pid = int(rng, 1000, 60000);
    const admin = pick(rng, ['ops', 'sysadmin', 'deploy']);
    const ip = `10.20.0.${int(rng, 5, 9)}`;
    const port = int(rng, 40000, 65000);
    lines.push(
      authLine(
        at,
        pid,
        `Accepted publickey for ${admin} from ${ip} port ${port} ssh2: ED25519 SHA256:${chars(rng, B64, 43)}`,
      ),
    );
    lines.push(
      authLine(
        later(5, 50),
        pid,
        `pam_unix(sshd:session): session opened for user ${admin}(uid=${int(rng, 1000, 1010)}) by (uid=0)`,
      ),
    );
    lines.push(
      authLine(
        later(60_000, 1_800_000),
        pid,
        `Received disconnect from ${ip} port ${port}:11: disconnected by user`,
      ),
    );
    lines.push(authLine(later(1, 20), pid, `pam_unix(sshd:session): session closed for user ${admin}`));
  } else if (r < 0.69) {
    // The Internet's background noise on port 22: a name or two tried, then gone.
    const pid = int(rng, 1000, 60000);
    const ip = `198.18.${int(rng, 0, 255)}.${int(rng, 1, 254)}`;
    const port = int(rng, 30000, 65000);
    const name = pick(rng, SCANNER_USERS);
    lines.push(authLine(at, pid, `Invalid user ${name} from ${ip} port ${port}`));
    lines.push(
      authLine(
        later(1000, 3000),
        pid,
        `Failed password for invalid user ${name} from ${ip} port ${port} ssh2`,
      ),
    );
    lines.push(
      authLine(
        later(100, 500),
        pid,
        `Connection closed by invalid user ${name} ${ip} port ${port} [preauth]`,
      ),
    );
  } else {
    // Outlook on the web, EWS, ActiveSync and autodiscover, as the staff's clients use them.
    const who = `${NETBIOS}\\${u.name}`;
    const agent = pick(rng, BROWSERS);
    const kind = rng();
    if (kind < 0.35) {
      lines.push(iisLine(at, 'GET', '/owa/', '-', '-', u.ip, agent, 302, int(rng, 1, 15)));
      lines.push(
        iisLine(later(500, 5000), 'POST', '/owa/auth.owa', '-', who, u.ip, agent, 302, int(rng, 40, 300)),
      );
      lines.push(iisLine(later(300, 3000), 'GET', '/owa/', 'bO=1', who, u.ip, agent, 200, int(rng, 30, 400)));
      lines.push(
        iisLine(
          later(200, 2000),
          'POST',
          '/owa/service.svc',
          `action=GetFolderChangeDigest&app=Mail&n=${int(rng, 1, 99)}`,
          who,
          u.ip,
          agent,
          200,
          int(rng, 10, 200),
        ),
      );
    } else if (kind < 0.65) {
      const device = chars(rng, HEX, 32);
      lines.push(
        iisLine(
          at,
          'POST',
          '/Microsoft-Server-ActiveSync/default.eas',
          `Cmd=Ping&User=${u.name}&DeviceId=${device}&DeviceType=iPhone`,
          who,
          u.ip,
          'Apple-iPhone15C2/2201.82',
          200,
          int(rng, 100, 900000),
        ),
      );
      lines.push(
        iisLine(
          later(1000, 30000),
          'POST',
          '/Microsoft-Server-ActiveSync/default.eas',
          `Cmd=Sync&User=${u.name}&DeviceId=${device}&DeviceType=iPhone`,
          who,
          u.ip,
          'Apple-iPhone15C2/2201.82',
          200,
          int(rng, 20, 400),
        ),
      );
    } else if (kind < 0.85) {
      lines.push(
        iisLine(
          at,
          'POST',
          '/EWS/Exchange.asmx',
          '-',
          '-',
          u.ip,
          'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.18129;+Pro)',
          401,
          int(rng, 1, 5),
        ),
      );
      lines.push(
        iisLine(
          later(20, 200),
          'POST',
          '/EWS/Exchange.asmx',
          '-',
          `${u.mail}`,
          u.ip,
          'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.18129;+Pro)',
          200,
          int(rng, 10, 300),
        ),
      );
      lines.push(
        iisLine(
          later(20, 2000),
          'POST',
          '/Autodiscover/Autodiscover.xml',
          '-',
          `${u.mail}`,
          u.ip,
          'Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.18129;+Pro)',
          200,
          int(rng, 10, 90),
        ),
      );
    } else {
      lines.push(
        iisLine(
          at,
          'GET',
          '/owa/HealthCheck.htm',
          '-',
          '-',
          '127.0.0.1',
          'AMProbe/Local/ClientAccess',
          200,
          int(rng, 0, 3),
        ),
      );
      lines.push(
        iisLine(
          later(1000, 5000),
          'GET',
          '/ecp/HealthCheck.htm',
          '-',
          '-',
          '127.0.0.1',
          'AMProbe/Local/ClientAccess',
          200,
          int(rng, 0, 3),
        ),
      );
    }
  }
  return lines;
}

/** Fisher–Yates. */
function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The attack, decided once per seed: its lines (sorted) and what a reader should find. */
function planAttacks(
  rng: Rng,
  users: readonly User[],
  dayStart: number,
): { lines: Pending[]; summary: MailDayAttackSummary[] } {
  const lines: Pending[] = [];
  const summary: MailDayAttackSummary[] = [];
  const hour = (h: number, m = 0) => dayStart + (h * 60 + m) * 60_000;
  const add = (kind: MailDayAttack, l: Line, expected: Record<string, FieldValue>) =>
    lines.push({ ...l, seq: 0, attack: kind, expected });
  const record = (
    kind: MailDayAttack,
    srcIp: string,
    victims: string[],
    from: number,
    to: number,
    count: number,
  ) => summary.push({ kind, srcIp, users: victims, from, to, lines: count });
  const session = () => chars(rng, B64, 16);
  /** A failed login of `user` from `ip`: over IMAP (Dovecot), or over SMTP submission (Postfix SASL). */
  const failedLogin = (
    kind: MailDayAttack,
    time: number,
    user: string,
    ip: string,
    over: { imap: true; secs: number } | { imap: false },
  ) =>
    add(
      kind,
      over.imap
        ? mailLine(
            time,
            'dovecot',
            1,
            `imap-login: Disconnected (auth failed, 1 attempts in ${over.secs} secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=${MAIL_IP}, TLS, session=<${session()}>`,
          )
        : mailLine(
            time,
            'postfix/submission/smtpd',
            int(rng, 1000, 60000),
            `warning: unknown[${ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username=${user}`,
          ),
      { action: 'login', outcome: 'failure', user, src_ip: ip },
    );

  // Password spraying: one address, 80 mailboxes, one or two passwords each, over IMAP and SMTP.
  {
    const ip = '203.0.113.66';
    const victims = shuffled(rng, users).slice(0, 80);
    let t = hour(10);
    const before = lines.length;
    for (const v of victims) {
      const tries = rng() < 0.4 ? 2 : 1;
      for (let k = 0; k < tries; k++) {
        t += int(rng, 4000, 12000);
        failedLogin(
          'password_spraying',
          t,
          v.mail,
          ip,
          rng() < 0.5 ? { imap: true, secs: int(rng, 2, 5) } : { imap: false },
        );
      }
    }
    record(
      'password_spraying',
      ip,
      victims.map((v) => v.mail),
      hour(10),
      t,
      lines.length - before,
    );
  }

  // Brute force: one address, one mailbox, 150 failures.
  const brute = users[7 % users.length] as User;
  {
    const ip = '203.0.113.77';
    let t = hour(10, 40);
    const before = lines.length;
    for (let k = 0; k < 150; k++) {
      t += int(rng, 3000, 15000);
      failedLogin('brute_force', t, brute.mail, ip, k % 3 === 0 ? { imap: true, secs: 3 } : { imap: false });
    }
    record('brute_force', ip, [brute.mail], hour(10, 40), t, lines.length - before);
  }

  // A compromise: 60 failures on one mailbox, then the right password.
  const victim = users[13 % users.length] as User;
  const thief = '203.0.113.88';
  let t = hour(11, 15);
  {
    const before = lines.length;
    for (let k = 0; k < 60; k++) {
      t += int(rng, 4000, 14000);
      failedLogin('compromise', t, victim.mail, thief, { imap: true, secs: 4 });
    }
    t += 6000;
    add(
      'compromise',
      mailLine(
        t,
        'dovecot',
        1,
        `imap-login: Login: user=<${victim.mail}>, method=PLAIN, rip=${thief}, lip=${MAIL_IP}, mpid=31337, TLS, session=<${session()}>`,
      ),
      { action: 'login', outcome: 'success', user: victim.mail, src_ip: thief },
    );
    record('compromise', thief, [victim.mail], hour(11, 15), t, lines.length - before);
  }

  // The mailbox emptied: IMAP sessions that send gigabytes.
  {
    const from = hour(11, 31);
    t = from;
    const before = lines.length;
    for (let k = 0; k < 3; k++) {
      const mpid = 31338 + k;
      const id = session();
      t += int(rng, 60_000, 120_000);
      add(
        'mass_download',
        mailLine(
          t,
          'dovecot',
          1,
          `imap-login: Login: user=<${victim.mail}>, method=PLAIN, rip=${thief}, lip=${MAIL_IP}, mpid=${mpid}, TLS, session=<${id}>`,
        ),
        { action: 'login', outcome: 'success', user: victim.mail, src_ip: thief },
      );
      t += int(rng, 600_000, 900_000);
      const out = int(rng, 1_200_000_000, 3_400_000_000);
      add(
        'mass_download',
        mailLine(
          t,
          'dovecot',
          1,
          `imap(${victim.mail})<${mpid}><${id}>: Disconnected: Logged out in=${int(rng, 30_000, 90_000)} out=${out} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=${int(rng, 8000, 20000)} body_bytes=${out - int(rng, 1_000_000, 9_000_000)}`,
        ),
        { action: 'logout', user: victim.mail, bytes_out: out },
      );
    }
    record('mass_download', thief, [victim.mail], from, t, lines.length - before);
  }

  // OWA/ECP exploitation: ProxyShell through autodiscover, then ECP's SetObject (CVE-2021-26858).
  const exploiter = '203.0.113.99';
  const agent = 'python-requests/2.25.1';
  {
    const from = hour(12, 30);
    t = from;
    const before = lines.length;
    const admin = users[0] as User;
    const steps: [string, string, string, string, number][] = [
      [
        'GET',
        '/autodiscover/autodiscover.json',
        `@evil.example/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.example`,
        '-',
        401,
      ],
      [
        'POST',
        '/autodiscover/autodiscover.json',
        `@evil.example/autodiscover/autodiscover.xml?&Email=autodiscover/autodiscover.json%3F@evil.example`,
        '-',
        401,
      ],
      [
        'POST',
        '/autodiscover/autodiscover.json',
        `@evil.example/mapi/emsmdb/?&Email=autodiscover/autodiscover.json%3F@evil.example`,
        '-',
        200,
      ],
      [
        'POST',
        '/autodiscover/autodiscover.json',
        `@evil.example/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9zTBZBZG1pbmlzdHJhdG9yQGxvY2FsLmxhblUsUy0xLTUtMjEtMjM4NTUzMjc0Mi00MDg5MTI3MDA4LTUwMA==&Email=autodiscover/autodiscover.json%3F@evil.example`,
        '-',
        200,
      ],
      // ProxyNotShell (CVE-2022-41040): the same SSRF, to the PowerShell endpoint.
      [
        'POST',
        '/autodiscover/autodiscover.json',
        `@evil.example/owa/?&Email=autodiscover/autodiscover.json%3F@evil.example&Protocol=Powershell`,
        '-',
        200,
      ],
      [
        'POST',
        '/ecp/DDI/DDIService.svc/SetObject',
        `schema=ResetOABVirtualDirectory&msExchEcpCanary=${chars(rng, B64.slice(0, 62), 40)}`,
        `${NETBIOS}\\EXCH01$`,
        200,
      ],
      [
        'POST',
        '/ecp/DDI/DDIService.svc/GetObject',
        `schema=OABVirtualDirectory&msExchEcpCanary=${chars(rng, B64.slice(0, 62), 40)}`,
        `${NETBIOS}\\${admin.name}`,
        200,
      ],
    ];
    for (const [method, stem, query, user, status] of steps) {
      for (let k = 0; k < 3; k++) {
        t += int(rng, 2000, 20000);
        const expected: Record<string, FieldValue> = {
          'c-ip': exploiter,
          'cs-method': method,
          'cs-uri-stem': stem,
          'cs-uri-query': query,
          'sc-status': status,
        };
        if (user !== '-') expected['cs-username'] = user;
        add(
          'owa_exploitation',
          iisLine(t, method, stem, query, user, exploiter, agent, status, int(rng, 50, 900)),
          expected,
        );
      }
    }
    record('owa_exploitation', exploiter, [admin.mail], from, t, lines.length - before);
  }

  // Web shells dropped under Exchange's paths, then used.
  {
    const from = hour(12, 45);
    t = from;
    const before = lines.length;
    // Names of the kind incident reports list: random, or a real page's name in a folder where
    // Exchange ships no such page (the shipped `/owa/auth/*.aspx` pages are legitimate).
    const shells = [
      '/owa/auth/8Lw7tAhF9i1pJnRo.aspx',
      '/owa/auth/Current/themes/resources/logon.aspx',
      '/aspnet_client/system_web/Dk3fZq1.aspx',
    ];
    for (let k = 0; k < 12; k++) {
      t += int(rng, 10_000, 60_000);
      const stem = shells[k % shells.length] as string;
      add(
        'webshell',
        iisLine(t, 'POST', stem, '-', '-', exploiter, 'antSword/v2.1', 200, int(rng, 20, 4000)),
        {
          'c-ip': exploiter,
          'cs-method': 'POST',
          'cs-uri-stem': stem,
          'sc-status': 200,
        },
      );
    }
    record('webshell', exploiter, [], from, t, lines.length - before);
  }

  lines.sort((a, b) => a.time - b.time);
  return { lines, summary };
}

/** A parse context for each file of a day (each file a source of its own), read at `receivedAt`. */
export function dayContexts(receivedAt: number): Record<MailDayFile, ParseContext> {
  return { 'mail.log': { receivedAt }, 'auth.log': { receivedAt }, 'u_ex.log': { receivedAt } };
}
