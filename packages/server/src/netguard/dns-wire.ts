/**
 * DNS messages on the wire (RFC 1035 §4.1).
 *
 * The query path reads and writes bytes by hand: one pass over a query's header and question,
 * answers assembled from the query's own bytes (the question is echoed as it was asked, RFC 1035
 * §4.1.2, letter case included), stored upstream answers copied with their ID and TTLs patched.
 * No message is decoded into objects and re-encoded on that path. dns-packet serves where a whole
 * message has to be understood or rebuilt (the rare re-encoding of an upstream answer, tests), behind
 * `decodeMessage` and `encodeMessage`, which never throw.
 *
 * Nothing here throws on hostile input: every reader returns a typed result.
 */
import { isIPv4, isIPv6 } from 'node:net';
import * as dnsPacket from 'dns-packet';

export const HEADER_SIZE = 12;
/** An OPT pseudo-record with no options (RFC 6891 §6.1.2): root name, type, class, TTL, RDLENGTH. */
export const OPT_SIZE = 11;
/** RFC 1035 §4.2.1: without EDNS a UDP message carries at most 512 bytes. */
export const MIN_UDP_PAYLOAD = 512;
/** A TCP (RFC 1035 §4.2.2) or DoH message is at most 65,535 bytes. */
export const MAX_MESSAGE = 65_535;

/** Header flag bits (RFC 1035 §4.1.1; AD and CD from RFC 4035 §3.2). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;
const OPCODE_MASK = 0x7800;
const RCODE_MASK = 0x000f;

/** Response codes (RFC 1035 §4.1.1; BADVERS is an extended code, RFC 6891 §9). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));
export function rcodeName(rcode: number): string {
  return rcodeNames.get(rcode) ?? `RCODE${rcode}`;
}

export const CLASS_IN = 1;

/** Record types by mnemonic (IANA "Resource Record (RR) TYPEs"). */
export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  SIG: 24,
  KEY: 25,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

const typeNames = new Map<number, string>(Object.entries(Type).map(([name, code]) => [code, name]));
const typeCodes = new Map<string, number>(Object.entries(Type));

/** The mnemonic of a record type, or `TYPE<n>` for the others (RFC 3597 §5). */
export function typeName(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}

/** The code of a mnemonic or of a `TYPE<n>` name (RFC 3597 §5), case-insensitive. */
export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = typeCodes.get(upper);
  if (known !== undefined) return known;
  const generic = /^TYPE(\d{1,5})$/.exec(upper);
  const code = generic ? Number(generic[1]) : NaN;
  return code <= 0xffff ? code : undefined;
}

// ---------------------------------------------------------------------------------------------
// Queries

/** What a query's OPT record asked for (RFC 6891 §6.1.3). */
export interface Edns {
  /** The requestor's UDP payload size, as sent (RFC 6891 §6.2.3). */
  readonly udpSize: number;
  readonly version: number;
  /** The DO bit (RFC 3225 §3). */
  readonly dnssecOk: boolean;
}

/** A query that can be answered: one question, opcode QUERY, class IN. */
export interface DnsQuery {
  readonly ok: true;
  readonly id: number;
  /** The header's flag word as received. */
  readonly flags: number;
  /**
   * The question name in lower case, without the final dot ("." for the root). Octets other than
   * letters, digits, and printable punctuation other than "." and "\" are written `\DDD` (RFC 1035
   * §5.1), so that two different names never read the same.
   */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Where the question ends: bytes 12 to here are the question exactly as asked. */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
}

export type QueryProblemReason =
  | 'short-header'
  | 'response'
  | 'opcode'
  | 'question-count'
  | 'bad-question'
  | 'bad-record'
  | 'bad-opt'
  | 'edns-version'
  | 'class'
  | 'meta-type'
  | 'zone-transfer';

/** A packet that is not an answerable query, and what to do about it. */
export interface QueryProblem {
  readonly ok: false;
  readonly reason: QueryProblemReason;
  /** The answer's response code, or undefined when the packet is dropped without an answer. */
  readonly rcode: number | undefined;
  readonly id: number;
  readonly flags: number;
  /** Where the question ends when it was read and is echoed in the answer; 0 otherwise. */
  readonly questionEnd: number;
  /** EDNS of the query when its OPT record was read: the answer then carries one too. */
  readonly edns: Edns | undefined;
}

export type ParsedQuery = DnsQuery | QueryProblem;

function problem(
  reason: QueryProblemReason,
  rcode: number | undefined,
  buf: Buffer,
  questionEnd = 0,
  edns: Edns | undefined = undefined,
): QueryProblem {
  const id = buf.length >= 2 ? buf.readUInt16BE(0) : 0;
  const flags = buf.length >= 4 ? buf.readUInt16BE(2) : 0;
  return { ok: false, reason, rcode, id, flags, questionEnd, edns };
}

/** Scratch space for names: parsing is synchronous, so one buffer serves every query. */
const scratch = Buffer.allocUnsafe(256);
let lastName = '.';

/**
 * Reads the name starting at 12 (the question), leaving it in `lastName`; returns the offset after
 * it, or -1. A question name is never compressed: a pointer could only point into the header.
 */
function readQuestionName(buf: Buffer): number {
  const end = buf.length;
  let off = HEADER_SIZE;
  let out = 0;
  let wire = 1;
  let plain = true;
  for (;;) {
    if (off >= end) return -1;
    const len = buf[off++]!;
    if (len === 0) break;
    if (len > 63) return -1; // pointers and the reserved 01/10 label types (RFC 6891 §5)
    wire += len + 1;
    if (wire > 255 || off + len > end) return -1; // RFC 1035 §2.3.4
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = off; i < off + len; i++) {
      let c = buf[i]!;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f))
        plain = false;
      scratch[out++] = c;
    }
    off += len;
  }
  lastName =
    out === 0 ? '.' : plain ? scratch.toString('latin1', 0, out) : presentationName(buf, HEADER_SIZE);
  return off;
}

/** The slow path of `readQuestionName`, for names with octets outside [a-z0-9_-]. */
function presentationName(buf: Buffer, off: number): string {
  const labels: string[] = [];
  for (let len = buf[off]!; len !== 0; len = buf[off]!) {
    let label = '';
    for (let i = off + 1; i <= off + len; i++) {
      let c = buf[i]!;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      label +=
        c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c
          ? String.fromCharCode(c)
          : `\\${String(c).padStart(3, '0')}`;
    }
    labels.push(label);
    off += len + 1;
  }
  return labels.join('.');
}

/** Skips a possibly compressed name; returns the offset after it, or -1. */
function skipName(buf: Buffer, off: number): number {
  const end = buf.length;
  for (;;) {
    if (off >= end) return -1;
    const len = buf[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= end ? off + 2 : -1; // RFC 1035 §4.1.4
    if (len > 63) return -1;
    off += len + 1;
  }
}

/**
 * Reads a query: header, the one question, and the OPT record if there is one. Never throws.
 *
 * - unreadable header, or a response (QR set): dropped. Answering a response could start a loop
 *   between two servers, and there is no ID to answer a short packet with.
 * - opcode other than QUERY: NOTIMP (RFC 1035 §4.1.1).
 * - no question or several (RFC 9619 §4), a broken name or record, two OPT records or an OPT
 *   outside the additional section (RFC 6891 §6.1.1), an OPT or type 0 question: FORMERR.
 * - EDNS version above 0: BADVERS (RFC 6891 §6.1.3).
 * - class other than IN, or a meta-type (TKEY, TSIG, MAILA, MAILB): NOTIMP; a zone transfer:
 *   REFUSED (this is a forwarder, not an authoritative server).
 */
export function parseQuery(buf: Buffer): ParsedQuery {
  if (buf.length < HEADER_SIZE) return problem('short-header', undefined, buf);
  const flags = buf.readUInt16BE(2);
  if (flags & Flag.QR) return problem('response', undefined, buf);
  if (flags & OPCODE_MASK) return problem('opcode', Rcode.NOTIMP, buf);
  if (buf.readUInt16BE(4) !== 1) return problem('question-count', Rcode.FORMERR, buf);

  const nameEnd = readQuestionName(buf);
  if (nameEnd < 0 || nameEnd + 4 > buf.length) return problem('bad-question', Rcode.FORMERR, buf);
  const name = lastName;
  const qtype = buf.readUInt16BE(nameEnd);
  const qclass = buf.readUInt16BE(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  // Queries seldom carry records besides OPT, but they may (RFC 1035 §4.1): skip them.
  let off = questionEnd;
  const skip = buf.readUInt16BE(6) + buf.readUInt16BE(8);
  const additional = buf.readUInt16BE(10);
  let edns: Edns | undefined;
  for (let i = 0; i < skip + additional; i++) {
    const start = off;
    off = skipName(buf, off);
    if (off < 0 || off + 10 > buf.length) return problem('bad-record', Rcode.FORMERR, buf, questionEnd);
    const type = buf.readUInt16BE(off);
    const rdataEnd = off + 10 + buf.readUInt16BE(off + 8);
    if (rdataEnd > buf.length) return problem('bad-record', Rcode.FORMERR, buf, questionEnd);
    if (type === Type.OPT) {
      if (i < skip || edns !== undefined || buf[start] !== 0)
        return problem('bad-opt', Rcode.FORMERR, buf, questionEnd);
      edns = {
        udpSize: buf.readUInt16BE(off + 2),
        version: buf[off + 5]!,
        dnssecOk: (buf.readUInt16BE(off + 6) & 0x8000) !== 0,
      };
    }
    off = rdataEnd;
  }

  if (edns && edns.version > 0) return problem('edns-version', Rcode.BADVERS, buf, questionEnd, edns);
  if (qclass !== CLASS_IN) return problem('class', Rcode.NOTIMP, buf, questionEnd, edns);
  if (qtype === 0 || qtype === Type.OPT) return problem('meta-type', Rcode.FORMERR, buf, questionEnd, edns);
  if (qtype === Type.AXFR || qtype === Type.IXFR)
    return problem('zone-transfer', Rcode.REFUSED, buf, questionEnd, edns);
  if (qtype >= Type.TKEY && qtype <= Type.MAILA)
    return problem('meta-type', Rcode.NOTIMP, buf, questionEnd, edns);
  return { ok: true, id: buf.readUInt16BE(0), flags, name, qtype, qclass, questionEnd, edns };
}

/** The UDP payload size an answer to `q` may use (RFC 6891 §6.2.3, §6.2.5), at most `cap`. */
export function udpLimit(edns: Edns | undefined, cap: number): number {
  if (!edns) return MIN_UDP_PAYLOAD;
  return Math.min(Math.max(edns.udpSize, MIN_UDP_PAYLOAD), cap);
}

// ---------------------------------------------------------------------------------------------
// Answers built here

/** A record whose owner is the question name, written as a pointer to it. */
export interface LocalRecord {
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

/** What every answer carries besides its records. */
export interface AnswerContext {
  /** The largest message the transport carries: the client's UDP size, or 65,535. */
  readonly limit: number;
  /** The UDP payload size this server advertises in its OPT records. */
  readonly payloadSize: number;
}

/** Response flags for a query's flags: QR, the opcode, RD and CD copied (RFC 1035 §4.1.1), RA. */
function responseFlags(queryFlags: number, rcode: number): number {
  return Flag.QR | (queryFlags & (OPCODE_MASK | Flag.RD | Flag.CD)) | Flag.RA | (rcode & RCODE_MASK);
}

/** Writes an OPT record with no options (RFC 6891 §6.1.2, §6.1.3). */
function writeOpt(out: Buffer, off: number, payloadSize: number, rcode: number, dnssecOk: boolean): void {
  out[off] = 0;
  out.writeUInt16BE(Type.OPT, off + 1);
  out.writeUInt16BE(payloadSize, off + 3);
  out[off + 5] = rcode >> 4; // the upper 8 bits of a 12-bit RCODE
  out[off + 6] = 0; // version 0
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, off + 7); // DO copied into the response (RFC 3225 §3)
  out.writeUInt16BE(0, off + 9);
}

function writeHeader(out: Buffer, id: number, flags: number, qd: number, an: number, ns: number, ar: number) {
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(qd, 4);
  out.writeUInt16BE(an, 6);
  out.writeUInt16BE(ns, 8);
  out.writeUInt16BE(ar, 10);
}

/**
 * An answer with no records: an error, or a truncated answer (TC set, RFC 2181 §9) that tells
 * the client to ask again over TCP. The question is echoed when it was read; an OPT record is
 * added when the query had one (RFC 6891 §7), and carries the upper bits of an extended RCODE.
 */
export function emptyResponse(
  raw: Buffer,
  query: { id: number; flags: number; questionEnd: number; edns: Edns | undefined },
  rcode: number,
  payloadSize: number,
  extraFlags = 0,
): Buffer {
  const { questionEnd, edns } = query;
  const size = Math.max(questionEnd, HEADER_SIZE) + (edns ? OPT_SIZE : 0);
  const out = Buffer.allocUnsafe(size);
  writeHeader(
    out,
    query.id,
    responseFlags(query.flags, rcode) | extraFlags,
    questionEnd > 0 ? 1 : 0,
    0,
    0,
    edns ? 1 : 0,
  );
  if (questionEnd > 0) raw.copy(out, HEADER_SIZE, HEADER_SIZE, questionEnd);
  if (edns) writeOpt(out, size - OPT_SIZE, payloadSize, rcode, edns.dnssecOk);
  return out;
}

/** The answer to a problem query (see `parseQuery`), or undefined when it is dropped. */
export function problemResponse(raw: Buffer, p: QueryProblem, payloadSize: number): Buffer | undefined {
  return p.rcode === undefined ? undefined : emptyResponse(raw, p, p.rcode, payloadSize);
}

/**
 * An answer made here: at most one answer record and one authority record, both owned by the
 * question name (compressed to a pointer to it, RFC 1035 §4.1.4).
 */
export function localResponse(
  raw: Buffer,
  q: DnsQuery,
  rcode: number,
  answer: LocalRecord | undefined,
  authority: LocalRecord | undefined,
  ctx: AnswerContext,
): Buffer {
  const opt = q.edns ? OPT_SIZE : 0;
  const size =
    q.questionEnd +
    (answer ? 12 + answer.rdata.length : 0) +
    (authority ? 12 + authority.rdata.length : 0) +
    opt;
  if (size > ctx.limit) return emptyResponse(raw, q, rcode, ctx.payloadSize, Flag.TC);
  const out = Buffer.allocUnsafe(size);
  writeHeader(out, q.id, responseFlags(q.flags, rcode), 1, answer ? 1 : 0, authority ? 1 : 0, opt ? 1 : 0);
  raw.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd);
  let off = q.questionEnd;
  if (answer) off = writeRecord(out, off, answer);
  if (authority) off = writeRecord(out, off, authority);
  if (q.edns) writeOpt(out, off, ctx.payloadSize, rcode, q.edns.dnssecOk);
  return out;
}

function writeRecord(out: Buffer, off: number, r: LocalRecord): number {
  out.writeUInt16BE(0xc000 | HEADER_SIZE, off);
  out.writeUInt16BE(r.type, off + 2);
  out.writeUInt16BE(CLASS_IN, off + 4);
  out.writeUInt32BE(r.ttl, off + 6);
  out.writeUInt16BE(r.rdata.length, off + 10);
  r.rdata.copy(out, off + 12);
  return off + 12 + r.rdata.length;
}

/** A name in wire form (RFC 1035 §3.1), from its plain presentation form; undefined if invalid. */
export function encodeName(name: string): Buffer | undefined {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed === '' ? [] : trimmed.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63 || label !== bytes.toString('latin1')) return undefined;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  return wire.length <= 255 ? wire : undefined;
}

export interface SoaFields {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  /** The negative-caching TTL (RFC 2308 §4). */
  minimum: number;
}

/** SOA RDATA (RFC 1035 §3.3.13). Throws on invalid names: it is built from constants. */
export function soaRdata(soa: SoaFields): Buffer {
  const mname = encodeName(soa.mname);
  const rname = encodeName(soa.rname);
  if (!mname || !rname) throw new Error(`invalid SOA names ${soa.mname} ${soa.rname}`);
  const numbers = Buffer.allocUnsafe(20);
  [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum].forEach((n, i) =>
    numbers.writeUInt32BE(n >>> 0, i * 4),
  );
  return Buffer.concat([mname, rname, numbers]);
}

/** The RDATA of an A or AAAA record for an address (4 or 16 bytes), or undefined if it is not one. */
export function addressBytes(address: string): Buffer | undefined {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) return undefined;
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = Buffer.alloc(16);
  // An embedded IPv4 address takes the place of the last two groups (RFC 4291 §2.2, form 3).
  const lastColon = text.lastIndexOf(':');
  let v4: number[] | undefined;
  if (text.includes('.', lastColon)) {
    v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined
      ? headGroups
      : [
          ...headGroups,
          ...new Array<string>(8 - headGroups.length - restGroups.length).fill('0'),
          ...restGroups,
        ];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (v4) v4.forEach((b, i) => (out[12 + i] = b));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Queries sent upstream, and the answers that come back

/** The question of a query with its name in lower case, as sent upstream. */
export function upstreamQuestion(raw: Buffer, q: DnsQuery): Buffer {
  const question = Buffer.from(raw.subarray(HEADER_SIZE, q.questionEnd));
  // Length octets are below 64, so folding every octet in A-Z only touches the name's letters.
  for (let i = 0; i < question.length - 4; i++) {
    const c = question[i]!;
    if (c >= 0x41 && c <= 0x5a) question[i] = c + 0x20;
  }
  return question;
}

export interface UpstreamQueryFlags {
  readonly checkingDisabled: boolean;
  readonly dnssecOk: boolean;
}

/** A recursive query for `question` with an OPT record advertising `payloadSize` (RFC 6891 §6.2.5). */
export function buildQuery(id: number, question: Buffer, flags: UpstreamQueryFlags, payloadSize: number) {
  const out = Buffer.allocUnsafe(HEADER_SIZE + question.length + OPT_SIZE);
  writeHeader(out, id, Flag.RD | (flags.checkingDisabled ? Flag.CD : 0), 1, 0, 0, 1);
  question.copy(out, HEADER_SIZE);
  writeOpt(out, HEADER_SIZE + question.length, payloadSize, 0, flags.dnssecOk);
  return out;
}

/**
 * Whether `response` answers the query that carried `question`: a response, opcode QUERY, one
 * question equal to ours (the name compared without regard to case, RFC 4343 §3). The ID is checked
 * by the caller, which finds the query by it.
 */
export function answersQuestion(response: Buffer, question: Buffer): boolean {
  const end = HEADER_SIZE + question.length;
  if (response.length < end) return false;
  const flags = response.readUInt16BE(2);
  if (!(flags & Flag.QR) || flags & OPCODE_MASK || response.readUInt16BE(4) !== 1) return false;
  const nameLength = question.length - 4;
  for (let i = 0; i < nameLength; i++) {
    let a = response[HEADER_SIZE + i]!;
    if (a >= 0x41 && a <= 0x5a) a += 0x20;
    if (a !== question[i]) return false; // ours is in lower case already
  }
  return response.readUInt32BE(HEADER_SIZE + nameLength) === question.readUInt32BE(nameLength);
}

export interface WireError {
  readonly ok: false;
  readonly reason: string;
}

/** Where a response keeps what a cache needs, found in one pass over its records. */
export interface ResponseInfo {
  readonly ok: true;
  readonly id: number;
  readonly flags: number;
  /** The full RCODE: the header's 4 bits and the OPT record's upper 8 (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly truncated: boolean;
  readonly questionEnd: number;
  readonly ancount: number;
  /** Where the last record ends; bytes after it are ignored. */
  readonly end: number;
  /** The TTL field of every record but OPT, and its value (RFC 2181 §8: above 2^31 - 1 reads as 0). */
  readonly ttlOffsets: number[];
  readonly ttls: number[];
  /** Index in `ttls` of the first SOA of the authority section, or -1 (RFC 2308 §3). */
  readonly soaIndex: number;
  /** That SOA's MINIMUM field (RFC 2308 §4). */
  readonly soaMinimum: number;
  readonly opt: { readonly start: number; readonly end: number; readonly edns: Edns } | undefined;
}

const fail = (reason: string): WireError => ({ ok: false, reason });

/** Walks a response's records without decoding their data. Never throws. */
export function inspectResponse(buf: Buffer): ResponseInfo | WireError {
  if (buf.length < HEADER_SIZE) return fail('short header');
  const flags = buf.readUInt16BE(2);
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  const arcount = buf.readUInt16BE(10);
  let off = HEADER_SIZE;
  for (let i = 0; i < qdcount; i++) {
    off = skipName(buf, off);
    if (off < 0 || off + 4 > buf.length) return fail('bad question');
    off += 4;
  }
  const questionEnd = off;
  const ttlOffsets: number[] = [];
  const ttls: number[] = [];
  let soaIndex = -1;
  let soaMinimum = 0;
  let opt: ResponseInfo['opt'];
  const records = ancount + nscount + arcount;
  for (let i = 0; i < records; i++) {
    const start = off;
    off = skipName(buf, off);
    if (off < 0 || off + 10 > buf.length) return fail('bad record');
    const type = buf.readUInt16BE(off);
    const rdataEnd = off + 10 + buf.readUInt16BE(off + 8);
    if (rdataEnd > buf.length) return fail('record past the end');
    if (type === Type.OPT) {
      if (i < ancount + nscount || opt || buf[start] !== 0) return fail('misplaced OPT'); // RFC 6891 §6.1.1
      const edns = {
        udpSize: buf.readUInt16BE(off + 2),
        version: buf[off + 5]!,
        dnssecOk: (buf.readUInt16BE(off + 6) & 0x8000) !== 0,
      };
      opt = { start, end: rdataEnd, edns };
    } else {
      const ttl = buf.readUInt32BE(off + 4);
      if (type === Type.SOA && soaIndex < 0 && i >= ancount && i < ancount + nscount) {
        if (rdataEnd - off - 10 < 22) return fail('short SOA');
        soaIndex = ttls.length;
        soaMinimum = buf.readUInt32BE(rdataEnd - 4);
      }
      ttlOffsets.push(off + 4);
      ttls.push(ttl > 0x7fffffff ? 0 : ttl);
    }
    off = rdataEnd;
  }
  const rcode = (flags & RCODE_MASK) | (opt ? buf[opt.start + 5]! << 4 : 0);
  return {
    ok: true,
    id: buf.readUInt16BE(0),
    flags,
    rcode,
    truncated: (flags & Flag.TC) !== 0,
    questionEnd,
    ancount,
    end: off,
    ttlOffsets,
    ttls,
    soaIndex,
    soaMinimum: soaMinimum > 0x7fffffff ? 0 : soaMinimum,
    opt,
  };
}

/**
 * An upstream answer kept for replay: without its OPT record (each client gets its own, or none),
 * its TTL fields listed so that a replay can count them down.
 */
export interface ResponseTemplate {
  readonly ok: true;
  readonly wire: Buffer;
  readonly flags: number;
  readonly rcode: number;
  readonly questionEnd: number;
  readonly ancount: number;
  readonly ttlOffsets: readonly number[];
  /** TTLs to replay from; a cache may lower them (caps, RFC 2308 §5 for the SOA). */
  readonly ttls: number[];
  readonly soaIndex: number;
  readonly soaMinimum: number;
}

/**
 * Makes a template of an upstream answer. The OPT record is cut off when it is the last record, as
 * servers write it; otherwise the message is decoded and re-encoded without it.
 */
export function toTemplate(buf: Buffer, info: ResponseInfo): ResponseTemplate | WireError {
  const { opt } = info;
  if (opt && opt.end !== info.end) {
    const decoded = decodeMessage(buf);
    if (!decoded.ok) return decoded;
    const message = decoded.message;
    const encoded = encodeMessage({
      ...message,
      type: 'response',
      flags: info.flags & ~RCODE_MASK,
      additionals: (message.additionals ?? []).filter((a) => a.type !== 'OPT'),
    });
    if (!encoded.ok) return encoded;
    encoded.wire.writeUInt16BE(info.flags, 2);
    const again = inspectResponse(encoded.wire);
    if (!again.ok || again.opt) return fail('cannot remove the OPT record');
    return toTemplate(encoded.wire, again);
  }
  const wire = Buffer.from(buf.subarray(0, opt ? opt.start : info.end));
  if (opt) wire.writeUInt16BE(wire.readUInt16BE(10) - 1, 10);
  return {
    ok: true,
    wire,
    flags: info.flags,
    rcode: info.rcode,
    questionEnd: info.questionEnd,
    ancount: info.ancount,
    ttlOffsets: info.ttlOffsets,
    ttls: info.ttls.slice(),
    soaIndex: info.soaIndex,
    soaMinimum: info.soaMinimum,
  };
}

/**
 * Replays a template for one query: the query's ID, its flags (RD, CD copied; AD only when the
 * client asked for it by AD or DO, RFC 6840 §5.8), its spelling of the name, TTLs lowered by the
 * template's age, an OPT record when the query had one. The template's question must be the query's
 * (the same name, type and class). Answers larger than `ctx.limit` are truncated (RFC 6891 §7).
 */
export function renderResponse(
  tpl: ResponseTemplate,
  raw: Buffer,
  q: DnsQuery,
  ageSeconds: number,
  ctx: AnswerContext,
): Buffer {
  const base = tpl.wire.length;
  const size = base + (q.edns ? OPT_SIZE : 0);
  const rcode = tpl.rcode & RCODE_MASK;
  if (tpl.questionEnd !== q.questionEnd) return emptyResponse(raw, q, Rcode.SERVFAIL, ctx.payloadSize); // not its question
  if (size > ctx.limit) return emptyResponse(raw, q, rcode, ctx.payloadSize, Flag.TC);
  const out = Buffer.allocUnsafe(size);
  tpl.wire.copy(out, 0);
  const wantsAd = (q.flags & Flag.AD) !== 0 || q.edns?.dnssecOk === true;
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(responseFlags(q.flags, rcode) | (wantsAd ? tpl.flags & Flag.AD : 0), 2);
  raw.copy(out, HEADER_SIZE, HEADER_SIZE, q.questionEnd - 4);
  const { ttlOffsets, ttls } = tpl;
  for (let i = 0; i < ttlOffsets.length; i++) {
    const ttl = ttls[i]!;
    out.writeUInt32BE(ttl > ageSeconds ? ttl - ageSeconds : 0, ttlOffsets[i]);
  }
  if (q.edns) {
    writeOpt(out, base, ctx.payloadSize, 0, q.edns.dnssecOk);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  return out;
}

/** The smallest TTL of a response's records, OPT aside, or undefined when it has none. */
export function smallestTtl(buf: Buffer): number | undefined {
  const info = inspectResponse(buf);
  if (!info.ok || info.ttls.length === 0) return undefined;
  let min = info.ttls[0]!;
  for (const ttl of info.ttls) if (ttl < min) min = ttl;
  // A negative answer is fresh for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
  if (info.soaIndex >= 0 && info.ancount === 0) min = Math.min(min, info.soaMinimum);
  return min;
}

/** The response code of a message, or undefined when its header is unreadable. */
export function responseCode(buf: Buffer): number | undefined {
  const info = inspectResponse(buf);
  return info.ok ? info.rcode : undefined;
}

/** Prefixes a message with its 2-byte length, as TCP carries it (RFC 1035 §4.2.2). */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 2);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Whole messages, through dns-packet

/** A decoded message; dns-packet also sets `rcode` and `opcode` names, which its types leave out. */
export interface DecodedMessage extends dnsPacket.DecodedPacket {
  rcode?: string;
  opcode?: string;
}

/** Decodes a whole message with dns-packet. Never throws. */
export function decodeMessage(buf: Buffer): { ok: true; message: DecodedMessage } | WireError {
  try {
    return { ok: true, message: dnsPacket.decode(buf) };
  } catch (error) {
    return fail(error instanceof Error ? error.message : 'undecodable message');
  }
}

/**
 * Encodes a message with dns-packet. Never throws. Remember that dns-packet takes the response
 * code from the low bits of `flags` and ignores an `rcode` field.
 */
export function encodeMessage(packet: dnsPacket.Packet): { ok: true; wire: Buffer } | WireError {
  try {
    return { ok: true, wire: dnsPacket.encode(packet) };
  } catch (error) {
    return fail(error instanceof Error ? error.message : 'unencodable message');
  }
}
