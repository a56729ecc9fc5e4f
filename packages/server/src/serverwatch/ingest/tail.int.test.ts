import { appendFile, copyFile, mkdtemp, mkdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import { LineQueue, type IngestItem } from './queue.js';
import { tailFile, type FileTail, type TailOptions } from './tail.js';

let dir: string;
let file: string;
const open: FileTail[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rempart-tail-'));
  file = join(dir, 'mail.log');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

const waitFor = async (what: string, ok: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A tail and everything it queues, collected as it comes. */
const follow = async (options: TailOptions = {}, queue = new LineQueue()) => {
  const tail = await tailFile(file, { pollIntervalMs: 50, ...options }, queue);
  open.push(tail);
  const seen: IngestItem[] = [];
  void (async () => {
    for await (const batch of queue.batches(50)) seen.push(...batch);
  })();
  const lines = () => seen.map((x) => x.line);
  return { tail, queue, seen, lines };
};

/** Gives the tail time to have read whatever it would have read. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('following a log file', () => {
  it('starts at the end by default and delivers the lines appended afterwards, with their source', async () => {
    await writeFile(file, 'old 1\nold 2\n');
    const { lines, seen } = await follow();
    await appendFile(file, 'new 1\nnew 2\n');
    await waitFor('two lines', () => seen.length === 2);
    expect(lines()).toEqual(['new 1', 'new 2']);
    expect(seen[0]?.source).toBe(file);
  });

  it('starts at the beginning when asked', async () => {
    await writeFile(file, 'old 1\r\nold 2\n');
    const { lines } = await follow({ from: 'start' });
    await appendFile(file, 'new 1\n');
    await waitFor('three lines', () => lines().length === 3);
    expect(lines()).toEqual(['old 1', 'old 2', 'new 1']);
  });

  it('skips the line it started in the middle of when starting at the end', async () => {
    await writeFile(file, 'whole\nhalf a li');
    const { lines } = await follow();
    await appendFile(file, 'ne\nnext\n');
    await waitFor('one line', () => lines().length === 1);
    await settle();
    expect(lines()).toEqual(['next']);
  });

  it('waits for the end of a partly written line', async () => {
    await writeFile(file, '');
    const { lines } = await follow();
    await appendFile(file, 'Dec  3 05:00:01 mx postfix/smtpd[1]: warn');
    await settle();
    expect(lines()).toEqual([]);
    await appendFile(file, 'ing: unknown[203.0.113.9]: SASL LOGIN authentication failed\n');
    await waitFor('the line', () => lines().length === 1);
    expect(lines()).toEqual([
      'Dec  3 05:00:01 mx postfix/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed',
    ]);
  });

  it('follows a rotation by rename: the old file to its end, then the new one from its start', async () => {
    await writeFile(file, '');
    const { lines, tail } = await follow();
    await appendFile(file, 'before 1\n');
    await waitFor('the first line', () => lines().length === 1);
    await rename(file, `${file}.1`);
    // The daemon still writes to the file it holds, then reopens the path.
    await appendFile(`${file}.1`, 'before 2\nunfinished');
    await writeFile(file, 'after 1\n');
    await appendFile(file, 'after 2\n');
    await waitFor('five lines', () => lines().length === 5);
    expect(lines()).toEqual(['before 1', 'before 2', 'unfinished', 'after 1', 'after 2']);
    expect(tail.stats().rotations).toBe(1);
  });

  it('loses no line of a file written all along while it is rotated again and again', async () => {
    await writeFile(file, '');
    const { lines, tail } = await follow();
    const written: string[] = [];
    for (let generation = 0; generation < 4; generation++) {
      for (let batch = 0; batch < 5; batch++) {
        const text = Array.from({ length: 10 }, (_, i) => `gen ${generation} line ${batch * 10 + i}`);
        written.push(...text);
        await appendFile(file, text.map((l) => `${l}\n`).join(''));
      }
      await rename(file, `${file}.${generation}`);
      await writeFile(file, '');
      await waitFor('the rotation', () => tail.stats().rotations === generation + 1);
    }
    await waitFor('every line', () => lines().length === written.length);
    expect(lines()).toEqual(written);
  });

  it('follows a rotation by copy and truncate', async () => {
    await writeFile(file, '');
    const { lines, tail } = await follow();
    await appendFile(file, 'one\ntwo\n');
    await waitFor('two lines', () => lines().length === 2);
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    await waitFor('the truncation', () => tail.stats().truncations === 1);
    await appendFile(file, 'three\n');
    await waitFor('three lines', () => lines().length === 3);
    expect(lines()).toEqual(['one', 'two', 'three']);
  });

  it('reads a file that does not exist yet from its start once it appears', async () => {
    const { lines } = await follow();
    await settle();
    await writeFile(file, 'first\nsecond\n');
    await waitFor('two lines', () => lines().length === 2);
    expect(lines()).toEqual(['first', 'second']);
  });

  it('keeps following by polling alone when fs.watch is off', async () => {
    await writeFile(file, '');
    const { lines } = await follow({ watch: false, pollIntervalMs: 20 });
    await appendFile(file, 'polled\n');
    await waitFor('the line', () => lines().length === 1);
    expect(lines()).toEqual(['polled']);
  });

  it('cuts and counts a line longer than the limit, and goes on with the next', async () => {
    await writeFile(file, '');
    const { lines, tail } = await follow({ maxLine: 256, chunkSize: 100 });
    await appendFile(file, `${'x'.repeat(1000)}\nshort\n`);
    await waitFor('two lines', () => lines().length === 2);
    expect(lines()).toEqual(['x'.repeat(256), 'short']);
    expect(tail.stats().truncated).toBe(1);
  });

  it('stops reading while the queue is full and loses no line', async () => {
    const total = 2000;
    const written = Array.from({ length: total }, (_, i) => `line ${i}`);
    await writeFile(file, written.map((l) => `${l}\n`).join(''));
    const queue = new LineQueue({ capacity: 8 });
    const tail = await tailFile(file, { from: 'start', chunkSize: 512 }, queue);
    open.push(tail);
    await waitFor('a full queue', () => queue.depth === 8 && tail.stats().waiting);
    // Held back: far from everything was read.
    expect(tail.stats().bytesRead).toBeLessThan(2048);
    const seen: string[] = [];
    void (async () => {
      for await (const batch of queue.batches(3)) seen.push(...batch.map((x) => x.line));
    })();
    await waitFor('every line', () => seen.length === total);
    expect(seen).toEqual(written);
    expect(queue.stats().highWater).toBe(8);
    expect(queue.stats().dropped.total).toBe(0);
  });

  it('closes at once while held back by a full queue', async () => {
    await writeFile(file, 'a\nb\nc\nd\n');
    const queue = new LineQueue({ capacity: 2 });
    const tail = await tailFile(file, { from: 'start' }, queue);
    await waitFor('a full queue', () => tail.stats().waiting);
    await tail.close();
    expect(queue.take(5).map((x) => x.line)).toEqual(['a', 'b']);
    expect(queue.stats().dropped.byReason.closed).toBe(2);
  });

  it('delivers nothing after it is closed, and can be closed twice', async () => {
    await writeFile(file, '');
    const { lines, tail } = await follow();
    await appendFile(file, 'seen\n');
    await waitFor('the line', () => lines().length === 1);
    await Promise.all([tail.close(), tail.close()]);
    await appendFile(file, 'unseen\n');
    await settle();
    expect(lines()).toEqual(['seen']);
  });

  it('refuses a folder and invalid options with a validation error', async () => {
    const queue = new LineQueue();
    await mkdir(join(dir, 'folder'));
    await expect(tailFile(join(dir, 'folder'), {}, queue)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(tailFile(file, { pollIntervalMs: 0 }, queue)).rejects.toBeInstanceOf(RempartError);
    await expect(tailFile(file, { from: 'middle' as 'end' }, queue)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
