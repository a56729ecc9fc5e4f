/**
 * A DNS resolver replica against a real platform over HTTP on loopback: it refuses to start
 * without the platform's consent, decides as the platform's policy says (categories, uploaded
 * lists, a group's block mode) over real UDP and TCP packets, follows a policy change without a
 * restart, ships its query log so that the platform's statistics count it and a spyware query
 * raises the platform's alert, and goes on answering with the policy it holds when the platform
 * is gone. The platform's replica endpoints refuse a wrong secret and a malformed shipment. A
 * spyware bundle imported on the platform reaches the replica within a poll: it blocks the new
 * domains, flags their queries and the platform raises the alert, and lets them resolve again once
 * the set is removed; the domains travel only when they changed.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Alert, NetguardList, QueryStats } from '@rempart/core';
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
import { testBundle } from '../spyware/store/test-bundle.js';
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
      'nightjar-relay.net': [{ type: 'A', ttl: 300, data: '192.0.2.50' }],
      'cdn.nightjar-relay.net': [{ type: 'A', ttl: 300, data: '192.0.2.51' }],
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

describe('a replica blocks the spyware domains of the platform’s indicator store', () => {
  it('blocks a domain of a bundle imported on the platform within a poll, flags its queries, and lets it resolve once the set is removed', async () => {
    // The replica talks to the platform through a relay that notes every path asked for.
    const relay = await startRelay(base);
    const fetches = () => relay.paths.filter((p) => p === '/api/netguard/replica/spyware').length;
    const pollMs = 200;
    const site = await DnsReplica.start(
      options({ server: relay.base, name: 'site-c', pollMs, shipMs: pollMs }),
    );
    try {
      const sitePort = Number(/:(\d+)$/.exec(site.addresses()[0] ?? '')?.[1]);
      expect(addresses(await ask(sitePort, 'nightjar-relay.net'))).toEqual(['192.0.2.50']);
      const shipped = site.status().spyware;
      expect(shipped.revision).toBeDefined();
      expect(shipped.domains).toBeGreaterThan(100); // the shipped bundles' (Pegasus, Predator, …)
      expect(fetches()).toBe(1);
      // Polls while nothing changes: answered 304, the domains are not sent again.
      const polls = relay.paths.length;
      await expect.poll(() => relay.paths.length, { timeout: 10_000 }).toBeGreaterThan(polls + 2);
      expect(fetches()).toBe(1);

      const imported = await platform.spyware.store.import(
        'nightjar-2026.stix2',
        testBundle({ malware: 'Nightjar', domains: ['nightjar-relay.net'] }),
        'upload',
        null,
      );
      const began = Date.now();
      await expect
        .poll(async () => (await ask(sitePort, 'nightjar-relay.net')).rcode, {
          interval: 50,
          timeout: 10_000,
        })
        .toBe('NXDOMAIN');
      // Within a few polls, on a machine shared with other work; one fetch of the domains.
      expect(Date.now() - began).toBeLessThan(pollMs * 10);
      expect((await ask(sitePort, 'cdn.nightjar-relay.net')).rcode).toBe('NXDOMAIN');
      expect(fetches()).toBe(2);
      expect(site.status().spyware.domains).toBe(shipped.domains + 1);

      // A policy change that does not touch the spyware category: the domains are not sent again.
      const group = await admin.request('PUT', '/api/netguard/groups/salle-de-crise', {
        name: 'Salle de crise',
        cidrs: ['198.51.100.0/24'],
        categories: ['tiktok-bytedance'],
        lists: [],
        blockMode: 'nxdomain',
      });
      expect(group.status, JSON.stringify(group.json)).toBe(200);
      await expect.poll(() => site.status().groups, { timeout: 10_000 }).toBe(2);
      expect((await admin.request('DELETE', '/api/netguard/groups/salle-de-crise')).status).toBe(204);
      await expect.poll(() => site.status().groups, { timeout: 10_000 }).toBe(1);
      expect(fetches()).toBe(2);

      // The shipped rows are flagged: the platform raises the high alert naming the replica and the malware.
      await site.flush();
      const alert = await spywareAlert('cdn.nightjar-relay.net', 'site-c');
      expect(alert).toMatchObject({ severity: 'high', source: 'netguard' });
      expect(alert.details).toMatchObject({
        client: '127.0.0.1',
        name: 'cdn.nightjar-relay.net',
        malware: 'Nightjar',
        resolver: 'site-c',
        group: 'default',
        list: 'spyware',
      });
      // The replica decided by the platform's own rule.
      const own = platform.netguard.explain('cdn.nightjar-relay.net', '127.0.0.1').decidedBy;
      expect(own).toMatchObject({ category: 'spyware', malware: 'Nightjar' });
      expect(alert.details.rule).toBe(own?.rule);
      expect((await spywareAlert('nightjar-relay.net', 'site-c')).details).toMatchObject({
        malware: 'Nightjar',
      });

      await platform.spyware.store.remove(imported.set.id, null);
      await expect
        .poll(async () => addresses(await ask(sitePort, 'cdn.nightjar-relay.net')), {
          interval: 50,
          timeout: 10_000,
        })
        .toEqual(['192.0.2.51']);
      expect(addresses(await ask(sitePort, 'nightjar-relay.net'))).toEqual(['192.0.2.50']);
      // Back to the shipped bundles' domains, under the revision they had.
      expect(site.status().spyware).toEqual(shipped);
      expect(fetches()).toBe(3);
      // A shipped spyware domain stays blocked throughout.
      expect((await ask(sitePort, 'smscentro.com')).rcode).toBe('NXDOMAIN');
    } finally {
      await site.close();
      await relay.close();
    }
  });

  it('the platform sends the spyware domains only to a replica with the secret', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/netguard/replica/spyware' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'replica_token_invalid' } });
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

/** The platform's open spyware alert for `name` from the replica named `resolver`. */
async function spywareAlert(name: string, resolver: string): Promise<Alert> {
  let found: Alert | undefined;
  await expect
    .poll(
      async () =>
        (found = (await platform.alerts.list('open', 100)).find(
          (a) => a.source === 'netguard' && a.details.name === name && a.details.resolver === resolver,
        )),
      { timeout: 10_000 },
    )
    .toBeDefined();
  return found!;
}

interface Relay {
  base: string;
  /** The paths asked for, in order. */
  paths: string[];
  close(): Promise<void>;
}

/** An HTTP relay on loopback to `target`, noting the path of every request it passes on. */
async function startRelay(target: string): Promise<Relay> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push((req.url ?? '').split('?')[0] ?? '');
    const out = httpRequest(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
