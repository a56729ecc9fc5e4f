/**
 * How a resolver replica reads the spyware domains a platform sends it, against a stand-in
 * platform on loopback HTTP that can send anything: the shipped bundles' domains while the policy
 * names no revision of them, the platform's once it does, and, whatever else arrives (fuzzed
 * bodies), a refusal that changes nothing: the replica goes on blocking what it blocked. The
 * domains survive the trip as the platform's store produces them, so the replica compiles the
 * platform's category.
 */
import { createServer, type Server } from 'node:http';
import { ReplicaSpywareDomains, type ReplicaPolicy } from '@rempart/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { addresses, ask } from '../test-support/dns-client.js';
import { startTestUpstream, type TestUpstream } from '../test-support/dns-upstream.js';
import { spywareCategoryOf, type SpywareDomain } from './categories.js';
import { listMatcher } from './decide.js';
import { normaliseDomain } from './lists.js';
import { DnsReplica } from './replica.js';

const SECRET = 'replica-secret-0123456789-abcdefghijklmnop';

/** What the stand-in platform serves: its policy's spyware revision and the body of its domains. */
const served: { revision: string | undefined; body: string; version: number } = {
  revision: undefined,
  body: '',
  version: 1,
};

let upstream: TestUpstream;
let platform: Server;
let replica: DnsReplica;
let port: number;

function policy(): ReplicaPolicy {
  return {
    version: `v${served.version}`,
    // The default group blocks with 0.0.0.0: a blocked name is told from one the upstream does
    // not know (NXDOMAIN).
    groups: [
      {
        id: 'default',
        name: 'Default',
        cidrs: [],
        blockMode: 'null',
        trusted: false,
        categories: ['spyware'],
        lists: [],
      },
    ],
    lists: [],
    devices: [],
    trusted: [],
    blockPage: {},
    logDays: 0,
    ...(served.revision !== undefined ? { spywareRevision: served.revision } : {}),
  };
}

/** The platform's next state: a new policy version naming `revision`, its domains served as `body`. */
function serve(revision: string | undefined, body: string): void {
  served.version += 1;
  served.revision = revision;
  served.body = body;
}

const domainsBody = (revision: string, domains: SpywareDomain[]) => JSON.stringify({ revision, domains });

beforeAll(async () => {
  upstream = await startTestUpstream({
    records: { 'www.example': [{ type: 'A', ttl: 300, data: '192.0.2.10' }] },
  });
  platform = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${SECRET}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'replica_token_invalid', message: 'no' } }));
      return;
    }
    if (req.url === '/api/netguard/replica/policy') {
      const current = policy();
      if (req.headers['if-none-match'] === `"${current.version}"`) {
        res.writeHead(304);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(current));
      return;
    }
    if (req.url === '/api/netguard/replica/spyware') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(served.body);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
  const address = platform.address();
  replica = await DnsReplica.start({
    server: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    token: SECRET,
    name: 'site-d',
    listen: { host: '127.0.0.1', port: 0 },
    upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    rateLimit: 0,
    trusted: [],
    log: createLogger('silent'),
    pollMs: 60_000,
  });
  port = Number(/:(\d+)$/.exec(replica.addresses()[0] ?? '')?.[1]);
}, 60_000);

afterAll(async () => {
  await replica?.close();
  await new Promise<void>((resolve) => {
    platform.closeAllConnections();
    platform.close(() => resolve());
  });
  await upstream?.close();
});

describe('a replica’s spyware category', () => {
  it('holds the shipped bundles’ domains while the policy names no revision, then the platform’s', async () => {
    expect(replica.status().spyware.revision).toBeUndefined();
    expect(addresses(await ask(port, 'smscentro.com'))).toEqual(['0.0.0.0']);
    expect((await ask(port, 'first-relay.net')).rcode).toBe('NXDOMAIN'); // unknown upstream

    serve(
      'r-first',
      domainsBody('r-first', [
        {
          domain: 'first-relay.net',
          source: 'nightjar.stix2',
          indicator: 'indicator--1',
          malware: ['Nightjar'],
        },
      ]),
    );
    await replica.sync();
    expect(replica.status().spyware).toEqual({ revision: 'r-first', domains: 1 });
    expect(addresses(await ask(port, 'first-relay.net'))).toEqual(['0.0.0.0']);
    expect(addresses(await ask(port, 'api.first-relay.net'))).toEqual(['0.0.0.0']);
    // The platform's domains replace the shipped ones (its store holds the shipped bundles too).
    expect((await ask(port, 'smscentro.com')).rcode).toBe('NXDOMAIN');
  });

  it('refuses whatever else the platform sends, naming it, and goes on blocking what it blocked (property)', async () => {
    const entry = fc.record({
      domain: fc.oneof(fc.domain(), fc.string(), fc.integer()),
      source: fc.oneof(fc.string(), fc.constant(null)),
      indicator: fc.string(),
      malware: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.string()),
    });
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record(
          {
            revision: fc.oneof(fc.string(), fc.integer()),
            domains: fc.oneof(fc.array(entry, { maxLength: 4 }), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        runs += 1;
        const before = replica.status();
        serve(`r-fuzz-${runs}`, text);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const readable = ReplicaSpywareDomains.safeParse(json);
        if (readable.success) {
          await replica.sync();
          expect(replica.status().spyware.revision).toBe(readable.data.revision);
          const blocked = readable.data.domains
            .map((d) => normaliseDomain(d.domain))
            .find((d) => d.ok && d.domain !== 'www.example');
          if (blocked?.ok) expect(addresses(await ask(port, blocked.domain))).toEqual(['0.0.0.0']);
        } else {
          await expect(replica.sync()).rejects.toMatchObject({
            code: 'validation_failed',
            message: expect.stringContaining('spyware domains'),
          });
          expect(replica.status()).toMatchObject({ version: before.version, spyware: before.spyware });
        }
        // Back to a known state for the next run.
        serve(
          'r-first',
          domainsBody('r-first', [
            {
              domain: 'first-relay.net',
              source: 'nightjar.stix2',
              indicator: 'indicator--1',
              malware: ['Nightjar'],
            },
          ]),
        );
        await replica.sync();
        expect(addresses(await ask(port, 'first-relay.net'))).toEqual(['0.0.0.0']);
        expect(addresses(await ask(port, 'www.example'))).toEqual(['192.0.2.10']);
      }),
      { numRuns: 60 },
    );
  });
});

describe('the spyware domains’ trip from the platform to a replica', () => {
  it('loses nothing of what an indicator store gives, so both compile the same category (property)', () => {
    const domain: fc.Arbitrary<SpywareDomain> = fc.record({
      domain: fc.domain().map((d) => d.toLowerCase()),
      source: fc.string({ minLength: 1, maxLength: 120 }),
      indicator: fc.uuid().map((u) => `indicator--${u}`),
      malware: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(domain, { selector: (d) => d.domain, maxLength: 20 }), (domains) => {
        const received = ReplicaSpywareDomains.parse(JSON.parse(JSON.stringify({ revision: 'r', domains })));
        expect(received.domains).toEqual(domains);
        const platformSide = listMatcher(spywareCategoryOf(domains).list, 'spyware');
        const replicaSide = listMatcher(spywareCategoryOf(received.domains).list, 'spyware');
        for (const d of domains)
          for (const name of [d.domain, `sub.${d.domain}`])
            expect(replicaSide.match(name)).toEqual(platformSide.match(name));
      }),
    );
  });
});
