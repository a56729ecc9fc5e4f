import dgram from 'node:dgram';
import process from 'node:process';
import { afterEach, describe, expect, it } from 'vitest';
import { openUdp, udpBatching, type UdpAnswerer, type UdpEndpoint } from './udp-batch.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function endpoint(host: string, answer: UdpAnswerer, batch = true): Promise<UdpEndpoint> {
  const e = await openUdp(host, 0, answer, batch);
  cleanups.push(() => e.close());
  return e;
}

async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

/** Collects the datagrams `socket` receives until `count` have come or `ms` have passed. */
function receive(socket: dgram.Socket, count: number, ms = 3000): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(got), ms);
    socket.on('message', (msg) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** An answer that says who asked and what: the sender's address and port, then the query reversed. */
const echo: UdpAnswerer = (query, client, port) =>
  Buffer.concat([Buffer.from(`${client} ${port} `), Buffer.from(query).reverse()]);

describe('the resolver’s UDP socket', () => {
  it('is built at install and batches on Linux', () => {
    // The install builds the addon (packages/udp-batch/build.mjs): a machine where it silently
    // failed would serve half the queries per second, so the test suite says so.
    if (process.platform === 'linux') expect(udpBatching.reason).toBeUndefined();
    else expect(udpBatching.binding).toBeUndefined();
  });

  it.each([true, false])(
    'answers each of thousands of datagrams from several senders to its own sender (batch %s)',
    async (batch) => {
      const e = await endpoint('127.0.0.1', echo, batch);
      expect(e.batched).toBe(batch && udpBatching.binding !== undefined);
      const senders = await Promise.all([client(), client(), client()]);
      const perSender = 1500;
      const received = senders.map((s) => receive(s, perSender));
      for (let i = 0; i < perSender; i++)
        for (const [n, s] of senders.entries()) s.send(Buffer.from(`q${n}-${i}`), e.port, '127.0.0.1');
      const answers = await Promise.all(received);
      for (const [n, s] of senders.entries()) {
        const port = s.address().port;
        const texts = new Set(answers[n]!.map((a) => a.toString()));
        // UDP may lose a datagram under load; none may reach the wrong sender or be garbled.
        expect(texts.size).toBeGreaterThan(perSender * 0.95);
        for (const text of texts) expect(text).toMatch(new RegExp(`^127\\.0\\.0\\.1 ${port} \\d+-${n}q$`));
      }
    },
  );

  it('answers later through send, and gives IPv6 senders in their canonical text form', async () => {
    const later: { port: number; address: string; client: string }[] = [];
    const e = await endpoint('::', (query, clientAddress, port, address) => {
      later.push({ port, address, client: clientAddress });
      return undefined;
    });
    const six = await client('udp6');
    const four = await client('udp4');
    six.send(Buffer.from('six'), e.port, '::1');
    four.send(Buffer.from('four'), e.port, '127.0.0.1');
    while (later.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const bySender = new Map(later.map((l) => [l.port, l]));
    // An IPv4 sender of a dual-stack socket is given as IPv4 (as the policy's ranges are written).
    expect(bySender.get(six.address().port)?.client).toBe('::1');
    expect(bySender.get(four.address().port)?.client).toBe('127.0.0.1');
    const gotSix = receive(six, 1);
    const gotFour = receive(four, 1);
    for (const l of later) e.send(Buffer.from(`later ${l.client}`), l.port, l.address);
    expect((await gotSix).map(String)).toEqual(['later ::1']);
    expect((await gotFour).map(String)).toEqual(['later 127.0.0.1']);
  });

  it('reads a datagram larger than a slot as an empty message, and goes on', async () => {
    const lengths: number[] = [];
    const e = await endpoint('127.0.0.1', (query) => {
      lengths.push(query.length);
      return Buffer.from(String(query.length));
    });
    const s = await client();
    const got = receive(s, 2);
    s.send(Buffer.alloc(9000, 1), e.port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    s.send(Buffer.alloc(12, 1), e.port, '127.0.0.1');
    expect((await got).map(String)).toEqual(
      udpBatching.binding ? ['0', '12'] : ['9000', '12'], // node:dgram reads up to 64 KiB
    );
  });

  it('keeps answering when the answerer throws, and frees its port once closed', async () => {
    let calls = 0;
    const e = await openUdp('127.0.0.1', 0, (query) => {
      calls++;
      if (query.toString() === 'boom') throw new Error('boom');
      return Buffer.from('ok');
    });
    const s = await client();
    const got = receive(s, 1);
    s.send(Buffer.from('boom'), e.port, '127.0.0.1');
    s.send(Buffer.from('fine'), e.port, '127.0.0.1');
    expect((await got).map(String)).toEqual(['ok']);
    expect(calls).toBe(2);
    const port = e.port;
    await Promise.all([e.close(), e.close()]);
    e.send(Buffer.from('after close'), s.address().port, '127.0.0.1'); // ignored, no throw
    expect(e.sendFailures()).toBe(0); // the count as it stood, not read from the freed socket
    const again = await openUdp('127.0.0.1', port, echo);
    expect(again.port).toBe(port);
    await again.close();
  });

  it('refuses a port in use with EADDRINUSE, as node:dgram does', async () => {
    const e = await endpoint('127.0.0.1', echo);
    await expect(openUdp('127.0.0.1', e.port, echo)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
