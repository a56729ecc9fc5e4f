/**
 * A small authoritative DNS server on loopback, UDP and TCP on one port, answering from a table of
 * records: the upstream of the resolver's tests. It can be told to be slow, silent, to truncate
 * every UDP answer, to fail (SERVFAIL, REFUSED), or to answer a question nobody asked.
 *
 * Unknown names get NXDOMAIN and known names without the asked type NODATA, both with the zone's
 * SOA in the authority section (RFC 2308 §3). UDP answers larger than the query's payload size
 * (512 without EDNS) are sent truncated, TC set, as a real server does (RFC 6891 §7).
 */
import dgram from 'node:dgram';
import { Server as TcpServer, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';

/** A record of the table: its owner name is the table's key. */
export type TestRecord = dnsPacket.Answer extends infer A
  ? A extends unknown
    ? Omit<A, 'name'>
    : never
  : never;

export type TestUpstreamMode =
  | 'answer'
  | 'silent'
  | 'servfail'
  | 'refused'
  /** Every UDP answer comes back empty with TC set; TCP answers normally. */
  | 'truncate'
  /** Answers with another name in the question: a spoofed or confused answer. */
  | 'wrong-question';

export interface TestUpstreamOptions {
  /** Records by owner name (lower case); their `name` is filled in. */
  records?: Record<string, TestRecord[]>;
  /** The zone whose SOA goes with negative answers (default "example"). */
  zone?: string;
  soa?: { ttl: number; minimum: number };
  mode?: TestUpstreamMode;
  delayMs?: number;
}

export interface ReceivedQuery {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
  /** The source port it came from. */
  readonly from: number;
  readonly id: number;
  readonly edns: boolean;
  readonly dnssecOk: boolean;
  readonly udpSize: number | undefined;
}

export interface TestUpstream {
  readonly host: string;
  readonly port: number;
  /** `{ host, port }`, as the resolver's options take it. */
  readonly server: { host: string; port: number };
  readonly queries: ReceivedQuery[];
  mode: TestUpstreamMode;
  delayMs: number;
  soa: { ttl: number; minimum: number };
  set(name: string, records: TestRecord[]): void;
  close(): Promise<void>;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;

export async function startTestUpstream(options: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const records = new Map<string, TestRecord[]>(Object.entries(options.records ?? {}));
  const zone = options.zone ?? 'example';
  const udp = dgram.createSocket('udp4');
  const tcp = new TcpServer();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const upstream: TestUpstream = {
    host: '127.0.0.1',
    port: 0,
    server: { host: '127.0.0.1', port: 0 },
    queries: [],
    mode: options.mode ?? 'answer',
    delayMs: options.delayMs ?? 0,
    soa: options.soa ?? { ttl: 3600, minimum: 300 },
    set: (name, list) => records.set(name.toLowerCase(), list),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };

  function answer(
    query: dnsPacket.DecodedPacket,
    transport: 'udp' | 'tcp',
    from: number,
  ): Buffer | undefined {
    const question = query.questions?.[0];
    const opt = query.additionals?.find((a): a is dnsPacket.OptAnswer => a.type === 'OPT');
    upstream.queries.push({
      name: question?.name ?? '',
      type: question?.type ?? '',
      transport,
      from,
      id: query.id ?? 0,
      edns: opt !== undefined,
      dnssecOk: opt?.flag_do ?? false,
      udpSize: opt?.udpPayloadSize,
    });
    if (!question || upstream.mode === 'silent') return undefined;
    const base = {
      type: 'response' as const,
      id: query.id,
      questions:
        upstream.mode === 'wrong-question' ? [{ ...question, name: `other.${question.name}` }] : [question],
      additionals: opt
        ? [{ type: 'OPT' as const, name: '.', udpPayloadSize: 1232, flags: 0 } as dnsPacket.Answer]
        : [],
    };
    const aa = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED);
    if (upstream.mode === 'servfail') return dnsPacket.encode({ ...base, flags: RCODE_SERVFAIL });
    if (upstream.mode === 'refused') return dnsPacket.encode({ ...base, flags: RCODE_REFUSED });
    if (upstream.mode === 'truncate' && transport === 'udp')
      return dnsPacket.encode({ ...base, flags: aa | dnsPacket.TRUNCATED_RESPONSE });

    const owned = records.get(question.name.toLowerCase());
    const soa: dnsPacket.Answer = {
      name: zone,
      type: 'SOA',
      ttl: upstream.soa.ttl,
      data: {
        mname: `ns.${zone}`,
        rname: `hostmaster.${zone}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86_400,
        minimum: upstream.soa.minimum,
      },
    };
    let message: dnsPacket.Packet;
    if (!owned) message = { ...base, flags: aa | RCODE_NXDOMAIN, authorities: [soa] };
    else {
      const answers = owned
        .filter((r) => r.type === question.type || r.type === 'CNAME')
        .map((r): dnsPacket.Answer => ({ ...r, name: question.name }));
      message =
        answers.length > 0 ? { ...base, flags: aa, answers } : { ...base, flags: aa, authorities: [soa] };
    }
    const wire = dnsPacket.encode(message);
    const limit = transport === 'tcp' ? 65_535 : Math.max(512, opt?.udpPayloadSize ?? 512);
    if (wire.length <= limit) return wire;
    return dnsPacket.encode({ ...base, flags: aa | dnsPacket.TRUNCATED_RESPONSE });
  }

  function later(send: () => void): void {
    if (upstream.delayMs <= 0) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) send();
    }, upstream.delayMs);
    timers.add(timer);
  }

  function decode(msg: Buffer): dnsPacket.DecodedPacket | undefined {
    try {
      const packet = dnsPacket.decode(msg);
      return packet.type === 'query' ? packet : undefined;
    } catch {
      return undefined;
    }
  }

  udp.on('message', (msg, rinfo) => {
    const query = decode(msg);
    const response = query && answer(query, 'udp', rinfo.port);
    if (response) later(() => udp.send(response, rinfo.port, rinfo.address));
  });

  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const query = decode(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        const response = query && answer(query, 'tcp', socket.remotePort ?? 0);
        if (response) {
          const framed = Buffer.alloc(response.length + 2);
          framed.writeUInt16BE(response.length);
          response.copy(framed, 2);
          later(() => socket.write(framed));
        }
      }
    });
  });

  // UDP and TCP on one port, as clients expect when they retry over TCP; another process may hold
  // the port UDP got over TCP, and then a new pair of sockets tries another.
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch {
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    return startTestUpstream(options);
  }
  Object.assign(upstream, { port, server: { host: '127.0.0.1', port } });
  return upstream;
}
