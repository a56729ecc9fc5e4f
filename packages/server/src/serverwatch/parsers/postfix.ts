/**
 * Postfix's messages (after the syslog header), for `product: linux, service: postfix`: what smtpd
 * and submission say about clients, SASL authentication, queue records and rejections. Names are
 * those of fields.ts; Postfix's own `key=value` pairs keep their names (`from`, `to`, `relay`,
 * `status`, `size`, `nrcpt`, `proto`, `helo`, `sasl_method`…).
 */
import { type Fields, keyValues, postfixClient } from './fields.js';

// The client part excludes brackets before its `[`: with them, a hostile `a[a[a[…` would make
// the match quadratic.
const SASL_FAILED =
  /^warning: ([^\s:[\]]*\[[^\]\s]{0,64}\](?::\d{1,5})?): SASL (\S+) authentication failed: ?(.*)$/;
const CONNECT = /^(connect|disconnect) from (\S+)(?: (.*))?$/;
const LOST = /^lost connection after (\S+)(?: \(.*?\))? from (\S+)/;
// `NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 <rcpt>: Relay access denied; from=<a> to=<b> proto=ESMTP helo=<h>`
const REJECT =
  /^(NOQUEUE|[0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (reject|reject_warning|discard|hold): (\S+) from (\S+): (\d{3})(?: (\d\.\d{1,3}\.\d{1,3}))? (.*?)(?:; (from=.*))?$/;
// Queue ids: hexadecimal, or the long form of `enable_long_queue_ids`.
const QUEUE = /^([0-9A-F]{6,20}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,20}): (.*)$/;

const SUBMISSION = /\/(submissions?|smtps)\//;
const SASL_USERNAME = /(?:^|, )sasl_username=(\S+)$/;
const QUEUE_NUMBERS = new Set(['size', 'nrcpt']);

/** Reads a Postfix message into `out`; `program` is the syslog tag (`postfix/submission/smtpd`). */
export function parsePostfixMessage(program: string, message: string, out: Fields): void {
  const daemon = program.slice(program.lastIndexOf('/') + 1);
  out.process = daemon;
  // master.cf names the submission services `submission` and `smtps` (or `submissions`).
  if (daemon === 'smtpd') out.protocol = SUBMISSION.test(program) ? 'submission' : 'smtp';

  // Cheap tests of the first characters pick the one expression that may match.
  const first = message.charCodeAt(0);
  let m = first === 0x77 /* w */ ? SASL_FAILED.exec(message) : null;
  if (m) {
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
  m = first === 0x63 /* c */ || first === 0x64 /* d */ ? CONNECT.exec(message) : null;
  if (m) {
    out.action = m[1] as string;
    postfixClient(m[2] as string, out);
    // disconnect's command counts: `ehlo=1 auth=0/1 quit=1 commands=2/3`; `auth=0/1` is a failed AUTH.
    if (m[3] !== undefined) keyValues(m[3], out);
    return;
  }
  m = first === 0x6c /* l */ ? LOST.exec(message) : null;
  if (m) {
    out.action = 'lost_connection';
    out.after = m[1] as string;
    postfixClient(m[2] as string, out);
    return;
  }
  m =
    message.includes(': re', 5) || message.includes(': d', 5) || message.includes(': h', 5)
      ? REJECT.exec(message)
      : null;
  if (m) {
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
  m = QUEUE.exec(message);
  if (m) {
    out.queue_id = m[1] as string;
    const rest = m[2] as string;
    if (rest.startsWith('client=')) {
      // `client=host[ip], sasl_method=PLAIN, sasl_username=alice`: the only trace of a successful
      // SASL login Postfix leaves (it does not log the AUTH command's success on its own).
      const comma = rest.indexOf(', ');
      postfixClient(rest.slice(7, comma < 0 ? undefined : comma), out);
      if (comma >= 0) keyValues(rest.slice(comma + 2), out);
      if (typeof out.sasl_username === 'string') {
        out.action = 'login';
        out.outcome = 'success';
        out.user = out.sasl_username;
        if (typeof out.sasl_method === 'string') out.method = out.sasl_method;
      } else {
        out.action = 'queue';
      }
      return;
    }
    // qmgr's `from=<a>, size=1234, nrcpt=1 (queue active)`, smtp/lmtp's `to=<b>, relay=…, status=sent (…)`.
    const paren = rest.indexOf(' (');
    keyValues(paren < 0 ? rest : rest.slice(0, paren), out, undefined, QUEUE_NUMBERS);
    if (paren >= 0) out.detail = rest.slice(paren + 2, rest.endsWith(')') ? -1 : undefined);
    if (out.status !== undefined) out.action = 'delivery';
  }
}
