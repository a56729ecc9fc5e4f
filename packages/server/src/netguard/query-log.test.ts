import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { createLogger } from '../logger.js';
import type { QueryRow } from './netguard.repository.js';
import { QueryLog } from './query-log.js';

const entry = (name: string, at = new Date()): QueryRow => ({
  at,
  client: '10.0.0.1',
  protocol: 'udp',
  name,
  type: 'A',
  groupId: 'default',
  action: 'allow',
  list: null,
  rule: null,
  rcode: 'NOERROR',
  cached: false,
  durationMs: 1,
});

function repo(options: { fail?: boolean; slowMs?: number } = {}) {
  const written: QueryRow[][] = [];
  const pruned: Date[] = [];
  return {
    written,
    pruned,
    insertQueries: async (rows: QueryRow[]) => {
      if (options.slowMs) await new Promise((resolve) => setTimeout(resolve, options.slowMs));
      if (options.fail) throw new Error('database down');
      written.push(rows);
    },
    pruneQueries: (before: Date) => {
      pruned.push(before);
      return Promise.resolve(3);
    },
  };
}

const log = createLogger('silent');

/** A log written only when flushed or closed, unless `options` says otherwise. */
const queryLog = (
  r: ReturnType<typeof repo>,
  options: Partial<ConstructorParameters<typeof QueryLog>[0]> = {},
) =>
  new QueryLog({
    repo: r,
    clock: new ManualClock(new Date()),
    log,
    retentionDays: 7,
    flushMs: 60_000,
    ...options,
  });

describe('QueryLog', () => {
  it('writes entries in batches, and drains everything on close', async () => {
    const r = repo({ slowMs: 20 });
    const q = queryLog(r);
    q.add(entry('a.example'));
    q.add(entry('b.example'));
    const first = q.flush();
    q.add(entry('c.example'));
    await q.close();
    await first;
    expect(r.written.map((batch) => batch.map((e) => e.name))).toEqual([
      ['a.example', 'b.example'],
      ['c.example'],
    ]);
    expect(q.logged).toBe(3);
    q.add(entry('after-close.example'));
    await q.flush();
    expect(r.written.flat()).toHaveLength(3);
  });

  it('writes identical queries between two writes as one row with their count, the first time and the longest duration', async () => {
    const r = repo();
    const q = queryLog(r);
    const t0 = new Date('2026-12-02T08:00:00Z');
    q.add(entry('a.example', t0));
    q.add({ ...entry('a.example', new Date(t0.getTime() + 500)), durationMs: 9 });
    q.add({ ...entry('a.example', new Date(t0.getTime() + 700)), durationMs: 4 });
    q.add({ ...entry('a.example'), type: 'AAAA' }); // another question
    q.add({ ...entry('a.example'), client: '10.0.0.2' }); // another client
    q.add({ ...entry('a.example'), cached: true }); // answered differently
    await q.flush();
    q.add(entry('a.example')); // after the write: a new row
    await q.close();
    const [first, second] = r.written;
    expect(first).toHaveLength(4);
    expect(first?.[0]).toMatchObject({ name: 'a.example', type: 'A', count: 3, durationMs: 9, at: t0 });
    expect(first?.slice(1).map((row) => row.count)).toEqual([1, 1, 1]);
    expect(second).toHaveLength(1);
    expect(q.logged).toBe(7);
    expect(q.notLogged).toBe(0);
  });

  it('writes as soon as half the buffer is full, again right after a write when the backlog is as large, and counts what it could not keep', async () => {
    const r = repo({ slowMs: 30 });
    // Half of 4: two distinct queries start a write without the timer (a minute here).
    const q = queryLog(r, { maxBuffered: 4 });
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) q.add(entry(`${name}.example`));
    // a and b are being written; c to f fill the buffer; g and h find it full.
    expect(q.notLogged).toBe(2);
    await expect.poll(() => r.written.length, { timeout: 2000 }).toBe(2);
    expect(r.written.map((batch) => batch.map((e) => e.name[0]).join(''))).toEqual(['ab', 'cdef']);
    expect(q.logged).toBe(6);
    const failing = repo({ fail: true });
    const broken = queryLog(failing);
    broken.add(entry('x.example'));
    await broken.flush();
    expect(broken.notLogged).toBe(1);
    await Promise.all([q.close(), broken.close()]);
  });

  it('prunes entries older than the retention, and keeps nothing at all when it is 0', async () => {
    const clock = new ManualClock(new Date('2026-12-02T12:00:00Z'));
    const r = repo();
    const q = new QueryLog({ repo: r, clock, log, retentionDays: 7, flushMs: 60_000 });
    expect(await q.prune()).toBe(3);
    expect(r.pruned).toEqual([new Date('2026-11-25T12:00:00Z')]);
    await q.close();
    const off = new QueryLog({ repo: r, clock, log, retentionDays: 0 });
    off.add(entry('a.example'));
    await off.close();
    expect(r.written).toEqual([]);
  });
});
