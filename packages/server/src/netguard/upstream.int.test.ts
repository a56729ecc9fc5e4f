import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startTestUpstream,
  type TestUpstream,
  type TestUpstreamOptions,
} from '../test-support/dns-upstream.js';
import { parseQuery, upstreamQuestion } from './dns-wire.js';
import { checkServers, UpstreamPool, type UpstreamOptions } from './upstream.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const flags = { dnssecOk: false, checkingDisabled: false };

async function upstream(options: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const u = await startTestUpstream({
    records: { 'www.example': [{ type: 'A', ttl: 300, data: '192.0.2.10' }] },
    ...options,
  });
  cleanups.push(() => u.close());
  return u;
}

async function pool(options: UpstreamOptions): Promise<UpstreamPool> {
  const p = await UpstreamPool.open(options);
  cleanups.push(() => p.close());
  return p;
}

function question(name: string): Buffer {
  const raw = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: 'A' }] });
  const q = parseQuery(raw);
  if (!q.ok) throw new Error(q.reason);
  return upstreamQuestion(raw, q);
}

describe('upstream exchanges', () => {
  it('asks with random IDs from several source ports, and matches every answer', async () => {
    const u = await upstream();
    const p = await pool({ servers: [u.server], socketsPerServer: 4 });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, () => p.exchange(question('www.example'), flags)),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(new Set(u.queries.map((q) => q.id)).size).toBeGreaterThan(50);
    expect(new Set(u.queries.map((q) => q.from)).size).toBe(4);
    expect(u.queries.every((q) => q.edns && q.udpSize === 1232)).toBe(true);
  });

  it('takes a late answer from the first server after asking the second', async () => {
    const slow = await upstream({ delayMs: 250 });
    const silent = await upstream({ mode: 'silent' });
    const p = await pool({ servers: [slow.server, silent.server], attemptTimeoutMs: 100, timeoutMs: 1000 });
    const began = performance.now();
    const outcome = await p.exchange(question('www.example'), flags);
    expect(outcome.ok && outcome.server.port).toBe(slow.port);
    expect(performance.now() - began).toBeLessThan(600);
    expect(silent.queries).toHaveLength(1);
    // The answer came: the slow server is healthy again, the silent one is not.
    expect(p.health().map((h) => h.healthy)).toEqual([true, false]);
  });

  it('tries a failing server again once its backoff has passed', async () => {
    const flaky = await upstream({ mode: 'silent' });
    const good = await upstream();
    const p = await pool({ servers: [flaky.server, good.server], attemptTimeoutMs: 50, backoffMs: 150 });
    expect((await p.exchange(question('www.example'), flags)).ok).toBe(true);
    await p.exchange(question('www.example'), flags);
    expect(flaky.queries).toHaveLength(1); // skipped while backing off
    flaky.mode = 'answer';
    await sleep(200);
    const outcome = await p.exchange(question('www.example'), flags);
    expect(outcome.ok && outcome.server.port).toBe(flaky.port);
    expect(p.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0, failures: 1 });
  });

  it('moves on past SERVFAIL and REFUSED without holding them against the servers', async () => {
    const failing = await upstream({ mode: 'servfail' });
    const refusing = await upstream({ mode: 'refused' });
    const p = await pool({ servers: [failing.server, refusing.server] });
    const began = performance.now();
    expect(await p.exchange(question('www.example'), flags)).toEqual({ ok: false, reason: 'error-rcode' });
    expect(performance.now() - began).toBeLessThan(200);
    expect(p.health().every((h) => h.healthy)).toBe(true);
  });

  it('fails at once when a server is unreachable', async () => {
    const gone = await upstream();
    const server = gone.server;
    await gone.close();
    const p = await pool({ servers: [server] });
    const began = performance.now();
    expect(await p.exchange(question('www.example'), flags)).toEqual({ ok: false, reason: 'unreachable' });
    expect(performance.now() - began).toBeLessThan(200);
  });

  it('gives up after timeoutMs even with servers left to ask', async () => {
    const servers = await Promise.all([1, 2, 3, 4].map(() => upstream({ mode: 'silent' })));
    const p = await pool({ servers: servers.map((s) => s.server), attemptTimeoutMs: 200, timeoutMs: 450 });
    const began = performance.now();
    expect(await p.exchange(question('www.example'), flags)).toEqual({ ok: false, reason: 'timeout' });
    expect(performance.now() - began).toBeLessThan(700);
    expect(servers[3]!.queries).toHaveLength(0);
  });

  it('ends every exchange in flight with "closed" when it closes', async () => {
    const u = await upstream({ mode: 'silent' });
    const p = await pool({ servers: [u.server] });
    const pending = p.exchange(question('www.example'), flags);
    await p.close();
    await p.close();
    expect(await pending).toEqual({ ok: false, reason: 'closed' });
    expect(await p.exchange(question('www.example'), flags)).toEqual({ ok: false, reason: 'closed' });
  });

  it('takes IP addresses only', () => {
    expect(() => checkServers([{ host: 'dns.example', port: 53 }])).toThrow(/IP addresses/);
    expect(() => checkServers([{ host: '192.0.2.1', port: 0 }])).toThrow(/192\.0\.2\.1:0/);
    expect(() => checkServers([{ host: '2001:db8::53', port: 53 }])).not.toThrow();
  });
});
