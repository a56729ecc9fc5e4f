/**
 * STIX 2.1 bundles for the indicator store's tests: a spyware family of their own (so that nothing
 * shipped matches by chance), indicators of several kinds, one that needs two values, and the
 * `indicates` relationships that name the malware.
 */

export interface TestBundleOptions {
  malware?: string;
  domains?: string[];
  urls?: string[];
  processes?: string[];
  /** Adds an indicator whose pattern needs two values at once (skipped at import). */
  withAnd?: boolean;
}

/** A bundle as a publisher would write it, as bytes. */
export function testBundle(options: TestBundleOptions = {}): Buffer {
  const malware = options.malware ?? 'Nightjar';
  const slug = malware.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const malwareId = `malware--${uuidOf(`${slug}-malware`)}`;
  const objects: Record<string, unknown>[] = [
    {
      type: 'malware',
      spec_version: '2.1',
      id: malwareId,
      created: '2025-03-01T00:00:00.000Z',
      modified: '2025-03-01T00:00:00.000Z',
      name: malware,
      is_family: true,
    },
  ];
  const indicator = (key: string, pattern: string) => {
    const id = `indicator--${uuidOf(`${slug}-${key}`)}`;
    objects.push(
      {
        type: 'indicator',
        spec_version: '2.1',
        id,
        created: '2025-03-01T00:00:00.000Z',
        modified: '2025-03-01T00:00:00.000Z',
        indicator_types: ['malicious-activity'],
        pattern,
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: '2025-03-01T00:00:00Z',
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: `relationship--${uuidOf(`${slug}-${key}-rel`)}`,
        created: '2025-03-01T00:00:00.000Z',
        modified: '2025-03-01T00:00:00.000Z',
        relationship_type: 'indicates',
        source_ref: id,
        target_ref: malwareId,
      },
    );
  };
  (options.domains ?? ['secure-cdn-sync.com', 'msg-relay-push.net']).forEach((d, i) =>
    indicator(`domain-${i}`, `[domain-name:value = '${d}']`),
  );
  (options.urls ?? []).forEach((u, i) => indicator(`url-${i}`, `[url:value = '${u}']`));
  (options.processes ?? ['nightjard']).forEach((p, i) =>
    indicator(`process-${i}`, `[process:name = '${p}']`),
  );
  if (options.withAnd ?? true)
    indicator('and', "[file:name = 'cfg.plist' AND file:path = '/private/var/db/cfg.plist']");
  return Buffer.from(
    JSON.stringify(
      { type: 'bundle', id: `bundle--${uuidOf(`${slug}-bundle`)}`, spec_version: '2.1', objects },
      null,
      1,
    ),
  );
}

/** A stable UUID-shaped id from a key (STIX ids need the shape, not randomness). */
function uuidOf(key: string): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of `${key}:${round}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
}
