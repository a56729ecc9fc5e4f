import { RempartError } from '@rempart/core';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { DNS_MESSAGE, handleDohRequest, type DohResolver } from './doh.js';

const query = (name: string, id = 0) =>
  dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: 'A' }],
  });

/** Answers every query with two A records (TTL 300 and 60), or NXDOMAIN / SERVFAIL for names that say so. */
class StubResolver implements DohResolver {
  readonly seen: { query: Buffer; client: string }[] = [];
  resolve(q: Buffer, client: string): Promise<Buffer> {
    this.seen.push({ query: q, client });
    const packet = dnsPacket.decode(q);
    if (packet.type === 'response') return Promise.reject(RempartError.badRequest('not a DNS query'));
    const name = packet.questions?.[0]?.name ?? '';
    const base = { type: 'response' as const, id: packet.id, questions: packet.questions };
    if (name.startsWith('servfail')) return Promise.resolve(dnsPacket.encode({ ...base, flags: 2 }));
    if (name.startsWith('nx'))
      return Promise.resolve(
        dnsPacket.encode({
          ...base,
          flags: 3,
          authorities: [
            {
              type: 'SOA',
              name: 'example',
              ttl: 900,
              data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 45 },
            },
          ],
        }),
      );
    return Promise.resolve(
      dnsPacket.encode({
        ...base,
        answers: [
          { type: 'A', name, ttl: 300, data: '192.0.2.1' },
          { type: 'A', name, ttl: 60, data: '192.0.2.2' },
        ],
      }),
    );
  }
}

const errorCode = (body: Buffer | string) =>
  (JSON.parse(String(body)) as { error: { code: string } }).error.code;

describe('DNS over HTTPS requests', () => {
  it('answers a GET with a base64url dns parameter, ID 0, max-age the smallest TTL', async () => {
    const resolver = new StubResolver();
    const dns = query('www.example').toString('base64url');
    expect(dns).not.toContain('=');
    const res = await handleDohRequest({ method: 'GET', dns, accept: DNS_MESSAGE }, resolver, '192.0.2.7');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(DNS_MESSAGE);
    expect(res.headers['cache-control']).toBe('max-age=60');
    const answer = dnsPacket.decode(res.body as Buffer);
    expect(answer.id).toBe(0);
    expect(answer.answers).toHaveLength(2);
    expect(res.headers['content-length']).toBe(String((res.body as Buffer).length));
    expect(resolver.seen[0]?.client).toBe('192.0.2.7');
  });

  it('answers a POST of application/dns-message, parameters in the type allowed', async () => {
    const res = await handleDohRequest(
      {
        method: 'POST',
        contentType: 'Application/DNS-Message; charset=binary',
        body: query('www.example', 7),
      },
      new StubResolver(),
      '::1',
    );
    expect(res.status).toBe(200);
    expect(dnsPacket.decode(res.body as Buffer).id).toBe(7);
  });

  it('keeps a negative answer for its SOA minimum and an error not at all', async () => {
    const nx = await handleDohRequest(
      { method: 'GET', dns: query('nx.example').toString('base64url') },
      new StubResolver(),
      'c',
    );
    expect(nx.status).toBe(200); // RFC 8484 §4.2.1: DNS errors are DNS answers
    expect(nx.headers['cache-control']).toBe('max-age=45');
    const sf = await handleDohRequest(
      { method: 'GET', dns: query('servfail.example').toString('base64url') },
      new StubResolver(),
      'c',
    );
    expect(sf.status).toBe(200);
    expect(sf.headers['cache-control']).toBe('no-store');
  });

  it('refuses other body types with 415, naming the one it takes', async () => {
    const res = await handleDohRequest(
      { method: 'POST', contentType: 'application/json', body: Buffer.from('{}') },
      new StubResolver(),
      'c',
    );
    expect(res.status).toBe(415);
    expect(errorCode(res.body)).toBe('unsupported_media_type');
    expect(String(res.body)).toContain(DNS_MESSAGE);
  });

  it('answers 400 to a missing, padded, or non-base64url dns parameter, and to a short or empty message', async () => {
    const resolver = new StubResolver();
    const padded = `${query('ab.example').toString('base64url')}=`;
    for (const dns of [
      undefined,
      '',
      'a+b/',
      padded,
      'AAAAA',
      ['AAAA', 'AAAA'],
      Buffer.alloc(5).toString('base64url'),
    ]) {
      const res = await handleDohRequest({ method: 'GET', dns }, resolver, 'c');
      expect(res.status, String(dns)).toBe(400);
      expect(errorCode(res.body)).toBe('bad_request');
    }
    const empty = await handleDohRequest(
      { method: 'POST', contentType: DNS_MESSAGE, body: Buffer.alloc(0) },
      resolver,
      'c',
    );
    expect(empty.status).toBe(400);
    expect(resolver.seen).toHaveLength(0);
  });

  it('answers 400 when the resolver finds no query in the message', async () => {
    const response = dnsPacket.encode({ type: 'response', id: 0, questions: [{ name: 'x', type: 'A' }] });
    const res = await handleDohRequest(
      { method: 'POST', contentType: DNS_MESSAGE, body: response },
      new StubResolver(),
      'c',
    );
    expect(res.status).toBe(400);
    expect(String(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('answers 405 to other methods and 413 to a message over 65,535 bytes', async () => {
    const put = await handleDohRequest({ method: 'PUT', body: query('x') }, new StubResolver(), 'c');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
    const huge = await handleDohRequest(
      { method: 'POST', contentType: DNS_MESSAGE, body: Buffer.alloc(70_000) },
      new StubResolver(),
      'c',
    );
    expect(huge.status).toBe(413);
  });

  it('turns a resolver failure into a 500 without a stack trace', async () => {
    const broken: DohResolver = { resolve: () => Promise.reject(new Error('boom at /srv/x.ts:12')) };
    const res = await handleDohRequest({ method: 'GET', dns: query('x').toString('base64url') }, broken, 'c');
    expect(res.status).toBe(500);
    expect(String(res.body)).not.toContain('boom');
  });
});
