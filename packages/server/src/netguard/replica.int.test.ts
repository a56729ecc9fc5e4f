/**
 * A DNS resolver replica against a real platform over HTTP on loopback: it refuses to start
 * without the platform's consent, decides as the platform's policy says (categories, uploaded
 * lists, a group's block mode) over real UDP and TCP packets, follows a policy change without a
 * restart, ships its query log so that the platform's statistics count it and a spyware query
 * raises the platform's alert, and goes on answering with the policy it holds when the platform
 * is gone. The platform's replica endpoints refuse a wrong secret and a malformed shipment.
 */
import type { NetguardList, QueryStats } from '@rempart/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { createLogger } from '../logger.js';
import { addresses, ask, encodeQuery, TcpClient } from '../test-support/dns-client.js';
import { startTestUpstream, type TestUpstream } from '../test-support/dns-upstream.js';
import type { HttpAgent } from '../test-support/http-agent.js';
import { enrolWithTotp } from '../test-support/http-agent.js';
import { awaitAlert, openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';
import { DnsReplica, type ReplicaOptions } from './replica.js';

const SECRET = 'replica-secret-0123456789-abcdefghijklmnop';

let upstream: TestUpstream;
let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let base: string;
let replica: DnsReplica;
let port: number;

const options = (over: Partial<ReplicaOptions> = {}): ReplicaOptions => ({
  server: base,
  token: SECRET,
  name: 'site-b',
  listen: { host: '127.0.0.1', port: 0 },
  upstreams: [{ host: '127.0.0.1', port: upstream.port }],
  rateLimit: 0,
  trusted: [],
  log: createLogger('silent'),
  // Polls and shipments are driven by the tests (sync, flush); the timers only back them up.
  pollMs: 60_000,
  shipMs: 60_000,
  ...over,
});

beforeAll(async () => {
  upstream = await startTestUpstream({
    records: {
      'www.example': [{ type: 'A', ttl: 300, data: '192.0.2.10' }],
      'www.forbidden.example': [{ type: 'A', ttl: 300, data: '192.0.2.20' }],
      'other.example': [{ type: 'A', ttl: 300, data: '192.0.2.30' }],
      'www.tiktok.com': [{ type: 'A', ttl: 300, data: '192.0.2.40' }],
    },
  });
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: { REMPART_DNS_REPLICA_TOKEN: SECRET },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'rssi@interieur.gouv.fr', role: 'admin' }));
  replica = await DnsReplica.start(options());
  port = Number(/:(\d+)$/.exec(replica.addresses()[0] ?? '')?.[1]);
  expect(port).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await replica?.close();
  await app.close();
  await platform.close();
  await upstream.close();
});

describe('a replica starts only with the platform’s consent', () => {
  it('refuses a wrong secret, and a platform that cannot be reached, naming the cause', async () => {
    await expect(DnsReplica.start(options({ token: 'x'.repeat(40) }))).rejects.toMatchObject({
      code: 'replica_token_invalid',
    });
    await expect(DnsReplica.start(options({ server: 'http://127.0.0.1:9' }))).rejects.toMatchObject({
      code: 'service_unavailable',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    await expect(DnsReplica.start(options({ server: 'not a url' }))).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('the replica endpoints answer 401 without the secret, and 304 when the policy held is current', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${SECRET}`]) {
      const res = await app.inject({
        method: 'GET',
        url: '/api/netguard/replica/policy',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'replica_token_invalid' } });
    }
    const held = replica.status().version;
    const again = await app.inject({
      method: 'GET',
      url: '/api/netguard/replica/policy',
      headers: { authorization: `Bearer ${SECRET}`, 'if-none-match': `"${held}"` },
    });
    expect(again.statusCode).toBe(304);
  });
});

describe('a replica decides as the platform does', () => {
  it('blocks the default group’s categories over UDP and TCP, and resolves the rest through its upstream', async () => {
    expect((await ask(port, 'www.tiktok.com')).rcode).toBe('NXDOMAIN');
    const tcp = await TcpClient.connect(port);
    tcp.send(encodeQuery('m.tiktok.com', 'A', { id: 7 }));
    expect((await tcp.next()).rcode).toBe('NXDOMAIN');
    tcp.close();
    const allowed = await ask(port, 'www.example');
    expect(allowed.rcode).toBe('NOERROR');
    expect(addresses(allowed)).toEqual(['192.0.2.10']);
  });

  it('follows a list uploaded on the platform and a group’s new block mode, without a restart', async () => {
    const before = replica.status().version;
    const upload = await admin.request(
      'POST',
      '/api/netguard/lists?name=Interdits&action=block',
      undefined,
      { 'content-type': 'text/plain' },
      Buffer.from('||forbidden.example^\n'),
    );
    expect(upload.status, JSON.stringify(upload.json)).toBe(201);
    const list = upload.json.list as NetguardList;
    // A group claiming this client (127.0.0.1) with the list, answering 0.0.0.0 for what it blocks.
    const group = await admin.request('PUT', '/api/netguard/groups/poste-local', {
      name: 'Poste local',
      cidrs: ['127.0.0.1/32'],
      categories: ['spyware'],
      lists: [list.id],
      blockMode: 'null',
    });
    expect(group.status, JSON.stringify(group.json)).toBe(200);

    // Not yet asked: the replica still answers with the policy it holds.
    expect(addresses(await ask(port, 'www.forbidden.example'))).toEqual(['192.0.2.20']);
    await replica.sync();
    expect(replica.status()).toMatchObject({ groups: 2, lists: 1 });
    expect(replica.status().version).not.toBe(before);
    // (The answer above was cached: a blocked name is decided before the cache is asked.)
    const blocked = await ask(port, 'www.forbidden.example');
    expect(blocked.rcode).toBe('NOERROR');
    expect(addresses(blocked)).toEqual(['0.0.0.0']);
    // This group does not take the TikTok category: its clients reach it.
    expect(addresses(await ask(port, 'www.tiktok.com'))).toEqual(['192.0.2.40']);

    // The list replaced: the replica fetches its new version.
    const replaced = await admin.request(
      'PUT',
      `/api/netguard/lists/${list.id}`,
      undefined,
      { 'content-type': 'text/plain' },
      Buffer.from('||other.example^\n'),
    );
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    await replica.sync();
    expect(addresses(await ask(port, 'www.forbidden.example'))).toEqual(['192.0.2.20']);
    expect(addresses(await ask(port, 'other.example'))).toEqual(['0.0.0.0']);
  });
});

describe('a replica’s query log reaches the platform', () => {
  it('counts its queries in the platform’s statistics and raises the spyware alert naming the replica', async () => {
    const before = (await admin.get('/api/netguard/stats?hours=1')).json as QueryStats;
    expect((await ask(port, 'weather4free.com')).rcode).toBe('NOERROR'); // this group answers 0.0.0.0
    for (let i = 0; i < 5; i++) await ask(port, 'www.example');
    await replica.flush();
    expect(replica.status().shipped).toBeGreaterThanOrEqual(6);
    const after = (await admin.get('/api/netguard/stats?hours=1')).json as QueryStats;
    expect(after.totals.queries - before.totals.queries).toBeGreaterThanOrEqual(6);
    expect(after.topBlocked.map((b) => b.name)).toContain('weather4free.com');
    expect(after.topClients.map((c) => c.client)).toContain('127.0.0.1');

    const alert = await awaitAlert(platform, 'weather4free.com');
    expect(alert).toMatchObject({ severity: 'high', source: 'netguard' });
    expect(alert?.details).toMatchObject({
      client: '127.0.0.1',
      name: 'weather4free.com',
      malware: 'Pegasus',
      resolver: 'site-b',
      group: 'poste-local',
    });
  });

  it('refuses a malformed shipment with 400 and logs none of it', async () => {
    const before = ((await admin.get('/api/netguard/stats?hours=1')).json as QueryStats).totals.queries;
    const row = {
      at: Date.now(),
      client: '127.0.0.1',
      protocol: 'udp',
      name: 'www.example',
      type: 'A',
      groupId: 'default',
      action: 'allow',
      list: null,
      rule: null,
      rcode: 'NOERROR',
      cached: false,
      durationMs: 1,
      count: 3,
    };
    for (const rows of [[{ ...row, count: 0 }], [row, { ...row, protocol: 'carrier-pigeon' }], 'rows']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/netguard/replica/queries',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ replica: 'site-b', rows }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'validation_failed' } });
    }
    await platform.netguard.flushLog();
    const after = ((await admin.get('/api/netguard/stats?hours=1')).json as QueryStats).totals.queries;
    expect(after).toBe(before);
  });
});

describe('a replica without its platform', () => {
  it('goes on answering with the policy it holds, and says the platform cannot be reached', async () => {
    await app.close();
    await expect(replica.sync()).rejects.toMatchObject({ code: 'service_unavailable' });
    expect(addresses(await ask(port, 'other.example'))).toEqual(['0.0.0.0']);
    expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
  });
});
