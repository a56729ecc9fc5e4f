import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, ChainVerifier, entryHash, GENESIS_HASH, type StoredEntry } from './chain.js';

function chain(n: number): StoredEntry[] {
  const out: StoredEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
      actorId: null,
      actor: `a${seq}@x.fr`,
      action: 'auth.password',
      outcome: 'success' as const,
      targetId: null,
      ip: '192.0.2.1',
      details: { n: seq },
    };
    const hash = entryHash(fields, prev);
    out.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

function verify(entries: StoredEntry[], head: StoredEntry | null | undefined = entries.at(-1)) {
  const v = new ChainVerifier();
  for (const e of entries) if (!v.push(e)) break;
  return v.finish(head ? { seq: head.seq, hash: head.hash } : undefined);
}

describe('audit hash chain', () => {
  it('sorts keys at every depth so that jsonb round trips keep the hash', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}',
    );
  });

  it('accepts an intact chain and the empty log', () => {
    expect(verify(chain(20))).toEqual({ ok: true, entries: 20 });
    expect(verify([])).toEqual({ ok: true, entries: 0 });
  });

  it('names the first entry broken by any single alteration (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.constantFrom('actor', 'action', 'ip', 'details', 'at'),
        (n, pick, field) => {
          const entries = chain(n);
          const i = pick % n;
          const e = entries[i]!;
          const altered: StoredEntry =
            field === 'details'
              ? { ...e, details: { n: -1 } }
              : field === 'at'
                ? { ...e, at: new Date(e.at.getTime() + 1) }
                : { ...e, [field]: 'forged' };
          entries[i] = altered;
          expect(verify(entries, chain(n).at(-1))).toMatchObject({ ok: false, firstBrokenSeq: i + 1 });
        },
      ),
    );
  });

  it('names a deleted entry (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 30 }), fc.nat(), (n, pick) => {
        const full = chain(n);
        const i = pick % n;
        const entries = full.filter((_, j) => j !== i);
        expect(verify(entries, full.at(-1))).toMatchObject({
          ok: false,
          firstBrokenSeq: i + 1,
          reason: 'missing_entry',
        });
      }),
    );
  });

  it('refuses a chain whose head record is missing', () => {
    expect(verify(chain(3), null)).toMatchObject({ ok: false });
  });
});
