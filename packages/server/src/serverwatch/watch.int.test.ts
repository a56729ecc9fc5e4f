/**
 * The live server watch through the whole platform, on a real database: syslog over real UDP and
 * TCP sockets on loopback and JSON lines over HTTP, the shipped rules and correlations, alerts in
 * the platform's alert stream, de-duplication, the dry-run block of the attacker, stored events
 * searched over the API, retro-hunts and their errors.
 */
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type {
  Alert,
  RuleCount,
  WatchBlockView,
  WatchEventPage,
  WatchHitPage,
  WatchHuntResult,
} from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';

const TOKEN = 'watch-ingest-token-for-the-tests-0123456789';
const WEBHOOK_SECRET = 'the-soc-webhook-secret';
const BRUTE_FORCE = '512a9a02-4bd8-4dfd-b8af-889ae41ae546';
const SPRAYING = '5c9c33c4-b818-452f-be34-e1ec19c2db88';

let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let port: number;
/** What the SOC's webhook receiver got: each body and its signature header. */
const posted: { body: string; signature: string | undefined }[] = [];
let receiver: Server;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posted.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: request.headers['x-rempart-signature'] as string | undefined,
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const address = receiver.address();
  const hook = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  platform = await openTestPlatform({
    env: {
      REMPART_WATCH_SYSLOG: '127.0.0.1:0',
      REMPART_WATCH_INGEST_TOKEN: TOKEN,
      REMPART_WATCH_WEBHOOK_URL: hook,
      REMPART_WATCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'soc@interieur.gouv.fr', role: 'admin' }));
  port = platform.watch.status().syslog?.port ?? 0;
  expect(port).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await app.close();
  await platform.close();
  await new Promise((done) => receiver.close(done));
});

/** A Dovecot IMAP login failure as rsyslog forwards it (RFC 3164), now. */
function failedLogin(user: string, ip: string, pri = 38): string {
  const now = new Date();
  const stamp = `${now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })} ${String(now.getUTCDate()).padStart(2, ' ')} ${now.toISOString().slice(11, 19)}`;
  return `<${pri}>${stamp} mx1 dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=192.0.2.25, TLS, session=<x${Math.random().toString(36).slice(2, 10)}>`;
}

async function sendUdp(lines: string[]): Promise<void> {
  const socket = createSocket('udp4');
  for (const line of lines)
    await new Promise<void>((done, fail) =>
      socket.send(Buffer.from(line), port, '127.0.0.1', (error) => (error ? fail(error) : done())),
    );
  socket.close();
}

/** Lines over TCP with octet counting (RFC 6587 §3.4.1). */
async function sendTcp(lines: string[]): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
  for (const line of lines) socket.write(`${Buffer.byteLength(line)} ${line}`);
  await new Promise<void>((done) => socket.end(done));
}

/** The serverwatch alerts of `ruleId` whose group names `ip`, polled until `count` are there. */
async function alertsOf(ruleId: string, ip: string): Promise<Alert[]> {
  const all = await platform.alerts.list('all', 500);
  return all.filter(
    (a) =>
      a.source === 'serverwatch' &&
      a.details.ruleId === ruleId &&
      JSON.stringify(a.details.group ?? {}).includes(ip),
  );
}

/** Waits until `check` holds, polling every 20 ms; gives the time it took, in ms. */
async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the live server watch', () => {
  it('raises a brute-force alert within 2 s of failed logins sent over syslog UDP, and blocks the source in dry-run', async () => {
    const lines = Array.from({ length: 12 }, () =>
      failedLogin('marie.dupont@interieur.gouv.fr', '203.0.113.50'),
    );
    await sendUdp(lines);
    const took = await within(2000, async () => (await alertsOf(BRUTE_FORCE, '203.0.113.50')).length > 0);
    expect(took).toBeLessThan(2000);
    const [alert] = await alertsOf(BRUTE_FORCE, '203.0.113.50');
    expect(alert).toMatchObject({ severity: 'high', title: expect.stringContaining('Mail Brute Force') });
    expect(alert!.details.group).toEqual({ src_ip: '203.0.113.50', user: 'marie.dupont@interieur.gouv.fr' });
    // The events that made it travel with the alert, as they were received.
    const events = alert!.details.events as { raw: string; fields: Record<string, unknown> }[];
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(events.every((e) => e.fields.src_ip === '203.0.113.50' && e.raw.includes('auth failed'))).toBe(
      true,
    );

    const blocks = (await admin.get('/api/watch/blocks')).json.blocks as WatchBlockView[];
    const block = blocks.find((b) => b.address === '203.0.113.50');
    expect(block).toMatchObject({ mode: 'dry-run', ruleId: BRUTE_FORCE });
    // The SOC's webhook got the alert, signed with the shared secret.
    await within(5000, () => posted.some((p) => p.body.includes('203.0.113.50')));
    const delivery = posted.find((p) => p.body.includes('203.0.113.50'))!;
    expect(delivery.signature).toBe(
      `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(delivery.body).digest('hex')}`,
    );
    expect(JSON.parse(delivery.body)).toMatchObject({
      rule: { id: BRUTE_FORCE },
      alertId: alert!.id,
      group: { src_ip: '203.0.113.50' },
    });
    expect(block!.command).toEqual(
      expect.arrayContaining(['nft', 'add', 'element', 'inet', 'rempart', 'blocked4']),
    );
  });

  it('raises a password-spraying alert within 2 s of failures against many mailboxes sent over syslog TCP', async () => {
    const lines = Array.from({ length: 12 }, (_, i) =>
      failedLogin(`agent${i}@interieur.gouv.fr`, '198.51.100.77'),
    );
    await sendTcp(lines);
    const took = await within(2000, async () => (await alertsOf(SPRAYING, '198.51.100.77')).length > 0);
    expect(took).toBeLessThan(2000);
    expect(platform.watch.status().syslog?.messages.tcp).toBeGreaterThanOrEqual(12);
  });

  it('merges more hits of the same attack into its open alert instead of raising new ones', async () => {
    await sendUdp(
      Array.from({ length: 25 }, () => failedLogin('paul.martin@interieur.gouv.fr', '203.0.113.61')),
    );
    await within(2000, async () => (await alertsOf(BRUTE_FORCE, '203.0.113.61')).length > 0);
    // Let the pipeline take every line before counting.
    await within(2000, () => platform.watch.status().queue.depth === 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await alertsOf(BRUTE_FORCE, '203.0.113.61')).toHaveLength(1);
    const hits = (await admin.get(`/api/watch/hits?ruleId=${BRUTE_FORCE}`)).json as WatchHitPage;
    const merged = hits.hits.find((h) => JSON.stringify(h.group).includes('203.0.113.61'));
    // 25 failures in one window: the count reaches 10, then every later failure fires again.
    expect(merged!.count).toBeGreaterThan(1);
    const counts = (await admin.get('/api/watch/rules')).json.rules as RuleCount[];
    expect(counts.find((c) => c.ruleId === BRUTE_FORCE)!.hits).toBeGreaterThanOrEqual(merged!.count);
    expect(platform.watch.status().hits.merged).toBeGreaterThan(0);
  });

  it('stores every received line and finds them with the search language', async () => {
    const page = (
      await admin.get(
        `/api/watch/events?q=${encodeURIComponent('src_ip:203.0.113.50 outcome:failure')}&limit=100`,
      )
    ).json as WatchEventPage;
    expect(page.events).toHaveLength(12);
    expect(page.events.every((e) => e.format === 'syslog' && e.source === 'syslog-udp' && e.parsed)).toBe(
      true,
    );
    const cidr = (
      await admin.get(
        `/api/watch/events?q=${encodeURIComponent('src_ip:203.0.113.0/24 -user:paul*')}&limit=100`,
      )
    ).json as WatchEventPage;
    expect(cidr.events.map((e) => e.fields.src_ip)).toEqual(Array(12).fill('203.0.113.50'));
    const bad = await admin.get(`/api/watch/events?q=${encodeURIComponent('user:"unclosed')}`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('validation_failed');
  });

  it('takes JSON lines over HTTP only with the ingest token, and names the lines it refuses', async () => {
    const shipper = new HttpAgent(app, '192.0.2.44');
    const body = [
      JSON.stringify({ message: 'hello from a shipper', src_ip: '192.0.2.200', user: 'json.user' }),
      'not json',
      JSON.stringify(['an', 'array']),
    ].join('\n');
    const send = (authorization?: string) =>
      shipper.request(
        'POST',
        '/api/watch/ingest',
        undefined,
        { 'content-type': 'application/x-ndjson', ...(authorization ? { authorization } : {}) },
        Buffer.from(body),
      );
    expect((await send()).status).toBe(401);
    expect((await send('Bearer wrong-token-wrong-token-wrong-token')).json.error.code).toBe(
      'watch_token_invalid',
    );
    const accepted = await send(`Bearer ${TOKEN}`);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toMatchObject({ accepted: 1, rejected: 2 });
    expect((accepted.json.errors as { line: number }[]).map((e) => e.line)).toEqual([2, 3]);
    await within(2000, async () => {
      const page = (await admin.get('/api/watch/events?q=source:http')).json as WatchEventPage;
      return page.events.some((e) => e.raw.includes('hello from a shipper'));
    });
  });

  it('runs a new rule over the stored events (retro-hunt), and names the line of a broken one', async () => {
    const rule = [
      'title: Logins of Marie Dupont',
      'id: 4f6f7a6e-2a8c-4a0e-9f37-000000000001',
      'logsource:',
      '  product: linux',
      '  service: dovecot',
      'detection:',
      '  selection:',
      '    user: marie.dupont@interieur.gouv.fr',
      '  condition: selection',
      'level: medium',
    ].join('\n');
    const result = (await admin.post('/api/watch/hunts', { rules: rule })).json as WatchHuntResult;
    expect(result.hits).toBe(12);
    expect(result.events).toBeGreaterThanOrEqual(12 + 12 + 25);
    expect(result.byRule).toEqual([expect.objectContaining({ title: 'Logins of Marie Dupont', hits: 12 })]);
    const hits = (await admin.get(`/api/watch/hits?hunt=${result.id}&limit=100`)).json as WatchHitPage;
    expect(hits.hits).toHaveLength(12);
    expect(hits.hits.every((h) => h.hunt === result.id && h.eventIds.length === 1)).toBe(true);
    // A hunt raises no alert: an analyst asked for it.
    expect((await platform.alerts.list('all', 500)).some((a) => a.title.includes('Marie Dupont'))).toBe(
      false,
    );

    const unsupported = await admin.post('/api/watch/hunts', {
      rules: [
        'title: Average Bytes',
        'correlation:',
        '  type: value_avg',
        '  rules: [some_rule]',
        '  group-by: [src_ip]',
        '  timespan: 1h',
        '  condition: { field: bytes_out, gte: 100 }',
      ].join('\n'),
    });
    expect(unsupported.status).toBe(400);
    expect(unsupported.json.error.message).toMatch(/No rule to run.*Average Bytes uses .*value_avg/);
    const broken = await admin.post('/api/watch/hunts', { rules: `${rule}\n  bad: [unclosed` });
    expect(broken.status).toBe(400);
    expect(broken.json.error.code).toBe('validation_failed');
    expect(broken.json.error.message).toMatch(/hunt\.yml.*\b1[01]\b/);
  });

  it('lifts a block on request, and says when there is none', async () => {
    expect((await admin.delete('/api/watch/blocks/203.0.113.50')).status).toBe(204);
    const blocks = (await admin.get('/api/watch/blocks')).json.blocks as WatchBlockView[];
    expect(blocks.some((b) => b.address === '203.0.113.50')).toBe(false);
    expect((await admin.delete('/api/watch/blocks/203.0.113.50')).status).toBe(404);
  });

  it('keeps its status and data to administrators', async () => {
    const stranger = new HttpAgent(app);
    for (const url of [
      '/api/watch/status',
      '/api/watch/events',
      '/api/watch/hits',
      '/api/watch/rules',
      '/api/watch/blocks',
    ])
      expect((await stranger.get(url)).status).toBe(401);
    const status = (await admin.get('/api/watch/status')).json;
    expect(status).toMatchObject({ running: true, httpIngest: true, responses: { block: 'dry-run' } });
    expect(status.rules.detection).toBeGreaterThan(100);
    expect(status.events.stored).toBeGreaterThanOrEqual(50);
  });
});
