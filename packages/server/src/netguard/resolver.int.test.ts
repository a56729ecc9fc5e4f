import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import {
  addresses,
  ask,
  encodeQuery,
  TcpClient,
  udpExchange,
  type Decoded,
} from '../test-support/dns-client.js';
import {
  startTestUpstream,
  type TestUpstream,
  type TestUpstreamOptions,
} from '../test-support/dns-upstream.js';
import { DNS_MESSAGE, handleDohRequest } from './doh.js';
import {
  ALLOW,
  DnsResolver,
  type BlockMode,
  type DnsPolicy,
  type DnsResolverOptions,
  type QueryEntry,
} from './resolver.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** UDP in batches (udp-batch.ts) or through node:dgram: every test runs over both. */
let batch = true;

const RECORDS: TestUpstreamOptions['records'] = {
  'www.example': [
    { type: 'A', ttl: 300, data: '192.0.2.10' },
    { type: 'AAAA', ttl: 300, data: '2001:db8::10' },
  ],
  'mail.example': [{ type: 'A', ttl: 300, data: '192.0.2.25' }],
  'swap.example': [{ type: 'A', ttl: 300, data: '192.0.2.99' }],
  // 40 × 27 bytes: more than 512, less than 1232.
  'big.example': Array.from({ length: 40 }, (_, i) => ({
    type: 'A' as const,
    ttl: 120,
    data: `198.51.100.${i}`,
  })),
  // 60 × 28 bytes: more than 1232, so the upstream itself truncates over UDP.
  'huge.example': Array.from({ length: 60 }, (_, i) => ({
    type: 'A' as const,
    ttl: 120,
    data: `203.0.113.${i}`,
  })),
};

async function upstream(options: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const u = await startTestUpstream({ records: RECORDS, ...options });
  cleanups.push(() => u.close());
  return u;
}

async function start(
  options: Partial<DnsResolverOptions> & Pick<DnsResolverOptions, 'upstreams'>,
): Promise<{ r: DnsResolver; port: number; log: QueryEntry[] }> {
  const log: QueryEntry[] = [];
  const r = await DnsResolver.start({
    listen: { host: '127.0.0.1', port: 0, batch },
    onQuery: (entry) => log.push(entry),
    log: pino({ level: 'silent' }),
    ...options,
  });
  cleanups.push(() => r.close());
  expect(r.udpPort).toBe(r.tcpPort);
  expect(r.stats().udpBatched).toBe(batch);
  return { r, port: r.udpPort!, log };
}

function blocking(names: string[], mode?: BlockMode): DnsPolicy {
  return {
    decide: (q) =>
      names.includes(q.name)
        ? {
            action: 'block',
            reason: { list: 'test-list', rule: `||${q.name}^`, category: 'ads' },
            group: 'staff',
            ...(mode ? { mode } : {}),
          }
        : ALLOW,
  };
}

const ttls = (records: dnsPacket.Answer[] | undefined) =>
  (records ?? []).map((a) => (a as dnsPacket.StringAnswer).ttl);

describe.each([
  { transport: 'UDP in batches', batched: true },
  { transport: 'node:dgram', batched: false },
])('the DNS resolver, $transport', ({ batched }) => {
  beforeEach(() => {
    batch = batched;
  });

  it('forwards an allowed query upstream and relays the answer, logging it', async () => {
    const u = await upstream();
    const { r, port, log } = await start({ upstreams: [u.server] });
    const answer = await ask(port, 'WWW.example');
    expect(answer.rcode).toBe('NOERROR');
    expect(answer.flag_qr && answer.flag_rd && answer.flag_ra).toBe(true);
    expect(answer.questions?.[0]?.name).toBe('WWW.example');
    expect(addresses(answer)).toEqual(['192.0.2.10']);
    expect(u.queries).toMatchObject([{ name: 'www.example', type: 'A', transport: 'udp', edns: true }]);
    expect(log).toMatchObject([
      {
        client: '127.0.0.1',
        protocol: 'udp',
        name: 'www.example',
        type: 'A',
        verdict: { action: 'allow' },
        rcode: 'NOERROR',
        cached: false,
        upstream: `127.0.0.1:${u.port}`,
      },
    ]);
    expect(log[0]!.time).toBeInstanceOf(Date);
    expect(log[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.stats()).toMatchObject({ queries: 1, answered: 1, cacheMisses: 1, upstreamQueries: 1 });
    expect(r.addresses()).toEqual([`udp://127.0.0.1:${port}`, `tcp://127.0.0.1:${port}`]);
  });

  it('answers a blocked name NXDOMAIN with an SOA for negative caching, never asking upstream', async () => {
    const u = await upstream();
    const { r, port, log } = await start({
      upstreams: [u.server],
      policy: blocking(['tracker.example']),
      blockTtl: 30,
    });
    const answer = await ask(port, 'tracker.example', 'A', 1232);
    expect(answer.rcode).toBe('NXDOMAIN');
    expect(answer.answers).toEqual([]);
    expect(answer.authorities).toMatchObject([
      {
        type: 'SOA',
        name: 'tracker.example',
        ttl: 30,
        data: { minimum: 30, mname: 'netguard.rempart.invalid' },
      },
    ]);
    expect(answer.additionals).toMatchObject([{ type: 'OPT' }]);
    expect(u.queries).toHaveLength(0);
    expect(log[0]).toMatchObject({
      verdict: { action: 'block', reason: { list: 'test-list', rule: '||tracker.example^' }, group: 'staff' },
      rcode: 'NXDOMAIN',
      upstream: undefined,
    });
    expect(r.stats().blocked).toBe(1);
  });

  it('answers a blocked name 0.0.0.0 and :: in null mode, and NODATA with an SOA for other types', async () => {
    const u = await upstream();
    const { port } = await start({
      upstreams: [u.server],
      policy: blocking(['ads.example']),
      blockMode: 'null',
    });
    expect(addresses(await ask(port, 'ads.example', 'A'))).toEqual(['0.0.0.0']);
    expect(addresses(await ask(port, 'ads.example', 'AAAA'))).toEqual(['::']);
    const httpsQuery = encodeQuery('ads.example', 'A', { id: 65 });
    httpsQuery.writeUInt16BE(65, httpsQuery.length - 4); // HTTPS, which dns-packet does not name
    const https = dnsPacket.decode((await udpExchange(port, httpsQuery))!) as Decoded;
    expect(https.rcode).toBe('NOERROR');
    expect(https.answers).toEqual([]);
    expect(https.authorities?.[0]?.type).toBe('SOA');
    expect(u.queries).toHaveLength(0);
  });

  it('answers a blocked name with the block page address, per verdict', async () => {
    const u = await upstream();
    const page: BlockMode = { address: { v4: '192.0.2.200', v6: '2001:db8::200' } };
    const { port } = await start({ upstreams: [u.server], policy: blocking(['social.example'], page) });
    expect(addresses(await ask(port, 'social.example', 'A'))).toEqual(['192.0.2.200']);
    expect(addresses(await ask(port, 'social.example', 'AAAA'))).toEqual(['2001:db8::200']);
    expect((await ask(port, 'social.example', 'MX')).answers).toEqual([]);
  });

  it('answers two pipelined queries on one TCP connection', async () => {
    const u = await upstream();
    const { port, log } = await start({ upstreams: [u.server], policy: blocking(['tracker.example']) });
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    tcp.send(encodeQuery('www.example', 'A', { id: 1 }), encodeQuery('tracker.example', 'A', { id: 2 }));
    const answers = [await tcp.next(), await tcp.next()].sort((a, b) => a.id! - b.id!);
    expect(addresses(answers[0]!)).toEqual(['192.0.2.10']);
    expect(answers[1]!.rcode).toBe('NXDOMAIN');
    // The connection stays open for more.
    tcp.send(encodeQuery('mail.example', 'A', { id: 3 }));
    expect(addresses(await tcp.next())).toEqual(['192.0.2.25']);
    expect(log.map((e) => e.protocol)).toEqual(['tcp', 'tcp', 'tcp']);
  });

  it('answers a repeated query from the cache: one upstream query, TTLs counting down', async () => {
    const u = await upstream();
    const clock = new ManualClock();
    const { r, port, log } = await start({ upstreams: [u.server], clock });
    expect(ttls((await ask(port, 'www.example')).answers)).toEqual([300]);
    clock.advance(5_500);
    const second = await ask(port, 'Www.Example');
    expect(ttls(second.answers)).toEqual([295]);
    expect(second.questions?.[0]?.name).toBe('Www.Example');
    expect(u.queries).toHaveLength(1);
    expect(log[1]).toMatchObject({ cached: true, upstream: undefined });
    expect(r.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheEntries: 1 });
    clock.advance(300_000);
    await ask(port, 'www.example');
    expect(u.queries).toHaveLength(2);
  });

  it('caches NXDOMAIN for the SOA MINIMUM when it is below the SOA TTL (RFC 2308 §5)', async () => {
    const u = await upstream({ soa: { ttl: 600, minimum: 30 } });
    const clock = new ManualClock();
    const { port } = await start({ upstreams: [u.server], clock });
    const first = await ask(port, 'missing.example');
    expect(first.rcode).toBe('NXDOMAIN');
    expect(ttls(first.authorities)).toEqual([30]);
    clock.advance(20_000);
    const cached = await ask(port, 'missing.example');
    expect(cached.rcode).toBe('NXDOMAIN');
    expect(ttls(cached.authorities)).toEqual([10]);
    expect(u.queries).toHaveLength(1);
    clock.advance(11_000);
    await ask(port, 'missing.example');
    expect(u.queries).toHaveLength(2);
  });

  it('coalesces identical concurrent misses into one upstream query', async () => {
    const u = await upstream({ delayMs: 150 });
    const { r, port } = await start({ upstreams: [u.server] });
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(port, 'www.example')));
    expect(answers.every((a) => addresses(a)[0] === '192.0.2.10')).toBe(true);
    expect(u.queries).toHaveLength(1);
    expect(r.stats().coalesced).toBe(9);
  });

  it('fails over to the second upstream when the first is silent, then skips the first', async () => {
    const silent = await upstream({ mode: 'silent' });
    const good = await upstream();
    const { r, port, log } = await start({ upstreams: [silent.server, good.server] });
    let began = performance.now();
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
    expect(performance.now() - began).toBeLessThan(1000);
    expect(log[0]?.upstream).toBe(`127.0.0.1:${good.port}`);
    began = performance.now();
    expect(addresses(await ask(port, 'mail.example'))).toEqual(['192.0.2.25']);
    expect(performance.now() - began).toBeLessThan(150);
    expect(silent.queries).toHaveLength(1);
    expect(r.stats().upstreams.map((h) => h.healthy)).toEqual([false, true]);
  });

  it('answers SERVFAIL in well under 2 s when every upstream is silent, and at once when they are unreachable', async () => {
    const a = await upstream({ mode: 'silent' });
    const b = await upstream({ mode: 'silent' });
    const { r, port, log } = await start({ upstreams: [a.server, b.server] });
    let began = performance.now();
    const answer = await ask(port, 'www.example');
    expect(answer.rcode).toBe('SERVFAIL');
    // The default deadline is 1.2 s; the margin is for a loaded machine.
    expect(performance.now() - began).toBeLessThan(1600);
    expect(log[0]?.rcode).toBe('SERVFAIL');
    expect(r.stats()).toMatchObject({ upstreamFailures: 1, servfail: 1 });

    // Ports where nothing listens answer ICMP port unreachable: no need to wait.
    const closed = await Promise.all([upstream(), upstream()]);
    const servers = closed.map((u) => u.server);
    await Promise.all(closed.map((u) => u.close()));
    const { port: port2 } = await start({ upstreams: servers });
    began = performance.now();
    expect((await ask(port2, 'www.example')).rcode).toBe('SERVFAIL');
    expect(performance.now() - began).toBeLessThan(300);
  });

  it('ignores an upstream answer to another question and takes the next upstream’s', async () => {
    const confused = await upstream({ mode: 'wrong-question' });
    const good = await upstream();
    const { r, port } = await start({ upstreams: [confused.server, good.server] });
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
    expect(r.stats().strayAnswers).toBeGreaterThanOrEqual(1);
  });

  it('asks again over TCP when the upstream truncates its UDP answer', async () => {
    const u = await upstream({ mode: 'truncate' });
    const { r, port } = await start({ upstreams: [u.server] });
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
    expect(u.queries.map((q) => q.transport)).toEqual(['udp', 'tcp']);
    expect(r.stats().tcpRetries).toBe(1);
  });

  it('truncates a large answer with TC for a 512-byte UDP client, and gives it whole over TCP', async () => {
    const u = await upstream();
    const { port } = await start({ upstreams: [u.server] });
    const udp = await ask(port, 'big.example');
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);
    expect(udp.questions?.[0]?.name).toBe('big.example');
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    tcp.send(encodeQuery('big.example', 'A', { id: 9 }));
    expect((await tcp.next()).answers).toHaveLength(40);
  });

  it('honours the EDNS payload size a client advertises, answering with an OPT record', async () => {
    const u = await upstream();
    const { port } = await start({ upstreams: [u.server] });
    const roomy = await ask(port, 'big.example', 'A', 1232);
    expect(roomy.flag_tc).toBe(false);
    expect(roomy.answers).toHaveLength(40);
    expect(roomy.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);
    const tight = await ask(port, 'big.example', 'A', 600);
    expect(tight.flag_tc).toBe(true);
    // 60 records need more than 1232 bytes: the upstream truncates, the resolver asks it over TCP,
    // and still truncates for a UDP client whatever it advertises beyond the 1232 cap.
    const huge = await ask(port, 'huge.example', 'A', 4096);
    expect(huge.flag_tc).toBe(true);
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    tcp.send(encodeQuery('huge.example', 'A', { id: 4 }));
    expect((await tcp.next()).answers).toHaveLength(60);
    expect(u.queries.filter((q) => q.name === 'huge.example').map((q) => q.transport)).toEqual([
      'udp',
      'tcp',
    ]);
  });

  it('answers BADVERS to EDNS version 1', async () => {
    const u = await upstream();
    const { port } = await start({ upstreams: [u.server] });
    const query = encodeQuery('www.example', 'A', { id: 5, edns: 1232 });
    query[query.length - 5] = 1; // the OPT's version octet
    const answer = dnsPacket.decode((await udpExchange(port, query))!) as Decoded;
    const opt = answer.additionals?.[0] as dnsPacket.OptAnswer;
    expect(opt.extendedRcode).toBe(1); // BADVERS = 16 = 1 << 4
    expect(u.queries).toHaveLength(0);
  });

  it('drops the excess of a rate-limited client, answers TCP REFUSED, and never limits a trusted range', async () => {
    const u = await upstream();
    const { r, port } = await start({
      upstreams: [u.server],
      policy: blocking(['tracker.example']),
      rateLimit: { qps: 1, burst: 5, trusted: ['127.0.0.2/32'] },
    });
    async function burst(from: string): Promise<number> {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, from, resolve));
      let answered = 0;
      socket.on('message', () => answered++);
      for (let i = 0; i < 30; i++)
        socket.send(encodeQuery('tracker.example', 'A', { id: i }), port, '127.0.0.1');
      await sleep(300);
      socket.close();
      return answered;
    }
    const limited = await burst('127.0.0.1');
    expect(limited).toBeGreaterThanOrEqual(5);
    expect(limited).toBeLessThanOrEqual(6);
    expect(await burst('127.0.0.2')).toBe(30);
    expect(r.stats().rateLimited).toBeGreaterThanOrEqual(24);
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    tcp.send(encodeQuery('tracker.example', 'A', { id: 77 }));
    expect(await tcp.next()).toMatchObject({ id: 77, rcode: 'REFUSED' });
  });

  it('answers malformed packets FORMERR or NOTIMP, drops what it cannot answer, and keeps answering', async () => {
    const u = await upstream();
    const { r, port } = await start({ upstreams: [u.server], policy: blocking(['tracker.example']) });
    const twoQuestions = dnsPacket.encode({
      type: 'query',
      id: 11,
      questions: [
        { name: 'a.example', type: 'A' },
        { name: 'b.example', type: 'A' },
      ],
    });
    expect(dnsPacket.decode((await udpExchange(port, twoQuestions))!)).toMatchObject({
      id: 11,
      rcode: 'FORMERR',
    });
    const status = encodeQuery('www.example', 'A', { id: 12 });
    status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2);
    expect(dnsPacket.decode((await udpExchange(port, status))!)).toMatchObject({ id: 12, rcode: 'NOTIMP' });
    const garbage = Buffer.concat([
      Buffer.from([0, 13, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.from([63, 1, 2]),
    ]);
    expect(dnsPacket.decode((await udpExchange(port, garbage))!)).toMatchObject({ id: 13, rcode: 'FORMERR' });
    expect(await udpExchange(port, Buffer.from([1, 2, 3, 4, 5]), { timeoutMs: 200 })).toBeUndefined();
    const response = encodeQuery('www.example');
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
    expect(await udpExchange(port, response, { timeoutMs: 200 })).toBeUndefined();

    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < 500; i++) socket.send(randomBytes(1 + (i % 300)), port, '127.0.0.1');
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    tcp.send(Buffer.alloc(3), randomBytes(40), encodeQuery('tracker.example', 'A', { id: 14 }));
    expect(await tcp.next()).toBeDefined();
    await sleep(100);
    socket.close();

    expect((await ask(port, 'tracker.example')).rcode).toBe('NXDOMAIN');
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
    const stats = r.stats();
    expect(stats.internalErrors).toBe(0);
    expect(stats.rejected).toBeGreaterThanOrEqual(3);
    expect(stats.dropped).toBeGreaterThanOrEqual(2);
  });

  it('loses no query when the policy is swapped mid-stream', async () => {
    const u = await upstream({ delayMs: 100 });
    const { r, port } = await start({ upstreams: [u.server] });
    // 200 answers leave at once: a roomy buffer keeps the kernel from dropping any on our side.
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const answers = new Map<number, Decoded[]>();
    socket.on('message', (msg) => {
      const answer = dnsPacket.decode(msg) as Decoded;
      answers.set(answer.id!, [...(answers.get(answer.id!) ?? []), answer]);
    });
    // The first 200 go upstream under the first policy and are still waiting there when the
    // policy changes; the next 200 are blocked by the new one.
    for (let id = 0; id < 200; id++) socket.send(encodeQuery('swap.example', 'A', { id }), port, '127.0.0.1');
    while (r.stats().queries < 200) await sleep(5);
    expect(r.stats().inFlight).toBe(1);
    r.setPolicy(blocking(['swap.example']));
    for (let id = 200; id < 400; id++)
      socket.send(encodeQuery('swap.example', 'A', { id }), port, '127.0.0.1');
    const deadline = performance.now() + 3000;
    while (answers.size < 400 && performance.now() < deadline) await sleep(10);
    expect(answers.size).toBe(400);
    for (const [id, list] of answers) {
      expect(list).toHaveLength(1);
      expect(list[0]!.rcode).toBe(id < 200 ? 'NOERROR' : 'NXDOMAIN');
    }
    expect(u.queries).toHaveLength(1);
  });

  it('answers SERVFAIL when the policy throws, logs it once, and keeps serving; a failing query log changes nothing', async () => {
    const u = await upstream();
    const lines: string[] = [];
    const { r, port } = await start({
      upstreams: [u.server],
      policy: {
        decide: () => {
          throw new Error('matcher broken');
        },
      },
      onQuery: () => {
        throw new Error('database gone');
      },
      log: pino({ level: 'error' }, { write: (line: string) => lines.push(line) }),
    });
    expect((await ask(port, 'www.example')).rcode).toBe('SERVFAIL');
    expect((await ask(port, 'mail.example')).rcode).toBe('SERVFAIL');
    expect(lines.filter((l) => l.includes('matcher broken'))).toHaveLength(1);
    expect(u.queries).toHaveLength(0);
    r.setPolicy(blocking([]));
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
    expect(r.stats()).toMatchObject({ policyErrors: 2, queryLogErrors: 1 });
  });

  it('answers DNS over HTTPS GET and POST through the same policy and cache', async () => {
    const u = await upstream();
    const {
      port: _port,
      r,
      log,
    } = await start({ upstreams: [u.server], policy: blocking(['tracker.example']) });
    const get = await handleDohRequest(
      {
        method: 'GET',
        dns: encodeQuery('www.example', 'A', { id: 0 }).toString('base64url'),
        accept: DNS_MESSAGE,
      },
      r,
      '192.0.2.44',
    );
    expect(get.status).toBe(200);
    expect(get.headers['cache-control']).toBe('max-age=300');
    const answer = dnsPacket.decode(get.body as Buffer) as Decoded;
    expect(answer.id).toBe(0);
    expect(addresses(answer)).toEqual(['192.0.2.10']);
    const post = await handleDohRequest(
      { method: 'POST', contentType: DNS_MESSAGE, body: encodeQuery('tracker.example', 'A', { id: 0 }) },
      r,
      '192.0.2.44',
    );
    expect((dnsPacket.decode(post.body as Buffer) as Decoded).rcode).toBe('NXDOMAIN');
    expect(post.headers['cache-control']).toBe('max-age=10');
    const wrongType = await handleDohRequest(
      { method: 'POST', contentType: 'text/plain', body: Buffer.from('x') },
      r,
      'c',
    );
    expect(wrongType.status).toBe(415);
    const bad = await handleDohRequest({ method: 'GET', dns: '!!!' }, r, 'c');
    expect(bad.status).toBe(400);
    expect(log.map((e) => [e.protocol, e.client])).toEqual([
      ['doh', '192.0.2.44'],
      ['doh', '192.0.2.44'],
    ]);
  });

  it('closes idle TCP connections (RFC 7766 §6.2.3)', async () => {
    const u = await upstream();
    const { port } = await start({ upstreams: [u.server], tcp: { idleTimeoutMs: 200 } });
    const tcp = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    const began = performance.now();
    await tcp.closed;
    expect(performance.now() - began).toBeGreaterThanOrEqual(150);
  });

  it('refuses TCP connections beyond the cap', async () => {
    const u = await upstream();
    const { r, port } = await start({ upstreams: [u.server], tcp: { maxConnections: 2 } });
    const open = [
      await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close()))),
      await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close()))),
    ];
    const third = await TcpClient.connect(port, (c) => cleanups.push(() => Promise.resolve(c.close())));
    await third.closed;
    open[0]!.send(encodeQuery('www.example', 'A', { id: 1 }));
    expect(addresses(await open[0]!.next())).toEqual(['192.0.2.10']);
    expect(r.stats().tcpRejected).toBe(1);
  });

  it('serves DNS over HTTPS only when it does not listen', async () => {
    const u = await upstream();
    const r = await DnsResolver.start({ upstreams: [u.server] });
    cleanups.push(() => r.close());
    expect(r.addresses()).toEqual([]);
    const answer = dnsPacket.decode(await r.resolve(encodeQuery('www.example'), '192.0.2.1')) as Decoded;
    expect(addresses(answer)).toEqual(['192.0.2.10']);
  });

  it('closes idempotently, releasing its ports and answering what was waiting upstream', async () => {
    const u = await upstream({ mode: 'silent' });
    const { r, port } = await start({ upstreams: [u.server] });
    const waiting = r.resolve(encodeQuery('www.example'), '192.0.2.1');
    await sleep(20);
    await Promise.all([r.close(), r.close()]);
    await r.close();
    expect((dnsPacket.decode(await waiting) as Decoded).rcode).toBe('SERVFAIL');
    await expect(r.resolve(encodeQuery('www.example'), '192.0.2.1')).rejects.toThrow(/stopped/);
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => again.bind(port, '127.0.0.1', resolve));
    again.close();
    const server = new (await import('node:net')).Server();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses to start with invalid options, naming them', async () => {
    await expect(DnsResolver.start({ upstreams: [] })).rejects.toThrow(/at least one upstream/);
    await expect(DnsResolver.start({ upstreams: [{ host: 'dns.example', port: 53 }] })).rejects.toThrow(
      /IP addresses/,
    );
    const u = await upstream();
    await expect(
      DnsResolver.start({ upstreams: [u.server], blockMode: { address: { v4: '2001:db8::1' } } }),
    ).rejects.toThrow(/not IPv4/);
  });
});
