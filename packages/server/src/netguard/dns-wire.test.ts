import { SocketAddress } from 'node:net';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressBytes,
  answersQuestion,
  buildQuery,
  decodeMessage,
  emptyResponse,
  encodeMessage,
  Flag,
  inspectResponse,
  localResponse,
  parseQuery,
  problemResponse,
  Rcode,
  renderResponse,
  smallestTtl,
  soaRdata,
  toTemplate,
  Type,
  typeCode,
  typeName,
  upstreamQuestion,
  type DnsQuery,
  type ResponseTemplate,
} from './dns-wire.js';

const ctx = { limit: 65_535, payloadSize: 1232 };

function query(
  name: string,
  type: dnsPacket.RecordType = 'A',
  options: { id?: number; edns?: number; dnssecOk?: boolean; flags?: number } = {},
): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: options.id ?? 4242,
    flags: options.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals:
      options.edns === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: options.edns,
              flags: options.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
            } as dnsPacket.Answer,
          ],
  });
}

function parsed(buf: Buffer): DnsQuery {
  const q = parseQuery(buf);
  if (!q.ok) throw new Error(`expected a query, got ${q.reason}`);
  return q;
}

const decode = (buf: Buffer) => dnsPacket.decode(buf) as dnsPacket.DecodedPacket & { rcode: string };

function upstreamAnswer(
  name: string,
  answers: dnsPacket.Answer[],
  options: { flags?: number; authorities?: dnsPacket.Answer[]; opt?: boolean; optFirst?: boolean } = {},
): Buffer {
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer;
  const extra: dnsPacket.Answer = { type: 'A', name: `ns.${name}`, ttl: 900, data: '192.0.2.53' };
  return dnsPacket.encode({
    type: 'response',
    id: 999,
    flags: options.flags ?? dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name, type: 'A', class: 'IN' }],
    answers,
    authorities: options.authorities ?? [],
    additionals: options.optFirst ? [opt, extra] : options.opt ? [opt] : [],
  });
}

function template(buf: Buffer): ResponseTemplate {
  const info = inspectResponse(buf);
  if (!info.ok) throw new Error(info.reason);
  const t = toTemplate(buf, info);
  if (!t.ok) throw new Error(t.reason);
  return t;
}

describe('reading queries', () => {
  it('reads the name in lower case, the type and the EDNS payload size and DO bit', () => {
    const q = parsed(query('WWW.Example.ORG', 'AAAA', { edns: 4096, dnssecOk: true }));
    expect(q).toMatchObject({ id: 4242, name: 'www.example.org', qtype: Type.AAAA, qclass: 1 });
    expect(q.edns).toEqual({ udpSize: 4096, version: 0, dnssecOk: true });
    expect(parsed(query('example.org')).edns).toBeUndefined();
  });

  it('writes odd octets of a name as \\DDD, so that two names never read the same', () => {
    const buf = query('a.b', 'A');
    // Turn "a" into "a.b" as one label by hand: 03 'a' '.' 'b' 00
    const odd = Buffer.concat([buf.subarray(0, 12), Buffer.from([3, 0x61, 0x2e, 0x62, 0]), buf.subarray(17)]);
    expect(parsed(odd).name).toBe('a\\046b');
    expect(parsed(query('a.b')).name).toBe('a.b');
  });

  it('reads the root name as "."', () => {
    expect(parsed(query('.', 'NS')).name).toBe('.');
  });

  it('drops packets that are too short or are responses', () => {
    expect(parseQuery(Buffer.alloc(5))).toMatchObject({
      ok: false,
      reason: 'short-header',
      rcode: undefined,
    });
    const response = query('example.org');
    response.writeUInt16BE(response.readUInt16BE(2) | Flag.QR, 2);
    expect(parseQuery(response)).toMatchObject({ ok: false, reason: 'response', rcode: undefined });
  });

  it('answers FORMERR to two questions, a broken name, a compressed question and a misplaced OPT', () => {
    const two = dnsPacket.encode({
      type: 'query',
      id: 1,
      questions: [
        { name: 'a.example', type: 'A' },
        { name: 'b.example', type: 'A' },
      ],
    });
    expect(parseQuery(two)).toMatchObject({
      ok: false,
      reason: 'question-count',
      rcode: Rcode.FORMERR,
      id: 1,
    });
    const noQuestion = dnsPacket.encode({ type: 'query', id: 2, questions: [] });
    expect(parseQuery(noQuestion)).toMatchObject({ rcode: Rcode.FORMERR });
    const cut = query('example.org').subarray(0, 20);
    expect(parseQuery(cut)).toMatchObject({ reason: 'bad-question', rcode: Rcode.FORMERR });
    const pointer = Buffer.from(query('example.org'));
    pointer[12] = 0xc0;
    expect(parseQuery(pointer)).toMatchObject({ reason: 'bad-question', rcode: Rcode.FORMERR });
    const twoOpts = dnsPacket.encode({
      type: 'query',
      id: 3,
      questions: [{ name: 'example.org', type: 'A' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer,
        { type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer,
      ],
    });
    expect(parseQuery(twoOpts)).toMatchObject({ reason: 'bad-opt', rcode: Rcode.FORMERR });
  });

  it('answers NOTIMP to other opcodes and classes, REFUSED to zone transfers, BADVERS to EDNS version 1', () => {
    const status = query('example.org');
    status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2);
    expect(parseQuery(status)).toMatchObject({ reason: 'opcode', rcode: Rcode.NOTIMP });
    const chaos = dnsPacket.encode({
      type: 'query',
      id: 5,
      questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }],
    });
    expect(parseQuery(chaos)).toMatchObject({ reason: 'class', rcode: Rcode.NOTIMP });
    expect(parseQuery(query('example.org', 'AXFR'))).toMatchObject({
      reason: 'zone-transfer',
      rcode: Rcode.REFUSED,
    });
    const v1 = query('example.org', 'A', { edns: 1232 });
    v1[v1.length - 5] = 1; // the OPT's version octet
    expect(parseQuery(v1)).toMatchObject({ reason: 'edns-version', rcode: Rcode.BADVERS });
  });

  it('names types by mnemonic or TYPE<n>', () => {
    expect(typeName(1)).toBe('A');
    expect(typeName(65)).toBe('HTTPS');
    expect(typeName(65_280)).toBe('TYPE65280');
    expect(typeCode('aaaa')).toBe(28);
    expect(typeCode('TYPE65280')).toBe(65_280);
    expect(typeCode('TYPE99999')).toBeUndefined();
  });
});

describe('answers made here', () => {
  const soa = {
    type: Type.SOA,
    ttl: 10,
    rdata: soaRdata({
      mname: 'ns.invalid',
      rname: 'h.invalid',
      serial: 1,
      refresh: 2,
      retry: 3,
      expire: 4,
      minimum: 10,
    }),
  };

  it('NXDOMAIN with an SOA owned by the name, the question echoed as asked', () => {
    const raw = query('Tracker.Example', 'A', { id: 77 });
    const answer = decode(localResponse(raw, parsed(raw), Rcode.NXDOMAIN, undefined, soa, ctx));
    expect(answer.id).toBe(77);
    expect(answer.rcode).toBe('NXDOMAIN');
    expect(answer.flag_qr && answer.flag_rd && answer.flag_ra).toBe(true);
    expect(answer.questions).toEqual([{ name: 'Tracker.Example', type: 'A', class: 'IN' }]);
    expect(answer.authorities).toMatchObject([
      { name: 'Tracker.Example', type: 'SOA', ttl: 10, data: { mname: 'ns.invalid', minimum: 10 } },
    ]);
  });

  it('an address record, with an OPT record when the query had one', () => {
    const raw = query('ads.example', 'AAAA', { edns: 4096, dnssecOk: true });
    const record = { type: Type.AAAA, ttl: 10, rdata: addressBytes('2001:db8::1')! };
    const answer = decode(localResponse(raw, parsed(raw), Rcode.NOERROR, record, undefined, ctx));
    expect(answer.answers).toEqual([
      { name: 'ads.example', type: 'AAAA', ttl: 10, class: 'IN', flush: false, data: '2001:db8::1' },
    ]);
    const opt = answer.additionals?.[0] as dnsPacket.OptAnswer;
    expect(opt).toMatchObject({ type: 'OPT', udpPayloadSize: 1232, flag_do: true });
  });

  it('errors echo the question when it was read, and BADVERS sets the OPT extended RCODE', () => {
    const v1 = query('example.org', 'A', { edns: 1232 });
    v1[v1.length - 5] = 1;
    const p = parseQuery(v1);
    if (p.ok) throw new Error('expected a problem');
    const answer = problemResponse(v1, p, 1232)!;
    expect(answer.readUInt16BE(2) & 0x0f).toBe(0); // 16 = 0x10: the low 4 bits are 0
    const opt = decode(answer).additionals?.[0] as dnsPacket.OptAnswer;
    expect(opt.extendedRcode).toBe(1);
    expect(opt.ednsVersion).toBe(0);
    const twoQ = dnsPacket.encode({
      type: 'query',
      id: 9,
      questions: [
        { name: 'a', type: 'A' },
        { name: 'b', type: 'A' },
      ],
    });
    const formerr = parseQuery(twoQ);
    if (formerr.ok) throw new Error('expected a problem');
    expect(decode(problemResponse(twoQ, formerr, 1232)!)).toMatchObject({
      id: 9,
      rcode: 'FORMERR',
      questions: [],
    });
  });

  it('a truncated answer has TC set, the question, and no records', () => {
    const raw = query('big.example', 'TXT', { edns: 512 });
    const q = parsed(raw);
    const big = { type: Type.TXT, ttl: 5, rdata: Buffer.alloc(600, 1) };
    const answer = decode(
      localResponse(raw, q, Rcode.NOERROR, big, undefined, { limit: 512, payloadSize: 1232 }),
    );
    expect(answer.flag_tc).toBe(true);
    expect(answer.answers).toEqual([]);
    expect(answer.questions?.[0]?.name).toBe('big.example');
  });
});

describe('upstream answers replayed', () => {
  const a = (data: string, ttl: number): dnsPacket.Answer => ({ type: 'A', name: 'example.org', ttl, data });

  it('patches the ID, the name as the client wrote it, and TTLs lowered by the age', () => {
    const tpl = template(
      upstreamAnswer('example.org', [a('192.0.2.1', 300), a('192.0.2.2', 60)], { opt: true }),
    );
    const raw = query('EXAMPLE.org', 'A', { id: 31_000 });
    const answer = decode(renderResponse(tpl, raw, parsed(raw), 45, ctx));
    expect(answer.id).toBe(31_000);
    expect(answer.questions?.[0]?.name).toBe('EXAMPLE.org');
    expect(answer.answers?.map((r) => (r as dnsPacket.StringAnswer).ttl)).toEqual([255, 15]);
    expect(answer.additionals).toEqual([]); // the upstream's OPT is not the client's
  });

  it('never lets a TTL go below zero', () => {
    const tpl = template(upstreamAnswer('example.org', [a('192.0.2.1', 10)]));
    const raw = query('example.org');
    expect(
      (decode(renderResponse(tpl, raw, parsed(raw), 60, ctx)).answers?.[0] as dnsPacket.StringAnswer).ttl,
    ).toBe(0);
  });

  it('adds an OPT record only for clients that sent one, echoing DO', () => {
    const tpl = template(upstreamAnswer('example.org', [a('192.0.2.1', 10)], { opt: true }));
    const withEdns = query('example.org', 'A', { edns: 1400, dnssecOk: true });
    const opt = decode(renderResponse(tpl, withEdns, parsed(withEdns), 0, ctx)).additionals;
    expect(opt).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232, flag_do: true }]);
  });

  it('removes an OPT record that is not last by re-encoding the answer', () => {
    const tpl = template(upstreamAnswer('example.org', [a('192.0.2.1', 10)], { optFirst: true }));
    const raw = query('example.org');
    const answer = decode(renderResponse(tpl, raw, parsed(raw), 0, ctx));
    expect(answer.additionals).toMatchObject([{ type: 'A', name: 'ns.example.org', data: '192.0.2.53' }]);
  });

  it('truncates when the answer exceeds the client payload size', () => {
    const many = Array.from({ length: 40 }, (_, i) => a(`192.0.2.${i}`, 60));
    const tpl = template(upstreamAnswer('example.org', many));
    const raw = query('example.org');
    const small = decode(renderResponse(tpl, raw, parsed(raw), 0, { limit: 512, payloadSize: 1232 }));
    expect(small.flag_tc).toBe(true);
    expect(small.answers).toEqual([]);
    expect(decode(renderResponse(tpl, raw, parsed(raw), 0, ctx)).answers).toHaveLength(40);
  });

  it('finds the SOA of a negative answer and its MINIMUM', () => {
    const soa: dnsPacket.Answer = {
      type: 'SOA',
      name: 'org',
      ttl: 900,
      data: { mname: 'a0.org', rname: 'noc.org', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 120 },
    };
    const buf = upstreamAnswer('nope.org', [], { flags: 3, authorities: [soa] });
    const info = inspectResponse(buf);
    expect(info).toMatchObject({ ok: true, rcode: Rcode.NXDOMAIN, soaIndex: 0, soaMinimum: 120, ancount: 0 });
    expect(smallestTtl(buf)).toBe(120);
  });

  it('checks that an answer matches the question sent, whatever the case of its name', () => {
    const raw = query('Example.ORG');
    const question = upstreamQuestion(raw, parsed(raw));
    expect(question.subarray(0, -4).toString('latin1')).toContain('example');
    const sent = buildQuery(1234, question, { dnssecOk: false, checkingDisabled: false }, 1232);
    expect(parsed(sent).edns?.udpSize).toBe(1232);
    const answer = upstreamAnswer('EXAMPLE.org', [a('192.0.2.1', 10)]);
    expect(answersQuestion(answer, question)).toBe(true);
    expect(answersQuestion(upstreamAnswer('example.net', []), question)).toBe(false);
    expect(answersQuestion(sent, question)).toBe(false); // a query, not an answer
  });
});

describe('addresses', () => {
  /** The kernel's reading of an address (inet_pton, then inet_ntop). */
  const canonical = (address: string, family: 'ipv4' | 'ipv6') =>
    new SocketAddress({ address, family }).address;

  it('reads IPv4 and IPv6 addresses as the system does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const bytes = addressBytes(ip);
        if (!ip.includes(':')) {
          expect(bytes?.join('.')).toBe(canonical(ip, 'ipv4'));
          return;
        }
        const groups = Array.from({ length: 8 }, (_, i) => bytes!.readUInt16BE(i * 2).toString(16)).join(':');
        expect(canonical(groups, 'ipv6')).toBe(canonical(ip, 'ipv6'));
      }),
    );
    expect(addressBytes('::ffff:192.0.2.1')?.toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(addressBytes('not an address')).toBeUndefined();
  });
});

describe('hostile input', () => {
  const validMessages = fc
    .record({
      name: fc.domain(),
      type: fc.constantFrom<dnsPacket.RecordType>('A', 'AAAA', 'TXT', 'MX', 'HTTPS' as dnsPacket.RecordType),
      edns: fc.option(fc.integer({ min: 0, max: 65_535 })),
      id: fc.integer({ min: 0, max: 65_535 }),
    })
    .map(({ name, type, edns, id }) =>
      type === ('HTTPS' as dnsPacket.RecordType)
        ? query(name, 'A', { id })
        : query(name, type, { id, ...(edns === null ? {} : { edns }) }),
    );

  const mutated = fc
    .tuple(
      validMessages,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
    )
    .map(([buf, edits, cut]) => {
      const copy = Buffer.from(buf);
      for (const [at, value] of edits) copy[at % copy.length] = value;
      return copy.subarray(0, cut % (copy.length + 1));
    });

  const anything = fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    mutated,
  );

  it('never throws on random bytes or mutated queries, and returns a typed result', () => {
    fc.assert(
      fc.property(anything, (buf) => {
        const q = parseQuery(buf);
        if (!q.ok) {
          expect(q.reason).toBeTypeOf('string');
          if (q.rcode !== undefined) expect(() => problemResponse(buf, q, 1232)).not.toThrow();
        } else {
          expect(q.questionEnd).toBeLessThanOrEqual(buf.length);
          expect(() => localResponse(buf, q, Rcode.NXDOMAIN, undefined, undefined, ctx)).not.toThrow();
        }
        const info = inspectResponse(buf);
        expect(typeof info.ok).toBe('boolean');
        if (info.ok) expect(() => toTemplate(buf, info)).not.toThrow();
        const decoded = decodeMessage(buf);
        if (!decoded.ok) expect(decoded.reason).toBeTypeOf('string');
        expect(() => smallestTtl(buf)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });

  it('reads every valid query as dns-packet does', () => {
    fc.assert(
      fc.property(validMessages, (buf) => {
        const q = parsed(buf);
        const packet = decode(buf);
        expect(q.name).toBe(packet.questions![0]!.name.toLowerCase());
        expect(typeName(q.qtype)).toBe(packet.questions![0]!.type);
        expect(q.id).toBe(packet.id);
      }),
    );
  });

  it('answers every readable query with a message dns-packet decodes, echoing its ID and question', () => {
    fc.assert(
      fc.property(mutated, (buf) => {
        const q = parseQuery(buf);
        const answer = q.ok ? emptyResponse(buf, q, Rcode.SERVFAIL, 1232) : problemResponse(buf, q, 1232);
        if (answer === undefined) return;
        const decoded = decodeMessage(answer);
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(decoded.message.id).toBe(buf.readUInt16BE(0));
      }),
      { numRuns: 2000 },
    );
  });

  it('encodeMessage reports what dns-packet cannot encode instead of throwing', () => {
    const bad = encodeMessage({ additionals: [{ type: 'OPT', name: 'not-root' } as dnsPacket.Answer] });
    expect(bad.ok).toBe(false);
  });
});
