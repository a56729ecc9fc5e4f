import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineQueue, type IngestItem } from './queue.js';

const item = (n: number, source = 'syslog-udp'): IngestItem => ({ line: `line ${n}`, source, receivedAt: n });

describe('the line queue', () => {
  it('hands items out oldest first, in batches of at most the size asked', () => {
    const queue = new LineQueue({ capacity: 10 });
    for (let i = 0; i < 5; i++) expect(queue.offer(item(i))).toBe(true);
    expect(queue.take(2).map((x) => x.line)).toEqual(['line 0', 'line 1']);
    expect(queue.take(10).map((x) => x.line)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(queue.take(10)).toEqual([]);
  });

  it('refuses a waiting producer when full, without losing or counting a drop', () => {
    const queue = new LineQueue({ capacity: 2 });
    expect(queue.offer(item(1))).toBe(true);
    expect(queue.offer(item(2))).toBe(true);
    expect(queue.offer(item(3))).toBe(false);
    const stats = queue.stats();
    expect(stats).toMatchObject({ depth: 2, accepted: 2, refused: 1 });
    expect(stats.dropped.total).toBe(0);
  });

  it('drops and counts by source what a producer that cannot wait offers to a full queue', () => {
    const queue = new LineQueue({ capacity: 1 });
    queue.offerOrDrop(item(1, 'syslog-udp'));
    queue.offerOrDrop(item(2, 'syslog-udp'));
    queue.offerOrDrop(item(3, 'syslog-udp'));
    queue.offerOrDrop(item(4, 'other'));
    expect(queue.stats().dropped).toEqual({
      total: 3,
      byReason: { full: 3, closed: 0 },
      bySource: { 'syslog-udp': 2, other: 1 },
    });
  });

  it('queues a batch whole or not at all', () => {
    const queue = new LineQueue({ capacity: 3 });
    queue.offer(item(0));
    expect(queue.offerAll([item(1), item(2), item(3)])).toBe(false);
    expect(queue.depth).toBe(1);
    expect(queue.offerAll([item(1), item(2)])).toBe(true);
    expect(queue.take(5).map((x) => x.receivedAt)).toEqual([0, 1, 2]);
  });

  it('wakes a waiting producer once consumers take it down to the low-water mark', async () => {
    const queue = new LineQueue({ capacity: 4, lowWater: 1 });
    for (let i = 0; i < 4; i++) queue.offer(item(i));
    let woken = false;
    const waiting = queue.whenWritable().then(() => (woken = true));
    queue.take(2);
    await Promise.resolve();
    expect(woken).toBe(false);
    queue.take(1);
    await waiting;
    expect(woken).toBe(true);
  });

  it('delivers batches to an async consumer until closed and drained', async () => {
    const queue = new LineQueue({ capacity: 100 });
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const batch of queue.batches(3)) {
        expect(batch.length).toBeLessThanOrEqual(3);
        seen.push(...batch.map((x) => x.line));
      }
    })();
    for (let i = 0; i < 7; i++) queue.offer(item(i));
    await new Promise((resolve) => setTimeout(resolve, 0));
    queue.offer(item(7));
    queue.close();
    await consumer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => `line ${n}`));
  });

  it('refuses and counts as dropped what arrives after it is closed, and releases waiting producers', async () => {
    const queue = new LineQueue({ capacity: 1 });
    queue.offer(item(0));
    const waiting = queue.whenWritable();
    queue.close();
    queue.close();
    await waiting;
    expect(queue.offer(item(1, 'a'))).toBe(false);
    expect(queue.offerOrDrop(item(2, 'b'))).toBe(false);
    expect(queue.stats().dropped).toMatchObject({ total: 2, byReason: { full: 0, closed: 2 } });
    expect(queue.take(5)).toHaveLength(1);
  });

  it('bounds the characters waiting too, yet always takes one line into an empty queue', () => {
    const queue = new LineQueue({ capacity: 100, maxChars: 10 });
    const long = (n: number) => ({ line: 'x'.repeat(n), source: 'a', receivedAt: 0 });
    expect(queue.offer(long(6))).toBe(true);
    expect(queue.offer(long(5))).toBe(false);
    expect(queue.offer(long(4))).toBe(true);
    expect(queue.stats()).toMatchObject({ depth: 2, chars: 10 });
    queue.take(2);
    expect(queue.offer(long(50))).toBe(true);
    expect(queue.offerOrDrop(long(1))).toBe(false);
    expect(queue.couldFit(1, 50)).toBe(true);
    expect(queue.couldFit(2, 11)).toBe(false);
  });

  it('wakes a producer only when its line fits, so that it never spins', async () => {
    const queue = new LineQueue({ capacity: 10, maxChars: 100, lowWater: 5 });
    queue.offer({ line: 'x'.repeat(40), source: 'a', receivedAt: 0 });
    queue.offer({ line: 'y'.repeat(10), source: 'a', receivedAt: 0 });
    let woken = false;
    const waiting = queue.whenWritable(70).then(() => (woken = true));
    queue.take(1); // 10 characters left: 70 more fit
    await Promise.resolve();
    expect(woken).toBe(true);
    await waiting;
    const other = new LineQueue({ capacity: 10, maxChars: 100, lowWater: 5 });
    other.offer({ line: 'x'.repeat(45), source: 'a', receivedAt: 0 });
    other.offer({ line: 'y'.repeat(45), source: 'a', receivedAt: 0 });
    let otherWoken = false;
    void other.whenWritable(60).then(() => (otherWoken = true));
    other.take(1); // 45 left: below half the maximum, but 45 + 60 does not fit
    await Promise.resolve();
    expect(otherWoken).toBe(false);
    other.take(1);
    await Promise.resolve();
    expect(otherWoken).toBe(true);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new LineQueue({ capacity: 0 })).toThrow();
    expect(() => new LineQueue({ capacity: 1.5 })).toThrow();
  });

  it('behaves as a bounded FIFO list with counters, whatever the sequence of operations', () => {
    type Op =
      | { kind: 'offer'; source: string }
      | { kind: 'offerOrDrop'; source: string }
      | { kind: 'offerAll'; count: number }
      | { kind: 'take'; max: number }
      | { kind: 'close' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('offer' as const), source: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('offerOrDrop' as const), source: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('offerAll' as const), count: fc.nat(6) }),
      fc.record({ kind: fc.constant('take' as const), max: fc.nat(8) }),
      fc.constant({ kind: 'close' as const }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(op, { maxLength: 80 }),
        (capacity, maxChars, ops) => {
          const queue = new LineQueue({ capacity, maxChars });
          const charsOf = (xs: IngestItem[]) => xs.reduce((n, x) => n + x.line.length, 0);
          // The model of room: items and characters, one line always into an empty queue.
          const fits = (xs: IngestItem[]) =>
            !closed &&
            model.length + xs.length <= capacity &&
            (charsOf(model) + charsOf(xs) <= maxChars || (model.length === 0 && xs.length === 1));
          const model: IngestItem[] = [];
          let closed = false;
          let accepted = 0;
          let taken = 0;
          let highWater = 0;
          let refused = 0;
          const dropped: Record<string, number> = {};
          const byReason = { full: 0, closed: 0 };
          let serial = 0;
          const lose = (source: string, reason: 'full' | 'closed') => {
            dropped[source] = (dropped[source] ?? 0) + 1;
            byReason[reason]++;
          };
          const add = (x: IngestItem) => {
            model.push(x);
            accepted++;
            highWater = Math.max(highWater, model.length);
          };
          for (const o of ops) {
            switch (o.kind) {
              case 'offer':
              case 'offerOrDrop': {
                const x = item(serial++, o.source);
                const fit = fits([x]);
                const result = o.kind === 'offer' ? queue.offer(x) : queue.offerOrDrop(x);
                expect(result).toBe(fit);
                if (fit) add(x);
                else if (closed) lose(o.source, 'closed');
                else if (o.kind === 'offer') refused++;
                else lose(o.source, 'full');
                break;
              }
              case 'offerAll': {
                const xs = Array.from({ length: o.count }, () => item(serial++, 'h'));
                const fit = fits(xs);
                expect(queue.offerAll(xs)).toBe(fit);
                if (fit) xs.forEach(add);
                else if (!closed) refused++;
                break;
              }
              case 'take': {
                const expected = model.splice(0, o.max);
                taken += expected.length;
                expect(queue.take(o.max)).toEqual(expected);
                break;
              }
              case 'close':
                queue.close();
                closed = true;
                break;
            }
            const stats = queue.stats();
            expect(stats.depth).toBe(model.length);
            expect(stats.depth).toBeLessThanOrEqual(capacity);
            expect(stats.chars).toBe(charsOf(model));
            if (model.length > 1) expect(stats.chars).toBeLessThanOrEqual(maxChars);
            expect(stats).toMatchObject({ accepted, taken, highWater, refused });
            expect(stats.dropped.bySource).toEqual(dropped);
            expect(stats.dropped.byReason).toEqual(byReason);
            expect(stats.dropped.total).toBe(byReason.full + byReason.closed);
          }
          expect(queue.take(capacity)).toEqual(model);
        },
      ),
      { numRuns: 500 },
    );
  });
});
