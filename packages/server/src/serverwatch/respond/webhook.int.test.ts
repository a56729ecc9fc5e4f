/**
 * The webhook against a real HTTP server on 127.0.0.1, which checks the signature as a receiver
 * would and answers as the test tells it: 200, 500, 400, or not at all.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchHit } from '../detector.js';
import type { WatchEvent } from '../event.js';
import { Responders } from './responders.js';
import { WebhookSender, type WebhookPayload } from './webhook.js';
import type { WebhookConfig } from './config.js';

const SECRET = 'a shared secret of the SOC, long enough';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Answer = (req: Received, res: ServerResponse) => void;

/** A receiver: answers with `answer(n)` for its n-th request (0-based), records them all. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private readonly held = new Set<ServerResponse>();

  private constructor(answer: (n: number) => Answer) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const got = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const n = this.received.length;
        this.received.push(got);
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        answer(n)(got, res);
      });
    });
  }

  static async start(answer: (n: number) => Answer): Promise<Receiver> {
    const receiver = new Receiver(answer);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    open.push(receiver);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/rempart`;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const status =
  (code: number): Answer =>
  (_req, res) =>
    res.writeHead(code).end();
const silent: Answer = () => undefined;

const open: Receiver[] = [];
const senders: WebhookSender[] = [];
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close(100)));
  await Promise.all(open.splice(0).map((r) => r.stop()));
});

const sender = (config: Partial<WebhookConfig> & { url: string }) => {
  const s = new WebhookSender(
    { secret: SECRET, backoffMs: 20, ...config },
    { now: () => Date.UTC(2026, 11, 3, 9) },
  );
  senders.push(s);
  return s;
};

const event = (
  time: number,
  raw = `Dec  3 09:00:00 mail dovecot: auth failed rip=203.0.113.5 #${time}`,
): WatchEvent => ({
  time,
  logsource: { product: 'linux', service: 'dovecot' },
  fields: { src_ip: '203.0.113.5', user: 'marie.dupont@ville.example' },
  raw,
  parsed: true,
  source: '/var/log/mail.log',
});

const hit = (level = 'high', events = [event(Date.UTC(2026, 11, 3, 8, 59))]): WatchHit => ({
  rule: {
    id: 'brute-force',
    title: 'Brute force from one source',
    level,
    kind: 'correlation',
    file: 'x.yml',
  },
  time: events.at(-1)!.time,
  events,
  group: { src_ip: '203.0.113.5' },
  value: events.length,
});

/** What a receiver does: the HMAC of the body it got, compared in constant time. */
const signatureValid = (got: Received) => {
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`);
  const given = Buffer.from(String(got.headers['x-rempart-signature']));
  return expected.length === given.length && timingSafeEqual(expected, given);
};

describe('the webhook', () => {
  it('POSTs the hit as JSON, signed with HMAC-SHA256 of the body under the shared secret', async () => {
    const receiver = await Receiver.start(() => status(204));
    const s = sender({ url: receiver.url });
    const outcome = s.send(hit(), { alertId: 'alert-42', count: 7, suppressedBefore: 3 });
    expect(outcome).toMatchObject({ queued: true });
    await s.idle();
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.headers['content-type']).toBe('application/json');
    expect(signatureValid(got)).toBe(true);
    const body = JSON.parse(got.body) as WebhookPayload;
    expect(body).toEqual({
      deliveryId: outcome.queued ? outcome.deliveryId : '',
      createdAt: '2026-12-03T09:00:00.000Z',
      rule: { id: 'brute-force', title: 'Brute force from one source', level: 'high', kind: 'correlation' },
      time: '2026-12-03T08:59:00.000Z',
      group: { src_ip: '203.0.113.5' },
      count: 7,
      suppressedBefore: 3,
      alertId: 'alert-42',
      events: [
        {
          time: '2026-12-03T08:59:00.000Z',
          logsource: { product: 'linux', service: 'dovecot' },
          fields: { src_ip: '203.0.113.5', user: 'marie.dupont@ville.example' },
          raw: expect.stringContaining('auth failed') as unknown,
          source: '/var/log/mail.log',
        },
      ],
    });
    expect(got.headers['x-rempart-delivery']).toBe(body.deliveryId);
    expect(s.stats()).toMatchObject({ delivered: 1, failed: 0, retries: 0, queued: 0, inFlight: 0 });
  });

  it('a signature made with another secret does not verify', async () => {
    const receiver = await Receiver.start(() => status(200));
    const s = new WebhookSender({ url: receiver.url, secret: 'another secret, also long enough' });
    senders.push(s);
    s.send(hit());
    await s.idle();
    expect(signatureValid(receiver.received[0]!)).toBe(false);
  });

  it('sends the last events only, each raw line cut to its bound', async () => {
    const receiver = await Receiver.start(() => status(200));
    const s = sender({ url: receiver.url, maxEvents: 2, maxRawChars: 80 });
    s.send(hit('high', [event(1), event(2), event(3, 'x'.repeat(100))]));
    await s.idle();
    const body = JSON.parse(receiver.received[0]!.body) as WebhookPayload;
    expect(body.events.map((e) => e.time)).toEqual([new Date(2).toISOString(), new Date(3).toISOString()]);
    expect(body.events[1]).toMatchObject({ raw: 'x'.repeat(80), truncated: true });
    expect(body.events[0]!.truncated).toBeUndefined();
  });

  it('tries again after a 500, with the same body and delivery id, and delivers', async () => {
    const receiver = await Receiver.start((n) => status(n === 0 ? 500 : 200));
    const s = sender({ url: receiver.url, backoffMs: 100 });
    const delivered: unknown[] = [];
    s.on('delivered', (d) => delivered.push(d));
    s.send(hit());
    await s.idle();
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received as [Received, Received];
    expect(second.body).toBe(first.body);
    expect(second.headers['x-rempart-delivery']).toBe(first.headers['x-rempart-delivery']);
    expect(signatureValid(second)).toBe(true);
    // The backoff was waited.
    expect(second.at - first.at).toBeGreaterThanOrEqual(90);
    expect(delivered).toEqual([expect.objectContaining({ status: 200, attempts: 2 })]);
    expect(s.stats()).toMatchObject({ delivered: 1, failed: 0, retries: 1, lastError: 'HTTP 500' });
  });

  it('gives up after three tries of a failing receiver, and counts it', async () => {
    const receiver = await Receiver.start(() => status(503));
    const s = sender({ url: receiver.url });
    const failed: unknown[] = [];
    s.on('failed', (f) => failed.push(f));
    s.send(hit());
    s.send(hit());
    await s.idle();
    expect(receiver.received).toHaveLength(6);
    expect(s.stats()).toMatchObject({ delivered: 0, failed: 2, retries: 4 });
    expect(failed).toEqual([
      expect.objectContaining({ attempts: 3, error: 'HTTP 503' }),
      expect.objectContaining({ attempts: 3, error: 'HTTP 503' }),
    ]);
  });

  it('gives up at once when the receiver refuses the body (a 4xx)', async () => {
    const receiver = await Receiver.start(() => status(401));
    const s = sender({ url: receiver.url });
    s.send(hit());
    await s.idle();
    expect(receiver.received).toHaveLength(1);
    expect(s.stats()).toMatchObject({ failed: 1, retries: 0, lastError: 'HTTP 401' });
  });

  it('stops waiting for a receiver that does not answer within the timeout, and tries again', async () => {
    const receiver = await Receiver.start(() => silent);
    const s = sender({ url: receiver.url, timeoutMs: 200, attempts: 2 });
    const started = Date.now();
    s.send(hit());
    await s.idle();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(receiver.received).toHaveLength(2);
    expect(s.stats()).toMatchObject({ failed: 1, lastError: 'no answer within 200 ms' });
  });

  it('counts a refused connection as a failed try', async () => {
    const receiver = await Receiver.start(() => status(200));
    const url = receiver.url;
    await receiver.stop();
    open.splice(0);
    const s = sender({ url, attempts: 2 });
    s.send(hit());
    await s.idle();
    expect(s.stats()).toMatchObject({ failed: 1, retries: 1 });
    expect(s.stats().lastError).toMatch(/ECONNREFUSED/);
  });

  it('holds a bounded queue: what does not fit is dropped and counted', async () => {
    const receiver = await Receiver.start(() => silent);
    const s = sender({ url: receiver.url, maxQueue: 2, concurrency: 1, timeoutMs: 300, attempts: 1 });
    const outcomes = Array.from({ length: 5 }, () => s.send(hit()));
    // One is taken at once; two wait; two do not fit.
    expect(outcomes.map((o) => o.queued)).toEqual([true, true, true, false, false]);
    expect(s.stats()).toMatchObject({ dropped: 2, queued: 2, inFlight: 1 });
    await s.idle();
    expect(s.stats()).toMatchObject({ dropped: 2, failed: 3, queued: 0, inFlight: 0 });
  });

  it('sends only the hits of the rules selected', async () => {
    const receiver = await Receiver.start(() => status(200));
    const s = sender({ url: receiver.url, minLevel: 'critical' });
    expect(s.send(hit('high'))).toEqual({ queued: false, reason: 'not-selected' });
    expect(s.send(hit('critical'))).toMatchObject({ queued: true });
    await s.idle();
    expect(receiver.received).toHaveLength(1);
  });

  it('waits on close for the delivery under way, then takes no more', async () => {
    const receiver = await Receiver.start(
      () => (_req, res) => setTimeout(() => res.writeHead(200).end(), 300),
    );
    const s = sender({ url: receiver.url });
    s.send(hit());
    await s.close(5000);
    expect(s.stats()).toMatchObject({ delivered: 1, dropped: 0 });
    expect(s.send(hit())).toEqual({ queued: false, reason: 'closed' });
    await s.close();
  });

  it('cuts off what is left after the bound on close, counting it dropped', async () => {
    const receiver = await Receiver.start(() => silent);
    const s = sender({ url: receiver.url, concurrency: 1, timeoutMs: 5000 });
    s.send(hit());
    s.send(hit());
    const started = Date.now();
    await s.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(s.stats()).toMatchObject({ delivered: 0, dropped: 2, queued: 0, inFlight: 0 });
  });

  it('refuses a URL that is not http(s) and a short secret, with a validation error', () => {
    expect(() => new WebhookSender({ url: 'file:///etc/passwd', secret: SECRET })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
    expect(() => new WebhookSender({ url: 'https://soc.example/', secret: 'short' })).toThrow(
      expect.objectContaining({ code: 'validation_failed' }),
    );
  });
});

describe('the responders together', () => {
  it('send the webhook once per alert and ask for a block for every hit', async () => {
    const receiver = await Receiver.start(() => status(200));
    const responders = new Responders(
      { block: { mode: 'dry-run' }, webhook: { url: receiver.url, secret: SECRET } },
      { interfaceAddresses: () => [], sweepIntervalMs: 0 },
    );
    await responders.start();
    const raised = await responders.respond(hit('critical'), { notify: true, alertId: 'a-1' });
    expect(raised).toMatchObject({ block: { outcome: 'blocked' }, webhook: { queued: true } });
    const merged = await responders.respond(hit('critical'), { notify: false });
    expect(merged.webhook).toBeUndefined();
    expect(merged.block.outcome).toBe('already');
    await responders.close();
    expect(receiver.received).toHaveLength(1);
    expect(responders.stats()).toMatchObject({
      block: { mode: 'dry-run', blocked: 1, already: 1 },
      webhook: { delivered: 1 },
    });
    expect(responders.blocker.list()).toEqual([
      expect.objectContaining({ address: '203.0.113.5', mode: 'dry-run', ruleId: 'brute-force' }),
    ]);
  });

  it('refuse a bad configuration with every bad setting named', () => {
    expect(() => new Responders({ block: { backend: 'iptables' }, webhook: { url: 'x' } })).toThrow(
      /block\.backend.*webhook\.url/,
    );
  });
});
