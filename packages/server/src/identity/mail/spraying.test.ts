import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SprayWindow, type SprayPolicy } from './spraying.js';

const policy: SprayPolicy = { accounts: 5, failures: 20, windowMs: 15 * 60_000, lockMs: 30 * 60_000 };

describe('SprayWindow', () => {
  it('calls five accounts failed from one source spraying, and starts a new count after', () => {
    const window = new SprayWindow(policy);
    const verdicts = ['a', 'b', 'c', 'd', 'e'].map((user, i) =>
      window.failure('203.0.113.1', user, i * 1000),
    );
    expect(verdicts.slice(0, 4).map((v) => v.kind)).toEqual(['none', 'none', 'none', 'none']);
    expect(verdicts[4]).toEqual({
      kind: 'spraying',
      failures: 5,
      accounts: 5,
      users: ['a', 'b', 'c', 'd', 'e'],
    });
    expect(window.failure('203.0.113.1', 'f', 6000)).toMatchObject({ kind: 'none', failures: 1 });
  });

  it('counts sources apart, and forgets failures older than the window', () => {
    const window = new SprayWindow(policy);
    for (const [i, user] of ['a', 'b', 'c', 'd'].entries()) window.failure('192.0.2.1', user, i);
    expect(window.failure('192.0.2.2', 'e', 10)).toMatchObject({ kind: 'none', accounts: 1 });
    // The first four are out of the window a millisecond after it ends.
    expect(window.failure('192.0.2.1', 'e', 3 + policy.windowMs + 1)).toMatchObject({
      kind: 'none',
      accounts: 1,
    });
    window.prune(10 + 2 * policy.windowMs);
    expect(window.size).toBe(0);
  });

  it('calls twenty failures against one account guessing', () => {
    const window = new SprayWindow(policy);
    const kinds = Array.from({ length: 20 }, (_, i) => window.failure('198.51.100.9', 'julie', i * 100).kind);
    expect(kinds.filter((k) => k !== 'none')).toEqual(['guessing']);
    expect(kinds.at(-1)).toBe('guessing');
  });

  it('locks exactly when the accounts or failures within the window reach the policy (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('s1', 's2'),
            fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
            fc.nat(120_000),
          ),
          {
            maxLength: 80,
          },
        ),
        (events) => {
          const small: SprayPolicy = { accounts: 3, failures: 6, windowMs: 60_000, lockMs: 1 };
          const window = new SprayWindow(small);
          const history = new Map<string, { user: string; at: number }[]>();
          let now = 0;
          for (const [source, user, step] of events) {
            now += step % 30_000;
            const verdict = window.failure(source, user, now);
            // The reference: the failures since the last lock, within the window.
            const past = (history.get(source) ?? []).filter((e) => e.at > now - small.windowMs);
            past.push({ user, at: now });
            const accounts = new Set(past.map((e) => e.user)).size;
            const expected = accounts >= 3 ? 'spraying' : past.length >= 6 ? 'guessing' : 'none';
            expect(verdict.kind).toBe(expected);
            expect(verdict.failures).toBe(past.length);
            history.set(source, expected === 'none' ? past : []);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
