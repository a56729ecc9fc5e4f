import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RempartError } from '@rempart/core';
import { createJsonLinesHandler } from './http.js';
import { LineQueue } from './queue.js';

const winlogbeat = JSON.stringify({
  Event: { System: { EventID: 4625, Channel: 'Security' }, EventData: { IpAddress: '203.0.113.7' } },
});

describe('the JSON lines handler', () => {
  it('queues every JSON object line as sent, with source http and the peer', () => {
    const queue = new LineQueue();
    const ingest = createJsonLinesHandler(queue);
    const result = ingest(`${winlogbeat}\r\n\n  \n{"message":"é"}`, '198.51.100.4:5000');
    expect(result).toEqual({ accepted: 2, rejected: 0, errors: [], full: false });
    const items = queue.take(10);
    expect(items.map((x) => x.line)).toEqual([winlogbeat, '{"message":"é"}']);
    expect(items[0]).toMatchObject({ source: 'http', peer: '198.51.100.4:5000' });
  });

  it('rejects lines that are not JSON objects by line number and still queues the others', () => {
    const queue = new LineQueue();
    const ingest = createJsonLinesHandler(queue);
    const body = ['{"ok":1}', '[1,2]', 'not json', '', '42', 'null', '"text"', '{"ok":2}'].join('\n');
    const result = ingest(Buffer.from(body));
    expect(result.accepted).toBe(2);
    expect(result.rejected).toBe(5);
    expect(result.errors).toEqual([
      { line: 2, message: 'not a JSON object' },
      { line: 3, message: 'not JSON' },
      { line: 5, message: 'not a JSON object' },
      { line: 6, message: 'not a JSON object' },
      { line: 7, message: 'not a JSON object' },
    ]);
    expect(queue.take(10).map((x) => x.line)).toEqual(['{"ok":1}', '{"ok":2}']);
  });

  it('rejects a line that is not UTF-8 or longer than the limit', () => {
    const queue = new LineQueue();
    const ingest = createJsonLinesHandler(queue, { maxLine: 256 });
    const body = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`"}\n{"b":"${'x'.repeat(300)}"}\n{"c":1}\n`),
    ]);
    const result = ingest(body);
    expect(result).toMatchObject({ accepted: 1, rejected: 2 });
    expect(result.errors).toEqual([
      { line: 1, message: 'not UTF-8' },
      { line: 2, message: 'longer than 256 bytes' },
    ]);
  });

  it('describes only the first rejected lines but counts them all', () => {
    const ingest = createJsonLinesHandler(new LineQueue(), { maxErrors: 3 });
    const result = ingest('x\n'.repeat(10));
    expect(result.rejected).toBe(10);
    expect(result.errors.map((e) => e.line)).toEqual([1, 2, 3]);
  });

  it('says the queue is full and queues nothing when the valid lines do not all fit', () => {
    const queue = new LineQueue({ capacity: 4 });
    const ingest = createJsonLinesHandler(queue, { retryAfterSeconds: 7 });
    expect(ingest('{"n":1}\n{"n":2}\n{"n":3}').full).toBe(false);
    const result = ingest('{"n":4}\n{"n":5}');
    expect(result).toEqual({ accepted: 0, rejected: 0, errors: [], full: true, retryAfterSeconds: 7 });
    expect(queue.depth).toBe(3);
    queue.take(2);
    expect(ingest('{"n":4}\n{"n":5}')).toMatchObject({ accepted: 2, full: false });
  });

  it('refuses with payload_too_large a body with more lines than the queue can ever hold', () => {
    const queue = new LineQueue({ capacity: 2 });
    const ingest = createJsonLinesHandler(queue);
    let thrown: unknown;
    try {
      ingest('{}\n{}\n{}');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RempartError);
    expect(thrown).toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(queue.depth).toBe(0);
  });

  it('refuses with payload_too_large lines too long together for the queue, yet takes one alone', () => {
    const queue = new LineQueue({ capacity: 100, maxChars: 20 });
    const ingest = createJsonLinesHandler(queue);
    expect(() => ingest('{"a":"0123456789"}\n{"b":"0123456789"}')).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );
    expect(queue.depth).toBe(0);
    expect(ingest('{"a":"0123456789012345678901234"}')).toMatchObject({ accepted: 1, full: false });
  });

  it('rejects invalid options', () => {
    expect(() => createJsonLinesHandler(new LineQueue(), { maxLine: 0 })).toThrow();
  });

  it('accounts for every non-empty line and queues exactly the objects, in order, whatever the body', () => {
    const jsonLine = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.dictionary(fc.string(), fc.jsonValue()).map((v) => JSON.stringify(v)),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(jsonLine, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const queue = new LineQueue({ capacity: 100 });
        const result = createJsonLinesHandler(queue)(lines.join(eol));
        // The model: each line cut at LF, then read on its own.
        const physical = lines
          .join(eol)
          .split('\n')
          .map((l) => l.replace(/\r$/, ''));
        const nonBlank = physical.filter((l) => /[^\t ]/.test(l));
        const objects = nonBlank.filter((l) => {
          try {
            const v: unknown = JSON.parse(l);
            return typeof v === 'object' && v !== null && !Array.isArray(v);
          } catch {
            return false;
          }
        });
        expect(result.accepted + result.rejected).toBe(nonBlank.length);
        expect(queue.take(100).map((x) => x.line)).toEqual(objects);
        expect(result.full).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const queue = new LineQueue({ capacity: 5000 });
        const result = createJsonLinesHandler(queue)(Buffer.from(bytes));
        expect(result.accepted).toBe(queue.depth);
      }),
      { numRuns: 500 },
    );
  });
});
