import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestPlatform, type TestPlatform } from '../test-support/platform.js';

let platform: TestPlatform;

beforeEach(async () => {
  platform = await openTestPlatform();
});
afterEach(async () => {
  await platform.close();
});

async function record(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await platform.audit.record({
      action: 'auth.password',
      outcome: i % 3 === 0 ? 'failure' : 'success',
      actor: { id: `agent-${i}`, email: `agent${i}@x.gouv.fr` },
      ip: `192.0.2.${i % 250}`,
      details: { attempt: i, nested: { z: 1, a: [1, 2, { y: 'é', b: null }] } },
    });
    platform.clock.advance(1000);
  }
}

describe('audit log', () => {
  it('verifies an intact chain, whatever order jsonb keeps the details in', async () => {
    await record(25);
    expect(await platform.audit.verify()).toEqual({ ok: true, entries: 25 });
  });

  it('keeps the chain whole under concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        platform.audit.record({ action: 'test.concurrent', outcome: 'success', details: { i } }),
      ),
    );
    const result = await platform.audit.verify();
    expect(result).toEqual({ ok: true, entries: 30 });
  });

  it('names the first altered entry', async () => {
    await record(10);
    await platform.database.db.execute(`update audit_log set details = '{"attempt": 999}' where seq = 4`);
    expect(await platform.audit.verify()).toMatchObject({
      ok: false,
      firstBrokenSeq: 4,
      reason: 'hash_mismatch',
    });
  });

  it('detects an altered actor even when the hash is recomputed without the key chain', async () => {
    await record(10);
    await platform.database.db.execute(`update audit_log set actor = 'someone-else@x.gouv.fr' where seq = 7`);
    expect(await platform.audit.verify()).toMatchObject({ ok: false, firstBrokenSeq: 7 });
  });

  it('names a deleted entry in the middle', async () => {
    await record(10);
    await platform.database.db.execute('delete from audit_log where seq = 5');
    expect(await platform.audit.verify()).toMatchObject({
      ok: false,
      firstBrokenSeq: 5,
      reason: 'missing_entry',
    });
  });

  it('detects a truncated tail', async () => {
    await record(10);
    await platform.database.db.execute('delete from audit_log where seq >= 9');
    expect(await platform.audit.verify()).toMatchObject({
      ok: false,
      firstBrokenSeq: 9,
      reason: 'missing_entry',
    });
  });

  it('detects rows re-chained after a deletion when the head was not forged', async () => {
    await record(5);
    // Rewrite seq 5 to look like it follows 3, after deleting 4.
    await platform.database.db.execute('delete from audit_log where seq = 4');
    await platform.database.db.execute('update audit_log set seq = 4 where seq = 5');
    const result = await platform.audit.verify();
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ firstBrokenSeq: 4 });
  });

  it('lists entries newest first, page by page', async () => {
    await record(12);
    const page1 = await platform.audit.list(5);
    expect(page1.map((e) => e.seq)).toEqual([12, 11, 10, 9, 8]);
    const page2 = await platform.audit.list(5, 8);
    expect(page2.map((e) => e.seq)).toEqual([7, 6, 5, 4, 3]);
  });
});
