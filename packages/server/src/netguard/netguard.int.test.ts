/**
 * The network guard through the whole platform, on a real database: real DNS packets over UDP,
 * TCP and DNS over HTTPS to the resolver the platform starts, a local test server as upstream,
 * groups and lists managed over the HTTP API, the query log and its statistics, spyware alerts,
 * device profiles and device compliance.
 */
import type { DnsVerdict, Group, NetguardList, QueryStats } from '@rempart/core';
import * as dnsPacket from 'dns-packet';
import type { FastifyInstance } from 'fastify';
import { parse as parsePlist } from 'plist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { addresses, ask, encodeQuery, TcpClient, udpExchange } from '../test-support/dns-client.js';
import { startTestUpstream, type TestUpstream } from '../test-support/dns-upstream.js';
import { enrolWithTotp, HttpAgent } from '../test-support/http-agent.js';
import { awaitAlert, openTestPlatform, type TestPlatform } from '../test-support/platform.js';
import { RecordingEngine } from '../test-support/recording-engine.js';

let upstream: TestUpstream;
let silent: TestUpstream;
let platform: TestPlatform;
let app: FastifyInstance;
let admin: HttpAgent;
let port: number;

const RECORDS = {
  'intranet.example': [{ type: 'A' as const, ttl: 300, data: '192.0.2.80' }],
  'www.example': [{ type: 'A' as const, ttl: 300, data: '192.0.2.10' }],
  'cdn.example': [{ type: 'A' as const, ttl: 300, data: '192.0.2.11' }],
  'ads.example': [{ type: 'A' as const, ttl: 300, data: '192.0.2.66' }],
  'good.ads.example': [{ type: 'A' as const, ttl: 300, data: '192.0.2.67' }],
};

beforeAll(async () => {
  upstream = await startTestUpstream({ records: RECORDS });
  // The first upstream never answers: every answer below comes through fail-over.
  silent = await startTestUpstream({ records: RECORDS, mode: 'silent' });
  platform = await openTestPlatform({
    media: new RecordingEngine(),
    env: {
      REMPART_DNS_LISTEN: '127.0.0.1:0',
      REMPART_DNS_UPSTREAMS: `127.0.0.1:${silent.port},127.0.0.1:${upstream.port}`,
      REMPART_DNS_BLOCKPAGE_IP: '192.0.2.253',
      // Device profiles point phones at DNS over HTTPS, which only exists on an https:// address.
      REMPART_PUBLIC_URL: 'https://rempart.interieur.gouv.fr',
    },
  });
  app = await buildApp(platform, { webRoot: '/nonexistent' });
  ({ agent: admin } = await enrolWithTotp(platform, app, { email: 'rssi@interieur.gouv.fr', role: 'admin' }));
  const listening = platform.netguard.resolverStats()?.listening ?? [];
  port = Number(/:(\d+)$/.exec(listening[0] ?? '')?.[1]);
  expect(port).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await app.close();
  await platform.close();
  await upstream.close();
  await silent.close();
});

const doh = (message: Buffer) =>
  app.inject({
    method: 'POST',
    url: '/dns-query',
    remoteAddress: '127.0.0.1',
    headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
    payload: message,
  });

async function uploadList(name: string, text: string, action: 'block' | 'allow' = 'block') {
  const res = await admin.request(
    'POST',
    `/api/netguard/lists?name=${encodeURIComponent(name)}&action=${action}`,
    undefined,
    { 'content-type': 'text/plain' },
    Buffer.from(text),
  );
  return res;
}

describe('the network guard out of the box', () => {
  it('blocks TikTok for every client over UDP, TCP and DNS over HTTPS, answering NXDOMAIN', async () => {
    const udp = await ask(port, 'www.tiktok.com');
    expect(udp.rcode).toBe('NXDOMAIN');
    const tcp = await TcpClient.connect(port);
    tcp.send(encodeQuery('api16-normal-c-useast1a.tiktokv.com', 'AAAA', { id: 7 }));
    const answer = await tcp.next();
    tcp.close();
    expect(answer.rcode).toBe('NXDOMAIN');
    const res = await doh(encodeQuery('tiktokcdn.com', 'A', { id: 0 }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/dns-message');
    expect((dnsPacket.decode(res.rawPayload) as unknown as { rcode: string }).rcode).toBe('NXDOMAIN');
    // None of them went upstream.
    expect(upstream.queries.filter((q) => q.name.includes('tiktok'))).toEqual([]);
  });

  it('forwards what is allowed, failing over from a silent upstream, and answers the second time from its cache', async () => {
    const before = upstream.queries.length;
    const first = await ask(port, 'www.example');
    expect(first.rcode).toBe('NOERROR');
    expect(addresses(first)).toEqual(['192.0.2.10']);
    const second = await ask(port, 'www.example');
    expect(addresses(second)).toEqual(['192.0.2.10']);
    expect(upstream.queries.slice(before).filter((q) => q.name === 'www.example')).toHaveLength(1);
    expect(silent.queries.some((q) => q.name === 'www.example')).toBe(true);
    expect(platform.netguard.resolverStats()?.cacheHits).toBeGreaterThan(0);
  });

  it('raises a high alert naming the client and the malware when a Pegasus domain is queried', async () => {
    const answer = await ask(port, 'weather4free.com');
    expect(answer.rcode).toBe('NXDOMAIN');
    const alert = await awaitAlert(platform, 'weather4free.com');
    expect(alert).toMatchObject({ severity: 'high', source: 'netguard' });
    expect(alert?.details).toMatchObject({
      client: '127.0.0.1',
      name: 'weather4free.com',
      malware: 'Pegasus',
    });
    // Once per client and name in a while, not once per query.
    await ask(port, 'weather4free.com');
    await platform.netguard.flushLog();
    expect(
      (await platform.alerts.list('open', 50)).filter((a) => a.title.includes('weather4free.com')),
    ).toHaveLength(1);
  });

  it('explains a verdict: the default group, the category and the rule', async () => {
    const res = await admin.get('/api/netguard/test?domain=m.tiktok.com&client=10.1.2.3');
    expect(res.status).toBe(200);
    const verdict = res.json as DnsVerdict;
    expect(verdict).toMatchObject({
      action: 'block',
      group: { id: 'default' },
      decidedBy: { category: 'tiktok-bytedance', rule: 'tiktok.com' },
    });
    const spy = (await admin.get('/api/netguard/test?domain=weather4free.com')).json as DnsVerdict;
    expect(spy.decidedBy).toMatchObject({ category: 'spyware', malware: 'Pegasus' });
  });
});

describe('lists and groups managed over the API', () => {
  let adblock: NetguardList;

  it('uploads an adblock list whose exception lets one subdomain through; the resolver switches without a restart', async () => {
    const res = await uploadList(
      'Publicité',
      '! ads\n||ads.example^\n@@||good.ads.example^\nnot a rule !!\n',
    );
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    adblock = res.json.list as NetguardList;
    expect(adblock).toMatchObject({ rules: 2, problemCount: 1, problems: [{ line: 4 }] });
    expect((await ask(port, 'ads.example')).rcode).toBe('NOERROR');
    const saved = await admin.put('/api/netguard/groups/default', {
      name: 'Default',
      categories: ['spyware', 'tiktok-bytedance'],
      lists: [adblock.id],
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    expect((await ask(port, 'ads.example')).rcode).toBe('NXDOMAIN');
    expect((await ask(port, 'tracker.ads.example')).rcode).toBe('NXDOMAIN');
    const good = await ask(port, 'good.ads.example');
    expect(good.rcode).toBe('NOERROR');
    expect(addresses(good)).toEqual(['192.0.2.67']);
  });

  it('gives a group of clients its own policy: blocked for the cabinet, answered by the block page', async () => {
    const res = await uploadList('Cabinet', 'cdn.example\n');
    const cabinet = res.json.list as NetguardList;
    const saved = await admin.put('/api/netguard/groups/cabinet', {
      name: 'Cabinet du ministre',
      cidrs: ['127.0.0.1/32'],
      categories: ['tiktok-bytedance'],
      lists: [cabinet.id],
      blockMode: 'blockpage',
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const blocked = await ask(port, 'cdn.example');
    expect(blocked.rcode).toBe('NOERROR');
    expect(addresses(blocked)).toEqual(['192.0.2.253']);
    // The same name for a client of the default group is allowed.
    const other = (await admin.get('/api/netguard/test?domain=cdn.example&client=10.9.9.9'))
      .json as DnsVerdict;
    expect(other).toMatchObject({ action: 'allow', group: { id: 'default' } });
    const mine = (await admin.get('/api/netguard/test?domain=cdn.example&client=127.0.0.1'))
      .json as DnsVerdict;
    expect(mine).toMatchObject({
      action: 'block',
      group: { id: 'cabinet', why: 'address range' },
      blockMode: 'blockpage',
    });
    // Firefox's canary is answered NXDOMAIN whatever the mode, or Firefox turns its own DoH on.
    await admin.put('/api/netguard/groups/cabinet', {
      name: 'Cabinet du ministre',
      cidrs: ['127.0.0.1/32'],
      categories: ['doh-bypass'],
      lists: [cabinet.id],
      blockMode: 'blockpage',
    });
    expect((await ask(port, 'use-application-dns.net')).rcode).toBe('NXDOMAIN');
    // Without the range, the client falls back to the default group.
    await admin.delete('/api/netguard/groups/cabinet');
    expect((await ask(port, 'cdn.example')).rcode).toBe('NOERROR');
  });

  it('lets an allow-list win over every block list', async () => {
    const allow = (await uploadList('Exceptions', 'ads.example\n', 'allow')).json as { list: NetguardList };
    await admin.put('/api/netguard/groups/default', {
      name: 'Default',
      categories: ['spyware', 'tiktok-bytedance'],
      lists: [adblock.id, allow.list.id],
    });
    expect((await ask(port, 'ads.example')).rcode).toBe('NOERROR');
    const verdict = (await admin.get('/api/netguard/test?domain=ads.example')).json as DnsVerdict;
    expect(verdict.decidedBy).toMatchObject({ action: 'allow', list: 'Exceptions' });
    expect(verdict.matches.map((m) => m.action).sort()).toEqual(['allow', 'block']);
  });

  it('drops no query while lists are replaced and groups reloaded', async () => {
    const answers: Promise<{ rcode: string }>[] = [];
    let reloading = true;
    const firing = (async () => {
      while (reloading || answers.length < 50) {
        answers.push(ask(port, 'intranet.example'));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    for (let i = 0; i < 5; i++) {
      const res = await admin.request(
        'PUT',
        `/api/netguard/lists/${adblock.id}`,
        undefined,
        { 'content-type': 'text/plain' },
        Buffer.from(`||ads.example^\n||round${i}.example^\n`),
      );
      expect(res.status).toBe(200);
    }
    reloading = false;
    await firing;
    const settled = await Promise.all(answers);
    expect(settled.every((a) => a.rcode === 'NOERROR')).toBe(true);
    expect((await ask(port, 'round4.example')).rcode).toBe('NXDOMAIN');
  });

  it('refuses bad input and changes nothing', async () => {
    const groups = ((await admin.get('/api/netguard/groups')).json.groups as Group[]).length;
    const lists = ((await admin.get('/api/netguard/lists')).json.lists as NetguardList[]).length;
    const badCidr = await admin.put('/api/netguard/groups/x', { name: 'X', cidrs: ['10.0.0.0/33'] });
    expect(badCidr.status).toBe(400);
    const unknownList = await admin.put('/api/netguard/groups/x', {
      name: 'X',
      lists: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknownList.status).toBe(400);
    const badId = await admin.put('/api/netguard/groups/Not%20An%20Id', { name: 'X' });
    expect(badId.status).toBe(400);
    const empty = await uploadList('Vide', '# nothing here\n\n!!!\n');
    expect(empty).toMatchObject({ status: 422, json: { error: { code: 'list_empty' } } });
    const notText = await admin.request('POST', '/api/netguard/lists?name=x', { rules: [] });
    expect(notText.status).toBe(415);
    expect((await admin.delete('/api/netguard/groups/default')).status).toBe(409);
    expect((await admin.delete(`/api/netguard/lists/${adblock.id}`)).status).toBe(409);
    expect(((await admin.get('/api/netguard/groups')).json.groups as Group[]).length).toBe(groups);
    expect(((await admin.get('/api/netguard/lists')).json.lists as NetguardList[]).length).toBe(lists);
    const dohBad = await app.inject({
      method: 'POST',
      url: '/dns-query',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(dohBad.statusCode).toBe(415);
    const dohGarbage = await app.inject({ method: 'GET', url: '/dns-query?dns=%%%' });
    expect(dohGarbage.statusCode).toBe(400);
  });

  it('keeps the console to administrators', async () => {
    const { agent } = await enrolWithTotp(platform, app, { email: 'agent@interieur.gouv.fr' });
    expect((await agent.get('/api/netguard/groups')).status).toBe(403);
    expect((await new HttpAgent(app).get('/api/netguard/stats')).status).toBe(401);
  });
});

describe('device policy and compliance', () => {
  it('exports an Apple profile blocking TikTok and pointing DNS at Rempart', async () => {
    const res = await admin.request('GET', '/api/netguard/policy?platform=ios&group=default');
    expect(res.status, res.raw.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-apple-aspen-config');
    const profile = parsePlist(res.raw.body) as {
      PayloadType: string;
      PayloadContent: {
        PayloadType: string;
        blockedAppBundleIDs?: string[];
        DNSSettings?: { ServerURL: string };
      }[];
    };
    expect(profile.PayloadType).toBe('Configuration');
    const restrictions = profile.PayloadContent.find((p) => p.PayloadType === 'com.apple.applicationaccess');
    expect(restrictions?.blockedAppBundleIDs).toContain('com.zhiliaoapp.musically');
    const dns = profile.PayloadContent.find((p) => p.PayloadType === 'com.apple.dnsSettings.managed');
    expect(dns?.DNSSettings?.ServerURL).toBe(`${platform.config.publicUrl}/dns-query`);
  });

  it('exports an Android policy with the three TikTok packages blocked', async () => {
    const res = await admin.request('GET', '/api/netguard/policy?platform=android');
    const policy = JSON.parse(res.raw.body) as {
      applications: { packageName: string; installType: string }[];
    };
    const blocked = policy.applications.filter((a) => a.installType === 'BLOCKED').map((a) => a.packageName);
    expect(blocked).toEqual(
      expect.arrayContaining([
        'com.zhiliaoapp.musically',
        'com.ss.android.ugc.trill',
        'com.zhiliaoapp.musically.go',
      ]),
    );
  });

  it('marks a phone reporting TikTok as not compliant and alerts; a clean report makes it compliant again', async () => {
    const enrol = await admin.post('/api/netguard/devices', {
      name: 'iPhone du ministre',
      platform: 'ios',
      owner: 'rssi@interieur.gouv.fr',
    });
    expect(enrol.status, JSON.stringify(enrol.json)).toBe(201);
    const token = enrol.json.token as string;
    expect(enrol.json.device).toMatchObject({ compliant: null, group: 'default' });
    const report = (apps: string[], bearer = token) =>
      app.inject({
        method: 'POST',
        url: '/api/netguard/inventory',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ osVersion: '18.1', addresses: [], apps }),
      });
    const dirty = await report(['com.apple.mobilesafari', 'com.zhiliaoapp.musically']);
    expect(dirty.statusCode, dirty.body).toBe(200);
    expect(JSON.parse(dirty.body).device).toMatchObject({
      compliant: false,
      violations: [{ app: 'com.zhiliaoapp.musically', reason: 'blocked', category: 'tiktok-bytedance' }],
    });
    const alerts = await platform.alerts.list('open', 50);
    expect(alerts.find((a) => a.title.includes('iPhone du ministre'))).toMatchObject({ source: 'netguard' });
    const clean = await report(['com.apple.mobilesafari']);
    expect(JSON.parse(clean.body).device).toMatchObject({ compliant: true, violations: [] });
    const forged = await report(['com.apple.mobilesafari'], 'x'.repeat(43));
    expect(forged.statusCode).toBe(401);
    const listed = (await admin.get('/api/netguard/devices')).json.devices as {
      name: string;
      owner: string;
    }[];
    expect(listed).toEqual([
      expect.objectContaining({ name: 'iPhone du ministre', owner: 'rssi@interieur.gouv.fr' }),
    ]);
  });
  it("imports an MDM's CSV export: new devices enrolled by serial, TikTok found, bad lines named", async () => {
    const csv = [
      'Device name;Serial number;Platform;OS version;Bundle ID',
      'Pixel cabinet;R5CT90;Android;14;com.android.chrome',
      'Pixel cabinet;R5CT90;Android;14;com.ss.android.ugc.trill',
      'iPad salle 2;DMPX77;iPadOS;17.5;com.apple.mobilesafari',
      'Imprimante;X1;Windows;11;com.example.driver',
    ].join('\n');
    const res = await admin.request(
      'POST',
      '/api/netguard/devices/import',
      undefined,
      { 'content-type': 'text/csv' },
      Buffer.from(csv),
    );
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({
      enrolled: 2,
      updated: 0,
      notCompliant: [{ device: 'Pixel cabinet', apps: ['com.ss.android.ugc.trill'] }],
      errors: [{ line: 5 }],
    });
    // Imported again, the same devices are updated, not enrolled twice.
    const again = await admin.request(
      'POST',
      '/api/netguard/devices/import',
      undefined,
      { 'content-type': 'text/csv' },
      Buffer.from(csv),
    );
    expect(again.json).toMatchObject({ enrolled: 0, updated: 2 });
    const garbage = await admin.request(
      'POST',
      '/api/netguard/devices/import',
      undefined,
      { 'content-type': 'text/csv' },
      Buffer.from('hello,world\n1,2\n'),
    );
    expect(garbage.status).toBe(400);
  });
});

describe('the query log', () => {
  it('counts queries and blocks over time, top blocked names and top clients', async () => {
    await platform.netguard.flushLog();
    const res = await admin.get('/api/netguard/stats?hours=1');
    expect(res.status).toBe(200);
    const stats = res.json as QueryStats;
    expect(stats.totals.queries).toBeGreaterThan(10);
    expect(stats.totals.blocked).toBeGreaterThan(3);
    expect(stats.totals.cached).toBeGreaterThan(0);
    expect(stats.series.reduce((n, s) => n + s.queries, 0)).toBe(stats.totals.queries);
    expect(stats.topBlocked.map((b) => b.name)).toContain('weather4free.com');
    expect(stats.topClients[0]).toMatchObject({ client: '127.0.0.1' });
    expect(stats.resolver?.listening).toEqual([`udp://127.0.0.1:${port}`, `tcp://127.0.0.1:${port}`]);
  });

  it('prunes entries past the retention', async () => {
    platform.clock.advance(8 * 86_400_000);
    expect(await platform.netguard.pruneLog()).toBeGreaterThan(10);
    const stats = await platform.netguard.stats(240);
    expect(stats.totals.queries).toBe(0);
  });
});

describe('rate limiting', () => {
  it('drops a flood from an untrusted client, and none once its group is made trusted', async () => {
    const limited = await openTestPlatform({
      media: new RecordingEngine(),
      env: {
        REMPART_DNS_LISTEN: '127.0.0.1:0',
        REMPART_DNS_UPSTREAMS: `127.0.0.1:${upstream.port}`,
        REMPART_DNS_RATE_LIMIT: '20',
        REMPART_DNS_TRUSTED: '10.0.0.0/8',
      },
    });
    try {
      const dnsPort = Number(/:(\d+)$/.exec(limited.netguard.resolverStats()?.listening[0] ?? '')?.[1]);
      const flood = () =>
        Promise.all(
          Array.from({ length: 120 }, () =>
            udpExchange(dnsPort, encodeQuery('www.tiktok.com'), { timeoutMs: 500 }),
          ),
        );
      const first = await flood();
      const answered = first.filter((a) => a !== undefined).length;
      // A burst of twice the rate gets through; the rest is dropped, unanswered.
      expect(answered).toBeGreaterThanOrEqual(35);
      expect(answered).toBeLessThan(80);
      expect(limited.netguard.resolverStats()?.rateLimited).toBeGreaterThan(30);
      await limited.netguard.saveGroup(
        { id: '00000000-0000-4000-8000-000000000001', email: 'rssi@interieur.gouv.fr' },
        'soc',
        { name: 'SOC', cidrs: ['127.0.0.1/32'], categories: ['tiktok-bytedance'], trusted: true },
        null,
      );
      const before = limited.netguard.resolverStats()?.rateLimited ?? 0;
      const second = await flood();
      expect(second.every((a) => a !== undefined)).toBe(true);
      expect(limited.netguard.resolverStats()?.rateLimited).toBe(before);
    } finally {
      await limited.close();
    }
  });
});
