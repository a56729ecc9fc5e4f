import { RempartError } from '@rempart/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndicatorMatcher } from '../matcher.js';
import { parseStixText } from '../stix.js';
import { domainsOf, readBundleBytes, summarise } from './indicator-store.service.js';
import { huntDns, type DnsQueryLog } from './retro-hunt.js';
import { testBundle } from './test-bundle.js';

/** What a refused bundle must be: a client error naming the file, never anything else. */
function expectRefusal(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(RempartError);
  expect((error as RempartError).status).toBe(400);
  expect((error as RempartError).message.startsWith(`${name}: `)).toBe(true);
}

describe('reading a bundle’s bytes', () => {
  it('reads the indicators, the malware and the skipped ones of a bundle', () => {
    const bundle = readBundleBytes(
      'nightjar.stix2',
      testBundle({ urls: ['https://parcel-status.info/t/'], processes: ['nightjard', 'nj-helper'] }),
    );
    expect(summarise(bundle)).toEqual({
      indicators: 5,
      byType: { domain: 2, url: 1, process: 2 },
      malware: ['Nightjar'],
      skipped: 1,
    });
    expect(bundle.indicators.every((i) => i.source === 'nightjar.stix2')).toBe(true);
  });

  it('accepts a byte-order mark before the JSON text', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), testBundle()]);
    expect(readBundleBytes('bom.json', bytes).indicators).toHaveLength(3);
  });

  it('refuses bytes that are not UTF-8, naming the file', () => {
    expect(() => readBundleBytes('latin1.stix2', Buffer.from([0x7b, 0xe9, 0x7d]))).toThrow(
      'latin1.stix2: not UTF-8 text',
    );
  });

  it('refuses a bundle with no indicator Rempart can look for, saying how many were skipped', () => {
    const bytes = testBundle({ domains: [], processes: [], withAnd: true });
    expect(() => readBundleBytes('only-and.stix2', bytes)).toThrow(
      /only-and\.stix2: no indicator Rempart can look for in this bundle \(1 skipped: needs more than one value/,
    );
  });

  it('refuses any bytes, JSON or mangled bundle it cannot read with a 400 naming the file, and throws nothing else', () => {
    const real = JSON.parse(testBundle({ urls: ['https://parcel-status.info/t/'] }).toString()) as {
      objects: Record<string, unknown>[];
    };
    const mangled = fc
      .tuple(
        fc.nat(real.objects.length - 1),
        fc.constantFrom('type', 'id', 'pattern', 'name', 'source_ref', 'target_ref', 'relationship_type'),
        fc.oneof(fc.constant(undefined), fc.anything()),
      )
      .map(([index, key, value]) => {
        const copy = structuredClone(real);
        const object = copy.objects[index]!;
        if (value === undefined) delete object[key];
        else object[key] = value;
        return Buffer.from(JSON.stringify(copy));
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc.json().map((text) => Buffer.from(text)),
          fc.anything().map((value) => Buffer.from(JSON.stringify({ type: 'bundle', objects: [value] }))),
          mangled,
        ),
        (bytes) => {
          try {
            const bundle = readBundleBytes('fuzz.stix2', bytes);
            expect(bundle.indicators.length).toBeGreaterThan(0);
          } catch (error) {
            expectRefusal(error, 'fuzz.stix2');
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the domains the network guard blocks', () => {
  it('are the domain indicators and the hosts of URL indicators, the first bundle naming one winning', () => {
    const first = parseStixText(
      testBundle({
        malware: 'Nightjar',
        urls: ['https://parcel-status.info/t/', 'http://192.0.2.7/x'],
      }).toString(),
      'a.stix2',
    );
    const second = parseStixText(
      testBundle({ malware: 'Kite', domains: ['msg-relay-push.net', 'kite-sync.org'] }).toString(),
      'b.stix2',
    );
    const domains = domainsOf([first, second]);
    expect(domains.map((d) => [d.domain, d.source, d.malware.join()])).toEqual([
      ['secure-cdn-sync.com', 'a.stix2', 'Nightjar'],
      ['msg-relay-push.net', 'a.stix2', 'Nightjar'],
      ['parcel-status.info', 'a.stix2', 'Nightjar'],
      ['kite-sync.org', 'b.stix2', 'Kite'],
    ]);
  });
});

/** A query log held in memory: the network guard's answers to the two questions a hunt asks. */
function memoryLog(rows: { client: string; name: string; at: string }[]) {
  const asked: string[][] = [];
  const log: DnsQueryLog = {
    queriedNames: () => Promise.resolve([...new Set(rows.map((r) => r.name))]),
    queriesOf: (names) => {
      asked.push([...names]);
      const groups = new Map<
        string,
        { client: string; name: string; firstSeen: Date; lastSeen: Date; count: number }
      >();
      for (const r of rows.filter((row) => names.includes(row.name))) {
        const key = `${r.client} ${r.name}`;
        const at = new Date(r.at);
        const g = groups.get(key);
        if (!g) groups.set(key, { client: r.client, name: r.name, firstSeen: at, lastSeen: at, count: 1 });
        else {
          g.count++;
          if (at < g.firstSeen) g.firstSeen = at;
          if (at > g.lastSeen) g.lastSeen = at;
        }
      }
      return Promise.resolve([...groups.values()]);
    },
  };
  return { log, asked };
}

describe('the retro-hunt over the DNS query log', () => {
  const matcher = IndicatorMatcher.from([parseStixText(testBundle().toString(), 'nightjar.stix2')]);

  it('finds each client that asked for a name at or below an indicator domain, with when and how often', async () => {
    const { log, asked } = memoryLog([
      { client: '10.0.0.7', name: 'eu.secure-cdn-sync.com', at: '2026-03-01T08:00:00Z' },
      { client: '10.0.0.7', name: 'eu.secure-cdn-sync.com', at: '2026-03-02T08:00:00Z' },
      { client: '10.0.0.9', name: 'msg-relay-push.net', at: '2026-03-01T09:00:00Z' },
      { client: '10.0.0.9', name: 'relay-push.net', at: '2026-03-01T09:00:00Z' },
      { client: '10.0.0.9', name: 'notsecure-cdn-sync.com', at: '2026-03-01T09:00:00Z' },
      { client: '10.0.0.8', name: 'www.interieur.gouv.fr', at: '2026-03-01T10:00:00Z' },
    ]);
    const progress: [number, number][] = [];
    const hits = await huntDns(matcher, log, (done, total) => progress.push([done, total]));
    expect(hits).toEqual([
      {
        client: '10.0.0.7',
        domain: 'eu.secure-cdn-sync.com',
        indicator: 'secure-cdn-sync.com',
        malware: ['Nightjar'],
        firstSeen: '2026-03-01T08:00:00.000Z',
        lastSeen: '2026-03-02T08:00:00.000Z',
        count: 2,
      },
      {
        client: '10.0.0.9',
        domain: 'msg-relay-push.net',
        indicator: 'msg-relay-push.net',
        malware: ['Nightjar'],
        firstSeen: '2026-03-01T09:00:00.000Z',
        lastSeen: '2026-03-01T09:00:00.000Z',
        count: 1,
      },
    ]);
    // Only the matched names are looked up again; the last progress report is complete.
    expect(asked).toEqual([['eu.secure-cdn-sync.com', 'msg-relay-push.net']]);
    expect(progress.at(-1)).toEqual([5, 5]);
  });

  it('does not ask the log again when no name matches', async () => {
    const { log, asked } = memoryLog([
      { client: '10.0.0.8', name: 'www.example', at: '2026-03-01T10:00:00Z' },
    ]);
    expect(await huntDns(matcher, log, () => undefined)).toEqual([]);
    expect(asked).toEqual([]);
  });
});
