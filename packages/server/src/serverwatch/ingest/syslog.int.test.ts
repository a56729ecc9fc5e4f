import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import { LineQueue, type IngestItem } from './queue.js';
import { startSyslog, type SyslogReceiver } from './syslog.js';

const HOST = '127.0.0.1';
const open: SyslogReceiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

const start = async (options: Parameters<typeof startSyslog>[0], queue: LineQueue) => {
  const receiver = await startSyslog({ host: HOST, port: 0, ...options }, queue);
  open.push(receiver);
  return receiver;
};

const waitFor = async (what: string, ok: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Takes everything the queue gets into `seen` as it comes. */
const drain = (queue: LineQueue, seen: IngestItem[]) => {
  void (async () => {
    for await (const batch of queue.batches(100)) seen.push(...batch);
  })();
};

const tcpClient = async (port: number): Promise<Socket> => {
  const socket = connect({ host: HOST, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
};

const sendUdp = async (port: number, messages: (string | Buffer)[]) => {
  const socket = createSocket('udp4');
  for (const m of messages) {
    await new Promise<void>((resolve, reject) =>
      socket.send(m, port, HOST, (e) => (e ? reject(e) : resolve())),
    );
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
};

const endClient = (socket: Socket) =>
  new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
  });

const counted = (m: string) => `${Buffer.byteLength(m)} ${m}`;

describe('the syslog receiver', () => {
  it('queues a UDP datagram as one message, its PRI intact, with its source and peer', async () => {
    const queue = new LineQueue();
    const receiver = await start({}, queue);
    await sendUdp(receiver.port, [
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n",
    ]);
    await waitFor('the datagram', () => queue.depth === 1);
    const [item] = queue.take(1);
    expect(item?.line).toBe("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
    expect(item?.source).toBe('syslog-udp');
    expect(item?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Math.abs((item?.receivedAt ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('can be used through its destructured port, stats and close', async () => {
    const queue = new LineQueue();
    const { port, stats, close } = await startSyslog({ host: HOST, port: 0 }, queue);
    await sendUdp(port, ['<13>hello']);
    await waitFor('the datagram', () => stats().messages.udp === 1);
    await close();
    await expect(sendUdp(port, ['<13>after'])).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.take(5).map((x) => x.line)).toEqual(['<13>hello']);
  });

  it('reads octet-counted and LF-framed connections on the same TCP port as UDP', async () => {
    const queue = new LineQueue();
    const seen: IngestItem[] = [];
    drain(queue, seen);
    const receiver = await start({}, queue);
    const a = await tcpClient(receiver.port);
    const b = await tcpClient(receiver.port);
    const rfc5424 =
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - An application event';
    a.write(counted(rfc5424) + counted('<13>second\nwith a line end'));
    b.write('<13>Feb  5 17:32:18 10.0.0.99 sshd[4721]: Failed password\r\n<14>next\n');
    await sendUdp(receiver.port, ['<15>by datagram']);
    await Promise.all([endClient(a), endClient(b)]);
    await waitFor('five messages', () => seen.length === 5);
    const by = (source: string) => seen.filter((x) => x.source === source).map((x) => x.line);
    expect(by('syslog-tcp').sort()).toEqual(
      [
        rfc5424,
        '<13>second\nwith a line end',
        '<13>Feb  5 17:32:18 10.0.0.99 sshd[4721]: Failed password',
        '<14>next',
      ].sort(),
    );
    expect(by('syslog-udp')).toEqual(['<15>by datagram']);
    expect(receiver.stats().messages).toEqual({ udp: 1, tcp: 4, tls: 0 });
  });

  it('receives over TLS with a configured key and certificate', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
    });
    const queue = new LineQueue();
    const receiver = await start({ tls: { key: pems.private, cert: pems.cert, port: 0 } }, queue);
    expect(receiver.tlsPort).toBeGreaterThan(0);
    const socket = tlsConnect({
      host: HOST,
      port: receiver.tlsPort!,
      servername: 'localhost',
      ca: pems.cert,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.write(counted('<86>1 2026-12-03T05:00:00Z mx1 dovecot - - - imap-login: Login: user=<a@b.fr>'));
    await waitFor('the TLS message', () => queue.depth === 1);
    expect(queue.take(1)[0]).toMatchObject({
      line: '<86>1 2026-12-03T05:00:00Z mx1 dovecot - - - imap-login: Login: user=<a@b.fr>',
      source: 'syslog-tls',
    });
    socket.destroy();
  });

  it('pauses a TCP sender while the queue is full and loses nothing of a long stream', async () => {
    const queue = new LineQueue({ capacity: 16 });
    const receiver = await start({ udp: false }, queue);
    const client = await tcpClient(receiver.port);
    const total = 3000;
    const lines = Array.from({ length: total }, (_, i) => `<13>message number ${i} ${'p'.repeat(100)}`);
    client.write(lines.map((l) => `${l}\n`).join(''));
    // Nobody takes yet: the queue fills and the connection stops reading.
    await waitFor('a full queue', () => queue.depth === 16);
    await waitFor('the connection to pause', () => receiver.stats().pauses > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Held back: the rest waits in the sender's and the kernel's buffers, not in ours.
    expect(receiver.stats().messages.tcp).toBeLessThan(total / 2);
    const seen: IngestItem[] = [];
    drain(queue, seen);
    await waitFor('every message', () => seen.length === total, 15_000);
    expect(seen.map((x) => x.line)).toEqual(lines);
    const stats = queue.stats();
    expect(stats.highWater).toBe(16);
    expect(stats.dropped.total).toBe(0);
    client.destroy();
  });

  it('drops and counts the datagrams a full queue cannot take', async () => {
    const queue = new LineQueue({ capacity: 5 });
    const receiver = await start({ tcp: false }, queue);
    await sendUdp(
      receiver.port,
      Array.from({ length: 40 }, (_, i) => `<13>datagram ${i}`),
    );
    await waitFor('every datagram', () => receiver.stats().messages.udp === 40);
    expect(queue.depth).toBe(5);
    expect(queue.stats().dropped).toEqual({
      total: 35,
      byReason: { full: 35, closed: 0 },
      bySource: { 'syslog-udp': 35 },
    });
    expect(queue.take(5).map((x) => x.line)).toEqual([0, 1, 2, 3, 4].map((i) => `<13>datagram ${i}`));
  });

  it('cuts and counts messages longer than the limit, over TCP and UDP', async () => {
    const queue = new LineQueue();
    const receiver = await start({ maxMessage: 512 }, queue);
    const long = `<13>${'z'.repeat(5000)}`;
    const client = await tcpClient(receiver.port);
    client.write(`${long}\n<13>short\n`);
    await endClient(client);
    await sendUdp(receiver.port, [long]);
    await waitFor('three messages', () => queue.depth === 3);
    const lines = queue.take(3).map((x) => x.line);
    expect(lines.filter((l) => l === long.slice(0, 512))).toHaveLength(2);
    expect(lines).toContain('<13>short');
    expect(receiver.stats().truncated).toBe(2);
  });

  it('serves many connections at once', async () => {
    const queue = new LineQueue({ capacity: 100_000 });
    const receiver = await start({}, queue);
    const clients = await Promise.all(Array.from({ length: 60 }, () => tcpClient(receiver.port)));
    await waitFor('sixty connections', () => receiver.stats().connections === 60);
    clients.forEach((c, n) => {
      for (let i = 0; i < 25; i++) c.write(counted(`<13>client ${n} message ${i}`));
    });
    await Promise.all(clients.map(endClient));
    await waitFor('every message', () => queue.depth === 1500);
    const got = queue.take(1500).map((x) => x.line);
    for (let n = 0; n < 60; n++) {
      const mine = got.filter((l) => l.startsWith(`<13>client ${n} `));
      expect(mine).toEqual(Array.from({ length: 25 }, (_, i) => `<13>client ${n} message ${i}`));
    }
  });

  it('counts connections refused beyond the maximum', async () => {
    const queue = new LineQueue();
    const receiver = await start({ maxConnections: 2 }, queue);
    const kept = [await tcpClient(receiver.port), await tcpClient(receiver.port)];
    await waitFor('two connections', () => receiver.stats().connections === 2);
    const third = connect({ host: HOST, port: receiver.port });
    third.on('error', () => undefined);
    await waitFor('the refusal', () => receiver.stats().connectionsRefused === 1);
    expect(receiver.stats().connections).toBe(2);
    third.destroy();
    kept.forEach((c) => c.destroy());
  });

  it('closes gracefully: queues what was sent, ends connections, frees the port, and can be closed twice', async () => {
    const queue = new LineQueue();
    const receiver = await start({ closeGraceMs: 1000 }, queue);
    const client = await tcpClient(receiver.port);
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    client.on('end', () => client.end());
    client.write('<13>last words\n<13>unterminated');
    await waitFor('the first message', () => queue.depth === 1);
    await Promise.all([receiver.close(), receiver.close()]);
    await ended;
    expect(queue.take(5).map((x) => x.line)).toEqual(['<13>last words', '<13>unterminated']);
    expect(receiver.stats().connections).toBe(0);
    const refused = connect({ host: HOST, port: receiver.port });
    await expect(
      new Promise((resolve, reject) => {
        refused.once('connect', resolve);
        refused.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes within its grace period a connection held back by a full queue, counting what it held', async () => {
    const queue = new LineQueue({ capacity: 2 });
    const receiver = await start({ udp: false, closeGraceMs: 100 }, queue);
    const client = await tcpClient(receiver.port);
    client.on('error', () => undefined);
    client.write(Array.from({ length: 200 }, (_, i) => `<13>held ${i}\n`).join(''));
    await waitFor('the connection to pause', () => receiver.stats().pauses > 0);
    await receiver.close();
    expect(receiver.stats().connections).toBe(0);
    const stats = queue.stats();
    expect(stats.depth).toBe(2);
    // Framed but never queued: counted, not silently lost.
    expect(stats.dropped.bySource['syslog-tcp']).toBe(receiver.stats().messages.tcp - 2);
    expect(stats.dropped.byReason.closed).toBeGreaterThan(0);
    client.destroy();
  });

  it('refuses invalid options with a validation error and opens nothing', async () => {
    const queue = new LineQueue();
    await expect(startSyslog({ port: 70_000 }, queue)).rejects.toBeInstanceOf(RempartError);
    await expect(startSyslog({ maxMessage: 10 }, queue)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(startSyslog({ udp: false, tcp: false }, queue)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(
      startSyslog({ host: HOST, port: 0, tls: { key: 'not a key', cert: 'not a cert', port: 0 } }, queue),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('fails to start, leaving nothing open, when its port is taken', async () => {
    const queue = new LineQueue();
    const first = await start({ udp: false }, queue);
    await expect(startSyslog({ host: HOST, port: first.port, udp: false }, queue)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
