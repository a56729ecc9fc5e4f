/**
 * The NCSA common and combined log formats that nginx and Apache httpd write by default
 * (`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`), for `category: webserver`, with the
 * field names of Sigma's `webserver` taxonomy: `c-ip`, `cs-username`, `cs-method`, `cs-uri-stem`,
 * `cs-uri-query` (the part after `?`, without it), `cs-version`, `sc-status`, `sc-bytes`,
 * `cs-referer`, `cs-user-agent`; plus `cs-uri`, the request target whole, and `cs-request`, the
 * request line as logged (also when it is not HTTP: scanners send anything). `-` leaves a field out.
 * Whatever a site appends after the user agent (nginx's `$http_x_forwarded_for`…) is ignored.
 */
import type { Fields } from './fields.js';

const COMBINED =
  /^(\S{1,255}) (\S{1,255}) (\S{1,512}) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d{1,15}|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;
const REQUEST = /^([A-Za-z]{1,20}) (\S+)(?: (HTTP\/\d(?:\.\d)?))?$/;
const ESCAPE = /\\(x[0-9A-Fa-f]{2}|.)/g;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The fields of a combined (or common) log line and its time, or undefined when it is not one.
 *
 * @example
 *   parseCombinedLine('203.0.113.9 - - [03/Dec/2026:05:20:21 +0100] "GET /owa/?x=1 HTTP/1.1" 302 0 "-" "curl/8.5.0"')
 *   // { time: …, fields: { 'c-ip': '203.0.113.9', 'cs-method': 'GET', 'cs-uri-stem': '/owa/',
 *   //   'cs-uri-query': 'x=1', 'sc-status': 302, 'sc-bytes': 0, 'cs-user-agent': 'curl/8.5.0', … } }
 */
export function parseCombinedLine(line: string): { time: number; fields: Fields } | undefined {
  const m = COMBINED.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[5] as string);
  const day = Number(m[4]);
  const year = Number(m[6]);
  const h = Number(m[7]);
  const min = Number(m[8]);
  const s = Number(m[9]);
  if (month < 0 || day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return undefined;
  const zone = m[10] as string;
  const offset = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const time = Date.UTC(year, month, day, h, min, s) - offset * 60_000;

  const fields: Fields = { 'c-ip': m[1] as string };
  if (m[3] !== '-') fields['cs-username'] = m[3] as string;
  const request = unescape(m[11] as string);
  fields['cs-request'] = request;
  const r = REQUEST.exec(request);
  if (r) {
    fields['cs-method'] = r[1] as string;
    const target = r[2] as string;
    fields['cs-uri'] = target;
    const q = target.indexOf('?');
    fields['cs-uri-stem'] = q < 0 ? target : target.slice(0, q);
    if (q >= 0 && q < target.length - 1) fields['cs-uri-query'] = target.slice(q + 1);
    if (r[3] !== undefined) fields['cs-version'] = r[3];
  }
  if (m[12] !== '-') fields['sc-status'] = Number(m[12]);
  if (m[13] !== '-') fields['sc-bytes'] = Number(m[13]);
  if (m[14] !== undefined && m[14] !== '-') fields['cs-referer'] = unescape(m[14]);
  if (m[15] !== undefined && m[15] !== '-') fields['cs-user-agent'] = unescape(m[15]);
  return { time, fields };
}

/** nginx and Apache escape `"` and `\` (and control bytes as `\xHH`) inside quoted fields. */
function unescape(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(ESCAPE, (_, e: string) =>
    e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e,
  );
}
